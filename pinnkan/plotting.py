"""Figures: solution/reference/error maps, error over time, loss history.

The only module that imports matplotlib. Figures are drawn on the Agg canvas
directly, so nothing touches pyplot's global state.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .compare import Comparison
from .train import History

__all__ = ["plot_solution", "plot_error_over_time", "plot_history"]

PathLike = str | os.PathLike[str]


def plot_solution(comparison: Comparison, path: PathLike) -> None:
    """Prediction, reference and error side by side (heat maps for 2-D grids, lines for 1-D)."""
    grid = comparison.grid
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    if len(grid.axes) == 1:
        ax = fig.add_subplot(1, 2, 1)
        ax.plot(grid.coords[0], grid.values, label=f"reference ({grid.source})")
        ax.plot(grid.coords[0], comparison.prediction, "--", label="prediction")
        ax.set_xlabel(grid.axes[0])
        ax.legend()
        ax = fig.add_subplot(1, 2, 2)
        ax.plot(grid.coords[0], comparison.error)
        ax.set_xlabel(grid.axes[0])
        ax.set_title("prediction - reference")
    elif len(grid.axes) == 2:
        vmin = min(grid.values.min(), comparison.prediction.min())
        vmax = max(grid.values.max(), comparison.prediction.max())
        panels = [
            ("prediction", comparison.prediction, "viridis", (vmin, vmax)),
            (f"reference ({grid.source})", grid.values, "viridis", (vmin, vmax)),
            ("prediction - reference", comparison.error, "RdBu_r", _symmetric(comparison.error)),
        ]
        for i, (title, values, cmap, (lo, hi)) in enumerate(panels):
            ax = fig.add_subplot(1, 3, i + 1)
            # values are indexed (axis0, axis1): put axis1 (often time) across.
            mesh = ax.pcolormesh(
                grid.coords[1], grid.coords[0], values, cmap=cmap, vmin=lo, vmax=hi, shading="auto"
            )
            fig.colorbar(mesh, ax=ax)
            ax.set_xlabel(grid.axes[1])
            ax.set_ylabel(grid.axes[0])
            ax.set_title(title)
    else:
        raise ValueError(
            f"plot_solution draws 1-D and 2-D grids; this one has axes {grid.axes}: slice it first"
        )
    fig.suptitle(f"relative L2 {comparison.rel_l2:.2e}, max abs error {comparison.linf:.2e}")
    _save(fig, path)


def plot_error_over_time(comparison: Comparison, path: PathLike) -> None:
    """Relative L2 error of each time slice."""
    if comparison.error_over_time is None:
        raise ValueError("this comparison has no time axis; pass time_axis= to compare()")
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.semilogy(comparison.times, comparison.error_over_time)
    ax.set_xlabel(comparison.time_axis)
    ax.set_ylabel("relative L2 error")
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)


def plot_history(history: History, path: PathLike) -> None:
    """Every loss term and the total, per step, on a log scale."""
    if not history.records:
        raise ValueError("the history is empty; train first")
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    steps = history.column("step")
    for name in ["total", *history.term_names]:
        ax.semilogy(steps, np.abs(history.column(name)), label=name, lw=1.2 if name == "total" else 0.8)
    for boundary in _stage_starts(history):
        ax.axvline(boundary, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)


def _stage_starts(history: History) -> list[float]:
    stages = history.column("stage")
    steps = history.column("step")
    return [steps[i] for i in range(1, len(stages)) if stages[i] != stages[i - 1]]


def _symmetric(values: np.ndarray) -> tuple[float, float]:
    m = float(np.max(np.abs(values))) or 1.0
    return -m, m


def _save(fig: Figure, path: PathLike) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
