"""Problems, conditions and the composite loss: exact solutions give zero residuals."""

import math

import numpy as np
import pytest
import torch

from pinnkan import (
    KAN,
    ConstrainedModel,
    Dirichlet,
    HardConstraint,
    Initial,
    Interval,
    Neumann,
    Points,
    Problem,
    SpaceTime,
    load_problem,
)
from pinnkan.training.losses import CompositeLoss, sample_points

F64 = torch.float64


def _exact_model(problem):
    def model(p):
        return problem.exact({n: p[:, i] for i, n in enumerate(problem.coordinates)})[:, None]

    return model


def _loss(problem, conditions=None, n=256):
    conditions = problem.conditions if conditions is None else conditions
    sets = sample_points(problem, conditions, Points(interior=n, boundary=n), rng=np.random.default_rng(0), dtype=F64)
    return CompositeLoss(problem, conditions, sets)


def test_heat1d_exact_solution_has_zero_residual_and_meets_conditions():
    problem = load_problem("heat1d").problem
    terms = _loss(problem).terms(_exact_model(problem))
    assert set(terms) == {"pde", "initial", "dirichlet_boundary"}
    for name, value in terms.items():
        assert float(value.detach()) < 1e-28, name


def test_hard_constraint_meets_conditions_for_any_network():
    problem = load_problem("heat1d").problem
    torch.manual_seed(0)
    model = ConstrainedModel(KAN((2, 4, 1), dtype=F64), problem.hard_constraint, problem.coordinates)
    terms = _loss(problem).terms(model)
    assert float(terms["initial"].detach()) < 1e-30 and float(terms["dirichlet_boundary"].detach()) < 1e-30
    assert float(terms["pde"].detach()) > 1e-3  # an untrained network does not solve the PDE


def test_neumann_condition_uses_outward_normal():
    # u = cos(pi x) exp(-pi^2 t) solves u_t = u_xx with zero flux; u = x^2 has du/dn = -0 at 0 and 2 at 1.
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
    problem = Problem(
        name="flux",
        domain=domain,
        residual=lambda f: f.u_t - f.u_xx,
        conditions=[Neumann("x_min", 0.0), Neumann("x_max", 2.0), Initial(lambda c: c["x"] ** 2)],
    )
    terms = _loss(problem).terms(lambda p: p[:, :1] ** 2 + 2 * p[:, 1:])
    assert float(terms["neumann_x_min"].detach()) < 1e-28
    assert float(terms["neumann_x_max"].detach()) < 1e-28
    assert float(terms["pde"].detach()) < 1e-28  # u = x^2 + 2t: u_t = 2 = u_xx
    wrong = _loss(problem).terms(lambda p: -(p[:, :1] ** 2))
    assert math.isclose(float(wrong["neumann_x_max"].detach()), 16.0, rel_tol=1e-12)  # (-2 - 2)^2


def test_bad_problem_input_names_the_fix():
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
    wide = Problem(name="wide", domain=domain, residual=lambda f: torch.stack([f.u, f.u], 1))
    with pytest.raises(ValueError, match=r"one value per point, shape \(256,\)"):
        _loss(wide).terms(lambda p: p[:, :1])
    with pytest.raises(ValueError, match="domain does not have"):
        Problem(name="p", domain=domain, residual=lambda f: f.u, conditions=[Dirichlet("top", 0.0)])
    with pytest.raises(TypeError, match="finite number"):
        Dirichlet("x_min", float("nan"))
    with pytest.raises(TypeError, match="Condition objects"):
        Problem(name="p", domain=domain, residual=lambda f: f.u, conditions=["u=0"])
    with pytest.raises(TypeError, match="torch tensor"):
        _loss(Problem(name="p", domain=domain, residual=lambda f: 0.0)).terms(lambda p: p[:, :1])
    heat = Problem(name="heat", domain=domain, residual=lambda f: f.u_t - f.u_xx)
    sets = sample_points(heat, (), Points(interior=8), rng=np.random.default_rng(0), dtype=F64)
    low = KAN((2, 3, 1), spline_order=2, dtype=F64)
    with pytest.raises(ValueError, match="raise the spline order to at least 3"):
        CompositeLoss(heat, (), sets, max_order=low.smoothness).terms(low)
    with pytest.raises(ValueError, match="unknown loss terms"):
        CompositeLoss(heat, (), sets, weights={"bc": 2.0}).terms(lambda p: p[:, :1])
    with pytest.raises(ValueError, match="hard constraint names part 'top'"):
        Problem(
            name="p",
            domain=domain,
            residual=lambda f: f.u,
            hard_constraint=HardConstraint(particular=lambda c: 0, distance=lambda c: 1, parts=("top",)),
        )
