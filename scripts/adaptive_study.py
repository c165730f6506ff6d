"""Adaptive sampling on Burgers: residual-based refinement and distribution against fixed points.

Solves ``burgers1d`` (nu = 0.01/pi) with its model and stages but a small set of
1,000 uniform random PDE points, three ways with the same optimiser steps: on the
fixed points, with residual-based adaptive refinement (RAR: the 200 worst of 10
candidates per point added every 400 Adam steps, 1,000 -> 2,000 points) and with
residual-based adaptive distribution (RAD: the 1,000 points redrawn with density
~ |r| / mean |r| + 1 every 400 Adam steps). Prints a markdown table and writes
``benchmarks/adaptive.json``. Usage::

    python scripts/adaptive_study.py [--seeds 0 1 2] [--dtype float32]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from _study import Case, markdown, run, save

from pinnkan import RAD, RAR, Points, UniformRandom, load_problem

STRATEGIES = {
    "fixed points": None,
    "RAR (every 400, +200)": RAR(every=400, add=200),
    "RAD (every 400, k=1, c=1)": RAD(every=400, k=1.0, c=1.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--out", default="benchmarks/adaptive.json")
    args = parser.parse_args()
    spec = load_problem("burgers1d")
    base = replace(spec.setup, points=Points(interior=1000, boundary=200, sampler=UniformRandom()))
    cases = [Case(label, spec.problem, replace(base, resampling=s)) for label, s in STRATEGIES.items()]
    rows = run(cases, seeds=args.seeds, dtype=args.dtype)
    print(markdown(rows, ["case", "seed", "rel_l2", "linf", "train_seconds", "steps"]))
    save(rows, args.out, study="adaptive sampling on burgers1d")


if __name__ == "__main__":
    main()
