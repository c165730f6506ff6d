"""ScatteredSolution: checks where it is made, snapshots found and lost, time columns where they belong."""

import numpy as np
import pytest

from pinnkan import ScatteredSolution


def test_snapshots_are_the_same_space_points_at_every_time():
    space = np.array([[0.0], [0.5], [1.0]])
    times = np.array([0.0, 0.2, 0.4, 0.6])
    values = np.arange(12.0).reshape(4, 3)
    s = ScatteredSolution.from_snapshots(("x", "t"), space, times, values)
    assert s.size == 12 and s.axes == ("x", "t")
    np.testing.assert_array_equal(s.column("t"), np.repeat(times, 3))
    np.testing.assert_array_equal(s.values, values.reshape(-1))
    found, which = s.snapshots("t")
    np.testing.assert_array_equal(found, times)
    np.testing.assert_array_equal(which, np.repeat(np.arange(4), 3))
    # shuffled rows are still snapshots; a moved point is not
    order = np.random.default_rng(0).permutation(12)
    shuffled = ScatteredSolution(("x", "t"), s.points[order], s.values[order])
    assert shuffled.snapshots("t") is not None
    moved = s.points.copy()
    moved[5, 0] = 0.7
    assert ScatteredSolution(("x", "t"), moved, s.values).snapshots("t") is None


def test_time_first_axes_put_the_time_column_first():
    s = ScatteredSolution.from_snapshots(("t", "x", "y"), np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([5.0]),
                                         {"u": np.array([[7.0, 8.0]])})
    np.testing.assert_array_equal(s.points, [[5.0, 0.0, 1.0], [5.0, 2.0, 3.0]])


@pytest.mark.parametrize(("args", "message"), [
    ((("x", "y"), np.zeros((3, 3)), np.zeros(3)), r"need shape \(N, 2\)"),
    ((("x",), np.array([0.0, np.nan]), np.zeros(2)), r"point 1 has NaN or infinite coordinates"),
    ((("x",), np.array([0.0, 1.0]), np.array([1.0, np.inf])), r"NaN or infinite at 1 points \(the first at \[1.0\]\)"),
    ((("x",), np.array([0.0, 1.0]), np.zeros(3)), r"the 2 points need shape \(2,\)"),
    ((("x", "x"), np.zeros((2, 2)), np.zeros(2)), "one distinct axis name"),
])
def test_bad_input_says_the_fix(args, message):
    with pytest.raises(ValueError, match=message):
        ScatteredSolution(*args)


def test_triangles_index_the_points_of_a_plane():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"point indices in \[0, 3\)"):
        ScatteredSolution(("x", "y"), pts, np.zeros(3), triangles=np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match="triangles are for points of two columns"):
        ScatteredSolution(("x",), pts[:, 0], np.zeros(3), triangles=np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"read its .outputs\[name\]"):
        ScatteredSolution(("x", "y"), pts, {"u": np.zeros(3), "v": np.ones(3)}).values
