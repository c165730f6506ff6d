"""A run's formula on disk: ``formula.txt``, the ``formula`` fields of ``report.json``, the pruned network.

:func:`formula_run` is ``pinnkan formula RUN_DIR``: it finds the formula of the
run's problem (:func:`~pinnkan.run.formulas.find_formula`, seeded with the run's
seed) and writes it beside the run with :func:`write_formula`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import sympy
import torch

from ..compare import compare, reference_solution
from ..files import atomic_write
from ..pde.problem import Problem
from .formulas import FormulaResult, FormulaSearch, find_formula
from .load import load_run, run_problem

__all__ = ["formula_run", "formula_report", "write_formula"]

FORMULA_FILE = "formula.txt"
NETWORK_FIGURE = "formula_network.png"


def formula_run(
    folder: str | os.PathLike[str],
    *,
    problem: Problem | str | os.PathLike[str] | None = None,
    search: FormulaSearch | None = None,
    seed: int | None = None,
    log=None,  # type: ignore[no-untyped-def]
) -> FormulaResult:
    """Find the formula of a run's problem and write it into the run folder.

    Parameters
    ----------
    folder : path
        A run folder written by :func:`pinnkan.solve` (``pinnkan solve``).
    problem : Problem or path, optional
        The problem the run solved, or its file; the built-in problem of the run's
        name by default.
    search : FormulaSearch, optional
        How to search (the defaults when None).
    seed : int, optional
        The run's seed by default.
    log : callable, optional
        Called with a line of progress text per network.
    """
    saved = load_run(folder)
    problem = run_problem(saved, problem, "formula")
    if seed is None:
        seed = int((saved.report or {}).get("seed", 0))  # type: ignore[call-overload]
    run = load_run(saved.folder, problem=problem)
    result = find_formula(problem, run.model, search, seed=seed, log=log)
    write_formula(saved.folder, problem, result)
    return result


def formula_report(problem: Problem, result: FormulaResult) -> dict[str, object]:
    """The fields a formula adds to ``report.json``: ``formula`` and ``formula_rel_l2`` (None without a reference)."""
    rel_l2 = None
    if problem.has_reference:
        exact = problem.exact_values if problem.exact is not None else None
        comparison = compare(result.best.model, reference_solution(problem), outputs=problem.outputs, exact=exact,
                             time_axis=problem.time)
        rel_l2 = comparison.rel_l2
    best = result.best
    return {
        "formula": {
            "clean": result.clean,
            "text": result.text() if result.clean else None,
            "best_candidate": result.text(),
            "sympy": [sympy.srepr(e) for e in best.expressions],
            "message": result.message,
            "estimated_rel_l2": result.estimate.rel_l2,
            "loss": best.loss,
            "complexity": best.complexity,
            "network": best.architecture,
            "hard_constraint": best.hard,
            "candidates": [
                {"formula": [str(e) for e in c.expressions], "loss": c.loss, "complexity": c.complexity,
                 "network": c.architecture, "hard_constraint": c.hard}
                for c in result.candidates[:10]
            ],
        },
        "formula_rel_l2": rel_l2,
    }


def write_formula(folder: str | os.PathLike[str], problem: Problem, result: FormulaResult) -> dict[str, object]:
    """Write ``formula.txt``, add the formula to ``report.json`` and draw ``formula_network.png``; the added fields."""
    folder = Path(folder)
    fields = formula_report(problem, result)
    atomic_write(folder / FORMULA_FILE, _formula_text(result, fields["formula_rel_l2"]))  # type: ignore[arg-type]
    report_path = folder / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    atomic_write(report_path, json.dumps({**report, **fields}, indent=2, default=str) + "\n")
    from ..plotting import plot_network

    samples = torch.as_tensor(problem.domain.sample_interior(1000, rng=np.random.default_rng(0)),
                              dtype=result.best.network.input_lo.dtype)
    heading = "\n".join(result.text(4) if result.clean else ["no clean formula; best candidate:", *result.text(4)])
    plot_network(result.best.network, samples, folder / NETWORK_FIGURE, names=list(problem.coordinates),
                 outputs=list(problem.outputs), title=f"{result.best.architecture}\n{heading}")
    return fields


def _formula_text(result: FormulaResult, rel_l2: float | None) -> str:
    """The text of ``formula.txt``: the formula (or why there is none), its figures, the SymPy form."""
    lines = []
    if result.clean:
        lines += result.text()
    else:
        lines += [result.message + ".", "Best candidate (not a clean formula):", *result.text()]
    lines += [
        "",
        f"estimated relative L2 error: {result.estimate.rel_l2:.3g} (without the reference)",
        f"relative L2 error against the reference: {'n/a' if rel_l2 is None else f'{rel_l2:.3g}'}",
        f"loss (PDE residual and conditions): {result.best.loss:.3g}",
        f"from {result.best.architecture}{', through the hard constraint' if result.best.hard else ''}",
        "",
        "SymPy (sympy.sympify reads each line back):",
        *[f"{name} = {e}" for name, e in zip(result.outputs, result.best.expressions)],
    ]
    return "\n".join(lines) + "\n"
