"""Every sampler on every geometry: points land in the domain and on their part, normals face outward."""

import numpy as np
import pytest

from pinnkan.pde.geometry import (
    Ball,
    Box,
    Disk,
    Halton,
    Interval,
    LatinHypercube,
    Lattice,
    Polygon,
    Sobol,
    SpaceTime,
    UniformRandom,
    Where,
)

SAMPLERS = [UniformRandom(), LatinHypercube(), Sobol(), Halton(), Lattice()]

SQUARE = Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)})
CHEVRON = Polygon([(0, 0), (2, 0), (2, 2), (1, 1), (0, 2)])  # non-convex, reflex vertex at (1, 1)


def _spatial() -> dict:
    return {
        "interval": Interval(-1.0, 2.0),
        "box2": Box({"x": (0.0, 3.0), "y": (-1.0, 1.0)}),
        "box3": Box({"x": (0.0, 1.0), "y": (0.0, 2.0), "z": (-1.0, 0.0)}),
        "disk": Disk((1.0, -0.5), 0.75),
        "ball3": Ball((0.0, 1.0, 0.0), 0.5),
        "polygon": CHEVRON,
        "union": Disk((0.0, 0.0), 1.0) | Disk((1.0, 0.0), 1.0),
        "intersection": Box({"x": (0.0, 2.0), "y": (0.0, 2.0)}) & Disk((0.0, 0.0), 1.0),
        "l_shape": Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)}),
        "nested": Box({"x": (0.0, 3.0), "y": (0.0, 1.0)}) - (Disk((1.0, 0.5), 0.25) | Disk((2.0, 0.5), 0.25)),
        "nested3": (Ball((0.0, 0.0, 0.0), 1.0) & Box({"x": (0, 1), "y": (-1, 1), "z": (-1, 1)}))
        | Ball((0.0, 0.0, 0.5), 0.5),
        "polygon_minus_disk": CHEVRON - Disk((1.0, 0.5), 0.3),
    }


SPATIAL = _spatial()
DOMAINS = {**SPATIAL, **{f"spacetime_{k}": SpaceTime(v, (0.0, 0.5)) for k, v in SPATIAL.items() if k != "ball3"}}


def _eps(domain) -> float:
    lo, hi = domain.bounds()
    return 1e-6 * float(np.linalg.norm(hi - lo))


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", list(DOMAINS))
def test_interior_points_are_inside_and_repeat_with_the_seed(name, sampler):
    domain = DOMAINS[name]
    pts = domain.sample_interior(300, sampler=sampler, rng=np.random.default_rng(5))
    again = domain.sample_interior(300, sampler=sampler, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(pts, again)
    if sampler.exact_count:
        assert pts.shape == (300, domain.dim)
    else:  # a grid gives about n points
        assert 150 <= len(pts) <= 600 and pts.shape[1] == domain.dim
    assert domain.inside(pts).all()
    lo, hi = domain.bounds()
    assert np.all(pts >= lo) and np.all(pts <= hi)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", list(DOMAINS))
def test_boundary_points_are_on_the_boundary_with_outward_unit_normals(name, sampler):
    domain = DOMAINS[name]
    pts, normals = domain.sample_boundary("boundary", 300, sampler=sampler, rng=np.random.default_rng(6))
    again, _ = domain.sample_boundary("boundary", 300, sampler=sampler, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(pts, again)
    assert domain.on_boundary(pts).all() and domain.inside(pts).all()
    _assert_outward(domain, pts, normals)
    # The domain's own normals at the points face outward too, and are the sampled
    # ones (a grid may hit edges and corners, where either face's normal will do).
    _assert_outward(domain, pts, domain.normals(pts))
    if not isinstance(sampler, Lattice):
        np.testing.assert_allclose(domain.normals(pts), normals, atol=1e-12)
        np.testing.assert_allclose(domain.normal("boundary", pts), normals, atol=1e-12)


def _assert_outward(domain, pts, normals):
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, rtol=1e-12)
    eps = _eps(domain)
    assert domain.inside(pts - eps * normals).all()
    assert not domain.inside(pts + eps * normals).any()


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", ["interval", "box2", "box3", "spacetime_box2", "spacetime_interval"])
def test_box_faces_land_on_their_face(name, sampler):
    domain = DOMAINS[name]
    lo, hi = domain.bounds()
    space_dim = domain.space.dim if isinstance(domain, SpaceTime) else domain.dim
    for axis, coordinate in enumerate(domain.coordinates[:space_dim]):
        for side, value, sign in (("min", lo[axis], -1.0), ("max", hi[axis], 1.0)):
            part = f"{coordinate}_{side}"
            pts, normals = domain.sample_boundary(part, 64, sampler=sampler, rng=np.random.default_rng(7))
            assert np.all(pts[:, axis] == value)
            assert np.all(pts >= lo) and np.all(pts <= hi)
            expected = np.zeros(domain.dim)
            expected[axis] = sign
            np.testing.assert_array_equal(normals, np.tile(expected, (len(pts), 1)))
            np.testing.assert_array_equal(domain.normal(part, pts), normals)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", [k for k in DOMAINS if k.startswith("spacetime")])
def test_initial_points_are_the_space_at_t0(name, sampler):
    domain = DOMAINS[name]
    pts, normals = domain.sample_boundary("initial", 200, sampler=sampler, rng=np.random.default_rng(8))
    assert np.all(pts[:, -1] == 0.0)
    assert domain.space.inside(pts[:, :-1]).all()
    expected = np.zeros(domain.dim)
    expected[-1] = -1.0
    np.testing.assert_array_equal(normals, np.tile(expected, (len(pts), 1)))
    inner = ~domain.space.on_boundary(pts[:, :-1])
    np.testing.assert_array_equal(domain.normals(pts[inner]), normals[inner])
    np.testing.assert_array_equal(domain.normal("initial", pts), normals)
    # The same spatial points at t1 are on the closed boundary with normal +e_t.
    final = pts[inner] + np.append(np.zeros(domain.dim - 1), 0.5)
    assert domain.on_boundary(final).all()
    np.testing.assert_array_equal(domain.normals(final), -normals[inner])


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", ["disk", "l_shape", "polygon", "nested", "spacetime_disk", "spacetime_l_shape"])
def test_where_parts_keep_only_the_selected_points(name, sampler):
    domain = DOMAINS[name]
    left = Where(lambda c: c["x"] < 0.6, name="left")
    pts, normals = domain.sample_boundary(left, 200, sampler=sampler, rng=np.random.default_rng(9))
    assert np.all(pts[:, 0] < 0.6)
    assert domain.on_boundary(pts).all()
    _assert_outward(domain, pts, normals)
    if sampler.exact_count:
        assert len(pts) == 200
