"""Locked symbolic edges and composed formulas evaluate to the network's output."""

import numpy as np
import pytest
import torch

from pinnkan.kan_tools.formula import auto_symbolic, edge_samples, formula, lock_edge, suggest_edge
from pinnkan.kan_tools.pruning import prune
from pinnkan.kan_tools.symbolic import SymbolicFit, evaluate_formula
from pinnkan.models.kan import KAN
from pinnkan.models.splines import fit_coefficients

F64 = torch.float64


def _planted_net(squash: bool) -> KAN:
    net = KAN((2, 1, 1), squash_hidden=squash, input_bounds=((0.0, -2.0), (2.0, 2.0)), dtype=F64)
    lock_edge(net, 0, 0, 0, SymbolicFit("sin", 0.8, 3.0, 0.1, 0.2, 1.0, 4))
    lock_edge(net, 0, 1, 0, SymbolicFit("x^2", 1.5, 1.0, -0.2, 0.0, 1.0, 2))
    lock_edge(net, 1, 0, 0, SymbolicFit("exp", 0.5, 0.7, 0.0, -0.1, 1.0, 4))
    return net


@pytest.mark.parametrize("squash", [False, True])
def test_formula_of_a_locked_network_equals_its_output(squash):
    net = _planted_net(squash)
    x = torch.rand(200, 2, dtype=F64) * torch.tensor([2.0, 4.0], dtype=F64) + torch.tensor([0.0, -2.0], dtype=F64)
    (text,) = formula(net, variables=["p", "q"], precision=17)
    got = evaluate_formula(text, {"p": x[:, 0].numpy(), "q": x[:, 1].numpy()})
    with torch.no_grad():
        expected = net(x)[:, 0].numpy()
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_locked_edges_are_trainable_and_survive_a_state_dict_round_trip():
    net = _planted_net(False)
    x = torch.rand(10, 2, dtype=F64)
    net(x).sum().backward()
    assert float(net.layers[0].symbolic_affine.grad.abs().sum()) > 0
    copy = KAN((2, 1, 1), squash_hidden=False, input_bounds=((0.0, -2.0), (2.0, 2.0)), dtype=F64)
    copy.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.allclose(copy(x), net(x), rtol=0, atol=1e-14)


def test_auto_symbolic_finds_the_function_a_spline_was_fitted_to():
    net = KAN((1, 1), grid_size=20, dtype=F64)
    layer = net.layers[0]
    grid_x = torch.linspace(-1, 1, 400, dtype=F64)[:, None]
    target = (0.8 * torch.sin(torch.pi * grid_x) + 0.1)[:, :, None]
    with torch.no_grad():
        layer.base_weight.zero_()
        layer.spline_coef.copy_(fit_coefficients(grid_x, target, layer.knots, 3))
    assert suggest_edge(net, grid_x, 0, 0, 0, top=1)[0].name == "sin"
    choices = auto_symbolic(net, grid_x)
    assert [(c.layer, c.i, c.j, c.fit.name) for c in choices] == [(0, 0, 0, "sin")]
    (text,) = formula(net)
    x = np.linspace(-1, 1, 7)
    assert np.allclose(evaluate_formula(text, {"x1": x}), 0.8 * np.sin(np.pi * x) + 0.1, atol=1e-6)


def test_pruning_keeps_symbolic_edges_in_place():
    net = KAN((2, 2, 1), squash_hidden=False, dtype=F64)
    lock_edge(net, 0, 0, 1, SymbolicFit("sin", 1.0, 2.0, 0.0, 0.0, 1.0, 4))
    with torch.no_grad():
        net.layers[1].base_weight[0] = 0.0  # hidden node 0 feeds nothing
        net.layers[1].spline_coef[0] = 0.0
    x = torch.rand(300, 2, dtype=F64) * 2 - 1
    small = prune(net, x, threshold=1e-3).model
    assert small.widths == (2, 1, 1)
    assert small.layers[0].symbolic == [(0, 0, "sin")]
    with torch.no_grad():
        assert torch.allclose(small(x), net(x), atol=1e-12)


def test_formula_needs_every_edge_symbolic_and_valid_edges():
    net = KAN((2, 1))
    with pytest.raises(ValueError, match="not symbolic yet; call auto_symbolic"):
        formula(net)
    with pytest.raises(ValueError, match="edge \\(0, 3\\) does not exist"):
        lock_edge(net, 0, 0, 3, SymbolicFit("x", 1.0, 1.0, 0.0, 0.0, 1.0, 1))
    with pytest.raises(ValueError, match="unknown symbolic function"):
        net.layers[0].lock_symbolic(0, 0, "sinh", (1, 1, 0, 0))
    with pytest.raises(ValueError, match="layer 2 does not exist"):
        suggest_edge(net, torch.rand(10, 2), 2, 0, 0)


def test_a_multiplication_node_becomes_a_product_in_the_formula():
    # u = sin(pi x) * exp(-y): factor a is sin(pi x), factor b exp(-y), and the output edge the identity
    net = KAN((2, 1, 1), mult=(1,), grid_size=20, squash_hidden=False, dtype=F64)
    x = torch.rand(600, 2, dtype=F64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    first, second = net.layers
    target = torch.zeros(600, 2, 2, dtype=F64)
    target[:, 0, 0] = torch.sin(torch.pi * x[:, 0])
    target[:, 1, 1] = torch.exp(-x[:, 1])
    with torch.no_grad():
        first.base_weight.zero_()
        first.spline_coef.copy_(fit_coefficients(x, target, first.knots, 3))
        product = net.combine(0, first(x))  # (N, 1)
        second.update_grid(product)
        second.base_weight.zero_()
        second.spline_coef.copy_(fit_coefficients(product, product[:, :, None], second.knots, 3))
    samples, _ = edge_samples(net, x, 1, 0, 0)  # what the output edge sees: the product of the factors
    with torch.no_grad():
        torch.testing.assert_close(samples, first(x)[:, 0] * first(x)[:, 1], rtol=0, atol=1e-15)
    small = prune(net, x, threshold=1e-2).model  # the two zero edges go
    assert small.layers[0].edge_mask.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    choices = auto_symbolic(small, x)
    assert [(c.layer, c.i, c.j, c.fit.name) for c in choices] == [(0, 0, 0, "sin"), (0, 1, 1, "exp"), (1, 0, 0, "x")]
    (text,) = formula(small, variables=["x", "y"], precision=17)
    assert text.count(")*(") >= 1
    got = evaluate_formula(text, {"x": x[:, 0].numpy(), "y": x[:, 1].numpy()})
    with torch.no_grad():
        expected = small(x)[:, 0].numpy()
    assert np.allclose(got, expected, rtol=0, atol=1e-6)
    exact = np.sin(np.pi * x[:, 0].numpy()) * np.exp(-x[:, 1].numpy())
    assert np.allclose(got, exact, rtol=0, atol=1e-4)
