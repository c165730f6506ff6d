"""The error estimate against the true error, on every built-in problem.

Two rows per problem: a short run (each optimiser stage of the shipped setup cut to
``--fraction`` of its steps, eagerly, without refinement), where the error is large, and the shipped setup's
run as ``scripts/benchmark_problems.py`` leaves it in ``runs/benchmark/NAME/report.json``
(skipped, with a note, when that folder is missing). Each row has the relative L2
error against the reference, the estimate made without it, and their ratio; the summary
counts the rows within a factor of 3 and the smallest ratio (the estimate must never be
below a tenth of the true error). Prints a markdown table and writes
``benchmarks/error_estimates.json``. Usage::

    python scripts/error_estimates.py [NAME ...] [--fraction 0.1] [--runs runs/benchmark]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import markdown, save, solved  # noqa: E402

from pinnkan import keep_freed_memory, list_problems, load_problem  # noqa: E402
from pinnkan.run.setup import resolve  # noqa: E402
from pinnkan.training.stages import Stage  # noqa: E402

COLUMNS = ("problem", "run", "rel_l2", "error_estimate", "ratio", "within_3x", "resolved", "train_seconds")


def short_run(name: str, fraction: float, seed: int) -> dict[str, object]:
    """The shipped setup (an automatic one as resolved for the problem) with every optimiser stage cut to
    ``fraction`` of its steps, and no refinement."""
    spec = load_problem(name)
    shipped = spec.setup if spec.setup.stages is not None else resolve(spec.setup, spec.problem)
    stages = tuple(replace(s, steps=max(1, round(s.steps * fraction))) if isinstance(s, Stage) else s for s in shipped.stages)
    setup = replace(shipped, stages=stages, compile=False, tolerance=None, budget=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = solved(spec.problem, setup, seed=seed, progress=False).report()
    return _row(name, f"{fraction:g} of the steps", report)


def shipped_run(name: str, runs: Path) -> dict[str, object] | None:
    """The row of the benchmark's run folder, or None when there is none."""
    path = runs / name / "report.json"
    if not path.is_file():
        print(f"{name}: no {path}; run scripts/benchmark_problems.py {name} for the shipped setup's row")
        return None
    report = json.loads(path.read_text())
    if "error_estimate" not in report:
        print(f"{name}: {path} has no error estimate (an older run); run scripts/benchmark_problems.py {name} again")
        return None
    return _row(name, "shipped setup", report)


def _row(name: str, run: str, report: dict[str, object]) -> dict[str, object]:
    rel_l2, estimate = float(report["rel_l2"]), float(report["error_estimate"])  # type: ignore[arg-type]
    ratio = estimate / rel_l2
    return {
        "problem": name,
        "run": run,
        "rel_l2": rel_l2,
        "error_estimate": estimate,
        "ratio": ratio,
        "within_3x": bool(1 / 3 <= ratio <= 3),
        "above_tenth": bool(ratio >= 0.1),
        "resolved": report["error_estimate_resolved"],
        "train_seconds": report["train_seconds"],
        "levels": report["error_estimate_levels"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problems (default: every built-in one)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the shipped steps in the short run")
    parser.add_argument("--runs", default="runs/benchmark", help="run folders of scripts/benchmark_problems.py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/error_estimates.json")
    args = parser.parse_args()
    keep_freed_memory()
    names = args.names or list(list_problems())
    rows = []
    for name in names:
        for row in (short_run(name, args.fraction, args.seed), shipped_run(name, Path(args.runs))):
            if row is not None:
                rows.append(row)
                print(f"{name:22s} {row['run']:18s} rel_l2 {row['rel_l2']:.2e}  estimate {row['error_estimate']:.2e}  "
                      f"ratio {row['ratio']:.2f}", flush=True)
    within = sum(r["within_3x"] for r in rows)
    summary = {
        "rows": len(rows),
        "within_3x": within,
        "share_within_3x": within / max(len(rows), 1),
        "smallest_ratio": min((r["ratio"] for r in rows), default=None),
        "problems_within_3x_on_every_row": sorted(
            n for n in names if all(r["within_3x"] for r in rows if r["problem"] == n)
        ),
    }
    print(markdown(rows, COLUMNS))
    print(json.dumps(summary))
    save(rows, args.out, summary=summary, fraction=args.fraction, seed=args.seed)


if __name__ == "__main__":
    main()
