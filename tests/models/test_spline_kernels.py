"""The fused C kernels of the sparse spline product against a dense sum and the PyTorch operators."""

from __future__ import annotations

import copy
import pickle
import warnings

import pytest
import torch

from pinnkan.models import kernel_build, spline_kernels
from pinnkan.models.kernel_build import KernelBuild, active_build
from pinnkan.models.local_splines import _combine_forward, _combine_gradients, combine_bases

needs_kernels = pytest.mark.skipif(not active_build().available(), reason=active_build().status())
OFF = KernelBuild(enabled=False)


def _case(sets: int, slots: int, channels: int, outputs: int, n: int = 300, dtype=torch.float64, seed: int = 0):
    """Random values, intervals reaching every row (slots past either end included) and coefficients."""
    g = torch.Generator().manual_seed(seed)
    nb = 6 + slots - 1  # G = 6 cells, k = slots - 1
    values = torch.randn(sets, n, slots, channels, generator=g, dtype=dtype)
    interval = torch.randint(0, 6 + 2 * (slots - 1), (n, channels), generator=g)
    coef = torch.randn(channels, nb, outputs, generator=g, dtype=dtype)
    return values, interval, coef


def _dense(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """``y[a, n, o]`` from the dense basis matrix, each slot's value scattered to its row."""
    a, n, slots, c = values.shape
    nb = coef.shape[1]
    dense = values.new_zeros(a, n, c, nb + 2 * slots)
    rows = interval[:, None, :] - (slots - 1) + torch.arange(slots)[:, None] + slots  # shifted past the pad
    dense.scatter_add_(3, rows.permute(0, 2, 1)[None].expand(a, n, c, slots).contiguous(), values.permute(0, 1, 3, 2))
    return torch.einsum("ancr,cro->ano", dense[..., slots : slots + nb], coef)


@needs_kernels
@pytest.mark.parametrize(("sets", "slots", "channels", "outputs"),
                         [(1, 4, 3, 1), (4, 4, 16, 16), (3, 2, 5, 19), (2, 1, 2, 3), (5, 4, 7, 4), (1, 3, 1, 33)])
def test_kernels_equal_the_dense_sum_and_the_pytorch_operators(sets, slots, channels, outputs):
    values, interval, coef = _case(sets, slots, channels, outputs)
    grad = torch.randn(sets, values.shape[1], outputs, dtype=values.dtype, generator=torch.Generator().manual_seed(1))
    assert spline_kernels.kernels_for(values, coef) is not None
    native = _combine_forward(values, interval, coef)
    native_grads = _combine_gradients(grad, values, interval, coef, True)
    torch.testing.assert_close(native, _dense(values, interval, coef), rtol=1e-13, atol=1e-13)
    with OFF.active():
        assert spline_kernels.kernels_for(values, coef) is None
        torch.testing.assert_close(native, _combine_forward(values, interval, coef), rtol=1e-13, atol=1e-13)
        for got, expected in zip(native_grads, _combine_gradients(grad, values, interval, coef, True)):
            torch.testing.assert_close(got, expected, rtol=1e-13, atol=1e-13)


@needs_kernels
@pytest.mark.parametrize("outputs", [1, 16])
def test_kernels_pass_gradcheck_and_float32_agrees_with_float64(outputs):
    values, interval, coef = _case(3, 4, 4, outputs, n=40)
    leaves = (values.clone().requires_grad_(True), coef.clone().requires_grad_(True))
    assert torch.autograd.gradcheck(lambda v, c: combine_bases(v, interval, c), leaves)
    single = combine_bases(values.float(), interval, coef.float())
    assert spline_kernels.kernels_for(values.float(), coef.float()) is not None
    exact = combine_bases(values, interval, coef)
    assert float((single.double() - exact).abs().max() / exact.abs().max()) < 1e-6


@needs_kernels
def test_results_do_not_depend_on_the_thread_count():
    values, interval, coef = _case(4, 4, 8, 16, n=4096)
    grad = torch.randn(4, 4096, 16, dtype=values.dtype, generator=torch.Generator().manual_seed(2))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = (_combine_forward(values, interval, coef), *_combine_gradients(grad, values, interval, coef, True))
        torch.set_num_threads(2)
        two = (_combine_forward(values, interval, coef), *_combine_gradients(grad, values, interval, coef, True))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])  # each point on one thread
    # The per-thread sums of the coefficient gradient are added in another order: rounding only.
    assert float((one[2] - two[2]).abs().max() / two[2].abs().max()) < 1e-14


@pytest.fixture
def fresh_kernels(tmp_path):
    """A build of its own, as in a new process, with an empty cache folder, active during the test."""
    build = KernelBuild(cache=tmp_path)
    with build.active():
        yield build


@needs_kernels
def test_compiled_variants_are_cached_under_a_name_of_their_constants(fresh_kernels):
    values, interval, coef = _case(2, 4, 3, 5)
    assert spline_kernels.kernels_for(values, coef) is not None
    (built,) = fresh_kernels.cache.iterdir()
    assert built.name.startswith("combine-double-2-4-5-") and built.suffix == ".so"
    stamp = built.stat().st_mtime_ns
    with KernelBuild(cache=fresh_kernels.cache).active():  # as a new process: the file is loaded, not rebuilt
        assert spline_kernels.kernels_for(values, coef) is not None
    assert built.stat().st_mtime_ns == stamp and len(list(fresh_kernels.cache.iterdir())) == 1


@pytest.mark.parametrize(("compiler", "message"), [(None, "no C compiler found"),
                                                   ("no-such-compiler-pinnkan -O1", "'no-such-compiler-pinnkan'")])
def test_a_missing_compiler_warns_once_and_falls_back_to_the_same_numbers(tmp_path, monkeypatch, compiler, message):
    values, interval, coef = _case(2, 4, 3, 5)
    with OFF.active():
        expected = combine_bases(values, interval, coef)
    monkeypatch.setenv("PATH", str(tmp_path))  # no cc, gcc or clang there
    build = KernelBuild(enabled=True, compiler=compiler, cache=tmp_path / "kernels")
    with build.active():
        with pytest.warns(RuntimeWarning, match=f"{message}.*Give a C compiler"):
            got = combine_bases(values, interval, coef)
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no second warning
            combine_bases(values, interval, coef)
    assert message in build.status() and not build.available()
    assert not (tmp_path / "kernels").exists()


def test_a_failing_compiler_is_reported_with_its_message(tmp_path):
    script = tmp_path / "broken-cc"
    script.write_text("#!/bin/sh\necho 'broken-cc: cannot compile' >&2\nexit 1\n")
    script.chmod(0o755)
    values, interval, coef = _case(1, 4, 2, 3)
    # enabled=True: also in the suite's pass with the kernels off by default
    with KernelBuild(enabled=True, compiler=str(script), cache=tmp_path / "kernels").active():
        with pytest.warns(RuntimeWarning, match="broken-cc failed: broken-cc: cannot compile"):
            assert spline_kernels.kernels_for(values, coef) is None
    assert not [p for p in (tmp_path / "kernels").iterdir() if p.suffix == ".so"]  # the partial file is removed


def test_kernels_do_not_apply_to_other_dtypes_or_when_disabled():
    values, _, coef = _case(1, 4, 2, 3)
    assert spline_kernels.kernels_for(values.half(), coef.half()) is None
    assert spline_kernels.kernels_for(values.float(), coef) is None  # mixed dtypes
    with OFF.active():
        assert spline_kernels.kernels_for(values, coef) is None
    assert OFF.status() == "disabled"


def test_the_default_build_follows_the_documented_environment_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNKAN_NATIVE", "0")
    monkeypatch.setenv("CC", "ccache gcc -O1")
    monkeypatch.setenv("PINNKAN_KERNEL_CACHE", str(tmp_path / "mine"))
    build = KernelBuild()
    assert (build.enabled, build.command, build.cache) == (False, ("ccache", "gcc", "-O1"), tmp_path / "mine")
    monkeypatch.delenv("PINNKAN_KERNEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert KernelBuild(enabled=True, compiler=["gcc"]).cache == tmp_path / "xdg" / "pinnkan" / "kernels"
    with pytest.raises(ValueError, match="is empty"):
        KernelBuild(compiler="  ")
    with pytest.raises(TypeError, match="enabled"):
        KernelBuild(enabled="yes")
    with pytest.raises(TypeError, match="folder path"):
        KernelBuild(cache=3)


def test_layouts_the_c_code_cannot_read_are_refused():
    values, interval, coef = _case(2, 4, 3, 5)
    with pytest.raises(TypeError, match="interval must be int64"):
        combine_bases(values, interval.int(), coef)
    kernels = spline_kernels.kernels_for(values, coef)
    if kernels is None:
        pytest.skip(active_build().status())
    with pytest.raises(ValueError, match="contiguous values"):
        kernels.forward(values.transpose(2, 3).contiguous().transpose(2, 3), interval, coef)
    with pytest.raises(ValueError, match="int64 interval"):
        kernels.forward(values, interval.int(), coef)
    with pytest.raises(ValueError, match="grad"):
        kernels.backward(torch.zeros(2, 300, 4, dtype=values.dtype), values, interval, coef, True)


def test_builds_compare_copy_and_pickle_by_their_settings(tmp_path):
    build = KernelBuild(enabled=True, compiler="ccache gcc", cache=tmp_path)
    same = KernelBuild(enabled=True, compiler=["ccache", "gcc"], cache=tmp_path)
    assert build == same and hash(build) == hash(same) and build != KernelBuild(enabled=False, cache=tmp_path)
    assert copy.deepcopy(build) is build  # a shared handle: copies of a Setup share what it loaded
    revived = pickle.loads(pickle.dumps(build))
    assert revived == build and revived is not build
    with pytest.raises(TypeError, match="a list of its words"):
        KernelBuild(compiler=["gcc", 3])
    with pytest.raises(ValueError, match=r"KernelBuild\(cache=...\) is empty"):
        KernelBuild(cache="")


@needs_kernels
def test_without_a_home_folder_the_kernels_go_to_a_private_folder(monkeypatch):
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    for name in ("PINNKAN_KERNEL_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(kernel_build.Path, "home", staticmethod(no_home))
    build = KernelBuild()
    assert build.cache is None and "cache=None" in repr(build)
    values, interval, coef = _case(2, 4, 3, 5)
    with build.active(), pytest.warns(RuntimeWarning, match="no cache folder can be named: there is no home folder"):
        assert spline_kernels.kernels_for(values, coef) is not None
    assert build._private_folder().stat().st_mode & 0o777 == 0o700
