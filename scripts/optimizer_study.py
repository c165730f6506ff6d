"""Optimizer study: relative L2 error against training time for Adam followed by each quasi-Newton method.

Each problem keeps its shipped setup (model, points, Adam stages, grid changes) and
swaps its quasi-Newton stages for L-BFGS, BFGS, SSBFGS or SSBroyden with the same step
counts (``pinnkan.training.bfgs``: the self-scaled updates of Urbán, Stefanou & Pons,
2025), or for Levenberg-Marquardt (``GaussNewton``) with a twentieth of the steps (a
Gauss-Newton step differentiates every residual row: it costs tens to hundreds of
quasi-Newton steps). The error against the problem's reference is measured every ``--every`` steps;
the time spent measuring it is left out of the clock. Prints a markdown table of the
final errors, writes every curve to ``benchmarks/optimizers.json`` and draws
``benchmarks/optimizers.png`` (one panel per problem, one colour per optimizer, one
line per seed); rows of problems, optimizers and seeds not run this time are kept from
the existing file. Usage::

    python scripts/optimizer_study.py [--problems heat1d burgers1d helmholtz2d] [--seeds 0 1 2]
        [--optimizers L-BFGS BFGS SSBFGS SSBroyden Gauss-Newton] [--every 50] [--dtype float64]
    python scripts/optimizer_study.py --merge /tmp/a.json /tmp/b.json   # runs made elsewhere, into the file

Run it alone on the machine, or pinned to a core of its own with one thread
(``OMP_NUM_THREADS=1 taskset -c 1 python scripts/optimizer_study.py ...``): the curves are
wall-clock times. Each row records its torch threads; a panel's title names them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _study import markdown, save, solved  # noqa: E402

from pinnkan import BFGS, LBFGS, GaussNewton, compare, load_problem  # noqa: E402
from pinnkan.compare import reference_solution  # noqa: E402
from pinnkan.pde.problem import Problem  # noqa: E402
from pinnkan.reference import GridSolution  # noqa: E402
from pinnkan.training.stages import Stage  # noqa: E402

# Each optimizer as the stage that replaces a quasi-Newton stage of ``steps`` steps.
OPTIMIZERS: dict[str, Callable[[int], Stage]] = {
    "L-BFGS": lambda steps: LBFGS(steps=steps),
    "BFGS": lambda steps: BFGS(steps=steps),
    "SSBFGS": lambda steps: BFGS(steps=steps, update="ssbfgs"),
    "SSBroyden": lambda steps: BFGS(steps=steps, update="ssbroyden"),
    "Gauss-Newton": lambda steps: GaussNewton(steps=max(1, steps // GAUSS_NEWTON_SHARE)),
}
#: Quasi-Newton steps one Gauss-Newton step stands in for (and how much more often its error is measured).
GAUSS_NEWTON_SHARE = 20
COLOURS = {"L-BFGS": "C0", "BFGS": "C1", "SSBFGS": "C2", "SSBroyden": "C3", "Gauss-Newton": "C4"}


class Curve:
    """The model's error against the reference every ``every`` steps (every ``later`` steps after step
    ``switch``), with the training time then (the time its own measurements took left out)."""

    def __init__(self, problem: Problem, grid: GridSolution, every: int, later: int, switch: int) -> None:
        self.problem, self.grid, self.every, self.later, self.switch = problem, grid, every, later, switch
        self.points: list[tuple[int, float, float]] = []  # (step, seconds, rel_l2)

    def __call__(self, model: object) -> Callable[[int, Mapping[str, float]], None]:
        self.model, self.start, self.measuring = model, time.perf_counter(), 0.0
        return self.step

    def step(self, step: int, record: Mapping[str, float]) -> None:
        if (step - self.switch) % self.later if step > self.switch else step % self.every:
            return
        begin = time.perf_counter()
        exact = self.problem.exact_values if self.problem.exact is not None else None
        error = compare(self.model, self.grid, outputs=self.problem.outputs, exact=exact,  # type: ignore[arg-type]
                        time_axis=self.problem.time).rel_l2
        self.points.append((step, begin - self.start - self.measuring, error))
        self.measuring += time.perf_counter() - begin


def swapped(stages: tuple[object, ...], make: Callable[[int], Stage]) -> tuple[object, ...]:
    """The stages with every quasi-Newton stage replaced by ``make(steps)``."""
    return tuple(make(s.steps) if isinstance(s, (BFGS, LBFGS)) else s for s in stages)


def steps_before_swap(stages: tuple[object, ...]) -> int:
    """Steps of the stages before the first quasi-Newton one."""
    first = next(i for i, s in enumerate(stages) if isinstance(s, (BFGS, LBFGS)))
    return sum(s.steps for s in stages[:first])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["heat1d", "burgers1d", "helmholtz2d"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS), choices=list(OPTIMIZERS))
    parser.add_argument("--every", type=int, default=50, help="steps between error measurements")
    parser.add_argument("--dtype", choices=("float32", "float64"), help="precision (default: each setup's)")
    parser.add_argument("--out", default="benchmarks/optimizers.json")
    parser.add_argument(
        "--merge", nargs="+", metavar="FILE", help="run nothing: take the rows of these files (runs written with "
        "--out elsewhere, e.g. one per core at once) into --out, and draw it again"
    )
    args = parser.parse_args()
    out = Path(args.out)
    rows: list[dict[str, object]] = []
    if args.merge:
        rows = [r for path in args.merge for r in json.loads(Path(path).read_text())["rows"]]
    done = {(r["problem"], r["optimizer"], r["seed"]) for r in rows} if args.merge else \
        {(p, o, s) for p in args.problems for o in args.optimizers for s in args.seeds}
    # Runs of other problems, optimizers or seeds are kept from the file: a subset refreshes its own rows only.
    kept = [r for r in json.loads(out.read_text())["rows"] if (r["problem"], r["optimizer"], r["seed"]) not in done] \
        if out.is_file() else []
    for name in [] if args.merge else args.problems:
        spec = load_problem(name)
        grid = reference_solution(spec.problem)
        for optimizer in args.optimizers:
            setup = replace(spec.setup, stages=swapped(spec.setup.stages, OPTIMIZERS[optimizer]), tolerance=None)
            later = max(1, args.every // GAUSS_NEWTON_SHARE) if optimizer == "Gauss-Newton" else args.every
            for seed in args.seeds:
                curve = Curve(spec.problem, grid, args.every, later, steps_before_swap(spec.setup.stages))
                solution = solved(spec.problem, setup, seed=seed, dtype=args.dtype, progress=False, monitor=curve)
                seconds = solution.train.seconds - curve.measuring
                if not curve.points or curve.points[-1][0] != solution.train.steps:  # the end of training too
                    curve.points.append((solution.train.steps, seconds, solution.comparison.rel_l2))
                rows.append({
                    "problem": name, "optimizer": optimizer, "seed": seed, "dtype": str(solution.dtype),
                    "threads": torch.get_num_threads(),
                    "rel_l2": solution.comparison.rel_l2, "train_seconds": solution.train.seconds,
                    "measuring_seconds": curve.measuring, "steps": solution.train.steps,
                    "message": solution.train.message, "curve": curve.points,
                })
                r = rows[-1]
                print(f"{name:12s} {optimizer:10s} seed {seed}: rel_l2 {r['rel_l2']:.2e}  "
                      f"{r['train_seconds'] - r['measuring_seconds']:.0f} s  {r['steps']} steps", flush=True)
    for row in rows:
        row["seconds"] = row["train_seconds"] - row["measuring_seconds"]
    problems = list(dict.fromkeys(r["problem"] for r in kept + rows))
    rows = sorted(kept + rows, key=lambda r: (problems.index(r["problem"]), list(OPTIMIZERS).index(r["optimizer"]),
                                              r["seed"]))
    print(markdown(rows, ["problem", "optimizer", "seed", "rel_l2", "seconds", "steps"]))
    save(rows, args.out, study="error against training time, Adam followed by each quasi-Newton method",
         every=args.every)
    draw(rows, Path(args.out).with_suffix(".png"))


def draw(rows: list[dict[str, object]], path: Path) -> None:
    """One panel per problem: relative L2 error (log) against training seconds, a colour per optimizer."""
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    fig, axes = plt.subplots(1, len(problems), figsize=(4.6 * len(problems), 3.8), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        for row in (r for r in rows if r["problem"] == problem):
            _, seconds, errors = zip(*row["curve"]) if row["curve"] else ((), (), ())
            ax.semilogy(seconds, errors, color=COLOURS[row["optimizer"]], lw=1.1, alpha=0.85)
        ax.set_title(f"{problem} ({_dtype(rows, problem)}, {_threads(rows, problem)})")
        ax.set_xlabel("training time (s), error measurements excluded")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("relative L2 error against the reference")
    # One legend for the figure, with every optimizer run in any panel
    shown = [o for o in COLOURS if any(r["optimizer"] == o for r in rows)]
    handles = [plt.Line2D([], [], color=COLOURS[o], lw=1.5) for o in shown]
    axes[0][0].legend(handles, shown, loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")


def _threads(rows: list[dict[str, object]], problem: str) -> str:
    """The torch threads of a problem's runs (rows measured before they were recorded: 2, this machine's cores)."""
    counts = sorted({int(r.get("threads", 2)) for r in rows if r["problem"] == problem})  # type: ignore[call-overload]
    return "/".join(map(str, counts)) + (" thread" if counts == [1] else " threads")


def _dtype(rows: list[dict[str, object]], problem: str) -> str:
    return str(next(r["dtype"] for r in rows if r["problem"] == problem)).removeprefix("torch.")


if __name__ == "__main__":
    main()
