"""B-spline basis, derivatives and least squares against scipy and identities."""

import gc

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from pinnkan.models.kan import KAN
from pinnkan.models.splines import (
    bspline_basis,
    bspline_basis_derivative,
    fit_coefficients,
    uniform_knots,
)

F64 = torch.float64


def _knots(lo, hi, grid_size, order):
    return uniform_knots(torch.tensor(lo, dtype=F64), torch.tensor(hi, dtype=F64), grid_size, order)


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("derivative", [0, 1, 2])
def test_basis_and_derivatives_match_scipy(order, derivative):
    knots = _knots([-1.0, 0.5], [1.0, 3.0], 6, order)
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(-1, 1, 200), rng.uniform(0.5, 3.0, 200)])
    values = bspline_basis_derivative(torch.tensor(x), knots, order, derivative).numpy()
    for c in range(2):
        t = knots[c].numpy()
        n_basis = len(t) - order - 1
        expected = np.stack(
            [BSpline(t, np.eye(n_basis)[i], order).derivative(derivative)(x[:, c]) for i in range(n_basis)],
            axis=1,
        )
        np.testing.assert_allclose(values[:, c], expected, rtol=0, atol=1e-12 * max(1.0, np.abs(expected).max()))


def test_nonuniform_knots_match_scipy():
    t = np.array([[-2.0, -1.5, -1.0, -0.2, 0.1, 0.7, 1.0, 1.6, 2.0]])
    x = np.linspace(-0.2, 0.699, 50)[:, None]  # the base interval [t_3, t_5]
    values = bspline_basis(torch.tensor(x), torch.tensor(t), 3).numpy()[:, 0]
    expected = BSpline.design_matrix(x[:, 0], t[0], 3).toarray()
    np.testing.assert_allclose(values, expected, atol=1e-13)


def test_partition_of_unity_inside_grid():
    knots = _knots([0.0], [2.0], 7, 3)
    x = torch.linspace(0.0, 2.0 - 1e-12, 301, dtype=F64)[:, None]
    sums = bspline_basis(x, knots, 3).sum(-1)
    assert torch.max(torch.abs(sums - 1)) < 1e-14


def test_autograd_derivative_equals_closed_form():
    knots = _knots([-1.0], [1.0], 5, 3)
    x = torch.linspace(-0.99, 0.99, 41, dtype=F64)[:, None].requires_grad_(True)
    coef = torch.linspace(-1, 1, 8, dtype=F64)
    y = (bspline_basis(x, knots, 3)[:, 0] * coef).sum(-1)
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy.sum(), x)
    expected1 = (bspline_basis_derivative(x.detach(), knots, 3, 1)[:, 0] * coef).sum(-1)
    expected2 = (bspline_basis_derivative(x.detach(), knots, 3, 2)[:, 0] * coef).sum(-1)
    assert torch.allclose(dy[:, 0], expected1, atol=1e-12)
    assert torch.allclose(d2y[:, 0], expected2, atol=1e-11)


def test_gradcheck_and_gradgradcheck_of_basis():
    knots = _knots([-1.0, -1.0], [1.0, 1.0], 4, 3)
    x = (torch.rand(6, 2, dtype=F64) * 1.8 - 0.9).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: bspline_basis(z, knots, 3), (x,))
    assert torch.autograd.gradgradcheck(lambda z: bspline_basis(z, knots, 3), (x,))


def test_least_squares_recovers_a_spline_exactly():
    knots = _knots([0.0, -1.0], [1.0, 1.0], 6, 3)
    true = torch.randn(2, 9, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    x = torch.rand(400, 2, dtype=F64, generator=torch.Generator().manual_seed(2))
    x = x * torch.tensor([1.0, 2.0], dtype=F64) + torch.tensor([0.0, -1.0], dtype=F64)
    y = torch.einsum("ncb,cbo->nco", bspline_basis(x, knots, 3), true)
    fitted = fit_coefficients(x, y, knots, 3)
    assert torch.max(torch.abs(fitted - true)) < 1e-10


def test_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match="lo < hi"):
        _knots([1.0], [1.0], 5, 3)
    with pytest.raises(ValueError, match="raise the spline order"):
        bspline_basis_derivative(torch.zeros(3, 1, dtype=F64), _knots([0.0], [1.0], 5, 2), 2, 3)
    with pytest.raises(ValueError, match=r"x of shape \(N, C\)"):
        fit_coefficients(torch.zeros(3), torch.zeros(3, 1, 1), _knots([0.0], [1.0], 5, 2), 2)


def test_a_training_step_leaves_no_reference_cycles():
    # Tensors caught in a cycle live until the garbage collector runs: memory grew
    # by ~1.5 MB per step of heat1d (2 GB peak) before the basis saved its levels properly.
    net = KAN((2, 8, 1), grid_size=5, dtype=torch.float64)
    points = torch.rand(64, 2, dtype=torch.float64, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        u = net(points)
        (u_x,) = torch.autograd.grad(u.sum(), points, create_graph=True)
        (u_xx,) = torch.autograd.grad(u_x[:, 0].sum(), points, create_graph=True)
        (u_xx[:, 0] - u_x[:, 1]).pow(2).mean().backward()
        del u, u_x, u_xx
        assert gc.collect() == 0
    finally:
        gc.enable()


def _scatter_local(index_shape, interval, values, order):
    """The dense (N, C, nb) basis from local bases: slot s of interval j is basis j - k + s."""
    n, c, nb = index_shape
    dense = torch.zeros(n, c, nb + 2 * order, dtype=values.dtype)
    slots = interval[:, :, None] + torch.arange(order + 1)  # padded index j + s
    return dense.scatter_add(2, slots, values.transpose(1, 2))[:, :, order : order + nb]


@pytest.mark.parametrize("layout", ["extended", "clamped"])
def test_local_bases_equal_the_dense_bases_everywhere(layout):
    from pinnkan.models.local_splines import local_bases
    from pinnkan.models.splines import knots_from_grid

    rng = torch.Generator().manual_seed(0)
    lo, hi = torch.tensor([-1.0, 0.0], dtype=F64), torch.tensor([1.0, 2.0], dtype=F64)
    inner = torch.sort(torch.rand(2, 5, dtype=F64, generator=rng), 1).values
    grid = torch.cat([lo[:, None], lo[:, None] + (hi - lo)[:, None] * inner, hi[:, None]], 1)  # non-uniform
    knots = knots_from_grid(grid, 3, layout)
    x = torch.rand(300, 2, dtype=F64, generator=rng) * 4 - 1.5  # inside, in the tails and outside the span
    x[:4] = torch.stack([lo, hi, knots[:, 0], knots[:, -1]])  # the ends of the grid and of the span
    interval, values = local_bases(x, knots, 3, 3)
    nb = knots.shape[1] - 4
    for r in range(4):
        dense = bspline_basis_derivative(x, knots, 3, r)
        local = _scatter_local((300, 2, nb), interval, values[r], 3)
        scale = max(1.0, float(dense.abs().max()))
        assert float((local - dense).abs().max()) <= 1e-12 * scale, r


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("outputs", [1, 3])
def test_combine_bases_equals_the_dense_sums_and_passes_gradcheck(uniform, outputs):
    from pinnkan.models.local_splines import combine_bases, local_bases

    g = torch.Generator().manual_seed(2)
    knots = _knots([-1.0, 0.0, 0.0], [1.0, 1.0, 3.0], 9, 3)
    if not uniform:
        knots = knots + 0.01 * torch.sin(torch.arange(knots.shape[1], dtype=F64))  # still increasing
    x = torch.rand(40, 3, dtype=F64, generator=g) * torch.tensor([2.6, 1.4, 3.6]) - torch.tensor([1.3, 0.2, 0.3])
    coef = torch.randn(3, 12, outputs, dtype=F64, generator=g)
    interval, values = local_bases(x, knots, 3, 2, uniform=uniform)
    expected = torch.stack([torch.einsum("ncb,cbo->no", bspline_basis_derivative(x, knots, 3, r), coef) for r in range(3)])
    assert torch.allclose(combine_bases(values, interval, coef), expected, atol=1e-12)
    leaf = values.detach().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v, c: combine_bases(v, interval, c), (leaf, coef.clone().requires_grad_(True)))
    assert torch.autograd.gradcheck(
        lambda p: local_bases(p, knots, 3, 2, uniform=uniform)[1], (x[:10].clone().requires_grad_(True),)
    )
    with pytest.raises(ValueError, match=r"values \(A, N, k\+1, C\)"):
        combine_bases(values[0], interval, coef)


def test_local_bases_do_not_depend_on_the_grid_size():
    from pinnkan.models.local_splines import local_bases

    x = torch.rand(12, 2, dtype=F64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for grid in (5, 64):
        interval, values = local_bases(x, _knots([-1.0, -1.0], [1.0, 1.0], grid, 3), 3, 2)
        assert values.shape == (3, 12, 4, 2)  # k + 1 slots whatever G is
        assert int(interval.max()) <= grid + 2 * 3 - 1


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_cardinal_pieces_on_uniform_knots_equal_the_dense_bases(order):
    from pinnkan.models.local_splines import is_uniform, local_bases

    knots = _knots([-1.0, 0.0], [1.0, 3.0], 6, order)
    assert is_uniform(knots)
    x = torch.rand(400, 2, dtype=F64, generator=torch.Generator().manual_seed(4)) * 6 - 2
    x[:2] = torch.stack([knots[:, 0], knots[:, -1]])  # both ends of the span
    interval, values = local_bases(x, knots, order, order + 1, uniform=True)
    nb = knots.shape[1] - order - 1
    for r in range(order + 1):
        dense = bspline_basis_derivative(x, knots, order, r)
        local = _scatter_local((400, 2, nb), interval, values[r], order)
        assert float((local - dense).abs().max()) <= 1e-11 * max(1.0, float(dense.abs().max())), r
    assert float(values[order + 1].abs().max()) == 0.0


def test_order_zero_local_bases_on_uniform_knots_are_the_indicators():
    """Regression: ``uniform=True`` with order 0 raised a KeyError (no cardinal table for k = 0)."""
    from pinnkan.models.local_splines import local_bases

    knots = _knots([-0.3], [0.7], 10, 0)  # knots -0.3, -0.2, ..., 0.7: the quotient rounds at some of them
    x = torch.cat([torch.rand(50, 1, dtype=F64, generator=torch.Generator().manual_seed(5)) - 0.3, knots.T])
    for uniform in (True, False):
        interval, values = local_bases(x, knots, 0, 1, uniform=uniform)
        dense = bspline_basis(x, knots, 0)  # (N, 1, 10): the indicator of [t_j, t_{j+1}), the last one closed
        assert torch.equal(interval[:, 0], dense[:, 0].argmax(1))
        assert torch.equal(values[0, :, 0, 0], torch.ones(len(x), dtype=F64))
        assert float(values[1].abs().max()) == 0.0
    with pytest.raises(ValueError, match="spline order must be an int >= 0"):
        local_bases(x, knots, -1, 0)


def test_uniform_spacing_is_recognised_and_tracked_through_grid_changes():
    from pinnkan.models.local_splines import is_uniform

    net = KAN((2, 3, 1), grid_size=5, dtype=F64)
    assert all(layer._uniform for layer in net.layers)
    assert not KAN((2, 3, 1), knot_layout="clamped").layers[0]._uniform
    net.extend_grid(10)
    assert all(layer._uniform for layer in net.layers)
    net.update_grid(torch.rand(50, 2, dtype=F64) ** 3)
    assert not net.layers[0]._uniform
    fresh = KAN((2, 3, 1), grid_size=10, dtype=F64)
    fresh.load_state_dict(net.state_dict())
    assert not fresh.layers[0]._uniform and fresh.layers[1]._uniform == net.layers[1]._uniform
    assert not is_uniform(torch.tensor([[0.0, 1.0, 2.0, 3.5]], dtype=F64))


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_spline_operators_pass_opcheck(outputs):
    """The operators torch.compile sees: schema, fake kernels (shapes and strides), autograd."""
    from pinnkan.models import local_splines

    g = torch.Generator().manual_seed(6)
    knots = _knots([-1.0, -1.0], [1.0, 1.0], 6, 3)
    x = torch.rand(20, 2, dtype=F64, generator=g) * 2 - 1
    interval, values = local_splines.local_bases(x, knots, 3, 1, uniform=True)
    values = values.detach().contiguous().requires_grad_(True)  # as combine_bases passes them
    coef = torch.randn(2, 9, outputs, dtype=F64, generator=g, requires_grad=True)
    torch.library.opcheck(local_splines._combine, (values, interval, coef))
    grad = torch.randn(2, 20, outputs, dtype=F64, generator=g)
    for need in (True, False):
        torch.library.opcheck(local_splines._combine_backward, (grad, values.detach(), interval, coef.detach(), need))
