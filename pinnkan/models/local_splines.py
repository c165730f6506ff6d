"""Sparse B-spline evaluation: only the ``k + 1`` bases that can be non-zero at a point, and their derivatives.

A point in the knot interval ``[t_j, t_{j+1})`` sees only ``B_{j-k} .. B_j``. Evaluating
those and reading only the matching coefficients makes the cost of a KAN layer
independent of its grid size, where the dense basis of :mod:`pinnkan.models.splines`
grows with it.

* :func:`local_bases` finds each point's interval and evaluates its ``k + 1`` bases
  and their derivatives. On a uniform grid they are the pieces of the cardinal
  B-spline, fixed polynomials of the local coordinate ``u = (x - t_j) / h``; on any
  other grid (clamped ends, grids updated to data) the local triangle of the
  Cox–de Boor recursion runs on the ``2k + 2`` knots around the interval.
* :func:`combine_bases` forms ``y_a = sum_s sum_c values[a, s, c] coef[c, j_c - k + s]``
  for stacked sets ``a`` of basis values (a jet's components), reading only the
  ``k + 1`` coefficients next to each point. On the CPU it runs on the fused kernels
  of :mod:`pinnkan.models.spline_kernels` where they compiled, elsewhere on sparse
  PyTorch operators.
* :func:`spline_jet` is a KAN layer's spline branch for a jet: the two above with the
  bases composed by Faà di Bruno's formula in between, or on uniform knots on the CPU
  one fused kernel that does all three per point.

Both agree with :func:`~pinnkan.models.splines.bspline_basis_derivative` to rounding.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError, whole
from .jets import Jet
from .spline_kernels import jet_kernels_apply, jet_kernels_for, kernels_for
from .splines import _reciprocal

__all__ = ["local_bases", "combine_bases", "spline_jet", "is_uniform"]

# Spline orders 1 .. 7 have a precomputed cardinal table; order 0 and higher orders use the recursion.
_MAX_CARDINAL_ORDER = 7
# Numbers in the largest buffer of one chunk of the coefficient gradient (1 MB in
# float32): it stays in cache, and one buffer serves every chunk.
_CHUNK_NUMBERS = 1 << 18


def _derivative_tables(order: int) -> np.ndarray:
    """``d^r/du^r`` of the cardinal pieces for ``r = 0 .. k``, as matrices from powers of ``u`` to slots: (k+1, k+1, k+1).

    Slot ``s`` on an interval with local coordinate ``u`` is
    ``N_k(u + m) = (1/k!) sum_{i=0}^{m} (-1)^i C(k+1, i) (u + m - i)^k`` with ``m = k - s``.
    """
    k = order
    pieces = np.zeros((k + 1, k + 1))  # (slot, power)
    for s in range(k + 1):
        m = k - s
        for i in range(m + 1):
            a = m - i  # (u + a)^k = sum_p C(k, p) a^(k-p) u^p
            for p in range(k + 1):
                pieces[s, p] += (-1) ** i * math.comb(k + 1, i) * math.comb(k, p) * a ** (k - p)
    pieces /= math.factorial(k)
    tables = np.zeros((k + 1, k + 1, k + 1))  # (r, power, slot)
    for r in range(k + 1):
        for p in range(r, k + 1):
            tables[r, p - r] += pieces[:, p] * math.perm(p, r)  # u^p -> p!/(p-r)! u^(p-r)
    return tables


# Plain floats, not arrays: torch.compile treats them as constants.
_CARDINAL: dict[int, tuple[tuple[tuple[float, ...], ...], ...]] = {
    k: tuple(tuple(tuple(float(v) for v in row) for row in table) for table in _derivative_tables(k))
    for k in range(1, _MAX_CARDINAL_ORDER + 1)
}


def is_uniform(knots: torch.Tensor) -> bool:
    """Whether every channel's knots are equally spaced (to a few rounding errors), ``knots`` (C, M)."""
    steps = knots[:, 1:] - knots[:, :-1]
    first = steps[:, :1]
    tolerance = 64 * torch.finfo(knots.dtype).eps * (knots.abs().max(dim=1, keepdim=True).values + first)
    return bool(torch.all(first > 0) and torch.all((steps - first).abs() <= tolerance))


def local_bases(
    x: torch.Tensor, knots: torch.Tensor, order: int, derivatives: int, *, uniform: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k + 1`` B-spline bases that can be non-zero at each point, and their derivatives.

    Slot ``s`` of a point in interval ``j`` holds ``B_{j-k+s}``. Near the ends of the
    knot span some slots name no basis (``j - k + s`` outside ``0 .. M - k - 2``); they
    hold finite numbers that :func:`combine_bases` multiplies by zero coefficients.
    Points outside the knot span get zeros. The last non-empty interval is closed on
    the right, as in :func:`~pinnkan.models.splines.bspline_basis`. Differentiable in
    ``x`` once (the backward uses the next derivative); the knots receive no gradient.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C)
    knots : torch.Tensor, shape (C, M)
        Non-decreasing knot vectors.
    order : int
        Spline order ``k``.
    derivatives : int
        Highest derivative wanted, ``>= 0`` (derivatives above ``k`` are zero).
    uniform : bool
        The knots are equally spaced (see :func:`is_uniform`): evaluate the cardinal
        pieces instead of the recursion.

    Returns
    -------
    interval : torch.Tensor of int64, shape (N, C)
        The knot interval ``j`` of each point, in ``0 .. M - 2``.
    values : torch.Tensor, shape (derivatives + 1, N, k + 1, C)
        ``values[r, n, s, c] = d^r B_{j-k+s}(x[n, c]) / dx^r``; channels last, so that
        elementwise work runs along them.

    Examples
    --------
    >>> from pinnkan.models.splines import uniform_knots
    >>> knots = uniform_knots(torch.tensor([0.0]), torch.tensor([1.0]), 4, 3)
    >>> interval, values = local_bases(torch.tensor([[0.6]]), knots, 3, 1, uniform=True)
    >>> int(interval), round(float(values[0].sum()), 6), abs(float(values[1].sum())) < 1e-6
    (5, 1.0, True)
    """
    if not whole(derivatives, 0):
        raise InputValueError(f"derivatives must be an int >= 0, got {derivatives!r}")
    if not whole(order, 0):
        raise InputValueError(f"spline order must be an int >= 0, got {order!r}")
    if x.ndim != 2 or knots.ndim != 2 or x.shape[1] != knots.shape[0]:
        raise InputValueError(f"expected x of shape (N, C) and knots of shape (C, M); got {tuple(x.shape)} and {tuple(knots.shape)}")
    inside = ((x >= knots[:, 0]) & (x <= knots[:, -1])).to(x.dtype)  # (N, C)
    # Order 0 has no cardinal table and is discontinuous at every knot: a point on a knot
    # must get its interval from the stored knots (the recursion's search), not a rounded quotient.
    if uniform and 1 <= order <= _MAX_CARDINAL_ORDER:
        with torch.no_grad():
            interval, left, width = _locate_uniform(x.detach(), knots)
        return interval, _LocalBases.apply(x, left, width, inside, order, derivatives, True)
    with torch.no_grad():
        interval, local = _locate(x.detach(), knots, order)
    return interval, _LocalBases.apply(x, local, None, inside, order, derivatives, False)


def combine_bases(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """``y[a, n, o] = sum_s sum_c values[a, n, s, c] coef[c, j - k + s, o]`` with ``j = interval[n, c]``.

    The spline branch of a KAN layer from the local bases of :func:`local_bases`, for
    ``A`` stacked sets of basis values at once (a jet's components). Each point reads
    only its ``k + 1`` coefficients per channel, so neither the work nor the memory
    grows with the grid size; slots without a basis meet zero coefficients.
    Differentiable once in ``values`` and ``coef``.

    Parameters
    ----------
    values : torch.Tensor, shape (A, N, k + 1, C)
    interval : torch.Tensor of int64, shape (N, C)
        Knot interval of each point, ``0 .. G + 2k - 1``.
    coef : torch.Tensor, shape (C, G + k, O)
        Spline coefficients.

    Returns
    -------
    torch.Tensor, shape (A, N, O)
    """
    if (values.ndim != 4 or coef.ndim != 3 or values.shape[3] != coef.shape[0]
            or interval.shape != (values.shape[1], values.shape[3])):
        raise InputValueError(
            f"expected values (A, N, k+1, C), interval (N, C) and coef (C, nb, O); got {tuple(values.shape)}, "
            f"{tuple(interval.shape)} and {tuple(coef.shape)}"
        )
    if interval.dtype != torch.int64:
        raise InputTypeError(f"interval must be int64 (as local_bases returns it), got {interval.dtype}")
    inputs = (values.contiguous(), interval.contiguous(), coef.contiguous())
    if torch.compiler.is_compiling():
        return _combine(*inputs)
    return _Combine.apply(*inputs)  # the same kernels without the operator's dispatch


def spline_jet(
    jet: Jet,
    factors: list[list[tuple[int, torch.Tensor | None]]],
    knots: torch.Tensor,
    order: int,
    coef: torch.Tensor,
    *,
    uniform: bool,
) -> torch.Tensor:
    """The jet of a spline branch ``y_o = sum_c sum_b coef[c, b, o] B_b(x_c)``: shape (K, N, O).

    ``jet`` (K, N, C) holds the spline inputs with their derivatives and ``factors``
    its :meth:`~pinnkan.models.jets.Jet.chain_factors`. This is
    :func:`combine_bases` of the jet's composition with :func:`local_bases`; on
    uniform knots on the CPU one fused kernel evaluates the bases, composes them and
    multiplies by the coefficients point by point, without the (K, N, k + 1, C)
    intermediates. Differentiable once in the jet and in ``coef``.

    Parameters
    ----------
    jet : Jet
        Spline inputs, ``jet.value`` of shape (N, C).
    factors : list
        ``jet.chain_factors()``.
    knots : torch.Tensor, shape (C, G + 2k + 1)
    order : int
        Spline order ``k``.
    coef : torch.Tensor, shape (C, G + k, O)
    uniform : bool
        The knots are equally spaced (see :func:`is_uniform`).
    """
    derivatives = jet.plan.order
    value = jet.value
    fused = uniform and 1 <= order <= _MAX_CARDINAL_ORDER and jet_kernels_apply(
        value, coef, jet.plan.size, order + 1, derivatives)
    # Compiled code calls the operator, which falls back by itself if the kernels fail to build.
    if not (fused and (torch.compiler.is_compiling()
                       or jet_kernels_for(value, coef, jet.plan.size, order + 1, derivatives) is not None)):
        interval, bases = local_bases(value, knots, order, derivatives, uniform=uniform)
        return combine_bases(jet.compose(list(bases), factors), interval, coef)
    if factors[0] != [(0, None)] or any(p is None for terms in factors[1:] for _, p in terms):
        raise InputValueError("spline_jet needs the chain factors of a jet, whose only constant term is the value's")
    chosen = [(a, r, p) for a, terms in enumerate(factors) for r, p in terms if p is not None]
    stacked = torch.stack([p for _, _, p in chosen]) if chosen else value.new_zeros(0, *value.shape)
    terms = [i for a, r, _ in chosen for i in (a, r)]
    inputs = (value.contiguous(), stacked, coef.contiguous(), knots.detach().to(value.dtype).contiguous(), terms, order,
              derivatives, jet.plan.size)
    if torch.compiler.is_compiling():
        return _spline_jet(*inputs)
    return _SplineJet.apply(*inputs)


@functools.lru_cache(maxsize=None)
def _terms(pairs: tuple[int, ...]) -> torch.Tensor:
    """Component and derivative order of each chain term from ``(a_0, r_0, a_1, r_1, ...)``: (2, T) int32."""
    return torch.tensor(pairs, dtype=torch.int32).reshape(-1, 2).T.contiguous()


@functools.lru_cache(maxsize=None)
def _jet_table(order: int, derivatives: int, dtype: torch.dtype) -> torch.Tensor:
    """The cardinal tables ``[r][power][slot]`` for ``r = 0 .. derivatives + 1``, zero past ``order``: (R + 2, k + 1, k + 1)."""
    table = torch.zeros(derivatives + 2, order + 1, order + 1, dtype=torch.float64)
    rows = min(derivatives + 2, order + 1)
    table[:rows] = torch.tensor(_CARDINAL[order][:rows], dtype=torch.float64)
    return table.to(dtype)


def _locate_uniform(x: torch.Tensor, knots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Knot interval ``j`` (N, C) of equally spaced knots, with its stored ends: ``t_j`` and ``t_{j+1} - t_j``.

    The stored knots, not ``t_0 + j h``: the rounding of the spacing would grow with ``j``
    (ten times the error of the recursion in float32, measured).
    """
    c, m = knots.shape
    t0, step = knots[:, 0], knots[:, 1] - knots[:, 0]
    # A NaN point gets interval 0 (and NaN bases), not an index out of bounds.
    interval = torch.floor((x - t0) / step).nan_to_num(0.0).clamp(0, m - 2).to(torch.int64)
    index = interval + torch.arange(c, device=x.device) * m
    flat = knots.contiguous().view(-1)
    left = flat[index]
    return interval, left, flat[index + 1] - left


def _locate(x: torch.Tensor, knots: torch.Tensor, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Knot interval (N, C) and the knots ``t_{j-k} .. t_{j+k+1}`` around it, (N, 2k+2, C)."""
    c, m = knots.shape
    k = order
    knots = knots.contiguous()
    nonempty = knots[:, 1:] > knots[:, :-1]  # (C, M-1)
    last = (m - 2) - torch.flip(nonempty, [1]).to(torch.int64).argmax(1)  # last non-empty interval, (C,)
    j = torch.searchsorted(knots, x.T.contiguous(), right=True) - 1  # (C, N), in -1 .. M-1
    j = torch.minimum(j, last[:, None]).clamp(min=0).T  # (N, C)
    # End-padded knots, so that every point has 2k + 2 knots around its interval.
    padded = torch.cat([knots[:, :1].expand(c, k), knots, knots[:, -1:].expand(c, k)], dim=1)  # (C, M + 2k)
    start = j + torch.arange(c, device=x.device) * padded.shape[1]  # (N, C)
    local = torch.take(padded, start[:, None, :] + torch.arange(2 * k + 2, device=x.device)[:, None])
    return j, local


def _local_recursion(x: torch.Tensor, local: torch.Tensor, order: int, derivatives: int) -> list[torch.Tensor]:
    """Derivatives ``0 .. derivatives`` of the degree-k bases ``B_{j-k} .. B_j``, each (N, k+1, C).

    ``local[:, q] = t_{j-k+q}``. Level ``p`` uses ``1 / (t_{i+p} - t_i)`` for the bases
    ``i = j-p+1 .. j`` of degree ``p - 1``, both in the value recursion
    ``B_{i,p} = w_{i,p} B_{i,p-1} + (1 - w_{i+1,p}) B_{i+1,p-1}`` and in the derivative
    ``B'_{i,p} = p (B_{i,p-1} / (t_{i+p} - t_i) - B_{i+1,p-1} / (t_{i+p+1} - t_{i+1}))``.
    """
    k = order
    xe = x.unsqueeze(1)  # (N, 1, C)
    zero = torch.zeros_like(xe)
    current = [torch.ones_like(xe)]  # derivatives 0 .. min(p, derivatives) at level p, each (N, p+1, C)
    for p in range(1, k + 1):
        low = local[:, k - p + 1 : k + 1]  # t_i for i = j-p+1 .. j
        inv = _reciprocal(local[:, k + 1 : k + p + 1] - low)
        v = (xe - low) * inv * current[0]
        nxt = [torch.cat([zero, v], 1) + torch.cat([current[0] - v, zero], 1)]
        for r in range(1, min(p, derivatives) + 1):
            a = (p * inv) * current[r - 1]
            nxt.append(torch.cat([zero, a], 1) - torch.cat([a, zero], 1))
        current = nxt
    return current + [torch.zeros_like(current[0])] * (derivatives + 1 - len(current))


def _cardinal(u: torch.Tensor, step: torch.Tensor, inside: torch.Tensor, order: int, derivatives: int) -> torch.Tensor:
    """Derivatives ``0 .. derivatives`` of the cardinal pieces at the local coordinate ``u`` (N, C): (R+1, N, k+1, C).

    ``step`` is the knot spacing at each point (N, C). Zero at points outside the span
    (``inside`` is 0 there), since every power of ``u`` is.
    """
    k = order
    powers = [inside]
    for _ in range(k):
        powers.append(powers[-1] * u)
    count = min(derivatives, k) + 1
    tables = _CARDINAL[k]
    inv = 1.0 / step  # d/dx = (1/h) d/du
    if torch.compiler.is_compiling():  # sums of powers, which compile into one loop
        rows = []
        for r in range(count):
            scale = inv**r
            for s in range(k + 1):
                terms = [tables[r][p][s] * powers[p] for p in range(k + 1 - r) if tables[r][p][s] != 0.0]
                rows.append(sum(terms[1:], terms[0]) * scale)  # type: ignore[arg-type]
        values = torch.stack(rows, dim=1).reshape(u.shape[0], count, k + 1, u.shape[1]).transpose(0, 1)
    else:  # one small matrix product: fewer operations for eager code
        table = torch.tensor(tables[:count], dtype=u.dtype, device=u.device)  # (R, power, slot)
        n, c = u.shape
        flat = table.transpose(1, 2).reshape(count * (k + 1), k + 1) @ torch.stack(powers).reshape(k + 1, n * c)
        scale = torch.stack([inv**r for r in range(count)])[:, None]  # (R, 1, N, C)
        # (R, S, N, C) seen as (R, N, S, C): channels stay contiguous, no copy.
        values = (flat.reshape(count, k + 1, n, c) * scale).transpose(1, 2)
    if count <= derivatives:
        values = torch.cat([values, values.new_zeros(derivatives + 1 - count, *values.shape[1:])])
    return values


def _slope_sum(grad: torch.Tensor, slopes: torch.Tensor) -> torch.Tensor:
    """``sum_r sum_s grad[r, n, s, c] slopes[r, n, s, c]``, (N, C), the leading axis first: one
    reduction over two strided axes is several times slower on the CPU."""
    return (grad * slopes).sum(0).sum(1)


class _LocalBases(torch.autograd.Function):
    """``x -> (B^(0) .. B^(R))`` of the local bases; the backward uses ``B^(1) .. B^(R+1)``.

    With ``uniform`` the cardinal pieces apply, ``first`` and ``second`` being each
    point's ``t_j`` and spacing; otherwise ``first`` holds its knots ``t_{j-k} .. t_{j+k+1}``
    for the local recursion.
    """

    @staticmethod
    def forward(ctx, x, first, second, inside, order, derivatives, uniform):  # type: ignore[override]
        extra = int(x.requires_grad)  # the next derivative, only for a backward
        x = x.detach()
        if uniform:
            values = _cardinal((x - first) / second, second, inside, order, derivatives + extra)
        else:
            values = torch.stack(_local_recursion(x, first, order, derivatives + extra)) * inside[:, None, :]
        if extra:
            ctx.save_for_backward(values[1:])
            return values[:-1]  # (R+1, N, k+1, C)
        return values

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        (slopes,) = ctx.saved_tensors
        return _slope_sum(grad, slopes), None, None, None, None, None, None


def _columns(interval: torch.Tensor, nb: int, slots: int) -> torch.Tensor:
    """Row of the zero-padded coefficients (see :func:`_padded`) read by each (point, slot, channel), (N, S, C) int32."""
    c = interval.shape[1]
    index = interval.to(torch.int32)
    columns = index[:, None, :] + torch.arange(slots, dtype=torch.int32, device=index.device)[:, None]
    return columns + torch.arange(c, dtype=torch.int32, device=index.device) * (nb + 2 * (slots - 1))


def _padded(coef: torch.Tensor, slots: int) -> torch.Tensor:
    """The coefficients with ``k`` zero rows before and after each channel's, flattened to (C * (nb + 2k), O)."""
    k = slots - 1
    return torch.nn.functional.pad(coef, (0, 0, k, k)).reshape(-1, coef.shape[2])


def _csr(values: torch.Tensor, columns: torch.Tensor, width: int) -> torch.Tensor:
    """One set of values (N, S, C) at ``columns`` (N, S, C) as a CSR matrix (N, width)."""
    n = values.shape[0]
    per_row = values.shape[1] * values.shape[2]
    starts = torch.arange(0, n * per_row + 1, per_row, dtype=torch.int32, device=values.device)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(starts, columns.reshape(-1), values.reshape(-1), size=(n, width))


# The products of combine_bases: the fused kernels of spline_kernels on the CPU where
# they compiled; otherwise sparse CSR matrix products, or for a single output plain
# gathers and elementwise products.
def _combine_forward(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    if (kernels := kernels_for(values, coef)) is not None:
        return kernels.forward(values, interval, coef)
    a, n, slots, _ = values.shape
    o = coef.shape[2]
    columns = _columns(interval, coef.shape[1], slots)
    padded = _padded(coef, slots)
    if o == 1:
        read = padded[:, 0][columns.long()].reshape(n, -1, 1)  # (N, S * C, 1)
        return torch.bmm(values.reshape(a, n, -1).transpose(0, 1), read).transpose(0, 1).contiguous()  # (A, N, 1)
    out = values.new_empty(a, n, o)
    for i in range(a):
        torch.mm(_csr(values[i], columns, padded.shape[0]), padded, out=out[i])
    return out


def _combine_gradients(
    grad: torch.Tensor, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor, need_values: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients for ``values`` (zeros unless ``need_values``: a first layer's values hold no parameters) and ``coef``."""
    if (kernels := kernels_for(values, coef)) is not None:
        return kernels.backward(grad, values, interval, coef, need_values)
    a, n, slots, c = values.shape
    nb, o = coef.shape[1:]
    k = slots - 1
    columns = _columns(interval, nb, slots)
    padded = _padded(coef, slots)
    if o == 1:
        read = padded[:, 0][columns.long()]  # (N, S, C)
        grad_values = (grad[..., None] * read).contiguous() if need_values else values.new_zeros(values.shape)
        flat = coef.new_zeros(padded.shape[0])
        flat.index_add_(0, columns.reshape(-1).long(), (values * grad[..., None]).sum(0).reshape(-1))
        return grad_values, flat.reshape(c, nb + 2 * k, 1)[:, k : k + nb].contiguous()
    # d/d values: each stored entry's coefficient row against the output gradient.
    grad_values = values.new_empty(values.shape) if need_values else values.new_zeros(values.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i in range(a if need_values else 0):
            sampled = torch.sparse.sampled_addmm(_csr(values[i], columns, padded.shape[0]), grad[i], padded.T, beta=0.0)
            grad_values[i] = sampled.values().reshape(values.shape[1:])
    # d/d coef: per point and channel the outer product (slot, output), summed into the
    # window of its interval; window j holds the coefficients j - k .. j.
    windows = coef.new_zeros(c * (nb + k), slots * o)
    rows = (interval + torch.arange(c, device=interval.device) * (nb + k)).reshape(-1)  # (N * C,)
    step = min(n, max(1, _CHUNK_NUMBERS // (c * slots * max(o, a))))
    # Buffers reused by every chunk: fresh large temporaries would each cost page faults.
    local = values.new_empty(step, c, slots, a)
    outer = values.new_empty(step, c * slots, o)
    for start in range(0, n, step):
        m = min(step, n - start)
        local[:m].copy_(values[:, start : start + m].permute(1, 3, 2, 0))  # (m, C, S, A)
        torch.bmm(local[:m].view(m, c * slots, a), grad[:, start : start + m].transpose(0, 1).contiguous(), out=outer[:m])
        windows.index_add_(0, rows[start * c : (start + m) * c], outer[:m].view(-1, slots * o))
    windows = windows.reshape(c, nb + k, slots, o)
    grad_coef = coef.new_zeros(c, nb + 2 * k, o)
    for s in range(slots):  # window j's slot s is padded row j + s
        grad_coef[:, s : s + nb + k] += windows[:, :, s]
    return grad_values, grad_coef[:, k : k + nb].contiguous()


class _Combine(torch.autograd.Function):
    """:func:`combine_bases` in eager code."""

    @staticmethod
    def forward(ctx, values, interval, coef):  # type: ignore[override]
        ctx.save_for_backward(values, interval, coef)
        return _combine_forward(values, interval, coef)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        values, interval, coef = ctx.saved_tensors
        need = ctx.needs_input_grad[0]
        grad_values, grad_coef = _combine_gradients(grad.contiguous(), values, interval, coef, need)
        return grad_values if need else None, None, grad_coef


# Under torch.compile the same kernels are opaque operators: it calls them as they
# are (its own gathers and scatters are slower on the CPU), and still fuses the
# elementwise work around them.
@torch.library.custom_op("pinnkan::combine_bases", mutates_args=())
def _combine(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    return _combine_forward(values, interval, coef)


@_combine.register_fake
def _(values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    return values.new_empty(values.shape[0], values.shape[1], coef.shape[2])


@torch.library.custom_op("pinnkan::combine_bases_backward", mutates_args=())
def _combine_backward(
    grad: torch.Tensor, values: torch.Tensor, interval: torch.Tensor, coef: torch.Tensor, need_values: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    return _combine_gradients(grad, values, interval, coef, need_values)


@_combine_backward.register_fake
def _(grad, values, interval, coef, need_values):  # type: ignore[no-untyped-def]
    return values.new_empty(values.shape), coef.new_empty(coef.shape)


def _combine_setup(ctx, inputs, output) -> None:  # type: ignore[no-untyped-def]
    ctx.save_for_backward(*inputs)


def _combine_grad(ctx, grad):  # type: ignore[no-untyped-def]
    values, interval, coef = ctx.saved_tensors
    need = ctx.needs_input_grad[0]
    grad_values, grad_coef = _combine_backward(grad.contiguous(), values, interval, coef, need)
    return grad_values if need else None, None, grad_coef


_combine.register_autograd(_combine_grad, setup_context=_combine_setup)


# The spline jet on the fused kernels. ``terms`` lists (a_0, r_0, a_1, r_1, ...) of the chain
# factors; ``order`` is k and ``derivatives`` the jet's order. Where the kernels do not
# build (compiled code has already chosen this path), the same sums on PyTorch operators
# stand in.
def _spline_jet_forward(x, factors, coef, knots, terms, order, derivatives, components):  # type: ignore[no-untyped-def]
    kernels = jet_kernels_for(x, coef, components, order + 1, derivatives)
    if kernels is None:
        interval, bases = local_bases(x, knots, order, derivatives, uniform=True)
        return _combine_forward(_composed(bases, factors, terms, components), interval, coef)
    return kernels.forward(x, factors, _terms(tuple(terms)), knots, _jet_table(order, derivatives, x.dtype), coef,
                           components)


def _spline_jet_gradients(grad, x, factors, coef, knots, terms, order, derivatives, need_inputs):  # type: ignore[no-untyped-def]
    kernels = jet_kernels_for(x, coef, grad.shape[0], order + 1, derivatives)
    if kernels is not None:
        return kernels.backward(grad, x, factors, _terms(tuple(terms)), knots,
                                _jet_table(order, derivatives, x.dtype), coef, need_inputs)
    # The kernels' formulas on PyTorch operators (no autograd: this may run inside an operator).
    interval, bases = local_bases(x, knots, order, derivatives + 1, uniform=True)
    values = _composed(bases[:-1], factors, terms, grad.shape[0])
    grad_values, grad_coef = _combine_gradients(grad, values, interval, coef, need_inputs)
    grad_x, grad_factors = torch.zeros_like(x), torch.zeros_like(factors)
    if need_inputs:
        grad_x += (grad_values[0] * bases[1]).sum(1)
        for t in range(len(terms) // 2):
            a, r = terms[2 * t], terms[2 * t + 1]
            grad_factors[t] = (grad_values[a] * bases[r]).sum(1)
            grad_x += factors[t] * (grad_values[a] * bases[r + 1]).sum(1)
    return grad_x, grad_factors, grad_coef


def _composed(bases: torch.Tensor, factors: torch.Tensor, terms: list[int], components: int) -> torch.Tensor:
    """Faà di Bruno's composition of the local bases (R + 1, N, S, C) from the stacked chain
    factors (T, N, C) and their ``terms``: (components, N, S, C)."""
    values = [bases[0], *[torch.zeros_like(bases[0])] * (components - 1)]
    for t in range(len(terms) // 2):
        a, r = terms[2 * t], terms[2 * t + 1]
        values[a] = values[a] + bases[r] * factors[t][:, None, :]
    return torch.stack(values)


class _SplineJet(torch.autograd.Function):
    """:func:`spline_jet` on the fused kernels in eager code."""

    @staticmethod
    def forward(ctx, x, factors, coef, knots, terms, order, derivatives, components):  # type: ignore[override]
        ctx.save_for_backward(x, factors, coef, knots)
        ctx.constants = (terms, order, derivatives)
        return _spline_jet_forward(x, factors, coef, knots, terms, order, derivatives, components)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        return _spline_jet_grad(ctx, grad, _spline_jet_gradients)


def _spline_jet_grad(ctx, grad, gradients=None):  # type: ignore[no-untyped-def]
    """The backward of :func:`spline_jet`'s operator and of :class:`_SplineJet`."""
    x, factors, coef, knots = ctx.saved_tensors
    need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
    grad_x, grad_factors, grad_coef = (gradients or _spline_jet_backward)(
        grad.contiguous(), x, factors, coef, knots, *ctx.constants, need)
    return (grad_x if ctx.needs_input_grad[0] else None, grad_factors if ctx.needs_input_grad[1] else None,
            grad_coef, None, None, None, None, None)


@torch.library.custom_op("pinnkan::spline_jet", mutates_args=())
def _spline_jet(x: torch.Tensor, factors: torch.Tensor, coef: torch.Tensor, knots: torch.Tensor, terms: list[int],
                order: int, derivatives: int, components: int) -> torch.Tensor:
    return _spline_jet_forward(x, factors, coef, knots, terms, order, derivatives, components)


@_spline_jet.register_fake
def _(x, factors, coef, knots, terms, order, derivatives, components):  # type: ignore[no-untyped-def]
    return x.new_empty(components, x.shape[0], coef.shape[2])


@torch.library.custom_op("pinnkan::spline_jet_backward", mutates_args=())
def _spline_jet_backward(grad: torch.Tensor, x: torch.Tensor, factors: torch.Tensor, coef: torch.Tensor,
                         knots: torch.Tensor, terms: list[int], order: int, derivatives: int, need_inputs: bool
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return _spline_jet_gradients(grad, x, factors, coef, knots, terms, order, derivatives, need_inputs)


@_spline_jet_backward.register_fake
def _(grad, x, factors, coef, knots, terms, order, derivatives, need_inputs):  # type: ignore[no-untyped-def]
    return torch.empty_like(x), torch.empty_like(factors), torch.empty_like(coef)


def _spline_jet_setup(ctx, inputs, output) -> None:  # type: ignore[no-untyped-def]
    ctx.save_for_backward(*inputs[:4])
    ctx.constants = tuple(inputs[4:7])


_spline_jet.register_autograd(_spline_jet_grad, setup_context=_spline_jet_setup)
