"""Loss balancing: each scheme's weights against hand-computed values, state round trips, bad input."""

import math

import numpy as np
import pytest
import torch

from pinnkan import Dirichlet, Initial, Interval, Points, Problem, SpaceTime
from pinnkan.training.losses import PINNLoss
from pinnkan.training.weighting import (
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
