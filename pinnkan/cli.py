"""The ``pinnkan`` command: list, solve. The one place that maps names to objects."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace

from .catalog import list_problems, load_problem
from .solve import DTYPES, check_output_folder, solve

__all__ = ["main"]


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--steps takes positive integers separated by commas, one per stage, got {text!r}"
        ) from None
    if any(n < 1 for n in steps):
        raise argparse.ArgumentTypeError(f"--steps must be positive, one per stage, got {text!r}")
    return steps


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinnkan", description="Solve PDEs with physics-informed Kolmogorov-Arnold networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the built-in problems")
    solve_p = sub.add_parser("solve", help="train on a problem, compare, write a run folder")
    solve_p.add_argument("problem", help="built-in problem name or path to a problem file (.py)")
    solve_p.add_argument("--out", help="run folder (default: runs/NAME)")
    solve_p.add_argument("--steps", type=_steps, help="steps per stage, e.g. 5000,500")
    solve_p.add_argument("--seed", type=int, default=0, help="seed for points and initialisation")
    solve_p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    solve_p.add_argument("--device", default=None, help="torch device, e.g. cuda (default cpu)")
    solve_p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    solve_p.add_argument("--soft", action="store_true", help="enforce every condition through the loss")
    solve_p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, path in list_problems().items():
            print(f"{name:12s} {load_problem(path).problem.description}")
        return 0
    try:
        spec = load_problem(args.problem)
        setup = spec.setup
        if args.steps is not None:
            setup = setup.with_steps(args.steps)
        if args.soft:
            setup = replace(setup, hard=False)
        out = check_output_folder(args.out or f"runs/{spec.problem.name}")
        solution = solve(
            spec.problem,
            setup,
            seed=args.seed,
            dtype=args.dtype,
            device=args.device,
            out=out,
            resume=args.resume,
            progress=not args.no_progress,
        )
    except (ValueError, TypeError) as err:
        print(f"pinnkan: error: {err}", file=sys.stderr)
        return 2
    report = solution.report()
    keys = ("problem", "rel_l2", "linf", "rel_l2_exact", "train_seconds", "steps")
    summary = {k: report[k] for k in keys if k in report}
    print(json.dumps(summary))
    print(f"run folder: {out}")
    return 0 if solution.train.success else 1


if __name__ == "__main__":
    sys.exit(main())
