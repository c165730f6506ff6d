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
variants, each compiled in about 0.3 s and kept in a cache folder. How and where they are
compiled, and which loaded, is the business of the active
:class:`~pinnkan.models.kernel_build.KernelBuild` (compiler, cache folder, the checks
that keep planted libraries out).

The kernels apply to CPU tensors of float32 or float64. Anywhere else (a GPU, another
dtype, no C compiler, kernels turned off), :func:`kernels_for` and
:func:`jet_kernels_for` return ``None`` and the caller runs PyTorch operators, which give
the same numbers to rounding. A variant that fails to compile or load turns off that
variant only, with a warning that gives the cause.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import torch

from ..errors import InputValueError
from .kernel_build import _SCALARS, KernelSource, active_build

__all__ = ["Kernels", "JetKernels", "kernels_for", "jet_kernels_apply", "jet_kernels_for"]

_HEADER = Path(__file__).with_name("spline_rows.h")  # included by both sources
COMBINE = KernelSource("combine", Path(__file__).with_name("combine_kernel.c"), (_HEADER,), ("KA", "KS", "KO"))
SPLINE_JET = KernelSource("spline_jet", Path(__file__).with_name("spline_jet_kernel.c"), (_HEADER,),
                          ("KA", "KS", "KO", "KR"))
_MAX_THREADS = 64  # as MAX_THREADS in the C file
_MAX_OUTPUTS = 2048  # sets x outputs of one point, held on the stack
_MAX_SLOTS = 16
_POINTS_PER_THREAD = 256  # smaller calls run on one thread: starting the others costs more
_MAX_ORDER = 8  # highest jet order of the spline jet kernels (their stack arrays grow with it)


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
            and active_build().enabled)


def kernels_for(values: torch.Tensor, coef: torch.Tensor) -> Kernels | None:
    """The kernels for ``values`` (A, N, S, C) and ``coef`` (C, nb, O), or ``None`` where they do not apply."""
    if (not _native(values, coef) or values.shape[2] > _MAX_SLOTS or values.shape[0] * coef.shape[2] > _MAX_OUTPUTS
            or values.shape[1] == 0):
        return None
    return active_build().kernels(COMBINE, values.dtype, (values.shape[0], values.shape[2], coef.shape[2]), Kernels)


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
    return active_build().kernels(SPLINE_JET, x.dtype, (components, slots, coef.shape[2], order), JetKernels)
