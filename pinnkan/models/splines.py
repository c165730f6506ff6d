"""Pure B-spline functions: knot vectors, basis values and derivatives, least squares.

Everything here is a function of tensors, batched over a leading "input channel"
axis so that one call evaluates the bases of every edge of a KAN layer.

Conventions
-----------
A grid of ``G`` intervals on ``[lo, hi]`` with spline order (degree) ``k`` uses the
extended uniform knot vector ``t_i = lo + (i - k) h``, ``i = 0 .. G + 2k``,
``h = (hi - lo) / G``. It carries ``G + k`` basis functions, which sum to one on
``[lo, hi]`` (partition of unity) and vanish outside ``[t_0, t_{G+2k}]``.

The open (clamped) layout repeats ``lo`` and ``hi`` ``k + 1`` times instead; its
``G + k`` bases also sum to one on ``[lo, hi]`` and vanish outside it. Both layouts
are built from the ``G + 1`` grid points ``t_k .. t_{G+k}`` by :func:`knots_from_grid`,
which also serves non-uniform (e.g. data-adapted) grids. On the closed right end of
the knot span the bases take their limits from the left, so a clamped spline is
defined at ``hi``.
"""

from __future__ import annotations

from typing import Literal

import torch

from ..errors import InputValueError

KnotLayout = Literal["extended", "clamped"]
KNOT_LAYOUTS: tuple[str, ...] = ("extended", "clamped")

__all__ = [
    "KNOT_LAYOUTS",
    "uniform_knots",
    "knots_from_grid",
    "grid_of",
    "bspline_basis",
    "bspline_basis_derivative",
    "fit_coefficients",
]


def uniform_knots(
    lo: torch.Tensor, hi: torch.Tensor, grid_size: int, order: int
) -> torch.Tensor:
    """Extended uniform knot vectors, one per channel.

    Parameters
    ----------
    lo, hi : torch.Tensor, shape (C,)
        Grid range of each channel, ``lo < hi``.
    grid_size : int
        Number of intervals ``G`` inside ``[lo, hi]``.
    order : int
        Spline order (polynomial degree) ``k``.

    Returns
    -------
    torch.Tensor, shape (C, G + 2k + 1)
        ``t_i = lo + (i - k) (hi - lo) / G``.
    """
    if grid_size < 1:
        raise InputValueError(f"grid_size must be a positive int, got {grid_size}")
    if order < 0:
        raise InputValueError(f"spline order must be >= 0, got {order}")
    if not bool(torch.all(hi > lo)):
        raise InputValueError("every grid range needs lo < hi; widen the range")
    steps = torch.arange(-order, grid_size + order + 1, dtype=lo.dtype, device=lo.device)
    h = (hi - lo) / grid_size
    return lo[:, None] + steps[None, :] * h[:, None]


def knots_from_grid(grid: torch.Tensor, order: int, layout: KnotLayout = "extended") -> torch.Tensor:
    """Full knot vectors from increasing grid points, one row per channel.

    Parameters
    ----------
    grid : torch.Tensor, shape (C, G + 1)
        Strictly increasing grid points ``lo = g_0 < ... < g_G = hi`` of each channel.
    order : int
        Spline order ``k``.
    layout : {"extended", "clamped"}
        ``"extended"`` continues the first and last grid spacing ``k`` times beyond
        each end; ``"clamped"`` repeats each end ``k`` more times.

    Returns
    -------
    torch.Tensor, shape (C, G + 2k + 1)
    """
    if layout not in KNOT_LAYOUTS:
        raise InputValueError(f"knot layout must be one of {KNOT_LAYOUTS}, got {layout!r}")
    if grid.ndim != 2 or grid.shape[1] < 2:
        raise InputValueError(f"grid must have shape (C, G + 1) with G >= 1, got {tuple(grid.shape)}")
    if not bool(torch.all(grid[:, 1:] > grid[:, :-1])):
        raise InputValueError("grid points must be strictly increasing in every channel; merge repeated points")
    steps = torch.arange(1, order + 1, dtype=grid.dtype, device=grid.device)
    if layout == "extended":
        left = grid[:, :1] - (grid[:, 1:2] - grid[:, :1]) * steps.flip(0)
        right = grid[:, -1:] + (grid[:, -1:] - grid[:, -2:-1]) * steps
    else:
        left = grid[:, :1].expand(-1, order)
        right = grid[:, -1:].expand(-1, order)
    return torch.cat([left, grid, right], dim=1)


def grid_of(knots: torch.Tensor, order: int) -> torch.Tensor:
    """The grid points ``t_k .. t_{M-k-1}`` of full knot vectors, shape (C, G + 1)."""
    return knots[:, order : knots.shape[1] - order]


def bspline_basis(x: torch.Tensor, knots: torch.Tensor, order: int) -> torch.Tensor:
    """Values of all B-spline basis functions by the Cox–de Boor recursion.

    ``B_{i,0} = 1[t_i <= x < t_{i+1}]`` and
    ``B_{i,p} = (x - t_i)/(t_{i+p} - t_i) B_{i,p-1} + (t_{i+p+1} - x)/(t_{i+p+1} - t_{i+1}) B_{i+1,p-1}``.

    Differentiable in ``x`` to any order by autograd, through a compact graph: the
    derivative of the basis is the closed-form derivative basis (see
    :func:`bspline_basis_derivative`), so nested autograd through a network costs a
    few products per derivative order instead of the whole recursion. The knots
    receive no gradient.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C)
        Points, one column per channel.
    knots : torch.Tensor, shape (C, M)
        Non-decreasing knot vector of each channel.
    order : int
        Spline order ``k``.

    Returns
    -------
    torch.Tensor, shape (N, C, M - k - 1)
    """
    return _BasisDerivative.apply(x, knots, order, 0, None)


def bspline_basis_derivative(
    x: torch.Tensor, knots: torch.Tensor, order: int, derivative: int
) -> torch.Tensor:
    """Derivatives of all B-spline basis functions, in closed form.

    ``B'_{i,p} = p/(t_{i+p} - t_i) B_{i,p-1} - p/(t_{i+p+1} - t_{i+1}) B_{i+1,p-1}``,
    applied ``derivative`` times. Differentiable in ``x`` like :func:`bspline_basis`.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C)
    knots : torch.Tensor, shape (C, M)
    order : int
        Spline order ``k``.
    derivative : int
        Order of the derivative, ``0 <= derivative <= k``.

    Returns
    -------
    torch.Tensor, shape (N, C, M - k - 1)
    """
    if not 0 <= derivative <= order:
        raise InputValueError(
            f"derivative {derivative} of a spline of order {order} is not available; "
            f"ask for 0..{order} or raise the spline order"
        )
    return _BasisDerivative.apply(x, knots, order, derivative, None)


def _levels(x: torch.Tensor, knots: torch.Tensor, order: int) -> list[torch.Tensor]:
    """Bases of every order 0..k at ``x`` (no autograd), shapes (N, C, M - 1 - p).

    Uses ``B_{i,p} = w_{i,p} B_{i,p-1} + (1 - w_{i+1,p}) B_{i+1,p-1}`` with
    ``w_{i,p} = (x - t_i) / (t_{i+p} - t_i)``: four full-size operations per order.
    """
    xe = x.unsqueeze(-1)  # (N, C, 1)
    t = knots.unsqueeze(0)  # (1, C, M)
    # The last non-empty interval is closed on the right, so x = t_{M-1} gets the
    # left limits (zero for simple end knots, one for clamped ones): its upper
    # bound moves to the next float (knot-sized work, not point-sized).
    upper = t[..., 1:]
    end = t[..., -1:]
    last = (upper == end) & (t[..., :-1] < end)
    upper = torch.where(last, torch.nextafter(end, torch.full_like(end, torch.inf)), upper)
    basis = ((xe >= t[..., :-1]) & (xe < upper)).to(x.dtype)  # (N, C, M-1)
    levels = [basis]
    for p in range(1, order + 1):
        inv = _reciprocal(t[..., p:] - t[..., :-p])  # (1, C, M-p)
        w = torch.addcmul(-t[..., :-p] * inv, xe, inv)  # (N, C, M-p)
        q = w * basis  # w_{i,p} B_{i,p-1}, i = 0 .. M-p-1
        basis = q[..., :-1] + basis[..., 1:] - q[..., 1:]
        levels.append(basis)
    return levels


def _derive(levels: list[torch.Tensor], knots: torch.Tensor, order: int, derivative: int) -> torch.Tensor:
    """The ``derivative``-th derivative of the order-``k`` bases from the lower levels."""
    basis = levels[order - derivative]
    t = knots.unsqueeze(0)
    for p in range(order - derivative + 1, order + 1):
        left = p * _reciprocal(t[..., p:-1] - t[..., : -(p + 1)])
        right = p * _reciprocal(t[..., p + 1 :] - t[..., 1:-p])
        basis = left * basis[..., :-1] - right * basis[..., 1:]
    return basis


class _BasisDerivative(torch.autograd.Function):
    """``x -> B^{(d)}(x)`` whose backward is ``grad * B^{(d+1)}(x)`` (zero past order k).

    The recursion levels are computed once and shared by all derivative orders. They
    go through ``save_for_backward``: the output can be one of them, and keeping it
    as a plain attribute of ``ctx`` would make a reference cycle (output -> its
    ``grad_fn`` -> ``ctx`` -> output) that holds every step's tensors until Python's
    garbage collector happens to run.
    """

    @staticmethod
    def forward(ctx, x, knots, order, derivative, levels):  # type: ignore[override]
        if levels is None:
            levels = _levels(x.detach(), knots, order)
        ctx.save_for_backward(x, knots, *levels)
        ctx.order, ctx.derivative = order, derivative
        return _derive(levels, knots, order, derivative)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, knots, *levels = ctx.saved_tensors
        if ctx.derivative == ctx.order:
            return torch.zeros_like(x), None, None, None, None
        slope = _BasisDerivative.apply(x, knots, ctx.order, ctx.derivative + 1, levels)
        return (grad * slope).sum(-1), None, None, None, None


def fit_coefficients(
    x: torch.Tensor, y: torch.Tensor, knots: torch.Tensor, order: int, ridge: float = 0.0
) -> torch.Tensor:
    """Least-squares spline coefficients of sampled curves, channel by channel.

    Solves ``min_c ||B(x) c - y||^2 + ridge ||c||^2`` for every channel and output.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C)
        Sample points of each channel.
    y : torch.Tensor, shape (N, C, O)
        Curve values at those points, ``O`` curves per channel.
    knots : torch.Tensor, shape (C, M)
    order : int
    ridge : float
        Tikhonov weight, ``>= 0``; a small value keeps bases without samples at zero.

    Returns
    -------
    torch.Tensor, shape (C, M - k - 1, O)
    """
    if x.ndim != 2 or y.ndim != 3 or y.shape[:2] != x.shape:
        raise InputValueError(
            f"expected x of shape (N, C) and y of shape (N, C, O); got {tuple(x.shape)} "
            f"and {tuple(y.shape)}"
        )
    if ridge < 0:
        raise InputValueError(f"ridge must be >= 0, got {ridge}")
    a = bspline_basis(x, knots, order).permute(1, 0, 2)  # (C, N, nb)
    b = y.permute(1, 0, 2)  # (C, N, O)
    if ridge > 0:
        nb = a.shape[-1]
        eye = torch.eye(nb, dtype=a.dtype, device=a.device).expand(a.shape[0], nb, nb)
        a = torch.cat([a, ridge**0.5 * eye], dim=1)
        b = torch.cat([b, b.new_zeros(b.shape[0], nb, b.shape[2])], dim=1)
    # On the CPU, the default driver (gelsy) gives answers that differ in the last bits
    # with the memory layout; gelsd (SVD) gives the same bits every run. CUDA has only gels.
    driver = "gelsd" if a.device.type == "cpu" else None
    return torch.linalg.lstsq(a, b, driver=driver).solution


def _reciprocal(den: torch.Tensor) -> torch.Tensor:
    # Repeated knots give 0/0 terms whose basis factor is zero; use 0 for 1/0.
    return torch.where(den == 0, torch.zeros_like(den), 1.0 / den)



