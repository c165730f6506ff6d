"""Function-fitting demo: sin(x0) cos(x1) + 0.5 x0^2 from 1,000 Gaussian samples.

Training points x ~ N(0, I_2) with a seeded validation fifth; the test MSE is taken
on 1,000 fresh Gaussian points. Saves the loss curves and target-vs-prediction plot
into --out and prints one JSON object on its last line.

Usage: python scripts/fit_sincos.py [--seed 0] [--steps 6000] [--out results/fit_sincos]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from pinnkan import KAN
from pinnkan.plotting import plot_fit_history, plot_fit_prediction
from pinnkan.training.fit import fit


def target(x: torch.Tensor) -> torch.Tensor:
    return (torch.sin(x[:, 0]) * torch.cos(x[:, 1]) + 0.5 * x[:, 0] ** 2)[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--grid-size", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    parser.add_argument("--out", default="results/fit_sincos")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)
    x = torch.randn(1000, 2, dtype=dtype)
    y = target(x)
    x_test = torch.randn(1000, 2, dtype=dtype)
    y_test = target(x_test)
    # The grid spans the training samples; rarer test points beyond them see the spline tails.
    bounds = (x.min(0).values.tolist(), x.max(0).values.tolist())
    net = KAN((2, args.hidden, 1), grid_size=args.grid_size, input_bounds=bounds, dtype=dtype)
    result = fit(net, x, y, steps=args.steps, lr=1e-2, val_fraction=0.2, plateau_patience=200, batch_size=args.batch_size,
                 seed=args.seed)
    with torch.no_grad():
        prediction = net(x_test)
        test_mse = float(torch.mean((prediction - y_test) ** 2))
    plot_fit_history(result, out / "loss_curves.png")
    plot_fit_prediction(x_test.numpy(), y_test.numpy(), prediction.numpy(), out / "prediction.png")
    report = {
        "test_mse": test_mse,
        "val_mse": result.best_val,
        "train_seconds": result.seconds,
        "steps": result.steps,
        "best_step": result.best_step,
        "model": net.describe(),
        "dtype": args.dtype,
        "seed": args.seed,
        "message": result.message,
    }
    (out / "fit_sincos.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
