"""Domains and point sampling: intervals, boxes, space-time products.

A domain has named coordinates, a bounding box, and named parts of its boundary.
Points are sampled by mapping a sampler's unit-cube points onto the interior or
onto a part, so random, Latin hypercube and Sobol points all work everywhere.

Parts of a :class:`Box` are ``"<name>_min"`` and ``"<name>_max"`` for each
coordinate (``"x_min"`` is the face ``x = lo``) and ``"boundary"`` for all faces.
A :class:`SpaceTime` has the spatial parts (lifted over time), ``"boundary"`` for
all of them, and ``"initial"`` for ``t = t0``.

Examples
--------
>>> domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
>>> domain.coordinates
('x', 't')
>>> rng = np.random.default_rng(0)
>>> domain.sample("initial", 4, sampler=Sobol(), rng=rng)[:, 1]
array([0., 0., 0., 0.])
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping

import numpy as np
from scipy.stats import qmc

__all__ = [
    "Sampler",
    "UniformRandom",
    "LatinHypercube",
    "Sobol",
    "Domain",
    "Box",
    "Interval",
    "SpaceTime",
    "INTERIOR",
]

INTERIOR = "interior"


class Sampler(ABC):
    """Draws points in the unit cube ``[0, 1)^dim``."""

    @abstractmethod
    def unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` points of shape (n, dim) in ``[0, 1)^dim``."""


class UniformRandom(Sampler):
    """Independent uniform random points."""

    def unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, dim))


class LatinHypercube(Sampler):
    """Latin hypercube points (``scipy.stats.qmc.LatinHypercube``)."""

    def unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        if dim == 0:
            return np.empty((n, 0))
        return qmc.LatinHypercube(d=dim, rng=rng).random(n)


class Sobol(Sampler):
    """Scrambled Sobol points (``scipy.stats.qmc.Sobol``).

    Parameters
    ----------
    scramble : bool
        Owen scrambling, seeded by the generator; keep it on unless you want the
        plain sequence (which starts at the origin).
    """

    def __init__(self, *, scramble: bool = True) -> None:
        self.scramble = scramble

    def unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        if dim == 0:
            return np.empty((n, 0))
        with warnings.catch_warnings():
            # Sobol's balance is best at powers of two; other counts are still valid.
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            return qmc.Sobol(d=dim, scramble=self.scramble, rng=rng).random(n)


class Domain(ABC):
    """A region with named coordinates and named boundary parts."""

    coordinates: tuple[str, ...]

    @property
    def dim(self) -> int:
        """Number of coordinates."""
        return len(self.coordinates)

    @property
    @abstractmethod
    def parts(self) -> tuple[str, ...]:
        """Names of the parts of the boundary that conditions can refer to."""

    @abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounding box ``(lo, hi)``, each of shape (dim,)."""

    @abstractmethod
    def part_dim(self, part: str) -> int:
        """Number of unit-cube coordinates :meth:`map_part` consumes for ``part``."""

    @abstractmethod
    def map_part(self, part: str, unit: np.ndarray) -> np.ndarray:
        """Map unit-cube points (n, part_dim) onto ``part`` (or the interior), (n, dim)."""

    @abstractmethod
    def normal(self, part: str, points: np.ndarray) -> np.ndarray:
        """Outward unit normals (n, dim) at points of a boundary part."""

    def sample(
        self,
        part: str,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Sample ``n`` points of the interior (``part="interior"``) or of a boundary part.

        Parameters
        ----------
        part : str
            ``"interior"`` or one of :attr:`parts`.
        n : int
            Number of points, ``>= 1``.
        sampler : Sampler, optional
            How to draw unit-cube points; :class:`UniformRandom` by default.
        rng : numpy.random.Generator, optional
            Source of randomness; pass a seeded one for reproducible points.

        Returns
        -------
        numpy.ndarray, shape (n, dim)
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"number of points must be a positive int, got {n!r}")
        if sampler is not None and not isinstance(sampler, Sampler):
            raise TypeError(
                f"sampler must be a Sampler such as UniformRandom(), LatinHypercube() or "
                f"Sobol(), got {type(sampler).__name__}"
            )
        self._check_part(part)
        sampler = sampler or UniformRandom()
        rng = rng if rng is not None else np.random.default_rng()
        return self.map_part(part, sampler.unit(int(n), self.part_dim(part), rng))

    def _check_part(self, part: str) -> None:
        if part != INTERIOR and part not in self.parts:
            raise ValueError(
                f"unknown part {part!r}; this domain has {INTERIOR!r} and boundary parts "
                f"{self.parts}"
            )


class Box(Domain):
    """An axis-aligned box ``[lo_1, hi_1] x ... x [lo_d, hi_d]``.

    Parameters
    ----------
    ranges : mapping of str to (float, float)
        Coordinate name to range, in coordinate order, e.g. ``{"x": (0, 1), "y": (0, 2)}``.
    """

    def __init__(self, ranges: Mapping[str, tuple[float, float]]) -> None:
        if not isinstance(ranges, Mapping) or not ranges:
            raise TypeError("Box takes a mapping of coordinate name to (lo, hi), e.g. {'x': (0, 1)}")
        lo, hi = [], []
        for name, rng in ranges.items():
            if not isinstance(name, str) or not name.isidentifier() or "_" in name:
                raise ValueError(
                    f"coordinate name {name!r} must be an identifier without underscores"
                )
            try:
                a, b = (float(v) for v in rng)
            except (TypeError, ValueError):
                raise TypeError(f"range of {name!r} must be a pair (lo, hi), got {rng!r}") from None
            if not (math.isfinite(a) and math.isfinite(b)):
                raise ValueError(f"range of {name!r} must be finite, got ({a}, {b})")
            if not a < b:
                raise ValueError(
                    f"range of {name!r} is degenerate or reversed: ({a}, {b}); pass (lo, hi) "
                    f"with lo < hi"
                )
            lo.append(a)
            hi.append(b)
        self.coordinates = tuple(ranges)
        self._lo = np.array(lo)
        self._hi = np.array(hi)

    def __repr__(self) -> str:
        ranges = ", ".join(
            f"{n!r}: ({a:g}, {b:g})" for n, a, b in zip(self.coordinates, self._lo, self._hi)
        )
        return f"Box({{{ranges}}})"

    @property
    def parts(self) -> tuple[str, ...]:
        faces = tuple(f"{n}_{side}" for n in self.coordinates for side in ("min", "max"))
        return faces + ("boundary",)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    def part_dim(self, part: str) -> int:
        self._check_part(part)
        if part == INTERIOR:
            return self.dim
        if part == "boundary":
            return max(self.dim - 1, 1)
        return self.dim - 1

    def map_part(self, part: str, unit: np.ndarray) -> np.ndarray:
        self._check_part(part)
        if part == INTERIOR:
            return self._lo + unit * (self._hi - self._lo)
        if part == "boundary":
            return self._map_boundary(unit)
        return self._map_face(self._face(part), unit)

    def normal(self, part: str, points: np.ndarray) -> np.ndarray:
        self._check_part(part)
        if part == INTERIOR:
            raise ValueError("normals exist on boundary parts only; pass a part such as 'x_min'")
        if part == "boundary":
            faces = [self._nearest_face(p) for p in points]
        else:
            faces = [self._face(part)] * len(points)
        normals = np.zeros((len(points), self.dim))
        for row, (axis, upper) in enumerate(faces):
            normals[row, axis] = 1.0 if upper else -1.0
        return normals

    def _face(self, part: str) -> tuple[int, bool]:
        name, side = part.rsplit("_", 1)
        return self.coordinates.index(name), side == "max"

    def _faces(self) -> list[tuple[int, bool]]:
        return [(axis, upper) for axis in range(self.dim) for upper in (False, True)]

    def _map_face(self, face: tuple[int, bool], unit: np.ndarray) -> np.ndarray:
        axis, upper = face
        others = [a for a in range(self.dim) if a != axis]
        points = np.empty((unit.shape[0], self.dim))
        points[:, axis] = self._hi[axis] if upper else self._lo[axis]
        points[:, others] = self._lo[others] + unit * (self._hi[others] - self._lo[others])
        return points

    def _map_boundary(self, unit: np.ndarray) -> np.ndarray:
        # The first unit coordinate picks a face in proportion to its measure and is
        # then stretched back to [0, 1) to serve as that face's first coordinate.
        faces = self._faces()
        widths = self._hi - self._lo
        measure = np.array([np.prod(np.delete(widths, axis)) for axis, _ in faces])
        edges = np.concatenate([[0.0], np.cumsum(measure) / measure.sum()])
        which = np.clip(np.searchsorted(edges, unit[:, 0], side="right") - 1, 0, len(faces) - 1)
        stretched = (unit[:, 0] - edges[which]) / (edges[which + 1] - edges[which])
        face_unit = np.column_stack([np.clip(stretched, 0.0, np.nextafter(1.0, 0.0)), unit[:, 1:]])
        points = np.empty((unit.shape[0], self.dim))
        for index, face in enumerate(faces):
            rows = which == index
            points[rows] = self._map_face(face, face_unit[rows, : self.dim - 1])
        return points

    def _nearest_face(self, point: np.ndarray) -> tuple[int, bool]:
        gaps = np.stack([np.abs(point - self._lo), np.abs(point - self._hi)], axis=1)  # (dim, 2)
        axis, side = np.unravel_index(np.argmin(gaps), gaps.shape)
        return int(axis), bool(side)


class Interval(Box):
    """The interval ``[lo, hi]`` of one coordinate (``name``, default ``"x"``).

    Its parts are ``"<name>_min"`` (``x = lo``), ``"<name>_max"`` and ``"boundary"``.
    """

    def __init__(self, lo: float, hi: float, *, name: str = "x") -> None:
        super().__init__({name: (lo, hi)})


class SpaceTime(Domain):
    """The product ``space x [t0, t1]`` of a spatial :class:`Box` and a time interval.

    Parameters
    ----------
    space : Box
        The spatial domain (an :class:`Interval` for one space dimension).
    time : (float, float)
        ``(t0, t1)`` with ``t0 < t1``.
    name : str
        Name of the time coordinate.
    """

    def __init__(self, space: Box, time: tuple[float, float], *, name: str = "t") -> None:
        if not isinstance(space, Box):
            raise TypeError(f"space must be a Box or Interval, got {type(space).__name__}")
        if name in space.coordinates:
            raise ValueError(f"time name {name!r} is already a space coordinate; rename it")
        self.space = space
        self._time = Interval(*time, name=name)
        self.coordinates = space.coordinates + (name,)

    def __repr__(self) -> str:
        lo, hi = self._time.bounds()
        return f"SpaceTime({self.space!r}, ({lo[0]:g}, {hi[0]:g}))"

    @property
    def time_range(self) -> tuple[float, float]:
        lo, hi = self._time.bounds()
        return float(lo[0]), float(hi[0])

    @property
    def parts(self) -> tuple[str, ...]:
        return self.space.parts + ("initial",)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (slo, shi), (tlo, thi) = self.space.bounds(), self._time.bounds()
        return np.concatenate([slo, tlo]), np.concatenate([shi, thi])

    def part_dim(self, part: str) -> int:
        self._check_part(part)
        if part == "initial":
            return self.space.dim
        return self.space.part_dim(part) + 1

    def map_part(self, part: str, unit: np.ndarray) -> np.ndarray:
        self._check_part(part)
        t0, t1 = self.time_range
        if part == "initial":
            space = self.space.map_part(INTERIOR, unit)
            return np.column_stack([space, np.full(unit.shape[0], t0)])
        space = self.space.map_part(part, unit[:, :-1])
        return np.column_stack([space, t0 + unit[:, -1] * (t1 - t0)])

    def normal(self, part: str, points: np.ndarray) -> np.ndarray:
        self._check_part(part)
        if part == INTERIOR:
            raise ValueError("normals exist on boundary parts only; pass a part such as 'x_min'")
        if part == "initial":
            normals = np.zeros((len(points), self.dim))
            normals[:, -1] = -1.0
            return normals
        return np.column_stack([self.space.normal(part, points[:, :-1]), np.zeros(len(points))])
