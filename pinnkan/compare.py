"""Model versus reference at the reference's own points: error norms per output, error over time, arrays.

The reference is a :class:`~pinnkan.reference.grid.GridSolution` (points of the grid
outside the domain, a non-box domain's mask, are neither predicted nor compared) or
a :class:`~pinnkan.reference.scattered.ScatteredSolution` (the model is evaluated at
its points themselves: nothing is interpolated).
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
from .reference.readers import ReferenceFile
from .reference.scattered import ScatteredSolution

__all__ = ["OutputErrors", "Comparison", "Reference", "compare", "predict", "reference_solution"]

Exact = Callable[[np.ndarray], Mapping[str, np.ndarray]]
Reference = GridSolution | ScatteredSolution

# Time slices of a scattered reference whose points have (almost) all different times:
# the error over time is then taken over this many equal intervals of time.
TIME_BINS = 50


@dataclass(frozen=True)
class OutputErrors:
    """Errors of one output against the reference.

    Attributes
    ----------
    prediction : numpy.ndarray
        Model values at the reference's points, of the reference values' shape (on a
        grid: NaN outside the domain).
    reference : numpy.ndarray
        The reference values.
    rel_l2 : float
        ``||pred - ref||_2 / ||ref||_2`` over the reference's points inside the domain.
    linf : float
        ``max |pred - ref|`` inside the domain.
    error_over_time : numpy.ndarray or None
        Relative L2 error of each time slice (:attr:`Comparison.times`).
    rel_l2_exact : float or None
        Relative L2 error against the exact solution at the same points, when known.
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
    """Errors of a prediction against a reference, per output.

    For a single output, ``prediction``, ``rel_l2``, ``linf``, ``error_over_time``
    and ``rel_l2_exact`` are that output's; for a system ``rel_l2`` and ``linf`` are
    the largest over the outputs. ``times`` are the times of ``error_over_time``:
    a grid's time coordinates, a scattered reference's distinct times (or the
    middle times of :data:`TIME_BINS` intervals when its points have all different
    times); None without a time axis.
    """

    reference: Reference
    outputs: dict[str, OutputErrors]
    time_axis: str | None
    times: np.ndarray | None = None

    @property
    def _single(self) -> OutputErrors:
        if len(self.outputs) != 1:
            raise InputValueError(f"this comparison has outputs {tuple(self.outputs)}; read comparison.outputs[name]")
        return next(iter(self.outputs.values()))

    @property
    def prediction(self) -> np.ndarray:
        """The only output's prediction at the reference's points."""
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

    def metrics(self) -> dict[str, object]:
        """The figures as plain JSON-ready values."""
        out: dict[str, object] = {
            "rel_l2": self.rel_l2,
            "linf": self.linf,
            "reference": self.reference.source,
        }
        if isinstance(self.reference, GridSolution):
            out["grid_shape"] = list(self.reference.shape)
        else:
            out["reference_points"] = self.reference.size
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
    reference: Reference,
    *,
    outputs: Sequence[str] = ("u",),
    exact: Exact | None = None,
    time_axis: str | None = "t",
) -> Comparison:
    """Compare a trained model with a reference at the reference's points.

    Parameters
    ----------
    model : torch.nn.Module
        Maps points (N, d) to outputs (N, m).
    reference : GridSolution or ScatteredSolution
        Reference values on a grid or at scattered points; every output it holds is compared.
    outputs : sequence of str
        Names of the model's output columns, in order.
    exact : callable, optional
        Exact solution at numpy points (N, d) -> mapping of output name to (N,); adds ``rel_l2_exact``.
    time_axis : str or None
        Coordinate for the error over time (ignored if the reference has no such axis).
    """
    if not isinstance(reference, (GridSolution, ScatteredSolution)):
        raise InputTypeError(f"reference must be a GridSolution or a ScatteredSolution, got {type(reference).__name__}")
    outputs = tuple(outputs)
    missing = [name for name in reference.output_names if name not in outputs]
    if missing:
        raise InputValueError(f"the reference has outputs {missing} that the model lacks; the model's outputs are {outputs}")
    inside = reference.inside.reshape(-1)
    points = reference.points() if isinstance(reference, GridSolution) else reference.points
    predicted = np.full((points.shape[0], len(outputs)), np.nan)
    predicted[inside] = predict(model, points[inside])
    exact_values = exact(points[inside]) if exact is not None else None
    axis = time_axis if time_axis in reference.axes else None
    times, slices = (None, None) if axis is None else _time_slices(reference, axis)
    errors = {}
    for name, values in reference.outputs.items():
        prediction = predicted[:, outputs.index(name)].reshape(reference.shape)
        rel_l2_exact = None
        if exact_values is not None:
            rel_l2_exact = _rel_l2(prediction.reshape(-1)[inside], np.asarray(exact_values[name], dtype=np.float64))
        errors[name] = OutputErrors(
            prediction=prediction,
            reference=values,
            rel_l2=_rel_l2(prediction[reference.inside], values[reference.inside]),
            linf=float(np.max(np.abs(prediction[reference.inside] - values[reference.inside]))),
            error_over_time=None if slices is None else _over_time(
                prediction.reshape(-1), values.reshape(-1), inside, slices, len(times)),  # type: ignore[arg-type]
            rel_l2_exact=rel_l2_exact,
        )
    return Comparison(reference, errors, axis, times)


def reference_solution(problem: Problem) -> Reference:
    """The solution to compare against: the problem's reference, else the exact solution on a grid.

    ``problem.reference`` is a function returning a :class:`GridSolution` or
    :class:`ScatteredSolution`, such a solution itself, or a file
    (:class:`~pinnkan.reference.readers.ReferenceFile`, read now). The exact solution
    is sampled with ``problem.reference_points`` per coordinate (fewer for three or
    more coordinates), masked to the domain when it is not a box.

    Raises
    ------
    ValueError
        When the reference's axes or outputs are not the problem's, or scattered
        points lie outside the domain.
    """
    if problem.reference is not None:
        reference = problem.reference
        if isinstance(reference, ReferenceFile):
            reference = reference.read(problem.coordinates, problem.outputs, problem.time)
        elif callable(reference):
            reference = call_user(f"the reference of problem {problem.name!r}", reference, runtime_errors=True)
        if not isinstance(reference, (GridSolution, ScatteredSolution)):
            raise InputTypeError(
                f"{problem.name}: reference() must return a GridSolution or a ScatteredSolution, got "
                f"{type(reference).__name__}"
            )
        _check_reference(problem, reference)
        return reference
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


def _check_reference(problem: Problem, reference: Reference) -> None:
    if reference.axes != problem.coordinates:
        raise InputValueError(
            f"{problem.name}: reference axes {reference.axes} differ from the domain's coordinates {problem.coordinates}"
        )
    unknown = [o for o in reference.output_names if o not in problem.outputs]
    if unknown:
        raise InputValueError(f"{problem.name}: the reference has outputs {unknown}; the problem's are {problem.outputs}")
    if isinstance(reference, GridSolution):
        if reference.mask is not None and reference.source.startswith("file: "):
            points = reference.points()
            lost = np.asarray(problem.domain.inside(points), dtype=bool) & ~reference.mask.reshape(-1)
            if lost.any():
                first = dict(zip(reference.axes, points[int(np.flatnonzero(lost)[0])].tolist()))
                raise InputValueError(
                    f"{problem.name}: the reference is NaN at {int(lost.sum())} grid points inside the domain (the "
                    f"first at {first}); NaN may mark points outside the domain only"
                )
    else:
        outside = ~np.asarray(problem.domain.inside(reference.points), dtype=bool)
        if outside.any():
            first = reference.points[int(np.flatnonzero(outside)[0])].tolist()
            raise InputValueError(
                f"{problem.name}: {int(outside.sum())} of the reference's {reference.size} points lie outside the "
                f"domain (the first at {dict(zip(reference.axes, first))}); check the file's coordinates and units"
            )


def _time_slices(reference: Reference, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """``(times (T,), slice of every reference value (N,))`` for the error over time."""
    if isinstance(reference, GridSolution):
        k = reference.axes.index(axis)
        index = np.indices(reference.shape)[k].reshape(-1)
        return reference.coords[k], index
    t = reference.column(axis)
    times, which = np.unique(t, return_inverse=True)
    if times.size <= max(2, t.size // 4):
        return times, which.reshape(-1)
    edges = np.linspace(t.min(), t.max(), TIME_BINS + 1)
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, TIME_BINS - 1)
    used, which = np.unique(which, return_inverse=True)
    return (edges[used] + edges[used + 1]) / 2, which.reshape(-1)


def _is_box(domain: object) -> bool:
    space = domain.space if isinstance(domain, SpaceTime) else domain
    return isinstance(space, Box)


def _over_time(prediction: np.ndarray, reference: np.ndarray, inside: np.ndarray, slices: np.ndarray,
               count: int) -> np.ndarray:
    """Relative L2 error of each time slice; values flat (N,), ``slices`` the slice of each."""
    err = np.bincount(slices[inside], weights=(prediction[inside] - reference[inside]) ** 2, minlength=count)
    ref = np.bincount(slices[inside], weights=reference[inside] ** 2, minlength=count)
    return np.sqrt(err) / np.where(ref > 0, np.sqrt(ref), 1.0)


def _rel_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    norm = float(np.linalg.norm(reference))
    diff = float(np.linalg.norm(prediction - reference))
    return diff / norm if norm > 0 else diff
