"""Cost of one training step per derivative engine: KANs at two grid sizes against an MLP.

One step is the heat1d residual (u_t - 0.4 u_xx) on N interior points, its initial
and boundary conditions in the loss (N / 8 points each), the backward pass and an
Adam update. Models: KAN [2,16,16,1] at G = 8 and G = 64, and an MLP [2,h,h,h,1]
with h chosen for about the parameter count of the G = 8 KAN. Engines: nested
autograd, forward jets, and jets with the residuals (forward and backward) through
torch.compile. Every (model, N, engine) is timed once per round and the rounds
interleave them, so the ratios come from one run; the table gives medians over the
rounds after warm-up (compilation happens in the warm-up). Peak memory per 1,000
points is the most that the tensors allocated during one step hold at once, from the
allocations and frees the PyTorch profiler records (exact and repeatable, unlike the
resident set; how the resident set of a whole run behaves is what
``scripts/memory_study.py`` measures). Prints a markdown table and writes
``benchmarks/engines.json``. Usage::

    python scripts/bench_engines.py [--points 1024 4096 16384] [--repeats 20] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pinnkan import KANSpec, MLPSpec, Points, Problem, load_problem
from pinnkan.models.base import ModelSpec
from pinnkan.pde.engines import Autograd, Engine, Jets
from pinnkan.run.folder import versions
from pinnkan.training.losses import PINNLoss

# name -> (engine, compile)
ENGINES: dict[str, tuple[Engine, bool]] = {"autograd": (Autograd(), False), "jet": (Jets(), False), "jet+compile": (Jets(), True)}
KAN_GRIDS = (8, 64)
WARMUP = 3


@dataclass(frozen=True)
class Config:
    """One timed configuration."""

    model: str  # "kan" or "mlp"
    grid_size: int | None
    n_points: int
    engine: str

    def key(self) -> str:
        return f"{self.model}:{self.grid_size}:{self.n_points}:{self.engine}"

    @staticmethod
    def parse(key: str) -> Config:
        model, grid, n, engine = key.split(":")
        return Config(model, None if grid == "None" else int(grid), int(n), engine)


def _params(spec: ModelSpec) -> int:
    return sum(p.numel() for p in spec.build(2, 1, ([0.0, 0.0], [1.0, 1.0])).parameters())


def mlp_like_kan() -> MLPSpec:
    """An MLP [2,h,h,h,1] with about the parameter count of KAN [2,16,16,1] at G = 8."""
    target = _params(KANSpec(hidden=(16, 16), grid_size=KAN_GRIDS[0]))
    width = min(range(4, 200), key=lambda h: abs(_params(MLPSpec(hidden=(h, h, h))) - target))
    return MLPSpec(hidden=(width, width, width))


class Step:
    """A model, its loss on the heat problem and an Adam optimiser: one call is one step.

    All steps share one problem object: torch.compile keeps its compiled variants per
    residual function (eight by default), and a problem loaded afresh brings new functions.
    """

    def __init__(self, config: Config, dtype: torch.dtype, problem: Problem) -> None:
        spec = KANSpec(hidden=(16, 16), grid_size=config.grid_size) if config.model == "kan" else mlp_like_kan()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            bounds = tuple(b.tolist() for b in problem.domain.bounds())
            self.model = spec.build(2, 1, bounds, dtype=dtype)
        points = Points(interior=config.n_points, boundary=max(config.n_points // 8, 1))
        engine, compile = ENGINES[config.engine]
        self.loss = PINNLoss(
            problem, problem.conditions, points, rng=np.random.default_rng(0), dtype=dtype, engine=engine, compile=compile
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.params = sum(p.numel() for p in self.model.parameters())

    def __call__(self) -> float:
        """One step; returns its wall time in seconds."""
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        total, _ = self.loss(self.model)
        total.backward()
        self.optimizer.step()
        return time.perf_counter() - start


def tensor_peak_mib(step: Step, n_points: int) -> float:
    """MiB per 1,000 points that the tensors allocated during one step hold at most at once.

    Each profiled operator's own allocations net of its frees (``self_cpu_memory_usage``,
    which includes the profiler's ``[memory]`` records of frees outside operators) are
    summed in the order the operators started.
    """
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, profile_memory=True) as profile:
        step()
    changes = sorted((e.time_range.start, e.self_cpu_memory_usage) for e in profile.events() if e.self_cpu_memory_usage)
    held = peak = 0
    for _, change in changes:
        held += change
        peak = max(peak, held)
    return peak / 2**20 / (n_points / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", type=int, default=[1024, 4096, 16384])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--out", default="benchmarks/engines.json")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    configs = [
        Config(model, grid, n, engine)
        for n in args.points
        for model, grid in [*(("kan", g) for g in KAN_GRIDS), ("mlp", None)]
        for engine in ENGINES
    ]
    problem = load_problem("heat1d").problem
    steps = {c: Step(c, dtype, problem) for c in configs}
    times: dict[Config, list[float]] = {c: [] for c in configs}
    for _ in range(WARMUP + args.repeats):
        for config, step in steps.items():
            times[config].append(step())
    records = []
    for config, step in steps.items():
        ms = 1e3 * statistics.median(times[config][WARMUP:])
        records.append({
            "model": config.model,
            "grid_size": config.grid_size,
            "n_points": config.n_points,
            "engine": config.engine,
            "params": step.params,
            "step_ms": ms,
            "peak_mib_per_1k_points": tensor_peak_mib(step, config.n_points),
        })
    fastest_mlp = {
        r["n_points"]: min(q["step_ms"] for q in records if q["model"] == "mlp" and q["n_points"] == r["n_points"])
        for r in records
    }
    for r in records:
        r["ratio_to_mlp"] = r["step_ms"] / fastest_mlp[r["n_points"]]
    print("| model | G | N | engine | params | ms/step | x fastest MLP | MiB per 1k points |")
    print("|---|---|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['model']} | {r['grid_size'] or '-'} | {r['n_points']} | {r['engine']} | {r['params']} | "
              f"{r['step_ms']:.1f} | {r['ratio_to_mlp']:.2f} | {r['peak_mib_per_1k_points']:.1f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dtype": args.dtype, "threads": torch.get_num_threads(), "repeats": args.repeats,
               "versions": versions(), "records": records}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
