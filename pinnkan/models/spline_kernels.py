"""Fused CPU kernels for the sparse spline product, compiled from C on first use.

:func:`~pinnkan.models.local_splines.combine_bases` is a gather, a product and (in
the backward) a scatter over a few small coefficient rows per point. PyTorch runs it as
several operators, each of which writes its result to memory; the kernels of
``combine_kernel.c`` run it in one pass over the points, with a point's outputs in
registers, on PyTorch's own OpenMP threads. They cut the spline product's share of a
KAN step by a factor of three to five (``scripts/bench_engines.py``).

The C file is compiled once for each scalar type and each (sets, slots, outputs) of a
call, so that those sizes are constants the compiler can unroll and vectorise: a KAN
needs a handful of variants, each compiled in about half a second and kept in a cache
folder (``$PINNKAN_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/pinnkan/kernels``, else
``~/.cache/pinnkan/kernels``) under a name that hashes the source, the flags and the
processor, so a cache shared between machines never serves one another's code.

The kernels apply to CPU tensors of float32 or float64. Anywhere else (a GPU, another
dtype, no C compiler, ``PINNKAN_NATIVE=0``), :func:`kernels_for` returns ``None`` and the
caller runs the PyTorch operators, which give the same numbers to rounding. A compiler
that is missing or fails is reported once, with a warning naming the fix.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import torch

__all__ = ["Kernels", "kernels_for", "status"]

_SOURCE = Path(__file__).with_name("combine_kernel.c")
_SCALARS = {torch.float32: "float", torch.float64: "double"}
# Reassociation lets the dot products vectorise; the result is still the same on every call.
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"]
# Tried in turn: tuned to this processor and threaded; threaded; plain (one thread).
_ATTEMPTS = (["-march=native", "-fopenmp"], ["-fopenmp"], [])
_MAX_THREADS = 64  # as MAX_THREADS in the C file
_MAX_OUTPUTS = 2048  # sets x outputs of one point, held on the stack
_MAX_SLOTS = 16
_POINTS_PER_THREAD = 256  # smaller calls run on one thread: starting the others costs more

_lock = threading.Lock()
_failure: list[str] = []  # why compilation failed, once it has


def status() -> str:
    """``"native"`` while the kernels can be used, else the reason they are not."""
    if os.environ.get("PINNKAN_NATIVE", "1") == "0":
        return "disabled by PINNKAN_NATIVE=0"
    if _failure:
        return _failure[0]
    if _compiler() is None:
        return "no C compiler found (set CC)"
    return "native"


class Kernels:
    """The compiled forward and backward of one (dtype, sets, slots, outputs)."""

    def __init__(self, library: ctypes.CDLL) -> None:
        p, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        self._forward = library.combine_forward
        self._forward.argtypes = [p, p, p, p, i64, i64, i64, i32]
        self._forward.restype = i32
        self._backward = library.combine_backward
        self._backward.argtypes = [p, p, p, p, p, p, i64, i64, i64, i32, i32]
        self._backward.restype = i32

    @staticmethod
    def _threads(n: int) -> int:
        return max(1, min(torch.get_num_threads(), _MAX_THREADS, n // _POINTS_PER_THREAD))

    @staticmethod
    def _check(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor, grad: torch.Tensor | None = None) -> None:
        """The C code reads raw memory: every layout it assumes is checked here."""
        a, n, _, c = values.shape
        ok = (values.is_contiguous() and coef.is_contiguous() and interval.is_contiguous()
              and interval.dtype == torch.int64 and interval.shape == (n, c) and coef.shape[0] == c)
        if grad is not None:
            ok = ok and grad.is_contiguous() and grad.dtype == values.dtype and grad.shape == (a, n, coef.shape[2])
        if not ok:
            raise ValueError(
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
                             coef.shape[1], self._threads(n))
        if code:
            raise RuntimeError(f"combine_forward failed with code {code}")
        return out

    def backward(
        self, grad: torch.Tensor, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor, need_values: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients for ``values`` (zeros unless ``need_values``) and ``coef``; contiguous inputs."""
        self._check(values, interval, coef, grad)
        _, n, _, c = values.shape
        threads = self._threads(n)
        grad_values = values.new_empty(values.shape) if need_values else values.new_zeros(values.shape)
        acc = coef.new_zeros(threads, *coef.shape)
        code = self._backward(grad.data_ptr(), values.data_ptr(), interval.data_ptr(), coef.data_ptr(),
                              grad_values.data_ptr() if need_values else None, acc.data_ptr(), n, c, coef.shape[1],
                              int(need_values), threads)
        if code:
            raise RuntimeError(f"combine_backward failed with code {code}")
        return grad_values, acc[0] if threads == 1 else acc.sum(0)


def kernels_for(values: torch.Tensor, coef: torch.Tensor) -> Kernels | None:
    """The kernels for ``values`` (A, N, S, C) and ``coef`` (C, nb, O), or ``None`` where they do not apply."""
    if (values.device.type != "cpu" or coef.device != values.device or values.dtype not in _SCALARS
            or coef.dtype != values.dtype or values.shape[2] > _MAX_SLOTS
            or values.shape[0] * coef.shape[2] > _MAX_OUTPUTS or values.shape[1] == 0):
        return None
    if os.environ.get("PINNKAN_NATIVE", "1") == "0" or _failure:
        return None
    return _load(_SCALARS[values.dtype], values.shape[0], values.shape[2], coef.shape[2])


@functools.lru_cache(maxsize=None)
def _compiler() -> str | None:
    named = os.environ.get("CC")
    if named:
        return shutil.which(named)
    return next((found for name in ("cc", "gcc", "clang") if (found := shutil.which(name))), None)


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


@functools.lru_cache(maxsize=None)
def _load(scalar: str, sets: int, slots: int, outputs: int) -> Kernels | None:
    with _lock:
        if _failure:
            return None
        try:
            return Kernels(ctypes.CDLL(str(_build(scalar, sets, slots, outputs))))
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            _failure.append(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
            warnings.warn(
                f"pinnkan: the fused spline kernels are unavailable ({_failure[0]}); the sparse splines run on "
                "PyTorch operators instead, with the same results, more slowly. Set CC to a C compiler with "
                "OpenMP, or PINNKAN_NATIVE=0 to silence this warning.",
                RuntimeWarning,
                stacklevel=4,
            )
            return None


def _build(scalar: str, sets: int, slots: int, outputs: int) -> Path:
    """Path of the shared library for these constants, compiled unless the cache holds it."""
    compiler = _compiler()
    if compiler is None:
        raise RuntimeError("no C compiler found (set CC)")
    source = _SOURCE.read_bytes()
    defines = [f"-DSCALAR={scalar}", f"-DKA={sets}", f"-DKS={slots}", f"-DKO={outputs}"]
    key = hashlib.sha256(b"\0".join([source, " ".join(_FLAGS + _ATTEMPTS[0] + defines).encode(), compiler.encode(),
                                     _processor().encode(), sys.platform.encode()])).hexdigest()[:20]
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / f"pinnkan-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"combine-{scalar}-{sets}-{slots}-{outputs}-{key}.so"
    if target.exists():
        return target
    # Compiled under a private name and renamed: processes that compile at once never load half a file.
    handle, partial = tempfile.mkstemp(suffix=".so", dir=folder)
    os.close(handle)
    try:
        for extra in _ATTEMPTS:
            result = subprocess.run([compiler, *_FLAGS, *extra, *defines, str(_SOURCE), "-o", partial],
                                    capture_output=True, text=True, timeout=120)
            if result.returncode == 0:
                break
        else:
            raise RuntimeError(f"{Path(compiler).name} failed: {result.stderr.strip() or result.returncode}")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target
