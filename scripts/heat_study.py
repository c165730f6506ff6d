"""Accuracy and training time of the built-in heat1d setup, float32 and float64.

Runs ``solve`` on heat1d with its default setup for each dtype and seed, prints a
table and writes ``benchmarks/heat_study.json``. Like the ``pinnkan`` command, it
first makes the C library keep freed memory (:func:`pinnkan.keep_freed_memory`);
``--return-freed-memory`` measures without. Usage::

    python scripts/heat_study.py [--dtypes float32 float64] [--seeds 0 1 2] [--return-freed-memory]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from _study import solved

from pinnkan import keep_freed_memory, load_problem
from pinnkan.run.folder import versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", default="benchmarks/heat_study.json")
    parser.add_argument("--return-freed-memory", action="store_true",
                        help="leave glibc's malloc as it is (the pinnkan command keeps freed memory)")
    args = parser.parse_args()
    kept = not args.return_freed_memory and keep_freed_memory()
    spec = load_problem("heat1d")
    rows = []
    for dtype in args.dtypes:
        for seed in args.seeds:
            solution = solved(spec.problem, spec.setup, seed=seed, dtype=dtype, progress=False)
            report = solution.report()
            rows.append(
                {
                    "dtype": dtype,
                    "seed": seed,
                    "rel_l2": report["rel_l2"],
                    "rel_l2_exact": report["rel_l2_exact"],
                    "linf": report["linf"],
                    "train_seconds": report["train_seconds"],
                    "steps": report["steps"],
                    "ms_per_step": 1e3 * report["train_seconds"] / report["steps"],
                }
            )
            r = rows[-1]
            print(
                f"{dtype:8s} seed {seed}: rel_l2 {r['rel_l2']:.2e}  rel_l2_exact {r['rel_l2_exact']:.2e}  "
                f"linf {r['linf']:.2e}  {r['train_seconds']:.1f} s  {r['steps']} steps  "
                f"{r['ms_per_step']:.1f} ms/step",
                flush=True,
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "setup": spec.setup.describe(),
        "threads": torch.get_num_threads(),
        "freed_memory_kept": kept,
        "versions": versions(),
        "rows": rows,
    }
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
