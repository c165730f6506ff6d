"""The error estimate without a reference: planted errors of known size are found, and its spline maths."""

import math

import numpy as np
import pytest
import torch

from pinnkan import Box, Coefficient, Dirichlet, Initial, Interval, Observations, Periodic, Problem, SpaceTime
from pinnkan.estimate import _Splines, estimate_error

from formula_model import FormulaModel

PI = math.pi


class _Func(FormulaModel):
    """A formula with coefficients, as a PINN has them."""

    def __init__(self, func, coefficients=None):
        super().__init__(func)
        self.values = {k: torch.tensor(v, dtype=torch.float64) for k, v in (coefficients or {}).items()}

    def coefficient_values(self):
        return self.values


def _relative(problem, exact, model_fn, n=20000):
    points = problem.domain.sample_interior(n, rng=np.random.default_rng(9))
    x = torch.as_tensor(points)
    truth, got = exact(x).numpy(), model_fn(x).numpy()
    return np.sqrt(np.mean((got - truth) ** 2)) / np.sqrt(np.mean(truth**2))


def test_spline_derivatives_match_finite_differences_in_two_dimensions():
    splines = _Splines(np.array([0.0, -1.0]), np.array([2.0, 1.0]), (9, 7), 3)
    coefficients = np.random.default_rng(0).standard_normal((splines.count, 1))
    x = np.random.default_rng(1).uniform([0.1, -0.9], [1.9, 0.9], (50, 2))
    h = 1e-5

    def at(points, axes=()):
        return np.asarray(splines.design(points, axes) @ coefficients)[:, 0]

    for axes, fd in [
        ((0,), (at(x + [h, 0]) - at(x - [h, 0])) / (2 * h)),
        ((1, 1), (at(x + [0, h]) - 2 * at(x) + at(x - [0, h])) / h**2),
        ((0, 1), (at(x + [h, h]) - at(x + [h, -h]) - at(x + [-h, h]) + at(x - [h, h])) / (4 * h**2)),
    ]:
        np.testing.assert_allclose(at(x, axes), fd, rtol=1e-4, atol=1e-4)
    # the basis is a partition of unity: coefficients all one give one everywhere
    np.testing.assert_allclose(splines.design(x, ()).sum(axis=1), 1.0)


POISSON = Problem(
    name="poisson",
    domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u") - 2 * PI**2 * torch.sin(PI * f.x) * torch.sin(PI * f.y),
    conditions=[Dirichlet("boundary", 0.0)],
)


def _poisson_exact(x):
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


@pytest.mark.parametrize("size", [1e-2, 1e-4])
def test_a_planted_smooth_error_of_a_linear_problem_is_estimated_to_a_few_percent(size):
    # the error does not vanish on the boundary: the condition's residual carries it there
    def model_fn(x):
        return _poisson_exact(x) + size * torch.cos(1.5 * x[:, 0] + x[:, 1]) * (1 + x[:, 0] * x[:, 1])

    estimate = estimate_error(POISSON, _Func(model_fn))
    truth = _relative(POISSON, _poisson_exact, model_fn)
    assert estimate.resolved
    assert estimate.rel_l2 == pytest.approx(truth, rel=0.05)
    # the correction is the error itself, pointwise
    points = np.random.default_rng(3).uniform(0.05, 0.95, (200, 2))
    x = torch.as_tensor(points)
    np.testing.assert_allclose(estimate.correction(points)[:, 0], (_poisson_exact(x) - model_fn(x)).numpy(), atol=0.05 * size)


def test_a_nonlinear_problem_is_linearised_about_the_model():
    # u_t + u u_x = 0.05 u_xx with the exact solution u = 1 + 0.5 sin(pi (x - t)) e^{-0.05 pi^2 t} ... made exact by a source
    def exact(x):
        return 1 + 0.5 * torch.sin(PI * (x[:, 0] - x[:, 1]))

    def source(f):
        u = 1 + 0.5 * torch.sin(PI * (f.x - f.t))
        ux = 0.5 * PI * torch.cos(PI * (f.x - f.t))
        return -ux + u * ux + 0.05 * 0.5 * PI**2 * torch.sin(PI * (f.x - f.t))

    problem = Problem(
        name="burgers",
        domain=SpaceTime(Interval(0.0, 2.0), (0.0, 1.0)),
        residual=lambda f: f.u_t + f.u * f.u_x - 0.05 * f.u_xx - source(f),
        conditions=[Initial(lambda c: exact(torch.stack([c["x"], c["t"]], 1))), Dirichlet("boundary", lambda c: exact(torch.stack([c["x"], c["t"]], 1)))],
    )

    def model_fn(x):
        return exact(x) + 3e-3 * torch.exp(-((x[:, 0] - 1.0) ** 2)) * (1 + x[:, 1])

    estimate = estimate_error(problem, _Func(model_fn))
    assert estimate.rel_l2 == pytest.approx(_relative(problem, exact, model_fn), rel=0.1)


def test_paired_points_of_a_periodic_condition_are_linearised_together():
    def exact(x):
        return torch.sin(PI * (x[:, 0] - x[:, 1])) * torch.exp(-0.1 * PI**2 * x[:, 1])

    problem = Problem(
        name="advection",
        domain=SpaceTime(Interval(-1.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t + f.u_x - 0.1 * f.u_xx,
        conditions=[Initial(lambda c: torch.sin(PI * c["x"])), Periodic("x")],
    )

    def model_fn(x):
        return exact(x) + 2e-3 * x[:, 1] * (1 + 0.5 * x[:, 0])  # breaks periodicity: the pairs see it

    estimate = estimate_error(problem, _Func(model_fn))
    assert estimate.rel_l2 == pytest.approx(_relative(problem, exact, model_fn), rel=0.1)


def test_noisy_data_of_an_inverse_problem_add_their_variance():
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)])

    def exact(x):
        return torch.sin(PI * x[:, 0]) * torch.exp(-0.4 * PI**2 * x[:, 1])

    clean = exact(torch.as_tensor(points)).numpy()
    noisy = clean + 0.01 * rng.standard_normal(200)
    problem = Problem(
        name="inverse",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        coefficients={"alpha": Coefficient(1.0, positive=True)},
        residual=lambda f: f.u_t - f.alpha * f.u_xx,
        conditions=[Initial(lambda c: torch.sin(PI * c["x"])), Dirichlet("boundary", 0.0), Observations(points, noisy)],
    )
    estimate = estimate_error(problem, _Func(exact, {"alpha": 0.4}))
    # the model is exact, yet 1% noise in 200 values leaves alpha, and so u, uncertain by about
    # 0.01 / sqrt(200) relative: the estimate says so instead of claiming zero error
    assert estimate.noise > 0 and 2e-4 < estimate.rel_l2 < 1e-2


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        estimate_error(POISSON, _Func(_poisson_exact), levels=1)
    with pytest.raises(TypeError, match="problem must be a Problem"):
        estimate_error("poisson", _Func(_poisson_exact))
    with pytest.raises(TypeError, match="model must be the trained torch module"):
        estimate_error(POISSON, _poisson_exact)
