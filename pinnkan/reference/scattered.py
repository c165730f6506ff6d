"""A solution known at scattered points (numpy only): the nodes of a mesh, the rows of a table.

Finite-element and finite-volume codes give their solutions at mesh nodes, not on
a tensor-product grid. A :class:`ScatteredSolution` holds such values as they are:
comparing a model with it evaluates the model at the points themselves, so no
interpolation error of the reference is hidden in the comparison.

Examples
--------
>>> pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
>>> s = ScatteredSolution(("x", "y"), pts, {"u": np.array([0.0, 1.0, 2.0])}, source="fem")
>>> s.size, s.output_names
(3, ('u',))
>>> snap = ScatteredSolution.from_snapshots(("x", "t"), np.array([[0.0], [1.0]]), np.array([0.0, 0.5]),
...                                         np.array([[1.0, 2.0], [3.0, 4.0]]))
>>> snap.points.tolist(), snap.values.tolist()
([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5], [1.0, 0.5]], [1.0, 2.0, 3.0, 4.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputValueError
from .outputs import NamedOutputs, named

__all__ = ["ScatteredSolution"]


class ScatteredSolution(NamedOutputs):
    """Values of a solution at points ``points[i]``, one value per point and output.

    Parameters
    ----------
    axes : sequence of str
        Coordinate names in column order, e.g. ``("x", "y")`` or ``("x", "t")``.
    points : numpy.ndarray
        Shape (N, len(axes)): the coordinates of every point, time as one column.
    values : numpy.ndarray or mapping of str to numpy.ndarray
        Shape (N,): one array for a single output (named ``"u"``), or one per output name.
    source : str
        Where the values come from, recorded in ``report.json`` (e.g. ``"file: sol.vtu"``).
    triangles : numpy.ndarray of int, optional
        Shape (K, 3): triangles of the points of a two-column solution (a 2-D mesh's
        cells), used to draw it; None: figures triangulate the points themselves.
    """

    def __init__(
        self,
        axes: Sequence[str],
        points: np.ndarray,
        values: np.ndarray | Mapping[str, np.ndarray],
        *,
        source: str = "file",
        triangles: np.ndarray | None = None,
    ) -> None:
        axes = tuple(axes)
        if not axes or len(set(axes)) != len(axes) or not all(isinstance(a, str) and a for a in axes):
            raise InputValueError(f"give one distinct axis name per column of the points, got {axes}")
        points = np.asarray(points, dtype=np.float64)
        if points.ndim == 1 and len(axes) == 1:
            points = points[:, None]
        if points.ndim != 2 or points.shape[1] != len(axes):
            raise InputValueError(
                f"points have shape {points.shape}; axes {axes} need shape (N, {len(axes)}): one column per coordinate"
            )
        if points.shape[0] < 1:
            raise InputValueError("a scattered solution needs at least one point")
        if not np.all(np.isfinite(points)):
            row = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
            raise InputValueError(f"point {row} has NaN or infinite coordinates {points[row].tolist()}; remove that row")
        outputs = {}
        for name, array in named(values).items():
            array = np.asarray(array, dtype=np.float64)
            if array.shape != (points.shape[0],):
                raise InputValueError(
                    f"values of {name!r} have shape {array.shape}; the {points.shape[0]} points need shape "
                    f"({points.shape[0]},)"
                )
            bad = ~np.isfinite(array)
            if bad.any():
                where = points[int(np.flatnonzero(bad)[0])].tolist()
                raise InputValueError(
                    f"values of {name!r} are NaN or infinite at {int(bad.sum())} points (the first at {where}); "
                    f"drop those points or fix the solver's output"
                )
            outputs[name] = array
        if not isinstance(source, str) or not source:
            raise InputValueError(f"source must be a non-empty string saying where the values come from, got {source!r}")
        if triangles is not None:
            triangles = np.asarray(triangles)
            if len(axes) != 2:
                raise InputValueError(f"triangles are for points of two columns; these have {len(axes)}: leave them out")
            if (triangles.ndim != 2 or triangles.shape[1] != 3 or not np.issubdtype(triangles.dtype, np.integer)
                    or triangles.size and (triangles.min() < 0 or triangles.max() >= points.shape[0])):
                raise InputValueError(
                    f"triangles must be an int array (K, 3) of point indices in [0, {points.shape[0]}), "
                    f"got shape {triangles.shape}"
                )
        self.axes = axes
        self.points = points
        self.outputs = outputs
        self.source = source
        self.triangles = triangles

    def __repr__(self) -> str:
        return f"ScatteredSolution(axes={self.axes}, points={self.size}, outputs={self.output_names}, source={self.source!r})"

    @property
    def size(self) -> int:
        """Number of points."""
        return self.points.shape[0]

    @property
    def shape(self) -> tuple[int]:
        """Shape of every output's values: ``(N,)``."""
        return (self.size,)

    @property
    def inside(self) -> np.ndarray:
        """True at every point: all of a scattered solution's points are compared."""
        return np.ones(self.size, dtype=bool)

    def column(self, axis: str) -> np.ndarray:
        """The coordinate ``axis`` of every point, shape (N,)."""
        if axis not in self.axes:
            raise InputValueError(f"this solution has axes {self.axes}, not {axis!r}")
        return self.points[:, self.axes.index(axis)]

    def snapshots(self, time_axis: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times (T,), slice of every point (N,))`` when the points are the same space points at each time.

        None when they are not (the times of a space-time mesh, say): then there is
        no series of space meshes to draw or export.
        """
        times, which = np.unique(self.column(time_axis), return_inverse=True)
        counts = np.bincount(which)
        if times.size < 2 or np.any(counts != counts[0]):
            return None
        space = [i for i, a in enumerate(self.axes) if a != time_axis]
        order = np.lexsort([*(self.points[:, i] for i in reversed(space)), which])
        per_time = self.points[order][:, space].reshape(times.size, counts[0], len(space))
        return (times, which) if np.array_equal(per_time, np.broadcast_to(per_time[:1], per_time.shape)) else None

    @classmethod
    def from_snapshots(
        cls,
        axes: Sequence[str],
        space_points: np.ndarray,
        times: np.ndarray,
        values: np.ndarray | Mapping[str, np.ndarray],
        *,
        time_axis: str = "t",
        source: str = "file",
    ) -> ScatteredSolution:
        """The same space points at several times: a column of values per time, as COMSOL or XDMF give them.

        Parameters
        ----------
        axes : sequence of str
            Every coordinate in column order, the time axis among them (``("x", "y", "t")``).
        space_points : numpy.ndarray
            Shape (M, len(axes) - 1): the space coordinates, in the order of ``axes`` without time.
        times : numpy.ndarray
            Shape (T,).
        values : numpy.ndarray or mapping of str to numpy.ndarray
            Shape (T, M) per output: row k holds the values at ``times[k]``.
        time_axis : str
            The name of the time axis.
        source : str
            As in :class:`ScatteredSolution`.
        """
        axes = tuple(axes)
        if time_axis not in axes:
            raise InputValueError(f"time_axis {time_axis!r} is not one of the axes {axes}")
        space_points = np.asarray(space_points, dtype=np.float64)
        if space_points.ndim == 1:
            space_points = space_points[:, None]
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        if space_points.ndim != 2 or space_points.shape[1] != len(axes) - 1:
            raise InputValueError(
                f"space points have shape {space_points.shape}; axes {axes} need (M, {len(axes) - 1}) "
                f"(every coordinate but {time_axis!r})"
            )
        given = named(values)
        m, t = space_points.shape[0], times.size
        flat = {}
        for name, array in given.items():
            array = np.asarray(array, dtype=np.float64)
            if array.shape != (t, m):
                raise InputValueError(
                    f"values of {name!r} have shape {array.shape}; {t} times and {m} space points need ({t}, {m})"
                )
            flat[name] = array.reshape(-1)
        where = axes.index(time_axis)
        points = np.insert(np.tile(space_points, (t, 1)), where, np.repeat(times, m), axis=1)
        return cls(axes, points, flat, source=source)
