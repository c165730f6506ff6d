"""A system with named outputs, solved end to end: per-output errors in the report."""

import json
import math
from dataclasses import replace

import pytest
import torch

from pinnkan import (
    BFGS,
    Adam,
    Dirichlet,
    Interval,
    KANSpec,
    Points,
    Problem,
    Setup,
    solve,
)

# u' = v, v' = -u on [0, pi/2] with u(0) = 0, v(0) = 1: u = sin, v = cos.
OSCILLATOR = Problem(
    name="oscillator",
    domain=Interval(0.0, math.pi / 2, name="s"),
    outputs=("u", "v"),
    residual=lambda f: {"du": f.u_s - f.v, "dv": f.v_s + f.u},
    conditions=[Dirichlet("s_min", 0.0, output="u"), Dirichlet("s_min", 1.0, output="v", name="start_v")],
    exact=lambda c: {"u": torch.sin(c["s"]), "v": torch.cos(c["s"])},
)


def test_a_two_output_system_is_solved_and_reported_per_output(tmp_path):
    setup = Setup(
        model=KANSpec(hidden=(8,)),
        points=Points(interior=128, boundary=1),
        stages=(Adam(steps=300, lr=1e-2), BFGS(steps=300)),
    )
    solution = solve(OSCILLATOR, setup, dtype="float64", out=tmp_path, progress=False)
    errors = solution.comparison.outputs
    assert set(errors) == {"u", "v"}
    assert errors["u"].rel_l2 < 1e-4 and errors["v"].rel_l2 < 1e-4
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["outputs"] == ["u", "v"]
    assert set(report["final_losses"]) == {"total", "du", "dv"}
    assert report["rel_l2"] == max(report["per_output"]["u"]["rel_l2"], report["per_output"]["v"]["rel_l2"])
    # each output's start is built into that output: both hold to rounding
    assert report["hard_constraint"] == "built into the output: dirichlet_s_min_u, start_v"
    assert report["condition_errors"]["start_v"]["max_abs"] < 1e-14


def test_solve_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    setup = Setup(points=Points(interior=16, boundary=1), stages=(Adam(steps=2),))
    solve(OSCILLATOR, setup, progress=False)
    assert torch.equal(torch.get_rng_state(), before)


def test_precision_comes_from_the_setup_unless_the_call_names_one():
    setup = Setup(points=Points(interior=16, boundary=1), stages=(Adam(steps=1),), dtype=torch.float64)
    assert setup.dtype == "float64"
    chosen = solve(OSCILLATOR, setup, progress=False)
    assert chosen.dtype == torch.float64 and chosen.report()["setup"]["dtype"] == "float64"
    assert next(chosen.model.parameters()).dtype == torch.float64
    overridden = solve(OSCILLATOR, setup, dtype="float32", progress=False)
    assert next(overridden.model.parameters()).dtype == torch.float32
    assert solve(OSCILLATOR, replace(setup, dtype=None), progress=False).dtype == torch.float32
    with pytest.raises(ValueError, match="dtype must be one of"):
        Setup(dtype="half")
    with pytest.raises(ValueError, match="dtype must be torch.float32, torch.float64"):
        solve(OSCILLATOR, setup, dtype=torch.int32, progress=False)
