"""Shared by the study scripts: run labelled solves, print a markdown table, write the figures as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from pinnkan import Problem, Setup, Solution, solve
from pinnkan.run.folder import versions


@dataclass(frozen=True)
class Case:
    """One solve of a study: a label, the problem and its setup."""

    label: str
    problem: Problem
    setup: Setup


def solved(problem: Problem, setup: Setup | None, **options: object) -> Solution:
    """``solve(problem, setup, **options)``; when a signal stopped the training, exit with nothing
    written: a stopped run is no measurement."""
    solution = solve(problem, setup, **options)  # type: ignore[arg-type]
    if solution.train.stopped_by is not None:
        raise SystemExit(f"{problem.name}: {solution.train.message}; nothing written")
    return solution


def run(cases: Sequence[Case], *, seeds: Sequence[int], dtype: str) -> list[dict[str, object]]:
    """Solve every case for every seed, printing one line each; return the rows."""
    rows = []
    for case in cases:
        for seed in seeds:
            report = solved(case.problem, case.setup, seed=seed, dtype=dtype, progress=False).report()
            setup = report["setup"]
            rows.append(
                {
                    "case": case.label,
                    "problem": report["problem"],
                    "seed": seed,
                    "dtype": dtype,
                    "model": report["model"],
                    "params": report["params"],
                    "rel_l2": report.get("rel_l2"),
                    "linf": report.get("linf"),
                    "error_estimate": report.get("error_estimate"),
                    "refinements": _rounds(report.get("refinement")),
                    "train_seconds": report["train_seconds"],
                    "steps": report["steps"],
                    "weighting": [w["weighting"] for w in setup["weighting"]],
                    "resampling": None if setup["resampling"] is None else setup["resampling"]["resampling"],
                    "stages": [_stage(s) for s in setup["stages"] if "steps" in s],
                    "hard_constraint": report["hard_constraint"],
                    "coefficients": report["coefficients"],
                    "condition_errors": report["condition_errors"],
                    "message": report["message"],
                }
            )
            r = rows[-1]
            print(f"{r['case']:28s} seed {seed}: rel_l2 {r['rel_l2']:.2e}  {r['train_seconds']:.0f} s  "
                  f"{r['steps']} steps  {r['model']}", flush=True)
    return rows


def _stage(described: dict[str, object]) -> str:
    """A stage as a table shows it: its kind, steps and update, e.g. ``BFGS 2000 ssbroyden``."""
    return " ".join(str(described[k]) for k in ("stage", "steps", "update") if k in described)


def _rounds(refinement: dict[str, object] | None) -> int:
    """How many refinement rounds a run's report lists (its estimates that did not stop refinement)."""
    records = [] if refinement is None else refinement["rounds"]
    return sum(1 for r in records if not str(r.get("action", "stop")).startswith("stop"))  # type: ignore[union-attr]


def run_in_processes(argv: Sequence[str], *, seeds: Sequence[int], jobs: int) -> list[dict[str, object]]:
    """Rerun the calling script in ``jobs`` processes, each on a share of the seeds; return all rows.

    ``argv`` are the script's own options except ``--seeds``, ``--jobs`` and ``--out``.
    Rows come back ordered by case (as the script lists them), then seed.
    """
    shares = [list(seeds[i::jobs]) for i in range(jobs) if seeds[i::jobs]]
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"{i}.json" for i in range(len(shares))]
        children = [
            subprocess.Popen([sys.executable, sys.argv[0], *argv, "--jobs", "1", "--out", str(out),
                              "--seeds", *map(str, share)])
            for share, out in zip(shares, outs)
        ]
        if any(child.wait() != 0 for child in children):
            raise RuntimeError("a study process failed; see its output above")
        rows = [row for out in outs for row in json.loads(out.read_text())["rows"]]
    order = {label: i for i, label in enumerate(dict.fromkeys(r["case"] for r in rows))}
    return sorted(rows, key=lambda r: (order[r["case"]], r["seed"]))


def markdown(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    """The rows as a markdown table of the given columns (floats in short scientific form)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if 0.01 <= abs(value) < 1000 else f"{value:.2e}"
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value)) or "-"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def save(rows: Sequence[dict[str, object]], path: str | Path, **extra: object) -> None:
    """Write the rows with the machine's thread count and the versions to ``path`` (JSON)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {**extra, "threads": torch.get_num_threads(), "versions": versions(), "rows": list(rows)}
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {out}")
