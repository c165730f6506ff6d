"""Cost of one training step on heat1d: pinnkan's KAN versus a plain MLP, same engine.

Times forward + residual (u_t, u_xx by nested autograd) + backward for each model
on the same points, interleaving the models so machine noise hits all alike, and
reports the median milliseconds per step and the ratio to the MLP. Prints a table
and writes ``results/step_cost.json``. Usage::

    python scripts/step_cost.py [--points 1000] [--repeats 30] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pinnkan import ConstrainedModel, Points, load_problem
from pinnkan.models.kan import KANSpec
from pinnkan.run.folder import versions
from pinnkan.training.losses import PINNLoss


def mlp(widths: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b, dtype=dtype), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--out", default="results/step_cost.json")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    problem = load_problem("heat1d").problem
    torch.manual_seed(0)
    bounds = tuple(b.tolist() for b in problem.domain.bounds())
    nets = {
        "MLP[2,32,32,32,1] tanh": mlp((2, 32, 32, 32, 1), dtype),
        "KAN[2,32,1] G=5 k=3": KANSpec(hidden=(32,)).build(2, 1, bounds, dtype=dtype),
        "KAN[2,8,8,1] G=5 k=3": KANSpec(hidden=(8, 8)).build(2, 1, bounds, dtype=dtype),
    }
    loss = PINNLoss(problem, (), Points(interior=args.points), rng=np.random.default_rng(0), dtype=dtype)
    models = {name: ConstrainedModel(net, problem.hard_constraint, problem.coordinates) for name, net in nets.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats + 3):
        for name, model in models.items():
            start = time.perf_counter()
            total, _ = loss(model)
            total.backward()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times[next(iter(times))][3:])
    rows = []
    for name, model in models.items():
        ms = 1e3 * statistics.median(times[name][3:])
        params = sum(p.numel() for p in model.parameters())
        rows.append({"model": name, "params": params, "ms_per_step": ms, "ratio_to_mlp": ms / (1e3 * base)})
        print(f"{name:26s} {params:6d} params  {ms:7.2f} ms/step  x{ms / (1e3 * base):.2f} of the MLP")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"points": args.points, "dtype": args.dtype, "threads": torch.get_num_threads(),
               "versions": versions(), "rows": rows}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
