"""Simple polygons in the plane.

A :class:`Polygon` is given by its vertices in either orientation; it is stored
counter-clockwise, so the outward normal of the edge ``a -> b`` is ``(dy, -dx) / |b - a|``.
The interior is sampled through an ear-clipping triangulation (a triangle chosen
in proportion to its area, then ``p = (1 - sqrt s) A + sqrt s ((1 - u) B + u C)``),
the boundary by arc length, so every sampler gives uniform points without rejection.

Examples
--------
>>> triangle = Polygon([(0, 0), (2, 0), (0, 1)])
>>> triangle.volume(), round(triangle.boundary_measure(), 6)
(1.0, 5.236068)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...errors import InputTypeError, InputValueError
from ._checks import coordinate_names, points_array
from ._rejection import pick
from .base import Domain
from .distance import Coordinates, DistanceFunction, Piece, conjunction, equivalence, trim

__all__ = ["Polygon"]

# Relative size (to the squared diameter) below which a cross product counts as zero.
_FLAT = 1e-12


class Polygon(Domain):
    """A closed simple polygon (no self-intersections), convex or not.

    Parameters
    ----------
    vertices : sequence of (float, float)
        Corners in order around the polygon, clockwise or counter-clockwise,
        at least 3; the first is not repeated at the end (a repeat is dropped).
    coordinates : (str, str)
        Names of the two coordinates.
    """

    def __init__(self, vertices: Sequence[tuple[float, float]], *, coordinates: Sequence[str] = ("x", "y")) -> None:
        self.coordinates = coordinate_names(coordinates, 2)
        try:
            corners = np.array(vertices, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputTypeError(f"vertices must be a sequence of (x, y) pairs, got {vertices!r}") from None
        if corners.ndim != 2 or corners.shape[1] != 2:
            raise InputValueError(f"vertices must be (x, y) pairs, shape (m, 2), got shape {corners.shape}")
        if len(corners) > 1 and np.array_equal(corners[0], corners[-1]):
            corners = corners[:-1]
        if len(corners) < 3:
            raise InputValueError(f"a Polygon needs at least 3 vertices, got {len(corners)}")
        if not np.all(np.isfinite(corners)):
            raise InputValueError("the vertices of a Polygon must be finite numbers")
        edges = np.roll(corners, -1, axis=0) - corners
        if np.any(np.all(edges == 0.0, axis=1)):
            raise InputValueError("a Polygon has a repeated vertex (an edge of length zero); remove the duplicate")
        diameter = float(np.linalg.norm(corners.max(axis=0) - corners.min(axis=0)))
        self._flat = _FLAT * diameter**2
        _check_simple(corners, self._flat)
        signed_area = 0.5 * float(np.sum(corners[:, 0] * edges[:, 1] - corners[:, 1] * edges[:, 0]))
        if abs(signed_area) <= self._flat:
            raise InputValueError("the vertices of a Polygon enclose no area; check them")
        self._vertices = corners if signed_area > 0 else corners[::-1].copy()  # counter-clockwise
        self._area = abs(signed_area)
        self._starts = self._vertices
        self._steps = np.roll(self._vertices, -1, axis=0) - self._vertices  # (m, 2) edge vectors
        self._lengths = np.linalg.norm(self._steps, axis=1)
        self._edge_normals = np.column_stack([self._steps[:, 1], -self._steps[:, 0]]) / self._lengths[:, None]
        turns = _cross(self._steps, np.roll(self._steps, -1, axis=0))
        self._convex = bool(np.all(turns >= -self._flat))
        self._triangles = _triangulate(self._vertices, self._flat)  # (t, 3, 2)
        a, b, c = self._triangles[:, 0], self._triangles[:, 1], self._triangles[:, 2]
        self._triangle_areas = 0.5 * np.abs(_cross(b - a, c - a))

    def __repr__(self) -> str:
        return f"Polygon({self._vertices.tolist()})"

    @property
    def vertices(self) -> np.ndarray:
        """Corners (m, 2), counter-clockwise."""
        return self._vertices.copy()

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._vertices.min(axis=0), self._vertices.max(axis=0)

    def volume(self) -> float:
        """Area by the shoelace formula ``|sum_i (x_i y_{i+1} - x_{i+1} y_i)| / 2``."""
        return self._area

    def boundary_measure(self) -> float:
        """Perimeter ``sum_i |v_{i+1} - v_i|``."""
        return float(np.sum(self._lengths))

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Even-odd rule (a ray to ``+x`` crosses the boundary an odd number of times), or on the boundary."""
        points = points_array(points, self.coordinates)
        px, py = points[:, :1], points[:, 1:]  # (n, 1)
        ax, ay = self._starts[:, 0], self._starts[:, 1]  # (m,)
        bx, by = ax + self._steps[:, 0], ay + self._steps[:, 1]
        straddles = (ay > py) != (by > py)  # (n, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing_x = ax + (py - ay) * (bx - ax) / (by - ay)
        odd = np.sum(straddles & (px < crossing_x), axis=1) % 2 == 1
        return odd | self.on_boundary(points)

    def on_boundary(self, points: np.ndarray) -> np.ndarray:
        points = points_array(points, self.coordinates)
        return np.min(self._edge_distances(points), axis=1) <= self.tolerance()

    def normals(self, points: np.ndarray) -> np.ndarray:
        """The outward normal of the nearest edge."""
        points = points_array(points, self.coordinates)
        distances = self._edge_distances(points)
        self._off_boundary(points, np.min(distances, axis=1) <= self.tolerance())
        return self._edge_normals[np.argmin(distances, axis=1)]

    def distance(self, c: Coordinates) -> torch.Tensor:
        """Convex: the R-conjunction of the edges' lines. Otherwise the R-equivalence of the
        edges' trimmed distances, with the sign of the even-odd rule (Sukumar & Srivastava 2022)."""
        if self._convex:
            result = None
            for line in self._lines():
                value = line(c)
                result = value if result is None else conjunction(result, value)
            return result  # type: ignore[return-value]
        unsigned = equivalence([piece.distance(c) for piece in self.pieces()])
        return torch.where(self._inside_tensor(c), unsigned, -unsigned)

    def pieces(self) -> tuple[Piece, ...]:
        """The edges: each with its line's signed distance (convex), or the segment's trimmed one."""
        pieces = []
        for i, line in enumerate(self._lines()):
            a, b = self._vertices[i], self._vertices[(i + 1) % len(self._vertices)]
            sample = self._edge_sampler(i)
            label = f"edge {a.tolist()} - {b.tolist()} of {self!r}"
            if self._convex:
                pieces.append(Piece(label, line, sample, True))
            else:
                pieces.append(Piece(label, self._segment(i, line), sample, False))
        return tuple(pieces)

    def _lines(self) -> list[DistanceFunction]:
        """Signed distances to the edges' lines, positive on the polygon's side (left of each edge)."""
        x, y = self.coordinates
        lines = []
        for (ax, ay), (nx, ny) in zip(self._starts.tolist(), self._edge_normals.tolist()):
            lines.append(lambda c, ax=ax, ay=ay, nx=nx, ny=ny: -(c[x] - ax) * nx - (c[y] - ay) * ny)
        return lines

    def _segment(self, i: int, line: DistanceFunction) -> DistanceFunction:
        """The edge's line trimmed to the disk on the edge as diameter: ``t = ((L/2)^2 - |p - m|^2) / L``."""
        x, y = self.coordinates
        length = float(self._lengths[i])
        mx, my = (self._starts[i] + 0.5 * self._steps[i]).tolist()
        return lambda c: trim(line(c), ((0.5 * length) ** 2 - (c[x] - mx) ** 2 - (c[y] - my) ** 2) / length)

    def _edge_sampler(self, i: int):  # noqa: ANN202
        start, step = self._starts[i], self._steps[i]
        return lambda n, rng: start + rng.random(n)[:, None] * step

    def _inside_tensor(self, c: Coordinates) -> torch.Tensor:
        """The even-odd rule on tensors (no gradient): bool (N,)."""
        x, y = self.coordinates
        with torch.no_grad():
            px, py = c[x].detach()[:, None], c[y].detach()[:, None]
            starts = torch.as_tensor(self._starts, dtype=px.dtype, device=px.device)
            ends = starts + torch.as_tensor(self._steps, dtype=px.dtype, device=px.device)
            ax, ay, bx, by = starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1]
            straddles = (ay > py) != (by > py)
            rise = torch.where(straddles, by - ay, torch.ones_like(by - ay))
            crossing = ax + (py - ay) * (bx - ax) / rise
            return (straddles & (px < crossing)).sum(dim=1) % 2 == 1

    # ----------------------------------------------------------------- maps
    def _interior_unit_dim(self) -> int:
        return 2

    def _interior_map(self, unit: np.ndarray) -> tuple[np.ndarray, None, None]:
        which, s = pick(unit[:, 0], self._triangle_areas)
        a, b, c = (self._triangles[which, i] for i in range(3))
        root, u = np.sqrt(s)[:, None], unit[:, 1:2]
        return a + root * ((1.0 - u) * (b - a) + u * (c - a)), None, None

    def _part_unit_dim(self, part: str) -> int:
        return 1

    def _part_map(self, part: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        which, along = pick(unit[:, 0], self._lengths)
        return self._starts[which] + along[:, None] * self._steps[which], self._edge_normals[which], None

    def _edge_distances(self, points: np.ndarray) -> np.ndarray:
        """Distance of each point to each edge, (n, m)."""
        offset = points[:, None, :] - self._starts[None]  # (n, m, 2)
        t = np.clip(np.sum(offset * self._steps, axis=2) / self._lengths**2, 0.0, 1.0)
        return np.linalg.norm(offset - t[..., None] * self._steps, axis=2)


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """z-component of ``u x v`` for 2-vectors (..., 2)."""
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _check_simple(corners: np.ndarray, flat: float) -> None:
    """Raise a ValueError if two edges cross, touch, or an edge folds back onto its neighbour."""
    m = len(corners)
    ends = np.roll(corners, -1, axis=0)
    for i in range(m):
        for j in range(i + 1, m):
            adjacent = j == i + 1 or (i == 0 and j == m - 1)
            if adjacent:
                first, second = (i, j) if j == i + 1 else (j, i)
                u, v = ends[first] - corners[first], ends[second] - corners[second]
                if abs(_cross(u, v)) <= flat and float(np.dot(u, v)) < 0.0:
                    raise InputValueError(
                        f"the Polygon folds back on itself at vertex {second} ({corners[second].tolist()}); "
                        f"give the vertices of a simple polygon in order around it"
                    )
            elif _segments_meet(corners[i], ends[i], corners[j], ends[j], flat):
                raise InputValueError(
                    f"the Polygon is self-intersecting: edges {i} and {j} meet "
                    f"({corners[i].tolist()}-{ends[i].tolist()} and {corners[j].tolist()}-{ends[j].tolist()}); "
                    f"give the vertices of a simple polygon in order around it"
                )


def _segments_meet(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray, flat: float) -> bool:
    """Whether the closed segments p1-p2 and q1-q2 share a point."""
    d1, d2 = _cross(q2 - q1, p1 - q1), _cross(q2 - q1, p2 - q1)
    d3, d4 = _cross(p2 - p1, q1 - p1), _cross(p2 - p1, q2 - p1)
    if d1 * d2 < 0 and d3 * d4 < 0 and min(abs(d1), abs(d2), abs(d3), abs(d4)) > flat:
        return True

    slack = np.sqrt(flat)  # a length: 1e-6 of the diameter

    def on_segment(a: np.ndarray, b: np.ndarray, p: np.ndarray, d: float) -> bool:
        within = np.all(p >= np.minimum(a, b) - slack) and np.all(p <= np.maximum(a, b) + slack)
        return abs(d) <= flat and bool(within)

    return (
        on_segment(q1, q2, p1, d1)
        or on_segment(q1, q2, p2, d2)
        or on_segment(p1, p2, q1, d3)
        or on_segment(p1, p2, q2, d4)
    )


def _triangulate(vertices: np.ndarray, flat: float) -> np.ndarray:
    """Ear clipping of a counter-clockwise simple polygon; triangles (t, 3, 2)."""
    remaining = list(range(len(vertices)))
    triangles = []
    while len(remaining) > 3:
        for k in range(len(remaining)):
            a, b, c = remaining[k - 1], remaining[k], remaining[(k + 1) % len(remaining)]
            A, B, C = vertices[a], vertices[b], vertices[c]
            turn = float(_cross(B - A, C - B))
            if abs(turn) <= flat:  # a straight vertex: drop it, the polygon is unchanged
                del remaining[k]
                break
            if turn < 0:  # reflex vertex
                continue
            others = vertices[[i for i in remaining if i not in (a, b, c)]]
            inside = (
                (_cross(B - A, others - A) >= -flat)
                & (_cross(C - B, others - B) >= -flat)
                & (_cross(A - C, others - C) >= -flat)
            )
            if not np.any(inside):
                triangles.append((A, B, C))
                del remaining[k]
                break
        else:
            raise InputValueError("could not triangulate the Polygon; check that it is simple (no self-intersections)")
    A, B, C = vertices[remaining]
    if abs(float(_cross(B - A, C - A))) > flat:
        triangles.append((A, B, C))
    return np.array(triangles)
