"""Union, difference and intersection against areas, perimeters and normals worked out by hand."""

import math

import numpy as np
import pytest

from pinnkan.pde.geometry import (
    Box,
    Difference,
    Disk,
    Intersection,
    Interval,
    Lattice,
    Polygon,
    Sobol,
    SpaceTime,
    UniformRandom,
    Union,
    Where,
)


def l_shape():
    return Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)})


# Two unit disks whose centres are 1 apart: each arc of the lens spans 2 pi / 3.
LENS_AREA = 2 * math.pi / 3 - math.sqrt(3) / 2


def test_operators_build_the_operations():
    a, b = Disk((0.0, 0.0), 1.0), Disk((1.0, 0.0), 1.0)
    assert isinstance(a | b, Union) and isinstance(a - b, Difference) and isinstance(a & b, Intersection)
    assert (a | b).coordinates == ("x", "y") and (a | b).part_names == ("boundary",)


def test_l_shape_covers_three_quarters_of_its_box():
    shape = l_shape()
    pts = np.random.default_rng(0).uniform(-1.0, 1.0, (200_000, 2))
    assert np.mean(shape.inside(pts)) == pytest.approx(0.75, rel=0.01)
    assert shape.volume() == pytest.approx(3.0, rel=0.01)
    assert shape.boundary_measure() == pytest.approx(8.0, rel=0.01)
    lo, hi = shape.bounds()
    np.testing.assert_array_equal(lo, [-1, -1])
    np.testing.assert_array_equal(hi, [1, 1])


@pytest.mark.parametrize("sampler", [UniformRandom(), Sobol()], ids=["UniformRandom", "Sobol"])
def test_l_shape_boundary_is_uniform_in_length_with_the_right_normals(sampler):
    pts, normals = l_shape().sample_boundary("boundary", 20_000, sampler=sampler, rng=np.random.default_rng(1))
    x, y = pts[:, 0], pts[:, 1]
    # The six edges of the L (perimeter 8) and their outward normals.
    edges = {
        "bottom": (y == -1, 2.0, (0, -1)),
        "left": (x == -1, 2.0, (-1, 0)),
        "right": (x == 1, 1.0, (1, 0)),
        "top": (y == 1, 1.0, (0, 1)),
        "step_x0": ((x == 0) & (y > 0), 1.0, (1, 0)),  # re-entrant edges face the removed square
        "step_y0": ((y == 0) & (x > 0), 1.0, (0, 1)),
    }
    covered = np.zeros(len(pts), dtype=bool)
    for name, (on, length, normal) in edges.items():
        assert np.mean(on) == pytest.approx(length / 8, abs=0.015), name
        np.testing.assert_array_equal(normals[on], np.tile(normal, (int(on.sum()), 1)))
        covered |= on
    assert covered.all()
    # No point lies on the removed square's outer sides (x = 1 or y = 1 above zero).
    assert not np.any(((x == 1) & (y > 0)) | ((y == 1) & (x > 0)))


def test_l_shape_normals_at_chosen_points():
    shape = l_shape()
    pts = np.array([[0.0, 0.5], [0.5, 0.0], [-0.5, -1.0], [1.0, -0.5], [-1.0, 0.3], [-0.5, 1.0]])
    np.testing.assert_array_equal(shape.normals(pts), [[1, 0], [0, 1], [0, -1], [1, 0], [-1, 0], [0, 1]])
    corner = np.array([[0.0, 0.0], [-1.0, -1.0]])
    assert shape.on_boundary(corner).all()
    assert not shape.on_boundary([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]]).any()
    assert not shape.inside([[0.5, 0.5], [1.5, 0.0]]).any()
    with pytest.raises(ValueError, match="normals exist on the boundary only"):
        shape.normals([[-0.5, -0.5]])


def test_union_drops_the_shared_face_and_keeps_area_and_perimeter():
    union = Box({"x": (0, 1), "y": (0, 1)}) | Box({"x": (1, 2), "y": (0, 1)})
    assert union.volume() == pytest.approx(2.0, rel=0.01)
    assert union.boundary_measure() == pytest.approx(6.0, rel=0.01)
    pts, normals = union.sample_boundary("boundary", 3000, sampler=Sobol(), rng=np.random.default_rng(2))
    assert not np.any((pts[:, 0] == 1.0) & (pts[:, 1] > 0) & (pts[:, 1] < 1))
    assert not union.on_boundary([[1.0, 0.5]]).any() and union.on_boundary([[1.0, 0.0]]).all()
    assert np.mean(np.abs(normals[:, 1]) == 1.0) == pytest.approx(4 / 6, abs=0.01)


def test_two_disks_match_the_lens_formulas():
    a, b = Disk((0.0, 0.0), 1.0), Disk((1.0, 0.0), 1.0)
    cases = {
        # operation: (area, perimeter, share of the boundary on circle a)
        "union": (a | b, 2 * math.pi - LENS_AREA, 8 * math.pi / 3, 0.5),
        "intersection": (a & b, LENS_AREA, 4 * math.pi / 3, 0.5),
        "difference": (a - b, math.pi - LENS_AREA, 2 * math.pi, 2 / 3),
    }
    for name, (shape, area, perimeter, share_a) in cases.items():
        assert shape.volume() == pytest.approx(area, rel=0.01), name
        assert shape.boundary_measure() == pytest.approx(perimeter, rel=0.01), name
        pts, normals = shape.sample_boundary("boundary", 6000, sampler=Sobol(), rng=np.random.default_rng(3))
        on_a = np.abs(np.linalg.norm(pts, axis=1) - 1.0) < 1e-12
        assert np.mean(on_a) == pytest.approx(share_a, abs=0.015), name
        # On circle a the normal is radial; on circle b it is radial, reversed for the hole of a difference.
        np.testing.assert_allclose(normals[on_a], pts[on_a], atol=1e-12)
        sign = -1.0 if name == "difference" else 1.0
        np.testing.assert_allclose(normals[~on_a], sign * (pts[~on_a] - [1.0, 0.0]), atol=1e-12)


def test_nested_holes_and_a_filled_notch():
    plate = Box({"x": (0.0, 3.0), "y": (0.0, 1.0)}) - (Disk((1.0, 0.5), 0.25) | Disk((2.0, 0.5), 0.25))
    assert plate.volume() == pytest.approx(3.0 - math.pi / 8, rel=0.01)
    assert plate.boundary_measure() == pytest.approx(8.0 + math.pi, rel=0.01)
    pts, normals = plate.sample_boundary("boundary", 8000, sampler=Sobol(), rng=np.random.default_rng(4))
    for centre in ([1.0, 0.5], [2.0, 0.5]):
        on_hole = np.abs(np.linalg.norm(pts - centre, axis=1) - 0.25) < 1e-12
        assert np.mean(on_hole) == pytest.approx((math.pi / 2) / (8.0 + math.pi), abs=0.015)
        np.testing.assert_allclose(normals[on_hole], -(pts[on_hole] - centre) / 0.25, atol=1e-12)
    filled = l_shape() | Disk((0.5, 0.5), 0.25)  # a disk floating in the L's missing quarter
    assert filled.volume() == pytest.approx(3.0 + math.pi / 16, rel=0.01)
    assert filled.boundary_measure() == pytest.approx(8.0 + math.pi / 2, rel=0.01)


def test_quarter_disk_from_an_intersection():
    quarter = Box({"x": (0.0, 2.0), "y": (0.0, 2.0)}) & Disk((0.0, 0.0), 1.0)
    assert quarter.volume() == pytest.approx(math.pi / 4, rel=0.01)
    assert quarter.boundary_measure() == pytest.approx(2.0 + math.pi / 2, rel=0.01)
    lo, hi = quarter.bounds()
    np.testing.assert_array_equal(lo, [0, 0])
    np.testing.assert_array_equal(hi, [1, 1])
    pts = quarter.sample_interior(8000, sampler=Sobol(), rng=np.random.default_rng(5))
    # Centroid of a quarter disk: 4 R / (3 pi) on each axis.
    np.testing.assert_allclose(pts.mean(axis=0), 4 / (3 * math.pi), atol=0.01)


def test_interior_of_a_combination_is_uniform():
    pts = l_shape().sample_interior(12_000, sampler=Sobol(), rng=np.random.default_rng(6))
    # The three unit squares of the L hold a third of the points each; centroid (-1/6, -1/6).
    assert np.mean((pts[:, 0] > 0) & (pts[:, 1] < 0)) == pytest.approx(1 / 3, abs=0.01)
    np.testing.assert_allclose(pts.mean(axis=0), [-1 / 6, -1 / 6], atol=0.01)
    grid = l_shape().sample_interior(1200, sampler=Lattice(), rng=np.random.default_rng(6))
    assert 900 <= len(grid) <= 1500 and l_shape().inside(grid).all()


def test_one_dimensional_combinations():
    gap = Interval(0.0, 3.0) - Interval(1.0, 2.0)  # [0, 1] and [2, 3]
    assert gap.volume() == pytest.approx(2.0, rel=0.01)
    pts, normals = gap.sample_boundary("boundary", 4000, rng=np.random.default_rng(7))
    outward = {0.0: -1.0, 1.0: 1.0, 2.0: -1.0, 3.0: 1.0}
    for end, normal in outward.items():
        at_end = pts[:, 0] == end
        assert np.mean(at_end) == pytest.approx(0.25, abs=0.03)
        np.testing.assert_array_equal(normals[at_end, 0], normal)
    assert np.isin(pts[:, 0], list(outward)).all()


def test_where_and_space_time_on_a_combination():
    shape = SpaceTime(l_shape(), (0.0, 2.0))
    assert shape.volume() == pytest.approx(6.0, rel=0.01)
    step = Where(lambda c: (c["x"] > 0) & (c["y"] > -1e-9), name="step")
    pts, normals = shape.sample_boundary(step, 500, sampler=Sobol(), rng=np.random.default_rng(8))
    np.testing.assert_array_equal(pts[:, 1], 0.0)  # only the edge y = 0, 0 < x < 1 qualifies
    np.testing.assert_array_equal(normals, np.tile([0.0, 1.0, 0.0], (500, 1)))
    assert np.all((pts[:, 2] >= 0) & (pts[:, 2] <= 2))


def test_bad_combinations_name_the_fix():
    square = Box({"x": (0, 1), "y": (0, 1)})
    with pytest.raises(ValueError, match="same coordinate names"):
        square | Box({"x": (0, 1), "z": (0, 1)})
    with pytest.raises(ValueError, match="same coordinate names"):
        Disk((0, 0), 1.0) - Disk((0, 0), 0.5, coordinates=("y", "x"))
    with pytest.raises(ValueError, match="intersection .* is empty.*make the domains overlap"):
        square & Box({"x": (2, 3), "y": (0, 1)})
    with pytest.raises(ValueError, match="intersection .* is empty.*make the domains overlap"):
        Disk((0, 0), 1.0) & Polygon([(0.9, 0.9), (2, 0.9), (0.9, 2)])  # boxes overlap, shapes do not
    with pytest.raises(ValueError, match="difference .* is empty.*covers the first"):
        square - Box({"x": (-1, 2), "y": (-1, 2)})
    with pytest.raises(TypeError, match="combine them first"):
        SpaceTime(square, (0, 1)) | SpaceTime(square, (0, 1))
    with pytest.raises(ValueError, match="unknown part 'x_min'"):
        l_shape().sample("x_min", 3)
    with pytest.raises(ValueError, match="periodic conditions need a box in 'x'.*Difference"):
        l_shape().periodic_pairs("x", 4)


def test_a_disk_tangent_to_a_box_has_an_empty_intersection_whatever_the_rounding():
    """Regression: 0.6 - 0.5 rounds to just below 0.1, so the bounding boxes "overlapped" by 2e-17 and a
    domain of area ~1e-21 came out, whose boundary could not be sampled; the exact tangent was refused."""
    for box, disk in [
        (Box({"x": (0, 1), "y": (0, 1)}), Disk((1.5, 0.5), 0.5)),  # bounds meet exactly at x = 1
        (Box({"x": (0, 0.1), "y": (0, 1)}), Disk((0.6, 0.5), 0.5)),  # the disk's bounds start at 0.09999999999999998
    ]:
        with pytest.raises(ValueError, match="intersection .* is empty.*share at most a face"):
            box & disk


def test_lshape_closure_keeps_reentrant_edges_and_drops_the_cut_squares_outer_sides():
    lshape = Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    points = np.array([[0.0, 0.5], [0.5, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.5], [0.5, 1.0], [1.0, 1.0], [0.5, 0.5]])
    assert lshape.inside(points).tolist() == [True, True, True, True, False, False, False, False]
