"""Figures of the KAN toolkit and of fits: what they draw and what they refuse."""

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from pinnkan.kan_tools.formula import lock_edge
from pinnkan.kan_tools.symbolic import SymbolicFit
from pinnkan.models.kan import KAN
from pinnkan.plotting import (
    plot_activations,
    plot_fit_history,
    plot_fit_prediction,
    plot_network,
)
from pinnkan.training.fit import FitResult, fit

F64 = torch.float64


def _ink(path) -> float:
    """Share of pixels that are not white."""
    image = imread(path)[..., :3]
    return float(np.mean(np.any(image < 0.95, axis=-1)))


def test_edge_and_network_figures_draw_every_live_edge(tmp_path):
    torch.manual_seed(0)
    net = KAN((2, 3, 1), dtype=F64)
    lock_edge(net, 1, 0, 0, SymbolicFit("sin", 1.0, 1.0, 0.0, 0.0, 1.0, 4))
    x = torch.rand(200, 2, dtype=F64) * 2 - 1
    plot_activations(net, x, tmp_path / "edges.png")
    plot_network(net, x, tmp_path / "net.png", names=["x", "t"])
    assert _ink(tmp_path / "edges.png") > 0.02 and _ink(tmp_path / "net.png") > 0.005
    with pytest.raises(TypeError, match="B-spline KAN"):
        plot_activations(torch.nn.Linear(2, 1), x, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="give 2 input names"):
        plot_network(net, x, tmp_path / "bad.png", names=["x"])


def test_fit_figures_and_their_errors(tmp_path):
    x = torch.linspace(0, 1, 40, dtype=F64)[:, None]
    y = torch.sin(3 * x)
    net = KAN((1, 1), input_bounds=((0.0,), (1.0,)), dtype=F64)
    result = fit(net, x, y, steps=50)
    plot_fit_history(result, tmp_path / "loss.png")
    with torch.no_grad():
        plot_fit_prediction(x.numpy(), y.numpy(), net(x).numpy(), tmp_path / "pred.png")
    assert _ink(tmp_path / "loss.png") > 0.02 and _ink(tmp_path / "pred.png") > 0.02
    empty = FitResult(True, "", 0, 0.0, [], [], [], float("inf"), 0)
    with pytest.raises(ValueError, match="made no step"):
        plot_fit_history(empty, tmp_path / "none.png")
