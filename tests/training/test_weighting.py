"""Loss balancing: each scheme's weights against hand-computed values, state round trips, bad input."""

import itertools
import math

import numpy as np
import pytest
import torch

from pinnkan import Autograd, Dirichlet, Initial, Interval, Points, Problem, SpaceTime
from pinnkan.training.losses import PINNLoss
from pinnkan.training.weighting import (
    NTK,
    Causal,
    Fixed,
    GradNorm,
    ResidualAttention,
    TermInfo,
)

F64 = torch.float64


def test_fixed_weights_multiply_the_terms_and_refuse_unknown_names():
    problem = Problem(
        name="p",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - f.u_xx,
        conditions=[Initial(1.0), Dirichlet("boundary", 0.0)],
    )
    loss = PINNLoss(problem, problem.conditions, Points(interior=32, boundary=16), rng=np.random.default_rng(0),
                    dtype=F64, weighting=Fixed({"initial": 10.0, "dirichlet_boundary": 0.5}))
    total, terms = loss(lambda p: p[:, :1] ** 2 + p[:, 1:])  # u = x^2 + t
    expected = terms["pde"] + 10.0 * terms["initial"] + 0.5 * terms["dirichlet_boundary"]
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-14)
    with pytest.raises(ValueError, match=r"unknown loss terms \['bc'\]; the terms are"):
        PINNLoss(problem, problem.conditions, Points(interior=8, boundary=8), rng=np.random.default_rng(0),
                 dtype=F64, weighting=Fixed({"bc": 1.0}))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number >= 0"):
            Fixed({"initial": bad})


def test_gradnorm_weight_is_the_ratio_of_gradient_norms():
    theta = torch.tensor([0.3, -0.7], dtype=F64, requires_grad=True)
    values = {"pde": 4 * (theta**2).sum(), "bc": (theta**2).sum()}  # gradients 8 theta and 2 theta: ratio 4
    scheme = GradNorm(every=10, smoothing=0.0)
    scheme.bind(TermInfo(("pde", "bc"), ("pde",)))
    assert scheme.due(1) and not scheme.due(2) and scheme.due(11)
    scheme.update({}, values, [theta])
    assert math.isclose(scheme.term_weight("bc"), 4.0, rel_tol=1e-12)
    assert scheme.term_weight("pde") == 1.0
    smooth = GradNorm(smoothing=0.9)
    smooth.bind(TermInfo(("pde", "bc"), ("pde",)))
    smooth.update({}, values, [theta])
    assert math.isclose(smooth.term_weight("bc"), 0.9 * 1.0 + 0.1 * 4.0, rel_tol=1e-12)
    assert smooth.report() == {"weight/bc": pytest.approx(1.3)}
    restored = GradNorm(smoothing=0.9)
    restored.bind(TermInfo(("pde", "bc"), ("pde",)))
    restored.load_state_dict(smooth.state_dict())
    assert restored.term_weight("bc") == smooth.term_weight("bc")
    with pytest.raises(ValueError, match="smoothing must be in"):
        GradNorm(smoothing=1.0)
    with pytest.raises(ValueError, match="no PDE term"):
        GradNorm().bind(TermInfo(("data",), ()))


def test_residual_attention_multipliers_follow_the_update_rule():
    scheme = ResidualAttention(gamma=0.9, eta=0.1)
    scheme.bind(TermInfo(("pde",), ("pde",)))
    r = torch.tensor([1.0, -2.0, 4.0], dtype=F64)
    assert scheme.point_weights("pde", r, torch.zeros(3, 1)) is None  # before the first update: uniform
    scheme.update({"pde": r}, {}, [])
    lam = 0.9 + 0.1 * torch.tensor([0.25, 0.5, 1.0], dtype=F64)
    assert torch.allclose(scheme.point_weights("pde", r, torch.zeros(3, 1)), lam**2, rtol=1e-14)
    scheme.update({"pde": r}, {}, [])
    lam = 0.9 * lam + 0.1 * torch.tensor([0.25, 0.5, 1.0], dtype=F64)
    assert torch.allclose(scheme.point_weights("pde", r, torch.zeros(3, 1)), lam**2, rtol=1e-14)
    copy = ResidualAttention(gamma=0.9, eta=0.1)
    copy.bind(TermInfo(("pde",), ("pde",)))
    copy.load_state_dict(scheme.state_dict())
    assert torch.equal(copy.point_weights("pde", r, torch.zeros(3, 1)), scheme.point_weights("pde", r, torch.zeros(3, 1)))
    scheme.points_changed("pde")
    assert scheme.point_weights("pde", r, torch.zeros(3, 1)) is None
    with pytest.raises(ValueError, match="gamma must be in"):
        ResidualAttention(gamma=1.5)


def test_causal_weights_slabs_by_the_loss_of_earlier_ones():
    scheme = Causal(epsilon=2.0, slabs=4)
    scheme.bind(TermInfo(("pde",), ("pde",), time_axis=1, time_range=(0.0, 1.0)))
    t = torch.tensor([0.1, 0.1, 0.3, 0.6, 0.6, 0.6, 0.9], dtype=F64)
    r = torch.tensor([1.0, 3.0, 2.0, 1.0, 1.0, 1.0, 0.5], dtype=F64)
    points = torch.stack([torch.zeros_like(t), t], 1)
    w = scheme.point_weights("pde", r, points)
    slab_means = np.array([5.0, 4.0, 1.0, 0.25])  # mean r^2 in each slab
    slab_weights = np.exp(-2.0 * (np.cumsum(slab_means) - slab_means))
    # mean(w r^2) is the mean over slabs of weight * slab mean.
    assert math.isclose(float(torch.mean(w * r**2)), float(np.mean(slab_weights * slab_means)), rel_tol=1e-12)
    assert scheme.report() == {"causal_min/pde": pytest.approx(slab_weights.min())}
    scheme.frozen = True  # quasi-Newton stages keep the weights they had
    assert torch.equal(scheme.point_weights("pde", 10 * r, points), w)
    assert scheme.point_weights("dirichlet", r, points) is None
    with pytest.raises(ValueError, match="needs a time-dependent problem"):
        Causal().bind(TermInfo(("pde",), ("pde",)))
    with pytest.raises(ValueError, match="slabs must be an int >= 2"):
        Causal(slabs=1)


def test_schemes_combine_by_multiplying_their_weights():
    problem = Problem(
        name="p",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - f.u_xx,
        conditions=[Initial(1.0)],
    )
    loss = PINNLoss(problem, problem.conditions, Points(interior=64, boundary=16), rng=np.random.default_rng(0),
                    dtype=F64, weighting=(Causal(epsilon=1.0, slabs=4), Fixed({"initial": 3.0})))
    model = lambda p: torch.sin(3 * p[:, :1]) * p[:, 1:]  # noqa: E731
    total, terms = loss(model)
    residuals, where = loss.residuals(model)
    causal = loss.weighting[0].point_weights("pde", residuals["pde"], where["pde"])
    expected = torch.mean(causal * residuals["pde"] ** 2) + 3.0 * terms["initial"]
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-13)
    with pytest.raises(TypeError, match="weighting must be a Weighting"):
        PINNLoss(problem, problem.conditions, Points(interior=8, boundary=8), rng=np.random.default_rng(0),
                 dtype=F64, weighting="gradnorm")


def _two_terms(theta):
    """Residuals of two terms of the parameters theta = (a, b), and their mean squares."""
    a, b = theta
    x = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    y = torch.tensor([0.5, -1.0, 2.0, 0.0, -0.5, 1.5], dtype=F64)
    residuals = {"pde": a**2 * x + b, "bc": a - 3 * b * y}
    return residuals, {name: torch.mean(r**2) for name, r in residuals.items()}


def test_ntk_weights_are_sums_of_kernel_traces_over_each_trace():
    theta = torch.tensor([0.3, -0.7], dtype=F64, requires_grad=True)
    residuals, values = _two_terms(theta)
    # d r/d(a, b): pde (2 a x, 1), bc (1, -3 y); mean squared norms over the points by hand.
    trace_pde = np.mean(4 * 0.3**2 * np.array([1.0, 4.0, 9.0]) + 1)
    y = np.array([0.5, -1.0, 2.0, 0.0, -0.5, 1.5])
    trace_bc = np.mean(1 + 9 * y**2)
    scheme = NTK(every=10, points=64)  # more than either term has: the exact traces
    scheme.bind(TermInfo(("pde", "bc"), ("pde",)))
    assert scheme.term_weight("bc") == 1.0  # before the first update
    assert scheme.due(1) and not scheme.due(2) and scheme.due(11)
    scheme.update(residuals, values, [theta])
    assert math.isclose(scheme.term_weight("pde"), (trace_pde + trace_bc) / trace_pde, rel_tol=1e-12)
    assert math.isclose(scheme.term_weight("bc"), (trace_pde + trace_bc) / trace_bc, rel_tol=1e-12)
    assert scheme.report() == {"weight/pde": scheme.term_weight("pde"), "weight/bc": scheme.term_weight("bc")}
    assert scheme.describe() == {"weighting": "NTK", "every": 10, "points": 64, "max_weight": 1e6}
    restored = NTK(every=10, points=64)
    restored.bind(TermInfo(("pde", "bc"), ("pde",)))
    restored.load_state_dict(scheme.state_dict())
    assert restored.report() == scheme.report()


def test_ntk_subsets_repeat_with_the_step_and_weights_are_bounded():
    theta = torch.tensor([0.3, -0.7], dtype=F64, requires_grad=True)
    per_point_pde = 4 * 0.3**2 * np.array([1.0, 4.0, 9.0]) + 1
    per_point_bc = 1 + 9 * np.array([0.5, -1.0, 2.0, 0.0, -0.5, 1.5]) ** 2
    weights = []
    for _ in range(2):
        scheme = NTK(every=1, points=2)
        scheme.bind(TermInfo(("pde", "bc"), ("pde",)))
        assert scheme.due(7)
        scheme.update(*_two_terms(theta), [theta])
        weights.append(scheme.term_weight("bc"))
    assert weights[0] == weights[1]  # the subsets come from the step, not from a global generator
    # each trace is the mean over two of the term's points
    possible = [(p + q) / q for p in map(np.mean, itertools.combinations(per_point_pde, 2))
                for q in map(np.mean, itertools.combinations(per_point_bc, 2))]
    assert min(abs(weights[0] - w) for w in possible) < 1e-12 * weights[0]
    assert scheme.term_weight("pde") >= 1.0 and scheme.term_weight("bc") >= 1.0
    # a term that hardly moves would get a huge weight: max_weight caps it
    a, b = theta
    capped = NTK(points=4, max_weight=100.0)
    capped.bind(TermInfo(("pde", "bc"), ("pde",)))
    capped.update({"pde": (a**2 + b).expand(3), "bc": (1e-9 * a).expand(3)}, {}, [theta])
    assert capped.term_weight("bc") == 100.0


def test_ntk_in_a_loss_uses_the_residual_graphs_and_freezes_outside_first_order_stages():
    problem = Problem(
        name="p",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - f.u_xx,
        conditions=[Initial(1.0)],
    )
    loss = PINNLoss(problem, problem.conditions, Points(interior=16, boundary=8), rng=np.random.default_rng(0),
                    dtype=F64, engine=Autograd(), weighting=NTK(every=5, points=64))
    model = torch.nn.Linear(2, 1).double()
    loss.before_step(1, True)
    total, terms = loss(model)
    # u = w_x x + w_t t + b: the PDE residual w_t has gradient (0, 1, 0) at every point,
    # the initial residual w_x x + b - 1 has (x, 0, 1).
    x = loss.residuals(model)[1]["initial"][:, 0].numpy()
    trace_pde, trace_initial = 1.0, float(np.mean(x**2 + 1))
    scheme = loss.weighting[0]
    assert math.isclose(scheme.term_weight("pde"), 1 + trace_initial / trace_pde, rel_tol=1e-12)
    assert math.isclose(scheme.term_weight("initial"), 1 + trace_pde / trace_initial, rel_tol=1e-12)
    expected = scheme.term_weight("pde") * terms["pde"] + scheme.term_weight("initial") * terms["initial"]
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-13)
    # A network with other traces: a quasi-Newton step (not adaptive) must not move the weights.
    other = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    before = scheme.report()
    loss.before_step(6, False)
    loss(other)
    assert scheme.frozen and scheme.report() == before
    loss.before_step(6, True)
    loss(other)
    assert not scheme.frozen and scheme.report() != before


def test_ntk_refuses_bad_settings_with_the_fix():
    with pytest.raises(ValueError, match="NTK.every must be a positive int"):
        NTK(every=0)
    with pytest.raises(ValueError, match="NTK.points must be a positive int"):
        NTK(points=2.5)
    with pytest.raises(ValueError, match="NTK.max_weight must be a finite number >= 1"):
        NTK(max_weight=0.5)


def _trivially_met(k):
    """u = a + b x + k x^2 at a = 0.5, b = 0: the PDE u'' = 0 is off by 2k, u(0) = 0 and u(1) = 1 both by 0.5."""
    theta = torch.tensor([0.5, 0.0, k], dtype=F64, requires_grad=True)
    a, b, c = theta
    residuals = {"pde": (2 * c).expand(4), "left": a.expand(2), "right": (a + b + c - 1).expand(2)}
    return theta, residuals, {name: torch.mean(r**2) for name, r in residuals.items()}


def test_a_trivially_met_pde_no_longer_deflates_gradnorm_and_leaves_ntk_unmoved():
    info = TermInfo(("pde", "left", "right"), ("pde",))
    theta, residuals, values = _trivially_met(1e-3)
    # grad L_pde = 2 (2k) (0, 0, 2) = (0, 0, 8k), grad L_left = 2 (0.5) (1, 0, 0): ratio 8e-3
    unbounded = GradNorm(smoothing=0.0, min_weight=0.0)
    unbounded.bind(info)
    unbounded.update(residuals, values, [theta])
    assert math.isclose(unbounded.term_weight("left"), 8e-3, rel_tol=1e-12)  # the old collapse
    bounded = GradNorm(smoothing=0.9)  # min_weight=1: 0.9 * 1 + 0.1 * 8e-3 would fall below one
    bounded.bind(info)
    bounded.update(residuals, values, [theta])
    assert bounded.term_weight("left") == 1.0
    # NTK: d r/d theta is (0, 0, 2), (1, 0, 0) and (1, 1, 1) at every point, traces 4, 1, 3,
    # whatever the residuals' size: weights 8/4, 8/1, 8/3.
    for k in (1e-3, 0.0, 0.3):
        theta, residuals, values = _trivially_met(k)
        ntk = NTK(points=8)
        ntk.bind(info)
        ntk.update(residuals, values, [theta])
        assert ntk.report() == pytest.approx({"weight/pde": 2.0, "weight/left": 8.0, "weight/right": 8 / 3}, rel=1e-12)
    with pytest.raises(ValueError, match="GradNorm.min_weight must be a number from 0 to max_weight"):
        GradNorm(min_weight=-1.0)
    with pytest.raises(ValueError, match="GradNorm.min_weight must be a number from 0 to max_weight"):
        GradNorm(max_weight=10.0, min_weight=20.0)


def test_decay_weights_measure_residuals_relative_to_a_decaying_solution():
    from pinnkan.training.weighting import Decay, TermInfo

    scheme = Decay(rate=3.0)
    scheme.bind(TermInfo(("pde", "initial"), ("pde",), time_axis=1, time_range=(0.5, 2.0)))
    points = torch.tensor([[0.1, 0.5], [0.7, 1.0], [0.3, 2.0]], dtype=torch.float64)
    weights = scheme.point_weights("pde", torch.ones(3, dtype=torch.float64), points)
    torch.testing.assert_close(weights, torch.exp(6.0 * torch.tensor([0.0, 0.5, 1.5], dtype=torch.float64)))
    # a residual that decays like the solution weighs the same at every time
    decaying = torch.exp(-3.0 * (points[:, 1] - 0.5))
    torch.testing.assert_close(weights * decaying**2, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="Decay weighting needs a time-dependent problem"):
        Decay(rate=1.0).bind(TermInfo(("pde",), ("pde",)))
    with pytest.raises(ValueError, match="Decay.rate must be a finite number > 0"):
        Decay(rate=0.0)
