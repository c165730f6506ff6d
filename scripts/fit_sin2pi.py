"""Function-fitting demo: sin(2 pi x) from 200 points in [0, 1].

A seeded fifth of the points is held out for validation. Saves the loss curves and
target-vs-prediction plot into --out and prints one JSON object on its last line.

Usage: python scripts/fit_sin2pi.py [--seed 0] [--steps 3000] [--out results/fit_sin2pi]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from pinnkan import KAN
from pinnkan.plotting import plot_fit_history, plot_fit_prediction
from pinnkan.training.fit import fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--grid-size", type=int, default=20)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    parser.add_argument("--out", default="results/fit_sin2pi")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)
    x = torch.rand(200, 1, dtype=dtype)
    y = torch.sin(2 * torch.pi * x)
    net = KAN((1, 1), grid_size=args.grid_size, input_bounds=((0.0,), (1.0,)), dtype=dtype)
    result = fit(net, x, y, steps=args.steps, lr=1e-2, val_fraction=0.2, plateau_patience=50, seed=args.seed)
    with torch.no_grad():
        train_mse = float(torch.mean((net(x) - y) ** 2))
        fine = torch.linspace(0, 1, 1001, dtype=dtype)[:, None]
        prediction = net(x)
        curve = (fine[:, 0].numpy(), torch.sin(2 * torch.pi * fine)[:, 0].numpy(), net(fine)[:, 0].numpy())
    plot_fit_history(result, out / "loss_curves.png")
    plot_fit_prediction(x.numpy(), y.numpy(), prediction.numpy(), out / "prediction.png", curve=curve)
    report = {
        "val_mse": result.best_val,
        "train_mse": train_mse,
        "train_seconds": result.seconds,
        "steps": result.steps,
        "best_step": result.best_step,
        "model": net.describe(),
        "dtype": args.dtype,
        "seed": args.seed,
        "message": result.message,
    }
    (out / "fit_sin2pi.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
