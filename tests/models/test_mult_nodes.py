"""Multiplication nodes of the B-spline KAN: products of factor sub-nodes, their jets, grids, specs and figures."""

import numpy as np
import pytest
import torch
from matplotlib.image import imread
from torch import nn
from torch.func import functional_call

from pinnkan import BFGS, Adam, ExtendGrid, KANSpec, Points, Setup, load_problem, load_run, plotting, solve
from pinnkan.models import spline_kernels
from pinnkan.models.jets import Jet, JetPlan
from pinnkan.models.kan import KAN
from pinnkan.models.kernel_build import KernelBuild, active_build

F64 = torch.float64
SECOND = JetPlan.closure(2, [(0, 0), (0, 1), (1, 1)])  # value, both first and all second derivatives
needs_kernels = pytest.mark.skipif(not active_build().available(), reason=active_build().status())


def _points(n: int = 64, dim: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, dim, dtype=F64, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _net(widths, mult, squash=True, seed=0, **options) -> KAN:
    torch.manual_seed(seed)
    net = KAN(widths, mult=mult, squash_hidden=squash, dtype=F64, **options)
    with torch.no_grad():  # biases away from zero, so no product starts as a zero factor times something
        for layer in net.layers:
            layer.bias.uniform_(-0.5, 0.5)
    return net


def test_a_multiplication_node_is_the_product_of_its_two_factor_columns():
    net = _net((2, 3, 2, 1), (2, 1), squash=True)
    x = _points()
    first, second, third = net.layers
    a = first(net.normalise(x))  # (N, 5): sum node 0, then factors of nodes 1 and 2
    nodes_1 = torch.stack([a[:, 0], a[:, 1] * a[:, 2], a[:, 3] * a[:, 4]], dim=1)
    b = second(torch.tanh(nodes_1))  # (N, 3): sum node 0, then the factors of node 1
    nodes_2 = torch.stack([b[:, 0], b[:, 1] * b[:, 2]], dim=1)
    expected = third(torch.tanh(nodes_2))
    with torch.no_grad():
        assert torch.equal(net.combine(0, a), nodes_1)
        torch.testing.assert_close(net(x), expected, rtol=0, atol=1e-15)
        inputs = net.layer_inputs(x)
        torch.testing.assert_close(inputs[2], torch.tanh(nodes_2), rtol=0, atol=1e-15)
    assert [(layer.in_features, layer.out_features) for layer in net.layers] == [(2, 5), (3, 3), (2, 1)]
    assert net.mult == (2, 1) and net.widths == (2, 3, 2, 1)
    assert net.node_columns(1) == [(0,), (1, 2), (3, 4)] and net.node_columns(3) == [(0,)]


def test_zero_multiplication_nodes_is_the_plain_kan():
    x = _points()
    plain, zeros = _net((2, 4, 3, 1), None), _net((2, 4, 3, 1), (0, 0))
    h = torch.zeros(5, 4)
    assert plain.combine(0, h) is h  # no operation in the hot path
    assert plain.mult == (0, 0) and plain.spec() == KANSpec(hidden=(4, 3)) == zeros.spec()
    assert plain.state_dict().keys() == zeros.state_dict().keys()
    with torch.no_grad():
        assert torch.equal(plain(x), zeros(x))
    assert plain.describe() == "KAN[2,4,3,1] G=5 k=3"


def test_description_and_parameter_count_count_factor_edges():
    net = _net((2, 3, 1), (1,), grid_size=5, spline_order=3)
    assert net.describe() == "KAN[2,3(1×),1] G=5 k=3"
    # 2 x 4 edges into two sum nodes and two factors, 3 x 1 edges out; G + k + 1 = 9 each; 4 + 1 biases
    assert net.count_parameters() == (2 * 4 + 3 * 1) * 9 + 4 + 1
    assert sum(p.numel() for p in net.parameters()) == (2 * 4 + 3) * 9 + 4 + 1


@pytest.mark.parametrize("squash", [True, False])
@pytest.mark.parametrize(("widths", "mult"), [((2, 3, 2, 1), (2, 1)), ((2, 2, 1), (1,)), ((2, 2, 3, 2), (2, 0))])
def test_forward_jet_matches_nested_autograd_to_second_order(widths, mult, squash):
    net = _net(widths, mult, squash)
    x = _points(40).requires_grad_(True)
    u = net(x)
    jet = net.forward_jet(Jet.of_inputs(x.detach(), SECOND))
    torch.testing.assert_close(jet.value, u.detach(), rtol=0, atol=1e-12)
    for o in range(u.shape[1]):
        grad = torch.autograd.grad(u[:, o].sum(), x, create_graph=True)[0]
        for a in range(2):
            torch.testing.assert_close(jet.component((a,))[:, o], grad[:, a].detach(), rtol=0, atol=1e-10)
            hessian = torch.autograd.grad(grad[:, a].sum(), x, retain_graph=True)[0]
            for b in range(a, 2):
                torch.testing.assert_close(jet.component((a, b))[:, o], hessian[:, b], rtol=0, atol=1e-10)


class _JetOutput(nn.Module):
    """The network's jet data (K, N, out) as a plain function of the points, for functional_call."""

    def __init__(self, net: KAN) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_jet(Jet.of_inputs(x, SECOND)).data


@pytest.mark.parametrize("squash", [True, False])
def test_gradcheck_in_the_parameters_of_values_and_jets(squash):
    net = _net((2, 2, 1), (1,), squash, grid_size=3)
    wrapped = _JetOutput(net)
    x = _points(6)
    names = [k for k, v in wrapped.named_parameters() if v.numel()]
    leaves = tuple(dict(wrapped.named_parameters())[k].detach().clone().requires_grad_(True) for k in names)
    assert torch.autograd.gradcheck(lambda *p: functional_call(wrapped, dict(zip(names, p)), (x,)), leaves)
    assert torch.autograd.gradcheck(lambda *p: functional_call(wrapped.net, dict(zip(
        [k.removeprefix("net.") for k in names], p)), (x,)), leaves)


def _jet_and_gradients(net: KAN, x: torch.Tensor, build: KernelBuild) -> list[torch.Tensor]:
    net.zero_grad()
    with build.active():
        data = net.forward_jet(Jet.of_inputs(x, SECOND)).data
        (data * torch.linspace(-1, 1, data.numel(), dtype=F64).reshape(data.shape)).sum().backward()
    return [data.detach()] + [p.grad.clone() for p in net.parameters() if p.numel()]


@needs_kernels
@pytest.mark.parametrize("squash", [True, False])
def test_jets_with_and_without_the_c_kernels_agree(squash):
    net = _net((2, 3, 2, 1), (2, 1), squash)
    x = _points(50)
    layer = net.layers[1]
    assert spline_kernels.jet_kernels_for(x[:, :1].expand(-1, 3), layer.spline_coef, SECOND.size, 4, SECOND.order)
    native = _jet_and_gradients(net, x, active_build())
    for got, expected in zip(native, _jet_and_gradients(net, x, KernelBuild(enabled=False))):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_extend_grid_keeps_a_multiplication_network():
    net = _net((2, 3, 2, 1), (2, 1), squash=False)
    x = _points(300)
    net.update_grid(x)  # hidden values inside every grid: there the old splines are exactly representable
    assert net.grid_coverage(x) == [1.0, 1.0, 1.0]
    with torch.no_grad():
        before = net(x)
        net.extend_grid(10)
        assert net.grid_size == 10
        torch.testing.assert_close(net(x), before, rtol=0, atol=1e-10)


def test_update_grid_places_knots_around_the_products():
    net = _net((2, 2, 1), (1,), squash=False)
    with torch.no_grad():
        net.layers[0].base_weight.mul_(4.0)  # factors well beyond [-1, 1]
    x = _points(400)
    assert net.grid_coverage(x)[1] < 1.0
    net.update_grid(x, margin=0.01)
    with torch.no_grad():  # the values that reached layer 1: products of the updated layer 0's factors
        factors = net.layers[0](net.normalise(x))
        product = factors[:, 1] * factors[:, 2]
    lo, hi = net.layers[1].grid_range
    width = product.max() - product.min()
    torch.testing.assert_close(float(lo[1]), float(product.min() - 0.01 * width), rtol=0, atol=1e-12)
    torch.testing.assert_close(float(hi[1]), float(product.max() + 0.01 * width), rtol=0, atol=1e-12)
    assert net.grid_coverage(x) == [1.0, 1.0]


def test_spec_builds_the_same_network_back():
    net = _net((2, 4, 3, 1), (1, 3), squash=False, grid_size=6)
    spec = net.spec()
    assert spec == KANSpec(hidden=(4, 3), grid_size=6, squash_hidden=False, mult=(1, 3))
    copy = spec.build(2, 1, ((-1.0, -1.0), (1.0, 1.0)), dtype=F64)
    copy.load_state_dict(net.state_dict())
    x = _points()
    with torch.no_grad():
        assert torch.equal(copy(x), net(x))
    assert KANSpec(hidden=(3,), mult=[0]) == KANSpec(hidden=(3,))  # all zeros is no multiplication


def test_a_trained_multiplication_network_survives_the_run_folder(tmp_path):
    problem = load_problem("heat1d").problem
    stages = (Adam(steps=8, lr=1e-2), ExtendGrid(grid_size=7), BFGS(steps=4))
    setup = Setup(model=KANSpec(hidden=(4,), mult=(2,)), points=Points(interior=64, boundary=16), stages=stages,
                  dtype="float64")
    solution = solve(problem, setup, out=tmp_path, progress=False)
    run = load_run(tmp_path, problem=problem)
    x = solution.samples[:50]
    with torch.no_grad():
        assert torch.equal(run.net(x), solution.net(x))
        assert torch.equal(run.model(x), solution.model(x))
        fresh = KANSpec(hidden=(4,), mult=(2,), grid_size=7).build(2, 1, problem.domain.bounds(), dtype=F64)
        assert not torch.allclose(fresh(x), run.net(x))
    assert run.net.mult == (2,) and run.net.describe() == "KAN[2,4(2×),1] G=7 k=3"


@pytest.mark.parametrize(
    ("widths", "mult", "error", "match"),
    [
        ((2, 3, 1), (1, 0), ValueError, r"1 for hidden widths \(3,\).*the output layer never multiplies"),
        ((2, 3, 4, 1), (1,), ValueError, r"2 for hidden widths \(3, 4\) \(e.g. mult=\(0, 1\)\)"),
        ((2, 3, 1), (-1,), ValueError, r"counts must be ints from 0 to their hidden width \(3,\), got \(-1,\)"),
        ((2, 3, 1), (4,), ValueError, r"counts must be ints from 0 to their hidden width \(3,\), got \(4,\)"),
        ((2, 3, 1), (1.0,), ValueError, r"counts must be ints"),
        ((2, 3, 1), 1, TypeError, r"takes one count of multiplication nodes per hidden layer \(e.g. mult=\(1,\)\)"),
        ((2, 1), (1,), ValueError, r"one count per hidden layer, 0 for hidden widths \(\) \(mult=None\)"),
    ],
)
def test_bad_multiplication_counts_name_the_fix(widths, mult, error, match):
    with pytest.raises(error, match=match):
        KAN(widths, mult=mult)


def test_bad_spec_counts_name_the_fix():
    with pytest.raises(ValueError, match=r"KANSpec mult needs one count per hidden layer, 2 for hidden widths"):
        KANSpec(hidden=(8, 8), mult=(2,))
    with pytest.raises(ValueError, match=r"KANSpec mult counts must be ints from 0 to their hidden width"):
        KANSpec(hidden=(2,), mult=(3,))


def test_figures_draw_products_with_their_factors(tmp_path, monkeypatch):
    net = _net((2, 3, 2, 1), (2, 1))
    x = _points(200)
    figures = []
    save = plotting._save
    monkeypatch.setattr(plotting, "_save", lambda fig, path: (figures.append(fig), save(fig, path)))
    plotting.plot_network(net, x, tmp_path / "net.png", names=["x", "t"])
    plotting.plot_activations(net, x, tmp_path / "edges.png")
    network, edges = figures
    marks = [t for t in network.axes[0].texts if t.get_text() == "×"]
    assert [(round(t.get_position()[0], 6), t.get_position()[1]) for t in marks] == [
        (0.5, 1), (1.0, 1), (round(2 / 3, 6), 2)  # nodes 1, 2 of the widest layer 1 at 0, 1/2, 1; node 1 of layer 2
    ]
    titles = [ax.get_title().split()[1] for ax in edges.axes]
    # 2 x 5 edges into layer 1's columns, 3 x 3 into layer 2's, 2 into the output
    assert sorted(set(titles)) == sorted({f"{i}->{j}" for i in range(2) for j in ("0", "1a", "1b", "2a", "2b")}
                                         | {f"{i}->{j}" for i in range(3) for j in ("0", "1a", "1b")}
                                         | {"0->0", "1->0"})
    assert len(titles) == 10 + 9 + 2
    for name in ("net.png", "edges.png"):
        image = imread(tmp_path / name)[..., :3]
        assert float(np.mean(np.any(image < 0.95, axis=-1))) > 0.005
