"""Figures: solution/reference/error maps, error over time, loss history, KAN edges and diagram.

The only module that imports matplotlib. Figures are drawn on the Agg canvas
directly, so nothing touches pyplot's global state.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .compare import Comparison
from .kan_tools.pruning import edge_scores
from .models.kan import KAN
from .training.fit import FitResult
from .training.trainer import History

__all__ = [
    "plot_solution",
    "plot_error_over_time",
    "plot_history",
    "plot_activations",
    "plot_network",
    "plot_fit_history",
    "plot_fit_prediction",
]

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


def plot_activations(model: KAN, x: torch.Tensor, path: PathLike, *, max_edges: int = 48) -> None:
    """Every live edge function of a KAN on the values that reach it from inputs ``x``.

    One block of panels per layer; each panel shows ``phi_ij`` against its input
    with the edge's importance score (see :mod:`pinnkan.pruning`) in the title and
    as the line's opacity. Locked edges are labelled with their library function.
    Layers with more than ``max_edges`` live edges show the most important ones.
    """
    if not isinstance(model, KAN):
        raise TypeError(f"plot_activations draws B-spline KAN edges, got {type(model).__name__}")
    with torch.no_grad():
        inputs = model.layer_inputs(x)
        values = model.edge_values(x)
        scores = edge_scores(model, x)
    columns = 6
    blocks = []
    for level, (layer, score) in enumerate(zip(model.layers, scores)):
        live = [(i, j) for i, j in torch.nonzero(layer.edge_mask).tolist()]
        live.sort(key=lambda e: -float(score[e[0], e[1]]))
        blocks.append((level, live[:max_edges], len(live)))
    rows = sum(max(1, math.ceil(len(edges) / columns)) for _, edges, _ in blocks)
    fig = Figure(figsize=(2.2 * columns, 1.9 * rows + 0.6), layout="constrained")
    grid = fig.add_gridspec(rows, columns)
    row = 0
    top = max((float(s.max()) for s in scores), default=1.0) or 1.0
    for level, edges, total in blocks:
        names = {(i, j): name for i, j, name in model.layers[level].symbolic}
        for k, (i, j) in enumerate(edges):
            ax = fig.add_subplot(grid[row + k // columns, k % columns])
            h = inputs[level][:, i].cpu().numpy()
            order = np.argsort(h)
            alpha = 0.25 + 0.75 * min(1.0, float(scores[level][i, j]) / top)
            ax.plot(h[order], values[level][:, i, j].cpu().numpy()[order], color="C0", alpha=alpha)
            label = f" {names[(i, j)]}" if (i, j) in names else ""
            ax.set_title(f"L{level} {i}->{j}{label}  s={float(scores[level][i, j]):.2g}", fontsize=8)
            ax.tick_params(labelsize=7)
        if total > len(edges):
            fig.text(0.01, 1 - (row + 0.5) / rows, f"layer {level}: top {len(edges)} of {total}", fontsize=8)
        row += max(1, math.ceil(len(edges) / columns))
    fig.suptitle(f"{model.describe()}: edge functions")
    _save(fig, path)


def plot_network(model: KAN, x: torch.Tensor, path: PathLike, *, names: list[str] | None = None) -> None:
    """A diagram of a KAN: nodes by layer, edges drawn with opacity and width by importance."""
    if not isinstance(model, KAN):
        raise TypeError(f"plot_network draws a B-spline KAN, got {type(model).__name__}")
    names = names or [f"x{k + 1}" for k in range(model.in_features)]
    if len(names) != model.in_features:
        raise ValueError(f"give {model.in_features} input names, got {len(names)}")
    with torch.no_grad():
        scores = edge_scores(model, x)
    widest = max(model.widths)
    position = [np.linspace(0, 1, w + 2)[1:-1] if w < widest else np.linspace(0, 1, w) for w in model.widths]
    fig = Figure(figsize=(max(4.0, 0.6 * widest + 2), 1.6 * len(model.widths) + 0.5), layout="constrained")
    ax = fig.add_subplot()
    top = max(float(s.max()) for s in scores) or 1.0
    for level, (layer, score) in enumerate(zip(model.layers, scores)):
        names_of = {(i, j): name for i, j, name in layer.symbolic}
        for i, j in torch.nonzero(layer.edge_mask).tolist():
            weight = min(1.0, float(score[i, j]) / top)
            xs, ys = [position[level][i], position[level + 1][j]], [level, level + 1]
            ax.plot(xs, ys, color="k", alpha=0.1 + 0.9 * weight, lw=0.5 + 2.5 * weight)
            if (i, j) in names_of:
                ax.text(sum(xs) / 2, level + 0.5, names_of[(i, j)], fontsize=8, ha="center", color="C3")
    for level, xs in enumerate(position):
        ax.scatter(xs, np.full(len(xs), level), s=120, color="white", edgecolor="k", zorder=3)
    for name, xpos in zip(names, position[0]):
        ax.text(xpos, -0.25, name, ha="center", va="top", fontsize=9)
    ax.set_ylim(-0.6, len(model.widths) - 0.5)
    ax.set_axis_off()
    ax.set_title(model.describe())
    _save(fig, path)


def plot_fit_history(result: FitResult, path: PathLike) -> None:
    """Training and validation loss per step (log scale), with the learning rate below."""
    if not result.train_loss:
        raise ValueError("the fit made no step; nothing to draw")
    fig = Figure(figsize=(7, 5.5), layout="constrained")
    loss_ax, lr_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    steps = np.arange(1, len(result.train_loss) + 1)
    loss_ax.semilogy(steps, result.train_loss, label="train", lw=0.8)
    loss_ax.semilogy(steps, result.val_loss, label="validation", lw=0.8)
    loss_ax.axvline(result.best_step, color="grey", ls=":", lw=0.8, label=f"best validation {result.best_val:.2e}")
    loss_ax.set_ylabel("mean-square error")
    loss_ax.legend()
    loss_ax.grid(True, which="both", alpha=0.3)
    lr_ax.semilogy(steps, result.lr)
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_xlabel("step")
    _save(fig, path)


def plot_fit_prediction(
    x: np.ndarray,
    target: np.ndarray,
    prediction: np.ndarray,
    path: PathLike,
    *,
    curve: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """Target against prediction: curves over x for 1-D inputs, a parity plot otherwise.

    Parameters
    ----------
    x : array, shape (N, d)
        Sample inputs.
    target, prediction : array, shape (N,)
    curve : (x_fine, target_fine, prediction_fine), optional
        Dense 1-D curves to draw under the samples.
    """
    x, target, prediction = np.asarray(x), np.ravel(target), np.ravel(prediction)
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    if x.ndim == 2 and x.shape[1] == 1:
        if curve is not None:
            left.plot(curve[0], curve[1], label="target", lw=1.5)
            left.plot(curve[0], curve[2], "--", label="prediction", lw=1.2)
        left.plot(x[:, 0], target, ".", ms=3, label="samples")
        left.set_xlabel("x")
        left.legend()
        order = np.argsort(x[:, 0])
        right.plot(x[order, 0], prediction[order] - target[order])
        right.set_xlabel("x")
        right.set_title("prediction - target")
    else:
        left.plot(target, prediction, ".", ms=3)
        span = [float(min(target.min(), prediction.min())), float(max(target.max(), prediction.max()))]
        left.plot(span, span, "k-", lw=0.8)
        left.set_xlabel("target")
        left.set_ylabel("prediction")
        right.hist(prediction - target, bins=50)
        right.set_xlabel("prediction - target")
    mse = float(np.mean((prediction - target) ** 2))
    fig.suptitle(f"mean-square error {mse:.2e}")
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
