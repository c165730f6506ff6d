"""Loss balancing on Helmholtz: gradient-norm annealing and NTK weights against fixed weights.

Solves ``helmholtz2d`` (u = sin(pi x) sin(4 pi y)) with its boundary condition in
the loss (no hard constraint), once with every weight one, once with gradient-norm
annealing (GradNorm, every 100 Adam steps) and once with NTK weights (every 100 Adam
steps, the default for conditions in the loss), same model, points and stages. Prints a markdown table and writes ``benchmarks/balancing.json``. Usage::

    python scripts/balancing_study.py [--seeds 0] [--dtype float32]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from _study import Case, markdown, run, save

from pinnkan import BFGS, NTK, Adam, Fixed, GradNorm, KANSpec, Points, Setup, load_problem

SCHEMES = {
    "fixed weights (all 1)": Fixed(),
    "GradNorm (every 100)": GradNorm(every=100),
    "NTK (every 100)": NTK(every=100),
}
# The study's own setup (helmholtz2d's shipped one has since grown), the boundary in the loss.
SETUP = Setup(
    model=KANSpec(hidden=(32,), grid_size=10),
    points=Points(interior=2000, boundary=400),
    stages=(Adam(steps=1000, lr=1e-2, final_lr=1e-3), BFGS(steps=3000)),
    hard=False,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--out", default="benchmarks/balancing.json")
    args = parser.parse_args()
    spec = load_problem("helmholtz2d")
    cases = [Case(label, spec.problem, replace(SETUP, weighting=w)) for label, w in SCHEMES.items()]
    rows = run(cases, seeds=args.seeds, dtype=args.dtype)
    for row in rows:
        row["boundary_rms"] = row["condition_errors"]["dirichlet_boundary"]["rms"]
    print(markdown(rows, ["case", "seed", "rel_l2", "boundary_rms", "train_seconds", "steps"]))
    save(rows, args.out, study="loss balancing on helmholtz2d (soft boundary)")


if __name__ == "__main__":
    main()
