"""Grid extension, grid update and knot layouts: the network's function is kept."""

import re

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from pinnkan.models.kan import KAN, KANLayer
from pinnkan.models.splines import bspline_basis, knots_from_grid
from pinnkan.training.grid_stages import ExtendGrid, UpdateGrid
from pinnkan.training.stages import LBFGS, Adam
from pinnkan.training.trainer import Trainer

F64 = torch.float64


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


@pytest.mark.parametrize("layout", ["extended", "clamped"])
def test_extension_5_to_10_to_20_keeps_the_function(layout):
    torch.manual_seed(0)
    net = KAN((2, 5, 1), grid_size=5, knot_layout=layout, spline_init_std=1.0, dtype=F64)
    x = torch.rand(2000, 2, dtype=F64) * 2 - 1
    before = net(x)
    net.extend_grid(10)
    assert net.grid_size == 10 and net.layers[1].spline_coef.shape == (5, 13, 1)
    assert _rel(net(x), before) < 1e-12
    net.extend_grid(20)
    assert _rel(net(x), before) < 1e-12


def test_extension_to_a_non_multiple_is_a_close_least_squares_fit():
    torch.manual_seed(1)
    layer = KANLayer(1, 1, grid_size=5, dtype=F64)
    x = torch.linspace(-1, 1, 500, dtype=F64)[:, None]
    before = layer(x)
    layer.extend_grid(12)
    # Not nested, so only approximately equal; a smooth small-coefficient spline moves little.
    assert _rel(layer(x), before) < 1e-3


def test_grid_update_covers_the_batch_and_keeps_the_output():
    # Hidden values leave the grid while a KAN without squashing trains on exp(sin(pi x1) + x2^2).
    torch.manual_seed(0)
    net = KAN((4, 5, 1), grid_size=5, squash_hidden=False, dtype=F64)
    x = torch.rand(1000, 4, dtype=F64) * 2 - 1
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:2] ** 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(20):
        opt.zero_grad()
        torch.mean((net(x) - y) ** 2).backward()
        opt.step()
    assert min(net.grid_coverage(x)) < 0.95
    with torch.no_grad():
        before = net(x)
        net.update_grid(x)
        after = net(x)
    assert min(net.grid_coverage(x)) >= 0.99
    assert _rel(after, before) <= 1e-3


def test_updated_grid_blends_quantiles_with_a_uniform_grid():
    layer = KANLayer(1, 1, grid_size=4, dtype=F64)
    values = torch.tensor(np.random.default_rng(0).exponential(size=(4001, 1)), dtype=F64)
    layer.update_grid(values, uniform_fraction=0.5, margin=0.0)
    lo, hi = values.min(), values.max()
    quantiles = torch.quantile(values[:, 0], torch.linspace(0, 1, 5, dtype=F64))
    expected = 0.5 * quantiles + 0.5 * torch.linspace(float(lo), float(hi), 5, dtype=F64)
    assert torch.allclose(layer.grid[0], expected, atol=1e-12)
    assert layer.knots.shape == (1, 4 + 2 * 3 + 1)


def test_clamped_layout_matches_scipy_and_clamps_inputs():
    layer = KANLayer(1, 1, grid_size=4, spline_order=3, knot_layout="clamped", dtype=F64)
    knots = layer.knots[0].numpy()
    assert np.allclose(knots[:4], -1.0) and np.allclose(knots[-4:], 1.0)
    coef = torch.linspace(-1, 2, 7, dtype=F64)
    x = np.linspace(-1.0, 1.0, 101)  # includes the closed right end
    expected = BSpline(knots, coef.numpy(), 3)(x)
    got = bspline_basis(torch.tensor(x)[:, None], layer.knots, 3)[:, 0] @ coef
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-13)
    with torch.no_grad():
        layer.spline_coef.copy_(coef[None, :, None])
        layer.base_weight.zero_()
        outside = layer(torch.tensor([[-3.0], [5.0]], dtype=F64))[:, 0]
    assert torch.allclose(outside, torch.tensor([-1.0, 2.0], dtype=F64), atol=1e-13)


def test_extended_knots_from_a_non_uniform_grid_continue_the_end_spacing():
    grid = torch.tensor([[0.0, 0.5, 2.0]], dtype=F64)
    knots = knots_from_grid(grid, 2, "extended")
    assert torch.allclose(knots, torch.tensor([[-1.0, -0.5, 0.0, 0.5, 2.0, 3.5, 5.0]], dtype=F64))


def test_grid_operations_reject_bad_input():
    net = KAN((2, 3, 1), grid_size=5)
    with pytest.raises(ValueError, match="larger grid than the current G=5"):
        net.extend_grid(5)
    with pytest.raises(ValueError, match="uniform_fraction must be in"):
        net.update_grid(torch.rand(10, 2), uniform_fraction=0.0)
    with pytest.raises(ValueError, match="finite values"):
        net.update_grid(torch.full((10, 2), float("nan")))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        net.update_grid(torch.rand(10, 3))
    with pytest.raises(ValueError, match="knot_layout must be one of"):
        KAN((2, 1), knot_layout="periodic")
    with pytest.raises(ValueError, match="strictly increasing"):
        knots_from_grid(torch.tensor([[0.0, 0.0, 1.0]]), 3)


def _fit_problem(seed):
    torch.manual_seed(seed)
    net = KAN((1, 4, 1), grid_size=5, dtype=F64)
    x = torch.linspace(-1, 1, 64, dtype=F64)[:, None]
    y = torch.sin(3 * x)

    def loss(m):
        fit = torch.mean((m(x) - y) ** 2)
        return fit, {"fit": fit}

    return net, loss, x


def test_extension_stage_resumes_across_the_shape_change(tmp_path):
    stages = [Adam(steps=20, lr=1e-2), UpdateGrid(), ExtendGrid(grid_size=10), LBFGS(steps=15)]
    net, loss, x = _fit_problem(0)
    reference = Trainer(net, loss, stages, progress=False, samples=x).run()
    assert reference.success and net.grid_size == 10
    change = re.search(r"extended the grid from G=5 to G=10 \(output changed by (\S+) relative\) after step 20",
                       reference.message)
    assert change is not None and float(change.group(1)) < 1e-12
    expected = {k: v.clone() for k, v in net.state_dict().items() if isinstance(v, torch.Tensor)}

    def interrupt(step, record):
        if step == 27:
            raise KeyboardInterrupt

    path = tmp_path / "ckpt.pt"
    net, loss, x = _fit_problem(0)
    Trainer(net, loss, stages, checkpoint=path, checkpoint_every=5, progress=False, samples=x,
            callbacks=[interrupt]).run()
    net, loss, x = _fit_problem(7)  # a fresh G=5 model: the checkpoint holds G=10 shapes
    trainer = Trainer(net, loss, stages, checkpoint=path, checkpoint_every=5, progress=False, samples=x)
    trainer.resume()
    resumed = trainer.run()
    assert resumed.success and resumed.steps == reference.steps
    for k, v in expected.items():
        assert torch.allclose(net.state_dict()[k], v, rtol=0, atol=1e-12), k


def test_update_stage_needs_samples():
    net, loss, _ = _fit_problem(0)
    with pytest.raises(ValueError, match="give the Trainer samples="):
        Trainer(net, loss, [UpdateGrid()], progress=False)
    with pytest.raises(TypeError, match="needs a B-spline KAN model"):
        ExtendGrid(grid_size=10).apply(torch.nn.Linear(1, 1), None)


def test_refitted_coefficients_are_contiguous_for_lbfgs():
    torch.manual_seed(3)
    net = KAN((3, 4, 2), dtype=F64)
    x = torch.rand(200, 3, dtype=F64) * 2 - 1
    net.update_grid(x)
    net.extend_grid(10)
    assert all(layer.spline_coef.is_contiguous() for layer in net.layers)
    y = torch.sin(x[:, :2])

    def loss(m):
        fit = torch.mean((m(x) - y) ** 2)
        return fit, {"fit": fit}

    before = loss(net)[0].item()
    result = Trainer(net, loss, [LBFGS(steps=5)], progress=False).run()
    assert result.success and result.history.records[-1]["total"] < before
