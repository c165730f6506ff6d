"""A solution sampled on a tensor-product grid (numpy only), with named outputs and a domain mask."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..errors import InputValueError
from .outputs import NamedOutputs, named

__all__ = ["GridSolution", "grid_points"]

# What made a grid solution; a file's values say which file ("file: sol.nc").
SOURCES = ("exact", "fd", "spectral")


class GridSolution(NamedOutputs):
    """Values of a solution on the grid ``coords[0] x coords[1] x ...``.

    Parameters
    ----------
    axes : sequence of str
        Coordinate names in axis order, e.g. ``("x", "t")``.
    coords : sequence of numpy.ndarray
        One increasing 1-D array per axis.
    values : numpy.ndarray or mapping of str to numpy.ndarray
        Shape ``(len(coords[0]), len(coords[1]), ...)``: one array for a single
        output (named ``"u"``), or one per output name for a system.
    source : str
        ``"exact"`` (an exact solution), ``"fd"`` (a finite-difference solver),
        ``"spectral"`` (a spectral solver) or ``"file: NAME"`` (read from a file).
    mask : numpy.ndarray of bool, optional
        True at grid points inside the domain (for non-box domains); values outside
        are ignored and may be NaN. None: every point is inside.

    Examples
    --------
    >>> g = GridSolution(("x",), (np.linspace(0, 1, 3),), {"u": np.zeros(3), "v": np.ones(3)}, "exact")
    >>> g.output_names, g.outputs["v"].tolist()
    (('u', 'v'), [1.0, 1.0, 1.0])
    """

    def __init__(
        self,
        axes: Sequence[str],
        coords: Sequence[np.ndarray],
        values: np.ndarray | Mapping[str, np.ndarray],
        source: str,
        *,
        mask: np.ndarray | None = None,
    ) -> None:
        axes = tuple(axes)
        coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
        if len(axes) != len(coords) or len(set(axes)) != len(axes):
            raise InputValueError(f"give one distinct axis name per coordinate array, got {axes}")
        for name, c in zip(axes, coords):
            if c.ndim != 1 or c.size < 2 or not np.all(np.diff(c) > 0) or not np.all(np.isfinite(c)):
                raise InputValueError(f"coordinates of {name!r} must be a finite increasing 1-D array of >= 2 points")
        shape = tuple(c.size for c in coords)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != shape:
                raise InputValueError(f"the mask has shape {mask.shape}; the coordinates need {shape}")
            if not mask.any():
                raise InputValueError("the mask leaves no grid point inside the domain; use a finer grid")
        outputs = {}
        for name, array in named(values).items():
            array = np.asarray(array, dtype=np.float64)
            if array.shape != shape:
                raise InputValueError(f"values of {name!r} have shape {array.shape}; the coordinates need {shape}")
            inside = array if mask is None else array[mask]
            if not np.all(np.isfinite(inside)):
                raise InputValueError(
                    f"grid values of {name!r} contain NaN or infinity inside the domain; check the solver's "
                    f"inputs and resolution"
                )
            outputs[name] = array
        if source not in SOURCES and not (isinstance(source, str) and source.startswith("file: ")):
            raise InputValueError(f"source must be one of {SOURCES} or 'file: NAME', got {source!r}")
        self.axes = axes
        self.coords = coords
        self.outputs = outputs
        self.source = source
        self.mask = mask

    def __repr__(self) -> str:
        return f"GridSolution(axes={self.axes}, shape={self.shape}, outputs={self.output_names}, source={self.source!r})"

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape, one entry per axis."""
        return tuple(c.size for c in self.coords)

    @property
    def inside(self) -> np.ndarray:
        """Boolean array of the grid's shape: True where the solution is defined."""
        return np.ones(self.shape, dtype=bool) if self.mask is None else self.mask

    def points(self) -> np.ndarray:
        """All grid points, shape (N, len(axes)), in the order of ``values.reshape(-1)``."""
        return grid_points(self.coords)

    @classmethod
    def from_function(
        cls,
        func: Callable[[np.ndarray], np.ndarray | Mapping[str, np.ndarray]],
        axes: Sequence[str],
        coords: Sequence[np.ndarray],
        *,
        mask: np.ndarray | None = None,
    ) -> GridSolution:
        """Evaluate ``func(points (N, d))`` on the grid (``source="exact"``).

        ``func`` returns (N,) values of one output or a mapping of output name to (N,)
        values; with a ``mask`` it is evaluated inside the domain only (NaN elsewhere).
        """
        coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
        shape = tuple(c.size for c in coords)
        points = grid_points(coords)
        keep = np.ones(points.shape[0], dtype=bool) if mask is None else np.asarray(mask, dtype=bool).reshape(-1)
        result = func(points[keep])
        values = {}
        for name, column in named(result).items():
            column = np.asarray(column, dtype=np.float64).reshape(-1)
            if column.size != int(keep.sum()):
                raise InputValueError(
                    f"the function returned {column.size} values of {name!r} for {int(keep.sum())} points; "
                    f"return one value per point"
                )
            full = np.full(points.shape[0], np.nan)
            full[keep] = column
            values[name] = full.reshape(shape)
        return cls(tuple(axes), coords, values, "exact", mask=mask)


def grid_points(coords: Sequence[np.ndarray]) -> np.ndarray:
    """Every point of the grid ``coords[0] x coords[1] x ...``, shape (N, len(coords)), last axis fastest."""
    mesh = np.meshgrid(*coords, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)
