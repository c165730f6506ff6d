"""Dense BFGS and its strong-Wolfe line search, against scipy and the Wolfe conditions."""

import numpy as np
import pytest
import torch
from scipy.optimize import rosen, rosen_der

from pinnkan.training.bfgs import UPDATES, DenseBFGS, _broyden_parameters, _update, strong_wolfe
from pinnkan.training.stages import BFGS
from pinnkan.training.trainer import Trainer

F64 = torch.float64


@pytest.mark.parametrize("start", [0.0, 2.5, -4.0])
def test_line_search_meets_strong_wolfe_conditions(start):
    def phi(a):
        x = start + a
        return (x - 1.0) ** 4 + np.sin(3 * x), 4 * (x - 1.0) ** 3 + 3 * np.cos(3 * x)

    f0, s0 = phi(0.0)
    direction = -np.sign(s0)

    def along(a):
        f, s = phi(direction * a)
        return f, direction * s

    a, f, s, evals = strong_wolfe(along, f0, -abs(s0), c1=1e-4, c2=0.9)
    assert a > 0 and evals <= 25
    assert f <= f0 + 1e-4 * a * (-abs(s0))
    assert abs(s) <= 0.9 * abs(s0)
    assert (f, s) == pytest.approx(along(a))


@pytest.mark.parametrize("update", UPDATES)
def test_bfgs_minimises_rosenbrock_like_scipy(update):
    x = torch.tensor([-1.2, 1.0, -0.5, 0.8], dtype=F64, requires_grad=True)
    opt = DenseBFGS([x], update=update)

    def closure():
        opt.zero_grad()
        value = torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        value.backward()
        return value

    for _ in range(200):
        opt.step(closure)
        if opt.state[x]["converged"]:
            break
    assert np.allclose(x.detach().numpy(), 1.0, atol=1e-8)
    assert rosen(x.detach().numpy()) < 1e-16
    assert np.linalg.norm(rosen_der(x.detach().numpy())) < 1e-7


def test_bfgs_inverse_hessian_matches_quadratic():
    # On f = x^T A x / 2 BFGS converges superlinearly and its estimate tends to A^{-1}.
    a = torch.tensor([[3.0, 1.0, 0.0], [1.0, 4.0, 0.5], [0.0, 0.5, 2.0]], dtype=F64)
    x = torch.tensor([1.0, -2.0, 3.0], dtype=F64, requires_grad=True)
    opt = DenseBFGS([x])

    def closure():
        opt.zero_grad()
        value = 0.5 * x @ a @ x
        value.backward()
        return value

    for iterations in range(1, 31):
        opt.step(closure)
        if opt.state[x]["converged"]:
            break
    assert iterations <= 10
    assert torch.linalg.norm(x.detach()) < 1e-8
    assert torch.max(torch.abs(opt.state[x]["H"] - torch.linalg.inv(a))) < 1e-3


def test_resume_through_a_bfgs_stage_reproduces_the_run(tmp_path):
    def make():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(1, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).to(F64)
        x = torch.linspace(-1, 1, 40, dtype=F64)[:, None]

        def loss(m):
            value = torch.mean((m(x) - torch.cos(2 * x)) ** 2)
            return value, {"fit": value}

        return model, loss

    model, loss = make()
    full = Trainer(model, loss, [BFGS(steps=30)], progress=False).run()
    expected = [p.detach().clone() for p in model.parameters()]

    def stop(step, record):
        if step == 17:
            raise KeyboardInterrupt

    model, loss = make()
    Trainer(model, loss, [BFGS(steps=30)], checkpoint=tmp_path / "c.pt", checkpoint_every=5, progress=False, callbacks=[stop]).run()
    model, loss = make()
    trainer = Trainer(model, loss, [BFGS(steps=30)], checkpoint=tmp_path / "c.pt", checkpoint_every=5, progress=False)
    trainer.resume()
    resumed = trainer.run()
    assert resumed.steps == full.steps
    for p, q in zip(model.parameters(), expected):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)
    assert full.history.records[-1]["total"] < 1e-3 * full.history.records[0]["total"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bfgs_keeps_the_parameter_dtype(dtype):
    x = torch.tensor([2.0, -1.0], dtype=dtype, requires_grad=True)
    opt = DenseBFGS([x])

    def closure():
        opt.zero_grad()
        value = torch.sum((x - 0.5) ** 2 * torch.tensor([1.0, 3.0], dtype=dtype))
        value.backward()
        return value

    for _ in range(30):
        opt.step(closure)
        if opt.state[x]["converged"]:
            break
    assert x.dtype == dtype and opt.state[x]["H"].dtype == dtype
    assert torch.allclose(x.detach(), torch.full((2,), 0.5, dtype=dtype), atol=1e-5)


@pytest.mark.parametrize("update", UPDATES)
def test_kept_direction_product_matches_the_inverse_hessian(update):
    # H g is carried from step to step by the rank-2 update instead of a second product with H;
    # it must equal H g formed directly, and a state saved without it must give the same steps.
    torch.manual_seed(0)
    a = torch.randn(12, 12, dtype=F64)
    a = a @ a.T + torch.eye(12, dtype=F64)

    def run(drop_at: int | None) -> tuple[torch.Tensor, list[float]]:
        x = torch.linspace(-1.0, 2.0, 12, dtype=F64).requires_grad_()
        opt = DenseBFGS([x], update=update)

        def closure():
            opt.zero_grad()
            value = 0.5 * x @ a @ x + torch.sum(torch.cos(x)) + 0.1 * torch.sum(x**4)
            value.backward()
            return value

        gaps = []
        for step in range(15):
            opt.step(closure)
            state = opt.state[x]
            if state["H"] is not None:
                direct = state["H"] @ state["g"]
                gaps.append(float(torch.linalg.norm(state["Hg"] - direct) / torch.linalg.norm(direct)))
            if step == drop_at:
                del state["Hg"]
        return x.detach(), gaps

    x_kept, gaps = run(None)
    x_dropped, _ = run(6)
    assert len(gaps) >= 10 and max(gaps) < 1e-12
    assert torch.allclose(x_kept, x_dropped, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("phi", "tau"), [(1.0, 1.0), (1.0, 0.3), (0.4, 2.5), (-0.2, 0.8)])
def test_the_broyden_update_equals_its_formula_and_keeps_the_secant_equation(phi, tau):
    torch.manual_seed(1)
    p = 7
    root = torch.randn(p, p, dtype=F64)
    h = root @ root.T + p * torch.eye(p, dtype=F64)
    s, y, g = torch.randn(p, dtype=F64), torch.randn(p, dtype=F64), torch.randn(p, dtype=F64)
    if float(y @ s) < 0:
        y = -y
    hy, ys = h @ y, float(y @ s)
    yhy = float(y @ hy)
    v = s / ys - hy / yhy
    expected = (h - torch.outer(hy, hy) / yhy + phi * yhy * torch.outer(v, v)) / tau + torch.outer(s, s) / ys
    updated = h.clone()
    hg = _update(updated, h @ g, g, s, hy, ys, yhy, phi, tau)
    torch.testing.assert_close(updated, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(hg, expected @ g, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(updated @ y, s, rtol=1e-12, atol=1e-12)  # H+ y = s


def test_self_scaling_parameters_follow_the_published_rules():
    # BFGS never scales; SSBFGS scales by min(1, 1/b) after the first update, by h on it
    assert _broyden_parameters("bfgs", 3.0, 2.0, False, 100) == (1.0, 1.0)
    assert _broyden_parameters("ssbfgs", 4.0, 2.0, False, 100) == (1.0, 0.25)
    assert _broyden_parameters("ssbfgs", 0.5, 3.0, False, 100) == (1.0, 1.0)
    assert _broyden_parameters("ssbfgs", 4.0, 2.0, True, 100) == (1.0, 2.0)
    # SSBroyden, b = 4, h = 2: a = 7, c = sqrt(7/8), rho- = min(1, 2 (1 - c)), theta in [theta-, 1/rho-]
    b, h, n = 4.0, 2.0, 100
    a = b * h - 1
    c = (a / (1 + a)) ** 0.5
    rho_minus = min(1.0, h * (1 - c))
    theta = max((rho_minus - 1) / a, min(1 / rho_minus, (1 - b) / b))
    sigma = 1 + a * theta
    expected_tau = min(min(1.0, 1 / b) * sigma ** (1 / (1 - n)), sigma) if theta <= 0 else None
    phi, tau = _broyden_parameters("ssbroyden", b, h, False, n)
    assert phi == pytest.approx((1 - theta) / sigma, rel=1e-14)
    assert theta <= 0 and tau == pytest.approx(expected_tau, rel=1e-14)
    # a at rounding level (b h = 1): every member of the family is the same update; SSBFGS's is used
    assert _broyden_parameters("ssbroyden", 2.0, 0.5, False, n) == (1.0, 0.5)


def test_an_unknown_update_is_refused():
    with pytest.raises(ValueError, match=r"BFGS.update must be one of \['bfgs', 'ssbfgs', 'ssbroyden'\], got 'sr1'"):
        BFGS(steps=3, update="sr1")
    assert BFGS(steps=3).describe() == {"stage": "BFGS", "steps": 3, "max_eval": 25, "tolerance_change": 1e-14}
    assert BFGS(steps=3, update="ssbroyden").describe()["update"] == "ssbroyden"


def test_plain_bfgs_keeps_the_rounding_of_its_rank_two_update():
    # The README's BFGS figures depend on it to the last bit: phi = tau = 1 must give exactly
    # H + U [[rho^2 yHy + rho, -rho], [-rho, 0]] U^T, as before the self-scaled updates existed.
    torch.manual_seed(3)
    p = 9
    root = torch.randn(p, p, dtype=F64)
    h = root @ root.T + torch.eye(p, dtype=F64)
    s, y, g = torch.randn(p, dtype=F64), torch.randn(p, dtype=F64), torch.randn(p, dtype=F64)
    y = y if float(y @ s) > 0 else -y
    hy, ys = h @ y, float(y @ s)
    rho = 1.0 / ys
    c = rho * rho * float(y @ hy) + rho
    u = torch.stack([s, hy], dim=1)
    um = u @ torch.tensor([[c, -rho], [-rho, 0.0]], dtype=F64)
    expected = h.clone().addmm_(um, u.T)
    updated = h.clone()
    hg = _update(updated, h @ g, g, s, hy, ys, float(y @ hy), 1.0, 1.0)
    assert torch.equal(updated, expected) and torch.equal(hg, h @ g + um @ (u.T @ g))
