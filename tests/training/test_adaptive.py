"""Resampling strategies: where the new points go, what stays, and that quasi-Newton stages never resample."""

import numpy as np
import pytest
import torch

from pinnkan import Interval, Observations, Points, Problem, UniformRandom
from pinnkan.training.adaptive import RAD, RAR, AdaptivePoints, Resample, _draw_by_residual
from pinnkan.training.distributed import ALONE
from pinnkan.training.losses import PINNLoss

F64 = torch.float64

# With the model u = 0 the residual is r(x) = -x on [0, 1]: |r| grows linearly.
PROBLEM = Problem(
    name="ramp",
    domain=Interval(0.0, 1.0),
    residual=lambda f: f.u - f.x,
    conditions=[Observations([[0.25], [0.75]], [0.0, 0.0])],
)


def _zero(p):
    return torch.zeros(p.shape[0], 1, dtype=p.dtype)


def _loss(resampling, n=2000):
    return PINNLoss(PROBLEM, PROBLEM.conditions, Points(interior=n, boundary=10, sampler=UniformRandom()),
                    rng=np.random.default_rng(0), dtype=F64, resampling=resampling)


def test_rad_draws_points_with_density_proportional_to_the_residual():
    loss = _loss(RAD(every=1, k=1.0, c=0.0, candidates=50))
    assert loss.after_step(1, _zero, adaptive=True).startswith("redistributed 2000")
    x = loss.pde_points()[:, 0]
    # density 2x on [0, 1]: mean 2/3, P(x < 1/2) = 1/4 (a 50x candidate pool drawn without replacement)
    assert abs(x.mean() - 2 / 3) < 0.01
    assert abs(np.mean(x < 0.5) - 0.25) < 0.02
    uniform = _loss(RAD(every=1, k=0.0, c=1.0, candidates=50))
    uniform.after_step(1, _zero, adaptive=True)
    assert abs(uniform.pde_points()[:, 0].mean() - 0.5) < 0.02


def test_rar_adds_the_points_with_the_largest_residual():
    loss = _loss(RAR(every=5, add=50, candidates=10), n=1000)
    before = loss.pde_points()
    assert loss.after_step(4, _zero, adaptive=True) is None  # not due yet
    assert loss.after_step(5, _zero, adaptive=True).startswith("added 50")
    after = loss.pde_points()
    assert after.shape == (1050, 1) and np.array_equal(after[:1000], before)
    # the 50 largest of 10,000 uniform candidates of r = -x: all beyond the 99th percentile
    assert after[1000:, 0].min() > 0.985
    late = _loss(RAR(every=5, add=50, start=10), n=1000)
    assert late.after_step(5, _zero, adaptive=True) is None and late.after_step(10, _zero, adaptive=True)
    capped = _loss(RAR(every=1, add=50, max_points=1020), n=1000)
    capped.after_step(1, _zero, adaptive=True)
    assert capped.pde_points().shape[0] == 1020
    assert capped.after_step(2, _zero, adaptive=True) == "kept the PDE points (at max_points)"


def test_rar_d_adds_points_drawn_with_density_proportional_to_the_residual():
    loss = _loss(RAR(every=1, add=1000, candidates=50, k=1.0, c=0.0), n=1000)
    before = loss.pde_points()
    assert loss.after_step(1, _zero, adaptive=True) == "added 1000 PDE points drawn by residual"
    after = loss.pde_points()
    assert np.array_equal(after[:1000], before)
    # density 2x on [0, 1] for the added points: mean 2/3 (sd of the mean 0.0075), P(x < 1/2) = 1/4
    added = after[1000:, 0]
    assert abs(added.mean() - 2 / 3) < 0.025 and abs(np.mean(added < 0.5) - 0.25) < 0.04
    assert abs(before[:, 0].mean() - 0.5) < 0.03


def test_drawing_by_residual_copes_with_zero_residuals():
    class Stub:
        group = ALONE

        def residual_size(self, model, pool):
            return np.r_[np.zeros(95), np.ones(5)]

    chosen = _draw_by_residual(Stub(), _zero, np.zeros((100, 1)), 10, 1.0, 0.0, np.random.default_rng(0))
    # the five candidates with a residual come first in probability; five more fill up, all distinct
    assert len(set(chosen.tolist())) == 10 and set(range(95, 100)) <= set(chosen.tolist())


def test_resample_redraws_sampled_terms_and_keeps_observations():
    loss = _loss(Resample(every=3), n=100)
    before = loss.pde_points()
    data_before = loss.state_dict()["sources"][1]["points"].clone()
    assert loss.after_step(3, _zero, adaptive=False) is None  # quasi-Newton stages never resample
    assert np.array_equal(loss.pde_points(), before)
    assert loss.after_step(3, _zero, adaptive=True) == "redrew the points of 1 terms"
    assert not np.array_equal(loss.pde_points(), before) and loss.pde_points().shape == before.shape
    assert torch.equal(loss.state_dict()["sources"][1]["points"], data_before)


def test_points_and_generator_survive_a_state_round_trip():
    loss = _loss(RAR(every=1, add=10), n=100)
    loss.after_step(1, _zero, adaptive=True)
    state = loss.state_dict()
    other = _loss(RAR(every=1, add=10), n=100)
    other.load_state_dict(state)
    assert np.array_equal(other.pde_points(), loss.pde_points())
    loss.after_step(2, _zero, adaptive=True)
    other.after_step(2, _zero, adaptive=True)
    assert np.array_equal(other.pde_points(), loss.pde_points())  # the generator continued identically


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RAD(every=0), "every must be a positive int"),
        (lambda: RAD(k=-1.0), "k must be a finite number >= 0"),
        (lambda: RAD(k=0.0, c=0.0), "not both 0"),
        (lambda: RAR(add=0), "add must be a positive int"),
        (lambda: RAR(candidates=0), "candidates must be an int >= 1"),
        (lambda: Resample(every=-5), "every must be a positive int"),
        (lambda: RAR(start=-1), "start must be an int >= 0"),
        (lambda: RAR(k=float("nan")), "RAR.k must be a finite number >= 0"),
        (lambda: RAR(k=0.0, c=0.0), "not both 0"),
    ],
)
def test_bad_settings_name_the_fix(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_loss_offers_what_resampling_needs_and_other_objects_do_not():
    assert isinstance(_loss(None), AdaptivePoints)
    assert not isinstance(object(), AdaptivePoints)
