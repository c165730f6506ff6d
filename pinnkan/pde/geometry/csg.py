"""Constructive solid geometry: union, difference and intersection of domains.

The result of ``a | b``, ``a - b`` or ``a & b`` is a closed domain like any other:

* inside: ``A or B``, ``A and B``, and for the difference ``A and (not B or on dB)``;
* boundary points are drawn on both operands' boundaries in proportion to their
  measure (so the density per unit length or area is the same everywhere), each
  with its operand's outward normal ``n`` (reversed for ``B`` of a difference), and
  kept iff ``p - eps n`` is inside the result and ``p + eps n`` is not; that one
  rule keeps the right pieces for all three operations and drops shared faces;
* interior points are drawn in the bounding box and kept if inside.

Volume and boundary measure are Monte Carlo estimates with a fixed local seed.

Examples
--------
>>> from pinnkan.pde.geometry import Box
>>> l_shape = Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)})
>>> round(l_shape.volume(), 2)
3.0
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from functools import cached_property

import numpy as np
import torch
from scipy.stats import qmc

from ...errors import InputTypeError, InputValueError
from ._checks import points_array
from ._rejection import pick, pilot_acceptance
from .base import TOLERANCE, Domain
from .distance import Coordinates, Piece, conjunction, disjunction
from .samplers import Sobol
from .spacetime import SpaceTime

__all__ = ["Difference", "Intersection", "Union"]

# Points are pushed STEP * (bounding-box diameter) along a normal to tell the sides apart.
STEP = 1e-7
_VOLUME_POINTS = 2**16
_BOUNDARY_POINTS = 2**14
_EMPTY_PROBES = 4096


class _Combination(Domain):
    """Two domains with the same coordinates combined by a set operation."""

    _symbol: str
    _word: str

    def __init__(self, a: Domain, b: Domain) -> None:
        for operand in (a, b):
            if not isinstance(operand, Domain):
                raise InputTypeError(f"{type(self).__name__} combines two Domains, got {type(operand).__name__}")
            if isinstance(operand, SpaceTime):
                raise InputTypeError(
                    f"{type(self).__name__} combines spatial domains; combine them first and wrap the "
                    f"result: SpaceTime(a {self._symbol} b, (t0, t1))"
                )
        if a.coordinates != b.coordinates:
            raise InputValueError(
                f"cannot combine {a!r} with coordinates {a.coordinates} and {b!r} with coordinates "
                f"{b.coordinates}; give both the same coordinate names in the same order"
            )
        self.a, self.b = a, b
        self.coordinates = a.coordinates
        self._lo, self._hi = self._combined_bounds()
        self._step = STEP * float(np.linalg.norm(self._hi - self._lo))

    def __repr__(self) -> str:
        return f"({self.a!r} {self._symbol} {self.b!r})"

    @abstractmethod
    def _combined_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounding box of the result."""

    @abstractmethod
    def _contains(self, points: np.ndarray) -> np.ndarray:
        """Membership of the closed result for checked points (n, dim); bool (n,)."""

    def _signed_operands(self) -> tuple[tuple[Domain, float], ...]:
        """Operands with the sign that turns their outward normals into the result's."""
        return (self.a, 1.0), (self.b, 1.0)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lo.copy(), self._hi.copy()

    def inside(self, points: np.ndarray) -> np.ndarray:
        return self._contains(points_array(points, self.coordinates))

    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        return self._classify(points_array(points, self.coordinates))[0]

    def normals(self, points: np.ndarray) -> np.ndarray:
        """The outward normal of the operand whose boundary the point lies on (reversed for ``B`` of a difference)."""
        points = points_array(points, self.coordinates)
        on, normals = self._classify(points)
        self._off_boundary(points, on)
        return normals

    def volume(self) -> float:
        """Monte Carlo estimate: box volume times the fraction of 65536 Sobol points inside (seed 0)."""
        return float(np.prod(self._hi - self._lo)) * self._inside_fraction

    def boundary_measure(self) -> float:
        """Monte Carlo estimate: operands' boundary measure times the fraction of it kept (16384 Sobol points, seed 0)."""
        return self._candidate_measure() * self._kept_fraction

    # ----------------------------------------------------------------- maps
    def _interior_unit_dim(self) -> int:
        return self.dim

    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, None, np.ndarray]:
        points = self._lo + unit * (self._hi - self._lo)
        return points, None, self._contains(points)

    def _interior_acceptance(self) -> float:
        return self._inside_fraction

    def _part_unit_dim(self, part: str) -> int:
        return max(operand._part_unit_dim("boundary") for operand, _ in self._signed_operands())

    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        operands = self._signed_operands()
        # The first unit coordinate picks an operand by boundary measure, then serves as its first coordinate.
        which, stretched = pick(unit[:, 0], np.array([op._candidate_measure() for op, _ in operands]))
        unit = np.column_stack([stretched, unit[:, 1:]])
        points = np.empty((len(unit), self.dim))
        normals = np.zeros((len(unit), self.dim))
        kept = np.zeros(len(unit), dtype=bool)
        for index, (operand, sign) in enumerate(operands):
            rows = which == index
            if not np.any(rows):
                continue
            p, n, keep = operand._part_map("boundary", unit[rows, : operand._part_unit_dim("boundary")])
            points[rows], normals[rows] = p, sign * n + 0.0  # + 0.0 turns -0.0 into 0.0
            kept[rows] = True if keep is None else keep
        rows = np.flatnonzero(kept)
        kept[rows] = self._faces_outward(points[rows], normals[rows])
        return points, normals, kept

    def _part_acceptance(self, part: str) -> float:
        return self._kept_fraction

    def _candidate_measure(self) -> float:
        return sum(operand._candidate_measure() for operand, _ in self._signed_operands())

    # ----------------------------------------------------------------- internals
    def _faces_outward(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """``inside(p - eps n) and not inside(p + eps n)``: ``n`` is an outward normal of the result at ``p``."""
        return self._contains(points - self._step * normals) & ~self._contains(points + self._step * normals)

    def _classify(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which points (n, dim) lie on the boundary, and the outward normals there (zero elsewhere)."""
        inside = np.flatnonzero(self._contains(points))
        on = np.zeros(len(points), dtype=bool)
        normals = np.zeros_like(points)
        candidates = []  # (rows, operand normals) for points on an operand's boundary
        for operand, sign in self._signed_operands():
            rows = inside[operand.on_boundary(points[inside])]
            if rows.size:
                candidates.append((rows, sign * operand.normals(points[rows]) + 0.0))
        if not candidates:
            return on, normals
        # First the normals that face outward on both sides, then those that at least leave the domain.
        for two_sided in (True, False):
            for rows, n in candidates:
                free = ~on[rows]
                rows, n = rows[free], n[free]
                p = points[rows]
                good = ~self._contains(p + self._step * n)
                if two_sided:
                    good &= self._contains(p - self._step * n)
                on[rows[good]] = True
                normals[rows[good]] = n[good]
        # Corners where no operand normal leaves (e.g. a re-entrant corner): probe all directions.
        fallback = np.zeros_like(points)
        for rows, n in reversed(candidates):
            fallback[rows] = n
        rest = np.setdiff1d(np.concatenate([rows for rows, _ in candidates]), np.flatnonzero(on))
        if rest.size:
            steps = np.array([d for d in itertools.product((-1.0, 0.0, 1.0), repeat=self.dim) if any(d)])
            steps *= self._step / np.linalg.norm(steps, axis=1, keepdims=True)
            probes = (points[rest, None, :] + steps[None]).reshape(-1, self.dim)
            leaves = ~self._contains(probes).reshape(len(rest), len(steps)).all(axis=1)
            on[rest[leaves]] = True
            normals[rest[leaves]] = fallback[rest[leaves]]
        return on, normals

    @cached_property
    def _inside_fraction(self) -> float:
        return pilot_acceptance(self.dim, self._interior_map, points=_VOLUME_POINTS)

    @cached_property
    def _kept_fraction(self) -> float:
        return pilot_acceptance(
            self._part_unit_dim("boundary"), lambda unit: self._part_map("boundary", unit), points=_BOUNDARY_POINTS
        )

    def _check_not_empty(self, fix: str) -> None:
        """Raise a ValueError unless some probe point (box Sobol points, operands' samples) is inside."""
        rng = np.random.default_rng(0)
        box = qmc.Sobol(d=self.dim, rng=rng).random(_EMPTY_PROBES)
        probes = [self._lo + box * (self._hi - self._lo)]
        probes += [op.sample_interior(_EMPTY_PROBES // 4, sampler=Sobol(), rng=rng) for op in (self.a, self.b)]
        if not np.any(self._contains(np.concatenate(probes))):
            raise InputValueError(f"the {self._word} {self!r} is empty; {fix}")


class Union(_Combination):
    """The union ``A ∪ B`` of two domains with the same coordinates (also ``a | b``)."""

    _symbol = "|"
    _word = "union"

    def _combined_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (alo, ahi), (blo, bhi) = self.a.bounds(), self.b.bounds()
        return np.minimum(alo, blo), np.maximum(ahi, bhi)

    def _contains(self, points: np.ndarray) -> np.ndarray:
        return self.a.inside(points) | self.b.inside(points)

    def distance(self, c: Coordinates) -> torch.Tensor:
        """``phi_A + phi_B + sqrt(phi_A^2 + phi_B^2)`` (R-disjunction)."""
        return disjunction(self.a.distance(c), self.b.distance(c))

    def pieces(self) -> tuple[Piece, ...]:
        """Each operand's pieces, trimmed to where they lie outside the other operand."""
        outside_a = lambda c: -self.a.distance(c)  # noqa: E731
        outside_b = lambda c: -self.b.distance(c)  # noqa: E731
        return tuple(p.trimmed(outside_b) for p in self.a.pieces()) + tuple(p.trimmed(outside_a) for p in self.b.pieces())


class Intersection(_Combination):
    """The intersection ``A ∩ B`` of two domains with the same coordinates (also ``a & b``)."""

    _symbol = "&"
    _word = "intersection"

    def __init__(self, a: Domain, b: Domain) -> None:
        super().__init__(a, b)
        self._check_not_empty("make the domains overlap (check their centres, ranges and coordinate order)")

    def _combined_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (alo, ahi), (blo, bhi) = self.a.bounds(), self.b.bounds()
        lo, hi = np.maximum(alo, blo), np.minimum(ahi, bhi)
        # Boxes that only touch (a disk tangent to a face) may overlap by a rounding error of
        # the operands' bounds; within the boundary tolerance that is no overlap.
        tolerance = TOLERANCE * float(np.linalg.norm(np.maximum(ahi, bhi) - np.minimum(alo, blo)))
        if np.any(hi - lo <= tolerance):
            raise InputValueError(
                f"the intersection of {self.a!r} and {self.b!r} is empty: their bounding boxes do not overlap "
                f"(they share at most a face); make the domains overlap"
            )
        return lo, hi

    def _contains(self, points: np.ndarray) -> np.ndarray:
        inside = self.a.inside(points)
        rows = np.flatnonzero(inside)
        inside[rows] = self.b.inside(points[rows])
        return inside

    def distance(self, c: Coordinates) -> torch.Tensor:
        """``phi_A + phi_B - sqrt(phi_A^2 + phi_B^2)`` (R-conjunction)."""
        return conjunction(self.a.distance(c), self.b.distance(c))

    def pieces(self) -> tuple[Piece, ...]:
        """Both operands' pieces: within the intersection each vanishes only where it is on the boundary."""
        return self.a.pieces() + self.b.pieces()


class Difference(_Combination):
    """The closure of ``A`` minus ``B`` for two domains with the same coordinates (also ``a - b``).

    The boundary of ``B`` inside ``A`` belongs to the result, with normals pointing into ``B``.
    Where the boundaries of ``A`` and ``B`` overlap (the outer sides of a square cut
    from a corner of a larger one) nothing is left: those points are not limits of
    points of the result.
    """

    _symbol = "-"
    _word = "difference"

    def __init__(self, a: Domain, b: Domain) -> None:
        super().__init__(a, b)
        self._check_not_empty("the second domain covers the first; make it smaller or move it")

    def _combined_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a.bounds()

    def _signed_operands(self) -> tuple[tuple[Domain, float], ...]:
        return (self.a, 1.0), (self.b, -1.0)

    def distance(self, c: Coordinates) -> torch.Tensor:
        """``phi_A - phi_B - sqrt(phi_A^2 + phi_B^2)`` (R-conjunction with the complement of B)."""
        return conjunction(self.a.distance(c), -self.b.distance(c))

    def pieces(self) -> tuple[Piece, ...]:
        """A's pieces, and B's seen from outside B: within the difference each vanishes only on the boundary."""
        return self.a.pieces() + tuple(p.flipped() for p in self.b.pieces())

    def _contains(self, points: np.ndarray) -> np.ndarray:
        inside = self.a.inside(points)
        rows = np.flatnonzero(inside)
        in_b = self.b.inside(points[rows])
        keep = ~in_b
        # A point of B's boundary belongs to the closure of A minus B only if points of
        # A outside B come arbitrarily close: probe a small step in every direction.
        edge = np.flatnonzero(in_b)
        edge = edge[self.b.on_boundary(points[rows[edge]])]
        if edge.size:
            steps = np.array([d for d in itertools.product((-1.0, 0.0, 1.0), repeat=self.dim) if any(d)])
            steps *= self._step / np.linalg.norm(steps, axis=1, keepdims=True)
            probes = (points[rows[edge], None, :] + steps[None]).reshape(-1, self.dim)
            outside_b = self.a.inside(probes) & ~self.b.inside(probes)
            keep[edge] = outside_b.reshape(edge.size, len(steps)).any(axis=1)
        inside[rows] = keep
        return inside
