"""Property-based tests of the B-spline maths: identities, finite differences and dense vs sparse evaluation.

Knot vectors are drawn at random (grid size, order, uniform or non-uniform grid
points, extended or clamped layout, one to three channels); every property is
checked against something independent of the code under test: an identity of
B-splines, central finite differences in float64, numpy's interval search, or
the dense evaluation for the sparse one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pinnkan.models.kan import KAN, KANLayer
from pinnkan.models.local_splines import combine_bases, is_uniform, local_bases
from pinnkan.models.splines import (
    KNOT_LAYOUTS,
    bspline_basis,
    bspline_basis_derivative,
    fit_coefficients,
    knots_from_grid,
    uniform_knots,
)

F64 = torch.float64
FAST = settings(max_examples=30, deadline=None)
SLOW = settings(max_examples=10, deadline=None)
EPS = float(torch.finfo(F64).eps)


@dataclass(frozen=True)
class Knots:
    """A drawn knot vector and how it was built."""

    knots: torch.Tensor  # (C, M)
    grid: torch.Tensor  # (C, G + 1)
    order: int
    layout: str
    uniform: bool

    @property
    def channels(self) -> int:
        return self.knots.shape[0]

    @property
    def n_basis(self) -> int:
        return self.knots.shape[1] - self.order - 1

    @property
    def rounding(self) -> float:
        """How far below zero a basis may round: the recursion's weights ``x / h - t / h`` err by ``eps |t| / h``."""
        steps = self.knots[:, 1:] - self.knots[:, :-1]
        return 8 * EPS * (1.0 + float(self.knots.abs().max()) / float(steps[steps > 0].min()))


@st.composite
def knot_vectors(draw: st.DrawFn, min_order: int = 0, max_order: int = 5) -> Knots:
    """Knots of ``C`` channels sharing ``G`` and ``k``; grid ranges from 0.01 to 20 wide, spacings within 20x."""
    order = draw(st.integers(min_order, max_order))
    grid_size = draw(st.integers(1, 10))
    channels = draw(st.integers(1, 3))
    layout = draw(st.sampled_from(KNOT_LAYOUTS))
    uniform = draw(st.booleans())
    lo = draw(hnp.arrays(np.float64, channels, elements=st.floats(-10.0, 10.0)))
    width = 10.0 ** draw(hnp.arrays(np.float64, channels, elements=st.floats(-2.0, 1.3)))
    if uniform:
        steps = np.ones((channels, grid_size))
    else:
        steps = draw(hnp.arrays(np.float64, (channels, grid_size), elements=st.floats(0.05, 1.0)))
    fractions = np.concatenate([np.zeros((channels, 1)), np.cumsum(steps, axis=1)], axis=1)
    fractions /= fractions[:, -1:]
    grid = torch.tensor(lo[:, None] + width[:, None] * fractions)
    if uniform and layout == "extended":
        knots = uniform_knots(torch.tensor(lo), torch.tensor(lo + width), grid_size, order)
        grid = knots[:, order : order + grid_size + 1]  # as rounded there: its end may differ from lo + width by an ulp
    else:
        knots = knots_from_grid(grid, order, layout)  # type: ignore[arg-type]
    return Knots(knots, grid, order, layout, uniform)


def points_in_grid(draw: st.DrawFn, spec: Knots, count: int = 24) -> torch.Tensor:
    """Random points of every channel's grid range, followed by the grid points themselves, (N, C)."""
    unit = draw(hnp.arrays(np.float64, (count, spec.channels), elements=st.floats(0.0, 1.0)))
    lo, hi = spec.grid[:, 0], spec.grid[:, -1]
    return torch.cat([lo + torch.tensor(unit) * (hi - lo), spec.grid.T])


def points_in_intervals(draw: st.DrawFn, spec: Knots, count: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Points strictly inside non-empty knot intervals (10%..90% across), and each one's interval width, (N, C)."""
    t = spec.knots
    widths = t[:, 1:] - t[:, :-1]  # (C, M - 1)
    # Every channel has the same non-empty intervals: all of them (extended) or the grid's (clamped).
    nonempty = np.flatnonzero((widths > 0).all(0).numpy())
    which = torch.tensor(draw(st.lists(st.sampled_from(nonempty.tolist()), min_size=count, max_size=count)))
    fraction = torch.tensor(draw(hnp.arrays(np.float64, (count, spec.channels), elements=st.floats(0.1, 0.9))))
    left = t[:, which].T  # (N, C)
    width = widths[:, which].T
    return left + fraction * width, width


def off_knots(x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """Whether each point (N, C) is farther than rounding (``1e-12`` of the span) from every knot of its channel."""
    span = knots[:, -1] - knots[:, 0]
    distance = (x[:, :, None] - knots[None]).abs().min(-1).values
    return distance > 1e-12 * span


def dense_interval(x: torch.Tensor, knots: torch.Tensor) -> np.ndarray:
    """Knot interval ``j`` with ``t_j <= x < t_{j+1}`` by numpy, the last non-empty one closed, (N, C)."""
    out = np.empty(x.shape, dtype=np.int64)
    for c in range(knots.shape[0]):
        t = knots[c].numpy()
        last = int(np.flatnonzero(t[1:] > t[:-1])[-1])
        out[:, c] = np.minimum(np.searchsorted(t, x[:, c].numpy(), side="right") - 1, last)
    return out


@st.composite
def knots_and_grid_points(draw: st.DrawFn) -> tuple[Knots, torch.Tensor]:
    spec = draw(knot_vectors())
    return spec, points_in_grid(draw, spec)


# ----------------------------------------------------------------- the dense basis


@FAST
@given(knots_and_grid_points())
def test_bases_are_a_nonnegative_partition_of_unity_on_the_grid(case: tuple[Knots, torch.Tensor]) -> None:
    """``sum_i B_i(x) = 1`` and ``B_i(x) >= 0`` on ``[lo, hi]``, both ends included.

    At a knot the bases that vanish there come out as rounding errors of either sign
    (the recursion forms ``(x - t_i) / (t_{i+p} - t_i)`` as one fused ``x * a - b``), hence
    ``>= -rounding``, a few ulps of ``|t| / h``.
    """
    spec, x = case
    basis = bspline_basis(x, spec.knots, spec.order)
    assert basis.shape == (x.shape[0], spec.channels, spec.n_basis)
    assert float(basis.min()) >= -spec.rounding
    torch.testing.assert_close(basis.sum(-1), torch.ones_like(x), rtol=0, atol=1e-12)


@FAST
@given(knots_and_grid_points())
def test_derivatives_of_the_partition_of_unity_vanish(case: tuple[Knots, torch.Tensor]) -> None:
    """``sum_i B_i^(r)(x) = 0`` on the grid for ``r = 1 .. k``, relative to the size of the terms.

    The k-th derivative jumps at knots and is taken from the right, so at ``hi`` of the
    extended layout it sees the interval beyond the grid: there only ``r < k`` is checked.
    """
    spec, x = case
    beyond = x >= spec.grid[:, -1]
    for r in range(1, spec.order + 1):
        values = bspline_basis_derivative(x, spec.knots, spec.order, r)
        ok = values.sum(-1).abs() <= 1e-11 * (1 + values.abs().sum(-1))
        if r == spec.order and spec.layout == "extended":
            ok |= beyond
        assert bool(ok.all())


@FAST
@given(knot_vectors(), st.data())
def test_support_is_local_everywhere_in_and_around_the_span(spec: Knots, data: st.DataObject) -> None:
    """At most ``k + 1`` bases are non-zero at a point: those ``j - k .. j`` of its interval; none outside the span."""
    t0, t1 = spec.knots[:, 0], spec.knots[:, -1]
    span = t1 - t0
    unit = torch.tensor(data.draw(hnp.arrays(np.float64, (30, spec.channels), elements=st.floats(-0.2, 1.2))))
    x = t0 + unit * span
    basis = bspline_basis(x, spec.knots, spec.order)
    assert float(basis.min()) >= -spec.rounding
    interval = dense_interval(x, spec.knots)
    index = np.arange(spec.n_basis)
    outside = ((x < t0) | (x > t1)).numpy()
    for n, c in np.ndindex(*x.shape):
        nonzero = np.flatnonzero(basis[n, c].numpy() != 0)
        assert len(nonzero) <= spec.order + 1
        if outside[n, c]:
            assert len(nonzero) == 0, (x[n, c], nonzero)
        else:
            j = interval[n, c]
            assert set(nonzero) <= set(index[(index >= j - spec.order) & (index <= j)]), (j, nonzero)


@st.composite
def knots_and_interval_points(draw: st.DrawFn, min_order: int = 1) -> tuple[Knots, torch.Tensor, torch.Tensor]:
    spec = draw(knot_vectors(min_order=min_order))
    return (spec, *points_in_intervals(draw, spec))


@FAST
@given(knots_and_interval_points())
def test_basis_derivatives_match_central_differences(case: tuple[Knots, torch.Tensor, torch.Tensor]) -> None:
    """``B^(r)(x) = (B^(r-1)(x + h) - B^(r-1)(x - h)) / 2h`` inside an interval, ``h = 1e-5`` of its width."""
    spec, x, width = case
    h = 1e-5 * width
    for r in range(1, spec.order + 1):
        exact = bspline_basis_derivative(x, spec.knots, spec.order, r)
        above = bspline_basis_derivative(x + h, spec.knots, spec.order, r - 1)
        below = bspline_basis_derivative(x - h, spec.knots, spec.order, r - 1)
        fd = (above - below) / (2 * h[..., None])
        torch.testing.assert_close(exact, fd, rtol=1e-6, atol=1e-7 * float(fd.abs().max()))


@FAST
@given(knots_and_interval_points(min_order=2), st.integers(0, 2**32 - 1))
def test_autograd_derivatives_of_a_spline_curve_match_central_differences(
    case: tuple[Knots, torch.Tensor, torch.Tensor], seed: int
) -> None:
    """Nested autograd of ``s(x) = sum_i c_i B_i(x)`` against central differences of the previous order."""
    spec, x, width = case
    coef = torch.randn(spec.channels, spec.n_basis, generator=torch.Generator().manual_seed(seed), dtype=F64)

    def curve(points: torch.Tensor) -> torch.Tensor:
        return (bspline_basis(points, spec.knots, spec.order) * coef).sum(-1)  # (N, C)

    h = 1e-5 * width
    x = x.clone().requires_grad_(True)
    derivatives = [curve(x)]  # d^r s / dx^r at x, for r = 0 .. k
    for _ in range(spec.order):
        (grad,) = torch.autograd.grad(derivatives[-1].sum(), x, create_graph=True)
        derivatives.append(grad)
    for r in range(1, spec.order + 1):
        def previous(points: torch.Tensor, r: int = r) -> torch.Tensor:
            points = points.detach().requires_grad_(True)
            value = curve(points)
            for _ in range(r - 1):
                (value,) = torch.autograd.grad(value.sum(), points, create_graph=True)
            return value.detach()

        fd = (previous(x + h) - previous(x - h)) / (2 * h)
        torch.testing.assert_close(derivatives[r].detach(), fd, rtol=1e-6, atol=1e-7 * float(fd.abs().max()))
        # The closed-form derivative bases give the same curve derivative.
        closed = (bspline_basis_derivative(x.detach(), spec.knots, spec.order, r) * coef).sum(-1)
        torch.testing.assert_close(derivatives[r].detach(), closed, rtol=1e-12, atol=1e-12 * float(closed.abs().max()))


@SLOW
@given(knot_vectors(), st.integers(0, 2**32 - 1))
def test_least_squares_recovers_the_coefficients_of_a_spline(spec: Knots, seed: int) -> None:
    """Fitting ``y = B(x) c`` sampled densely over the whole grid returns ``c``."""
    generator = torch.Generator().manual_seed(seed)
    coef = torch.randn(spec.channels, spec.n_basis, 2, generator=generator, dtype=F64)
    if spec.layout == "extended":
        # The outermost bases reach into the grid only over the first and last intervals; sample the whole span.
        lo, hi = spec.knots[:, 0], spec.knots[:, -1]
    else:
        lo, hi = spec.grid[:, 0], spec.grid[:, -1]
    x = lo + torch.linspace(0, 1, 20 * spec.n_basis + 1, dtype=F64)[:, None] * (hi - lo)
    y = torch.einsum("ncb,cbo->nco", bspline_basis(x, spec.knots, spec.order), coef)
    fitted = fit_coefficients(x, y, spec.knots, spec.order)
    torch.testing.assert_close(fitted, coef, rtol=0, atol=1e-8)


@FAST
@given(st.floats(-10, 10), st.floats(-10.0, 0.0), st.integers(1, 6), st.integers(0, 4))
def test_empty_or_reversed_grid_ranges_are_refused(lo: float, width: float, grid_size: int, order: int) -> None:
    """``hi <= lo`` is a ValueError, both for uniform knots and for grid points."""
    lo_t, hi_t = torch.tensor([lo], dtype=F64), torch.tensor([lo + width], dtype=F64)
    with pytest.raises(ValueError, match="lo < hi"):
        uniform_knots(lo_t, hi_t, grid_size, order)
    grid = torch.linspace(0, 1, grid_size + 1, dtype=F64)[None] * (hi_t - lo_t) + lo_t
    with pytest.raises(ValueError, match="strictly increasing"):
        knots_from_grid(grid, order)


# ----------------------------------------------------------------- sparse against dense


@st.composite
def knots_and_points_around(draw: st.DrawFn) -> tuple[Knots, torch.Tensor, bool]:
    """Knots (orders 0..8), points over and beyond the knot span and its knots, and a uniform flag to pass."""
    spec = draw(knot_vectors(max_order=8))
    t0, t1 = spec.knots[:, 0], spec.knots[:, -1]
    unit = torch.tensor(draw(hnp.arrays(np.float64, (30, spec.channels), elements=st.floats(-0.1, 1.1))))
    x = torch.cat([t0 + unit * (t1 - t0), spec.knots.T, spec.grid.T])
    # The cardinal pieces apply only to equally spaced knots; the recursion to any.
    uniform = draw(st.booleans()) and is_uniform(spec.knots)
    return spec, x, uniform


def _gather(dense: torch.Tensor, interval: torch.Tensor, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense bases (N, C, nb) at the slots of ``interval``: (N, k + 1, C), and which slots name a basis."""
    slots = interval[:, None, :] + torch.arange(order + 1)[:, None] - order  # (N, k+1, C)
    named = (slots >= 0) & (slots < dense.shape[-1])
    picked = torch.gather(dense.transpose(1, 2), 1, slots.clamp(0, dense.shape[-1] - 1))
    return torch.where(named, picked, torch.zeros_like(picked)), named


@FAST
@given(knots_and_points_around())
def test_local_bases_agree_with_the_dense_bases(case: tuple[Knots, torch.Tensor, bool]) -> None:
    """Every derivative of the ``k + 1`` local bases equals the dense one in its slot; zero outside the span."""
    spec, x, uniform = case
    k = spec.order
    interval, values = local_bases(x, spec.knots, k, k + 1, uniform=uniform)
    assert values.shape == (k + 2, x.shape[0], k + 1, spec.channels)
    inside = (x >= spec.knots[:, 0]) & (x <= spec.knots[:, -1])
    strict = inside & off_knots(x, spec.knots)
    # Away from knots the interval is the one numpy finds; within rounding of one either neighbour serves (k >= 1).
    assert bool((interval[strict] == torch.from_numpy(dense_interval(x, spec.knots))[strict]).all())
    for r in range(k + 1):
        dense = bspline_basis_derivative(x, spec.knots, k, r)
        expected, named = _gather(dense, interval, k)
        got = torch.where(named, values[r], torch.zeros_like(values[r]))
        # The k-th derivative jumps at knots; the cardinal path's rounded quotient may place
        # a point within rounding of a knot in the interval on its other side. Compare it off the knots.
        keep = (strict | ~inside) if uniform and r == k else torch.ones_like(inside)
        got, expected = got * keep[:, None, :], expected * keep[:, None, :]
        scale = 1.0 + float(expected.abs().max())
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-9 * scale)
        # Nothing is lost: the named slots carry every non-zero dense basis.
        torch.testing.assert_close(got.sum(1), dense.sum(-1) * keep, rtol=0, atol=1e-9 * scale)
    assert bool((values.abs().sum((0, 2))[~inside] == 0).all())
    assert bool((values[k + 1] == 0).all())  # past the order every derivative is zero


@FAST
@given(knots_and_points_around(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_combined_local_bases_equal_the_dense_spline(
    case: tuple[Knots, torch.Tensor, bool], outputs: int, seed: int
) -> None:
    """``combine_bases`` equals ``sum_c sum_i B_i(x_c) coef[c, i]``, values and both gradients."""
    spec, x, uniform = case
    k = spec.order
    coef = torch.randn(spec.channels, spec.n_basis, outputs, generator=torch.Generator().manual_seed(seed), dtype=F64)
    interval, values = local_bases(x, spec.knots, k, 1, uniform=uniform)
    dense = torch.stack([bspline_basis_derivative(x, spec.knots, k, r) for r in range(min(k, 1) + 1)])
    if k == 0:
        dense = torch.cat([dense, torch.zeros_like(dense)])
    if uniform and k == 1:  # the first derivative is the k-th: one-sided at knots (see the test above)
        keep = off_knots(x, spec.knots) | (x < spec.knots[:, 0]) | (x > spec.knots[:, -1])
        dense[1] *= keep[..., None]
        values = torch.stack([values[0], values[1] * keep[:, None, :]])
    expected = torch.einsum("anci,cio->ano", dense, coef)

    values = values.clone().requires_grad_(True)
    sparse_coef = coef.clone().requires_grad_(True)
    got = combine_bases(values, interval, sparse_coef)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-9 * (1.0 + float(expected.abs().max())))

    # Gradients against those of the same sum written densely over the slots.
    weights = torch.randn(got.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=F64)
    grad_values, grad_coef = torch.autograd.grad((got * weights).sum(), (values, sparse_coef))
    dense_values = values.detach().clone().requires_grad_(True)
    dense_coef = coef.clone().requires_grad_(True)
    slots = interval[:, None, :] + torch.arange(k + 1)[:, None] - k  # (N, k+1, C)
    named = (slots >= 0) & (slots < spec.n_basis)
    rows = coef.new_zeros(x.shape[0], k + 1, spec.channels, spec.n_basis)
    rows.scatter_(3, slots.clamp(0, spec.n_basis - 1)[..., None], named[..., None].to(F64))
    reference = torch.einsum("ansc,nsci,cio->ano", dense_values, rows, dense_coef)
    ref_values, ref_coef = torch.autograd.grad((reference * weights).sum(), (dense_values, dense_coef))
    torch.testing.assert_close(grad_coef, ref_coef, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_values * named, ref_values * named, rtol=1e-10, atol=1e-10)


@FAST
@given(knots_and_interval_points())
def test_local_bases_backward_is_the_next_derivative(case: tuple[Knots, torch.Tensor, torch.Tensor]) -> None:
    """The backward of the local bases' (k-1)-th derivatives (a weighted sum) equals central differences of them."""
    spec, x, width = case
    k = spec.order
    uniform = is_uniform(spec.knots)
    x = x.clone().requires_grad_(True)
    _, values = local_bases(x, spec.knots, k, k - 1, uniform=uniform)
    weights = torch.linspace(-1, 1, k + 1, dtype=F64)[:, None]  # one weight per slot, so the sum is not constant
    (grad,) = torch.autograd.grad((values[k - 1] * weights).sum(), x)
    h = 1e-5 * width
    _, above = local_bases(x.detach() + h, spec.knots, k, k - 1, uniform=uniform)
    _, below = local_bases(x.detach() - h, spec.knots, k, k - 1, uniform=uniform)
    fd = ((above[k - 1] - below[k - 1]) * weights).sum(1) / (2 * h)
    scale = float((above[k - 1].abs().sum(1) / width).max())  # the size of a next derivative; fd may cancel to 0
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-7 * scale)


# ----------------------------------------------------------------- grid extension


@SLOW
@given(
    st.integers(1, 6),
    st.integers(1, 4),
    st.sampled_from(KNOT_LAYOUTS),
    st.integers(2, 3),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_grid_extension_to_a_multiple_keeps_the_layer_function(
    grid_size: int, order: int, layout: str, factor: int, update_first: bool, seed: int
) -> None:
    """``KANLayer.extend_grid(m G)`` subdivides every interval, so the layer is unchanged on its grid range."""
    torch.manual_seed(seed)
    layer = KANLayer(2, 3, grid_size=grid_size, spline_order=order, knot_layout=layout, spline_init_std=1.0, dtype=F64)
    if update_first:  # non-uniform knots placed at skewed data
        layer.update_grid(torch.rand(64, 2, dtype=F64) ** 3 * 1.6 - 0.8)
    lo, hi = layer.grid_range
    x = lo + torch.rand(200, 2, dtype=F64) * (hi - lo)
    x = torch.cat([x, layer.grid.T])
    with torch.no_grad():
        before = layer(x)
        old_grid = layer.grid.clone()
        layer.extend_grid(factor * grid_size)
        after = layer(x)
    assert layer.grid_size == factor * grid_size
    torch.testing.assert_close(layer.grid[:, ::factor], old_grid, rtol=0, atol=1e-12)
    torch.testing.assert_close(after, before, rtol=0, atol=1e-9 * (1.0 + float(before.abs().max())))
    with pytest.raises(ValueError, match="larger grid"):
        layer.extend_grid(layer.grid_size)


@SLOW
@given(st.integers(2, 5), st.integers(2, 3), st.integers(0, 2**32 - 1))
def test_network_grid_extension_keeps_the_network_and_its_derivatives(grid_size: int, order: int, seed: int) -> None:
    """``KAN.extend_grid(2 G)`` keeps the output and its gradient on the input box (hidden values squashed)."""
    torch.manual_seed(seed)
    net = KAN((2, 3, 1), grid_size=grid_size, spline_order=order, input_bounds=((0.0, -2.0), (1.0, 3.0)),
              squash_hidden=True, spline_init_std=1.0, dtype=F64)
    x = (torch.rand(100, 2, dtype=F64) * torch.tensor([1.0, 5.0], dtype=F64) + torch.tensor([0.0, -2.0], dtype=F64))
    x.requires_grad_(True)
    before = net(x)
    (grad_before,) = torch.autograd.grad(before.sum(), x)
    net.extend_grid(2 * grid_size)
    after = net(x)
    (grad_after,) = torch.autograd.grad(after.sum(), x)
    torch.testing.assert_close(after, before, rtol=0, atol=1e-9)
    torch.testing.assert_close(grad_after, grad_before, rtol=0, atol=1e-8 * (1.0 + float(grad_before.abs().max())))
