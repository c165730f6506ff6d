"""Automatic hard constraints: the blended output meets every face's values for any network."""

import math

import numpy as np
import pytest
import torch

from pinnkan import Box, Dirichlet, Disk, HardConstraint, Initial, InitialVelocity, Interval, Neumann, SpaceTime
from pinnkan.pde.auto_constraint import auto_constraint
from pinnkan.pde.fields import coordinate_dict
from pinnkan.pde.transforms import ConstrainedModel

F64 = torch.float64


def _u(c):
    """A smooth function whose traces serve as compatible face data."""
    return torch.sin(2 * c["x"]) + c["x"] * c["y"] ** 2 + torch.exp(0.5 * c["y"])


def _net(p):
    return torch.cos(3 * p[:, :1] + p[:, 1:2] ** 2) + 0.7  # any network output


def _max_violation(domain, constraint, part, value):
    points, _ = domain.sample_boundary(part, 200, rng=np.random.default_rng(3))
    x = torch.as_tensor(points, dtype=F64)
    model = ConstrainedModel(_nn(_net), constraint, domain.coordinates)
    c = coordinate_dict(x, domain.coordinates)
    target = value(c) if callable(value) else torch.full_like(x[:, 0], value)
    return float((model(x)[:, 0] - target).abs().max())


class _nn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def test_box_with_different_values_on_every_face():
    box = Box({"x": (-1.0, 2.0), "y": (0.0, 1.0)})
    conditions = [
        Dirichlet("x_min", _u),
        Dirichlet("x_max", _u),
        Dirichlet("y_min", _u),
        Dirichlet("y_max", _u),
    ]
    constraint, note = auto_constraint(box, conditions, ("u",))
    assert constraint is not None and note.startswith("built into the output")
    for condition in conditions:
        assert _max_violation(box, constraint, condition.part, _u) < 1e-12, condition.name
    inside = torch.as_tensor(box.sample_interior(100, rng=np.random.default_rng(0)), dtype=F64)
    distance = constraint.distance(coordinate_dict(inside, box.coordinates))
    assert float(distance.min()) > 0 and float(distance.max()) <= 1.0 + 1e-12


def test_space_time_with_time_dependent_ends_and_an_initial_value():
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 2.0))
    exact = lambda c: torch.exp(-c["t"]) * torch.sin(math.pi * c["x"]) + c["x"] * (1 + c["t"])  # noqa: E731
    conditions = [Initial(exact), Dirichlet("x_min", exact), Dirichlet("x_max", exact), Neumann("x_max", 0.0)]
    constraint, note = auto_constraint(domain, conditions, ("u",))
    assert constraint.parts == ("initial", "dirichlet_x_min", "dirichlet_x_max")
    for part in ("initial", "x_min", "x_max"):
        assert _max_violation(domain, constraint, part, exact) < 1e-12, part
    assert not constraint.covers(conditions[3])  # the Neumann condition stays in the loss


def test_derivative_conditions_on_covered_parts_stay_in_the_loss():
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
    velocity, neumann = InitialVelocity(0.0), Neumann("x_max", 0.0)
    constraint, _ = auto_constraint(domain, [Initial(0.0), Dirichlet("boundary", 0.0), velocity], ("u",))
    assert constraint.covers(Initial(0.0)) and not constraint.covers(velocity)
    explicit = HardConstraint(particular=lambda c: 0 * c["x"], distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
                              parts=("initial", "boundary"))
    assert explicit.covers(Dirichlet("x_max", 0.0)) and explicit.covers(Initial(0.0))
    assert not explicit.covers(velocity) and not explicit.covers(neumann)
    named = HardConstraint(particular=lambda c: 0 * c["x"], distance=lambda c: c["t"] ** 2, parts=("initial_velocity",))
    assert named.covers(velocity)  # a user who builds u_t in names the condition


def test_one_face_only_uses_a_one_sided_distance():
    box = Box({"x": (0.0, 2.0), "y": (0.0, 1.0)})
    constraint, _ = auto_constraint(box, [Dirichlet("x_min", 3.0)], ("u",))
    c = {"x": torch.tensor([0.0, 1.0, 2.0], dtype=F64), "y": torch.tensor([0.5, 0.5, 0.5], dtype=F64)}
    assert constraint.distance(c).tolist() == [0.0, 0.5, 1.0]
    assert constraint.particular(c).tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("domain", "conditions", "outputs", "reason"),
    [
        (Disk((0.0, 0.0), 1.0), [Dirichlet("boundary", 0.0)], ("u",), "not a box"),
        (Box({"x": (0, 1), "y": (0, 1)}), [Neumann("boundary", 0.0)], ("u",), "no Dirichlet"),
        (Box({"x": (0, 1), "y": (0, 1)}), [Dirichlet("boundary", 0.0, output="u")], ("u", "v"), "systems"),
        # u(x, 0) = 1 but the ends are held at 0: the data disagree at the corners
        (SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)), [Initial(1.0), Dirichlet("boundary", 0.0)], ("u",), "disagree"),
        (Box({"x": (0, 1), "y": (0, 1)}), [Dirichlet("boundary", 0.0), Dirichlet("x_min", 0.0)], ("u",), "same face"),
    ],
)
def test_no_constraint_when_the_domain_or_data_do_not_allow_one(domain, conditions, outputs, reason):
    constraint, note = auto_constraint(domain, conditions, outputs)
    assert constraint is None and reason in note
