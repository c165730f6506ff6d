"""A run's solution out of pinnkan: to ParaView (VTU, XDMF), xarray (netCDF), numpy (``.npz``), MATLAB, text.

:func:`export_run` evaluates the trained model of a run folder at the points of the
problem's reference (so the file also holds the reference and the error there), or
on a grid over the domain when there is none, and writes every output, every PDE
residual term and, with a reference, ``reference_<output>`` and ``error_<output>``
(prediction minus reference) through :func:`pinnkan.reference.writers.write_table`.
A space-time run becomes an XDMF time series (``.xdmf``) or a space-time mesh
(``.vtu``); netCDF always gets a grid. A plane (at every time) is meshed by triangles
whose centres lie in the domain, so holes and re-entrant corners stay open.

Examples
--------
>>> export_run("runs/heat1d", "heat1d.xdmf")  # doctest: +SKIP
PosixPath('heat1d.xdmf')
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay

from ..compare import reference_solution
from ..errors import InputTypeError, InputValueError, whole
from ..pde.geometry import Domain, SpaceTime
from ..pde.problem import Problem
from ..reference.grid import GridSolution, grid_points
from ..reference.readers import NETCDF_SUFFIXES, ReferenceFile
from ..reference.writers import PointTable, write_table
from .figures import evaluate_points
from .load import load_run, run_problem

__all__ = ["export_run", "export_table"]


def export_run(
    folder: str | os.PathLike[str],
    to: str | os.PathLike[str],
    *,
    problem: Problem | str | os.PathLike[str] | None = None,
    reference: ReferenceFile | None = None,
    points_per_axis: int | None = None,
) -> Path:
    """Write the solution of a run folder to a file; returns the file's path.

    Parameters
    ----------
    folder : path
        A run folder written by :func:`pinnkan.solve` (``pinnkan solve``).
    to : path
        The file to write; its suffix picks the format (``.vtu``, ``.xdmf``, ``.nc``,
        ``.npz``, ``.mat``, ``.txt``, ``.csv`` and the other mesh formats of meshio).
    problem : Problem or path, optional
        The problem the run solved, or its file; by default the built-in problem
        of the run's name, with the run's parameters.
    reference : ReferenceFile, optional
        Compare with this file instead of the problem's own reference (as a run
        solved with ``--reference FILE`` was).
    points_per_axis : int, optional
        Points along each axis of the grid used when there is no reference (or for
        netCDF of a scattered reference); by default 101 for one or two coordinates,
        41 for three, 17 for more.

    Raises
    ------
    ValueError
        A folder that is not a run, a problem that is not the run's, a format that
        cannot hold the values (netCDF needs a grid, a mesh at most 3 coordinates).
    """
    saved = load_run(folder)
    problem = run_problem(saved, problem, "export")
    run = load_run(folder, problem=problem)
    if reference is not None:
        if not isinstance(reference, ReferenceFile):
            raise InputTypeError(f"reference must be a ReferenceFile(path, fields=...), got {type(reference).__name__}")
        problem = replace(problem, reference=reference, reference_error=None)
    return write_table(export_table(problem, run.model, gridded=Path(to).suffix.lower() in NETCDF_SUFFIXES,
                                    points_per_axis=points_per_axis), to)


def export_table(problem: Problem, model: object, *, gridded: bool = False,
                 points_per_axis: int | None = None) -> PointTable:
    """The values :func:`export_run` writes: outputs, residuals, and reference and error where there is one.

    ``gridded`` asks for a grid even when the reference is scattered.
    """
    if points_per_axis is not None and not whole(points_per_axis, 2):
        raise InputValueError(f"points_per_axis must be an int >= 2, got {points_per_axis!r}")
    reference = reference_solution(problem) if problem.has_reference else None
    if reference is not None and (isinstance(reference, GridSolution) or not gridded):
        if isinstance(reference, GridSolution):
            coords, points, inside = reference.coords, reference.points(), reference.inside.reshape(-1)
        else:
            coords, points, inside = None, reference.points, np.ones(reference.size, dtype=bool)
    else:
        reference = None
        coords = _grid(problem, points_per_axis)
        points = grid_points(coords)
        inside = np.asarray(problem.domain.inside(points), dtype=bool)
    outputs, residuals = evaluate_points(problem, model, points[inside])  # type: ignore[arg-type]
    fields: dict[str, np.ndarray] = {}

    def full(values: np.ndarray) -> np.ndarray:
        column = np.full(points.shape[0], np.nan)
        column[inside] = np.where(np.isfinite(values), values, np.nan)
        return column

    for name, values in outputs.items():
        fields[name] = full(values)
    for term, values in residuals.items():
        fields[f"residual_{term}"] = full(values)
    if reference is not None:
        for name, values in reference.outputs.items():
            fields[f"reference_{name}"] = np.where(inside, values.reshape(-1), np.nan)
            fields[f"error_{name}"] = fields[name] - fields[f"reference_{name}"]
    table = PointTable(problem.coordinates, points, fields, coords, problem.time)
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    if gridded or space.dim != 2:
        return table
    # a plane, or a plane over time: triangles of the points in the domain, for ParaView
    kept = table.at_points()
    if problem.time is None:
        triangles = getattr(reference, "triangles", None)
        return replace(kept, triangles=_triangles(space, kept.points) if triangles is None else triangles)
    series = kept.snapshots()
    return kept if series is None else replace(kept, triangles=_triangles(space, series[1]))


def _grid(problem: Problem, points_per_axis: int | None) -> tuple[np.ndarray, ...]:
    lo, hi = problem.domain.bounds()
    d = problem.domain.dim
    n = points_per_axis or (101 if d <= 2 else 41 if d == 3 else 17)
    return tuple(np.linspace(a, b, n) for a, b in zip(lo, hi))


def _triangles(domain: Domain, points: np.ndarray) -> np.ndarray | None:
    """Delaunay triangles of plane points whose centres lie in the (2-D) domain: a hole stays a hole."""
    if points.shape[0] < 3:
        return None
    try:
        triangles = Delaunay(points).simplices
    except Exception:  # collinear points
        return None
    keep = np.asarray(domain.inside(points[triangles].mean(axis=1)), dtype=bool)
    return triangles[keep]

