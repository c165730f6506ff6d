"""Runs that survive their process: SIGKILL and resume, SIGTERM, NaN mid-run, no global state, same seed twice.

The training runs in subprocesses of one thread each, so that an interrupted and
resumed run can be compared bitwise with an uninterrupted one.
"""

import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from pinnkan import Adam, Points, Setup, load_problem, solve
from pinnkan.files import load_torch
from pinnkan.run.catalog import load_problem as load_file

# Adam with adaptive resampling, a grid extension, Adam again, then BFGS: every kind
# of state a checkpoint must carry (moments, schedules, weights, moved points, the
# sampler's random state, the grid change, the inverse-Hessian estimate).
PROBLEM_FILE = """
from pinnkan import BFGS, RAD, Adam, ExtendGrid, GradNorm, KANSpec, Points, Setup, load_problem

problem = load_problem("heat1d").problem
setup = Setup(
    model=KANSpec(hidden=(6,), grid_size=4),
    points=Points(interior=150, boundary=30),
    stages=(Adam(steps=25, lr=1e-2, final_lr=3e-3), ExtendGrid(grid_size=7), Adam(steps=25, lr=5e-3), BFGS(steps=25)),
    weighting=GradNorm(every=5),
    resampling=RAD(every=10, candidates=4),
    dtype="float64",
)
"""

# Trains the problem file, printing each finished step; argv: problem file, run folder, "resume" or not.
CHILD = """
import sys
from pinnkan import load_problem, solve
spec = load_problem(sys.argv[1])
solution = solve(spec.problem, spec.setup, out=sys.argv[2], resume=sys.argv[3] == "resume", checkpoint_every=5,
                 progress=False, callbacks=[lambda step, record: print("step", step, flush=True)])
print("done", solution.train.success, flush=True)
"""

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
CHECKPOINT_EVERY = 5
TOTAL = 75


def _child(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, **kwargs)


def _net_state(folder):
    return load_torch(folder / "model.pt", kind="model")["net"]


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    problem = folder / "small_heat.py"
    problem.write_text(PROBLEM_FILE)
    child = _child(str(problem), str(folder / "whole"), "no")
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert out.splitlines()[-1] == "done True"
    return problem, folder / "whole"


@pytest.mark.parametrize("kill_at", [32, 60])  # after the grid extension, with resampling; inside BFGS
def test_a_run_killed_at_a_random_step_resumes_to_the_same_parameters_bitwise(uninterrupted, tmp_path, kill_at):
    problem, whole = uninterrupted
    target = kill_at + random.Random(kill_at).randrange(CHECKPOINT_EVERY)  # not always on a checkpoint
    child = _child(str(problem), str(tmp_path), "no")
    last = 0
    for line in child.stdout:
        last = int(line.split()[1])
        if last >= target:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    saved = load_torch(tmp_path / "checkpoint.pt", kind="checkpoint")
    assert last - CHECKPOINT_EVERY <= saved["step"] <= last  # at most one interval of work lost
    assert saved["step"] < TOTAL and not (tmp_path / "model.pt").exists()

    resumed = _child(str(problem), str(tmp_path), "resume")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    steps = [int(line.split()[1]) for line in out.splitlines()[:-1]]
    assert steps == list(range(saved["step"] + 1, TOTAL + 1))
    _assert_same_state(_net_state(tmp_path), _net_state(whole))
    first = json.loads((whole / "report.json").read_text())
    again = json.loads((tmp_path / "report.json").read_text())
    assert again["final_losses"] == first["final_losses"] and again["message"] == first["message"]


def test_sigterm_saves_a_checkpoint_and_a_partial_report_and_exits_with_its_own_code(uninterrupted, tmp_path):
    problem, whole = uninterrupted
    cli = [sys.executable, "-m", "pinnkan.run.cli", "solve", str(problem), "--out", str(tmp_path), "--no-progress",
           "--checkpoint-every", "1000"]
    child = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    # Wait for the stage-end checkpoint after step 25, then stop the run inside the next stage.
    while not (tmp_path / "checkpoint.pt").exists():
        assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "stopped by SIGTERM" in err
    report = json.loads((tmp_path / "report.json").read_text())
    saved = load_torch(tmp_path / "checkpoint.pt", kind="checkpoint")
    assert report["stopped_by"] == "SIGTERM" and report["success"] is False
    assert report["steps"] == saved["step"] and 25 <= saved["step"] < TOTAL
    assert f"stopped by SIGTERM after step {saved['step']}" in report["message"]
    assert not (tmp_path / "solution.png").exists()  # a partial report: no figures

    resumed = subprocess.run([*cli, "--resume"], capture_output=True, text=True, env=ENV, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_state(_net_state(tmp_path), _net_state(whole))
    assert (tmp_path / "solution.png").exists()


class _NaNAfter:
    """Wraps a problem's residual so that it gives NaN from the ``start``-th call on (``count`` calls, or for good)."""

    def __init__(self, residual, start, count=None):
        self.residual, self.start, self.count, self.calls = residual, start, count, 0

    def __call__(self, f):
        self.calls += 1
        value = self.residual(f)
        bad = self.calls >= self.start and (self.count is None or self.calls < self.start + self.count)
        return value * float("nan") if bad else value


def _nan_problem(start, count=None):
    from dataclasses import replace

    problem = load_problem("heat1d").problem
    return replace(problem, residual=_NaNAfter(problem.residual, start, count))


SMALL = Setup(points=Points(interior=64, boundary=16), stages=(Adam(steps=30, lr=1e-2),), dtype="float64")


def test_nan_in_the_loss_mid_run_stops_cleanly_with_the_last_good_checkpoint_intact(tmp_path):
    problem = _nan_problem(start=20)
    solution = solve(problem, SMALL, out=tmp_path, progress=False, checkpoint_every=4)
    assert not solution.train.success
    message = solution.train.message
    assert "'pde'" in message and "after 3 retries" in message and "lower the learning rate" in message
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["success"] is False and report["message"] == message
    saved = load_torch(tmp_path / "checkpoint.pt", kind="checkpoint")
    assert 0 < saved["step"] <= solution.train.steps
    for value in saved["model"].values():
        if isinstance(value, torch.Tensor):
            assert torch.isfinite(value).all()
    assert all(np.isfinite(r["total"]) for r in saved["history"])
    assert all(torch.isfinite(p).all() for p in solution.model.parameters())


def test_a_passing_nan_is_recovered_from_and_the_run_finishes(tmp_path):
    problem = _nan_problem(start=25, count=1)
    solution = solve(problem, SMALL, progress=False)
    assert solution.train.success and solution.train.steps == 30
    assert "went back to step" in solution.train.message and "0.5 times its learning rate" in solution.train.message
    assert np.isfinite(solution.comparison.rel_l2)


def test_solve_leaves_the_callers_random_state_as_it_was():
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    solve(load_problem("heat1d").problem, SMALL, seed=3, progress=False)
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1])
    assert random.getstate() == states[2]


def test_the_same_seed_twice_gives_a_bitwise_identical_history(tmp_path):
    problem = tmp_path / "small_heat.py"
    problem.write_text(PROBLEM_FILE)
    spec = load_file(str(problem))
    runs = [solve(spec.problem, spec.setup, seed=5, progress=False) for _ in range(2)]
    first, second = (r.train.history.records for r in runs)
    assert len(first) == TOTAL and first == second
    other = solve(spec.problem, spec.setup, seed=6, progress=False).train.history.records
    assert other[0]["total"] != first[0]["total"]
