"""Figures: solution/reference/error maps, named fields on a grid, error over time, loss history, KAN edges and diagram.

The only module that imports matplotlib. Figures are drawn on the Agg canvas
directly, so nothing touches pyplot's global state.
"""

from __future__ import annotations

import io
import itertools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter
from matplotlib.tri import Triangulation

from .compare import Comparison
from .errors import InputTypeError, InputValueError, whole
from .files import atomic_write
from .grid_fields import HEIGHTS, GridFields
from .kan_tools.pruning import edge_scores
from .models.kan import KAN
from .reference.grid import GridSolution
from .reference.scattered import ScatteredSolution
from .training.fit import FitResult
from .training.trainer import RECORD_KEYS, History

__all__ = [
    "plot_solution",
    "plot_fields",
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
# plot_fields: the colour map of each kind of field (see its docstring)
_FIELD_CMAPS = {"values": _VALUES_CMAP, "signed": _ERROR_CMAP, "magnitude": "magma_r"}
# A magnitude whose largest value exceeds this many times its 99th percentile is drawn up to
# that percentile (e.g. the residual of a hard constraint on the domain's edges, where its
# distance function is not smooth).
_SPIKE = 10.0


def plot_solution(comparison: Comparison, path: PathLike | None = None, *,
                  inside: Callable[[np.ndarray], np.ndarray] | None = None) -> Figure:
    """Prediction, reference and error of every output, one block of panels per output.

    What is drawn of a grid reference (the same rules as :func:`plot_fields`):

    - one axis: reference and prediction (dashed) as lines, and the error;
    - two axes, one of them ``comparison.time_axis``: heat maps with time across and
      space up (the usual space-time picture);
    - two axes without time: heat maps of the plane (first axis across, second up,
      equal aspect); grid points outside the domain stay blank and the domain's
      outline is drawn;
    - two or more space axes and time: the plane of the first two space axes at the
      first, middle and last time (rows), the third space axis (if any) held at the
      grid point nearest the middle of its range; each time has its own value scale,
      the error column one scale for all times (a scale per time when the error's
      size changes more than tenfold between them);
    - three or more space axes without time: the plane of the first two space axes
      (``x`` across, ``y`` up) at a quarter, half and three quarters of the third
      axis's range (``z``; rows, grid points nearest those heights; every height of
      a grid of three or fewer), further axes held at the middle; one value scale
      for all rows. Every panel shows the same plane, so the rows compare directly
      (three orthogonal planes would not), and cuts away from the bounding box's
      faces cross the domain (a ball's top plane would hold a single point).

    A scattered reference (:class:`~pinnkan.reference.scattered.ScatteredSolution`) is
    drawn at its own points: of one axis as lines; of two axes (a plane, or space and
    time) as maps on triangles (the reference's own, or a Delaunay triangulation whose
    triangles outside the domain are left out); of two space axes and time, with the
    same space points at every time, as maps at the first, middle and last time.

    Prediction and reference share a colour scale; the error ``prediction - reference``
    has a symmetric diverging one. Each block is titled with the output's name, its
    relative L2 error and its maximum absolute error; each panel of a cut names where
    it is cut (``prediction, z = 0.5``).

    Parameters
    ----------
    comparison : Comparison
        What :func:`pinnkan.compare.compare` returned.
    path : path, optional
        PNG file to write; None draws the figure without saving it.
    inside : callable, optional
        ``inside(points (K, 2)) -> bool (K,)`` of the domain (``problem.domain.inside``):
        triangles of a scattered reference whose centre is outside are left blank.

    Returns
    -------
    matplotlib.figure.Figure
        One subfigure per output (``fig.subfigs``), for inspection or further saving.
    """
    _check_comparison(comparison, "plot_solution")
    if isinstance(comparison.reference, ScatteredSolution):
        fig = _scattered_solution(comparison, inside)
        if path is not None:
            _save(fig, path)
        return fig
    grid = comparison.reference
    layout = _layout(grid.axes, grid.coords, comparison.time_axis)
    n_out = len(comparison.outputs)
    if layout.kind == "line":
        width, block = 10.0, 3.2
    elif layout.kind == "spacetime":
        width, block = 13.0, 3.4
    else:
        cut = layout.cuts[0]
        aspect = _aspect(grid.coords[cut.across], grid.coords[cut.up])
        # inches of panel to scale, plus room for titles, tick labels and colour bars
        # (measured from drawn figures, so that the panels fill their slots); a tall
        # domain gets narrow panels in slots kept wide enough for their titles
        if layout.kind == "plane":
            panel = min(3.6, 4.2 / aspect)
            width, block = 3 * max(panel, 2.0) + 3.6, panel * aspect + 0.95
        else:
            panel = min(3.0, 3.6 / aspect)
            width, block = 3 * max(panel, 1.8) + 3.2, len(layout.cuts) * (panel * aspect + 0.4) + 0.65
    sizes = [block] * n_out
    fig = _new_figure((width, sum(sizes)))
    subfigs = fig.subfigures(n_out, 1, squeeze=False, height_ratios=sizes)[:, 0]
    for sub, (name, errors) in zip(subfigs, comparison.outputs.items()):
        title = f"{name}: relative L2 error {errors.rel_l2:.2e}, max error {errors.linf:.2e}"
        if errors.rel_l2_exact is not None and grid.source != "exact":
            title += f" (relative L2 error against the exact solution {errors.rel_l2_exact:.2e})"
        sub.suptitle(title, fontweight="bold")
        reference = np.where(grid.inside, errors.reference, np.nan)
        if layout.kind == "line":
            _draw_lines(sub, grid.coords[0], grid.axes[0], grid.source, name, errors.prediction, reference)
        elif layout.kind in ("plane", "spacetime"):
            _draw_maps(sub, grid, layout, name, errors.prediction, reference)
        else:
            _draw_cuts(sub, grid, layout, name, errors.prediction, reference)
    if path is not None:
        _save(fig, path)
    return fig


def plot_fields(fields: GridFields, path: PathLike | None = None, *, title: str | None = None) -> Figure:
    """Named fields on a grid (prediction, |residual|, estimated error, ...), each field's panels in a row.

    The grid is cut as in :func:`plot_solution`: lines for one axis; one heat map
    per field for a plane (to scale) or for space and time (time across), the
    fields side by side; for two or more space axes and time, the plane of the
    first two at the first, middle and last time (a third space axis held at its
    middle); for three or more space axes without time, that plane at a quarter,
    half and three quarters of the third axis's range (every height when the grid
    holds three or fewer, as :func:`pinnkan.run.figures.model_fields` makes it).
    With several cuts each field gets a row, its cuts across, so one field reads
    as one line of a page. An axis of a single point is held there (its value is
    named in the panel titles). Points outside the domain stay blank and the
    domain's outline is drawn.

    The colour scale follows the field's kind (``fields.kinds``):

    - ``"values"``: viridis over the finite range; over time each row has its own
      scale (a decaying solution would leave later rows one flat colour);
    - ``"signed"``: RdBu_r, symmetric about zero (white at zero);
    - ``"magnitude"``: magma_r from zero (pale at zero, dark where large), up to the
      largest value. When that is more than ten times the 99th percentile (a few
      points far above all others, such as the residual on the edges of a domain
      where a hard constraint's distance function is not smooth), the scale stops at
      the 99th percentile: larger values take the darkest colour, the bar gets an
      arrow and its label the largest value. When the median is below 1/100 of the
      top, the scale is logarithmic instead, down to the 1st percentile (at most six
      decades), smaller values in the palest colour: a linear scale would show one
      hot spot and leave most of the domain at its bottom colour. Along one axis,
      the same rules choose a linear axis from zero or a log axis.

    Every field keeps one scale over all its cuts (one colour bar at the end of its
    row) except, over time, ``"values"`` and any field whose largest magnitude
    changes more than tenfold between the times drawn (an error that decays with the
    solution): those get a bar per panel. Colour bars are labelled with the field's
    name; plot axes with the coordinate names.

    Parameters
    ----------
    fields : GridFields
        What to draw, e.g. from :func:`pinnkan.run.figures.model_fields`.
    path : path, optional
        PNG file to write; None draws the figure without saving it.
    title : str, optional
        Title over all panels.

    Returns
    -------
    matplotlib.figure.Figure
        The panels are the first of ``fig.axes``, row by row (colour bars are inset
        into them or follow them).

    Examples
    --------
    >>> x = np.linspace(0, 1, 11)
    >>> f = GridFields(("x", "y"), (x, x), {"u": np.add.outer(x, x)}, {"u": "values"})
    >>> fig = plot_fields(f, title="u = x + y")
    """
    if not isinstance(fields, GridFields):
        raise InputTypeError(f"plot_fields takes a GridFields (pinnkan.grid_fields), got {type(fields).__name__}")
    if title is not None and not isinstance(title, str):
        raise InputTypeError(f"title must be a str or None, got {type(title).__name__}")
    layout = _layout(fields.axes, fields.coords, fields.time_axis)
    if layout.kind == "line":
        fig = _field_lines(fields, layout.cuts[0])
    else:
        fig = _field_maps(fields, layout)
    if title is not None:
        fig.suptitle(title, fontweight="bold")
    if path is not None:
        _save(fig, path)
    return fig


def plot_error_over_time(comparison: Comparison, path: PathLike | None = None) -> Figure:
    """Relative L2 error of each time slice, one line per output, on a log scale.

    Returns the figure; writes it to ``path`` when one is given.
    """
    _check_comparison(comparison, "plot_error_over_time")
    if comparison.time_axis is None:
        raise InputValueError(
            "this comparison has no time axis; pass time_axis= (a coordinate of the grid) to compare()"
        )
    fig = _new_figure((6.5, 4.2))
    ax = fig.add_subplot()
    for name, errors in comparison.outputs.items():
        ax.semilogy(comparison.times, _positive(errors.error_over_time), label=name, lw=1.2)
    ax.set_xlabel(comparison.time_axis)
    ax.set_ylabel("relative L2 error")
    ax.set_title(f"error per time slice (reference: {comparison.reference.source})")
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
    grid, time_axis = comparison.reference, comparison.time_axis
    if time_axis is None or len(grid.axes) != 2:
        raise InputValueError(
            f"plot_snapshots draws references of one space axis and a time axis; this one has axes {grid.axes} "
            f"and time axis {time_axis!r} (use plot_solution for planes)"
        )
    if not whole(times, 2):
        raise InputValueError(f"times must be an int >= 2, got {times!r}")
    t = grid.axes.index(time_axis)
    space = grid.axes[1 - t]
    names = list(comparison.outputs)
    profiles = _profiles(comparison, t)
    indices = sorted({round(i) for i in np.linspace(0, len(profiles) - 1, min(times, len(profiles)))})
    fig = _new_figure((5.2 * len(names) + 1.6, 4.0))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for colour, k in enumerate(indices):
            stamp, x, ref, pred = profiles[k][0], *profiles[k][1][name]
            ax.plot(x, ref, color=f"C{colour}", lw=1.8, alpha=0.6, label=f"{time_axis} = {stamp:.3g}")
            ax.plot(x, pred, color=f"C{colour}", lw=1.1, ls="--")
        ax.set_xlabel(space)
        ax.set_ylabel(name)
        ax.set_title(f"{name}: reference (solid, {grid.source}) and prediction (dashed)", fontsize="medium")
        ax.grid(True, alpha=0.3)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    if path is not None:
        _save(fig, path)
    return fig


def _profiles(comparison: Comparison, t: int) -> list[tuple[float, dict[str, tuple[np.ndarray, ...]]]]:
    """Per time of a reference of one space axis: (time, output -> (x, reference, prediction))."""
    ref = comparison.reference
    if isinstance(ref, GridSolution):
        x, stamps = ref.coords[1 - t], ref.coords[t]
        return [(float(stamps[k]), {
            name: (x, np.take(np.where(ref.inside, e.reference, np.nan), k, axis=t), np.take(e.prediction, k, axis=t))
            for name, e in comparison.outputs.items()}) for k in range(stamps.size)]
    series = ref.snapshots(ref.axes[t])
    if series is None:
        raise InputValueError(
            "plot_snapshots draws a scattered reference that holds the same space points at every time; this one "
            "does not (plot_solution draws it)"
        )
    stamps, which = series
    out = []
    for k, stamp in enumerate(stamps):
        rows = np.flatnonzero(which == k)
        rows = rows[np.argsort(ref.points[rows, 1 - t], kind="stable")]
        out.append((float(stamp), {name: (ref.points[rows, 1 - t], e.reference[rows], e.prediction[rows])
                                   for name, e in comparison.outputs.items()}))
    return out


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
        raise InputTypeError(f"plot_history takes a training History, got {type(history).__name__}")
    if not history.records:
        raise InputValueError("the history is empty (no training step was recorded); train first")
    for i, record in enumerate(history.records):
        if "step" not in record or "total" not in record:
            raise InputValueError(f"history record {i} lacks 'step' or 'total'; every record needs both")
    keys = list(dict.fromkeys(k for r in history.records for k in r))
    terms = [k for k in keys if k not in RECORD_KEYS and "/" not in k]
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
    with the edge's importance score (see :mod:`pinnkan.kan_tools.pruning`) in the title and
    as the line's opacity. Locked edges are labelled with their library function.
    An edge into a factor of multiplication node ``j`` is titled ``i->ja`` or ``i->jb``.
    Layers with more than ``max_edges`` live edges show the most important ones.
    """
    if not isinstance(model, KAN):
        raise InputTypeError(f"plot_activations draws B-spline KAN edges, got {type(model).__name__}")
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
        targets = _column_names(model, level + 1)
        for k, (i, j) in enumerate(edges):
            ax = fig.add_subplot(grid[row + k // columns, k % columns])
            h = inputs[level][:, i].cpu().numpy()
            order = np.argsort(h)
            alpha = 0.25 + 0.75 * min(1.0, float(scores[level][i, j]) / top)
            ax.plot(h[order], values[level][:, i, j].cpu().numpy()[order], color="C0", alpha=alpha)
            label = f" {names[(i, j)]}" if (i, j) in names else ""
            ax.set_title(f"L{level} {i}->{targets[j]}{label}  s={float(scores[level][i, j]):.2g}", fontsize=8)
            ax.tick_params(labelsize=7)
        if total > len(edges):
            fig.text(0.01, 1 - (row + 0.5) / rows, f"layer {level}: top {len(edges)} of {total}", fontsize=8)
        row += max(1, math.ceil(len(edges) / columns))
    products = "; i->ja, i->jb: edges into the two factors of product node j" if any(model.mult) else ""
    fig.suptitle(f"{model.describe()}: edge functions{products}")
    _save(fig, path)


def _column_names(model: KAN, level: int) -> list[str]:
    """Names of the outputs of layer ``level - 1``: ``j`` for sum node j, ``ja``/``jb`` for its factors."""
    return [f"{n}{'ab'[k]}" if len(cols) > 1 else str(n)
            for n, cols in enumerate(model.node_columns(level)) for k in range(len(cols))]


def plot_network(model: KAN, x: torch.Tensor, path: PathLike, *, names: list[str] | None = None,
                 outputs: list[str] | None = None, title: str | None = None) -> None:
    """A diagram of a KAN: nodes by layer, edges drawn with opacity and width by importance.

    A multiplication node is a circle marked ``×`` with its two factor sub-nodes as
    small dots below it; the edges of the layer before end on the dots. Locked edges
    are labelled with their library function; ``names`` and ``outputs`` label the
    input and output nodes, ``title`` replaces the network's description as title.
    """
    if not isinstance(model, KAN):
        raise InputTypeError(f"plot_network draws a B-spline KAN, got {type(model).__name__}")
    names = names or [f"x{k + 1}" for k in range(model.in_features)]
    if len(names) != model.in_features:
        raise InputValueError(f"give {model.in_features} input names, got {len(names)}")
    with torch.no_grad():
        scores = edge_scores(model, x)
    widest = max(model.widths)
    position = [np.linspace(0, 1, w + 2)[1:-1] if w < widest else np.linspace(0, 1, w) for w in model.widths]
    fig = Figure(figsize=(max(4.0, 0.6 * widest + 2), 1.6 * len(model.widths) + 0.5), layout="constrained")
    ax = fig.add_subplot()
    top = max(float(s.max()) for s in scores) or 1.0
    # Where each layer's edges end: on a node, or on a factor dot below a multiplication node.
    spread, drop = 0.3 / (widest + 1), 0.22
    ends = []
    for level in range(1, len(model.widths)):
        ends.append([
            (position[level][n] + (k - 0.5) * spread * (len(cols) - 1), level - drop * (len(cols) - 1))
            for n, cols in enumerate(model.node_columns(level))
            for k in range(len(cols))
        ])
    for level, (layer, score) in enumerate(zip(model.layers, scores)):
        names_of = {(i, j): name for i, j, name in layer.symbolic}
        for i, j in torch.nonzero(layer.edge_mask).tolist():
            weight = min(1.0, float(score[i, j]) / top)
            xs, ys = [position[level][i], ends[level][j][0]], [level, ends[level][j][1]]
            ax.plot(xs, ys, color="k", alpha=0.1 + 0.9 * weight, lw=0.5 + 2.5 * weight)
            if (i, j) in names_of:
                ax.text(sum(xs) / 2, sum(ys) / 2, names_of[(i, j)], fontsize=9, ha="center", va="center", color="C3",
                        zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    for level, xs in enumerate(position):
        ax.scatter(xs, np.full(len(xs), level), s=120, color="white", edgecolor="k", zorder=3)
    for level in range(1, len(model.widths) - 1):
        for n, cols in enumerate(model.node_columns(level)):
            if len(cols) == 1:
                continue
            x0 = position[level][n]
            dots = [ends[level - 1][c] for c in cols]
            for dx, dy in dots:
                ax.plot([dx, x0], [dy, level], color="k", lw=0.8, zorder=2)
            ax.scatter(*zip(*dots), s=18, color="k", zorder=3)
            ax.text(x0, level, "×", ha="center", va="center", fontsize=10, zorder=4)
    for name, xpos in zip(names, position[0]):
        ax.text(xpos, -0.25, name, ha="center", va="top", fontsize=9)
    for name, xpos in zip(outputs or [], position[-1]):
        ax.text(xpos, len(model.widths) - 1 + 0.2, name, ha="center", va="bottom", fontsize=9)
    ax.set_ylim(-0.6, len(model.widths) - 0.3)
    ax.set_axis_off()
    ax.set_title(title or model.describe(), fontsize=10)
    _save(fig, path)


def plot_fit_history(result: FitResult, path: PathLike) -> None:
    """Training and validation loss per step (log scale), with the learning rate below."""
    if not result.train_loss:
        raise InputValueError("the fit made no step; nothing to draw")
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


def _scattered_solution(comparison: Comparison, inside: Callable[[np.ndarray], np.ndarray] | None) -> Figure:
    """:func:`plot_solution` of a scattered reference: lines, or maps on triangles (rows of times)."""
    ref, time_axis = comparison.reference, comparison.time_axis
    assert isinstance(ref, ScatteredSolution)
    space = [i for i, a in enumerate(ref.axes) if a != time_axis]
    rows: list[tuple[str, np.ndarray]] = [("", np.arange(ref.size))]
    if len(ref.axes) == 3 and len(space) == 2:
        series = ref.snapshots(time_axis)  # type: ignore[arg-type]
        if series is None:
            raise InputValueError(
                "plot_solution draws a scattered reference of two space axes and time when it holds the same space "
                "points at every time; this one does not (use compare's numbers, or export the run to ParaView)"
            )
        times, which = series
        picks = sorted({0, (times.size - 1) // 2, times.size - 1})
        rows = [(f"{time_axis} = {times[k]:.3g}", np.flatnonzero(which == k)) for k in picks]
        across, up = space
    elif len(ref.axes) == 2:
        time = ref.axes.index(time_axis) if time_axis in ref.axes else None
        across, up = (time, 1 - time) if time is not None else (0, 1)
    elif len(ref.axes) != 1:
        raise InputValueError(
            f"plot_solution draws scattered references of one or two axes, or two space axes and time; this one has "
            f"axes {ref.axes} (export the run to ParaView to look at it)"
        )
    n_out = len(comparison.outputs)
    line = len(ref.axes) == 1
    block = 3.2 if line else 3.3 * len(rows) + 0.6
    fig = _new_figure((10.0 if line else 13.0, block * n_out))
    subfigs = fig.subfigures(n_out, 1, squeeze=False)[:, 0]
    for sub, (name, errors) in zip(subfigs, comparison.outputs.items()):
        sub.suptitle(f"{name}: relative L2 error {errors.rel_l2:.2e}, max error {errors.linf:.2e} "
                     f"at {ref.size} points", fontweight="bold")
        if line:
            order = np.argsort(ref.points[:, 0], kind="stable")
            _draw_lines(sub, ref.points[order, 0], ref.axes[0], ref.source, name, errors.prediction[order],
                        errors.reference[order])
            continue
        axes = sub.subplots(len(rows), 3, squeeze=False, sharex=True, sharey=True)
        for row, (label, rows_at) in zip(axes, rows):
            xy = ref.points[rows_at][:, [across, up]]
            triangles = ref.triangles if len(rows) == 1 and ref.triangles is not None else None
            grid = _triangulation(xy, triangles, inside, time_axis is not None and len(rows) == 1)
            pred, val = errors.prediction[rows_at], errors.reference[rows_at]
            limits = _value_limits(pred, val)
            panels = [("prediction", pred, _VALUES_CMAP, limits), (f"reference ({ref.source})", val, _VALUES_CMAP, limits),
                      ("prediction - reference", pred - val, _ERROR_CMAP, _symmetric(pred - val))]
            meshes = []
            for ax, (title, values, cmap, lim) in zip(row, panels):
                meshes.append(ax.tripcolor(grid, values, cmap=cmap, norm=_linear(lim), shading="gouraud"))
                ax.set_title(f"{title}, {label}" if label else title, fontsize="medium")
                if time_axis is None or len(rows) > 1:
                    ax.set_aspect("equal")
            row[0].set_ylabel(ref.axes[up])
            sub.colorbar(meshes[1], ax=list(row[:2]), label=name, fraction=0.05, pad=0.02)
            sub.colorbar(meshes[2], ax=row[2], label=f"error in {name}", fraction=0.1, pad=0.02)
        for ax in axes[-1]:
            ax.set_xlabel(ref.axes[across])
    return fig


def _triangulation(xy: np.ndarray, triangles: np.ndarray | None, inside: Callable[[np.ndarray], np.ndarray] | None,
                   spacetime: bool) -> Triangulation:
    """Triangles over points (K, 2): the given ones or Delaunay's, less those whose centre is outside the domain."""
    grid = Triangulation(xy[:, 0], xy[:, 1], triangles)
    if inside is not None and not spacetime:
        centres = xy[grid.triangles].mean(axis=1)
        grid.set_mask(~np.asarray(inside(centres), dtype=bool))
    return grid


def _check_comparison(comparison: object, caller: str) -> None:
    if not isinstance(comparison, Comparison):
        raise InputTypeError(f"{caller} takes the Comparison that compare() returns, got {type(comparison).__name__}")


@dataclass(frozen=True)
class _Cut:
    """One drawn line or plane of a grid: the axes drawn, every other axis held at a grid index."""

    across: int
    up: int | None  # None: a line along ``across``
    held: tuple[tuple[int, int], ...]  # (axis, grid index)
    label: str  # where the others are held, e.g. "z = 0.5, t = 1"; "" when nowhere

    def take(self, values: np.ndarray) -> np.ndarray:
        """``values`` on this cut: shape (n_across,) for a line, (n_across, n_up) for a plane."""
        index: list[slice | int] = [slice(None)] * values.ndim
        for axis, k in self.held:
            index[axis] = k
        cut = values[tuple(index)]
        return cut.T if self.up is not None and self.up < self.across else cut


@dataclass(frozen=True)
class _Layout:
    """What is drawn of a grid: ``kind`` ("line", "spacetime", "plane", "times", "heights") and its cuts (rows)."""

    kind: str
    cuts: tuple[_Cut, ...]


def _layout(axes: tuple[str, ...], coords: tuple[np.ndarray, ...], time_axis: str | None) -> _Layout:
    """The cuts that :func:`plot_solution` and :func:`plot_fields` draw of a grid (see their docstrings)."""
    sizes = [c.size for c in coords]
    time = axes.index(time_axis) if time_axis in axes else None
    if time is not None and sizes[time] == 1:
        time = None  # a single time is a cut like any other
    single = {i: 0 for i, n in enumerate(sizes) if n == 1}
    space = [i for i, n in enumerate(sizes) if n > 1 and i != time]

    def cut(across: int, up: int | None, held: dict[int, int]) -> _Cut:
        order = sorted(held, key=lambda i: (i == time, i))  # space first, time last
        label = ", ".join(_coordinate_label(axes[i], coords[i], held[i]) for i in order)
        return _Cut(across, up, tuple(sorted(held.items())), label)

    drawn = len(space) + (time is not None)
    if drawn == 1:
        return _Layout("line", (cut(time if time is not None else space[0], None, single),))
    if drawn == 2 and time is not None:
        return _Layout("spacetime", (cut(time, space[0], single),))
    if drawn == 2:
        return _Layout("plane", (cut(space[0], space[1], single),))
    h, v, *others = space
    middle = {i: _nearest(coords[i], 0.5) for i in others}
    if time is not None:
        n = sizes[time]
        rows = [{**single, **middle, time: k} for k in sorted({0, (n - 1) // 2, n - 1})]
        return _Layout("times", tuple(cut(h, v, held) for held in rows))
    depth = others[0]
    n = sizes[depth]
    # a grid of as many heights as are drawn (model_fields) is drawn whole
    heights = range(n) if n <= len(HEIGHTS) else sorted({_nearest(coords[depth], f) for f in HEIGHTS})
    rows = [{**single, **middle, depth: k} for k in heights]
    return _Layout("heights", tuple(cut(h, v, held) for held in rows))


def _nearest(coords: np.ndarray, fraction: float) -> int:
    """Index of the grid point nearest ``fraction`` of the way along ``coords``."""
    return int(np.argmin(np.abs(coords - (coords[0] + fraction * (coords[-1] - coords[0])))))


def _coordinate_label(name: str, coords: np.ndarray, k: int) -> str:
    """``"z = 0.5"``; rounding dust of a zero in a symmetric range (1e-17) shows as 0."""
    value = float(coords[k])
    span = float(coords[-1] - coords[0]) if coords.size > 1 else abs(value)
    if abs(value) <= 1e-12 * span:
        value = 0.0
    return f"{name} = {value:.3g}"


def _aspect(across: np.ndarray, up: np.ndarray) -> float:
    """Height over width of a plane drawn to scale, kept within readable bounds."""
    return float(np.clip((up[-1] - up[0]) / (across[-1] - across[0]), 0.25, 4.0))


def _draw_lines(sub, x: np.ndarray, label: str, source: str, name: str, prediction: np.ndarray,
                reference: np.ndarray) -> None:
    values_ax, error_ax = sub.subplots(1, 2)
    values_ax.plot(x, reference, label=f"reference ({source})", lw=1.6)
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


def _draw_maps(sub, grid: GridSolution, layout: _Layout, name: str, prediction: np.ndarray, reference: np.ndarray) -> None:
    """One row: prediction, reference, error as heat maps."""
    (cut,) = layout.cuts
    across, up = grid.coords[cut.across], grid.coords[cut.up]  # type: ignore[index]
    pred, ref, inside = (cut.take(a) for a in (prediction, reference, grid.inside))
    axes = sub.subplots(1, 3, sharex=True, sharey=True)
    lo, hi = _value_limits(pred, ref)
    panels = [
        ("prediction", pred, _VALUES_CMAP, (lo, hi)),
        (f"reference ({grid.source})", ref, _VALUES_CMAP, (lo, hi)),
        ("prediction - reference", pred - ref, _ERROR_CMAP, _symmetric(pred - ref)),
    ]
    meshes = []
    for ax, (title, values, cmap, limits) in zip(axes, panels):
        meshes.append(_heat_map(ax, across, up, values, inside, cmap, _linear(limits), grid.mask is not None))
        ax.set_title(title)
        ax.set_xlabel(grid.axes[cut.across])
        if layout.kind == "plane":
            ax.set_aspect("equal")
    axes[0].set_ylabel(grid.axes[cut.up])  # type: ignore[index]
    if layout.kind == "plane":
        # a bar inset into the panel keeps the panel's height when the aspect shrinks it
        sub.colorbar(meshes[1], cax=axes[1].inset_axes((1.04, 0.0, 0.05, 1.0)), label=name)
        sub.colorbar(meshes[2], cax=axes[2].inset_axes((1.04, 0.0, 0.05, 1.0)), label=f"error in {name}")
    else:
        sub.colorbar(meshes[1], ax=list(axes[:2]), label=name, fraction=0.05, pad=0.02)
        sub.colorbar(meshes[2], ax=axes[2], label=f"error in {name}", fraction=0.1, pad=0.02)


def _draw_cuts(sub, grid: GridSolution, layout: _Layout, name: str, prediction: np.ndarray, reference: np.ndarray) -> None:
    """Rows of planes (times or heights), columns prediction, reference, error.

    Over time each row has its own value scale (a decaying solution would leave later
    rows one flat colour on a shared scale); planes at several heights share one. The
    error column shares one scale, so the rows show where the error is largest, unless
    its size changes more than tenfold over the times drawn: then each time has its own.
    """
    cuts = layout.cuts
    across, up = grid.coords[cuts[0].across], grid.coords[cuts[0].up]  # type: ignore[index]
    per_row = layout.kind == "times"
    axes = sub.subplots(len(cuts), 3, sharex=True, sharey=True, squeeze=False)
    errors = [np.where(cut.take(grid.inside), cut.take(prediction - reference), np.nan) for cut in cuts]
    error_per_row = per_row and _decays(errors)
    error_limits = _symmetric(np.stack(errors))
    value_limits = None if per_row else _value_limits(*(c.take(a) for c in cuts for a in (prediction, reference)))
    masked = grid.mask is not None
    for row, cut in enumerate(cuts):
        pred, ref, inside = (cut.take(a) for a in (prediction, reference, grid.inside))
        limits = _value_limits(pred, ref) if per_row else value_limits
        row_error = _symmetric(errors[row], zero=error_limits) if error_per_row else error_limits
        panels = [
            (f"prediction, {cut.label}", pred, _VALUES_CMAP, limits),
            (f"reference, {cut.label}", ref, _VALUES_CMAP, limits),
            (f"error, {cut.label}", pred - ref, _ERROR_CMAP, row_error),
        ]
        meshes = []
        for col, (title, values, cmap, lims) in enumerate(panels):
            ax = axes[row, col]
            meshes.append(_heat_map(ax, across, up, values, inside, cmap, _linear(lims), masked))
            ax.set_title(title, fontsize="medium")
            ax.set_aspect("equal")
            if col == 0:
                ax.set_ylabel(grid.axes[cut.up])  # type: ignore[index]
            if row == len(cuts) - 1:
                ax.set_xlabel(grid.axes[cut.across])
        if per_row:
            sub.colorbar(meshes[1], ax=list(axes[row, :2]), label=f"{name}, {cut.label}", fraction=0.05, pad=0.02)
        if error_per_row:
            label = f"error in {name}, {cut.label}"
            _colour_bar(sub, meshes[2], label, [errors[row]], ax=axes[row, 2], fraction=0.1, pad=0.02)
    # aspect: a colour bar beside several rows runs their full height.
    long = 20 * len(cuts)
    if not per_row:
        sub.colorbar(meshes[1], ax=list(axes[:, :2].ravel()), label=name, fraction=0.05, pad=0.02, aspect=long)
    if not error_per_row:
        bar_axes = list(axes[:, 2])
        _colour_bar(sub, meshes[2], f"error in {name}", errors, ax=bar_axes, fraction=0.1, pad=0.02, aspect=long)


def _field_lines(fields: GridFields, cut: _Cut) -> Figure:
    """One panel per field along the only axis drawn."""
    x, label = fields.coords[cut.across], fields.axes[cut.across]
    names = fields.names
    fig = _new_figure((4.6 * len(names) + 0.6, 3.6))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        kind = fields.kinds[name]
        values = cut.take(np.where(fields.inside, fields.fields[name], np.nan))
        ax.plot(x, values, color={"values": "C0", "signed": "C3", "magnitude": "C1"}[kind], lw=1.3)
        if kind == "signed":
            lo, hi = _symmetric(values)
            ax.set_ylim(1.05 * lo, 1.05 * hi)
            ax.axhline(0.0, color="grey", lw=0.6)
        elif kind == "magnitude":
            norm = _magnitude_norm(values)
            top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
            if isinstance(norm, LogNorm) or top > norm.vmax:  # a line is never clipped: a log axis shows all
                low = norm.vmin if isinstance(norm, LogNorm) else norm.vmax * 1e-3
                ax.set_yscale("log")
                ax.set_ylim(low / 1.5, 1.5 * top)
            else:
                ax.set_ylim(0.0, 1.05 * top if top > 0 else 1.0)
        ax.set_xlabel(label)
        ax.set_ylabel(name)
        ax.set_title(name if not cut.label else f"{name}, {cut.label}")
        ax.grid(True, which="both", alpha=0.3)
    return fig


def _field_maps(fields: GridFields, layout: _Layout) -> Figure:
    """Heat maps, each field's panels across: one row of fields for one cut, else a row per field and a column per cut."""
    cuts, names = layout.cuts, fields.names
    across, up = fields.coords[cuts[0].across], fields.coords[cuts[0].up]  # type: ignore[index]
    to_scale = layout.kind != "spacetime"
    single = len(cuts) == 1
    rows, cols = (1, len(names)) if single else (len(names), len(cuts))
    insides = [cut.take(fields.inside) for cut in cuts]
    planes = {
        name: [np.where(inside, cut.take(fields.fields[name]), np.nan) for cut, inside in zip(cuts, insides)]
        for name in names
    }
    # over time, values and any field whose size changes tenfold get a scale per time
    own = {n: layout.kind == "times" and (fields.kinds[n] == "values" or _decays(planes[n])) for n in names}
    per_panel = single or any(own.values())
    # inches: a panel to scale plus room for its title and tick labels, and for the colour bars
    if to_scale:
        aspect = _aspect(across, up)
        panel = min(3.2, 3.6 / aspect)
        column = max(panel, 2.0) + (1.55 if per_panel else 0.35)
        size = (cols * column + (0.4 if per_panel else 1.2), rows * (panel * aspect + 0.35) + 0.8)
    else:
        size = (cols * 5.0 + 0.5, 3.6)
    fig = _new_figure(size)
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    masked = fields.mask is not None
    for i, name in enumerate(names):
        kind = fields.kinds[name]
        row_axes = axes[0, i : i + 1] if single else axes[i]
        shared = None if own[name] else _norm(kind, *planes[name])
        for ax, cut, plane, inside in zip(row_axes, cuts, planes[name], insides):
            norm = _norm(kind, plane) if own[name] else shared
            mesh = _heat_map(ax, across, up, plane, inside, _FIELD_CMAPS[kind], norm, masked)
            ax.set_title(name if not cut.label else f"{name}, {cut.label}", fontsize="medium")
            if to_scale:
                ax.set_aspect("equal")
            if (own[name] or single) and to_scale:
                # a bar inset into the panel keeps the panel's height when the aspect shrinks it
                _colour_bar(fig, mesh, name, [plane], cax=ax.inset_axes((1.04, 0.0, 0.05, 1.0)))
            elif own[name] or single:
                _colour_bar(fig, mesh, name, [plane], ax=ax, fraction=0.08, pad=0.02)
        if not (own[name] or single):  # one bar for the row, as tall as its panels
            _colour_bar(fig, mesh, name, planes[name], cax=row_axes[-1].inset_axes((1.04, 0.0, 0.05, 1.0)))
    for ax in axes[:, 0]:
        ax.set_ylabel(fields.axes[cuts[0].up])  # type: ignore[index]
    for ax in axes[-1]:
        ax.set_xlabel(fields.axes[cuts[0].across])
    return fig


def _heat_map(ax, across, up, values, inside, cmap, norm: Normalize, outline):
    """``values[i, j]`` at ``(across[i], up[j])``; points outside the domain stay blank.

    On a log scale, values below its lower end are drawn in its lowest colour (a log
    scale would mask zeros, and a masked point reads as outside the domain).
    """
    values = np.where(inside, values, np.nan)
    if isinstance(norm, LogNorm):
        values = np.where(np.isfinite(values), np.maximum(values, norm.vmin), np.nan)
    shown = np.ma.masked_invalid(values).T
    mesh = ax.pcolormesh(across, up, shown, cmap=cmap, norm=norm, shading="nearest")
    if outline and not inside.all():
        ax.contour(across, up, inside.T.astype(float), levels=[0.5], colors="0.35", linewidths=0.7)
    return mesh


def _linear(limits: tuple[float, float]) -> Normalize:
    return Normalize(vmin=limits[0], vmax=limits[1])


def _norm(kind: str, *arrays: np.ndarray) -> Normalize:
    """The colour scale of a field's kind over ``arrays`` (NaN outside the domain ignored)."""
    if kind == "values":
        return _linear(_value_limits(*arrays))
    values = np.concatenate([a.ravel() for a in arrays])
    if kind == "signed":
        return _linear(_symmetric(values))
    return _magnitude_norm(values)


def _magnitude_norm(values: np.ndarray) -> Normalize:
    """Linear from zero, or logarithmic, up to the largest value or a robust top (see plot_fields)."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0 or finite.max() <= 0:
        return _linear((0.0, 1.0))
    top = float(finite.max())
    typical = float(np.percentile(finite, 99))
    if top > _SPIKE * typical > 0:
        top = typical  # a few points far above all others: drawn in the top colour, the bar says so
    if np.median(finite) < top / 100:
        positive = finite[finite > 0]
        return LogNorm(vmin=max(float(np.percentile(positive, 1)), top * 1e-6), vmax=top)
    return _linear((0.0, top))


def _colour_bar(fig, mesh, label: str, values: list[np.ndarray], **where):
    """A colour bar labelled ``label``, with an arrow at an end beyond which values were clipped."""
    norm = mesh.norm
    finite = np.concatenate([v[np.isfinite(v)].ravel() for v in values])
    above = finite.size > 0 and finite.max() > norm.vmax * (1 + 1e-9)
    below = isinstance(norm, LogNorm) and finite.size > 0 and finite.min() < norm.vmin
    extend = {(True, True): "both", (True, False): "max", (False, True): "min"}.get((above, below), "neither")
    if above:
        label += f" (largest {finite.max():.3g})"
    bar = fig.colorbar(mesh, label=label, extend=extend, **where)
    if not isinstance(norm, LogNorm):
        # 1.5e-4 as 1.5 under a common "1e-4", not as 0.00015: narrow bars leave the labels room
        formatter = ScalarFormatter()
        formatter.set_powerlimits((-3, 4))
        bar.formatter = formatter
        bar.update_ticks()
    return bar


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


def _decays(planes: list[np.ndarray]) -> bool:
    """Whether the largest magnitude of the planes (NaN ignored) changes more than tenfold from one to another."""
    tops = [float(np.nanmax(np.abs(p))) for p in planes if np.isfinite(p).any()]
    tops = [t for t in tops if t > 0]
    return len(tops) > 1 and max(tops) > 10 * min(tops)


def _symmetric(values: np.ndarray, zero: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float]:
    """Colour limits ``(-m, m)`` with ``m`` the largest finite magnitude (NaN outside the domain ignored);
    ``zero`` when every value is zero."""
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size else 0.0
    return (-m, m) if m > 0 else zero


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
