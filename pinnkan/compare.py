"""Model versus reference on the reference's grid: error norms per output, error over time, arrays.

Points of the grid outside the domain (a non-box domain's mask) are neither
predicted into the norms nor compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .errors import InputTypeError, InputValueError
from .pde.geometry import Box, SpaceTime
from .pde.problem import Problem
from .pde.user_code import call_user
from .reference.grid import GridSolution, grid_points

__all__ = ["OutputErrors", "Comparison", "compare", "predict", "reference_grid"]

Exact = Callable[[np.ndarray], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class OutputErrors:
    """Errors of one output against the reference.

    Attributes
    ----------
    prediction : numpy.ndarray
        Model values on the grid (NaN outside the domain).
    reference : numpy.ndarray
        The reference values on the grid.
    rel_l2 : float
        ``||pred - ref||_2 / ||ref||_2`` over the grid points inside the domain.
    linf : float
        ``max |pred - ref|`` inside the domain.
    error_over_time : numpy.ndarray or None
        Relative L2 error of each time slice.
    rel_l2_exact : float or None
        Relative L2 error against the exact solution on the same grid, when known.
    """

    prediction: np.ndarray
    reference: np.ndarray
    rel_l2: float
    linf: float
    error_over_time: np.ndarray | None
    rel_l2_exact: float | None

    @property
    def error(self) -> np.ndarray:
        """Pointwise ``prediction - reference`` (NaN outside the domain)."""
        return self.prediction - self.reference


@dataclass(frozen=True)
class Comparison:
    """Errors of a prediction against a reference grid solution, per output.

    For a single output, ``prediction``, ``rel_l2``, ``linf``, ``error_over_time``
    and ``rel_l2_exact`` are that output's; for a system ``rel_l2`` and ``linf`` are
    the largest over the outputs.
    """

    grid: GridSolution
    outputs: dict[str, OutputErrors]
    time_axis: str | None

    @property
    def _single(self) -> OutputErrors:
        if len(self.outputs) != 1:
            raise InputValueError(f"this comparison has outputs {tuple(self.outputs)}; read comparison.outputs[name]")
        return next(iter(self.outputs.values()))

    @property
    def prediction(self) -> np.ndarray:
        """The only output's prediction on the grid."""
        return self._single.prediction

    @property
    def error(self) -> np.ndarray:
        """The only output's pointwise error."""
        return self._single.error

    @property
    def error_over_time(self) -> np.ndarray | None:
        """The only output's relative L2 error per time slice."""
        return self._single.error_over_time

    @property
    def rel_l2(self) -> float:
        """Relative L2 error (the largest over the outputs)."""
        return max(e.rel_l2 for e in self.outputs.values())

    @property
    def linf(self) -> float:
        """Maximum absolute error (the largest over the outputs)."""
        return max(e.linf for e in self.outputs.values())

    @property
    def rel_l2_exact(self) -> float | None:
        """Relative L2 error against the exact solution (the largest over the outputs), when known."""
        values = [e.rel_l2_exact for e in self.outputs.values()]
        return None if any(v is None for v in values) else max(values)  # type: ignore[type-var]

    @property
    def times(self) -> np.ndarray | None:
        """The time coordinates matching ``error_over_time``."""
        if self.time_axis is None:
            return None
        return self.grid.coords[self.grid.axes.index(self.time_axis)]

    def metrics(self) -> dict[str, object]:
        """The figures as plain JSON-ready values."""
        out: dict[str, object] = {
            "rel_l2": self.rel_l2,
            "linf": self.linf,
            "reference": self.grid.source,
            "grid_shape": list(self.grid.shape),
        }
        if self.rel_l2_exact is not None:
            out["rel_l2_exact"] = self.rel_l2_exact
        per_output: dict[str, dict[str, object]] = {}
        for name, e in self.outputs.items():
            entry: dict[str, object] = {"rel_l2": e.rel_l2, "linf": e.linf}
            if e.rel_l2_exact is not None:
                entry["rel_l2_exact"] = e.rel_l2_exact
            if e.error_over_time is not None:
                entry["error_over_time"] = {"t": self.times.tolist(), "rel_l2": e.error_over_time.tolist()}  # type: ignore[union-attr]
            per_output[name] = entry
        if len(self.outputs) == 1 and "error_over_time" in next(iter(per_output.values())):
            out["error_over_time"] = next(iter(per_output.values()))["error_over_time"]
        out["per_output"] = per_output
        return out


@torch.no_grad()
def predict(model: nn.Module, points: np.ndarray, *, batch: int = 4096) -> np.ndarray:
    """Evaluate ``model`` at numpy points (N, d) in batches; returns (N, m) float64.

    A KAN holds several (batch, width, basis) tensors per layer while it evaluates, so
    the batch stays small enough that a fine reference grid does not set the run's memory peak.
    """
    param = next(model.parameters())
    chunks = []
    for start in range(0, points.shape[0], batch):
        x = torch.as_tensor(points[start : start + batch], dtype=param.dtype, device=param.device)
        chunks.append(model(x).double().cpu().numpy())
    return np.concatenate(chunks) if chunks else np.empty((0, 0))


def compare(
    model: nn.Module,
    grid: GridSolution,
    *,
    outputs: Sequence[str] = ("u",),
    exact: Exact | None = None,
    time_axis: str | None = "t",
) -> Comparison:
    """Compare a trained model with a reference on the reference's grid.

    Parameters
    ----------
    model : torch.nn.Module
        Maps points (N, d) to outputs (N, m).
    grid : GridSolution
        Reference values on a grid; every output it holds is compared.
    outputs : sequence of str
        Names of the model's output columns, in order.
    exact : callable, optional
        Exact solution at numpy points (N, d) -> mapping of output name to (N,); adds ``rel_l2_exact``.
    time_axis : str or None
        Coordinate for the error over time (ignored if the grid has no such axis).
    """
    outputs = tuple(outputs)
    missing = [name for name in grid.output_names if name not in outputs]
    if missing:
        raise InputValueError(f"the reference has outputs {missing} that the model lacks; the model's outputs are {outputs}")
    inside = grid.inside.reshape(-1)
    points = grid.points()
    predicted = np.full((points.shape[0], len(outputs)), np.nan)
    predicted[inside] = predict(model, points[inside])
    exact_values = exact(points[inside]) if exact is not None else None
    axis = time_axis if time_axis in grid.axes else None
    errors = {}
    for name, reference in grid.outputs.items():
        prediction = predicted[:, outputs.index(name)].reshape(grid.shape)
        rel_l2_exact = None
        if exact_values is not None:
            rel_l2_exact = _rel_l2(prediction.reshape(-1)[inside], np.asarray(exact_values[name], dtype=np.float64))
        errors[name] = OutputErrors(
            prediction=prediction,
            reference=reference,
            rel_l2=_rel_l2(prediction[grid.inside], reference[grid.inside]),
            linf=float(np.max(np.abs(prediction[grid.inside] - reference[grid.inside]))),
            error_over_time=None if axis is None else _over_time(prediction, reference, grid.inside, grid.axes.index(axis)),
            rel_l2_exact=rel_l2_exact,
        )
    return Comparison(grid, errors, axis)


def reference_grid(problem: Problem) -> GridSolution:
    """The solution to compare against: the FD reference, else the exact solution on a grid.

    The exact solution is sampled with ``problem.reference_points`` per coordinate
    (fewer for three or more coordinates), masked to the domain when it is not a box.
    """
    if problem.reference is not None:
        grid = call_user(f"the reference of problem {problem.name!r}", problem.reference, runtime_errors=True)
        if not isinstance(grid, GridSolution):
            raise InputTypeError(f"{problem.name}: reference() must return a GridSolution, got {type(grid).__name__}")
        if grid.axes != problem.coordinates:
            raise InputValueError(
                f"{problem.name}: reference axes {grid.axes} differ from the domain's coordinates {problem.coordinates}"
            )
        unknown = [o for o in grid.output_names if o not in problem.outputs]
        if unknown:
            raise InputValueError(f"{problem.name}: the reference has outputs {unknown}; the problem's are {problem.outputs}")
        return grid
    if problem.exact is None:
        raise InputValueError(
            f"problem {problem.name!r} has neither an exact solution nor a reference; give it exact=... or "
            f"reference=... to compare"
        )
    domain = problem.domain
    lo, hi = domain.bounds()
    n = problem.reference_points if domain.dim <= 2 else max(11, problem.reference_points // (domain.dim - 1))
    coords = tuple(np.linspace(a, b, n) for a, b in zip(lo, hi))
    mask = None if _is_box(domain) else domain.inside(grid_points(coords)).reshape(tuple(len(c) for c in coords))
    return GridSolution.from_function(problem.exact_values, problem.coordinates, coords, mask=mask)


def _is_box(domain: object) -> bool:
    space = domain.space if isinstance(domain, SpaceTime) else domain
    return isinstance(space, Box)


def _over_time(prediction: np.ndarray, reference: np.ndarray, inside: np.ndarray, axis: int) -> np.ndarray:
    err = np.where(inside, prediction - reference, 0.0)
    ref = np.where(inside, reference, 0.0)
    err = np.moveaxis(err, axis, 0).reshape(err.shape[axis], -1)
    ref = np.moveaxis(ref, axis, 0).reshape(ref.shape[axis], -1)
    norms = np.linalg.norm(ref, axis=1)
    return np.linalg.norm(err, axis=1) / np.where(norms > 0, norms, 1.0)


def _rel_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    norm = float(np.linalg.norm(reference))
    diff = float(np.linalg.norm(prediction - reference))
    return diff / norm if norm > 0 else diff
