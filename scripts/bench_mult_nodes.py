"""Cost of one training step of a KAN with multiplication nodes against plain KANs.

One step is the heat1d residual (u_t - 0.4 u_xx) on N interior points and its
initial and boundary conditions (N / 8 points each) through
:class:`~pinnkan.training.losses.PINNLoss` with the jets engine, the backward pass
and an Adam update, as in ``scripts/bench_engines.py``. Models, all at G = 8:

* ``plain``: KAN [2,16,16,1], the same node widths as the multiplication model;
* ``mult``: KAN [2,16(8×),16(8×),1], half of every hidden layer multiplies, so
  its layers have 24, 24 and 1 outputs (sum nodes and factor sub-nodes);
* ``plain-wide``: KAN [2,24,24,1], the same layer outputs as ``mult`` (and more edges).

Each model runs with the C spline kernels on and off. Every configuration is timed
once per round and the rounds interleave them; the table gives medians over the
rounds after warm-up and the ratio to the plain KAN with the same kernels. Prints a
markdown table and writes ``benchmarks/mult_nodes.json``. Usage::

    python scripts/bench_mult_nodes.py [--points 4096] [--repeats 30] [--dtype float32] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from bench_engines import WARMUP

from pinnkan import KANSpec, Points, Problem, load_problem
from pinnkan.models.kernel_build import KernelBuild, active_build
from pinnkan.pde.engines import Jets
from pinnkan.run.folder import versions
from pinnkan.training.losses import PINNLoss

GRID = 8
MODELS = {
    "plain": KANSpec(hidden=(16, 16), grid_size=GRID),
    "mult": KANSpec(hidden=(16, 16), grid_size=GRID, mult=(8, 8)),
    "plain-wide": KANSpec(hidden=(24, 24), grid_size=GRID),
}


class Step:
    """A model, its jets loss on the heat problem and Adam; one call is one step under ``build``'s kernels."""

    def __init__(self, spec: KANSpec, n_points: int, dtype: torch.dtype, problem: Problem, build: KernelBuild) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            bounds = tuple(b.tolist() for b in problem.domain.bounds())
            self.model = spec.build(2, 1, bounds, dtype=dtype)
        points = Points(interior=n_points, boundary=max(n_points // 8, 1))
        rng = np.random.default_rng(0)
        self.loss = PINNLoss(problem, problem.conditions, points, rng=rng, dtype=dtype, engine=Jets())
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.build = build
        self.edges = sum(layer.in_features * layer.out_features for layer in self.model.layers)

    def __call__(self) -> float:
        """One step; returns its wall time in seconds."""
        with self.build.active():
            start = time.perf_counter()
            self.optimizer.zero_grad(set_to_none=True)
            total, _ = self.loss(self.model)
            total.backward()
            self.optimizer.step()
            return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, help="PyTorch threads (default: PyTorch's choice)")
    parser.add_argument("--out", default="benchmarks/mult_nodes.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    problem = load_problem("heat1d").problem
    builds = {"on": active_build(), "off": KernelBuild(enabled=False)}
    if not builds["on"].available():
        print(f"the C kernels are not available ({builds['on'].status()}): both columns run PyTorch")
    steps = {
        (name, kernels): Step(spec, args.points, dtype, problem, build)
        for kernels, build in builds.items()
        for name, spec in MODELS.items()
    }
    times: dict[tuple[str, str], list[float]] = {key: [] for key in steps}
    for _ in range(WARMUP + args.repeats):
        for key, step in steps.items():
            times[key].append(step())
    ms = {key: 1e3 * statistics.median(times[key][WARMUP:]) for key in steps}
    records = [
        {
            "model": name,
            "describe": step.model.describe(),
            "kernels": kernels,
            "edges": step.edges,
            "params": sum(p.numel() for p in step.model.parameters()),
            "step_ms": ms[name, kernels],
            "ratio_to_plain": ms[name, kernels] / ms["plain", kernels],
        }
        for (name, kernels), step in steps.items()
    ]
    print(f"| model | kernels | edges | params | ms/step (N={args.points}, {args.dtype}) | x plain |")
    print("|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['describe']} | {r['kernels']} | {r['edges']} | {r['params']} | {r['step_ms']:.1f} | "
              f"{r['ratio_to_plain']:.2f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dtype": args.dtype, "n_points": args.points, "threads": torch.get_num_threads(),
               "repeats": args.repeats, "warmup": WARMUP, "versions": versions(), "records": records,
               "mult_over_plain": {k: ms["mult", k] / ms["plain", k] for k in builds}}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
