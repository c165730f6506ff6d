"""Balls in any dimension >= 2, and the disk.

Unit-cube points map onto a ball by exact measure-preserving maps, so every
sampler (quasi-random ones included) gives uniform points without rejection:
in 2-D ``r = R sqrt(u1), theta = 2 pi u2``; in d-D a direction from Gaussian
coordinates ``g = ndtri(u)`` (the inverse normal CDF) and ``r = R u_{d+1}^(1/d)``.

Examples
--------
>>> disk = Disk((0.0, 0.0), 2.0)
>>> round(disk.volume(), 6), round(disk.boundary_measure(), 6)
(12.566371, 12.566371)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.special import ndtri

from ...errors import InputTypeError, InputValueError
from ._checks import coordinate_names, finite_vector, points_array
from .base import Domain
from .distance import Coordinates, Piece

__all__ = ["Ball", "Disk"]

# Keeps ndtri finite for unit coordinates that are exactly 0 (possible for random draws).
_UNIT_FLOOR = 2.0**-60


class Ball(Domain):
    """The closed ball ``|p - c| <= R`` in ``d = len(center) >= 2`` dimensions.

    Parameters
    ----------
    center : sequence of float
        Centre ``c``, one entry per dimension.
    radius : float
        ``R > 0``.
    coordinates : sequence of str, optional
        Names; ``("x", "y", "z")`` up to 3-D, ``("x1", ..., "xd")`` above.
    """

    def __init__(
        self, center: Sequence[float], radius: float, *, coordinates: Sequence[str] | None = None
    ) -> None:
        self._center = finite_vector(center, "the centre of a ball")
        if len(self._center) < 2:
            raise InputValueError(
                f"a Ball needs a centre with at least 2 coordinates, got {len(self._center)}; "
                f"use an Interval in 1-D"
            )
        if isinstance(radius, bool) or not isinstance(radius, (int, float, np.number)):
            raise InputTypeError(f"radius must be a number, got {radius!r}")
        if not (math.isfinite(radius) and radius > 0):
            raise InputValueError(f"radius must be finite and > 0, got {radius!r}")
        self._radius = float(radius)
        dim = len(self._center)
        if coordinates is None:
            coordinates = ("x", "y", "z")[:dim] if dim <= 3 else tuple(f"x{i}" for i in range(1, dim + 1))
        self.coordinates = coordinate_names(coordinates, dim)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._center.tolist()}, {self._radius:g})"

    @property
    def center(self) -> np.ndarray:
        """Centre ``c``, shape (dim,)."""
        return self._center.copy()

    @property
    def radius(self) -> float:
        """Radius ``R``."""
        return self._radius

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._center - self._radius, self._center + self._radius

    def volume(self) -> float:
        """``pi^(d/2) / Gamma(d/2 + 1) * R^d``."""
        d = self.dim
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self._radius**d

    def boundary_measure(self) -> float:
        """``d * volume / R`` (the circumference ``2 pi R`` in 2-D)."""
        return self.dim * self.volume() / self._radius

    def inside(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        return np.linalg.norm(points - self._center, axis=1) <= self._radius + self.tolerance()

    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        return np.abs(np.linalg.norm(points - self._center, axis=1) - self._radius) <= self.tolerance()

    def normals(self, points: np.ndarray) -> np.ndarray:
        """``(p - c) / |p - c|`` (``= (p - c) / R`` on the sphere)."""
        points = points_array(points, self.coordinates)
        self._off_boundary(points, self.on_boundary(points))
        offset = points - self._center
        return offset / np.linalg.norm(offset, axis=1, keepdims=True)

    def distance(self, c: Coordinates) -> torch.Tensor:
        """``(R^2 - |p - c|^2) / (2 R)``: smooth, with unit slope along the inward normal on the sphere."""
        squares = sum((c[name] - float(centre)) ** 2 for name, centre in zip(self.coordinates, self._center))
        return (self._radius**2 - squares) / (2.0 * self._radius)

    def pieces(self) -> tuple[Piece, ...]:
        """The sphere (circle), one piece."""
        sample = lambda n, rng: self.sample_boundary("boundary", n, rng=rng)[0]  # noqa: E731
        return (Piece(f"circle of {self!r}" if self.dim == 2 else f"sphere of {self!r}", self.distance, sample, True),)

    # ----------------------------------------------------------------- maps
    def _interior_unit_dim(self) -> int:
        return 2 if self.dim == 2 else self.dim + 1

    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, None, None]:
        if self.dim == 2:
            radius = self._radius * np.sqrt(unit[:, 0])
            return self._center + radius[:, None] * _circle(unit[:, 1]), None, None
        radius = self._radius * unit[:, -1] ** (1.0 / self.dim)
        return self._center + radius[:, None] * _directions(unit[:, :-1]), None, None

    def _part_unit_dim(self, part: str) -> int:
        return 1 if self.dim == 2 else self.dim

    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        normals = _circle(unit[:, 0]) if self.dim == 2 else _directions(unit)
        return self._center + self._radius * normals, normals, None


class Disk(Ball):
    """The closed disk ``|p - c| <= R`` in the plane (a 2-D :class:`Ball`).

    Parameters
    ----------
    center : (float, float)
    radius : float
    coordinates : (str, str)
    """

    def __init__(
        self, center: Sequence[float], radius: float, *, coordinates: Sequence[str] = ("x", "y")
    ) -> None:
        if len(finite_vector(center, "the centre of a disk")) != 2:
            raise InputValueError(f"a Disk's centre has 2 coordinates, got {center!r}; use Ball in other dimensions")
        super().__init__(center, radius, coordinates=coordinates)


def _circle(u: np.ndarray) -> np.ndarray:
    """``(cos 2 pi u, sin 2 pi u)``, (m, 2)."""
    angle = 2.0 * np.pi * u
    return np.column_stack([np.cos(angle), np.sin(angle)])


def _directions(unit: np.ndarray) -> np.ndarray:
    """Uniform unit vectors (m, d) from unit points (m, d): ``g / |g|`` with ``g = ndtri(u)``."""
    gauss = ndtri(np.clip(unit, _UNIT_FLOOR, np.nextafter(1.0, 0.0)))
    norm = np.linalg.norm(gauss, axis=1, keepdims=True)
    # g = 0 only at the cube's centre (a grid point); any direction is as good there.
    degenerate = norm[:, 0] == 0.0
    gauss[degenerate, 0], norm[degenerate] = 1.0, 1.0
    return gauss / norm
