"""Distance functions of every geometry: zero on the boundary, positive inside, unit normal slope, parts."""

import math

import numpy as np
import pytest
import torch

from pinnkan import Ball, Box, Disk, Interval, Polygon, SpaceTime, Where
from pinnkan.pde.geometry.distance import conjunction, disjunction, equivalence, trim

F64 = torch.float64
HOLES = Disk((0.3, 0.3), 0.1) | Disk((-0.3, 0.3), 0.1) | Disk((0.3, -0.3), 0.1) | Disk((-0.3, -0.3), 0.1)
SQUARE = Box({"x": (-0.5, 0.5), "y": (-0.5, 0.5)})
DOMAINS = {
    "interval": Interval(0.0, 2.0),
    "box": Box({"x": (0.0, 2.0), "y": (-1.0, 1.0)}),
    "box3": Box({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 2.0)}),
    "disk": Disk((0.5, -0.2), 1.5),
    "ball": Ball((0.0, 0.0, 1.0), 1.0),
    "triangle": Polygon([(0, 0), (2, 0), (0, 1)]),
    "chevron": Polygon([(0, 0), (2, 0), (2, 2), (1, 1), (0, 2)]),
    "l_shape": Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)}),
    "square_with_holes": SQUARE - HOLES,
    "union": Disk((0.0, 0.0), 1.0) | Box({"x": (0.0, 2.0), "y": (-0.5, 0.5)}),
    "intersection": Disk((0.0, 0.0), 1.0) & Box({"x": (0.0, 2.0), "y": (-2.0, 2.0)}),
    "ball_minus_box": Ball((0.0, 0.0, 0.0), 1.0) - Box({"x": (0, 1), "y": (0, 1), "z": (0, 1)}),
    "polygon_minus_disk": Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 2), (0, 2)]) - Disk((0.5, 0.5), 0.25),
    "space_time_disk": SpaceTime(Disk((0.0, 0.0), 1.0), (0.0, 1.0)),
}


def _c(points, domain):
    x = torch.as_tensor(points, dtype=F64)
    return {name: x[:, i] for i, name in enumerate(domain.coordinates)}


@pytest.mark.parametrize("name", list(DOMAINS))
def test_distance_is_zero_on_the_boundary_positive_inside_with_unit_normal_slope(name):
    domain = DOMAINS[name]
    rng = np.random.default_rng(1)
    points, normals = domain.sample_boundary("boundary", 1000, rng=rng)
    if isinstance(domain, SpaceTime):  # its "boundary" is the lateral surface; add the ends
        ends = domain.sample_boundary("initial", 200, rng=rng)[0]
        ends[100:, -1] = domain.time_range[1]
        points = np.concatenate([points, ends])
        normals = np.concatenate([normals, np.zeros_like(ends)])
        normals[1000:1100, -1], normals[1100:, -1] = -1.0, 1.0
    assert float(domain.distance(_c(points, domain)).abs().max()) <= 1e-12
    inside = domain.sample_interior(1000, rng=rng)
    assert float(domain.distance(_c(inside, domain)).min()) > 0.0
    # Away from corners (where two pieces meet) the slope along the inward normal is one.
    diameter = float(np.linalg.norm(np.subtract(*domain.bounds())))
    pieces = [p.distance(_c(points, domain)).abs().numpy() for p in domain.pieces()]
    if isinstance(domain, SpaceTime):  # the final time is no piece (no condition applies there), but a face
        pieces.append(np.abs(domain.time_range[1] - points[:, -1]))
    pieces = np.stack(pieces, axis=1)
    second = np.sort(pieces, axis=1)[:, 1] if pieces.shape[1] > 1 else np.full(len(points), np.inf)
    far = second > 0.05 * diameter
    assert far.sum() > 100
    shifted = torch.as_tensor(points[far] - 1e-9 * normals[far], dtype=F64).requires_grad_(True)
    (grad,) = torch.autograd.grad(domain.distance(_c(shifted, domain)).sum(), shifted)
    slope = -(grad * torch.as_tensor(normals[far])).sum(dim=1)
    np.testing.assert_allclose(slope.numpy(), 1.0, atol=1e-6)


@pytest.mark.parametrize("name", list(DOMAINS))
def test_distances_are_smooth_inside(name):
    """Second derivatives inside are finite and match central differences of the gradient."""
    domain = DOMAINS[name]
    points = domain.sample_interior(50, rng=np.random.default_rng(2))
    x = torch.as_tensor(points, dtype=F64).requires_grad_(True)
    c = {n: x[:, i] for i, n in enumerate(domain.coordinates)}
    (grad,) = torch.autograd.grad(domain.distance(c).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(grad[:, 0].sum(), x)
    h = 1e-6
    plus, minus = x.detach().clone(), x.detach().clone()
    plus[:, 0] += h
    minus[:, 0] -= h
    grads = []
    for p in (plus, minus):
        p.requires_grad_(True)
        (g,) = torch.autograd.grad(domain.distance({n: p[:, i] for i, n in enumerate(domain.coordinates)}).sum(), p)
        grads.append(g[:, 0])
    central = (grads[0] - grads[1]) / (2 * h)
    assert bool(torch.isfinite(second).all())
    np.testing.assert_allclose(second[:, 0].numpy(), central.numpy(), rtol=1e-4, atol=1e-4)


def test_primitive_distances_have_their_closed_forms():
    c = {"x": torch.tensor([0.2, 1.0], dtype=F64), "y": torch.tensor([0.3, 0.0], dtype=F64)}
    disk = Disk((0.0, 0.0), 2.0)
    np.testing.assert_allclose(disk.distance(c).numpy(), [(4 - 0.13) / 4, (4 - 1) / 4])
    interval = Interval(-1.0, 3.0)
    np.testing.assert_allclose(interval.distance(c).numpy(), [1.2 * 2.8 / 4, 2 * 2 / 4])
    a, b = torch.tensor([0.3, -0.2], dtype=F64), torch.tensor([0.4, 0.5], dtype=F64)
    np.testing.assert_allclose(conjunction(a, b).numpy(), [0.7 - 0.5, 0.3 - math.sqrt(0.29)])
    np.testing.assert_allclose(disjunction(a, b).numpy(), [0.7 + 0.5, 0.3 + math.sqrt(0.29)])
    np.testing.assert_allclose(equivalence([a.abs(), b]).numpy(), [0.3 * 0.4 / 0.7, 0.2 * 0.5 / 0.7])
    np.testing.assert_allclose(equivalence([a.abs(), b], m=2).numpy(), [0.3 * 0.4 / 0.5, 0.1 / math.sqrt(0.29)])
    # trimming: |f| where t > 0, positive where t < 0 even at f = 0
    f, t = torch.tensor([0.1, 0.0], dtype=F64), torch.tensor([1.0, -0.5], dtype=F64)
    np.testing.assert_allclose(trim(f, t).numpy(), [0.1, 0.5], rtol=1e-3)


OUTER = Where(lambda c: (np.abs(c["x"]) > 0.5 - 1e-9) | (np.abs(c["y"]) > 0.5 - 1e-9), name="outer")
INNER = Where(lambda c: (np.abs(c["x"]) < 0.5 - 1e-9) & (np.abs(c["y"]) < 0.5 - 1e-9), name="holes")


@pytest.mark.parametrize(
    ("domain", "part", "others"),
    [
        (SQUARE - HOLES, OUTER, [INNER]),
        (SQUARE - HOLES, INNER, [OUTER]),
        (Box({"x": (0, 2), "y": (0, 1)}), "x_min", ["x_max", "y_min", "y_max"]),
        (SpaceTime(Disk((0, 0), 1.0), (0.0, 1.0)), "initial", ["boundary"]),
        (DOMAINS["union"], Where(lambda c: c["x"] ** 2 + c["y"] ** 2 < 1 + 1e-9, name="arc"), [Where(lambda c: c["x"] ** 2 + c["y"] ** 2 > 1 + 1e-9, name="box")]),
    ],
)
def test_part_distances_vanish_on_their_part_only(domain, part, others):
    rng = np.random.default_rng(4)
    distance = domain.part_distance(part)
    on = domain.sample_boundary(part, 1000, rng=rng)[0]
    assert float(distance(_c(on, domain)).abs().max()) <= 1e-12
    assert float(distance(_c(domain.sample_interior(2000, rng=rng), domain)).min()) > 0.0
    for other in others:
        points = domain.sample_boundary(other, 1000, rng=rng)[0]
        # points of other parts: positive, except within a hair of where the parts meet
        values = distance(_c(points, domain)).numpy()
        assert np.mean(values > 1e-6) > 0.99


def test_a_part_must_keep_or_drop_each_boundary_piece_whole():
    domain = SQUARE - HOLES
    assert len(domain.part_pieces(OUTER)) == 4 and len(domain.part_pieces(INNER)) == 4
    with pytest.raises(ValueError, match=r"holds on \d+% of the face y_min .* whole boundary pieces"):
        domain.part_pieces(Where(lambda c: c["x"] < 0))
    with pytest.raises(ValueError, match="selects no point"):
        domain.part_pieces(Where(lambda c: c["x"] > 5))
    with pytest.raises(ValueError, match="has no boundary pieces"):
        domain.part_pieces("interior")
