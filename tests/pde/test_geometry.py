"""Domains and sampling: points land on their parts, samplers are seeded and even."""

import numpy as np
import pytest

from pinnkan.pde.geometry import (
    Box,
    Interval,
    LatinHypercube,
    Sobol,
    SpaceTime,
    UniformRandom,
)

SAMPLERS = [UniformRandom(), LatinHypercube(), Sobol()]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_interior_points_fill_the_box_evenly(sampler):
    box = Box({"x": (0.0, 2.0), "y": (-1.0, 1.0)})
    pts = box.sample("interior", 4096, sampler=sampler, rng=np.random.default_rng(0))
    assert np.all(pts >= [0.0, -1.0]) and np.all(pts <= [2.0, 1.0])
    # The mean of a uniform distribution over the box is its centre.
    np.testing.assert_allclose(pts.mean(axis=0), [1.0, 0.0], atol=0.05)


def test_quasi_random_beats_random_at_integrating():
    box = Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    exact = (1 - np.cos(1.0)) ** 2  # integral of sin(x) sin(y) on the unit square
    errors = {}
    for sampler in SAMPLERS:
        pts = box.sample("interior", 1024, sampler=sampler, rng=np.random.default_rng(1))
        errors[type(sampler).__name__] = abs(np.mean(np.sin(pts[:, 0]) * np.sin(pts[:, 1])) - exact)
    assert errors["Sobol"] < errors["UniformRandom"] / 5
    assert errors["LatinHypercube"] < errors["UniformRandom"]


def test_seeded_sampling_repeats():
    dom = SpaceTime(Interval(0.0, 1.0), (0.0, 2.0))
    a = dom.sample("boundary", 50, sampler=Sobol(), rng=np.random.default_rng(3))
    b = dom.sample("boundary", 50, sampler=Sobol(), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_space_time_parts():
    dom = SpaceTime(Interval(-1.0, 1.0), (0.0, 2.0))
    rng = np.random.default_rng(0)
    init = dom.sample("initial", 100, rng=rng)
    assert np.all(init[:, 1] == 0.0) and np.all(np.abs(init[:, 0]) <= 1.0)
    left = dom.sample("x_min", 100, rng=rng)
    assert np.all(left[:, 0] == -1.0) and np.all((left[:, 1] >= 0) & (left[:, 1] <= 2))
    both = dom.sample("boundary", 1000, rng=rng)
    assert set(np.unique(both[:, 0])) == {-1.0, 1.0}
    assert abs(np.mean(both[:, 0] == 1.0) - 0.5) < 0.06
    np.testing.assert_array_equal(dom.normal("boundary", both)[:, 0], np.where(both[:, 0] > 0, 1.0, -1.0))
    np.testing.assert_array_equal(dom.normal("initial", init[:3]), [[0.0, -1.0]] * 3)
    lo, hi = dom.bounds()
    np.testing.assert_array_equal(lo, [-1.0, 0.0])
    np.testing.assert_array_equal(hi, [1.0, 2.0])


def test_box_boundary_split_by_face_measure():
    box = Box({"x": (0.0, 3.0), "y": (0.0, 1.0)})
    pts = box.sample("boundary", 8000, sampler=Sobol(), rng=np.random.default_rng(0))
    on_y_faces = np.isclose(pts[:, 1], 0.0) | np.isclose(pts[:, 1], 1.0)
    # y-faces have length 3 each, x-faces 1 each: 6/8 of the perimeter.
    assert abs(on_y_faces.mean() - 0.75) < 0.01
    on_some_face = on_y_faces | np.isclose(pts[:, 0], 0.0) | np.isclose(pts[:, 0], 3.0)
    assert on_some_face.all()


def test_bad_domains_and_requests_name_the_fix():
    with pytest.raises(ValueError, match="degenerate or reversed"):
        Interval(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        Box({"x": (0.0, float("inf"))})
    with pytest.raises(ValueError, match="unknown part 'top'"):
        Interval(0.0, 1.0).sample("top", 3)
    with pytest.raises(ValueError, match="positive int"):
        Interval(0.0, 1.0).sample("interior", 0)
    with pytest.raises(TypeError, match="Sampler such as"):
        Interval(0.0, 1.0).sample("interior", 3, sampler="sobol")
    with pytest.raises(ValueError, match="already a space coordinate"):
        SpaceTime(Interval(0.0, 1.0, name="t"), (0.0, 1.0))
