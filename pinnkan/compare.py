"""Model versus reference on the reference's grid: error norms, error over time, arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .reference.grid import GridSolution

__all__ = ["Comparison", "compare", "predict"]


@dataclass(frozen=True)
class Comparison:
    """Errors of a prediction against a reference grid solution.

    Attributes
    ----------
    grid : GridSolution
        The reference.
    prediction : numpy.ndarray
        Model values on the same grid, shape ``grid.values.shape``.
    rel_l2 : float
        ``||pred - ref||_2 / ||ref||_2`` over all grid points.
    linf : float
        ``max |pred - ref|``.
    time_axis : str or None
        Name of the time coordinate, if the grid has one.
    error_over_time : numpy.ndarray or None
        Relative L2 error of each time slice, shape (len(times),).
    rel_l2_exact : float or None
        Relative L2 error against the exact solution on the same grid, when known.
    """

    grid: GridSolution
    prediction: np.ndarray
    rel_l2: float
    linf: float
    time_axis: str | None
    error_over_time: np.ndarray | None
    rel_l2_exact: float | None

    @property
    def error(self) -> np.ndarray:
        """Pointwise ``prediction - reference``."""
        return self.prediction - self.grid.values

    @property
    def times(self) -> np.ndarray | None:
        """The time coordinates matching :attr:`error_over_time`."""
        if self.time_axis is None:
            return None
        return self.grid.coords[self.grid.axes.index(self.time_axis)]

    def metrics(self) -> dict[str, object]:
        """The figures as plain JSON-ready values."""
        out: dict[str, object] = {
            "rel_l2": self.rel_l2,
            "linf": self.linf,
            "reference": self.grid.source,
            "grid_shape": list(self.grid.values.shape),
        }
        if self.rel_l2_exact is not None:
            out["rel_l2_exact"] = self.rel_l2_exact
        if self.error_over_time is not None:
            out["error_over_time"] = {
                "t": self.times.tolist(),  # type: ignore[union-attr]
                "rel_l2": self.error_over_time.tolist(),
            }
        return out


@torch.no_grad()
def predict(model: nn.Module, points: np.ndarray, *, output: int = 0, batch: int = 65536) -> np.ndarray:
    """Evaluate ``model`` at numpy points (N, d) in batches; returns (N,) float64."""
    param = next(model.parameters())
    chunks = []
    for start in range(0, points.shape[0], batch):
        x = torch.as_tensor(points[start : start + batch], dtype=param.dtype, device=param.device)
        chunks.append(model(x)[:, output].double().cpu().numpy())
    return np.concatenate(chunks)


def compare(
    model: nn.Module,
    grid: GridSolution,
    *,
    exact: Callable[[np.ndarray], np.ndarray] | None = None,
    time_axis: str | None = "t",
    output: int = 0,
) -> Comparison:
    """Compare a trained model with a reference on the reference's grid.

    Parameters
    ----------
    model : torch.nn.Module
        Maps points (N, d) to outputs (N, m).
    grid : GridSolution
        Reference values on a grid.
    exact : callable, optional
        Exact solution at numpy points (N, d) -> (N,); adds ``rel_l2_exact``.
    time_axis : str or None
        Coordinate for the error over time (ignored if the grid has no such axis).
    output : int
        Which model output to compare.
    """
    points = grid.points()
    prediction = predict(model, points, output=output).reshape(grid.values.shape)
    rel_l2 = _rel_l2(prediction, grid.values)
    linf = float(np.max(np.abs(prediction - grid.values)))
    rel_l2_exact = None
    if exact is not None:
        rel_l2_exact = _rel_l2(prediction.reshape(-1), np.asarray(exact(points), dtype=np.float64))
    axis = time_axis if time_axis in grid.axes else None
    over_time = None
    if axis is not None:
        k = grid.axes.index(axis)
        err = np.moveaxis(prediction - grid.values, k, 0).reshape(grid.values.shape[k], -1)
        ref = np.moveaxis(grid.values, k, 0).reshape(grid.values.shape[k], -1)
        norms = np.linalg.norm(ref, axis=1)
        over_time = np.linalg.norm(err, axis=1) / np.where(norms > 0, norms, 1.0)
    return Comparison(grid, prediction, rel_l2, linf, axis, over_time, rel_l2_exact)


def _rel_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    norm = float(np.linalg.norm(reference))
    diff = float(np.linalg.norm(prediction - reference))
    return diff / norm if norm > 0 else diff
