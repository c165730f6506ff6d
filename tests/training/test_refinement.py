"""Refinement after the stages: rounds planned until the tolerance, the budget or the gain runs out; resumed exactly."""

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pinnkan import Dirichlet, Interval, KANSpec, Points, Problem
from pinnkan.pde.pinn import PINN
from pinnkan.pde.coefficients import CoefficientSet
from pinnkan.training.grid_stages import ExtendGrid
from pinnkan.training.losses import PINNLoss
from pinnkan.training.refinement import Refinement, Refiner
from pinnkan.training.stages import BFGS, Adam
from pinnkan.training.trainer import Trainer

PROBLEM = Problem(
    name="poisson1d",
    domain=Interval(0.0, 1.0),
    residual=lambda f: f.u_xx + math.pi**2 * torch.sin(math.pi * f.x),
    conditions=[Dirichlet("boundary", 0.0)],
)


def _setup(estimates, **settings):
    torch.manual_seed(0)
    net = KANSpec(hidden=(4,), grid_size=4).build(1, 1, ([0.0], [1.0]), dtype=torch.float64)
    model = PINN(net, CoefficientSet({}, dtype=torch.float64))
    loss = PINNLoss(PROBLEM, PROBLEM.conditions, Points(interior=64, boundary=2), rng=np.random.default_rng(0), dtype=torch.float64)
    values = iter(estimates)
    calls = []

    def estimate(m):
        calls.append(sum(p.numel() for p in m.parameters()))
        return SimpleNamespace(rel_l2=next(values), resolved=True)

    refiner = Refiner(Refinement(**{"tolerance": 1e-3, "budget": 600.0, "steps": 5, **settings}), estimate, loss)
    return model, loss, refiner, calls


def test_rounds_refine_the_grid_and_the_points_until_the_tolerance_is_met(tmp_path):
    model, loss, refiner, calls = _setup([0.1, 0.01, 5e-4])
    before = loss.pde_points().copy()
    trainer = Trainer(model, loss, [Adam(steps=3, lr=1e-3)], refiner=refiner, progress=False, checkpoint=tmp_path / "c.pt")
    result = trainer.run()
    assert [type(s).__name__ for s in trainer.stages] == ["Adam", "ExtendGrid", "BFGS", "ExtendGrid", "BFGS"]
    assert [s.grid_size for s in trainer.stages if isinstance(s, ExtendGrid)] == [8, 16]
    assert model.net.grid_size == 16 and len(calls) == 3 and calls[0] < calls[1] < calls[2]
    assert loss.pde_points().shape[0] == 4 * before.shape[0]  # twice as many points, twice
    report = refiner.report()
    assert [r["error_estimate"] for r in report["rounds"]] == [0.1, 0.01, 5e-4]
    assert report["rounds"][0]["action"].startswith("added 64 PDE points drawn by residual; grid G=4 -> 8; BFGS")
    assert report["outcome"] == "tolerance 0.001 met (estimated error 5.00e-04)"
    assert "refinement: tolerance 0.001 met" in result.message

    # a resumed trainer replays the planned rounds and plans no more
    again = _setup([1.0])[0:3]
    resumed = Trainer(again[0], again[1], [Adam(steps=3, lr=1e-3)], refiner=again[2], progress=False, checkpoint=tmp_path / "c.pt")
    resumed.resume()
    assert [type(s).__name__ for s in resumed.stages] == ["Adam", "ExtendGrid", "BFGS", "ExtendGrid", "BFGS"]
    resumed.run()
    assert again[0].net.grid_size == 16
    for (name, a), b in zip(again[0].state_dict().items(), model.state_dict().values()):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b), name


@pytest.mark.parametrize(
    ("estimates", "settings", "outcome"),
    [
        ([0.1, 0.09], {}, "refinement stopped paying: the last round took the estimate from 1.00e-01 to 9.00e-02"),
        ([0.1, 0.01, 0.001 * 2], {"rounds": 2}, "stopped after 2 rounds (the most allowed)"),
        ([0.1], {"budget": 1e-6}, "budget of 1e-06 s spent"),
    ],
)
def test_refinement_stops_when_it_no_longer_pays_or_runs_out(estimates, settings, outcome):
    model, loss, refiner, _ = _setup(estimates, **settings)
    Trainer(model, loss, [Adam(steps=3, lr=1e-3)], refiner=refiner, progress=False).run()
    assert refiner.outcome.startswith(outcome)


def test_a_round_whose_steps_grow_slower_stops_at_the_budget_but_the_stages_given_run_whole():
    # Steps take a few ms in the stages given and 200 ms in the round: planned from the first, the
    # round's BFGS would take longer than the 2 s budget holds; it stops when the budget is spent.
    # (The margins hold on a loaded machine too: planning from steps of up to 180 ms still overruns.)
    warm = _setup([0.1])  # the first steps of a process load the kernels: not in the clock below
    Trainer(warm[0], warm[1], [Adam(steps=2, lr=1e-3)], progress=False).run()
    model, loss, refiner, _ = _setup([0.1, 0.05], budget=2.0, steps=1000)
    adam = Adam(steps=20, lr=1e-3)
    trainer = Trainer(model, loss, [adam], refiner=refiner, progress=False,
                      callbacks=[lambda step, record: time.sleep(0.002 if step <= 20 else 0.2)])
    result = trainer.run()
    bfgs = trainer.stages[-1]
    rounds = len(result.history.records) - adam.steps
    assert isinstance(bfgs, BFGS) and 0 < rounds < bfgs.steps and bfgs.steps * 0.2 > 2.0
    assert result.seconds < 2.0 + 0.5  # one step past the budget at most, and the stages given ran whole
    assert f"BFGS stopped after {rounds} of {bfgs.steps} steps (the refinement budget is spent)" in result.message
    assert refiner.outcome.startswith("budget of 2 s spent")
    # the stages given run whole, however long they take
    model, loss, refiner, _ = _setup([0.1], budget=0.01)
    given = Trainer(model, loss, [Adam(steps=20, lr=1e-3)], refiner=refiner, progress=False,
                    callbacks=[lambda step, record: time.sleep(0.002)]).run()
    assert given.steps == 20 and given.seconds > 0.04 and refiner.outcome.startswith("budget of 0.01 s spent")


def test_settings_are_checked():
    with pytest.raises(ValueError, match="tolerance must be a finite number > 0"):
        Refinement(tolerance=0.0)
    with pytest.raises(ValueError, match="budget must be a finite number > 0"):
        Refinement(budget=float("inf"))
    with pytest.raises(ValueError, match="rounds"):
        Refinement(rounds=0)
    with pytest.raises(TypeError, match="refiner must be a Refiner"):
        Trainer(torch.nn.Linear(1, 1), lambda m: (torch.zeros(()), {}), [BFGS(steps=1)], refiner="yes")
