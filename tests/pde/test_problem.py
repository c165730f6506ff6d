"""Problems and conditions: exact solutions give zero residuals; bad input fails at construction."""

import math

import numpy as np
import pytest
import torch

from pinnkan import (
    KAN,
    Box,
    Coefficient,
    ConstrainedModel,
    Dirichlet,
    Disk,
    HardConstraint,
    Initial,
    InitialVelocity,
    Interval,
    Neumann,
    Observations,
    Periodic,
    Points,
    Problem,
    Robin,
    SpaceTime,
    Where,
    load_problem,
)
from pinnkan.training.losses import PINNLoss

F64 = torch.float64


def _exact_model(problem):
    def model(p):
        return problem.exact({n: p[:, i] for i, n in enumerate(problem.coordinates)})[:, None]

    return model


def _terms(problem, model, conditions=None, n=256):
    conditions = problem.conditions if conditions is None else conditions
    loss = PINNLoss(problem, conditions, Points(interior=n, boundary=n), rng=np.random.default_rng(0), dtype=F64)
    return loss(model)[1]


def test_heat1d_exact_solution_has_zero_residual_and_meets_conditions():
    problem = load_problem("heat1d").problem
    terms = _terms(problem, _exact_model(problem))
    assert set(terms) == {"pde", "initial", "dirichlet_boundary"}
    for name, value in terms.items():
        assert float(value.detach()) < 1e-28, name


def test_hard_constraint_meets_conditions_for_any_network():
    problem = load_problem("heat1d").problem
    torch.manual_seed(0)
    model = ConstrainedModel(KAN((2, 4, 1), dtype=F64), problem.hard_constraint, problem.coordinates)
    terms = _terms(problem, model)
    assert float(terms["initial"].detach()) < 1e-30 and float(terms["dirichlet_boundary"].detach()) < 1e-30
    assert float(terms["pde"].detach()) > 1e-3  # an untrained network does not solve the PDE


def test_neumann_and_robin_conditions_use_the_outward_normal():
    # u = x^2 + 2t solves u_t = u_xx; du/dn = -0 at x = 0 and +2 at x = 1.
    domain = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
    problem = Problem(
        name="flux",
        domain=domain,
        residual=lambda f: f.u_t - f.u_xx,
        conditions=[
            Neumann("x_min", 0.0),
            Neumann("x_max", 2.0),
            Robin("x_max", a=3.0, b=0.5, value=lambda c: 3.0 * (1.0 + 2 * c["t"]) + 1.0),
            Initial(lambda c: c["x"] ** 2),
        ],
    )
    terms = _terms(problem, lambda p: p[:, :1] ** 2 + 2 * p[:, 1:])
    for name in ("neumann_x_min", "neumann_x_max", "robin_x_max", "pde", "initial"):
        assert float(terms[name].detach()) < 1e-26, name
    wrong = _terms(problem, lambda p: -(p[:, :1] ** 2))
    assert math.isclose(float(wrong["neumann_x_max"].detach()), 16.0, rel_tol=1e-12)  # (-2 - 2)^2


def test_neumann_on_a_disk_uses_radial_normals():
    # u = r^2 on the unit disk: du/dn = 2 on the circle, Laplacian 4.
    problem = Problem(
        name="disk",
        domain=Disk((0.0, 0.0), 1.0),
        residual=lambda f: f.laplacian("u") - 4.0,
        conditions=[Neumann("boundary", 2.0)],
    )
    terms = _terms(problem, lambda p: (p**2).sum(1, keepdim=True))
    assert float(terms["pde"].detach()) < 1e-26 and float(terms["neumann_boundary"].detach()) < 1e-26


def test_periodic_initial_velocity_and_observations():
    domain = SpaceTime(Interval(0.0, 2 * math.pi), (0.0, 1.0))
    observed = np.array([[1.0, 0.5], [2.0, 0.25]])
    problem = Problem(
        name="wave",
        domain=domain,
        residual=lambda f: f.u_tt - f.c**2 * f.u_xx,
        coefficients={"c": Coefficient(2.0)},
        conditions=[
            Periodic("x"),
            InitialVelocity(0.0),
            Observations(observed, np.sin(observed[:, 0]) * np.cos(2 * observed[:, 1])),
        ],
    )
    assert problem.term_names == ("pde", "periodic_x_u", "periodic_x_u_x", "initial_velocity", "data")

    def exact(p):
        return (torch.sin(p[:, 0]) * torch.cos(problem.coefficients["c"].initial * p[:, 1]))[:, None]

    loss = PINNLoss(problem, problem.conditions, Points(interior=64, boundary=64), rng=np.random.default_rng(1), dtype=F64)
    from pinnkan import PINN
    from pinnkan.pde.coefficients import CoefficientSet

    model = PINN(_Wrap(exact), CoefficientSet(problem.coefficients, dtype=F64))
    terms = loss(model)[1]
    for name, value in terms.items():
        assert float(value.detach()) < 1e-26, name
    # Not periodic: the value term sees the jump sin is missing.
    shifted = _terms(problem, lambda p: (p[:, :1] + 0 * p[:, 1:]))
    assert math.isclose(float(shifted["periodic_x_u"].detach()), (2 * math.pi) ** 2, rel_tol=1e-12)


class _Wrap(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


DOMAIN = SpaceTime(Interval(0.0, 1.0), (0.0, 1.0))
SQUARE = Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        # a condition on a part that does not exist
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u, conditions=[Dirichlet("top", 0.0)]),
         ValueError, "part 'top', which the domain does not have"),
        # a condition on an output that does not exist
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u, conditions=[Dirichlet("x_min", output="v")]),
         ValueError, "output 'v', which the problem does not have"),
        # an unnamed output in a system
        (lambda: Problem(name="p", domain=SQUARE, residual=lambda f: {"a": f.u, "b": f.v}, outputs=("u", "v"),
                         conditions=[Dirichlet("boundary", 0.0)]),
         ValueError, "name the one you want"),
        # a periodic condition between faces that do not match
        (lambda: Problem(name="p", domain=Disk((0, 0), 1), residual=lambda f: f.u, conditions=[Periodic("x")]),
         ValueError, "periodic"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u, conditions=[Periodic("t")]),
         ValueError, "time cannot be periodic"),
        # a derivative of a coordinate the domain lacks
        (lambda: Problem(name="p", domain=SQUARE, residual=lambda f: f.u_xx + f.u_zz),
         ValueError, r"'u_zz'.*is not a coordinate of \('x', 'y'\)"),
        # a time derivative on a stationary problem
        (lambda: Problem(name="p", domain=SQUARE, residual=lambda f: f.u_t - f.u_xx),
         ValueError, "stationary.*SpaceTime"),
        # a coefficient used but not declared
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u_t - f.alpha * f.u_xx),
         ValueError, "declared on the Problem"),
        # a residual of the wrong shape for a system
        (lambda: Problem(name="p", domain=SQUARE, outputs=("u", "v"), residual=lambda f: torch.stack([f.u, f.v], 1)),
         ValueError, "return a dict of named residuals"),
        (lambda: Problem(name="p", domain=SQUARE, residual=lambda f: 0.0), TypeError, "torch tensor"),
        (lambda: Problem(name="p", domain=SQUARE, residual=lambda f: np.sin(f.x) - f.u_xx), TypeError, "not numpy.sin"),
        # observations outside the domain or with NaN
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u,
                         conditions=[Observations([[0.5, 0.5], [1.5, 0.5]], [1.0, 2.0])]),
         ValueError, "1 of 2 points lie outside the domain"),
        (lambda: Observations([[0.5, 0.5]], [float("nan")]), ValueError, "NaN"),
        # numbers that cannot be values
        (lambda: Dirichlet("x_min", float("nan")), TypeError, "finite number"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u, conditions=["u=0"]),
         TypeError, "Condition objects"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u,
                         hard_constraint=HardConstraint(particular=lambda c: 0, distance=lambda c: 1, parts=("top",))),
         ValueError, "hard constraint names part 'top'"),
        # numpy inside a condition's function
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u,
                         conditions=[Initial(lambda c: np.sin(c["x"]))]),
         TypeError, "use torch.sin, not numpy.sin"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u, coefficients={"grad": 1.0}),
         ValueError, "taken by the field"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u,
                         conditions=[Dirichlet("x_min", 0.0), Dirichlet("x_min", 1.0)]),
         ValueError, "two conditions are named 'dirichlet_x_min'"),
        (lambda: Problem(name="p", domain=DOMAIN, residual=lambda f: f.u,
                         conditions=[Dirichlet(Where(lambda c: c["x"] > 5.0), 0.0)]),
         ValueError, "selects no"),
    ],
)
def test_bad_problem_input_names_the_fix(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_too_high_a_derivative_for_the_model_names_the_fix():
    heat = Problem(name="heat", domain=DOMAIN, residual=lambda f: f.u_t - f.u_xx)
    low = KAN((2, 3, 1), spline_order=2, dtype=F64)
    loss = PINNLoss(heat, (), Points(interior=8), rng=np.random.default_rng(0), dtype=F64, max_order=low.smoothness)
    with pytest.raises(ValueError, match="raise the spline order to at least 3"):
        loss(low)


def test_exact_solution_of_a_system_by_name():
    problem = Problem(
        name="sys",
        domain=SQUARE,
        outputs=("u", "v"),
        residual=lambda f: {"a": f.u_x - f.v_y, "b": f.u_y + f.v_x},  # Cauchy-Riemann
        exact=lambda c: {"u": c["x"] ** 2 - c["y"] ** 2, "v": 2 * c["x"] * c["y"]},
    )
    values = problem.exact_values(np.array([[1.0, 2.0]]))
    assert values["u"].tolist() == [-3.0] and values["v"].tolist() == [4.0]
    with pytest.raises(ValueError, match="lacks outputs"):
        Problem(name="s", domain=SQUARE, outputs=("u", "v"), residual=lambda f: {"a": f.u, "b": f.v},
                exact=lambda c: {"u": c["x"]})


def test_conditions_on_one_part_for_different_outputs_get_different_names():
    # a lid-driven cavity: u = 1 and v = 0 on the lid, both walls on u and v, p free
    cavity = Problem(
        name="cavity",
        domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
        outputs=("u", "v", "p"),
        residual=lambda f: {"continuity": f.u_x + f.v_y, "px": f.p_x, "py": f.p_y},
        conditions=[
            Dirichlet("y_max", 1.0, output="u"),
            Dirichlet("y_max", 0.0, output="v"),
            Neumann("x_min", 0.0, output="p"),
        ],
    )
    assert [c.name for c in cavity.conditions] == ["dirichlet_y_max_u", "dirichlet_y_max_v", "neumann_x_min_p"]
    assert (Dirichlet("y_max", 1.0).name, Initial(0.0).name, Initial(0.0, output="u").name) == (
        "dirichlet_y_max", "initial", "initial_u"
    )
    assert Dirichlet("y_max", 1.0, output="u", name="lid").name == "lid"
