"""Property-based tests of the geometries: samples against the domain's own membership tests and normals.

Random intervals, boxes, disks, balls, star-shaped polygons, CSG combinations of
them and space-time cylinders over any of these are sampled with random samplers
and counts. Every sample must lie in the domain (interior) or on the named part,
inside ``bounds()``; boundary normals must be unit vectors that point out (a small
step along one leaves the domain, a step against it stays in) and agree with
``normal(part, points)``. Degenerate shapes must be refused with a ValueError.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinnkan.pde.geometry import (
    INTERIOR,
    Ball,
    Box,
    Difference,
    Disk,
    Domain,
    Halton,
    Intersection,
    Interval,
    LatinHypercube,
    Lattice,
    Polygon,
    Sobol,
    SpaceTime,
    UniformRandom,
    Where,
)

FAST = settings(max_examples=30, deadline=None)
SLOW = settings(max_examples=20, deadline=None)
NAMES = ("x", "y", "z")
# A step of this fraction of the bounding-box diameter is far beyond the boundary tolerance (1e-9).
STEP = 1e-6

samplers = st.sampled_from([UniformRandom(), LatinHypercube(), Sobol(), Halton()])
seeds = st.integers(0, 2**32 - 1)
counts = st.integers(1, 64)
offsets = st.floats(-10.0, 10.0)
sizes = st.floats(-1.0, 1.0).map(lambda e: 10.0**e)  # 0.1 .. 10, log-uniform


@st.composite
def boxes(draw: st.DrawFn, min_dim: int = 1, max_dim: int = 3) -> Box:
    """Boxes of 1..3 dimensions (a 1-D one as an :class:`Interval`), sides 0.1 to 10."""
    dim = draw(st.integers(min_dim, max_dim))
    lo = [draw(offsets) for _ in range(dim)]
    hi = [a + draw(sizes) for a in lo]
    if dim == 1:
        return Interval(lo[0], hi[0])
    return Box({n: (a, b) for n, a, b in zip(NAMES, lo, hi)})


@st.composite
def balls(draw: st.DrawFn) -> Ball:
    """Disks, and balls of 3 or 4 dimensions."""
    dim = draw(st.integers(2, 4))
    center = [draw(st.floats(-5.0, 5.0)) for _ in range(dim)]
    radius = draw(sizes)
    return Disk(center, radius) if dim == 2 else Ball(center, radius)


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    """Star-shaped polygons: 3..8 vertices at increasing angles around a centre, radii within 3x of each other."""
    m = draw(st.integers(3, 8))
    gaps = np.array([draw(st.floats(0.3, 1.0)) for _ in range(m)])
    angles = draw(st.floats(0.0, 2 * math.pi)) + 2 * math.pi * np.cumsum(gaps) / gaps.sum()
    radii = np.array([draw(st.floats(1.0, 3.0)) for _ in range(m)]) * draw(sizes)
    center = np.array([draw(offsets), draw(offsets)])
    vertices = center + radii[:, None] * np.column_stack([np.cos(angles), np.sin(angles)])
    if draw(st.booleans()):
        vertices = vertices[::-1]  # clockwise input is accepted too
    return Polygon([tuple(v) for v in vertices])


# Where a cutting box starts and ends across the box it cuts: inside, on a face, or beyond.
cut_fractions = st.sampled_from([-0.25, 0.0, 0.2, 0.5, 0.75, 1.0, 1.25]) | st.floats(-0.3, 1.3)


@st.composite
def combinations(draw: st.DrawFn, kind: str) -> Domain:
    """A box minus a box (cut corners, notches, holes, shared faces), or its union or intersection with a disk."""
    a = draw(boxes(min_dim=2, max_dim=2))
    lo, hi = a.bounds()
    if kind == "difference":
        start = np.array([draw(cut_fractions) for _ in range(2)])
        end = np.array([draw(cut_fractions) for _ in range(2)])
        start, end = np.minimum(start, end), np.maximum(start, end)
        end = np.where(end - start >= 0.05, end, start + 0.3)  # a cut at least 5% of the box wide
        # Within 2% of a face means on it: slivers thinner than the boundary tolerance are not shapes.
        start, end = (np.where(np.abs(f) < 0.02, 0.0, np.where(np.abs(f - 1) < 0.02, 1.0, f)) for f in (start, end))
        if np.all(start <= 0.0) and np.all(end >= 1.0):
            end[0] = 0.5  # a cut covering the box leaves nothing (see the test of that below)
        b_lo, b_hi = lo + start * (hi - lo), lo + end * (hi - lo)
        return a - Box({"x": (b_lo[0], b_hi[0]), "y": (b_lo[1], b_hi[1])})
    center = lo + np.array([draw(st.floats(0.0, 1.0)) for _ in range(2)]) * (hi - lo)
    radius = draw(st.floats(0.2, 1.0)) * float(np.max(hi - lo))
    disk = Disk(tuple(center), radius)
    return a | disk if kind == "union" else a & disk


SHAPES = {
    "box": boxes(),
    "ball": balls(),
    "polygon": polygons(),
    **{kind: combinations(kind) for kind in ("difference", "union", "intersection")},
}
# Each kind of shape equally often (one_of would favour the simple ones).
spatial = st.sampled_from(sorted(SHAPES)).flatmap(SHAPES.__getitem__)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    """Any spatial domain above, or a space-time cylinder over one."""
    space = draw(spatial)
    if draw(st.booleans()):
        t0 = draw(st.floats(-5.0, 5.0))
        return SpaceTime(space, (t0, t0 + draw(sizes)))
    return space


def diameter(domain: Domain) -> float:
    lo, hi = domain.bounds()
    return float(np.linalg.norm(hi - lo))


def assert_in_bounds(domain: Domain, points: np.ndarray) -> None:
    lo, hi = domain.bounds()
    tol = domain.tolerance()
    assert np.all(points >= lo - tol) and np.all(points <= hi + tol)


@FAST
@given(domains(), counts, samplers, seeds)
def test_interior_samples_are_inside_and_as_many_as_asked(domain: Domain, n: int, sampler, seed: int) -> None:
    """``sample("interior", n)`` gives exactly ``n`` points, each ``inside`` and within ``bounds()``."""
    points = domain.sample(INTERIOR, n, sampler=sampler, rng=np.random.default_rng(seed))
    assert points.shape == (n, domain.dim)
    assert np.all(np.isfinite(points))
    assert domain.inside(points).all()
    assert_in_bounds(domain, points)


@FAST
@given(domains(), counts, samplers, seeds)
def test_boundary_samples_lie_on_their_part_with_outward_unit_normals(
    domain: Domain, n: int, sampler, seed: int
) -> None:
    """On every named part: ``n`` points on the boundary, unit normals that leave the domain and match ``normal``."""
    rng = np.random.default_rng(seed)
    step = STEP * diameter(domain)
    for part in domain.part_names:
        points, normals = domain.sample_boundary(part, n, sampler=sampler, rng=rng)
        assert points.shape == normals.shape == (n, domain.dim), part
        assert domain.inside(points).all(), part
        assert domain.on_boundary(points).all(), part
        assert_in_bounds(domain, points)
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, rtol=0, atol=1e-12)
        assert not domain.inside(points + step * normals).any(), part
        assert domain.inside(points - step * normals).all(), part
        np.testing.assert_allclose(domain.normal(part, points), normals, rtol=0, atol=1e-12)


@FAST
@given(boxes(), counts, samplers, seeds)
def test_box_faces_hold_their_coordinate_and_normal(box: Box, n: int, sampler, seed: int) -> None:
    """``"<c>_min"`` points have ``c = lo`` exactly and normal ``-e_c``; ``"<c>_max"`` ones ``c = hi`` and ``+e_c``."""
    lo, hi = box.bounds()
    rng = np.random.default_rng(seed)
    for axis, name in enumerate(box.coordinates):
        for side, value, sign in (("min", lo[axis], -1.0), ("max", hi[axis], 1.0)):
            points, normals = box.sample_boundary(f"{name}_{side}", n, sampler=sampler, rng=rng)
            assert np.all(points[:, axis] == value)
            np.testing.assert_array_equal(normals, sign * np.eye(box.dim)[np.full(n, axis)])
            others = np.delete(points, axis, axis=1)
            assert np.all((others >= np.delete(lo, axis)) & (others <= np.delete(hi, axis)))


@SLOW
@given(st.one_of(boxes(min_dim=2), polygons()), seeds)
def test_boundary_points_spread_over_the_pieces_in_proportion_to_their_measure(domain: Domain, seed: int) -> None:
    """The share of ``"boundary"`` points on each face or edge is its share of the boundary measure (6 sigma)."""
    n = 2000
    points, normals = domain.sample_boundary("boundary", n, rng=np.random.default_rng(seed))
    if isinstance(domain, Box):
        lo, hi = domain.bounds()
        width = hi - lo
        measures = [float(np.prod(np.delete(width, axis))) for axis in range(domain.dim) for _ in (0, 1)]
        keys = [(axis, sign) for axis in range(domain.dim) for sign in (-1.0, 1.0)]
    else:
        vertices = domain.vertices
        edges = np.roll(vertices, -1, axis=0) - vertices
        measures = list(np.linalg.norm(edges, axis=1))
        keys = [tuple(np.round(np.array([e[1], -e[0]]) / np.linalg.norm(e), 9)) for e in edges]
    if len(set(keys)) < len(keys):
        return  # two pieces share a normal (parallel edges of a polygon): the count cannot tell them apart
    total = sum(measures)
    for key, measure in zip(keys, measures):
        if isinstance(domain, Box):
            axis, sign = key
            count = int(np.sum(normals[:, axis] == sign))
        else:
            count = int(np.sum(np.all(np.abs(normals - np.array(key)) < 1e-6, axis=1)))
        p = measure / total
        assert abs(count - n * p) <= 6 * math.sqrt(n * p * (1 - p)) + 1, (key, count, n * p)


@FAST
@given(domains(), seeds, st.floats(0.2, 1.0))
def test_where_parts_keep_only_points_that_satisfy_the_predicate(domain: Domain, seed: int, fraction: float) -> None:
    """``Where(c[first] <= threshold)`` samples are boundary points with ``c[first] <= threshold``.

    The threshold is a quantile (20% .. 100%) of the first coordinate over the boundary, so the
    piece is never empty (``bounds()`` may be loose, e.g. a difference keeps its first operand's).
    """
    rng = np.random.default_rng(seed)
    name = domain.coordinates[0]
    threshold = float(np.quantile(domain.sample("boundary", 256, rng=rng)[:, 0], fraction))
    part = Where(lambda c: c[name] <= threshold, name="low")
    points, normals = domain.sample_boundary(part, 32, sampler=Sobol(), rng=rng)
    assert points.shape == (32, domain.dim)
    assert np.all(points[:, 0] <= threshold)
    assert domain.on_boundary(points).all()
    np.testing.assert_allclose(domain.normal(part, points), normals, rtol=0, atol=1e-12)


@FAST
@given(spatial, st.floats(-5.0, 5.0), sizes, counts, samplers, seeds)
def test_space_time_parts_are_the_spatial_parts_over_the_time_range(
    space: Domain, t0: float, duration: float, n: int, sampler, seed: int
) -> None:
    """``"initial"`` is the spatial domain at ``t = t0``; a lifted part is the spatial part at times in ``[t0, t1]``."""
    domain = SpaceTime(space, (t0, t0 + duration))
    rng = np.random.default_rng(seed)
    initial = domain.sample("initial", n, sampler=sampler, rng=rng)
    assert np.all(initial[:, -1] == t0)
    assert space.inside(initial[:, :-1]).all()
    for part in space.part_names:
        points, normals = domain.sample_boundary(part, n, sampler=sampler, rng=rng)
        assert np.all((points[:, -1] >= t0) & (points[:, -1] <= t0 + duration))
        assert space.on_boundary(points[:, :-1]).all()
        assert np.all(normals[:, -1] == 0.0)
        np.testing.assert_allclose(normals[:, :-1], space.normal(part, points[:, :-1]), rtol=0, atol=1e-12)


@FAST
@given(st.one_of(boxes(), boxes().map(lambda b: SpaceTime(b, (0.0, 1.0)))), counts, samplers, seeds)
def test_periodic_pairs_are_images_across_the_box(domain: Domain, n: int, sampler, seed: int) -> None:
    """``b = a + (hi - lo) e_c`` with ``a`` on ``c_min`` and ``b`` on ``c_max``."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    lo, hi = space.bounds()
    for axis, name in enumerate(space.coordinates):
        a, b = domain.periodic_pairs(name, n, sampler=sampler, rng=np.random.default_rng(seed))
        assert a.shape == b.shape == (n, domain.dim)
        expected = a.copy()
        expected[:, axis] += hi[axis] - lo[axis]
        np.testing.assert_allclose(b, expected, rtol=0, atol=1e-12 * (1 + np.abs(hi).max()))
        np.testing.assert_array_equal(domain.normal(f"{name}_min", a)[:, axis], -1.0)
        np.testing.assert_array_equal(domain.normal(f"{name}_max", b)[:, axis], 1.0)


@FAST
@given(boxes(), st.integers(1, 300))
def test_grid_sampler_gives_the_full_cell_centred_grid(box: Box, n: int) -> None:
    """``Lattice`` on a box interior gives ``round(n^(1/d))^d`` points, at cell centres, each inside."""
    points = box.sample_interior(n, sampler=Lattice(), rng=np.random.default_rng(0))
    m = max(1, round(n ** (1 / box.dim)))
    assert points.shape == (m**box.dim, box.dim)
    lo, hi = box.bounds()
    cells = (points - lo) / (hi - lo) * m - 0.5  # integer cell indices
    np.testing.assert_allclose(cells, np.round(cells), rtol=0, atol=1e-9)
    assert box.inside(points).all()


# ----------------------------------------------------------------- degenerate shapes


@FAST
@given(st.floats(-10.0, 10.0), st.floats(-10.0, 0.0))
def test_empty_or_reversed_ranges_are_refused(lo: float, width: float) -> None:
    """``hi <= lo`` in a box, an interval or a time range is a ValueError that says so."""
    hi = lo + width
    with pytest.raises(ValueError, match="degenerate or reversed"):
        Interval(lo, hi)
    with pytest.raises(ValueError, match="degenerate or reversed"):
        Box({"x": (0.0, 1.0), "y": (lo, hi)})
    with pytest.raises(ValueError, match="degenerate or reversed"):
        SpaceTime(Interval(0.0, 1.0), (lo, hi))


@FAST
@given(st.floats(-5.0, 5.0), st.floats(-5.0, 5.0), st.floats(-10.0, 0.0))
def test_balls_without_a_positive_radius_are_refused(cx: float, cy: float, radius: float) -> None:
    with pytest.raises(ValueError, match="radius must be finite and > 0"):
        Disk((cx, cy), radius)
    with pytest.raises(ValueError, match="radius must be finite and > 0"):
        Ball((cx, cy, 0.0), radius)


@FAST
@given(st.integers(-5, 5), st.integers(-5, 5), st.sampled_from([(1, 0), (0, 1), (1, 1), (2, -3), (-1, 4)]),
       st.lists(st.integers(-6, 6), min_size=3, max_size=6, unique=True), st.sampled_from([1.0, 0.1, 1e3]))
def test_polygons_on_a_line_are_refused(
    x0: int, y0: int, direction: tuple[int, int], positions: list[int], scale: float
) -> None:
    """Vertices all on one line enclose no area (or fold back): a ValueError.

    Small integers times a power of ten keep the vertices exactly collinear in floating point;
    random reals would leave a genuine sliver triangle of rounding size.
    """
    dx, dy = direction
    vertices = [(scale * (x0 + s * dx), scale * (y0 + s * dy)) for s in positions]
    # Which check fires depends on the order and spacing (a closing repeat is dropped, leaving 2 vertices).
    with pytest.raises(ValueError, match="no area|folds back|self-intersecting|repeated vertex|at least 3 vertices"):
        Polygon(vertices)


@FAST
@given(boxes(min_dim=2, max_dim=2), st.lists(st.floats(0.0, 0.5), min_size=4, max_size=4))
def test_differences_that_remove_everything_are_refused(box: Box, margins: list[float]) -> None:
    """Cutting a box that covers the whole box leaves nothing: a ValueError."""
    lo, hi = box.bounds()
    width = hi - lo
    cover = Box({"x": (lo[0] - margins[0] * width[0], hi[0] + margins[1] * width[0]),
                 "y": (lo[1] - margins[2] * width[1], hi[1] + margins[3] * width[1])})
    with pytest.raises(ValueError, match="empty"):
        Difference(box, cover)


@FAST
@given(boxes(min_dim=2, max_dim=2), st.floats(0.0, 5.0), st.floats(0.1, 1.0))
def test_disjoint_intersections_are_refused(box: Box, gap: float, radius: float) -> None:
    """A disk to the right of the box, touching it (gap 0) or not, has an empty intersection with it: a ValueError."""
    lo, hi = box.bounds()
    center = (hi[0] + gap + radius, 0.5 * (lo[1] + hi[1]))
    with pytest.raises(ValueError, match="empty"):
        Intersection(box, Disk(center, radius))
