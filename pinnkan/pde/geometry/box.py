"""Axis-aligned boxes of any dimension, and intervals.

Parts of a :class:`Box` are ``"<name>_min"`` and ``"<name>_max"`` for each
coordinate (``"x_min"`` is the face ``x = lo``) and ``"boundary"`` for all faces.
Unit-cube points map affinely onto the box and its faces, so quasi-random points
stay low-discrepancy there.

Examples
--------
>>> box = Box({"x": (0.0, 2.0), "y": (0.0, 1.0)})
>>> box.volume(), box.boundary_measure()
(2.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ...errors import InputTypeError, InputValueError
from ._checks import coordinate_names, interval, points_array
from ._rejection import pick
from .base import Domain
from .distance import Coordinates, Piece, conjunction
from .samplers import Sampler

__all__ = ["Box", "Interval"]

Face = tuple[int, bool]  # (axis, upper)


class Box(Domain):
    """An axis-aligned box ``[lo_1, hi_1] x ... x [lo_d, hi_d]``.

    Parameters
    ----------
    ranges : mapping of str to (float, float)
        Coordinate name to range, in coordinate order, e.g. ``{"x": (0, 1), "y": (0, 2)}``.
    """

    def __init__(self, ranges: Mapping[str, tuple[float, float]]) -> None:
        if not isinstance(ranges, Mapping) or not ranges:
            raise InputTypeError("Box takes a mapping of coordinate name to (lo, hi), e.g. {'x': (0, 1)}")
        self.coordinates = coordinate_names(list(ranges))
        pairs = [interval(name, pair) for name, pair in ranges.items()]
        self._lo = np.array([lo for lo, _ in pairs])
        self._hi = np.array([hi for _, hi in pairs])

    def __repr__(self) -> str:
        ranges = ", ".join(f"{n!r}: ({a:g}, {b:g})" for n, a, b in zip(self.coordinates, self._lo, self._hi))
        return f"Box({{{ranges}}})"

    @property
    def part_names(self) -> tuple[str, ...]:
        faces = tuple(f"{n}_{side}" for n in self.coordinates for side in ("min", "max"))
        return faces + ("boundary",)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    def volume(self) -> float:
        """``prod_i (hi_i - lo_i)``."""
        return float(np.prod(self._hi - self._lo))

    def boundary_measure(self) -> float:
        """``sum_faces prod_{j != i} (hi_j - lo_j)`` (in 1-D: 2, the number of end points)."""
        return float(sum(self._face_measure(face) for face in self._faces()))

    def inside(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        tol = self.tolerance()
        return np.all((points >= self._lo - tol) & (points <= self._hi + tol), axis=1)

    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        return self.inside(points) & (np.min(self._gaps(points), axis=(1, 2)) <= self.tolerance())

    def normals(self, points: np.ndarray) -> np.ndarray:
        """``±e_i`` of the nearest face."""
        points = points_array(points, self.coordinates)
        self._off_boundary(points, self.on_boundary(points))
        gaps = self._gaps(points).reshape(len(points), 2 * self.dim)  # (axis, upper) flattened
        axis, upper = np.divmod(np.argmin(gaps, axis=1), 2)
        normals = np.zeros_like(points)
        normals[np.arange(len(points)), axis] = np.where(upper == 1, 1.0, -1.0)
        return normals

    def distance(self, c: Coordinates) -> torch.Tensor:
        """R-conjunction over the axes of ``d_a = (x_a - lo_a)(hi_a - x_a) / (hi_a - lo_a)``.

        Each ``d_a`` is the normalised distance to the two faces of axis ``a`` (a
        parabola with unit slope at both); in 1-D it is the distance itself.
        """
        result = None
        for name, lo, hi in zip(self.coordinates, self._lo.tolist(), self._hi.tolist()):
            x = c[name]
            d = (x - lo) * (hi - x) / (hi - lo)
            result = d if result is None else conjunction(result, d)
        return result  # type: ignore[return-value]

    def pieces(self) -> tuple[Piece, ...]:
        """The faces, each with the distance to its plane, ``x - lo`` or ``hi - x``."""
        return tuple(self._face_piece(face) for face in self._faces())

    def _named_pieces(self, part: str) -> tuple[Piece, ...]:
        if part == "boundary":
            return self.pieces()
        return (self._face_piece(self._face(part)),)

    def _face_piece(self, face: Face) -> Piece:
        axis, upper = face
        name = self.coordinates[axis]
        part = f"{name}_{'max' if upper else 'min'}"
        if upper:
            hi = float(self._hi[axis])
            distance = lambda c: hi - c[name]  # noqa: E731
        else:
            lo = float(self._lo[axis])
            distance = lambda c: c[name] - lo  # noqa: E731
        return Piece(
            f"face {part} of {self!r}", distance, lambda n, rng: self.sample_boundary(part, n, rng=rng)[0], True
        )

    def periodic_pairs(
        self,
        coordinate: str,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        axis = self._check_coordinate(coordinate)
        lower = self.sample(f"{coordinate}_min", n, sampler=sampler, rng=rng)
        upper = lower.copy()
        upper[:, axis] = self._hi[axis]
        return lower, upper

    # ----------------------------------------------------------------- maps
    def _interior_unit_dim(self) -> int:
        return self.dim

    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, None, None]:
        return self._lo + unit * (self._hi - self._lo), None, None

    def _part_unit_dim(self, part: str) -> int:
        return max(self.dim - 1, 1) if part == "boundary" else self.dim - 1

    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        if part != "boundary":
            face = self._face(part)
            return self._map_face(face, unit), self._face_normals(face, len(unit)), None
        # The first unit coordinate picks a face in proportion to its measure and is
        # then stretched back to [0, 1) to serve as that face's first coordinate.
        faces = self._faces()
        which, stretched = pick(unit[:, 0], np.array([self._face_measure(f) for f in faces]))
        face_unit = np.column_stack([stretched, unit[:, 1:]])
        points = np.empty((len(unit), self.dim))
        normals = np.zeros((len(unit), self.dim))
        for index, face in enumerate(faces):
            rows = which == index
            points[rows] = self._map_face(face, face_unit[rows, : self.dim - 1])
            normals[rows] = self._face_normals(face, 1)
        return points, normals, None

    def _on_part(self, part: str, points: np.ndarray) -> np.ndarray:
        if part == "boundary":
            return self.on_boundary(points)
        axis, upper = self._face(part)
        value = self._hi[axis] if upper else self._lo[axis]
        return self.inside(points) & (np.abs(points[:, axis] - value) <= self.tolerance())

    def _part_normals(self, part: str, points: np.ndarray) -> np.ndarray:
        if part == "boundary":
            return self.normals(points)
        axis, upper = self._face(part)
        value = self._hi[axis] if upper else self._lo[axis]
        on = self.inside(points) & (np.abs(points[:, axis] - value) <= self.tolerance())
        if not np.all(on):
            raise InputValueError(
                f"{int(np.sum(~on))} of {len(points)} points are not on the face {part!r} "
                f"({self.coordinates[axis]} = {value:g}); sample them with sample({part!r}, n)"
            )
        return self._face_normals((axis, upper), len(points))

    # ----------------------------------------------------------------- faces
    def _faces(self) -> list[Face]:
        return [(axis, upper) for axis in range(self.dim) for upper in (False, True)]

    def _face(self, part: str) -> Face:
        name, side = part.rsplit("_", 1)
        return self.coordinates.index(name), side == "max"

    def _face_measure(self, face: Face) -> float:
        return float(np.prod(np.delete(self._hi - self._lo, face[0])))

    def _face_normals(self, face: Face, count: int) -> np.ndarray:
        normals = np.zeros((count, self.dim))
        normals[:, face[0]] = 1.0 if face[1] else -1.0
        return normals

    def _map_face(self, face: Face, unit: np.ndarray) -> np.ndarray:
        axis, upper = face
        others = [a for a in range(self.dim) if a != axis]
        points = np.empty((unit.shape[0], self.dim))
        points[:, axis] = self._hi[axis] if upper else self._lo[axis]
        points[:, others] = self._lo[others] + unit * (self._hi[others] - self._lo[others])
        return points

    def _gaps(self, points: np.ndarray) -> np.ndarray:
        """Distances to the planes of the faces, (n, dim, 2) for (lower, upper)."""
        return np.stack([np.abs(points - self._lo), np.abs(points - self._hi)], axis=2)


class Interval(Box):
    """The interval ``[lo, hi]`` of one coordinate (``name``, default ``"x"``).

    Its parts are ``"<name>_min"`` (``x = lo``), ``"<name>_max"`` and ``"boundary"``.
    """

    def __init__(self, lo: float, hi: float, *, name: str = "x") -> None:
        super().__init__({name: (lo, hi)})

    def __repr__(self) -> str:
        name = self.coordinates[0]
        suffix = "" if name == "x" else f", name={name!r}"
        return f"Interval({self._lo[0]:g}, {self._hi[0]:g}{suffix})"
