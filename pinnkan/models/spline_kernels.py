"""Fused CPU kernels for the sparse splines, compiled from C on first use.

Two kernels, each a forward and a backward:

* ``combine_kernel.c`` serves :func:`~pinnkan.models.local_splines.combine_bases`, a
  gather, a product and (in the backward) a scatter over a few small coefficient rows per
  point, which PyTorch runs as several operators that each write their result to memory.
* ``spline_jet_kernel.c`` serves :func:`~pinnkan.models.local_splines.spline_jet`, a KAN
  layer's spline branch applied to a jet on equally spaced knots: it locates each point's
  interval, evaluates the cardinal B-spline pieces and their derivatives, composes them
  with the jet's chain factors and multiplies by the coefficients, so the
  (K, N, k + 1, C) stacks of the unfused path never exist.

Both run in one pass over the points, with a point's outputs in registers, on
PyTorch's own OpenMP threads (``scripts/bench_engines.py`` measures what they save).

A C file is compiled once for each scalar type and each set of sizes of a call (jet
components, slots, outputs and, for the jet kernel, the derivative order), so that those
sizes are constants the compiler can unroll and vectorise: a KAN needs a handful of
variants, each compiled in about 0.3 s and kept in a cache folder
(``$PINNKAN_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/pinnkan/kernels``, else
``~/.cache/pinnkan/kernels``) under a name that hashes the source, the flags the build
used, the compiler and its version, and the processor's features, so a cache shared
between machines or compilers never serves one another's code. Builds are tried tuned
to this processor and threaded (``-march=native -fopenmp``), then threaded, then plain;
:func:`status` says which one loaded. ``CC`` may carry arguments (``ccache gcc``).

Compiled code is loaded only from a folder, and a file, that belong to the current user,
are no symbolic links and cannot be written by others (checked before every load):
another user of a shared machine cannot plant a library there. A cache folder that fails
these checks, cannot be created or cannot be written is not used; the kernels are then
compiled into a private temporary folder (mode 0700) of this process, with a warning.

The kernels apply to CPU tensors of float32 or float64. Anywhere else (a GPU, another
dtype, no C compiler, ``PINNKAN_NATIVE=0``), :func:`kernels_for` and
:func:`jet_kernels_for` return ``None`` and the caller runs PyTorch operators, which give
the same numbers to rounding. A compiler that is missing is reported once, with a
warning naming the fix; a variant that fails to compile or load turns off that variant
only, with a warning that gives the cause.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import torch

from ..errors import InputValueError

__all__ = ["Kernels", "JetKernels", "available", "kernels_for", "jet_kernels_apply", "jet_kernels_for", "status"]

_HEADER = Path(__file__).with_name("spline_rows.h")  # included by both sources
# Each source with the names of the sizes it is compiled for, besides its SCALAR type.
_SOURCES = {
    "combine": (Path(__file__).with_name("combine_kernel.c"), ("KA", "KS", "KO")),
    "spline_jet": (Path(__file__).with_name("spline_jet_kernel.c"), ("KA", "KS", "KO", "KR")),
}
_SCALARS = {torch.float32: "float", torch.float64: "double"}
# Reassociation lets the dot products vectorise; the result is still the same on every call.
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"]
# Tried in turn: tuned to this processor and threaded; threaded; plain (one thread).
_ATTEMPTS = (["-march=native", "-fopenmp"], ["-fopenmp"], [])
_MAX_THREADS = 64  # as MAX_THREADS in the C file
_MAX_OUTPUTS = 2048  # sets x outputs of one point, held on the stack
_MAX_SLOTS = 16
_POINTS_PER_THREAD = 256  # smaller calls run on one thread: starting the others costs more
_MAX_ORDER = 8  # highest jet order of the spline jet kernels (their stack arrays grow with it)

# What a build without each attempt's flags lacks, for status().
_DEGRADED = ("", "built without -march=native", "built without -march=native and OpenMP (one thread)")

_lock = threading.Lock()
_failures: dict[tuple[object, ...], str] = {}  # (source, scalar, *sizes) -> why that variant failed
_builds: dict[tuple[object, ...], int] = {}  # (source, scalar, *sizes) -> index in _ATTEMPTS of the build loaded


def available() -> bool:
    """Whether the kernels will be tried: not disabled by ``PINNKAN_NATIVE=0``, and a C compiler is found."""
    return os.environ.get("PINNKAN_NATIVE", "1") != "0" and _compiler() is not None


def status() -> str:
    """What the kernels are: ``"native"`` when every variant loaded so far is the tuned build, else what
    the builds lack, which variants failed, or why none are tried."""
    if os.environ.get("PINNKAN_NATIVE", "1") == "0":
        return "disabled by PINNKAN_NATIVE=0"
    if _compiler() is None:
        return "no C compiler found (set CC)"
    if not _builds and not _failures:
        return "not compiled yet"
    lacking = [_DEGRADED[i] for i in sorted(set(_builds.values())) if i]
    parts = [", ".join(["native", *lacking])] if _builds else []
    if _failures:
        parts.append(f"{len(_failures)} variant(s) failed: {next(iter(_failures.values()))}")
    return "; ".join(parts)


class Kernels:
    """The compiled forward and backward of one (dtype, sets, slots, outputs).

    ``dtype`` and ``sizes`` are what the library was compiled for; every call is checked
    against them, since the C code reads and writes memory by those sizes.
    """

    def __init__(self, library: ctypes.CDLL, dtype: torch.dtype, sizes: tuple[int, ...]) -> None:
        self.dtype, self.sizes = dtype, sizes
        p, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        self._forward = library.combine_forward
        self._forward.argtypes = [p, p, p, p, i64, i64, i64, i32]
        self._forward.restype = i32
        self._backward = library.combine_backward
        self._backward.argtypes = [p, p, p, p, p, p, i64, i64, i64, i32, i32]
        self._backward.restype = i32

    def _check(self, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor,
               grad: torch.Tensor | None = None) -> None:
        """The C code reads raw memory: every layout and size it assumes is checked here."""
        a, n, s, c = values.shape
        if (a, s, coef.shape[2] if coef.ndim == 3 else -1) != self.sizes or values.dtype != self.dtype:
            raise InputValueError(
                f"these kernels were compiled for {self.dtype} with (sets, slots, outputs) = {self.sizes}; got "
                f"{values.dtype} values {tuple(values.shape)} and coef {tuple(coef.shape)}: use kernels_for(values, coef)"
            )
        ok = (values.is_contiguous() and coef.is_contiguous() and interval.is_contiguous() and coef.dtype == values.dtype
              and interval.dtype == torch.int64 and interval.shape == (n, c) and coef.shape[0] == c)
        if grad is not None:
            ok = ok and grad.is_contiguous() and grad.dtype == values.dtype and grad.shape == (a, n, coef.shape[2])
        if not ok:
            raise InputValueError(
                "the spline kernels need contiguous values (A, N, S, C), int64 interval (N, C), coef (C, nb, O) "
                f"and grad (A, N, O); got {tuple(values.shape)}, {interval.dtype} {tuple(interval.shape)}, "
                f"{tuple(coef.shape)} and {None if grad is None else tuple(grad.shape)}"
            )

    def forward(self, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
        """``y`` (A, N, O) of :func:`~pinnkan.models.local_splines.combine_bases`; contiguous inputs."""
        self._check(values, interval, coef)
        a, n, _, c = values.shape
        out = values.new_empty(a, n, coef.shape[2])
        code = self._forward(values.data_ptr(), interval.data_ptr(), coef.data_ptr(), out.data_ptr(), n, c,
                             coef.shape[1], _threads(n))
        if code:
            raise RuntimeError(f"combine_forward failed with code {code}")
        return out

    def backward(
        self, grad: torch.Tensor, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor, need_values: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients for ``values`` (zeros unless ``need_values``) and ``coef``; contiguous inputs."""
        self._check(values, interval, coef, grad)
        _, n, _, c = values.shape
        threads = _threads(n)
        grad_values = values.new_empty(values.shape) if need_values else values.new_zeros(values.shape)
        acc = coef.new_zeros(threads, *coef.shape)
        code = self._backward(grad.data_ptr(), values.data_ptr(), interval.data_ptr(), coef.data_ptr(),
                              grad_values.data_ptr() if need_values else None, acc.data_ptr(), n, c, coef.shape[1],
                              int(need_values), threads)
        if code:
            raise RuntimeError(f"combine_backward failed with code {code}")
        return grad_values, acc[0] if threads == 1 else acc.sum(0)


class JetKernels:
    """The compiled forward and backward of :func:`~pinnkan.models.local_splines.spline_jet` for one
    (dtype, components, slots, outputs, order)."""

    def __init__(self, library: ctypes.CDLL, dtype: torch.dtype, sizes: tuple[int, ...]) -> None:
        self.dtype, self.sizes = dtype, sizes
        p, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        self._forward = library.spline_jet_forward
        self._forward.argtypes = [p, p, p, p, i32, p, p, p, p, i64, i64, i64, i64, i32]
        self._forward.restype = i32
        self._backward = library.spline_jet_backward
        self._backward.argtypes = [p, p, p, p, p, i32, p, p, p, p, p, p, i64, i64, i64, i64, i32, i32]
        self._backward.restype = i32

    def _check(self, x: torch.Tensor, factors: torch.Tensor, terms: torch.Tensor, knots: torch.Tensor,
               table: torch.Tensor, coef: torch.Tensor, components: int, grad: torch.Tensor | None = None) -> None:
        """The C code reads raw memory: every layout and size it assumes is checked here."""
        n, c = x.shape
        slots = table.shape[-1]
        order = table.shape[0] - 2
        outputs = coef.shape[2] if coef.ndim == 3 else -1
        if (components, slots, outputs, order) != self.sizes or x.dtype != self.dtype:
            raise InputValueError(
                f"these kernels were compiled for {self.dtype} with (components, slots, outputs, order) = "
                f"{self.sizes}; got {x.dtype}, {components} components, table {tuple(table.shape)} and coef "
                f"{tuple(coef.shape)}: use jet_kernels_for(...)"
            )
        tensors = (x, factors, terms, knots, table, coef) + (() if grad is None else (grad,))
        ok = (all(t.is_contiguous() for t in tensors) and all(t.dtype == x.dtype for t in tensors if t is not terms)
              and factors.ndim == 3 and factors.shape[1:] == (n, c) and terms.dtype == torch.int32
              and terms.shape == (2, factors.shape[0]) and knots.ndim == 2 and knots.shape[0] == c
              and knots.shape[1] >= 2 and table.ndim == 3 and table.shape[1] == slots
              and coef.ndim == 3 and coef.shape[0] == c and coef.shape[1] == knots.shape[1] - slots)
        if grad is not None:
            ok = ok and grad.ndim == 3 and grad.shape == (components, n, coef.shape[2])
        if not ok:
            raise InputValueError(
                "the spline jet kernels need contiguous x (N, C), factors (T, N, C), int32 terms (2, T), knots "
                "(C, M), table (R + 2, S, S), coef (C, M - S, O) and grad (A, N, O) of one dtype; got "
                f"{tuple(x.shape)}, {tuple(factors.shape)}, {terms.dtype} {tuple(terms.shape)}, {tuple(knots.shape)}, "
                f"{tuple(table.shape)}, {tuple(coef.shape)} and {None if grad is None else tuple(grad.shape)}"
            )

    def forward(self, x: torch.Tensor, factors: torch.Tensor, terms: torch.Tensor, knots: torch.Tensor,
                table: torch.Tensor, coef: torch.Tensor, components: int) -> torch.Tensor:
        """The jet of the spline branch, (A, N, O) for ``components`` = A; contiguous inputs."""
        self._check(x, factors, terms, knots, table, coef, components)
        n, c = x.shape
        out = x.new_empty(components, n, coef.shape[2])
        code = self._forward(x.data_ptr(), factors.data_ptr(), terms[0].data_ptr(), terms[1].data_ptr(),
                             terms.shape[1], knots.data_ptr(), table.data_ptr(), coef.data_ptr(), out.data_ptr(),
                             n, c, knots.shape[1], coef.shape[1], _threads(n))
        if code:
            raise RuntimeError(f"spline_jet_forward failed with code {code}")
        return out

    def backward(self, grad: torch.Tensor, x: torch.Tensor, factors: torch.Tensor, terms: torch.Tensor,
                 knots: torch.Tensor, table: torch.Tensor, coef: torch.Tensor, need_inputs: bool
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients for ``x``, ``factors`` (zeros unless ``need_inputs``) and ``coef``; contiguous inputs."""
        self._check(x, factors, terms, knots, table, coef, grad.shape[0], grad)
        n, c = x.shape
        threads = _threads(n)
        make = torch.empty_like if need_inputs else torch.zeros_like
        grad_x, grad_factors = make(x), make(factors)
        acc = coef.new_zeros(threads, *coef.shape)
        code = self._backward(grad.data_ptr(), x.data_ptr(), factors.data_ptr(), terms[0].data_ptr(),
                              terms[1].data_ptr(), terms.shape[1], knots.data_ptr(), table.data_ptr(),
                              coef.data_ptr(), grad_x.data_ptr(), grad_factors.data_ptr(), acc.data_ptr(), n, c,
                              knots.shape[1], coef.shape[1], int(need_inputs), threads)
        if code:
            raise RuntimeError(f"spline_jet_backward failed with code {code}")
        return grad_x, grad_factors, acc[0] if threads == 1 else acc.sum(0)


def _threads(n: int) -> int:
    """Threads for ``n`` points: smaller calls run on one thread, since starting the others costs more."""
    return max(1, min(torch.get_num_threads(), _MAX_THREADS, n // _POINTS_PER_THREAD))


def _native(x: torch.Tensor, coef: torch.Tensor) -> bool:
    """Whether CPU kernels may run on ``x`` and ``coef`` at all."""
    return (x.device.type == "cpu" and coef.device == x.device and x.dtype in _SCALARS and coef.dtype == x.dtype
            and os.environ.get("PINNKAN_NATIVE", "1") != "0")


def kernels_for(values: torch.Tensor, coef: torch.Tensor) -> Kernels | None:
    """The kernels for ``values`` (A, N, S, C) and ``coef`` (C, nb, O), or ``None`` where they do not apply."""
    if (not _native(values, coef) or values.shape[2] > _MAX_SLOTS or values.shape[0] * coef.shape[2] > _MAX_OUTPUTS
            or values.shape[1] == 0):
        return None
    return _kernels(Kernels, "combine", _SCALARS[values.dtype], values.shape[0], values.shape[2], coef.shape[2])


def jet_kernels_apply(x: torch.Tensor, coef: torch.Tensor, components: int, slots: int, order: int) -> bool:
    """Whether the spline jet kernels may serve ``x`` (N, C) and ``coef`` (C, nb, O) with ``components``
    jet components, ``slots`` = k + 1 and derivatives up to ``order``, before any is compiled.

    Only the tensors' metadata is read, so torch.compile traces this check as constants.
    """
    return (_native(x, coef) and slots <= _MAX_SLOTS and components * coef.shape[2] <= _MAX_OUTPUTS
            and x.shape[0] > 0 and order <= _MAX_ORDER)


def jet_kernels_for(x: torch.Tensor, coef: torch.Tensor, components: int, slots: int, order: int) -> JetKernels | None:
    """The kernels of a spline jet (see :func:`jet_kernels_apply`), compiled on first use; ``None`` where
    they do not apply or do not compile."""
    if not jet_kernels_apply(x, coef, components, slots, order):
        return None
    return _kernels(JetKernels, "spline_jet", _SCALARS[x.dtype], components, slots, coef.shape[2], order)


@functools.lru_cache(maxsize=None)
def _kernels(kind: type, source: str, scalar: str, *sizes: int) -> Kernels | JetKernels | None:
    library = _load(source, scalar, *sizes)
    dtype = next(d for d, name in _SCALARS.items() if name == scalar)
    return None if library is None else kind(library, dtype, sizes)


@functools.lru_cache(maxsize=None)
def _compiler() -> tuple[str, ...] | None:
    """The compiler's command line (``CC`` may carry arguments, as ``ccache gcc``), or None when none is found."""
    words = shlex.split(os.environ.get("CC", ""))
    if words:
        found = shutil.which(words[0])
        return None if found is None else (found, *words[1:])
    found = next((path for name in ("cc", "gcc", "clang") if (path := shutil.which(name))), None)
    return None if found is None else (found,)


@functools.lru_cache(maxsize=None)
def _compiler_version(compiler: tuple[str, ...]) -> str:
    """The first line ``compiler --version`` prints (part of the cache key), or "" when it prints none."""
    try:
        result = subprocess.run([*compiler, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else ""


def _processor() -> str:
    """What the compiled code depends on: the instruction-set flags where the OS lists them."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.split(":")[0].strip() in ("flags", "Features"):
                    return line
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


def _cache_dir() -> Path:
    if root := os.environ.get("PINNKAN_KERNEL_CACHE"):
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinnkan" / "kernels"


def _unsafe(path: Path, *, folder: bool) -> str | None:
    """Why compiled code in ``path`` (a folder, or a library file) must not be loaded, or None when it may.

    It must be a real folder or file (no symbolic link), belong to the current user and
    not be writable by group or others; a folder's parent must not let others rename it
    (writable by them without the sticky bit, as /tmp has).
    """
    if not hasattr(os, "getuid"):  # no POSIX owners (Windows): the user's profile folder is private
        return None
    try:
        info = os.lstat(path)
        parent = os.stat(path.parent) if folder else None
    except OSError as error:
        return f"cannot inspect {path}: {error.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link"
    if not (stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)):
        return f"{path} is not a {'folder' if folder else 'regular file'}"
    if info.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"{path} can be written by other users (mode {stat.S_IMODE(info.st_mode):o})"
    if parent is not None and parent.st_mode & 0o002 and not parent.st_mode & stat.S_ISVTX:
        return f"{path.parent} lets other users replace {path.name}"
    return None


@functools.lru_cache(maxsize=None)
def _private_folder() -> Path:
    """A folder of this process only (mode 0700, removed at exit), for kernels the cache cannot hold safely."""
    folder = Path(tempfile.mkdtemp(prefix="pinnkan-kernels-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _cache_folder() -> Path:
    """The cache folder, created if needed (mode 0700), or the private folder when it is not safe to use
    (with a warning)."""
    folder = _cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        reason = _unsafe(folder, folder=True)
    except OSError as error:
        reason = f"cannot create {folder}: {error.strerror}"
    if reason is None:
        return folder
    private = _private_folder()
    warnings.warn(
        f"pinnkan: not using the kernel cache ({reason}); compiling into {private} for this process instead. "
        "Point PINNKAN_KERNEL_CACHE at a folder of your own that only you can write (chmod go-w).",
        RuntimeWarning,
        stacklevel=7,
    )
    return private


class _CompileError(RuntimeError):
    """The compiler is missing or failed."""


@functools.lru_cache(maxsize=None)
def _load(source: str, scalar: str, *sizes: int) -> ctypes.CDLL | None:
    """The library of ``source`` (a key of ``_SOURCES``) for this scalar type and these sizes, or ``None``."""
    with _lock:
        try:
            path, attempt = _build(source, scalar, sizes)
            if reason := _unsafe(path.parent, folder=True) or _unsafe(path, folder=False):
                raise RuntimeError(f"refusing to load {path.name}: {reason}")
            library = ctypes.CDLL(str(path))
            _builds[(source, scalar, *sizes)] = attempt
            return library
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            first = reason not in _failures.values()  # one warning for each cause
            _failures[(source, scalar, *sizes)] = reason
            if first:
                compiler = isinstance(error, (_CompileError, subprocess.SubprocessError))
                fix = "Set CC to a C compiler with OpenMP" if compiler else "Check the kernel cache folder"
                warnings.warn(
                    f"pinnkan: the fused spline kernel {source} ({scalar}, sizes {', '.join(map(str, sizes))}) is "
                    f"unavailable ({reason}); it runs on PyTorch operators instead, with the same results, more "
                    f"slowly. {fix}, or set PINNKAN_NATIVE=0 to silence this warning.",
                    RuntimeWarning,
                    stacklevel=5,
                )
            return None


def _build(name: str, scalar: str, sizes: tuple[int, ...]) -> tuple[Path, int]:
    """The shared library of source ``name`` for these constants, compiled unless the cache holds it, and
    the index in ``_ATTEMPTS`` of the flags it was built with."""
    compiler = _compiler()
    if compiler is None:
        raise _CompileError("no C compiler found (set CC)")
    path, constants = _SOURCES[name]
    source = path.read_bytes() + _HEADER.read_bytes()
    defines = [f"-DSCALAR={scalar}", *(f"-D{constant}={size}" for constant, size in zip(constants, sizes, strict=True))]
    identity = [source, " ".join(compiler).encode(), _compiler_version(compiler).encode(), _processor().encode(),
                sys.platform.encode()]
    keys = [hashlib.sha256(b"\0".join([*identity, " ".join(_FLAGS + extra + defines).encode()])).hexdigest()[:20]
            for extra in _ATTEMPTS]
    files = [f"{name}-{scalar}-{'-'.join(map(str, sizes))}-{key}.so" for key in keys]
    folder = _cache_folder()
    for attempt, file in enumerate(files):  # the best build this compiler has made before
        if os.path.lexists(folder / file) and _unsafe(folder / file, folder=False) is None:
            return folder / file, attempt
    # (a file there that is not ours, or that others can write, is replaced by a build of our own)
    try:
        return _compile(compiler, path, defines, folder, files)
    except OSError as error:
        if folder == _private_folder():
            raise
        warnings.warn(  # the cache folder cannot be written: this process keeps its own
            f"pinnkan: cannot write the kernel cache {folder} ({error.strerror}); compiling into "
            f"{_private_folder()} for this process instead.",
            RuntimeWarning,
            stacklevel=6,
        )
        return _compile(compiler, path, defines, _private_folder(), files)


def _compile(compiler: tuple[str, ...], source: Path, defines: list[str], folder: Path,
             files: list[str]) -> tuple[Path, int]:
    """Compile ``source`` with the first of ``_ATTEMPTS`` that works, into ``folder`` under that attempt's
    name of ``files``: under a private name first, then renamed, so that processes compiling at once never
    load half a file."""
    handle, partial = tempfile.mkstemp(suffix=".so", dir=folder)
    os.close(handle)
    try:
        for attempt, extra in enumerate(_ATTEMPTS):
            result = subprocess.run([*compiler, *_FLAGS, *extra, *defines, str(source), "-o", partial],
                                    capture_output=True, text=True, timeout=120)
            if result.returncode == 0:
                break
        else:
            raise _CompileError(f"{Path(compiler[-1]).name} failed: {result.stderr.strip() or result.returncode}")
        os.chmod(partial, 0o700)
        os.replace(partial, folder / files[attempt])
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return folder / files[attempt], attempt
