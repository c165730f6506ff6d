"""The kernel cache: compiled code is loaded only from folders and files of the user's own that others cannot write."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import warnings
from pathlib import Path

import pytest
import torch

from pinnkan.models import kernel_build, spline_kernels
from pinnkan.models.kernel_build import KernelBuild, active_build
from pinnkan.models.local_splines import combine_bases

needs_kernels = pytest.mark.skipif(not active_build().available(), reason=active_build().status())

# A shared library whose loading leaves a mark: the file named in PLANT_MARK is created.
PLANTED = """
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void mark(void) {
    const char *path = getenv("PLANT_MARK");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) { fputs("loaded", f); fclose(f); }
}
"""


def _case():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 50, 4, 3, generator=g, dtype=torch.float64), torch.randn(3, 9, 5, generator=g, dtype=torch.float64)


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """The cache folder ``tmp_path / "cache"`` (not created) and the file name of the variant of ``_case``."""
    # learn the file name of the variant from a build in a folder of its own
    with KernelBuild(cache=tmp_path / "first").active():
        values, coef = _case()
        assert spline_kernels.kernels_for(values, coef) is not None
    (name,) = [p.name for p in (tmp_path / "first").iterdir()]
    monkeypatch.setenv("PLANT_MARK", str(tmp_path / "mark"))
    return tmp_path / "cache", name


def _plant(path):
    source = path.with_suffix(".c")
    source.write_text(PLANTED)
    subprocess.run([*active_build().compiler, "-shared", "-fPIC", str(source), "-o", str(path)], check=True)
    source.unlink()


@needs_kernels
def test_the_planting_library_leaves_its_mark_when_loaded(cache, tmp_path):
    folder, name = cache
    planted = tmp_path / "plain" / name
    planted.parent.mkdir()
    _plant(planted)
    ctypes.CDLL(str(planted))  # the check of the check: loading it does leave the mark
    assert (tmp_path / "mark").read_text() == "loaded"


@needs_kernels
@pytest.mark.parametrize("how", ["writable by others", "owned by another user"])
def test_a_cache_folder_others_control_is_never_loaded_from(cache, tmp_path, how):
    folder, name = cache
    folder.mkdir()
    _plant(folder / name)
    if how == "writable by others":
        folder.chmod(0o777)
        expected = "can be written by other users"
    else:
        if os.getuid() != 0:
            pytest.skip("changing a folder's owner needs root")
        os.chown(folder, 12345, 12345)
        expected = "belongs to another user"
    values, coef = _case()
    build = KernelBuild(cache=folder)
    with build.active(), pytest.warns(RuntimeWarning, match=f"not using the kernel cache .*{expected}"):
        kernels = spline_kernels.kernels_for(values, coef)
    assert kernels is not None  # compiled into the private folder instead
    assert not (tmp_path / "mark").exists()
    private = build._private_folder()
    assert (private / name).is_file() and private.stat().st_mode & 0o777 == 0o700
    interval = torch.randint(0, 6, (50, 3), generator=torch.Generator().manual_seed(1))
    got = kernels.forward(values, interval, coef)
    with KernelBuild(enabled=False).active():
        torch.testing.assert_close(got, combine_bases(values, interval, coef), rtol=1e-13, atol=1e-13)


@needs_kernels
def test_a_planted_file_in_the_users_own_folder_is_replaced_by_a_build(cache, tmp_path):
    folder, name = cache
    folder.mkdir(mode=0o700)
    _plant(folder / name)
    (folder / name).chmod(0o777)  # writable by others: not trusted
    values, coef = _case()
    with KernelBuild(cache=folder).active():
        assert spline_kernels.kernels_for(values, coef) is not None
    assert not (tmp_path / "mark").exists()
    assert (folder / name).stat().st_mode & 0o022 == 0  # our own build took its place


@needs_kernels
def test_a_cache_that_cannot_be_created_still_gives_working_kernels(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    build = KernelBuild(cache=blocker / "kernels")
    values, coef = _case()
    with build.active(), pytest.warns(RuntimeWarning, match="not using the kernel cache .*cannot create"):
        assert spline_kernels.kernels_for(values, coef) is not None
    assert build.status() == "native"


@needs_kernels
def test_a_read_only_cache_still_gives_working_kernels(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o500)  # ours, but read-only
    if os.getuid() == 0:  # root writes into read-only folders: the file system says no instead
        mkstemp = kernel_build.tempfile.mkstemp

        def read_only(*args, dir=None, **kwargs):
            if Path(dir) == folder:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
            return mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(kernel_build.tempfile, "mkstemp", read_only)
    build = KernelBuild(cache=folder)
    values, coef = _case()
    try:
        with build.active(), pytest.warns(RuntimeWarning, match="not using the kernel cache .*cannot write"):
            assert spline_kernels.kernels_for(values, coef) is not None
    finally:
        folder.chmod(0o700)
    assert build.status() == "native" and not list(folder.iterdir())


@needs_kernels
def test_a_variant_that_fails_turns_off_that_variant_only(tmp_path):
    values, coef = _case()
    build = KernelBuild(cache=tmp_path / "cache")
    with build.active():
        assert spline_kernels.kernels_for(values, coef) is not None
    broken = tmp_path / "broken-cc"
    broken.write_text("#!/bin/sh\necho 'broken-cc: out of disk' >&2\nexit 1\n")
    broken.chmod(0o755)
    build.compiler = (str(broken),)  # the compiler breaks (a full disk) after the first variant
    other = torch.randn(3, 9, 7, dtype=torch.float64)  # seven outputs: another variant
    with build.active():
        with pytest.warns(RuntimeWarning, match=r"kernel combine \(double, sizes 2, 4, 7\) is unavailable \(broken-cc failed"):
            assert spline_kernels.kernels_for(values, other) is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert spline_kernels.kernels_for(values, coef) is not None  # the one loaded before still runs
    assert build.status() == "native; 1 variant(s) failed: broken-cc failed: broken-cc: out of disk"


@needs_kernels
def test_a_compiler_with_arguments_and_a_build_without_march_native_are_said_as_such(tmp_path):
    folder = tmp_path / "cache"
    real = active_build().compiler[0]
    fussy = tmp_path / "fussy-cc"  # refuses -march=native, else runs the compiler it is given
    fussy.write_text('#!/bin/sh\nfor a in "$@"; do [ "$a" = -march=native ] && { echo "no -march=native" >&2; exit 1; }; done\n'
                     'exec "$@"\n')
    fussy.chmod(0o755)
    build = KernelBuild(compiler=f"{fussy} {real}", cache=folder)
    values, coef = _case()
    assert build.status() == "not compiled yet"
    with build.active():
        assert spline_kernels.kernels_for(values, coef) is not None
    assert build.status() == "native, built without -march=native"
    (degraded,) = folder.iterdir()
    # as a new process with the compiler alone: its tuned build is another file, not the degraded one
    alone = KernelBuild(compiler=real, cache=folder)
    with alone.active():
        assert spline_kernels.kernels_for(values, coef) is not None
    assert alone.status() == "native"
    assert degraded.exists() and len(list(folder.iterdir())) == 2


@needs_kernels
def test_kernels_refuse_tensors_of_other_sizes_than_they_were_compiled_for():
    values, coef = _case()  # (sets, slots, outputs) = (2, 4, 5), float64
    kernels = spline_kernels.kernels_for(values, coef)
    interval = torch.zeros(50, 3, dtype=torch.int64)
    assert kernels.sizes == (2, 4, 5) and kernels.dtype == torch.float64
    for bad_values, bad_coef in [(values, torch.randn(3, 9, 6, dtype=torch.float64)),  # another output count
                                 (torch.randn(3, 50, 4, 3, dtype=torch.float64), coef),  # more sets
                                 (torch.randn(2, 50, 3, 3, dtype=torch.float64), coef),  # fewer slots
                                 (values.float(), coef.float())]:  # another dtype
        with pytest.raises(ValueError, match=r"compiled for torch.float64 with \(sets, slots, outputs\) = \(2, 4, 5\)"):
            kernels.forward(bad_values, interval, bad_coef)
