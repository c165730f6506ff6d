"""The pictures of a run: fields of the trained model on a grid, and every figure of a run folder, each in its own guard.

:func:`model_fields` evaluates the prediction and the size of every PDE residual
term on the grid that :func:`pinnkan.plotting.plot_fields` draws, so a run
without a reference still gets pictures of its solution. :func:`write_figures`
draws a run folder's figures; a figure that cannot be drawn is a
:class:`FigureWarning` and a line in ``report.json``, never a failed run.

Examples
--------
>>> fields = model_fields(problem, solution.model)  # doctest: +SKIP
>>> fields.names  # doctest: +SKIP
('u', '|residual pde|')
>>> plot_fields(fields.select(["u"]), "u.png")  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, whole
from ..grid_fields import HEIGHTS, KINDS, GridFields
from ..pde.coefficients import CoefficientSet
from ..pde.engines import Auto, Autograd, Engine
from ..pde.geometry import SpaceTime
from ..pde.problem import Problem
from ..reference.scattered import ScatteredSolution

if TYPE_CHECKING:
    from .solve import Solution

__all__ = ["FigureWarning", "estimate_fields", "evaluate_points", "model_fields", "residual_name", "write_figures"]

# A further field evaluated at points: name -> (function of points (N, d) -> (N,), kind).
Extra = Mapping[str, tuple[Callable[[np.ndarray], np.ndarray], str]]

# Points per drawn axis of the default grid.
POINTS_PER_AXIS = 101
# Longest reason of a failed figure kept in report.json.
_REASON_CHARS = 500


class FigureWarning(UserWarning):
    """A figure of a run could not be drawn; the run and its other files are fine."""


def residual_name(term: str) -> str:
    """The field name of a residual term's magnitude: ``"pde"`` -> ``"|residual pde|"``."""
    return f"|residual {term}|"


def model_fields(
    problem: Problem,
    model: nn.Module,
    *,
    points_per_axis: int | None = None,
    coords: Sequence[np.ndarray] | None = None,
    residuals: bool = True,
    extra: Extra | None = None,
    coefficients: Mapping[str, torch.Tensor | float] | None = None,
    engine: Engine | None = None,
    batch: int = 2048,
) -> GridFields:
    """The model's outputs and ``|residual|`` of every PDE term on a grid over the domain's bounding box.

    By default the grid holds exactly the planes that
    :func:`~pinnkan.plotting.plot_fields` draws, each with ``points_per_axis`` points
    along both of its axes, so a 3-D or 4-D domain costs three planes, not a cube:

    - one or two axes: the whole box;
    - two or more space axes and time: the plane of the first two space axes at the
      first, middle and last time (further space axes cut at the middle of their range);
    - three or more space axes without time: that plane at a quarter, half and three
      quarters of the third axis's range (further axes cut at the middle).

    Points outside the domain (``problem.domain.inside``) are NaN and masked; so are
    the residuals on its boundary (the lateral boundary of a space-time domain),
    where the conditions hold instead of the PDE.

    Parameters
    ----------
    problem : Problem
    model : torch.nn.Module
        Maps points (N, d) to outputs (N, m): a trained :class:`~pinnkan.pde.pinn.PINN`
        or any module.
    points_per_axis : int, optional
        Points along each drawn axis of the default grid; 101 when None.
    coords : sequence of numpy.ndarray, optional
        A grid of your own, one increasing array per coordinate (a single point cuts
        that axis), instead of the default one.
    residuals : bool
        Add ``|residual <term>|`` (see :func:`residual_name`) of every PDE term:
        ``"magnitude"`` fields.
    extra : mapping of str to (callable, str), optional
        Further fields: name -> ``(function, kind)`` with ``function(points (N, d))
        -> (N,)`` evaluated at the grid points inside the domain and ``kind`` one of
        ``"values"``, ``"signed"``, ``"magnitude"`` (e.g. an estimated error). Arrays
        already on this grid are added with :meth:`GridFields.with_field`.
    coefficients : mapping of str to tensor or float, optional
        The values the residual reads; by default the model's own
        (``model.coefficient_values()``) or, for a module without any, the problem's
        declared values.
    engine : Engine, optional
        Computes the residual's derivatives; :class:`~pinnkan.pde.engines.Auto` by
        default (forward jets through pinnkan's networks, about ten times faster
        than autograd here; autograd for any other module). When the engine cannot
        run the residual (it raises on the first batch), autograd computes it:
        the values agree to rounding.
    batch : int
        Points per evaluation (the residual keeps an autograd graph per batch).

    Returns
    -------
    GridFields
        The outputs (``"values"``), then the residual magnitudes, then ``extra``, in that
        order; ``time_axis`` is the problem's time coordinate.
    """
    if not isinstance(problem, Problem):
        raise InputTypeError(f"model_fields takes a Problem, got {type(problem).__name__}")
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be a torch.nn.Module mapping points (N, d) to outputs, got {type(model).__name__}")
    if not whole(batch, 1):
        raise InputValueError(f"batch must be a positive int, got {batch!r}")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine must be an Engine such as Auto() or Autograd(), got {type(engine).__name__}")
    extra = _check_extra(extra, problem)
    if coords is not None:
        if points_per_axis is not None:
            raise InputValueError("give points_per_axis or coords, not both (coords sets every axis's points)")
        coords = _check_coords(coords, problem)
    else:
        n = POINTS_PER_AXIS if points_per_axis is None else points_per_axis
        if not whole(n, 2):
            raise InputValueError(f"points_per_axis must be an int >= 2, got {points_per_axis!r}")
        coords = _drawn_grid(problem, n)
    shape = tuple(c.size for c in coords)
    mesh = np.meshgrid(*coords, indexing="ij")
    points = np.stack([m.reshape(-1) for m in mesh], axis=1)
    inside = np.asarray(problem.domain.inside(points), dtype=bool)
    if not inside.any():
        raise InputValueError("no grid point lies inside the domain; give more points_per_axis or other coords")
    columns, signed = evaluate_points(problem, model, points[inside], coefficients=coefficients, residuals=residuals,
                                      engine=engine, batch=batch)
    columns.update({residual_name(t): np.abs(r) for t, r in signed.items()})
    if residuals:
        # The PDE holds in the open domain; on its boundary the conditions hold instead, and
        # the derivatives of a hard constraint built by distance functions are singular there.
        edge = problem.domain.on_part("boundary", points[inside])
        for name in columns.keys() - set(problem.outputs):
            columns[name][edge] = np.nan
    for name, (function, _) in extra.items():
        columns[name] = _extra_values(name, function, points[inside])
    fields, kinds = {}, {}
    for name, column in columns.items():
        full = np.full(points.shape[0], np.nan)
        full[inside] = column
        fields[name] = full.reshape(shape)
        kinds[name] = extra[name][1] if name in extra else ("values" if name in problem.outputs else "magnitude")
    mask = None if inside.all() else inside.reshape(shape)
    return GridFields(problem.coordinates, coords, fields, kinds, mask=mask, time_axis=problem.time)


def write_figures(solution: Solution, folder: Path, *, extra: Extra | None = None) -> dict[str, str]:
    """Draw the figures of a run into ``folder``; file name -> ``"written"`` or ``"failed: <reason>"``.

    ``solution.png`` (prediction, reference and error with a reference; the
    prediction alone without), ``residual.png`` (``|residual|`` of every PDE term,
    computed by the setup's engine), ``loss_history.png`` (when a step was
    recorded), and with a reference and a time axis ``error_over_time.png`` (and
    ``snapshots.png`` for one space axis). Each figure is drawn in its own guard:
    an exception becomes a :class:`FigureWarning` naming the figure and the reason,
    and the other figures are still drawn.

    ``extra`` (see :func:`model_fields`), by default the estimated error of every
    output when the run has one (``solution.estimate``), is drawn beside the
    prediction in ``solution.png`` when there is no reference, and in
    ``error_estimate.png`` when there is one.
    """
    from ..plotting import plot_error_over_time, plot_fields, plot_history, plot_snapshots, plot_solution

    problem, comparison, history = solution.problem, solution.comparison, solution.train.history
    extra = dict(estimate_fields(solution) if extra is None else extra)
    engine = solution.setup.engine  # as the run computed its residuals
    fields = _once(lambda: model_fields(problem, solution.model, extra=extra, engine=engine))

    def residual_map(path: Path) -> object:
        every = fields()
        names = [n for n in every.names if n not in problem.outputs and n not in extra]
        return plot_fields(every.select(names), path, title=f"{problem.name}: size of the PDE residual")

    def prediction_map(path: Path) -> object:
        try:
            every = fields()
        except Exception:  # the residual may be what failed: the prediction can still be drawn
            every = model_fields(problem, solution.model, extra=extra, residuals=False)
        shown = " and ".join(["prediction", *extra])
        title = f"{problem.name}: {shown} (no reference to compare with)"
        return plot_fields(every.select([*problem.outputs, *extra]), path, title=title)

    figures: list[tuple[str, Callable[[Path], object]]] = []
    if history.records:
        figures.append(("loss_history.png", lambda path: plot_history(history, path)))
    if comparison is not None:
        figures.append(("solution.png", lambda path: plot_solution(comparison, path, inside=problem.domain.inside)))
    else:
        figures.append(("solution.png", prediction_map))
    figures.append(("residual.png", residual_map))
    if comparison is not None and comparison.time_axis is not None:
        figures.append(("error_over_time.png", lambda path: plot_error_over_time(comparison, path)))
        reference = comparison.reference
        if len(reference.axes) == 2 and (not isinstance(reference, ScatteredSolution)
                                         or reference.snapshots(comparison.time_axis) is not None):
            figures.append(("snapshots.png", lambda path: plot_snapshots(comparison, path)))
    if extra and comparison is not None:  # without a reference they are in solution.png
        title = f"{problem.name}: {', '.join(extra)}"
        figures.append(("error_estimate.png", lambda path: plot_fields(fields().select(list(extra)), path, title=title)))
    outcomes = {}
    for name, draw in figures:
        try:
            draw(folder / name)
        except Exception as err:  # a figure must never fail a run that trained
            reason = _reason(err)
            warnings.warn(f"{name} was not drawn: {reason}", FigureWarning, stacklevel=2)
            outcomes[name] = f"failed: {reason}"
        else:
            outcomes[name] = "written"
    return outcomes


def _drawn_grid(problem: Problem, n: int) -> tuple[np.ndarray, ...]:
    """The default grid of :func:`model_fields`: the planes plot_fields draws, ``n`` points along each drawn axis."""
    lo, hi = (np.asarray(b, dtype=np.float64) for b in problem.domain.bounds())
    names = problem.coordinates
    time = names.index(problem.time) if isinstance(problem.domain, SpaceTime) else None
    space = [i for i in range(len(names)) if i != time]

    def at(i: int, fractions: Sequence[float]) -> np.ndarray:
        return lo[i] + np.asarray(fractions, dtype=np.float64) * (hi[i] - lo[i])

    coords = [np.linspace(lo[i], hi[i], n) for i in range(len(names))]
    if len(space) >= 2 and time is not None:
        for i in space[2:]:
            coords[i] = at(i, [0.5])
        coords[time] = at(time, [0.0, 0.5, 1.0])
    elif len(space) >= 3:
        coords[space[2]] = at(space[2], HEIGHTS)
        for i in space[3:]:
            coords[i] = at(i, [0.5])
    return tuple(coords)


def _check_coords(coords: Sequence[np.ndarray], problem: Problem) -> tuple[np.ndarray, ...]:
    if len(coords) != len(problem.coordinates):
        raise InputValueError(f"give one coordinate array per coordinate {problem.coordinates}, got {len(coords)}")
    checked = []
    for name, c in zip(problem.coordinates, coords):
        c = np.asarray(c, dtype=np.float64)
        if c.ndim != 1 or c.size < 1 or not np.all(np.isfinite(c)) or not np.all(np.diff(c) > 0):
            raise InputValueError(f"coords of {name!r} must be a finite increasing 1-D array of >= 1 point")
        checked.append(c)
    return tuple(checked)


def estimate_fields(solution: Solution) -> dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]]:
    """``"estimated error in <output>"`` (prediction minus the estimated solution) for every output, from the
    run's error estimate (none without one)."""
    estimate = getattr(solution, "estimate", None)
    correction = getattr(estimate, "correction", None)
    if correction is None:
        return {}
    # The correction is what the prediction lacks; its error is the opposite, as "prediction - reference".
    return {
        f"estimated error in {name}": (lambda p, j=j: -correction(p)[:, j], "signed")
        for j, name in enumerate(solution.problem.outputs)
    }


def _check_extra(extra: Extra | None, problem: Problem) -> dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]]:
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise InputTypeError("extra must map a field name to (function of points, kind), e.g. {'estimated error': (f, 'magnitude')}")
    taken = {*problem.outputs, *(residual_name(t) for t in problem.term_groups.get("pde", ()))}
    checked = {}
    for name, entry in extra.items():
        if not isinstance(name, str) or not name or name in taken:
            raise InputValueError(f"extra field names must be new non-empty strings (not {sorted(taken)}), got {name!r}")
        if not isinstance(entry, tuple) or len(entry) != 2 or not callable(entry[0]) or entry[1] not in KINDS:
            raise InputTypeError(f"extra[{name!r}] must be (function of points (N, d) -> (N,), kind in {KINDS}), got {entry!r}")
        checked[name] = entry
    return checked


def _dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The model's floating dtype and device (of its first parameter or buffer); float64 on the CPU if it has none."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.float64, torch.device("cpu")


def _coefficients(problem: Problem, model: nn.Module, dtype: torch.dtype, device: torch.device) -> dict[str, torch.Tensor]:
    values = getattr(model, "coefficient_values", None)
    if callable(values):
        return dict(values())
    return CoefficientSet(problem.coefficients, dtype=dtype, device=device).values()  # type: ignore[arg-type]


def evaluate_points(
    problem: Problem,
    model: nn.Module,
    points: np.ndarray,
    *,
    coefficients: Mapping[str, torch.Tensor | float] | None = None,
    residuals: bool = True,
    engine: Engine | None = None,
    batch: int = 2048,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The model's outputs and every PDE residual term at points (N, d): two mappings of name -> (N,) float64.

    The residuals are signed, named by their terms (``"pde"``, ``"momentum_x"``); the
    engine and coefficients are chosen as in :func:`model_fields`.
    """
    dtype, device = _dtype_device(model)
    if coefficients is None:
        coefficients = _coefficients(problem, model, dtype, device)
    engine = Auto() if engine is None else engine
    # Jets cannot run every residual (one that differentiates by itself, a derivative
    # order they do not carry); autograd can, so it takes over after a first failure.
    engines = [engine] if isinstance(engine, Autograd) else [engine, Autograd()]
    needs = None  # the derivatives the residual asks for, learned on the first batch
    chunks: dict[str, list[np.ndarray]] = {}
    terms: dict[str, list[np.ndarray]] = {}
    for start in range(0, points.shape[0], batch):
        x = torch.as_tensor(points[start : start + batch], dtype=dtype, device=device)
        found: dict[str, torch.Tensor] = {}
        if residuals:
            while True:
                try:
                    # derivatives with respect to the points need a graph even for jets' inputs
                    with torch.enable_grad():
                        field = problem.field(model, x, coefficients=coefficients, engine=engines[0], needs=needs)
                        values = {name: field.value(name) for name in problem.outputs}
                        found = problem.residuals(field)
                    break
                except Exception:
                    if start > 0 or len(engines) == 1:
                        raise
                    engines.pop(0)
            needs = frozenset(field.requested)
        else:
            with torch.no_grad():
                out = model(x)
            values = {name: out[:, i] for i, name in enumerate(problem.outputs)}
        for name, v in values.items():
            chunks.setdefault(name, []).append(v.detach().double().cpu().numpy())
        for name, r in found.items():
            terms.setdefault(name, []).append(r.detach().double().cpu().numpy())
    return ({name: np.concatenate(parts) for name, parts in chunks.items()},
            {name: np.concatenate(parts) for name, parts in terms.items()})


def _extra_values(name: str, function: Callable[[np.ndarray], np.ndarray], points: np.ndarray) -> np.ndarray:
    values = np.asarray(function(points), dtype=np.float64)
    if values.shape == (points.shape[0], 1):
        values = values[:, 0]
    if values.shape != (points.shape[0],):
        raise InputValueError(
            f"extra field {name!r} returned shape {values.shape} for {points.shape[0]} points; return one value per point"
        )
    return values


def _once(compute: Callable[[], GridFields]) -> Callable[[], GridFields]:
    """``compute`` run at the first call only; later calls return its result or raise its error again."""
    memo: dict[str, object] = {}

    def get() -> GridFields:
        if "error" in memo:
            raise memo["error"]  # type: ignore[misc]
        if "value" not in memo:
            try:
                memo["value"] = compute()
            except Exception as err:
                memo["error"] = err
                raise
        return memo["value"]  # type: ignore[return-value]

    return get


def _reason(err: Exception) -> str:
    """``"ValueError: message"`` on one line, cut to a readable length."""
    text = " ".join(str(err).split()) or "(no message)"
    reason = f"{type(err).__name__}: {text}"
    return reason if len(reason) <= _REASON_CHARS else reason[: _REASON_CHARS - 3] + "..."
