"""KAN penalties against hand-computed values, and as terms of the composite loss."""

import math

import numpy as np
import pytest
import torch

from pinnkan import load_problem
from pinnkan.kan_tools.regularization import Regularization
from pinnkan.models.kan import KAN
from pinnkan.training.losses import PINNLoss, Points

F64 = torch.float64


def _base_only_net():
    torch.manual_seed(0)
    net = KAN((2, 3, 1), dtype=F64)
    with torch.no_grad():
        for layer in net.layers:
            layer.spline_coef.zero_()
    return net


def test_l1_is_the_sum_of_mean_edge_magnitudes():
    net = _base_only_net()
    x = torch.rand(64, 2, dtype=F64) * 2 - 1
    silu = lambda v: v / (1 + np.exp(-v))  # noqa: E731
    h0 = x.numpy()
    w0 = net.layers[0].base_weight.detach().numpy()
    expected = sum(np.mean(np.abs(silu(h0[:, i]) * w0[i, j])) for i in range(2) for j in range(3))
    h1 = np.tanh(silu(h0) @ w0 + net.layers[0].bias.detach().numpy())
    w1 = net.layers[1].base_weight.detach().numpy()
    expected += sum(np.mean(np.abs(silu(h1[:, i]) * w1[i, 0])) for i in range(3))
    got = Regularization(l1=1.0).terms(net, x)["reg_l1"]
    assert math.isclose(got.item(), expected, rel_tol=1e-12)


def test_entropy_of_equal_edges_is_log_of_their_number():
    net = KAN((3, 1), dtype=F64)
    with torch.no_grad():
        net.layers[0].spline_coef.zero_()
        net.layers[0].base_weight.fill_(0.5)
    x = torch.rand(50, 1, dtype=F64).repeat(1, 3)  # same values on every edge
    got = Regularization(entropy=1.0).terms(net, x)["reg_entropy"]
    assert math.isclose(got.item(), math.log(3), rel_tol=1e-12)
    with torch.no_grad():
        net.layers[0].base_weight[1:] = 0.0  # one edge carries everything
    assert abs(Regularization(entropy=1.0).terms(net, x)["reg_entropy"].item()) < 1e-12


def test_smoothness_sums_squared_neighbour_differences():
    net = KAN((2, 1), grid_size=5, spline_order=3, dtype=F64)
    with torch.no_grad():
        net.layers[0].spline_coef.copy_(0.3 * torch.arange(8, dtype=F64)[None, :, None].repeat(2, 1, 1))
    got = Regularization(smoothness=1.0).terms(net, torch.zeros(2, 2, dtype=F64))["reg_smoothness"]
    assert math.isclose(got.item(), 2 * 7 * 0.3**2, rel_tol=1e-12)


def test_penalties_enter_the_composite_loss_with_their_weights():
    spec = load_problem("heat1d")
    problem = spec.problem
    net = KAN((2, 4, 1), input_bounds=((0.0, 0.0), (1.0, 1.0)), dtype=F64)
    reg = Regularization(l1=0.5, smoothness=2.0)
    loss = PINNLoss(problem, problem.conditions, Points(interior=64, boundary=16), rng=np.random.default_rng(0),
                    dtype=F64, regularization=reg)
    total, terms = loss(net)
    assert {"reg_l1", "reg_smoothness"} <= set(terms) and "reg_entropy" not in terms
    expected = sum(v for k, v in terms.items() if not k.startswith("reg_"))
    expected = expected + 0.5 * terms["reg_l1"] + 2.0 * terms["reg_smoothness"]
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-12)


def test_bad_weights_and_models_are_rejected():
    with pytest.raises(ValueError, match="weight l1 must be a finite number >= 0"):
        Regularization(l1=-1.0)
    with pytest.raises(TypeError, match="needs a B-spline KAN model"):
        Regularization(l1=1.0).terms(torch.nn.Linear(2, 1), torch.zeros(3, 2))
