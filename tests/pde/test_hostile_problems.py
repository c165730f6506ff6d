"""A Problem refuses hostile input when it is made: the message names the part, the function and the fix."""

import math

import numpy as np
import pytest
import torch

from pinnkan import (
    Box,
    Coefficient,
    Dirichlet,
    HardConstraint,
    Initial,
    Interval,
    Neumann,
    OutputTransform,
    Problem,
    SpaceTime,
    Where,
)

HEAT = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
SQUARE = Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
SINE = Initial(lambda c: torch.sin(math.pi * c["x"]))


def heat(**options):
    given = {"name": "heat", "domain": HEAT, "residual": lambda f: f.u_t - f.u_xx,
             "conditions": [SINE, Dirichlet("boundary", 0.0)]}
    return Problem(**{**given, **options})


def constraint(particular, distance, parts=("initial", "boundary")):
    return HardConstraint(particular=particular, distance=distance, parts=parts)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"name": "../runs"}, ValueError, r"a Problem's name names its run folder: .*got '\.\./runs'"),
        ({"name": "my heat"}, ValueError, "no spaces or slashes"),
        ({"outputs": 3}, TypeError, r"outputs must be a tuple of names such as \('u',\)"),
        ({"outputs": ("u", "u")}, ValueError, r"outputs must have different names, got \('u', 'u'\)"),
        ({"conditions": Dirichlet("boundary", 0.0)}, TypeError, r"put the Dirichlet in one: conditions=\[\.\.\.\]"),
        ({"conditions": 0}, TypeError, "conditions must be a list of conditions"),
        ({"residual": lambda f: torch.ones_like(f.t)}, ValueError, "residual 'pde' does not depend on the solution"),
        ({"residual": lambda f: f.u_t - math.exp(-f.t)}, TypeError, r"not math.sin or float\(\)"),
        ({"residual": lambda f: f.u_t - torch.cat([f.u, f.u[:, None]])}, ValueError,
         r"problem 'heat': RuntimeError \(.*test_hostile_problems.py, line \d+\): .*; fix the function there"),
        ({"residual": lambda f, k: f.u_t}, TypeError, "the residual must take 1 argument"),
        ({"exact": lambda c: None}, TypeError, "the exact solution returned NoneType"),
        ({"exact": lambda c: "sin(pi x)"}, TypeError, "the exact solution returned str"),
        ({"exact": lambda c: np.exp(-c["t"]) * {}["k"]}, ValueError, r"the exact solution asked for 'k' \("),
        ({"hard_constraint": constraint(lambda c: torch.sin(math.pi * c["x"]), lambda c: torch.ones(3))}, ValueError,
         r"the hard constraint's distance function returned shape \(3,\) for 4 points"),
        ({"hard_constraint": constraint(lambda c: np.sin(math.pi * c["x"]), lambda c: c["t"])}, TypeError,
         "the hard constraint's particular function called numpy on a torch tensor"),
        ({"hard_constraint": constraint(lambda c: [0.0], lambda c: c["t"])}, TypeError,
         "the hard constraint's particular function returned list"),
        ({"hard_constraint": constraint(lambda c: torch.sin(math.pi * c["x"]), lambda c: c["t"] * c["x"])}, ValueError,
         r"distance function is not zero on the part of condition 'dirichlet_boundary', which it claims "
         r"\(measured: up to .*\); .* or leave 'dirichlet_boundary' out of parts"),
        ({"hard_constraint": OutputTransform(lambda c, raw: raw[:, :1] * 0, covers=("initial",))}, ValueError,
         r"does not meet condition 'initial', which it covers .* out of covers"),
        ({"hard_constraint": OutputTransform(lambda c, raw: raw[:2], covers=("initial",))}, ValueError,
         r"the output transform returned \(2, 1\) for raw outputs of shape \(4, 1\)"),
    ],
)
def test_hostile_problems_are_refused_with_the_fix(options, error, match):
    with pytest.raises(error, match=match):
        heat(**options)


def test_a_where_predicate_that_fails_names_itself():
    with pytest.raises(ValueError, match=r"the predicate of Where\('left', within='boundary'\) asked for 'z'"):
        Problem(name="plate", domain=SQUARE, residual=lambda f: f.u_xx + f.u_yy,
                conditions=[Dirichlet(Where(lambda c: c["z"] < 0.5, name="left"), 0.0)])


def test_the_original_error_is_kept_as_the_cause():
    with pytest.raises(ValueError) as caught:
        heat(residual=lambda f: f.u_t - 1 / 0)
    assert "the residual raised ZeroDivisionError" in str(caught.value)
    chain = [caught.value]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    assert type(chain[-1]) is ZeroDivisionError  # what --debug shows at the top of its traceback


def test_a_term_on_a_trainable_coefficient_alone_is_allowed():
    problem = heat(
        coefficients={"alpha": Coefficient(1.0)},
        residual=lambda f: {"pde": f.u_t - f.alpha * f.u_xx, "prior": (f.alpha - 1.0) * torch.ones_like(f.t)},
    )
    assert problem.term_names == ("pde", "prior", "initial", "dirichlet_boundary")


def test_a_hard_constraint_that_meets_what_it_covers_is_accepted():
    heat(hard_constraint=constraint(lambda c: torch.sin(math.pi * c["x"]), lambda c: c["t"] * c["x"] * (1 - c["x"])))
    # A flux condition is covered only when named, and then it must be met for any network: d(x^2 N)/dx = 0 at x = 0.
    rod = Problem(name="rod", domain=Interval(0.0, 1.0), residual=lambda f: f.u_xx + 1.0,
                  conditions=[Neumann("x_min", 0.0, name="insulated")],
                  hard_constraint=constraint(lambda c: 0 * c["x"], lambda c: c["x"] ** 2, parts=("insulated",)))
    assert rod.term_names == ("pde", "insulated")
    with pytest.raises(ValueError, match="does not meet condition 'insulated'"):
        Problem(name="rod", domain=Interval(0.0, 1.0), residual=lambda f: f.u_xx + 1.0,
                conditions=[Neumann("x_min", 0.0, name="insulated")],
                hard_constraint=constraint(lambda c: 0 * c["x"], lambda c: c["x"], parts=("insulated",)))


def test_a_hard_constraint_of_the_wrong_length_fails_in_the_model_too():
    hard = constraint(lambda c: torch.zeros(2), lambda c: c["t"], parts=("initial",))
    with pytest.raises(ValueError, match=r"particular function returned shape \(2,\) for 5 points; return one value"):
        hard.apply({"x": torch.rand(5), "t": torch.rand(5)}, torch.rand(5, 1))
