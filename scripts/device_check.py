"""Does a run on a GPU (or any other device) train as the same run on the CPU? For a person with a GPU.

Solves each problem twice with the same seed, setup and precision (float64 by
default, where rounding differs least; MPS has no float64, give ``--dtype float32``
there): once on the CPU, once on ``--device`` (``auto``: the first of CUDA and MPS
this machine has). Prints, per problem, the largest relative difference of the loss
histories over the first ``--compare`` steps (later steps drift apart as rounding
differs, as they would between two CPUs), both final errors against the reference,
and the training time per step on each device. On the CPU the B-spline KAN's jets
run on the fused C kernels, on other devices on PyTorch operators, so the check
covers both paths. Usage::

    python scripts/device_check.py [--device auto] [--problems heat1d poisson2d] [--max-steps 150]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import numpy as np

from pinnkan import load_problem, solve
from pinnkan.run.solve import best_device, check_device
from pinnkan.training.stages import Stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="the device to compare with the CPU (default auto)")
    parser.add_argument("--problems", nargs="+", default=["heat1d", "poisson2d"])
    parser.add_argument("--max-steps", type=int, default=150, help="steps of each stage at most")
    parser.add_argument("--compare", type=int, default=50, help="steps whose losses are compared")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    parser.add_argument("--tolerance", type=float, default=1e-6, help="largest relative loss difference accepted")
    args = parser.parse_args()
    device = best_device() if args.device == "auto" else check_device(args.device)
    if device is None or device.type == "cpu":
        print("no GPU here (device auto found the CPU): the check compares the CPU with itself")
    failed = False
    for name in args.problems:
        spec = load_problem(name)
        counts = [min(stage.steps, args.max_steps) for stage in spec.setup.stages if isinstance(stage, Stage)]
        setup = replace(spec.setup.with_steps(counts), tolerance=None)
        other = str(device) if device is not None and device.type != "cpu" else "cpu (again)"
        runs = {label: solve(spec.problem, setup, device=label.split()[0], dtype=args.dtype, progress=False)
                for label in ("cpu", other)}
        losses = [np.array([r["total"] for r in run.train.history.records[: args.compare]]) for run in runs.values()]
        difference = float(np.max(np.abs(losses[1] - losses[0]) / np.abs(losses[0])))
        failed |= not difference <= args.tolerance
        per_step = {where: run.train.seconds / max(run.train.steps, 1) for where, run in runs.items()}
        errors = {where: run.comparison.rel_l2 if run.comparison is not None else float("nan")
                  for where, run in runs.items()}
        print(f"{name:14s} losses over {len(losses[0])} steps differ by {difference:.1e} (relative, at most); "
              + "; ".join(f"{where}: rel_l2 {errors[where]:.2e}, {1e3 * per_step[where]:.1f} ms per step"
                          for where in runs))
    print("same training on both" if not failed else f"losses differ by more than {args.tolerance:g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
