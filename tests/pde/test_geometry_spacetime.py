"""Space-time cylinders over any spatial domain, periodic pairs, Where parts and request checks."""

import math

import numpy as np
import pytest

from pinnkan.pde.geometry import (
    INTERIOR,
    Box,
    Disk,
    Interval,
    Lattice,
    Polygon,
    Sobol,
    SpaceTime,
    UniformRandom,
    Where,
)


def test_space_time_over_a_disk_has_the_product_measures_and_parts():
    domain = SpaceTime(Disk((0.0, 0.0), 2.0), (1.0, 3.0), name="s")
    assert domain.coordinates == ("x", "y", "s") and domain.time == "s" and domain.time_range == (1.0, 3.0)
    assert domain.part_names == ("boundary", "initial")
    assert domain.volume() == pytest.approx(math.pi * 4 * 2, rel=1e-14)
    assert domain.boundary_measure() == pytest.approx(2 * math.pi * 2 * 2, rel=1e-14)
    lo, hi = domain.bounds()
    np.testing.assert_array_equal(lo, [-2, -2, 1])
    np.testing.assert_array_equal(hi, [2, 2, 3])
    pts = domain.sample_interior(8000, sampler=Sobol(), rng=np.random.default_rng(0))
    # Uniform in the cylinder: E r^2 = R^2 / 2, and time uniform on [1, 3].
    assert np.mean(np.sum(pts[:, :2] ** 2, axis=1)) == pytest.approx(2.0, rel=0.01)
    assert np.mean(pts[:, 2]) == pytest.approx(2.0, abs=0.01)
    assert np.mean(pts[:, 2] < 1.5) == pytest.approx(0.25, abs=0.01)
    side, normals = domain.sample_boundary("boundary", 2000, sampler=Sobol(), rng=np.random.default_rng(0))
    np.testing.assert_allclose(normals[:, :2], side[:, :2] / 2.0, atol=1e-14)
    np.testing.assert_array_equal(normals[:, 2], 0.0)
    np.testing.assert_allclose(domain.normal("boundary", side), normals, atol=1e-14)


def test_space_time_keeps_the_box_parts_and_joint_unit_map():
    domain = SpaceTime(Box({"x": (0, 1), "y": (0, 2)}), (0.0, 1.0))
    assert domain.part_names == ("x_min", "x_max", "y_min", "y_max", "boundary", "initial")
    # The interior of a box-space is an affine image of the sampler's joint unit points.
    unit = Sobol().unit(64, 3, np.random.default_rng(4))
    np.testing.assert_array_equal(
        domain.sample_interior(64, sampler=Sobol(), rng=np.random.default_rng(4)), unit * [1, 2, 1]
    )
    top = domain.sample("y_max", 50, sampler=Sobol(), rng=np.random.default_rng(1))
    np.testing.assert_array_equal(top[:, 1], 2.0)
    np.testing.assert_array_equal(domain.normal("y_max", top), np.tile([0.0, 1.0, 0.0], (50, 1)))
    with pytest.raises(ValueError, match="not on the part 'initial'"):
        domain.normal("initial", top)


def test_points_at_the_ends_and_on_the_side():
    domain = SpaceTime(Polygon([(0, 0), (2, 0), (0, 2)]), (0.0, 1.0))
    pts = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 1.0], [1.0, 0.0, 0.5], [1.0, 1.0, 0.3], [0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(domain.on_boundary(pts), [True, True, True, True, False])
    s = 1 / math.sqrt(2.0)
    np.testing.assert_allclose(domain.normals(pts[:4]), [[0, 0, -1], [0, 0, 1], [0, -1, 0], [s, s, 0]], atol=1e-15)
    assert not domain.inside([[0.5, 0.5, 1.1], [1.5, 1.5, 0.5]]).any()


@pytest.mark.parametrize("sampler", [UniformRandom(), Sobol(), Lattice()], ids=lambda s: type(s).__name__)
def test_periodic_pairs_differ_only_in_the_paired_coordinate(sampler):
    cases = [
        (Box({"x": (-1.0, 2.0), "y": (0.0, 1.0)}), "x", 0),
        (Box({"x": (-1.0, 2.0), "y": (0.0, 1.0), "z": (5.0, 6.0)}), "z", 2),
        (Interval(0.5, 2.0), "x", 0),
        (SpaceTime(Box({"x": (0.0, 1.0), "y": (-2.0, 2.0)}), (0.0, 3.0)), "y", 1),
        (SpaceTime(Interval(-math.pi, math.pi), (0.0, 1.0)), "x", 0),
    ]
    for domain, coordinate, axis in cases:
        a, b = domain.periodic_pairs(coordinate, 100, sampler=sampler, rng=np.random.default_rng(2))
        lo, hi = domain.bounds()
        assert a.shape == b.shape and len(a) == 100
        np.testing.assert_array_equal(a[:, axis], lo[axis])
        np.testing.assert_array_equal(b[:, axis], hi[axis])
        np.testing.assert_array_equal(np.delete(b - a, axis, axis=1), 0.0)
        assert domain.inside(a).all() and domain.inside(b).all()
        if domain.dim > 1:  # the face is covered, not a single line
            others = np.delete(a, axis, axis=1)
            assert np.all(others.std(axis=0) > 0.1 * (np.delete(hi - lo, axis)))


def test_bad_periodic_requests_name_the_fix():
    with pytest.raises(ValueError, match=r"periodic conditions need a box in 'x'.*this domain is a Disk"):
        Disk((0, 0), 1.0).periodic_pairs("x", 10)
    with pytest.raises(ValueError, match="'t' is the time coordinate"):
        SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)).periodic_pairs("t", 10)
    with pytest.raises(ValueError, match="SpaceTime over a Polygon"):
        SpaceTime(Polygon([(0, 0), (1, 0), (0, 1)]), (0.0, 1.0)).periodic_pairs("y", 10)
    with pytest.raises(ValueError, match=r"unknown coordinate 'z'; this domain has coordinates \('x', 'y'\)"):
        Box({"x": (0, 1), "y": (0, 1)}).periodic_pairs("z", 10)


def test_where_requests_name_the_fix():
    disk = Disk((0, 0), 1.0)
    with pytest.raises(ValueError, match="selects no points of part 'boundary'; check its predicate"):
        disk.sample_boundary(Where(lambda c: c["x"] > 5.0), 10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="selects no points"):
        disk.sample_boundary(Where(lambda c: c["x"] > 5.0), 10, sampler=Lattice(), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown part 'x_min'"):
        disk.sample_boundary(Where(lambda c: c["x"] > 0, within="x_min"), 10)
    with pytest.raises(TypeError, match="boolean array of shape"):
        disk.sample_boundary(Where(lambda c: c["x"]), 10, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="predicate over the coordinates"):
        Where("x < 0")
    with pytest.raises(ValueError, match="must name a boundary part"):
        Where(lambda c: c["x"] < 0, within=INTERIOR)


def test_where_on_a_box_face_keeps_the_face_normal():
    box = Box({"x": (0, 1), "y": (0, 1)})
    upper_left = Where(lambda c: c["y"] > 0.5, within="x_min", name="upper_left")
    assert upper_left.name == "upper_left" and Where(lambda c: c["x"] > 0).name == "where"
    pts = box.sample(upper_left, 200, sampler=Sobol(), rng=np.random.default_rng(3))
    assert np.all(pts[:, 0] == 0.0) and np.all(pts[:, 1] > 0.5)
    np.testing.assert_array_equal(box.normal(upper_left, pts), np.tile([-1.0, 0.0], (200, 1)))
    # Half of the face qualifies, and the kept points cover it evenly.
    assert np.mean(pts[:, 1]) == pytest.approx(0.75, abs=0.01)


def test_requests_are_checked():
    domain = SpaceTime(Disk((0, 0), 1.0), (0.0, 1.0))
    with pytest.raises(ValueError, match=r"unknown part 'top'; this domain has 'interior' and boundary parts"):
        domain.sample("top", 3)
    with pytest.raises(ValueError, match="positive int"):
        domain.sample_boundary("boundary", 0)
    with pytest.raises(ValueError, match="use sample_interior"):
        domain.sample_boundary(INTERIOR, 3)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        domain.sample_interior(3, rng=0)
    with pytest.raises(ValueError, match=r"points must have shape \(n, 3\)"):
        domain.inside(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="normals exist on boundary parts only"):
        domain.normal(INTERIOR, np.zeros((1, 3)))
    with pytest.raises(TypeError, match="spatial Domain"):
        SpaceTime(domain, (0.0, 1.0), name="s")
    with pytest.raises(ValueError, match="degenerate or reversed"):
        SpaceTime(Disk((0, 0), 1.0), (1.0, 0.0))


@pytest.mark.parametrize(
    "domain",
    [Interval(0, 1), Disk((0, 0), 1), Polygon([(0, 0), (1, 0), (0, 1)]), SpaceTime(Disk((0, 0), 1), (0, 1)),
     Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)})],
    ids=repr,
)
def test_no_points_give_empty_answers(domain):
    empty = np.zeros((0, domain.dim))
    assert domain.inside(empty).shape == (0,) and domain.on_boundary(empty).shape == (0,)
    assert domain.normals(empty).shape == (0, domain.dim)
