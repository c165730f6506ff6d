"""Automatic hard constraints: the blended output meets every face's values for any network."""

import math

import numpy as np
import pytest
import torch

from pinnkan import (
    Ball,
    Box,
    Dirichlet,
    Disk,
    HardConstraint,
    Initial,
    InitialVelocity,
    Interval,
    Neumann,
    SpaceTime,
    Where,
)
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
    plan = auto_constraint(box, conditions, ("u",))
    constraint = plan.constraint
    assert constraint is not None and plan.note.startswith("built into the output") and not plan.soft
    for condition in conditions:
        assert _max_violation(box, constraint, condition.part, _u) < 1e-12, condition.name
    inside = torch.as_tensor(box.sample_interior(100, rng=np.random.default_rng(0)), dtype=F64)
    distance = constraint.distance(coordinate_dict(inside, box.coordinates))
    assert float(distance.min()) > 0 and float(distance.max()) <= 1.0 + 1e-12


def test_space_time_with_time_dependent_ends_and_an_initial_value():
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 2.0))
    exact = lambda c: torch.exp(-c["t"]) * torch.sin(math.pi * c["x"]) + c["x"] * (1 + c["t"])  # noqa: E731
    conditions = [Initial(exact), Dirichlet("x_min", exact), Dirichlet("x_max", exact), Neumann("x_max", 0.0)]
    plan = auto_constraint(domain, conditions, ("u",))
    constraint = plan.constraint
    assert constraint.parts == ("initial", "dirichlet_x_min", "dirichlet_x_max")
    assert plan.soft == {"neumann_x_max": "a condition on the normal derivative"}
    for part in ("initial", "x_min", "x_max"):
        assert _max_violation(domain, constraint, part, exact) < 1e-12, part
    assert not constraint.covers(conditions[3])  # the Neumann condition stays in the loss


def test_derivative_conditions_on_covered_parts_stay_in_the_loss():
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
    velocity, neumann = InitialVelocity(0.0), Neumann("x_max", 0.0)
    constraint = auto_constraint(domain, [Initial(0.0), Dirichlet("boundary", 0.0), velocity], ("u",)).constraint
    assert constraint.covers(Initial(0.0)) and not constraint.covers(velocity)
    explicit = HardConstraint(particular=lambda c: 0 * c["x"], distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
                              parts=("initial", "boundary"))
    assert explicit.covers(Dirichlet("x_max", 0.0)) and explicit.covers(Initial(0.0))
    assert not explicit.covers(velocity) and not explicit.covers(neumann)
    named = HardConstraint(particular=lambda c: 0 * c["x"], distance=lambda c: c["t"] ** 2, parts=("initial_velocity",))
    assert named.covers(velocity)  # a user who builds u_t in names the condition


def test_one_face_only_uses_a_one_sided_distance():
    box = Box({"x": (0.0, 2.0), "y": (0.0, 1.0)})
    constraint = auto_constraint(box, [Dirichlet("x_min", 3.0)], ("u",)).constraint
    c = {"x": torch.tensor([0.0, 1.0, 2.0], dtype=F64), "y": torch.tensor([0.5, 0.5, 0.5], dtype=F64)}
    assert constraint.distance(c).tolist() == [0.0, 0.5, 1.0]
    assert constraint.particular(c).tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("domain", "conditions", "outputs", "reason"),
    [
        (Box({"x": (0, 1), "y": (0, 1)}), [Neumann("boundary", 0.0)], ("u",), "normal derivative"),
        (Box({"x": (0, 1), "y": (0, 1)}), [Dirichlet("boundary", 0.0)], ("u", "v"), "names no output"),
        # u(x, 0) = 1 but the ends are held at 0: the data disagree at the corners
        (SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)), [Initial(1.0), Dirichlet("boundary", 0.0)], ("u",), "disagree"),
        (Disk((0.0, 0.0), 1.0), [Dirichlet(Where(lambda c: c["x"] < 0), 0.0)], ("u",), "whole boundary pieces"),
    ],
)
def test_no_constraint_when_the_domain_or_data_do_not_allow_one(domain, conditions, outputs, reason):
    plan = auto_constraint(domain, conditions, outputs)
    assert plan.constraint is None and reason in plan.note
    assert set(plan.soft) == {c.name for c in conditions}


def test_a_second_condition_on_the_same_face_stays_in_the_loss():
    box = Box({"x": (0, 1), "y": (0, 1)})
    plan = auto_constraint(box, [Dirichlet("boundary", 0.0), Dirichlet("x_min", 0.0)], ("u",))
    assert plan.built == ("dirichlet_boundary",)
    assert plan.soft == {"dirichlet_x_min": "it prescribes values on the same boundary piece as dirichlet_boundary"}


HOLES = Disk((0.3, 0.3), 0.1) | Disk((-0.3, 0.3), 0.1) | Disk((0.3, -0.3), 0.1) | Disk((-0.3, -0.3), 0.1)
OUTER = Where(lambda c: (abs(c["x"]) > 0.5 - 1e-9) | (abs(c["y"]) > 0.5 - 1e-9), name="outer")
INNER = Where(lambda c: (abs(c["x"]) < 0.5 - 1e-9) & (abs(c["y"]) < 0.5 - 1e-9), name="holes")


def _wavy(p):
    return torch.sin(3 * p[:, :1] + p[:, 1:2] ** 2) + 0.3 * p[:, -1:]  # any network output


def _violations(domain, plan, conditions, outputs=("u",)):
    """Largest |u - g| of every condition on 500 fresh points of its part, for the network ``_wavy``."""
    model = ConstrainedModel(_nn(lambda p: _wavy(p).expand(-1, len(outputs))), plan.constraint, domain.coordinates)
    worst = {}
    for condition in conditions:
        points, _ = domain.sample_boundary(condition.part, 500, rng=np.random.default_rng(7))
        x = torch.as_tensor(points, dtype=F64)
        c = coordinate_dict(x, domain.coordinates)
        target = condition.value(c) if callable(condition.value) else torch.full_like(x[:, 0], condition.value)
        column = outputs.index(condition.output or outputs[0])
        worst[condition.name] = float((model(x)[:, column] - target).abs().max())
    return worst


def test_different_values_on_the_square_and_on_the_holes_are_built_in_by_distance_functions():
    domain = Box({"x": (-0.5, 0.5), "y": (-0.5, 0.5)}) - HOLES
    conditions = [Dirichlet(OUTER, 1.0), Dirichlet(INNER, lambda c: 0.1 * c["x"])]
    plan = auto_constraint(domain, conditions, ("u",))
    assert plan.built == ("dirichlet_outer", "dirichlet_holes") and not plan.soft
    assert max(_violations(domain, plan, conditions).values()) < 1e-10
    inside = coordinate_dict(torch.as_tensor(domain.sample_interior(2000, rng=np.random.default_rng(0))), domain.coordinates)
    distance = plan.constraint.distance(inside)
    assert float(distance.min()) > 0 and float(distance.max()) <= 1.0 + 1e-12
    # the blend lies between the data: a weighted mean of 1 and 0.1 x
    blend = plan.constraint.particular(inside)
    assert float(blend.min()) > -0.06 and float(blend.max()) < 1.0


def test_space_time_over_a_disk_with_an_initial_value_and_moving_boundary_values():
    domain = SpaceTime(Disk((0.0, 0.0), 1.0), (0.0, 2.0))
    exact = lambda c: torch.exp(-c["t"]) * (1 - c["x"] ** 2 - c["y"] ** 2) + c["x"] * c["t"]  # noqa: E731
    conditions = [Initial(exact), Dirichlet("boundary", exact), Neumann("boundary", 0.0, name="flux")]
    plan = auto_constraint(domain, conditions, ("u",))
    assert plan.built == ("initial", "dirichlet_boundary") and set(plan.soft) == {"flux"}
    assert max(_violations(domain, plan, conditions[:2]).values()) < 1e-10
    assert "in the loss: flux (a condition on the normal derivative)" in plan.note


def test_a_ball_minus_a_box_in_three_dimensions():
    domain = Ball((0.0, 0.0, 0.0), 1.0) - Box({"x": (0, 1), "y": (0, 1), "z": (0, 1)})
    exact = lambda c: c["x"] * c["y"] + torch.cos(c["z"])  # noqa: E731
    conditions = [Dirichlet("boundary", exact)]
    plan = auto_constraint(domain, conditions, ("u",))
    assert max(_violations(domain, plan, conditions).values()) < 1e-10


def test_a_system_gets_a_constraint_per_output_and_a_free_pressure():
    box = Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    lid = lambda c: 16 * c["x"] ** 2 * (1 - c["x"]) ** 2  # noqa: E731  (zero at the lid's corners)
    conditions = [
        Dirichlet("y_max", lid, output="u", name="lid"),
        Dirichlet(Where(lambda c: c["y"] < 1 - 1e-9, name="walls"), 0.0, output="u", name="walls_u"),
        Dirichlet("boundary", 0.0, output="v", name="walls_v"),
    ]
    plan = auto_constraint(box, conditions, ("u", "v", "p"))
    assert plan.built == ("lid", "walls_u", "walls_v")
    assert max(_violations(box, plan, conditions, ("u", "v", "p")).values()) < 1e-12
    c = coordinate_dict(torch.as_tensor(box.sample_interior(100, rng=np.random.default_rng(0))), box.coordinates)
    assert plan.constraint.distance(c).shape == (100, 3)
    np.testing.assert_array_equal(plan.constraint.distance(c)[:, 2].numpy(), 1.0)  # p: no constraint
    np.testing.assert_array_equal(plan.constraint.particular(c)[:, 2].numpy(), 0.0)


def test_a_users_distance_that_is_not_zero_on_its_part_is_refused_with_the_measure():
    from pinnkan import Problem

    with pytest.raises(ValueError, match=r"distance function is not zero on the part of condition 'dirichlet_boundary', "
                                         r"which it claims \(measured: up to 1\.1e\+00"):
        Problem(name="p", domain=Interval(0.0, 1.0), residual=lambda f: f.u_xx, conditions=[Dirichlet("boundary", 0.0)],
                hard_constraint=HardConstraint(particular=lambda c: 0 * c["x"], distance=lambda c: c["x"] + 0.1,
                                               parts=("boundary",)))
    # the domain's own part distance passes
    domain = Disk((0.0, 0.0), 1.0)
    Problem(name="p", domain=domain, residual=lambda f: f.u_xx + f.u_yy, conditions=[Dirichlet("boundary", 0.0)],
            hard_constraint=HardConstraint(particular=lambda c: 0 * c["x"], distance=domain.part_distance("boundary"),
                                           parts=("boundary",)))


def test_a_users_hard_constraint_may_name_where_parts():
    from pinnkan import Problem

    domain = Box({"x": (-0.5, 0.5), "y": (-0.5, 0.5)}) - HOLES
    outer = domain.part_distance(OUTER)
    square = HardConstraint(particular=lambda c: 1.0 + 0 * c["x"], distance=outer, parts=(OUTER,))
    conditions = [Dirichlet(OUTER, 1.0), Dirichlet(INNER, 0.0)]
    problem = Problem(name="p", domain=domain, residual=lambda f: f.laplacian("u"), conditions=conditions,
                      hard_constraint=square)
    assert square.covers(conditions[0]) and not square.covers(conditions[1])  # the holes stay in the loss
    assert problem.hard_constraint is square
    # a Where that is not the conditions' own object is another part, even with the same predicate
    assert not square.covers(Dirichlet(Where(OUTER.predicate, name="outer"), 1.0))
