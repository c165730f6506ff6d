"""Forward jets against nested autograd, analytic derivatives and the combinatorics of the chain rule."""

import itertools
import math

import pytest
import torch

from pinnkan import KAN, MLP, ChebyKAN
from pinnkan.kan_tools import prune
from pinnkan.models.activations import derivatives, elementwise_derivatives
from pinnkan.models.jets import Jet, JetPlan, jet_obstacle

F64 = torch.float64


def _all_indices(dim, order):
    return [i for k in range(1, order + 1) for i in itertools.combinations_with_replacement(range(dim), k)]


def _autograd_derivatives(net, x, indices):
    """``{(output, index): tensor}`` by nested reverse mode, each derivative from its parent."""
    x = x.clone().requires_grad_(True)
    y = net(x)
    result = {}
    closure = JetPlan.closure(x.shape[1], indices).indices[1:]
    for output in range(y.shape[1]):
        cache = {(): y[:, output]}
        for index in closure:
            parent = index[:-1]
            (grad,) = torch.autograd.grad(cache[parent].sum(), x, create_graph=True)
            cache[index] = grad[:, index[-1]]
        result.update({(output, i): cache[i] for i in [(), *indices]})
    return result


def _worst_relative(net, x, order):
    dim = x.shape[1]
    indices = _all_indices(dim, order)
    plan = JetPlan.closure(dim, indices)
    jet = net.forward_jet(Jet.of_inputs(x, plan))
    reference = _autograd_derivatives(net, x, indices)
    return max(
        float((jet.component(i)[:, o] - value).abs().max().detach() / value.abs().max().detach().clamp(min=1e-300))
        for (o, i), value in reference.items()
    )


def _points(n, dim, seed=0):
    return torch.rand(n, dim, dtype=F64, generator=torch.Generator().manual_seed(seed))


def test_plan_closure_holds_every_sub_derivative_before_its_use():
    plan = JetPlan.closure(2, [(1, 0, 0)])
    assert plan.indices == ((), (0,), (1,), (0, 0), (0, 1), (0, 0, 1))
    assert plan.order == 3 and plan.size == 6
    with pytest.raises(ValueError, match="outside 0..1"):
        JetPlan.closure(2, [(2,)])
    with pytest.raises(ValueError, match="use JetPlan.closure"):
        JetPlan(2, ((), (0, 0)))


def test_faa_di_bruno_matches_analytic_derivatives_of_a_composite():
    # phi(h) = exp(h) with h = x^2 y: every partial of exp(x^2 y) up to order 3.
    x = _points(20, 2, seed=1)
    plan = JetPlan.closure(2, _all_indices(2, 3))
    a, b = x[:, 0], x[:, 1]
    # h and its partials written out, then composed with exp.
    hd = {(): a * a * b, (0,): 2 * a * b, (1,): a * a, (0, 0): 2 * b, (0, 1): 2 * a, (1, 1): 0 * a,
          (0, 0, 0): 0 * a, (0, 0, 1): 2 + 0 * a, (0, 1, 1): 0 * a, (1, 1, 1): 0 * a}
    h = Jet(plan, torch.stack([hd[i] for i in plan.indices])[:, :, None])
    e = torch.exp(h.value)
    u = h.map([e, e, e, e])
    f = torch.exp(a * a * b)
    expected = {
        (0,): 2 * a * b * f,
        (1,): a * a * f,
        (0, 0): (2 * b + 4 * a * a * b * b) * f,
        (0, 1): (2 * a + 2 * a**3 * b) * f,
        (1, 1): a**4 * f,
        (0, 0, 1): (2 + 10 * a * a * b + 4 * a**4 * b * b) * f,
        (1, 1, 1): a**6 * f,
    }
    for index, value in expected.items():
        assert torch.allclose(u.component(index)[:, 0], value, rtol=1e-13, atol=0), index


def test_leibniz_product_matches_analytic_derivatives():
    x = _points(20, 2, seed=2)
    plan = JetPlan.closure(2, _all_indices(2, 2))
    inputs = Jet.of_inputs(x, plan)
    s = inputs.map(derivatives("sin", inputs.value, 2))  # (sin x, sin y)
    product = Jet(plan, s.data[:, :, :1]).multiply(Jet(plan, s.data[:, :, 1:]))  # sin x sin y
    a, b = x[:, 0], x[:, 1]
    assert torch.allclose(product.component((0, 1))[:, 0], torch.cos(a) * torch.cos(b), atol=1e-15)
    assert torch.allclose(product.component((0, 0))[:, 0], -torch.sin(a) * torch.sin(b), atol=1e-15)


@pytest.mark.parametrize("name", ["tanh", "silu", "sin"])
def test_activation_derivatives_match_nested_autograd_to_order_six(name):
    x = torch.linspace(-3, 3, 41, dtype=F64)
    closed = derivatives(name, x, 6)
    nested = elementwise_derivatives(getattr(torch.nn.functional, name) if name == "silu" else getattr(torch, name), x, 6)
    for r, (a, b) in enumerate(zip(closed, nested)):
        assert torch.allclose(a, b.detach(), rtol=1e-11, atol=1e-11), r


MODELS = {
    "kan": lambda: KAN((3, 5, 4, 3), grid_size=7, spline_order=5, dtype=F64),
    "kan_clamped": lambda: KAN((3, 5, 3), grid_size=6, spline_order=5, knot_layout="clamped", dtype=F64),
    "kan_unsquashed": lambda: KAN((3, 5, 3), grid_size=6, spline_order=5, squash_hidden=False, dtype=F64),
    "chebykan": lambda: ChebyKAN((3, 6, 3), degree=5, dtype=F64),
    "mlp_tanh": lambda: MLP((3, 8, 8, 3), dtype=F64),
    "mlp_silu": lambda: MLP((3, 8, 3), activation="silu", dtype=F64),
    "mlp_sin": lambda: MLP((3, 8, 3), activation="sin", dtype=F64),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_jets_agree_with_autograd_for_every_derivative_to_order_four(name):
    torch.manual_seed(0)
    net = MODELS[name]()
    x = _points(30, 3) * 2.4 - 1.2  # some inputs outside the box: spline tails, clamping
    assert _worst_relative(net, x, 4) <= 1e-10


def test_jets_agree_with_autograd_after_grid_update_pruning_and_symbolic_edges():
    torch.manual_seed(1)
    net = KAN((2, 6, 2), grid_size=5, spline_order=4, squash_hidden=False, dtype=F64)
    x = _points(200, 2, seed=3) * 2 - 1
    net.update_grid(x)  # non-uniform knots
    net.layers[1].lock_symbolic(2, 1, "sin", (0.7, 1.3, 0.2, 0.1))
    net.layers[0].lock_symbolic(0, 3, "x^2", (0.5, 1.0, 0.1, 0.0))
    assert _worst_relative(net, x[:40], 3) <= 1e-10
    small = prune(net, x, threshold=0.05).model
    assert _worst_relative(small, x[:40], 3) <= 1e-10


def test_jets_of_a_large_grid_agree_with_autograd():
    torch.manual_seed(2)
    net = KAN((2, 4, 1), grid_size=64, dtype=F64)
    assert _worst_relative(net, _points(50, 2) * 2 - 1, 2) <= 1e-10


def test_parameter_gradients_through_jets_match_autograd():
    torch.manual_seed(3)
    net = KAN((2, 5, 1), grid_size=6, dtype=F64)
    x = _points(40, 2) * 2 - 1
    plan = JetPlan.closure(2, [(1,), (0, 0)])

    def residual_jets():
        jet = net.forward_jet(Jet.of_inputs(x, plan))
        return ((jet.component((1,)) - 0.4 * jet.component((0, 0))) ** 2).mean()

    def residual_autograd():
        d = _autograd_derivatives(net, x, [(1,), (0, 0)])
        return ((d[(0, (1,))] - 0.4 * d[(0, (0, 0))]) ** 2).mean()

    params = list(net.parameters())
    grads_j = torch.autograd.grad(residual_jets(), params, allow_unused=True)
    grads_a = torch.autograd.grad(residual_autograd(), params, allow_unused=True)
    for gj, ga in zip(grads_j, grads_a):
        if ga is None:
            continue
        assert torch.allclose(gj, ga, rtol=1e-10, atol=1e-12 * float(ga.abs().max()))


def test_jet_obstacle_names_modules_without_jets():
    assert jet_obstacle(KAN((2, 3, 1))) is None
    assert "no forward_jet" in jet_obstacle(torch.nn.Linear(2, 1))


def test_jet_data_shape_is_checked():
    plan = JetPlan.closure(1, [(0,)])
    with pytest.raises(ValueError, match=r"shape \(2, N, w\)"):
        Jet(plan, torch.zeros(3, 4, 1))
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        Jet.of_inputs(torch.zeros(4, 2), plan)
    assert math.isclose(float(Jet.of_inputs(torch.ones(1, 1), plan).component((0,))), 1.0)


@pytest.mark.parametrize("layout", ["extended", "clamped"])
def test_float32_jets_are_as_accurate_as_float32_autograd(layout):
    """Against float64: the jets' rounding error stays at autograd's (not ten times it)."""
    torch.manual_seed(4)
    net64 = KAN((2, 32, 1), grid_size=10, knot_layout=layout, dtype=F64)
    with torch.no_grad():
        for p in net64.parameters():
            p.mul_(3.0)  # a rough function, where rounding shows
    net32 = KAN((2, 32, 1), grid_size=10, knot_layout=layout)
    net32.load_state_dict({k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
                           for k, v in net64.state_dict().items()})
    x = _points(2000, 2, seed=5) * 2 - 1
    indices = [(1,), (0, 0)]
    plan = JetPlan.closure(2, indices)
    exact = net64.forward_jet(Jet.of_inputs(x, plan))
    jets = net32.forward_jet(Jet.of_inputs(x.float(), plan))
    autograd = _autograd_derivatives(net32, x.float(), indices)
    for index in indices:
        truth = exact.component(index)[:, 0]
        error_jets = float(((jets.component(index)[:, 0].double() - truth).norm() / truth.norm()).detach())
        error_autograd = float((autograd[(0, index)].detach().double() - truth).norm() / truth.norm())
        assert error_jets <= 1.5 * error_autograd, (index, error_jets, error_autograd)
