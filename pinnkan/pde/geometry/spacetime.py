"""Space-time cylinders: any spatial domain times a time interval.

``SpaceTime(space, (t0, t1))`` is ``space x [t0, t1]`` with the time coordinate
last. Its parts are the spatial boundary parts lifted over time (same names,
``"boundary"`` for the whole spatial boundary) and ``"initial"``, the spatial
domain at ``t = t0``. Points come from unit-cube points with one more coordinate
for time, so quasi-random points stay low-discrepancy jointly.

Examples
--------
>>> import numpy as np
>>> from pinnkan.pde.geometry import Interval, Sobol
>>> domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
>>> domain.coordinates
('x', 't')
>>> domain.sample("initial", 4, sampler=Sobol(), rng=np.random.default_rng(0))[:, 1]
array([0., 0., 0., 0.])
"""

from __future__ import annotations

import numpy as np
import torch

from ...errors import InputTypeError, InputValueError
from ._checks import coordinate_names, interval, points_array
from .base import Domain, Part
from .box import Box
from .distance import Coordinates, DistanceFunction, Piece, conjunction
from .samplers import Sampler

__all__ = ["SpaceTime"]


class SpaceTime(Domain):
    """The product ``space x [t0, t1]`` of a spatial domain and a time interval.

    Parameters
    ----------
    space : Domain
        The spatial domain: an :class:`Interval`, a :class:`Box`, a :class:`Disk`,
        a :class:`Polygon`, a CSG combination, ...
    time : (float, float)
        ``(t0, t1)`` with ``t0 < t1``.
    name : str
        Name of the time coordinate.

    Attributes
    ----------
    space : Domain
    time : str
        The name of the time coordinate.
    time_range : (float, float)
    """

    def __init__(self, space: Domain, time: tuple[float, float], *, name: str = "t") -> None:
        if not isinstance(space, Domain) or isinstance(space, SpaceTime):
            raise InputTypeError(
                f"space must be a spatial Domain (Interval, Box, Disk, Polygon, a CSG combination), "
                f"got {type(space).__name__}"
            )
        coordinate_names([name])
        if name in space.coordinates:
            raise InputValueError(f"time name {name!r} is already a space coordinate; rename it")
        self.space = space
        self.time = name
        self._t0, self._t1 = interval(name, time)
        self.coordinates = space.coordinates + (name,)

    def __repr__(self) -> str:
        suffix = "" if self.time == "t" else f", name={self.time!r}"
        return f"SpaceTime({self.space!r}, ({self._t0:g}, {self._t1:g}){suffix})"

    @property
    def time_range(self) -> tuple[float, float]:
        """``(t0, t1)``."""
        return self._t0, self._t1

    @property
    def part_names(self) -> tuple[str, ...]:
        return self.space.part_names + ("initial",)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.space.bounds()
        return np.append(lo, self._t0), np.append(hi, self._t1)

    def volume(self) -> float:
        """``volume(space) * (t1 - t0)``."""
        return self.space.volume() * (self._t1 - self._t0)

    def boundary_measure(self) -> float:
        """Measure of the part ``"boundary"``, the lateral surface: ``measure(d space) * (t1 - t0)``.

        The ends ``t = t0`` and ``t = t1`` (each of measure ``volume(space)``) are not included.
        """
        return self.space.boundary_measure() * (self._t1 - self._t0)

    def inside(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        t, tol = points[:, -1], self.tolerance()
        return self.space.inside(points[:, :-1]) & (t >= self._t0 - tol) & (t <= self._t1 + tol)

    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        """On the lateral surface or at ``t = t0`` or ``t = t1``."""
        points = points_array(points, self.coordinates)
        return self.inside(points) & (self.space.on_boundary(points[:, :-1]) | self._at_ends(points).any(axis=1))

    def normals(self, points: np.ndarray) -> np.ndarray:
        """``(n_space, 0)`` on the lateral surface, ``(0, ..., -1)`` at ``t0`` and ``(0, ..., +1)`` at ``t1``."""
        points = points_array(points, self.coordinates)
        self._off_boundary(points, self.on_boundary(points))
        normals = np.zeros_like(points)
        lateral = self.space.on_boundary(points[:, :-1])
        normals[lateral, :-1] = self.space.normals(points[lateral, :-1])
        at_t0, at_t1 = self._at_ends(points[~lateral]).T
        normals[~lateral, -1] = np.where(at_t0, -1.0, np.where(at_t1, 1.0, 0.0))
        return normals

    def distance(self, c: Coordinates) -> torch.Tensor:
        """R-conjunction of the space's distance, ``t - t0`` and ``t1 - t``."""
        t = c[self.time]
        return conjunction(conjunction(self.space.distance(c), t - self._t0), self._t1 - t)

    def pieces(self) -> tuple[Piece, ...]:
        """The space's pieces over the time interval (the lateral surface), then ``t = t0`` (``"initial"``)."""
        return self._lateral(self.space.pieces()) + (self._initial_piece(),)

    def part_distance(self, part: Part) -> DistanceFunction:
        """As for any domain; ``"boundary"`` (the lateral surface) is the space's :meth:`distance`."""
        if part == "boundary":
            return self.space.distance
        return super().part_distance(part)

    def _named_pieces(self, part: str) -> tuple[Piece, ...]:
        if part == "initial":
            return (self._initial_piece(),)
        return self._lateral(self.space.part_pieces(part))

    def _lateral(self, pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
        def lift(piece: Piece) -> Piece:
            def sample(n: int, rng: np.random.Generator) -> np.ndarray:
                return np.column_stack([piece.sample(n, rng), self._times(rng.random(n))])

            return Piece(f"{piece.label} over time", piece.distance, sample, piece.signed)

        return tuple(lift(piece) for piece in pieces)

    def _initial_piece(self) -> Piece:
        t0 = self._t0

        def sample(n: int, rng: np.random.Generator) -> np.ndarray:
            return np.column_stack([self.space.sample_interior(n, rng=rng), np.full(n, t0)])

        return Piece(f"initial time {self.time} = {t0:g}", lambda c: c[self.time] - t0, sample, True)

    def periodic_pairs(
        self,
        coordinate: str,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        axis = self._check_coordinate(coordinate)
        if coordinate == self.time:
            raise InputValueError(
                f"periodic conditions need a box in {coordinate!r}, and {coordinate!r} is the time "
                f"coordinate; pair a space coordinate, and give an Initial condition for time"
            )
        if not isinstance(self.space, Box):
            # A value error: the domain has the wrong shape for the request, not the wrong type.
            raise InputValueError(  # noqa: TRY004
                f"periodic conditions need a box in {coordinate!r}, whose faces {coordinate}_min and "
                f"{coordinate}_max match point by point (this domain is a SpaceTime over a "
                f"{type(self.space).__name__}); use a SpaceTime over a Box"
            )
        lower = self.sample(f"{coordinate}_min", n, sampler=sampler, rng=rng)
        upper = lower.copy()
        upper[:, axis] = self.space.bounds()[1][axis]
        return lower, upper

    # ----------------------------------------------------------------- maps
    def _times(self, u: np.ndarray) -> np.ndarray:
        return self._t0 + u * (self._t1 - self._t0)

    def _interior_unit_dim(self) -> int:
        return self.space._interior_unit_dim() + 1

    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, None, np.ndarray | None]:
        space, _, kept = self.space._interior_map(unit[:, :-1])
        return np.column_stack([space, self._times(unit[:, -1])]), None, kept

    def _interior_acceptance(self) -> float:
        return self.space._interior_acceptance()

    def _part_unit_dim(self, part: str) -> int:
        if part == "initial":
            return self.space._interior_unit_dim()
        return self.space._part_unit_dim(part) + 1

    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if part == "initial":
            space, _, kept = self.space._interior_map(unit)
            normals = np.zeros((len(unit), self.dim))
            normals[:, -1] = -1.0
            return np.column_stack([space, np.full(len(unit), self._t0)]), normals, kept
        space, space_normals, kept = self.space._part_map(part, unit[:, :-1])
        points = np.column_stack([space, self._times(unit[:, -1])])
        return points, np.column_stack([space_normals, np.zeros(len(unit))]), kept

    def _part_acceptance(self, part: str) -> float:
        if part == "initial":
            return self.space._interior_acceptance()
        return self.space._part_acceptance(part)

    def _candidate_measure(self) -> float:
        return self.space._candidate_measure() * (self._t1 - self._t0)

    def _on_part(self, part: str, points: np.ndarray) -> np.ndarray:
        t, tol = points[:, -1], self.tolerance()
        if part == "initial":
            return self.space.inside(points[:, :-1]) & (np.abs(t - self._t0) <= tol)
        within = (t >= self._t0 - tol) & (t <= self._t1 + tol)
        return within & self.space.on_part(part, points[:, :-1])

    def _part_normals(self, part: str, points: np.ndarray) -> np.ndarray:
        t, tol = points[:, -1], self.tolerance()
        if part == "initial":
            on = self.space.inside(points[:, :-1]) & (np.abs(t - self._t0) <= tol)
            if not np.all(on):
                raise InputValueError(
                    f"{int(np.sum(~on))} of {len(points)} points are not on the part 'initial' "
                    f"({self.time} = {self._t0:g}); sample them with sample('initial', n)"
                )
            normals = np.zeros_like(points)
            normals[:, -1] = -1.0
            return normals
        if not np.all((t >= self._t0 - tol) & (t <= self._t1 + tol)):
            raise InputValueError(
                f"points of part {part!r} must have {self.time} in [{self._t0:g}, {self._t1:g}]; "
                f"sample them with sample({part!r}, n)"
            )
        return np.column_stack([self.space.normal(part, points[:, :-1]), np.zeros(len(points))])

    def _at_ends(self, points: np.ndarray) -> np.ndarray:
        """Whether ``t = t0`` and ``t = t1``, (n, 2)."""
        tol = self.tolerance()
        return np.column_stack([np.abs(points[:, -1] - self._t0) <= tol, np.abs(points[:, -1] - self._t1) <= tol])
