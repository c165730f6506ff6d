"""Pruning: scores against their definition, exact removal of dead parts, a small planted case."""

import pytest
import torch

from pinnkan.kan_tools.pruning import edge_scores, node_scores, prune
from pinnkan.kan_tools.regularization import Regularization
from pinnkan.models.kan import KAN
from pinnkan.training.grid_stages import UpdateGrid
from pinnkan.training.stages import LBFGS, Adam
from pinnkan.training.trainer import Trainer

F64 = torch.float64


def test_single_layer_scores_are_shares_of_the_output_spread():
    torch.manual_seed(0)
    net = KAN((2, 1), dtype=F64)
    x = torch.rand(300, 2, dtype=F64) * 2 - 1
    with torch.no_grad():
        values = net.layers[0].edge_values(x)[:, :, 0]  # (N, 2)
        expected = values.std(0) / net(x)[:, 0].std()
    assert torch.allclose(edge_scores(net, x)[0][:, 0], expected, rtol=1e-12)
    assert torch.allclose(node_scores(net, x)[0], expected, rtol=1e-12)


def test_dead_input_and_dead_node_are_removed_without_changing_the_output():
    torch.manual_seed(1)
    net = KAN((3, 3, 1), dtype=F64)
    with torch.no_grad():
        first, second = net.layers
        first.base_weight[2] = 0.0  # input x3 feeds nothing
        first.spline_coef[2] = 0.0
        second.base_weight[1] = 0.0  # hidden node 1 feeds nothing
        second.spline_coef[1] = 0.0
    x = torch.rand(500, 3, dtype=F64) * 2 - 1
    result = prune(net, x, threshold=1e-3)
    assert result.removed_inputs == [2]
    assert result.removed_nodes == [(1, 1)]
    assert result.model.widths == (3, 2, 1)
    assert result.params_after < result.params_before
    assert sum(p.numel() for p in result.model.parameters()) < sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        assert torch.allclose(result.model(x), net(x), atol=1e-12)


def test_a_constant_edge_is_folded_into_the_bias():
    torch.manual_seed(2)
    net = KAN((2, 1), dtype=F64)
    x = torch.rand(100, 2, dtype=F64) * 2 - 1
    x[:, 1] = 0.3  # the second input is constant on this batch
    result = prune(net, x, threshold=1e-2)
    assert result.removed_edges == 1 and result.removed_inputs == [1]
    with torch.no_grad():
        assert torch.allclose(result.model(x), net(x), atol=1e-12)


def test_regularised_training_then_pruning_drops_irrelevant_inputs():
    torch.manual_seed(0)
    x = torch.rand(400, 3, dtype=F64) * 2 - 1
    y = torch.sin(torch.pi * x[:, :1])
    net = KAN((3, 3, 1), squash_hidden=False, dtype=F64)
    reg = Regularization(l1=1e-2, entropy=2e-2)

    def loss(m):
        mse = torch.mean((m(x) - y) ** 2)
        terms = {"mse": mse, **reg.terms(m, x)}
        return mse + sum(reg.weights[k] * v for k, v in terms.items() if k != "mse"), terms

    stages = [s for _ in range(3) for s in (UpdateGrid(), Adam(steps=100, lr=1e-2))] + [LBFGS(steps=50)]
    Trainer(net, loss, stages, progress=False, samples=x).run()
    result = prune(net, x, threshold=2e-2)
    with torch.no_grad():
        rmse = torch.sqrt(torch.mean((net(x) - y) ** 2))
        rmse_pruned = torch.sqrt(torch.mean((result.model(x) - y) ** 2))
    assert result.removed_inputs == [1, 2]
    assert rmse_pruned <= 2 * rmse
    assert result.params_after < result.params_before


def test_bad_pruning_input_names_the_fix():
    net = KAN((2, 2, 1))
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        prune(net, torch.rand(10, 2), threshold=1.5)
    with pytest.raises(ValueError, match=r"shape \(N >= 2, 2\)"):
        prune(net, torch.rand(10, 3))
    with pytest.raises(ValueError, match="finite inputs"):
        prune(net, torch.full((10, 2), float("inf")))
    with pytest.raises(TypeError, match="needs a KAN"):
        prune(torch.nn.Linear(2, 1), torch.rand(10, 2))


def test_a_pruned_network_survives_a_state_dict_round_trip():
    torch.manual_seed(4)
    net = KAN((2, 3, 1), dtype=F64)
    x = torch.rand(100, 2, dtype=F64) * 2 - 1
    x[:, 1] = 0.3
    small = prune(net, x, threshold=1e-2).model
    fresh = KAN(small.widths, dtype=F64)
    fresh.load_state_dict(small.state_dict())
    other = torch.rand(50, 2, dtype=F64) * 2 - 1  # off the batch, where the pruned edge would matter
    with torch.no_grad():
        assert torch.allclose(fresh(other), small(other), rtol=0, atol=1e-14)
        assert not torch.allclose(fresh(other), net(other), atol=1e-6)
