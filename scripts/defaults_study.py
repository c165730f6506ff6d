"""Defaults that work: user problem files without a setup, solved with pinnkan's own choices.

Each file in ``scripts/no_setup/`` defines only ``problem`` (no ``setup``), as a new
user writes it; ``solve`` chooses the model, points, stages, hard constraints,
weighting and refinement. The hard built-in problems (holes, several scales) are
solved the same way, from their problem alone, without the setup their files ship.
Prints a markdown table and writes ``benchmarks/defaults.json``. Usage::

    python scripts/defaults_study.py [--seeds 0] [--dtype float32]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _study import Case, markdown, run, save

from pinnkan import Setup, load_problem

FILES = ("poisson_rectangle", "reaction_diffusion", "heat2d")
BUILT_IN = ("poisson_holes", "heat_multiscale")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--problems", nargs="+", default=[*FILES, *BUILT_IN], choices=(*FILES, *BUILT_IN))
    parser.add_argument("--out", default="benchmarks/defaults.json")
    args = parser.parse_args()
    folder = Path(__file__).parent / "no_setup"
    cases = []
    for name in args.problems:
        if name in BUILT_IN:
            cases.append(Case(name, load_problem(name).problem, Setup()))
        else:
            spec = load_problem(folder / f"{name}.py")
            cases.append(Case(name, spec.problem, spec.setup))
    rows = run(cases, seeds=args.seeds, dtype=args.dtype)
    print(markdown(rows, ["case", "seed", "rel_l2", "error_estimate", "refinements", "train_seconds",
                                "model", "stages"]))
    save(rows, args.out, study="defaults without a setup")


if __name__ == "__main__":
    main()
