"""A solution sampled on a tensor-product grid (numpy only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["GridSolution"]

SOURCES = ("exact", "fd")


@dataclass(frozen=True)
class GridSolution:
    """Values of a solution on the grid ``coords[0] x coords[1] x ...``.

    Attributes
    ----------
    axes : tuple of str
        Coordinate names in axis order, e.g. ``("x", "t")``.
    coords : tuple of numpy.ndarray
        One increasing 1-D array per axis.
    values : numpy.ndarray
        Shape ``(len(coords[0]), len(coords[1]), ...)``.
    source : str
        ``"exact"`` (an exact solution) or ``"fd"`` (a finite-difference solver).
    """

    axes: tuple[str, ...]
    coords: tuple[np.ndarray, ...]
    values: np.ndarray
    source: str

    def __post_init__(self) -> None:
        axes = tuple(self.axes)
        coords = tuple(np.asarray(c, dtype=np.float64) for c in self.coords)
        values = np.asarray(self.values, dtype=np.float64)
        if len(axes) != len(coords) or len(set(axes)) != len(axes):
            raise ValueError(f"give one distinct axis name per coordinate array, got {axes}")
        for name, c in zip(axes, coords):
            if c.ndim != 1 or c.size < 2 or not np.all(np.diff(c) > 0) or not np.all(np.isfinite(c)):
                raise ValueError(f"coordinates of {name!r} must be a finite increasing 1-D array of >= 2 points")
        shape = tuple(c.size for c in coords)
        if values.shape != shape:
            raise ValueError(f"values have shape {values.shape}; the coordinates need {shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("grid values contain NaN or infinity; check the solver's inputs and resolution")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "values", values)

    def points(self) -> np.ndarray:
        """All grid points, shape (N, len(axes)), in the order of ``values.reshape(-1)``."""
        return _grid_points(self.coords)

    @classmethod
    def from_function(
        cls,
        func: Callable[[np.ndarray], np.ndarray],
        axes: Sequence[str],
        coords: Sequence[np.ndarray],
    ) -> GridSolution:
        """Evaluate ``func(points (N, d)) -> (N,)`` on the grid (``source="exact"``)."""
        coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
        shape = tuple(c.size for c in coords)
        points = _grid_points(coords)
        values = np.asarray(func(points), dtype=np.float64)
        if values.size != points.shape[0]:
            raise ValueError(
                f"the function returned {values.size} values for {points.shape[0]} points; "
                f"return one value per point"
            )
        return cls(tuple(axes), coords, values.reshape(shape), "exact")


def _grid_points(coords: Sequence[np.ndarray]) -> np.ndarray:
    mesh = np.meshgrid(*coords, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)
