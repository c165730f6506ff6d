"""Figures: solution/reference/error maps, error over time, loss history, KAN edges and diagram.

The only module that imports matplotlib. Figures are drawn on the Agg canvas
directly, so nothing touches pyplot's global state.
"""

from __future__ import annotations

import io
import itertools
import math
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .compare import Comparison
from .files import atomic_write
from .kan_tools.pruning import edge_scores
from .models.kan import KAN
from .reference.grid import GridSolution
from .training.fit import FitResult
from .training.trainer import History

__all__ = [
    "plot_solution",
    "plot_error_over_time",
    "plot_snapshots",
    "plot_history",
    "plot_activations",
    "plot_network",
    "plot_fit_history",
    "plot_fit_prediction",
]

PathLike = str | os.PathLike[str]

_DPI = 110  # figures are made and saved at this resolution
_VALUES_CMAP = "viridis"  # prediction and reference
_ERROR_CMAP = "RdBu_r"  # the error: diverging, white at zero


def plot_solution(comparison: Comparison, path: PathLike | None = None) -> Figure:
    """Prediction, reference and error of every output, one block of panels per output.

    What is drawn depends on the grid:

    - one axis: reference and prediction (dashed) as lines, and the error;
    - two axes, one of them ``comparison.time_axis``: heat maps with time across and
      space up (the usual space-time picture);
    - two axes without time: heat maps of the plane (first axis across, second up,
      equal aspect); grid points outside the domain stay blank and the domain's
      outline is drawn;
    - three axes, one of them time: the plane at the first, middle and last time
      (rows) for prediction, reference and error (columns); each time has its own
      value scale, the error column one scale for all times.

    Prediction and reference share a colour scale; the error ``prediction - reference``
    has a symmetric diverging one. Each block is titled with the output's name, its
    relative L2 error and its maximum absolute error.

    Parameters
    ----------
    comparison : Comparison
        What :func:`pinnkan.compare.compare` returned.
    path : path, optional
        PNG file to write; None draws the figure without saving it.

    Returns
    -------
    matplotlib.figure.Figure
        One subfigure per output (``fig.subfigs``), for inspection or further saving.
    """
    _check_comparison(comparison, "plot_solution")
    grid = comparison.grid
    kind = _solution_kind(comparison)
    n_out = len(comparison.outputs)
    if kind == "line":
        width, block = 10.0, 3.2
        sizes = [block] * n_out
    elif kind == "spacetime":
        width, block = 13.0, 3.4
        sizes = [block] * n_out
    else:
        h, v = _space_axes(comparison)
        aspect = _aspect(grid.coords[h], grid.coords[v])
        # inches of panel to scale, plus room for titles, tick labels and colour bars
        # (measured from drawn figures, so that the panels fill their slots); a tall
        # domain gets narrow panels in slots kept wide enough for their titles
        if kind == "plane":
            panel = min(3.6, 4.2 / aspect)
            width, block = 3 * max(panel, 2.0) + 3.6, panel * aspect + 0.95
        else:
            panel = min(3.0, 3.6 / aspect)
            rows = len(_snapshot_indices(grid, comparison.time_axis))
            width, block = 3 * max(panel, 1.8) + 3.2, rows * (panel * aspect + 0.4) + 0.65
        sizes = [block] * n_out
    fig = _new_figure((width, sum(sizes)))
    subfigs = fig.subfigures(n_out, 1, squeeze=False, height_ratios=sizes)[:, 0]
    for sub, (name, errors) in zip(subfigs, comparison.outputs.items()):
        title = f"{name}: relative L2 error {errors.rel_l2:.2e}, max error {errors.linf:.2e}"
        if errors.rel_l2_exact is not None and grid.source != "exact":
            title += f" (relative L2 error against the exact solution {errors.rel_l2_exact:.2e})"
        sub.suptitle(title, fontweight="bold")
        reference = np.where(grid.inside, errors.reference, np.nan)
        if kind == "line":
            _draw_lines(sub, grid, name, errors.prediction, reference)
        elif kind == "snapshots":
            _draw_snapshots(sub, comparison, name, errors.prediction, reference)
        else:
            _draw_maps(sub, comparison, kind, name, errors.prediction, reference)
    if path is not None:
        _save(fig, path)
    return fig


def plot_error_over_time(comparison: Comparison, path: PathLike | None = None) -> Figure:
    """Relative L2 error of each time slice, one line per output, on a log scale.

    Returns the figure; writes it to ``path`` when one is given.
    """
    _check_comparison(comparison, "plot_error_over_time")
    if comparison.time_axis is None:
        raise ValueError(
            "this comparison has no time axis; pass time_axis= (a coordinate of the grid) to compare()"
        )
    fig = _new_figure((6.5, 4.2))
    ax = fig.add_subplot()
    for name, errors in comparison.outputs.items():
        ax.semilogy(comparison.times, _positive(errors.error_over_time), label=name, lw=1.2)
    ax.set_xlabel(comparison.time_axis)
    ax.set_ylabel("relative L2 error")
    ax.set_title(f"error per time slice (reference: {comparison.grid.source})")
    ax.legend(title="output")
    ax.grid(True, which="both", alpha=0.3)
    if path is not None:
        _save(fig, path)
    return fig


def plot_snapshots(comparison: Comparison, path: PathLike | None = None, *, times: int = 5) -> Figure:
    """Profiles in space at a few times: reference (solid) and prediction (dashed), one panel per output.

    For a grid of one space axis and the time axis. The times are evenly spread over
    the time axis (first and last included); each has one colour, shared by its
    reference and prediction lines.

    Parameters
    ----------
    comparison : Comparison
        What :func:`pinnkan.compare.compare` returned, with a time axis.
    path : path, optional
        PNG file to write; None draws the figure without saving it.
    times : int
        How many times to draw, at least 2.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_comparison(comparison, "plot_snapshots")
    grid, time_axis = comparison.grid, comparison.time_axis
    if time_axis is None or len(grid.axes) != 2:
        raise ValueError(
            f"plot_snapshots draws grids of one space axis and a time axis; this one has axes {grid.axes} "
            f"and time axis {time_axis!r} (use plot_solution for planes)"
        )
    if isinstance(times, bool) or not isinstance(times, int) or times < 2:
        raise ValueError(f"times must be an int >= 2, got {times!r}")
    t = grid.axes.index(time_axis)
    space = grid.axes[1 - t]
    x, stamps = grid.coords[1 - t], grid.coords[t]
    indices = sorted({round(i) for i in np.linspace(0, len(stamps) - 1, min(times, len(stamps)))})
    names = list(comparison.outputs)
    fig = _new_figure((5.2 * len(names) + 1.6, 4.0))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        errors = comparison.outputs[name]
        for colour, k in enumerate(indices):
            ref = np.take(np.where(grid.inside, errors.reference, np.nan), k, axis=t)
            pred = np.take(errors.prediction, k, axis=t)
            ax.plot(x, ref, color=f"C{colour}", lw=1.8, alpha=0.6, label=f"{time_axis} = {stamps[k]:.3g}")
            ax.plot(x, pred, color=f"C{colour}", lw=1.1, ls="--")
        ax.set_xlabel(space)
        ax.set_ylabel(name)
        ax.set_title(f"{name}: reference (solid, {grid.source}) and prediction (dashed)", fontsize="medium")
        ax.grid(True, alpha=0.3)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    if path is not None:
        _save(fig, path)
    return fig


def plot_history(history: History, path: PathLike | None = None) -> Figure:
    """Every loss term and the total per step (log scale), with the extra figures below.

    The history's extra figures (keys with a ``/``) get panels of their own,
    sharing the step axis: the weighting's figures (``weight/...``,
    ``causal_min/...``, ``attention_max/...`` and any other; log scale when
    they span more than a decade), then
    the learned coefficients (``coef/...``, linear scale). Dotted lines mark
    where a new training stage begins.

    Returns the figure; writes it to ``path`` when one is given.
    """
    if not isinstance(history, History):
        raise TypeError(f"plot_history takes a training History, got {type(history).__name__}")
    if not history.records:
        raise ValueError("the history is empty (no training step was recorded); train first")
    for i, record in enumerate(history.records):
        if "step" not in record or "total" not in record:
            raise ValueError(f"history record {i} lacks 'step' or 'total'; every record needs both")
    keys = list(dict.fromkeys(k for r in history.records for k in r))
    terms = [k for k in keys if k not in ("step", "stage", "total") and "/" not in k]
    coefs = [k for k in keys if k.startswith("coef/")]
    weights = [k for k in keys if "/" in k and not k.startswith("coef/")]
    panels = 1 + bool(weights) + bool(coefs)
    fig = _new_figure((7.5, 4.5 + 2.4 * (panels - 1)))
    axes = list(fig.subplots(panels, 1, sharex=True, squeeze=False, height_ratios=(3, 2, 2)[:panels])[:, 0])
    # a term keeps its colour on every panel: weight/pde is drawn in the colour of pde
    colour = {name: f"C{i % 10}" for i, name in enumerate(["total", *terms])}
    loss_ax = axes[0]
    for name in ["total", *terms]:
        steps, values = _series(history, name)
        lw = 1.4 if name == "total" else 0.8
        label = "total (weighted)" if name == "total" and weights else name
        loss_ax.semilogy(steps, _positive(np.abs(values)), label=label, color=colour[name], lw=lw)
    loss_ax.set_ylabel("loss")
    _legend(loss_ax, len(terms) + 1)
    panel = 1
    if weights:
        ax = axes[panel]
        families = list(dict.fromkeys(name.split("/", 1)[0] for name in weights))
        for name in weights:
            family, term = name.split("/", 1)
            style = ("-", "--", "-.")[families.index(family) % 3]  # dotted lines mark stages
            ax.semilogy(*_series(history, name, positive=True), style, label=name, color=colour.get(term), lw=0.9)
        shown = np.concatenate([line.get_ydata() for line in ax.get_lines()])
        shown = shown[np.isfinite(shown)]  # weights that underflowed to zero are left out of a log axis
        if shown.size and shown.max() < 10 * shown.min():  # within a decade a log axis only adds clutter
            ax.set_yscale("linear")
        ax.set_ylabel("weighting")
        _legend(ax, len(weights))
        panel += 1
    if coefs:
        ax = axes[panel]
        for name in coefs:
            ax.plot(*_series(history, name), label=name.removeprefix("coef/"), lw=1.2)
        ax.set_ylabel("learned coefficient")
        _legend(ax, len(coefs))
    starts = _stage_starts(history)
    for ax in axes:
        for boundary in starts:
            ax.axvline(boundary, color="grey", ls=":", lw=0.8)
        ax.grid(True, which="both", alpha=0.3)
    axes[-1].set_xlabel("step")
    if path is not None:
        _save(fig, path)
    return fig


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


def _check_comparison(comparison: object, caller: str) -> None:
    if not isinstance(comparison, Comparison):
        raise TypeError(f"{caller} takes the Comparison that compare() returns, got {type(comparison).__name__}")


def _solution_kind(comparison: Comparison) -> str:
    """'line', 'spacetime', 'plane' or 'snapshots', or a ValueError naming what is drawn."""
    axes, time = comparison.grid.axes, comparison.time_axis
    if len(axes) == 1:
        return "line"
    if len(axes) == 2:
        return "plane" if time is None else "spacetime"
    if len(axes) == 3 and time is not None:
        return "snapshots"
    raise ValueError(
        f"plot_solution draws grids with 1 axis, 2 axes (space-time or a plane) or 3 axes of which one is "
        f"time (a plane over time); this grid has axes {axes}"
        + ("" if len(axes) != 3 else " and no time axis: pass time_axis= to compare()")
        + ("" if len(axes) <= 3 else ": slice it to at most 3 axes first")
    )


def _space_axes(comparison: Comparison) -> tuple[int, int]:
    """Indices of the axes drawn across and up for a plane (with or without time)."""
    axes = comparison.grid.axes
    if len(axes) == 2 and comparison.time_axis is not None:
        time = axes.index(comparison.time_axis)
        return time, 1 - time
    space = [i for i, name in enumerate(axes) if name != comparison.time_axis]
    return space[0], space[1]


def _snapshot_indices(grid: GridSolution, time_axis: str | None) -> list[int]:
    n = grid.shape[grid.axes.index(time_axis)]
    return sorted({0, (n - 1) // 2, n - 1})


def _aspect(across: np.ndarray, up: np.ndarray) -> float:
    """Height over width of a plane drawn to scale, kept within readable bounds."""
    return float(np.clip((up[-1] - up[0]) / (across[-1] - across[0]), 0.25, 4.0))


def _draw_lines(sub, grid: GridSolution, name: str, prediction: np.ndarray, reference: np.ndarray) -> None:
    x, label = grid.coords[0], grid.axes[0]
    values_ax, error_ax = sub.subplots(1, 2)
    values_ax.plot(x, reference, label=f"reference ({grid.source})", lw=1.6)
    values_ax.plot(x, prediction, "--", label="prediction", lw=1.4)
    values_ax.set_xlabel(label)
    values_ax.set_ylabel(name)
    values_ax.set_title("prediction and reference")
    values_ax.legend()
    error = prediction - reference
    error_ax.plot(x, error, color="C3", lw=1.2)
    error_ax.axhline(0.0, color="grey", lw=0.6)
    lo, hi = _symmetric(error)
    error_ax.set_ylim(1.05 * lo, 1.05 * hi)
    error_ax.set_xlabel(label)
    error_ax.set_ylabel(f"error in {name}")
    error_ax.set_title("prediction - reference")
    for ax in (values_ax, error_ax):
        ax.grid(True, alpha=0.3)


def _draw_maps(
    sub, comparison: Comparison, kind: str, name: str, prediction: np.ndarray, reference: np.ndarray
) -> None:
    """One row: prediction, reference, error as heat maps."""
    grid = comparison.grid
    h, v = _space_axes(comparison)
    inside = grid.inside if (h, v) == (0, 1) else grid.inside.T
    pred, ref = (a if (h, v) == (0, 1) else a.T for a in (prediction, reference))
    axes = sub.subplots(1, 3, sharex=True, sharey=True)
    lo, hi = _value_limits(pred, ref)
    panels = [
        ("prediction", pred, _VALUES_CMAP, (lo, hi)),
        (f"reference ({grid.source})", ref, _VALUES_CMAP, (lo, hi)),
        ("prediction - reference", pred - ref, _ERROR_CMAP, _symmetric(pred - ref)),
    ]
    meshes = []
    for ax, (title, values, cmap, limits) in zip(axes, panels):
        meshes.append(_heat_map(ax, grid.coords[h], grid.coords[v], values, inside, cmap, limits, grid.mask is not None))
        ax.set_title(title)
        ax.set_xlabel(grid.axes[h])
        if kind == "plane":
            ax.set_aspect("equal")
    axes[0].set_ylabel(grid.axes[v])
    if kind == "plane":
        # a bar inset into the panel keeps the panel's height when the aspect shrinks it
        sub.colorbar(meshes[1], cax=axes[1].inset_axes((1.04, 0.0, 0.05, 1.0)), label=name)
        sub.colorbar(meshes[2], cax=axes[2].inset_axes((1.04, 0.0, 0.05, 1.0)), label=f"error in {name}")
    else:
        sub.colorbar(meshes[1], ax=list(axes[:2]), label=name, fraction=0.05, pad=0.02)
        sub.colorbar(meshes[2], ax=axes[2], label=f"error in {name}", fraction=0.1, pad=0.02)


def _draw_snapshots(
    sub, comparison: Comparison, name: str, prediction: np.ndarray, reference: np.ndarray
) -> None:
    """Rows of times, columns prediction, reference, error.

    Each row has its own value scale (a decaying solution would leave later rows one
    flat colour on a shared scale); the error column shares one scale, so the rows
    show where the error is largest.
    """
    grid, time_axis = comparison.grid, comparison.time_axis
    t = grid.axes.index(time_axis)  # type: ignore[arg-type]
    h, v = _space_axes(comparison)
    indices = _snapshot_indices(grid, time_axis)
    axes = sub.subplots(len(indices), 3, sharex=True, sharey=True, squeeze=False)
    error_limits = _symmetric(prediction - reference)
    masked = grid.mask is not None
    for row, k in enumerate(indices):
        # np.take drops the time axis; the two space axes keep their order (h before v).
        pred, ref, inside = (np.take(a, k, axis=t) for a in (prediction, reference, grid.inside))
        when = f"{time_axis} = {grid.coords[t][k]:.3g}"
        limits = _value_limits(pred, ref)
        panels = [
            (f"prediction, {when}", pred, _VALUES_CMAP, limits),
            (f"reference, {when}", ref, _VALUES_CMAP, limits),
            (f"error, {when}", pred - ref, _ERROR_CMAP, error_limits),
        ]
        meshes = []
        for col, (title, values, cmap, lims) in enumerate(panels):
            ax = axes[row, col]
            meshes.append(_heat_map(ax, grid.coords[h], grid.coords[v], values, inside, cmap, lims, masked))
            ax.set_title(title, fontsize="medium")
            ax.set_aspect("equal")
            if col == 0:
                ax.set_ylabel(grid.axes[v])
            if row == len(indices) - 1:
                ax.set_xlabel(grid.axes[h])
        sub.colorbar(meshes[1], ax=list(axes[row, :2]), label=f"{name}, {when}", fraction=0.05, pad=0.02)
    # aspect: a colour bar beside several rows runs their full height.
    long = 20 * len(indices)
    sub.colorbar(meshes[2], ax=list(axes[:, 2]), label=f"error in {name}", fraction=0.1, pad=0.02, aspect=long)


def _heat_map(ax, across, up, values, inside, cmap, limits, outline):
    """``values[i, j]`` at ``(across[i], up[j])``; points outside the domain stay blank."""
    shown = np.ma.masked_invalid(np.where(inside, values, np.nan)).T
    mesh = ax.pcolormesh(across, up, shown, cmap=cmap, vmin=limits[0], vmax=limits[1], shading="nearest")
    if outline and not inside.all():
        ax.contour(across, up, inside.T.astype(float), levels=[0.5], colors="0.35", linewidths=0.7)
    return mesh


def _value_limits(*arrays: np.ndarray) -> tuple[float, float]:
    """Common colour limits of arrays, ignoring NaN (outside the domain); never an empty range."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _positive(values) -> np.ndarray:
    """Values for a log axis: zero, negative and non-finite entries left out (NaN)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _series(history: History, key: str, *, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Steps and values of the records that hold ``key`` (extras may start late)."""
    pairs = [(r["step"], r[key]) for r in history.records if key in r]
    steps = np.array([p[0] for p in pairs], dtype=np.float64)
    values = np.array([p[1] for p in pairs], dtype=np.float64)
    return steps, (_positive(values) if positive else values)


def _legend(ax, entries: int) -> None:
    ax.legend(fontsize="small" if entries > 4 else "medium", ncols=1 if entries <= 6 else 2)


def _stage_starts(history: History) -> list[float]:
    """Steps at which the stage differs from the previous record's."""
    records = [r for r in history.records if "stage" in r]
    return [b["step"] for a, b in itertools.pairwise(records) if b["stage"] != a["stage"]]


def _symmetric(values: np.ndarray) -> tuple[float, float]:
    """Colour limits ``(-m, m)`` with ``m`` the largest finite magnitude (NaN outside the domain ignored)."""
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def _new_figure(size: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas, at the dpi it is saved with (so pixel positions match the file)."""
    fig = Figure(figsize=size, dpi=_DPI, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.08, w_pad=0.06)  # room between titles, tick labels
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: PathLike) -> None:
    """Write the figure atomically, in the format its file name asks for (PNG by default)."""
    FigureCanvasAgg(fig)
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=_DPI, format=path.suffix.lstrip(".").lower() or "png")
    atomic_write(path, buffer.getvalue())
