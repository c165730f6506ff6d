"""heat1d with other approximators and with grid extension, under the same stages.

Variants: the default B-spline KAN; the same with ``ExtendGrid(10)`` and a second
BFGS stage; the KAN with that same step budget but no extension; the Chebyshev KAN
and the MLP with the default stages (what ``pinnkan solve heat1d --model NAME``
runs). Prints a table and writes ``benchmarks/variants_study.json``. Usage::

    python scripts/variants_study.py [--dtype float64] [--seeds 0] [--variants kan mlp ...]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch
from _study import solved

from pinnkan import ChebyKANSpec, MLPSpec, load_problem
from pinnkan.run.folder import versions
from pinnkan.run.setup import Setup


def variants(setup: Setup) -> dict[str, Setup]:
    extended = setup.with_grid_extension([10])
    budget = [s.steps for s in extended.stages if s.steps]
    return {
        "kan": setup,
        "kan_extend10": extended,
        "kan_same_steps": setup.with_steps([budget[0], sum(budget[1:])]),
        "chebykan": replace(setup, model=ChebyKANSpec()),
        "mlp": replace(setup, model=MLPSpec()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--variants", nargs="+", default=None)
    parser.add_argument("--out", default="benchmarks/variants_study.json")
    args = parser.parse_args()
    spec = load_problem("heat1d")
    table = variants(spec.setup)
    names = args.variants or list(table)
    unknown = set(names) - set(table)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {list(table)}")
    rows = []
    for name in names:
        for seed in args.seeds:
            solution = solved(spec.problem, table[name], seed=seed, dtype=args.dtype, progress=False)
            report = solution.report()
            rows.append(
                {
                    "variant": name,
                    "seed": seed,
                    "model": report["model"],
                    "params": report["params"],
                    "rel_l2": report["rel_l2"],
                    "linf": report["linf"],
                    "train_seconds": report["train_seconds"],
                    "steps": report["steps"],
                    "message": report["message"],
                }
            )
            r = rows[-1]
            print(
                f"{name:15s} seed {seed}: {r['model']:28s} rel_l2 {r['rel_l2']:.2e}  linf {r['linf']:.2e}  "
                f"{r['train_seconds']:.1f} s  {r['steps']} steps",
                flush=True,
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dtype": args.dtype, "threads": torch.get_num_threads(), "versions": versions(), "rows": rows}
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
