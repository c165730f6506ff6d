"""Soft conditions on Laplace's equation with holes: which loss balance lets them hold.

``poisson_holes`` (PINNacle's Poisson2d-C): ``-laplace(u) = 0`` on the square
[-0.5, 0.5]^2 minus four disks of radius 0.1 centred at (+-0.3, +-0.3), ``u = 1`` on
the square's boundary and ``u = 0`` on the circles, both conditions in the loss
(``hard=False``) and the automatic setup's model, points and stages written out
(KAN [2,32,1] G=5, 1,000 + 200 points, Adam 500 + BFGS 2000, no refinement rounds),
so that only the balance differs. Any constant solves the PDE: a network that finds
one first leaves both conditions half met. Compared: equal weights, gradient-norm
annealing without a lower bound (as it was), with ``min_weight=1`` (as it is), and
NTK weights (the default for soft conditions).

Columns: relative L2 error against the problem's finite-difference reference, the
RMS of each condition on 1,000 fresh points, the RMS PDE residual on the training
points, the term weights at the end and the training time. Prints a markdown table
and writes ``benchmarks/soft_conditions.json``. Usage::

    python scripts/soft_conditions_study.py [--seeds 0] [--dtype float32]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

from _study import markdown, save, solved

from pinnkan import BFGS, NTK, Adam, Fixed, GradNorm, KANSpec, Points, Setup, load_problem

SCHEMES = {
    "equal weights": Fixed(),
    "GradNorm, no lower bound (before)": GradNorm(every=100, min_weight=0.0),
    "GradNorm, min_weight=1 (now)": GradNorm(every=100),
    "NTK (default)": NTK(every=100, points=64),
}
# The automatic setup for this problem, written out: given stages also turn off refinement rounds.
SETUP = Setup(
    model=KANSpec(hidden=(32,), grid_size=5),
    points=Points(interior=1000, boundary=200),
    stages=(Adam(steps=500, lr=1e-2, final_lr=1e-3), BFGS(steps=2000)),
    hard=False,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--out", default="benchmarks/soft_conditions.json")
    args = parser.parse_args()
    problem = load_problem("poisson_holes").problem
    rows = []
    for label, weighting in SCHEMES.items():
        for seed in args.seeds:
            solution = solved(problem, replace(SETUP, weighting=weighting), seed=seed, dtype=args.dtype, progress=False)
            report = solution.report()
            last = solution.train.history.records[-1]
            errors = report["condition_errors"]
            rows.append({
                "case": label,
                "seed": seed,
                "dtype": args.dtype,
                "rel_l2": report["rel_l2"],
                "square_rms": errors["dirichlet_square"]["rms"],
                "holes_rms": errors["dirichlet_holes"]["rms"],
                "pde_rms": math.sqrt(report["final_losses"]["pde"]),
                "weights": {k.removeprefix("weight/"): v for k, v in last.items() if k.startswith("weight/")},
                "train_seconds": report["train_seconds"],
                "steps": report["steps"],
                "setup": report["setup"],
                "message": report["message"],
            })
            r = rows[-1]
            print(f"{label:36s} seed {seed}: rel_l2 {r['rel_l2']:.2e}  square {r['square_rms']:.2e}  "
                  f"holes {r['holes_rms']:.2e}  {r['train_seconds']:.0f} s", flush=True)
    table = [{**r, "weights": ", ".join(f"{k} {v:.3g}" for k, v in r["weights"].items())} for r in rows]
    print(markdown(table, ["case", "seed", "rel_l2", "square_rms", "holes_rms", "pde_rms", "weights", "train_seconds"]))
    save(rows, args.out, study="soft conditions on poisson_holes (PINNacle Poisson2d-C)")


if __name__ == "__main__":
    main()
