"""The decay rate of a built-in initial value, fitted to the PDE: exact for one mode, none where it does not fit."""

import math

import numpy as np
import torch

from pinnkan import Box, Dirichlet, Initial, Interval, Periodic, Problem, SpaceTime
from pinnkan.pde.auto_constraint import auto_constraint
from pinnkan.pde.decay import fit_decay
from pinnkan.pde.fields import coordinate_dict

F64 = torch.float64


def _heat(alpha, t1=1.0, boundary=0.0):
    return Problem(
        name="heat",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, t1)),
        residual=lambda f: f.u_t - alpha * f.u_xx,
        conditions=[Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("boundary", boundary)],
    )


def test_one_mode_of_the_heat_equation_gets_its_exact_rate_and_the_exact_solution():
    problem = _heat(0.4)
    rates = fit_decay(problem)
    assert abs(rates["u"] - 0.4 * math.pi**2) < 1e-8
    plan = auto_constraint(problem.domain, problem.conditions, problem.outputs, decay=rates)
    x = torch.rand(200, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    c = coordinate_dict(x, ("x", "t"))
    exact = torch.exp(-0.4 * math.pi**2 * c["t"]) * torch.sin(math.pi * c["x"])
    assert float((plan.constraint.particular(c) - exact).abs().max()) < 1e-7
    # zero boundary values: the network's part decays with the solution
    undecayed = auto_constraint(problem.domain, problem.conditions, problem.outputs).constraint.distance(c)
    np.testing.assert_allclose(plan.constraint.distance(c).numpy(), (undecayed * torch.exp(-rates["u"] * c["t"])).numpy())
    assert "decays like exp(-3.94784" in plan.note


def test_no_rate_when_the_solution_hardly_decays_or_the_exponential_does_not_fit():
    assert fit_decay(_heat(0.01)) == {}  # exp(-0.1): not tenfold over the interval
    allen_cahn = Problem(
        name="allen_cahn",
        domain=SpaceTime(Interval(-1.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - 1e-4 * f.u_xx + 5 * f.u**3 - 5 * f.u,
        conditions=[Initial(lambda c: c["x"] ** 2 * torch.cos(math.pi * c["x"])), Periodic("x")],
    )
    assert fit_decay(allen_cahn) == {}
    stationary = Problem(name="s", domain=Box({"x": (0, 1), "y": (0, 1)}), residual=lambda f: f.u_xx + f.u_yy,
                         conditions=[Dirichlet("boundary", 0.0)])
    assert fit_decay(stationary) == {}


def test_nonzero_boundary_values_keep_the_network_part_undecayed():
    problem = _heat(0.4, boundary=0.0)
    moving = Problem(
        name="moving",
        domain=problem.domain,
        residual=problem.residual,
        conditions=[Initial(lambda c: torch.sin(math.pi * c["x"]) + c["x"]), Dirichlet("boundary", lambda c: c["x"])],
    )
    rates = fit_decay(moving)
    assert abs(rates["u"] - 0.4 * math.pi**2) < 1e-8  # u = x + exp(-rate t) sin(pi x)
    plan = auto_constraint(moving.domain, moving.conditions, moving.outputs, decay=rates)
    plain = auto_constraint(moving.domain, moving.conditions, moving.outputs)
    c = coordinate_dict(torch.rand(50, 2, dtype=F64, generator=torch.Generator().manual_seed(1)), ("x", "t"))
    np.testing.assert_allclose(plan.constraint.distance(c).numpy(), plain.constraint.distance(c).numpy())
