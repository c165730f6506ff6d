"""Every built-in problem: its exact solution has zero residual and meets its conditions."""

import numpy as np
import pytest
import torch

from pinnkan import PINN, Coefficient, Observations, Points, list_problems, load_problem
from pinnkan.pde.coefficients import CoefficientSet
from pinnkan.training.losses import PINNLoss

F64 = torch.float64
NAMES = sorted(list_problems())
# The true values of the coefficients that inverse problems learn.
TRUTH = {"heat1d_inverse": {"alpha": 0.4}}


class _Exact(torch.nn.Module):
    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, p):
        values = self.problem.exact({n: p[:, i] for i, n in enumerate(self.problem.coordinates)})
        if isinstance(values, dict):  # a system: one column per output
            return torch.stack([values[name] for name in self.problem.outputs], dim=1)
        return values[:, None] if values.ndim == 1 else values


@pytest.mark.parametrize("name", NAMES)
def test_exact_solution_solves_the_problem(name):
    problem = load_problem(name).problem
    if problem.exact is None:
        pytest.skip(f"{name} is checked against a finite-difference reference only")

    truth = {n: Coefficient(v) for n, v in TRUTH.get(name, {}).items()}
    model = PINN(_Exact(problem), CoefficientSet({**problem.coefficients, **truth}, dtype=F64))
    conditions = [c for c in problem.conditions if not isinstance(c, Observations)]
    loss = PINNLoss(problem, conditions, Points(interior=500, boundary=200), rng=np.random.default_rng(0), dtype=F64)
    terms = loss(model)[1]
    assert set(terms) == {n for g in ["pde", *(c.name for c in conditions)] for n in problem.term_groups[g]}
    for term, value in terms.items():
        assert float(value.detach()) < 1e-20, term


def test_inverse_problem_data_are_the_truth_with_one_percent_noise():
    problem = load_problem("heat1d_inverse").problem
    data = next(c for c in problem.conditions if isinstance(c, Observations))
    truth = problem.exact_values(data.points)["u"]
    noise = data.values[:, 0] - truth
    assert data.points.shape == (200, 2)
    assert 0.007 < np.sqrt(np.mean(noise**2)) / np.sqrt(np.mean(truth**2)) < 0.013


def test_list_has_the_shipped_problems():
    assert {"heat1d", "heat1d_inverse", "poisson_lshape", "advection_diffusion1d", "burgers1d", "helmholtz2d", "wave1d"} <= set(NAMES)
