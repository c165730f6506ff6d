"""Adaptive sampling on Burgers: residual-based refinement against the same steps on fixed points.

Solves ``burgers1d`` (nu = 0.01/pi) with its model (MLP [2,32,32,32,1]) on 2,000
uniform random PDE points and the stages Adam 2000, BFGS 1000, then twice
(Adam 500 at 1e-4, BFGS 1000): on the fixed points, and with residual-based
adaptive refinement that, from step 3,001 on, adds 200 of 100,000 uniform candidates
at every 500th Adam step, so that each addition is followed by a BFGS stage: the
200 with the largest residual (RAR), or 200 drawn with probability
~ |r| / mean |r| + 1 (RAR-D). Prints a markdown table and writes
``benchmarks/adaptive.json``. Usage::

    python scripts/adaptive_study.py [--seeds 0 1 2 3] [--threads 1] [--jobs 2]

Training Burgers' front is chaotic in the seed and in the thread count (summation
order), so the figures are reproduced with the same ``--threads``; ``--jobs 2``
runs the seeds in two processes side by side (the timings then share the cores).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch
from _study import Case, markdown, run, run_in_processes, save

from pinnkan import BFGS, RAR, Adam, Points, UniformRandom, load_problem

STAGES = (
    Adam(steps=2000, lr=1e-2, final_lr=1e-3),
    BFGS(steps=1000),
    Adam(steps=500, lr=1e-4),
    BFGS(steps=1000),
    Adam(steps=500, lr=1e-4),
    BFGS(steps=1000),
)
STRATEGIES = {
    "fixed points": None,
    "RAR: the 200 largest": RAR(every=500, add=200, candidates=50, start=3001),
    "RAR-D: 200 drawn ~ |r| + mean|r|": RAR(every=500, add=200, candidates=50, start=3001, k=1.0, c=1.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the figures depend on it)")
    parser.add_argument("--jobs", type=int, default=1, help="processes, each on a share of the seeds")
    parser.add_argument("--out", default="benchmarks/adaptive.json")
    args = parser.parse_args()
    if args.jobs > 1:
        rows = run_in_processes(["--dtype", args.dtype, "--threads", str(args.threads)], seeds=args.seeds, jobs=args.jobs)
    else:
        torch.set_num_threads(args.threads)
        spec = load_problem("burgers1d")
        base = replace(spec.setup, points=Points(interior=2000, boundary=200, sampler=UniformRandom()), stages=STAGES)
        cases = [Case(label, spec.problem, replace(base, resampling=s)) for label, s in STRATEGIES.items()]
        rows = run(cases, seeds=args.seeds, dtype=args.dtype)
    print(markdown(rows, ["case", "seed", "rel_l2", "linf", "train_seconds", "steps"]))
    save(rows, args.out, study="adaptive sampling on burgers1d")


if __name__ == "__main__":
    main()
