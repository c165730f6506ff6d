"""Samplers and primitive domains against formulas: measures, uniformity, analytic normals, bad input."""

import math

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
    UniformRandom,
)

SAMPLERS = [UniformRandom(), LatinHypercube(), Sobol(), Halton(), Lattice()]
CHEVRON = Polygon([(0, 0), (2, 0), (2, 2), (1, 1), (0, 2)])  # a square with a notch cut from the top


# ---------------------------------------------------------------- samplers
@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_samplers_fill_the_unit_cube_and_repeat_with_the_seed(sampler):
    pts = sampler.unit(1000, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(pts, sampler.unit(1000, 3, np.random.default_rng(0)))
    assert np.all((pts >= 0.0) & (pts < 1.0))
    # Uniform on the cube: mean 1/2 and variance 1/12 per axis.
    np.testing.assert_allclose(pts.mean(axis=0), 0.5, atol=0.03)
    np.testing.assert_allclose(pts.var(axis=0), 1 / 12, atol=0.01)
    assert sampler.unit(5, 0, np.random.default_rng(0)).shape == (5, 0)


def test_grid_is_cell_centred_with_round_n_to_the_one_over_dim_points_per_axis():
    grid = Lattice()
    assert not grid.exact_count and Sobol().exact_count
    pts = grid.unit(30, 2, np.random.default_rng(0))  # m = round(sqrt(30)) = 5
    assert pts.shape == (25, 2)
    np.testing.assert_allclose(np.unique(pts[:, 0]), [0.1, 0.3, 0.5, 0.7, 0.9])
    np.testing.assert_array_equal(pts, grid.unit(30, 2, np.random.default_rng(99)))  # no randomness
    assert grid.unit(7, 1, np.random.default_rng(0)).shape == (7, 1)
    assert grid.unit(2, 3, np.random.default_rng(0)).shape == (1, 3)  # m = max(1, round(2 ** (1/3)))


def test_sampler_requests_are_checked():
    with pytest.raises(ValueError, match="positive int"):
        Sobol().unit(0, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="dim must be an int >= 0"):
        Halton().unit(4, -1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        UniformRandom().unit(4, 2, 0)


# ---------------------------------------------------------------- boxes
def test_box_measures_and_face_normals():
    box = Box({"x": (0.0, 1.0), "y": (0.0, 2.0), "z": (-1.0, 2.0)})
    assert box.volume() == 6.0
    assert box.boundary_measure() == 2 * (1 * 2 + 1 * 3 + 2 * 3)
    assert Interval(-1.0, 3.0).volume() == 4.0 and Interval(-1.0, 3.0).boundary_measure() == 2.0
    pts = np.array([[0.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 2.0, 0.5], [0.5, 1.0, -1.0], [0.5, 1.0, 0.5]])
    np.testing.assert_array_equal(box.on_boundary(pts), [True, True, True, True, False])
    np.testing.assert_array_equal(box.normals(pts[:4]), [[-1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, -1]])
    # Within the tolerance (1e-9 of the diameter) a point is on the boundary, beyond it not.
    assert box.on_boundary([[1e-12, 1.0, 0.5]]).all() and not box.on_boundary([[1e-6, 1.0, 0.5]]).any()
    assert box.inside([[-1e-12, 1.0, 0.5]]).all() and not box.inside([[-1e-6, 1.0, 0.5]]).any()
    with pytest.raises(ValueError, match="normals exist on the boundary only"):
        box.normals(pts[4:])
    with pytest.raises(ValueError, match="not on the face 'x_min'"):
        box.normal("x_min", pts[1:2])


def test_box_faces_are_sampled_in_proportion_to_their_area():
    box = Box({"x": (0.0, 1.0), "y": (0.0, 2.0), "z": (0.0, 3.0)})
    _, normals = box.sample_boundary("boundary", 22000, sampler=UniformRandom(), rng=np.random.default_rng(1))
    areas = {0: 6.0, 1: 3.0, 2: 2.0}  # faces normal to x, y, z (each side)
    for axis, area in areas.items():
        for sign in (-1.0, 1.0):
            share = np.mean(normals[:, axis] == sign)
            assert abs(share - area / 22.0) < 0.01


# ---------------------------------------------------------------- disks and balls
def test_disk_and_ball_measures_match_the_formulas():
    disk = Disk((1.0, -2.0), 1.5)
    assert disk.volume() == pytest.approx(math.pi * 1.5**2, rel=1e-14)
    assert disk.boundary_measure() == pytest.approx(2 * math.pi * 1.5, rel=1e-14)
    ball = Ball((0.0, 0.0, 1.0), 2.0)
    assert ball.coordinates == ("x", "y", "z")
    assert ball.volume() == pytest.approx(4 / 3 * math.pi * 8, rel=1e-14)
    assert ball.boundary_measure() == pytest.approx(4 * math.pi * 4, rel=1e-14)
    ball4 = Ball((0.0, 0.0, 0.0, 0.0), 1.0)
    assert ball4.coordinates == ("x1", "x2", "x3", "x4")
    assert ball4.volume() == pytest.approx(math.pi**2 / 2, rel=1e-14)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_disk_interior_is_uniform(sampler):
    center, radius = np.array([1.0, -2.0]), 1.5
    pts = Disk(center, radius).sample_interior(8000, sampler=sampler, rng=np.random.default_rng(2))
    r2 = np.sum((pts - center) ** 2, axis=1)
    # Uniform on a disk: E|p - c|^2 = R^2 / 2, the centroid is the centre, P(r < R/2) = 1/4.
    assert np.mean(r2) == pytest.approx(radius**2 / 2, rel=0.02)
    np.testing.assert_allclose(pts.mean(axis=0), center, atol=0.03)
    assert np.mean(r2 < (radius / 2) ** 2) == pytest.approx(0.25, abs=0.015)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_disk_boundary_is_uniform_in_angle_with_radial_normals(sampler):
    center, radius = np.array([1.0, -2.0]), 1.5
    disk = Disk(center, radius)
    pts, normals = disk.sample_boundary("boundary", 4000, sampler=sampler, rng=np.random.default_rng(3))
    np.testing.assert_allclose(np.linalg.norm(pts - center, axis=1), radius, rtol=1e-14)
    np.testing.assert_allclose(normals, (pts - center) / radius, atol=1e-14)
    angle = np.arctan2(pts[:, 1] - center[1], pts[:, 0] - center[0])
    for quadrant in range(4):
        low = -math.pi + quadrant * math.pi / 2
        assert np.mean((angle >= low) & (angle < low + math.pi / 2)) == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_ball_interior_and_sphere_are_uniform(sampler):
    ball = Ball((0.0, 1.0, 0.0), 2.0)
    pts = ball.sample_interior(6000, sampler=sampler, rng=np.random.default_rng(4))
    r = np.linalg.norm(pts - [0.0, 1.0, 0.0], axis=1)
    # Uniform in a 3-ball: E r^2 = 3/5 R^2, P(r < R/2) = 1/8.
    assert np.mean(r**2) == pytest.approx(0.6 * 4.0, rel=0.03)
    assert np.mean(r < 1.0) == pytest.approx(0.125, abs=0.015)
    sphere, normals = ball.sample_boundary("boundary", 6000, sampler=sampler, rng=np.random.default_rng(4))
    np.testing.assert_allclose(np.linalg.norm(sphere - [0.0, 1.0, 0.0], axis=1), 2.0, rtol=1e-13)
    np.testing.assert_allclose(normals, (sphere - [0.0, 1.0, 0.0]) / 2.0, atol=1e-13)
    # Uniform on a sphere: every coordinate of the normal has mean 0 and E n_i^2 = 1/3 (Archimedes: n_z is uniform).
    np.testing.assert_allclose(normals.mean(axis=0), 0.0, atol=0.04)
    np.testing.assert_allclose(np.mean(normals**2, axis=0), 1 / 3, atol=0.02)
    assert np.mean(normals[:, 2] > 0.5) == pytest.approx(0.25, abs=0.02)


def test_bad_balls_name_the_fix():
    with pytest.raises(ValueError, match="radius must be finite and > 0"):
        Disk((0.0, 0.0), 0.0)
    with pytest.raises(ValueError, match="use an Interval"):
        Ball((0.0,), 1.0)
    with pytest.raises(ValueError, match="use Ball"):
        Disk((0.0, 0.0, 0.0), 1.0)
    with pytest.raises(ValueError, match="give 3 coordinate names"):
        Ball((0.0, 0.0, 0.0), 1.0, coordinates=("x", "y"))


# ---------------------------------------------------------------- polygons
def test_polygon_measures_by_shoelace_either_orientation():
    for vertices in ([(0, 0), (2, 0), (2, 2), (1, 1), (0, 2)], [(0, 2), (1, 1), (2, 2), (2, 0), (0, 0)]):
        polygon = Polygon(vertices)
        assert polygon.volume() == pytest.approx(4.0 - 1.0, rel=1e-14)  # square minus the notch
        assert polygon.boundary_measure() == pytest.approx(6.0 + 2 * math.sqrt(2.0), rel=1e-14)
    triangle = Polygon([(0, 0), (3, 0), (0, 4), (0, 0)])  # closing vertex repeated
    assert triangle.volume() == 6.0 and triangle.boundary_measure() == pytest.approx(12.0)


def test_polygon_inside_and_normals_on_a_non_convex_shape():
    inside = CHEVRON.inside([[1.0, 0.5], [1.0, 1.5], [0.5, 1.5], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    np.testing.assert_array_equal(inside, [True, False, True, True, True, False])
    edges = np.array([[1.0, 0.0], [2.0, 1.0], [1.5, 1.5], [0.5, 1.5], [0.0, 1.0]])
    s = 1 / math.sqrt(2.0)
    expected = [[0, -1], [1, 0], [-s, s], [s, s], [-1, 0]]  # the notch's edges face up into the notch
    np.testing.assert_allclose(CHEVRON.normals(edges), expected, atol=1e-15)
    np.testing.assert_allclose(Polygon(CHEVRON.vertices[::-1]).normals(edges), expected, atol=1e-15)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_polygon_points_are_uniform(sampler):
    pts = CHEVRON.sample_interior(8000, sampler=sampler, rng=np.random.default_rng(5))
    # Centroid of the square (area 4, centroid (1, 1)) minus the notch (area 1, centroid (1, 5/3)).
    np.testing.assert_allclose(pts.mean(axis=0), [1.0, (4 - 5 / 3) / 3], atol=0.02)
    assert np.mean(pts[:, 1] < 1.0) == pytest.approx(2 / 3, abs=0.015)  # lower half: area 2 of 3
    boundary, normals = CHEVRON.sample_boundary("boundary", 8000, sampler=sampler, rng=np.random.default_rng(5))
    bottom = boundary[:, 1] == 0.0
    notch = np.abs(normals[:, 1] - 1 / math.sqrt(2.0)) < 1e-12
    perimeter = 6.0 + 2 * math.sqrt(2.0)
    assert np.mean(bottom) == pytest.approx(2.0 / perimeter, abs=0.015)
    assert np.mean(notch) == pytest.approx(2 * math.sqrt(2.0) / perimeter, abs=0.015)


def test_bad_polygons_name_the_fix():
    with pytest.raises(ValueError, match="self-intersecting"):
        Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # a bow tie
    with pytest.raises(ValueError, match="self-intersecting"):
        Polygon([(0, 0), (2, 0), (2, 2), (0, 2), (1, 0)])  # touches its own edge at (1, 0)
    with pytest.raises(ValueError, match="at least 3 vertices"):
        Polygon([(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="finite"):
        Polygon([(0, 0), (1, 0), (0, float("nan"))])
    with pytest.raises(ValueError, match="folds back"):
        Polygon([(0, 0), (1, 1), (2, 2)])  # collinear: the last edge runs back over the others
    with pytest.raises(ValueError, match="folds back"):
        Polygon([(0, 0), (2, 0), (1, 0), (1, 1)])
    with pytest.raises(ValueError, match="repeated vertex"):
        Polygon([(0, 0), (1, 0), (1, 0), (0, 1)])
