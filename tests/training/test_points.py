"""Point sources: each condition location draws its points once, the same way for training and evaluation."""

import numpy as np
import pytest
import torch

from pinnkan import Box, Dirichlet, Observations, Periodic
from pinnkan.pde.problem import condition_points
from pinnkan.training.points import AtLocation

BOX = Box({"x": (0.0, 2.0), "y": (-1.0, 1.0)})


def _source(condition, n=50):
    return AtLocation(condition.location, BOX, n, None, dtype=torch.float32, device="cpu")


def test_a_boundary_part_gives_points_on_it_with_outward_normals():
    source = _source(Dirichlet("x_max", 0.0))
    source.draw(np.random.default_rng(0))
    batch = source.batch
    assert batch.points.dtype == torch.float32 and batch.points.shape == (50, 2)
    assert torch.all(batch.points[:, 0] == 2.0) and torch.all(batch.points[:, 1].abs() <= 1.0)
    assert torch.equal(batch.normals, torch.tensor([[1.0, 0.0]]).expand(50, 2))
    assert source.resamplable


def test_periodic_pairs_differ_in_their_coordinate_only():
    source = _source(Periodic("x"), n=20)
    source.draw(np.random.default_rng(1))
    lower, upper = source.batch.points[:20], source.batch.points[20:]
    assert torch.all(lower[:, 0] == 0.0) and torch.all(upper[:, 0] == 2.0)
    assert torch.equal(lower[:, 1], upper[:, 1]) and source.batch.normals is None


def test_observations_keep_every_point_and_never_move():
    points = np.random.default_rng(2).uniform([0.0, -1.0], [2.0, 1.0], size=(80, 2))
    values = np.sin(points[:, :1])
    source = _source(Observations(points, values), n=10)  # n is for sampled locations only
    assert not source.resamplable
    source.draw(np.random.default_rng(3))
    first = source.batch.points.clone()
    source.draw(np.random.default_rng(4))
    assert first.shape == (80, 2) and torch.equal(source.batch.points, first)
    torch.testing.assert_close(source.batch.data, torch.as_tensor(values, dtype=torch.float32))
    # the evaluation after training asks the same location, for as many as it wants
    batch = condition_points(BOX, Observations(points, values), 30, np.random.default_rng(5))
    assert torch.equal(batch.points, torch.as_tensor(points[:30]))


def test_a_source_needs_a_location():
    with pytest.raises(TypeError, match="no point source for a str; conditions need a location"):
        AtLocation("x_min", BOX, 10, None, dtype=torch.float32, device="cpu")
