"""Levenberg-Marquardt stages: normal equations against autograd's Jacobian, convergence against
scipy's least_squares, a PINN's weighted residual rows against its loss, exact resume, errors."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import least_squares

from pinnkan import (
    Adam,
    Causal,
    Dirichlet,
    Fixed,
    GaussNewton,
    Initial,
    Interval,
    Periodic,
    Points,
    Problem,
    Regularization,
    SpaceTime,
)
from pinnkan.models.kan import KAN
from pinnkan.training.gauss_newton import normal_equations
from pinnkan.training.losses import PINNLoss
from pinnkan.training.objective import Objective
from pinnkan.training.trainer import Trainer

F64 = torch.float64


class _Rows(Objective):
    """``total = |F|^2`` for a residual function ``F(model)``."""

    def __init__(self, residual):
        self.residual = residual

    def __call__(self, model):
        r = self.residual(model)
        total = r @ r
        return total, {"fit": total}

    @property
    def sum_of_squares(self):
        return True

    def residual_chunks(self, model, size):
        yield from self.residual(model).split(size)


def _decay_data():
    t = torch.linspace(0.0, 4.0, 30, dtype=F64)
    noise = torch.tensor(np.random.default_rng(1).normal(0.0, 0.02, 30))
    return t, 2.5 * torch.exp(-1.3 * t) + 0.4 + noise


class _Decay(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor([1.0, 0.5], dtype=F64))
        self.c = torch.nn.Parameter(torch.tensor(0.0, dtype=F64))

    def forward(self, t):
        return self.a[0] * torch.exp(-self.a[1] * t) + self.c


@pytest.mark.parametrize("kind", ["mlp", "kan"])
@pytest.mark.parametrize("batched", [True, False])
def test_normal_equations_match_autograds_jacobian(kind, batched):
    torch.manual_seed(0)
    if kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).to(F64)
    else:
        model = KAN((2, 3, 2), grid_size=4, input_bounds=((0.0, 0.0), (1.0, 1.0)), dtype=F64)
    x = torch.rand(13, 2, dtype=F64)
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())

    def residual(*flat):
        return (torch.func.functional_call(model, dict(zip(names, flat)), (x,)) ** 2 - x).reshape(-1)

    jac = torch.cat([j.reshape(26, -1) for j in torch.autograd.functional.jacobian(residual, tuple(params))], dim=1)
    values = residual(*params).detach()
    gram, gradient, value, vectorised = normal_equations(residual(*params).split(5), params, batched=batched)
    if kind == "mlp":  # (a plain MLP's graph is always vectorised)
        assert vectorised == batched
    assert torch.allclose(gram, jac.T @ jac, rtol=1e-13, atol=1e-13)
    assert torch.allclose(gradient, jac.T @ values, rtol=1e-13, atol=1e-13)
    assert value == pytest.approx(float(values @ values), rel=1e-14)


def test_levenberg_marquardt_solves_rosenbrocks_residuals():
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    holder = torch.nn.Module()
    holder.x = x
    objective = _Rows(lambda m: torch.stack([10.0 * (m.x[1] - m.x[0] ** 2), 1.0 - m.x[0]]))
    result = Trainer(holder, objective, [GaussNewton(steps=100)], progress=False).run()
    assert torch.allclose(x.detach(), torch.ones(2, dtype=F64), rtol=0, atol=1e-10)
    assert result.steps < 40  # a zero-residual problem: Gauss-Newton converges quadratically at the end


def test_a_gauss_newton_stage_fits_like_scipys_least_squares():
    t, y = _decay_data()
    model = _Decay()
    objective = _Rows(lambda m: m(t) - y)
    Trainer(model, objective, [GaussNewton(steps=200, chunk=7)], progress=False).run()
    found = np.array([*model.a.detach().tolist(), model.c.item()])

    def residual(p):
        return p[0] * np.exp(-p[1] * t.numpy()) + p[2] - y.numpy()

    expected = least_squares(residual, [1.0, 0.5, 0.0], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    assert np.allclose(found, expected, rtol=1e-9, atol=1e-10)


def test_a_float32_model_keeps_its_dtype_and_fits():
    t, y = _decay_data()
    model = _Decay().float()
    objective = _Rows(lambda m: m(t.float()) - y.float())
    Trainer(model, objective, [GaussNewton(steps=100)], progress=False).run()
    assert model.a.dtype == torch.float32
    assert model.a.detach()[1].item() == pytest.approx(1.3, abs=0.05)


def _periodic_problem():
    return Problem(
        name="advection",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 0.5)),
        residual=lambda f: f.u_t + f.u_x - 0.01 * f.u_xx,
        conditions=[Initial(lambda c: torch.sin(2 * math.pi * c["x"])), Periodic("x", derivatives=1)],
    )


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_weighted_residual_rows_add_up_to_the_loss(size):
    problem = _periodic_problem()
    torch.manual_seed(0)
    model = KAN((2, 6, 1), input_bounds=((0.0, 0.0), (1.0, 0.5)), dtype=F64)
    loss = PINNLoss(problem, problem.conditions, Points(interior=60, boundary=20), rng=np.random.default_rng(0),
                    dtype=F64, weighting=[Fixed({"initial": 10.0}), Causal(epsilon=1.0, slabs=4)])
    loss.before_step(1, adaptive=False)
    total, terms = loss(model)
    rows = torch.cat([piece.detach() for piece in loss.residual_chunks(model, size)])
    assert rows.numel() == 60 + 20 + 2 * 20  # the PDE, the initial condition, two periodic rows per pair
    assert float(rows @ rows) == pytest.approx(total.item(), rel=1e-12)
    initial = torch.cat(list(loss.residual_chunks(model, 1000)))[60:80]
    assert float(initial @ initial) == pytest.approx(10.0 * float(terms["initial"]), rel=1e-12)


def test_gauss_newton_solves_a_poisson_problem_beyond_adam():
    problem = Problem(
        name="poisson1d",
        domain=Interval(0.0, 1.0),
        residual=lambda f: f.u_xx + math.pi**2 * torch.sin(math.pi * f.x),
        conditions=[Dirichlet("boundary", 0.0)],
    )
    torch.manual_seed(0)
    model = KAN((1, 6, 1), grid_size=6, input_bounds=((0.0,), (1.0,)), dtype=F64)
    loss = PINNLoss(problem, problem.conditions, Points(interior=128, boundary=2), rng=np.random.default_rng(0), dtype=F64)
    x = torch.linspace(0, 1, 101, dtype=F64)[:, None]
    exact = torch.sin(math.pi * x)

    def error():
        with torch.no_grad():
            return float(torch.linalg.norm(model(x) - exact) / torch.linalg.norm(exact))

    Trainer(model, loss, [Adam(steps=200, lr=1e-2)], progress=False).run()
    after_adam = error()
    result = Trainer(model, loss, [GaussNewton(steps=25)], progress=False).run()
    # (measured: 5.3e-5; BFGS(steps=300) in its place 4.5e-4)
    assert error() < 1e-4 < 1e-2 * after_adam
    totals = result.history.column("total")
    assert all(b <= a for a, b in zip(totals, totals[1:]))  # every accepted step lowers the loss


def test_resume_through_a_gauss_newton_stage_reproduces_the_run(tmp_path):
    def make():
        return _Decay(), _Rows(lambda m, data=_decay_data(): m(data[0]) - data[1])

    stages = [Adam(steps=4, lr=1e-2), GaussNewton(steps=12, damping=1.0)]
    model, objective = make()
    full = Trainer(model, objective, stages, progress=False).run()
    expected = [p.detach().clone() for p in model.parameters()]

    def stop(step, record):
        if step == 9:
            raise KeyboardInterrupt

    model, objective = make()
    stopped = Trainer(model, objective, stages, checkpoint=tmp_path / "c.pt", checkpoint_every=2, progress=False,
                      callbacks=[stop]).run()
    assert not stopped.success
    model, objective = make()
    trainer = Trainer(model, objective, stages, checkpoint=tmp_path / "c.pt", checkpoint_every=2, progress=False)
    trainer.resume()
    resumed = trainer.run()
    assert resumed.steps == full.steps
    assert [r["total"] for r in resumed.history.records] == [r["total"] for r in full.history.records]
    for p, q in zip(model.parameters(), expected):
        assert torch.equal(p.detach(), q)


def test_a_loss_that_is_not_a_sum_of_squares_is_refused():
    model = _Decay()
    with pytest.raises(ValueError, match=r"GaussNewton needs a loss written as a sum of squares.*use BFGS"):
        Trainer(model, lambda m: (m.c**2, {"c": m.c**2}), [GaussNewton(steps=3)], progress=False)
    problem = _periodic_problem()
    loss = PINNLoss(problem, problem.conditions, Points(interior=20, boundary=5), rng=np.random.default_rng(0),
                    dtype=F64, regularization=Regularization(l1=1e-3))
    kan = KAN((2, 4, 1), input_bounds=((0.0, 0.0), (1.0, 0.5)), dtype=F64)
    with pytest.raises(ValueError, match="KAN penalties"):
        Trainer(kan, loss, [GaussNewton(steps=3)], progress=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"damping": 0.0}, "GaussNewton.damping"), ({"chunk": 0}, "GaussNewton.chunk"),
     ({"max_trials": 1.5}, "GaussNewton.max_trials"), ({"tolerance_change": -1.0}, "GaussNewton.tolerance_change")],
)
def test_bad_gauss_newton_settings_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        GaussNewton(steps=3, **options)


def test_without_any_improving_step_the_parameters_stay_put():
    x = torch.nn.Parameter(torch.tensor([1.0, 1.0], dtype=F64))  # already Rosenbrock's minimum
    holder = torch.nn.Module()
    holder.x = x
    objective = _Rows(lambda m: torch.stack([10.0 * (m.x[1] - m.x[0] ** 2), 1.0 - m.x[0]]))
    result = Trainer(holder, objective, [GaussNewton(steps=5)], progress=False).run()
    assert result.steps == 1 and torch.equal(x.detach(), torch.ones(2, dtype=F64))
    assert result.history.records[-1]["total"] == 0.0
    assert "GaussNewton stopped after 1 of 5 steps" in result.message
