"""The fused spline jet kernels against the dense bases composed by hand and the PyTorch operators."""

from __future__ import annotations

import pytest
import torch

from pinnkan.models import local_splines, spline_kernels
from pinnkan.models.jets import Jet, JetPlan
from pinnkan.models.kernel_build import KernelBuild, active_build
from pinnkan.models.local_splines import spline_jet
from pinnkan.models.splines import bspline_basis_derivative, uniform_knots

needs_kernels = pytest.mark.skipif(not active_build().available(), reason=active_build().status())
OFF = KernelBuild(enabled=False)

HEAT = JetPlan.closure(2, [(0, 0), (1,)])  # value, u_x, u_t, u_xx: 4 components, order 2
FOURTH = JetPlan.closure(2, [(0, 0, 0, 0), (0, 1, 1)])  # 11 components, order 4


def _case(plan: JetPlan, channels: int, outputs: int, n: int = 200, order: int = 3, dtype=torch.float64, seed: int = 0):
    """A jet whose values reach past both ends of the knots, the knots (G = 7 on [-1, 1]) and coefficients."""
    g = torch.Generator().manual_seed(seed)
    data = torch.randn(plan.size, n, channels, generator=g, dtype=dtype)
    data[0] = 3.2 * torch.rand(n, channels, generator=g, dtype=dtype) - 1.6
    knots = uniform_knots(-torch.ones(channels, dtype=dtype), torch.ones(channels, dtype=dtype), 7, order)
    coef = torch.randn(channels, 7 + order, outputs, generator=g, dtype=dtype)
    return Jet(plan, data), knots, coef


def _dense(jet: Jet, knots: torch.Tensor, order: int, coef: torch.Tensor) -> torch.Tensor:
    """Every basis and its derivatives from the recursion, composed by Faa di Bruno's formula, times ``coef``."""
    derivatives = [bspline_basis_derivative(jet.value, knots, order, r).transpose(1, 2)  # (N, nb, C)
                   if r <= order else jet.value.new_zeros(jet.value.shape[0], knots.shape[1] - order - 1, knots.shape[0])
                   for r in range(jet.plan.order + 1)]
    return torch.einsum("knbc,cbo->kno", jet.compose(derivatives), coef)


def _eager(jet, knots, order, coef, native: bool):
    with active_build().active() if native else OFF.active():
        return spline_jet(jet, jet.chain_factors(), knots, order, coef, uniform=True)


def _gradients(jet, knots, order, coef, native, seed=1):
    leaves = (jet.data.clone().requires_grad_(True), coef.clone().requires_grad_(True))
    out = _eager(Jet(jet.plan, leaves[0]), knots, order, leaves[1], native)
    grad = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(seed))
    return (out.detach(), *torch.autograd.grad(out, leaves, grad))


@needs_kernels
@pytest.mark.parametrize(("plan", "channels", "outputs", "order"),
                         [(HEAT, 16, 16, 3), (HEAT, 3, 1, 3), (HEAT, 9, 5, 2), (FOURTH, 2, 7, 3), (FOURTH, 5, 1, 5),
                          (HEAT, 4, 3, 1)])
def test_the_fused_kernels_equal_the_dense_composition_and_the_pytorch_operators(plan, channels, outputs, order):
    jet, knots, coef = _case(plan, channels, outputs, order=order)
    assert spline_kernels.jet_kernels_for(jet.value, coef, plan.size, order + 1, plan.order) is not None
    native = _gradients(jet, knots, order, coef, True)
    torch.testing.assert_close(native[0], _dense(jet, knots, order, coef), rtol=1e-12, atol=1e-12)
    for got, expected in zip(native, _gradients(jet, knots, order, coef, False)):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("outputs", [1, 6])
def test_the_fused_kernels_pass_gradcheck_and_float32_agrees_with_float64(outputs):
    jet, knots, coef = _case(HEAT, 5, outputs, n=30)
    # away from the knots, where the third derivative of a cubic jumps
    jet.data[0] = torch.where(((jet.data[0] - knots[0, 0]) / (2 / 7)).frac().sub(0.5).abs() < 0.45, jet.data[0], 0.01)

    def branch(data, c):
        moved = Jet(HEAT, data)
        return spline_jet(moved, moved.chain_factors(), knots, 3, c, uniform=True)

    assert torch.autograd.gradcheck(branch, (jet.data.clone().requires_grad_(True), coef.clone().requires_grad_(True)))
    single = branch(jet.data.float(), coef.float())
    exact = branch(jet.data, coef)
    assert float((single.double() - exact).abs().max() / exact.abs().max()) < 1e-5


@needs_kernels
def test_points_on_and_outside_the_knots_and_non_finite_values_elsewhere():
    jet, knots, coef = _case(HEAT, 3, 2, n=8)
    jet.data[0, :, 0] = knots[0, :8]  # every point on a knot, the first one included
    jet.data[0, :4, 1] = torch.tensor([-1e30, 1e30, knots[1, -1] + 1e-9, knots[1, -1]], dtype=jet.data.dtype)
    jet.data[0, 4:, 2] = float("nan")
    native = _gradients(jet, knots, 3, coef, True)
    reference = _gradients(jet, knots, 3, coef, False)
    for got, expected in zip(native, reference):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert torch.isfinite(native[0][:, :4]).all()  # points 0 .. 3 see no NaN input


@needs_kernels
def test_results_do_not_depend_on_the_thread_count():
    jet, knots, coef = _case(HEAT, 16, 16, n=4096)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _gradients(jet, knots, 3, coef, True)
        torch.set_num_threads(2)
        two = _gradients(jet, knots, 3, coef, True)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])  # each point on one thread
    assert float((one[2] - two[2]).abs().max() / two[2].abs().max()) < 1e-14  # per-thread sums: rounding only


@needs_kernels
def test_the_operator_falls_back_to_pytorch_where_the_kernels_do_not_build(monkeypatch):
    # Compiled code has already chosen the operator; if the kernels then fail, PyTorch computes it.
    jet, knots, coef = _case(HEAT, 4, 3, n=50)
    factors = jet.chain_factors()
    chosen = [(a, r, p) for a, terms in enumerate(factors) for r, p in terms if p is not None]
    stacked = torch.stack([p for *_, p in chosen]).requires_grad_(True)
    x, c = jet.value.clone().requires_grad_(True), coef.clone().requires_grad_(True)
    terms = [i for a, r, _ in chosen for i in (a, r)]

    def run():
        out = local_splines._spline_jet(x, stacked, c, knots, terms, 3, HEAT.order, HEAT.size)
        return (out.detach(), *torch.autograd.grad(out.square().sum(), (x, stacked, c)))

    native = run()
    monkeypatch.setattr(local_splines, "jet_kernels_for", lambda *args: None)
    for got, expected in zip(run(), native):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_non_uniform_knots_and_disabled_kernels_take_the_pytorch_operators(monkeypatch):
    jet, knots, coef = _case(HEAT, 3, 2, n=40)
    bent = knots.clone()
    bent[:, 5] += 0.05  # no longer equally spaced
    calls = []
    monkeypatch.setattr(local_splines, "_spline_jet_forward", lambda *args: calls.append(args))
    expected = _dense(jet, bent, 3, coef)
    torch.testing.assert_close(spline_jet(jet, jet.chain_factors(), bent, 3, coef, uniform=False), expected,
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(_eager(jet, knots, 3, coef, False), _dense(jet, knots, 3, coef),
                               rtol=1e-12, atol=1e-12)
    assert not calls
    assert not spline_kernels.jet_kernels_apply(jet.value.float(), coef, HEAT.size, 4, 2)  # mixed dtypes
    assert not spline_kernels.jet_kernels_apply(jet.value, coef, HEAT.size, 4, 9)  # order above the limit


@needs_kernels
def test_layouts_the_c_code_cannot_read_are_refused():
    jet, knots, coef = _case(HEAT, 3, 2, n=20)
    kernels = spline_kernels.jet_kernels_for(jet.value, coef, HEAT.size, 4, HEAT.order)
    factors = torch.zeros(5, 20, 3, dtype=coef.dtype)
    terms = local_splines._terms((1, 1, 2, 1, 3, 1, 3, 2, 1, 1))
    table = local_splines._jet_table(3, HEAT.order, coef.dtype)
    x = jet.value.contiguous()
    with pytest.raises(ValueError, match="contiguous x"):
        kernels.forward(x, factors, terms, knots, table, coef[:, :-1], HEAT.size)  # coef rows do not fit the knots
    with pytest.raises(ValueError, match="int32 terms"):
        kernels.forward(x, factors, terms.long(), knots, table, coef, HEAT.size)
    with pytest.raises(ValueError, match="factors"):
        kernels.forward(x, factors[:, :10], terms, knots, table, coef, HEAT.size)
    with pytest.raises(ValueError, match="grad"):
        kernels.backward(torch.zeros(4, 20, 5, dtype=coef.dtype), x, factors, terms, knots, table, coef, True)
    bad = local_splines._terms((0, 1))  # component 0 is the value: it has no chain terms
    with pytest.raises(RuntimeError, match="code 2"):
        kernels.forward(x, factors[:1], bad, knots, table, coef, HEAT.size)
