"""Comparison against references: per-output norms against numpy, masks on non-box domains."""

import math

import numpy as np
import pytest
import torch

from pinnkan import Box, Problem
from pinnkan.compare import compare, reference_solution
from pinnkan.reference.grid import GridSolution

F64 = torch.float64


class _Model(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.anchor = torch.nn.Parameter(torch.zeros(1, dtype=F64))

    def forward(self, x):
        return self.fn(x)


def test_every_output_is_compared_with_its_own_reference():
    x, y = np.linspace(0, 1, 11), np.linspace(0, 2, 21)
    grid = GridSolution.from_function(lambda p: {"u": p[:, 0] * p[:, 1], "v": np.sin(p[:, 0])}, ("x", "y"), (x, y))
    model = _Model(lambda p: torch.stack([p[:, 0] * p[:, 1] + 0.01, torch.sin(p[:, 0]) * 1.1, p[:, 0]], 1))
    result = compare(model, grid, outputs=("u", "v", "p"), time_axis=None)
    points = grid.points()
    u = points[:, 0] * points[:, 1]
    assert math.isclose(result.outputs["u"].rel_l2, 0.01 * math.sqrt(len(u)) / np.linalg.norm(u), rel_tol=1e-10)
    assert math.isclose(result.outputs["v"].rel_l2, 0.1, rel_tol=1e-10)
    assert math.isclose(result.outputs["v"].linf, 0.1 * math.sin(1.0), rel_tol=1e-10)
    assert result.rel_l2 == max(result.outputs["u"].rel_l2, result.outputs["v"].rel_l2)
    metrics = result.metrics()
    assert set(metrics["per_output"]) == {"u", "v"} and metrics["rel_l2"] == result.rel_l2
    with pytest.raises(ValueError, match="read comparison.outputs"):
        result.prediction
    with pytest.raises(ValueError, match="that the model lacks"):
        compare(model, grid, outputs=("u",))


def test_points_outside_a_masked_domain_are_not_compared():
    lshape = Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    problem = Problem(name="l", domain=lshape, residual=lambda f: f.u_xx, exact=lambda c: c["x"] + c["y"])
    grid = reference_solution(problem)
    assert grid.mask is not None
    assert abs(grid.mask.mean() - 0.75) < 0.02
    assert np.isnan(grid.values[~grid.mask]).all() and np.isfinite(grid.values[grid.mask]).all()
    # A model that is wrong only in the removed quadrant is exact on the domain.
    model = _Model(lambda p: (p[:, :1] + p[:, 1:] + 5.0 * ((p[:, :1] > 0.01) & (p[:, 1:] > 0.01))))
    result = compare(model, grid, time_axis=None)
    assert result.rel_l2 < 1e-14 and result.linf < 1e-14
    assert np.isnan(result.prediction[~grid.mask]).all()


def test_error_over_time_per_slice():
    x, t = np.linspace(0, 1, 5), np.linspace(0, 1, 3)
    grid = GridSolution.from_function(lambda p: np.ones(len(p)), ("x", "t"), (x, t))
    model = _Model(lambda p: 1.0 + p[:, 1:])  # error t at time t
    result = compare(model, grid)
    assert np.allclose(result.error_over_time, [0.0, 0.5, 1.0])
    assert result.metrics()["error_over_time"]["t"] == [0.0, 0.5, 1.0]


def test_grid_solutions_check_their_values():
    x = (np.linspace(0, 1, 3),)
    with pytest.raises(ValueError, match="NaN or infinity inside the domain"):
        GridSolution(("x",), x, np.array([0.0, np.nan, 1.0]), "fd")
    assert GridSolution(("x",), x, np.array([0.0, np.nan, 1.0]), "fd", mask=np.array([True, False, True])).mask is not None
    with pytest.raises(ValueError, match="leaves no grid point"):
        GridSolution(("x",), x, np.zeros(3), "fd", mask=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="values of 'v' have shape"):
        GridSolution(("x",), x, {"u": np.zeros(3), "v": np.zeros(4)}, "fd")
    with pytest.raises(ValueError, match=r"read its .outputs\[name\]"):
        GridSolution(("x",), x, {"u": np.zeros(3), "v": np.zeros(3)}, "fd").values
