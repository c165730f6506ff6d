"""Pruning: scores against their definition, exact removal of dead parts, a small planted case."""

import pytest
import torch

from pinnkan.kan_tools.pruning import _doomed_node, edge_scores, node_scores, prune
from pinnkan.kan_tools.regularization import Regularization
from pinnkan.models.kan import KAN, KANSpec
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


def _mult_net(widths, mult, seed=0) -> KAN:
    torch.manual_seed(seed)
    net = KAN(widths, mult=mult, squash_hidden=False, dtype=F64)
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.uniform_(-0.5, 0.5)  # no factor starts at zero
    return net


def _silence(layer, rows=None, columns=None) -> None:
    """Make the edges out of ``rows`` (or into ``columns``) of ``layer`` exactly zero."""
    index = (slice(None) if rows is None else rows, slice(None) if columns is None else columns)
    with torch.no_grad():
        layer.base_weight[index] = 0.0
        layer.spline_coef.transpose(1, 2)[index] = 0.0


def test_edges_into_a_factor_score_their_share_of_it_times_the_product_node():
    net = _mult_net((2, 2, 1), (1,))
    x = torch.rand(300, 2, dtype=F64) * 2 - 1
    with torch.no_grad():
        first = net.layers[0].edge_values(x)  # (N, 2, 3): sum node 0, factors a, b of node 1
        a = first.sum(1) + net.layers[0].bias  # (N, 3)
        nodes = torch.stack([a[:, 0], a[:, 1] * a[:, 2]], dim=1)
        second = net.layers[1].edge_values(nodes)[:, :, 0]  # (N, 2)
        node = second.std(0) / net(x)[:, 0].std()  # hidden node scores: their single outgoing edge's
        expected = first.std(0) / a.std(0) * node[[0, 1, 1]]
    torch.testing.assert_close(edge_scores(net, x)[1][:, 0], node, rtol=1e-12, atol=0)
    torch.testing.assert_close(node_scores(net, x)[1], node, rtol=1e-12, atol=0)
    torch.testing.assert_close(edge_scores(net, x)[0], expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(node_scores(net, x)[0], expected.sum(1), rtol=1e-12, atol=0)


def test_a_dead_multiplication_node_goes_with_both_factor_columns():
    net = _mult_net((2, 3, 2, 1), (2, 1))
    _silence(net.layers[1], rows=[1])  # node 1 of layer 1 (the first product) feeds nothing
    x = torch.rand(400, 2, dtype=F64) * 2 - 1
    result = prune(net, x, threshold=1e-9)
    small = result.model
    assert result.removed_nodes == [(1, 1)]
    assert small.widths == (2, 2, 2, 1) and small.mult == (1, 1)
    assert [(layer.in_features, layer.out_features) for layer in small.layers] == [(2, 3), (2, 3), (2, 1)]
    # the product that is left is the old node 2: factor columns 3 and 4 of the first layer
    torch.testing.assert_close(small.layers[0].spline_coef, net.layers[0].spline_coef[:, :, [0, 3, 4]])
    assert result.params_before - result.params_after == 2 * 2 * 9 + 2 + 3 * 9  # 2 x 2 in, 3 out, 2 biases
    with torch.no_grad():
        torch.testing.assert_close(small(x), net(x), rtol=0, atol=1e-12)
    spec = small.spec()
    assert spec.hidden == (2, 2) and spec.mult == (1, 1)
    copy = spec.build(2, 1, ((-1.0, -1.0), (1.0, 1.0)), dtype=F64)
    copy.load_state_dict(small.state_dict())
    with torch.no_grad():
        assert torch.equal(copy(x), small(x))


def test_a_product_of_two_constants_goes_and_one_constant_factor_stays():
    x = torch.rand(400, 2, dtype=F64) * 2 - 1
    both = _mult_net((2, 3, 1), (1,))
    _silence(both.layers[0], columns=[2, 3])  # both factors of node 2 (the product) are their biases
    result = prune(both, x, threshold=1e-9)
    assert result.removed_nodes == [(1, 2)] and result.model.widths == (2, 2, 1) and result.model.mult == (0,)
    assert result.model.spec() == KANSpec(hidden=(2,), squash_hidden=False)
    with torch.no_grad():
        torch.testing.assert_close(result.model(x), both(x), rtol=0, atol=1e-12)

    one = _mult_net((2, 3, 1), (1,))
    _silence(one.layers[0], columns=[2])  # factor a is a constant, so the product is a scaled factor b
    result = prune(one, x, threshold=1e-9)
    assert result.removed_nodes == [] and result.model.mult == (1,)
    assert result.model.layers[0].edge_mask[:, 2].sum() == 0 and result.model.layers[0].edge_mask[:, 3].sum() == 2
    with torch.no_grad():
        torch.testing.assert_close(result.model(x), one(x), rtol=0, atol=1e-12)


def test_a_product_is_dead_when_neither_factor_has_a_live_incoming_edge():
    net = _mult_net((2, 3, 1), (1,))
    strong = [torch.zeros(w, dtype=torch.bool) for w in net.widths]  # no node weak: only the wiring counts
    net.layers[0].mask_edges(torch.tensor([[False, False, True, False]] * 2))
    assert _doomed_node(net, strong) is None  # factor b still varies
    net.layers[0].mask_edges(torch.tensor([[False, False, False, True]] * 2))
    assert _doomed_node(net, strong) == (1, 2)
