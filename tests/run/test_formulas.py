"""find_formula, pinnkan formula and solve(formula=True): formulas of PDE solutions from the PDE alone."""

import functools
import json
import math

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from pinnkan import Adam, FormulaSearch, KANSpec, Points, Setup, find_formula, load_problem, solve
from pinnkan.run.cli import main
from pinnkan.run.formula_files import formula_report

x, t = sympy.symbols("x t")
SUM = KANSpec(hidden=(1,), squash_hidden=False)


class ExactSolution(nn.Module):
    """A perfectly trained model of a problem: its exact solution (the search only evaluates it)."""

    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        values = self.problem.exact_values(points.detach().cpu().numpy())
        return torch.as_tensor(np.stack([values[o] for o in self.problem.outputs], 1), dtype=points.dtype)


def _heat_form(expr: sympy.Expr) -> dict[str, float] | None:
    a, b, c = (sympy.Wild(n, exclude=[x, t]) for n in "abc")
    found = sympy.expand(sympy.simplify(expr), power_exp=True, mul=False).match(a * sympy.exp(-c * t) * sympy.sin(b * x))
    return None if found is None else {k.name: float(v) for k, v in found.items()}


@pytest.fixture(scope="module")
def heat():
    return load_problem("heat1d").problem


@pytest.fixture(scope="module")
def heat_formula(heat):
    lines = []
    result = find_formula(heat, ExactSolution(heat), FormulaSearch(hard=False, restarts=1), seed=0, log=lines.append)
    # the solution is separable: its own network comes first and solves the problem, the others are skipped
    assert lines[0].startswith("u = f(x) * g(rest)") and all("not tried" in line for line in lines[1:])
    return result


def test_heat1d_formula_is_the_exact_solution(heat, heat_formula):
    assert heat_formula.clean
    numbers = _heat_form(heat_formula.best.expressions[0])
    assert numbers is not None, heat_formula.best.expressions
    assert numbers["c"] == pytest.approx(0.4 * math.pi**2, rel=1e-2)
    assert numbers["b"] == pytest.approx(math.pi, rel=1e-3)
    assert numbers["a"] == pytest.approx(1.0, rel=1e-3)
    fields = formula_report(heat, heat_formula)
    assert fields["formula_rel_l2"] <= 1e-4
    assert heat_formula.estimate.rel_l2 <= 1e-3
    assert heat_formula.text()[0].startswith("u(x, t) = ")
    # the candidates are ranked by the PDE loss
    losses = [c.loss for c in heat_formula.candidates]
    assert losses == sorted(losses)


def test_a_search_that_cannot_express_the_solution_says_so(heat, tmp_path):
    search = FormulaSearch(architectures=(SUM,), hard=False, restarts=1, adam_steps=100, bfgs_steps=60,
                           refine_steps=60, snap_top=1)
    result = find_formula(heat, ExactSolution(heat), search, seed=0)
    assert not result.clean
    assert result.estimate.rel_l2 > search.tolerance
    assert result.message.startswith("no clean formula") and f"{result.estimate.rel_l2:.2g}" in result.message
    # the formula's error against the reference is large too: the estimate did not cry wolf
    assert formula_report(heat, result)["formula_rel_l2"] > 1e-3


def test_solve_with_formula_writes_formula_files_and_report(tmp_path):
    spec = load_problem("heat1d")
    setup = Setup(model=spec.setup.model, points=Points(interior=200, boundary=50), stages=(Adam(steps=30),))
    search = FormulaSearch(architectures=(SUM,), hard=False, restarts=1, adam_steps=50, bfgs_steps=30,
                           refine_steps=30, snap_top=1)
    solution = solve(spec.problem, setup, seed=0, out=tmp_path, progress=False, formula=search)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["formula"]["clean"] is False and report["formula"]["text"] is None
    assert report["formula"]["best_candidate"] == solution.formula.text()
    assert report["formula_rel_l2"] == pytest.approx(formula_report(spec.problem, solution.formula)["formula_rel_l2"],
                                                     rel=1e-12)
    text = (tmp_path / "formula.txt").read_text()
    assert text.startswith("no clean formula")
    sympy_line = text.strip().splitlines()[-1]
    assert sympy_line.startswith("u = ")
    read = sympy.lambdify((x, t), sympy.sympify(sympy_line[4:]))
    best = sympy.lambdify((x, t), solution.formula.best.expressions[0])
    points = np.random.default_rng(0).random((20, 2))
    np.testing.assert_allclose(read(*points.T), best(*points.T), rtol=1e-14)
    assert [sympy.sympify(e) for e in report["formula"]["sympy"]] == list(solution.formula.best.expressions)
    assert (tmp_path / "formula_network.png").stat().st_size > 10_000
    with pytest.raises(TypeError, match="formula must be"):
        solve(spec.problem, setup, formula="yes")


def test_formula_command_on_a_run_folder(tmp_path, capsys, monkeypatch):
    spec = load_problem("heat1d")
    setup = Setup(model=spec.setup.model, points=Points(interior=200, boundary=50), stages=(Adam(steps=30),))
    solve(spec.problem, setup, seed=0, out=tmp_path, progress=False)
    monkeypatch.setattr("pinnkan.run.formulas.architectures", lambda dim: (SUM,))
    monkeypatch.setattr("pinnkan.run.cli.FormulaSearch", functools.partial(
        FormulaSearch, hard=False, restarts=1, adam_steps=50, bfgs_steps=30, refine_steps=30, snap_top=1))
    assert main(["formula", str(tmp_path), "--tolerance", "1e-3"]) == 0
    out = capsys.readouterr().out
    assert "no clean formula" in out and "best candidate: u(x, t) = " in out
    assert (tmp_path / "formula.txt").exists()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["formula"]["network"].startswith("KAN[2,1,1]") and report["rel_l2"] > 0  # the run's own fields stay
    assert main(["formula", str(tmp_path / "missing")]) == 2
    assert main(["formula", str(tmp_path), "--tolerance", "-1"]) == 2
    assert "--tolerance must be a number > 0" in capsys.readouterr().err


def test_bad_search_settings_are_refused():
    with pytest.raises(ValueError, match="squash_hidden=False"):
        FormulaSearch(architectures=(KANSpec(hidden=(2,)),))
    with pytest.raises(ValueError, match="unknown or empty"):
        FormulaSearch(library=("sin", "bessel"))
    with pytest.raises(ValueError, match="restarts"):
        FormulaSearch(restarts=0)
    with pytest.raises(TypeError, match="trained model"):
        find_formula(load_problem("heat1d").problem, "model.pt")
