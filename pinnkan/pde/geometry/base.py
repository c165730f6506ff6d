"""The domain interface: membership, boundary normals, sampling, measures and set operations.

A :class:`Domain` is a closed region with named coordinates. It answers whether
points are inside or on its boundary, gives outward unit normals there, samples
its interior and its named boundary parts uniformly (with respect to volume and
boundary measure), and combines with other domains by ``|``, ``-`` and ``&``.

Sampling maps a :class:`~pinnkan.pde.geometry.samplers.Sampler`'s unit-cube
points through a per-domain map (subclasses implement the ``_interior_map`` and
``_part_map`` hooks), so random, Latin hypercube, Sobol, Halton and grid points
work on every domain and seeded draws repeat exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial

import numpy as np
import torch

from ...errors import InputTypeError, InputValueError
from ._checks import points_array, positive_count
from ._rejection import UnitMap, collect, pilot_acceptance
from .distance import Coordinates, DistanceFunction, Piece, equivalence
from .parts import INTERIOR, Where
from .samplers import Sampler, UniformRandom

__all__ = ["Domain"]

Part = str | Where

# Points within TOLERANCE * (bounding-box diameter) of the boundary count as on it.
TOLERANCE = 1e-9
# Points drawn on each boundary piece to tell which pieces a Where part selects.
PIECE_PROBES = 256


class Domain(ABC):
    """A closed region with named coordinates and named boundary parts.

    Attributes
    ----------
    coordinates : tuple of str
        Coordinate names, in column order of every point array.
    """

    coordinates: tuple[str, ...]

    # ----------------------------------------------------------------- geometry
    @property
    def dim(self) -> int:
        """Number of coordinates."""
        return len(self.coordinates)

    @property
    def part_names(self) -> tuple[str, ...]:
        """Names of the boundary parts conditions can refer to (always includes ``"boundary"``)."""
        return ("boundary",)

    @property
    def parts(self) -> tuple[str, ...]:
        """Same as :attr:`part_names`."""
        return self.part_names

    @abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounding box ``(lo, hi)``, each of shape (dim,)."""

    @abstractmethod
    def inside(self, points: np.ndarray) -> np.ndarray:
        """Whether points (n, dim) lie in the closed domain (boundary included); bool (n,)."""

    @abstractmethod
    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        """Whether points (n, dim) lie on the boundary, within the tolerance; bool (n,)."""

    @abstractmethod
    def normals(self, points: np.ndarray) -> np.ndarray:
        """Outward unit normals (n, dim) at boundary points (n, dim); ValueError off the boundary."""

    @abstractmethod
    def volume(self) -> float:
        """Length, area or volume of the domain (dim-dimensional measure)."""

    @abstractmethod
    def boundary_measure(self) -> float:
        """Measure of the part ``"boundary"``: perimeter in 2-D, surface area in 3-D."""

    def tolerance(self) -> float:
        """Distance within which a point counts as on the boundary: ``1e-9 * diameter``."""
        lo, hi = self.bounds()
        return TOLERANCE * float(np.linalg.norm(hi - lo))

    # ----------------------------------------------------------------- parts
    def check_part(self, part: Part) -> Part:
        """Return ``part`` if it is ``"interior"``, a boundary part name or a :class:`Where` of one.

        Raises
        ------
        ValueError
            For an unknown part, listing the ones this domain has.
        """
        if isinstance(part, Where):
            if part.within not in self.part_names:
                raise InputValueError(
                    f"unknown part {part.within!r} (the `within` of {part!r}); this domain has "
                    f"boundary parts {self.part_names}"
                )
            return part
        if not isinstance(part, str):
            raise InputTypeError(f"a part is a name such as 'boundary' or a Where(...), got {part!r}")
        if part != INTERIOR and part not in self.part_names:
            raise InputValueError(
                f"unknown part {part!r}; this domain has {INTERIOR!r} and boundary parts {self.part_names}"
            )
        return part

    def normal(self, part: Part, points: np.ndarray) -> np.ndarray:
        """Outward unit normals (n, dim) at points (n, dim) of a boundary part.

        On a named face the normal is that face's, also at its edges and corners.
        """
        self.check_part(part)
        if part == INTERIOR:
            raise InputValueError("normals exist on boundary parts only; pass a part such as 'boundary'")
        points = points_array(points, self.coordinates)
        if isinstance(part, Where):
            return self.normal(part.within, points)
        return self._part_normals(part, points)

    def on_part(self, part: Part, points: np.ndarray) -> np.ndarray:
        """Whether points (n, dim) lie on a boundary part (a name or a :class:`Where`), within the tolerance; bool (n,).

        ``"boundary"`` is the whole boundary (the lateral surface of a :class:`SpaceTime`);
        a :class:`Where` holds where its predicate does on its ``within`` part.
        """
        self.check_part(part)
        if part == INTERIOR:
            raise InputValueError("on_part takes a boundary part; use inside() for the interior")
        points = points_array(points, self.coordinates)
        if isinstance(part, Where):
            on = self.on_part(part.within, points)
            rows = np.flatnonzero(on)
            on[rows] = part.select(points[rows], self.coordinates)
            return on
        return self._on_part(part, points)

    # ----------------------------------------------------------------- distance
    def distance(self, c: Coordinates) -> torch.Tensor:
        """Approximate signed distance to the boundary at points given by coordinate (a mapping name -> (N,) tensor).

        Positive inside, zero on the boundary, negative outside, and normalised to
        first order: its derivative along the inward normal is one on the boundary,
        away from corners (see :mod:`pinnkan.pde.geometry.distance`). Smooth inside
        the domain, so that a hard constraint ``g + distance * N`` can be
        differentiated there to any order, except on the lines through the edges of
        a 3-D box cut out of it (see that module). Returns an (N,) tensor.
        """
        raise NotImplementedError(f"{type(self).__name__} has no distance function; a hard constraint needs one")

    def pieces(self) -> tuple[Piece, ...]:
        """The smooth pieces the boundary consists of (faces, circles, edges), each with its own distance."""
        raise NotImplementedError(f"{type(self).__name__} does not list its boundary pieces; a hard constraint needs them")

    def part_pieces(self, part: Part) -> tuple[Piece, ...]:
        """The boundary pieces a part consists of.

        A :class:`Where` part must keep or drop each piece of its ``within`` part whole
        (checked on points of every piece).

        Raises
        ------
        ValueError
            For the interior, an unknown part, or a :class:`Where` that cuts a piece or selects none.
        """
        self.check_part(part)
        if part == INTERIOR:
            raise InputValueError("the interior has no boundary pieces; pass a boundary part such as 'boundary'")
        if not isinstance(part, Where):
            return self._named_pieces(part)
        rng = np.random.default_rng(0)
        chosen = []
        for piece in self.part_pieces(part.within):
            points = piece.sample(PIECE_PROBES, rng)
            on = self.on_part(part.within, points)
            if not on.any():
                continue  # the piece is not on this domain's boundary (constructive geometry removed it)
            selected = part.select(points[on], self.coordinates)
            if selected.all():
                chosen.append(piece)
            elif selected.any():
                raise InputValueError(
                    f"{part!r} holds on {selected.mean():.0%} of the {piece.label}: a distance function (and so a "
                    f"hard constraint) needs parts made of whole boundary pieces (faces, circles, polygon edges); "
                    f"give a predicate that keeps or drops each piece whole, or keep this condition in the loss"
                )
        if not chosen:
            raise InputValueError(f"{part!r} selects no point of the boundary pieces of {self!r}; check its predicate")
        return tuple(chosen)

    def part_distance(self, part: Part) -> DistanceFunction:
        """A distance function of a boundary part: zero on it, positive elsewhere in the closed domain.

        Normalised to first order on the part; ``"boundary"`` gives :meth:`distance`
        itself, other parts the R-equivalence of their pieces' distances.
        """
        if part == "boundary":
            return self.distance
        functions = [piece.distance for piece in self.part_pieces(part)]
        if len(functions) == 1:
            return functions[0]
        return lambda c: equivalence([function(c) for function in functions])

    # ----------------------------------------------------------------- sampling
    def sample_interior(
        self, n: int, *, sampler: Sampler | None = None, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Sample points of the interior, uniform with respect to volume.

        Parameters
        ----------
        n : int
            Number of points, ``>= 1`` (about ``n`` for a sampler without ``exact_count``).
        sampler : Sampler, optional
            How to draw unit-cube points; :class:`UniformRandom` by default.
        rng : numpy.random.Generator, optional
            Source of randomness; pass a seeded one for reproducible points.

        Returns
        -------
        numpy.ndarray, shape (n, dim)
        """
        n, sampler, rng = _request(n, sampler, rng)
        points, _ = collect(
            n,
            self._interior_unit_dim(),
            self._interior_map,
            sampler,
            rng,
            acceptance=self._interior_acceptance(),
            failure=f"could not sample the interior of {self!r}: no candidate point fell inside; "
            f"check that the domain is not empty",
        )
        return points

    def sample_boundary(
        self,
        part: Part,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sample points of a boundary part, uniform with respect to boundary measure.

        Parameters
        ----------
        part : str or Where
            A name from :attr:`part_names` (``"boundary"`` for all of it) or a :class:`Where`.
        n : int
            Number of points, ``>= 1`` (about ``n`` for a sampler without ``exact_count``).
        sampler, rng
            As in :meth:`sample_interior`.

        Returns
        -------
        points : numpy.ndarray, shape (n, dim)
        normals : numpy.ndarray, shape (n, dim)
            Outward unit normals at the points.
        """
        self.check_part(part)
        if part == INTERIOR:
            raise InputValueError("sample_boundary takes a boundary part; use sample_interior for the interior")
        n, sampler, rng = _request(n, sampler, rng)
        if isinstance(part, Where):
            unit_map = self._where_map(part)
            k = self._part_unit_dim(part.within)
            acceptance = pilot_acceptance(k, unit_map)
            failure = (
                f"{part!r} selects no points of part {part.within!r}; check its predicate (it gets the "
                f"coordinates {self.coordinates} by name as arrays, e.g. lambda c: c[{self.coordinates[0]!r}] < 0) "
                f"or choose another `within` part"
            )
        else:
            k = self._part_unit_dim(part)
            acceptance = self._part_acceptance(part)
            failure = f"could not sample part {part!r} of {self!r}: no candidate point was kept"
            unit_map = partial(self._part_map, part)
        # Boundary maps always give normals, so they are never None here.
        return collect(n, k, unit_map, sampler, rng, acceptance=acceptance, failure=failure)  # type: ignore[return-value]

    def sample(
        self,
        part: Part,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Sample ``n`` points of the interior (``part="interior"``) or of a boundary part; (n, dim)."""
        self.check_part(part)
        if part == INTERIOR:
            return self.sample_interior(n, sampler=sampler, rng=rng)
        return self.sample_boundary(part, n, sampler=sampler, rng=rng)[0]

    def periodic_pairs(
        self,
        coordinate: str,
        n: int,
        *,
        sampler: Sampler | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points ``a`` on the face ``<coordinate>_min`` and their images ``b`` on ``<coordinate>_max``.

        ``b = a + (hi - lo) e_coordinate``: the pairs differ only in ``coordinate``.
        Only box-shaped domains (a :class:`Box`, or a :class:`SpaceTime` over one) have them.

        Returns
        -------
        a, b : numpy.ndarray, each of shape (n, dim)
            (about ``n`` rows for a sampler without ``exact_count``)
        """
        self._check_coordinate(coordinate)
        raise InputValueError(
            f"periodic conditions need a box in {coordinate!r}, whose faces {coordinate}_min and "
            f"{coordinate}_max match point by point (this domain is a {type(self).__name__}); "
            f"use a Box, or a SpaceTime over a Box"
        )

    # ----------------------------------------------------------------- set operations
    def __or__(self, other: Domain) -> Domain:
        """Union ``self ∪ other``."""
        from .csg import Union

        return Union(self, other) if isinstance(other, Domain) else NotImplemented

    def __sub__(self, other: Domain) -> Domain:
        """Difference ``self \\ other`` (closed)."""
        from .csg import Difference

        return Difference(self, other) if isinstance(other, Domain) else NotImplemented

    def __and__(self, other: Domain) -> Domain:
        """Intersection ``self ∩ other``."""
        from .csg import Intersection

        return Intersection(self, other) if isinstance(other, Domain) else NotImplemented

    # ----------------------------------------------------------------- hooks for subclasses
    @abstractmethod
    def _interior_unit_dim(self) -> int:
        """Unit-cube dimension :meth:`_interior_map` consumes."""

    @abstractmethod
    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Map unit points (m, k) to candidates (m, dim), None, and which are kept (or None: all)."""

    @abstractmethod
    def _part_unit_dim(self, part: str) -> int:
        """Unit-cube dimension :meth:`_part_map` consumes for a named boundary part."""

    @abstractmethod
    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Map unit points (m, k) onto a named boundary part: points, outward normals, kept (or None).

        Candidates must be uniform with respect to boundary measure on the set they cover.
        """

    def _interior_acceptance(self) -> float:
        """Expected fraction of interior candidates kept."""
        return 1.0

    def _part_acceptance(self, part: str) -> float:
        """Expected fraction of a part's candidates kept."""
        return 1.0

    def _candidate_measure(self) -> float:
        """Measure of the set the ``"boundary"`` map covers before it rejects any candidate."""
        return self.boundary_measure()

    def _named_pieces(self, part: str) -> tuple[Piece, ...]:
        """The pieces of a named part (checked); by default every part is the whole boundary."""
        return self.pieces()

    def _on_part(self, part: str, points: np.ndarray) -> np.ndarray:
        """Membership of checked points (n, dim) in a named boundary part; by default the whole boundary."""
        return self.on_boundary(points)

    def _part_normals(self, part: str, points: np.ndarray) -> np.ndarray:
        """Normals on a named part; by default the normals of the whole boundary."""
        return self.normals(points)

    def _where_map(self, part: Where) -> UnitMap:
        def unit_map(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
            points, normals, kept = self._part_map(part.within, unit)
            selected = part.select(points, self.coordinates)
            return points, normals, selected if kept is None else selected & kept

        return unit_map

    def _check_coordinate(self, coordinate: str) -> int:
        if coordinate not in self.coordinates:
            raise InputValueError(f"unknown coordinate {coordinate!r}; this domain has coordinates {self.coordinates}")
        return self.coordinates.index(coordinate)

    def _off_boundary(self, points: np.ndarray, on: np.ndarray) -> None:
        """Raise the ValueError of :meth:`normals` if some points are not on the boundary."""
        if not np.all(on):
            bad = points[~on][0]
            raise InputValueError(
                f"normals exist on the boundary only; {int(np.sum(~on))} of {len(on)} points are not on the "
                f"boundary of {self!r} (e.g. {bad.tolist()}); sample them with sample_boundary"
            )


def _request(
    n: object, sampler: Sampler | None, rng: np.random.Generator | None
) -> tuple[int, Sampler, np.random.Generator]:
    n = positive_count(n)
    if sampler is not None and not isinstance(sampler, Sampler):
        raise InputTypeError(
            f"sampler must be a Sampler such as UniformRandom(), LatinHypercube() or Sobol(), "
            f"got {type(sampler).__name__}"
        )
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputTypeError(f"rng must be a numpy.random.Generator such as np.random.default_rng(0), got {rng!r}")
    return n, sampler or UniformRandom(), rng if rng is not None else np.random.default_rng()
