"""Solution, error-over-time and history figures: orientation, scales, masks and refusals."""

import math

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from pinnkan.compare import compare
from pinnkan.plotting import plot_error_over_time, plot_history, plot_snapshots, plot_solution
from pinnkan.reference.grid import GridSolution, grid_points
from pinnkan.training.trainer import History

from formula_model import FormulaModel

PI = math.pi


def _ink(path) -> float:
    """Share of pixels that are not white."""
    image = imread(path)[..., :3]
    return float(np.mean(np.any(image < 0.95, axis=-1)))


def _white(path) -> float:
    image = imread(path)[..., :3]
    return float(np.mean(np.all(image > 0.99, axis=-1)))


def _maps(container) -> list:
    """The heat-map panels of a figure or subfigure, in drawing order."""
    return [ax for ax in container.axes if ax.collections and ax.get_label() != "<colorbar>"]


def _mesh(ax):
    return ax.collections[0]


def _space_time():
    x, t = np.linspace(0, 1, 21), np.linspace(0, 0.5, 11)
    grid = GridSolution.from_function(lambda p: np.exp(-PI**2 * p[:, 1]) * np.sin(PI * p[:, 0]), ("x", "t"), (x, t))
    model = FormulaModel(lambda p: torch.exp(-PI**2 * p[:, 1]) * torch.sin(PI * p[:, 0]) + 0.01 * p[:, 1] * p[:, 0])
    return compare(model, grid)


def test_space_time_has_time_across_space_up_and_symmetric_error_scale(tmp_path):
    c = _space_time()
    fig = plot_solution(c, tmp_path / "s.png")
    assert _ink(tmp_path / "s.png") > 0.1
    (sub,) = fig.subfigs
    pred_ax, ref_ax, err_ax = _maps(sub)
    assert [ax.get_xlabel() for ax in (pred_ax, ref_ax, err_ax)] == ["t", "t", "t"]
    assert pred_ax.get_ylabel() == "x"
    assert pred_ax.get_xlim()[1] == pytest.approx(0.5, abs=0.03) and pred_ax.get_ylim()[1] == pytest.approx(1.0, abs=0.03)
    # rows of the drawn image are x, columns t: the grid's own (x, t) order
    np.testing.assert_allclose(_mesh(pred_ax).get_array(), c.prediction)
    np.testing.assert_allclose(_mesh(ref_ax).get_array(), c.reference.values)
    assert _mesh(pred_ax).get_clim() == _mesh(ref_ax).get_clim() == pytest.approx((0.0, 1.0), abs=1e-9)
    lo, hi = _mesh(err_ax).get_clim()
    assert lo == -hi and hi == pytest.approx(c.linf)
    assert _mesh(ref_ax).colorbar.ax.get_ylabel() == "u"
    assert _mesh(err_ax).colorbar.ax.get_ylabel() == "error in u"
    title = sub.get_suptitle()
    assert title.startswith("u:") and f"{c.rel_l2:.2e}" in title and f"{c.linf:.2e}" in title

    # the same solution stored as (t, x) is still drawn with time across
    flipped = GridSolution(("t", "x"), (c.reference.coords[1], c.reference.coords[0]), c.reference.values.T, "exact")
    fig = plot_solution(compare(FormulaModel(lambda p: torch.sin(PI * p[:, 1])), flipped))
    pred_ax = _maps(fig)[0]
    assert (pred_ax.get_xlabel(), pred_ax.get_ylabel()) == ("t", "x")
    assert _mesh(pred_ax).get_array().shape == (21, 11)


def test_stationary_plane_draws_one_block_per_output_to_scale():
    x, y = np.linspace(0, 2, 21), np.linspace(0, 1, 11)
    grid = GridSolution.from_function(lambda p: {"u": np.sin(PI * p[:, 0]) * p[:, 1], "v": p[:, 0] * p[:, 1]}, ("x", "y"), (x, y))
    model = FormulaModel(lambda p: torch.stack([torch.sin(PI * p[:, 0]) * p[:, 1] + 0.01, p[:, 0] * p[:, 1] - 0.03 * p[:, 0]], 1))
    c = compare(model, grid, outputs=("u", "v"), time_axis=None)
    fig = plot_solution(c)
    assert len(fig.subfigs) == 2 and len(fig.axes) == 6
    for sub, name in zip(fig.subfigs, ("u", "v")):
        errors = c.outputs[name]
        assert sub.get_suptitle().startswith(f"{name}:") and f"{errors.rel_l2:.2e}" in sub.get_suptitle()
        pred_ax, ref_ax, err_ax = _maps(sub)
        assert (pred_ax.get_xlabel(), pred_ax.get_ylabel()) == ("x", "y")
        assert all(ax.get_aspect() == 1.0 for ax in (pred_ax, ref_ax, err_ax))
        # image rows are y, columns x
        np.testing.assert_allclose(_mesh(pred_ax).get_array(), errors.prediction.T)
        lo, hi = _mesh(err_ax).get_clim()
        assert lo == -hi and hi == pytest.approx(errors.linf)
        assert _mesh(err_ax).colorbar.ax.get_ylabel() == f"error in {name}"
        assert _mesh(ref_ax).colorbar.ax.get_ylabel() == name
    # v: 0.03 x is the error, largest at x = 2
    assert c.outputs["v"].linf == pytest.approx(0.06)


def _l_shape(mask: bool, reference_outside: bool = False):
    x = y = np.linspace(-1, 1, 31)
    X, Y = np.meshgrid(x, y, indexing="ij")
    inside = ~((X > 0) & (Y > 0))
    func = lambda p: np.cos(PI * p[:, 0] / 2) * np.cos(PI * p[:, 1] / 2)
    if reference_outside:  # values everywhere, the mask alone says what is outside
        grid = GridSolution(("x", "y"), (x, y), func(grid_points((x, y))).reshape(X.shape), "exact", mask=inside)
    else:
        grid = GridSolution.from_function(func, ("x", "y"), (x, y), mask=inside if mask else None)
    model = FormulaModel(lambda p: torch.cos(PI * p[:, 0] / 2) * torch.cos(PI * p[:, 1] / 2) + 0.02 * p[:, 0])
    return compare(model, grid, time_axis=None), inside


def test_masked_l_shape_leaves_the_removed_quadrant_white(tmp_path):
    c, inside = _l_shape(mask=True)
    fig = plot_solution(c, tmp_path / "l.png")
    panels = _maps(fig)
    image = imread(tmp_path / "l.png")[..., :3]
    height = image.shape[0]

    def pixel(ax, x, y):
        px, py = ax.transData.transform((x, y))
        return image[round(height - py), round(px)]

    for ax in panels:
        drawn = _mesh(ax).get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~inside.T)
        assert np.all(pixel(ax, 0.5, 0.5) > 0.99), ax.get_title()
        assert np.all(pixel(ax, 0.7, 0.3) > 0.99), ax.get_title()
    assert np.any(pixel(panels[0], -0.5, -0.5) < 0.9)  # inside: coloured
    # colour limits from the inside values only (the prediction is NaN outside)
    both = np.stack([c.outputs["u"].prediction, c.outputs["u"].reference])
    assert _mesh(panels[0]).get_clim() == pytest.approx((np.nanmin(both), np.nanmax(both)))
    assert np.all(np.isfinite(_mesh(panels[2]).get_clim()))

    full, _ = _l_shape(mask=False)
    plot_solution(full, tmp_path / "full.png")
    # three panels lose a quarter each: clearly more white than the unmasked picture
    assert _white(tmp_path / "l.png") > _white(tmp_path / "full.png") + 0.05

    # a reference with values outside its mask is still drawn blank there
    c, inside = _l_shape(mask=True, reference_outside=True)
    ref_ax = _maps(plot_solution(c))[1]
    np.testing.assert_array_equal(np.ma.getmaskarray(_mesh(ref_ax).get_array()), ~inside.T)


def _plane_over_time(axes=("x", "y", "t")):
    coords = {"x": np.linspace(0, 1, 11), "y": np.linspace(0, 2, 21), "t": np.linspace(0, 1, 5)}
    col = {name: i for i, name in enumerate(axes)}

    def exact(p):
        x, y, t = p[:, col["x"]], p[:, col["y"]], p[:, col["t"]]
        return {"u": np.exp(-t) * np.sin(PI * x) * y, "v": x + y * t}

    def model(p):
        x, y, t = p[:, col["x"]], p[:, col["y"]], p[:, col["t"]]
        return torch.stack([torch.exp(-t) * torch.sin(PI * x) * y + 0.01 * t, x + y * t - 0.02 * x * t], 1)

    grid = GridSolution.from_function(exact, axes, tuple(coords[a] for a in axes))
    return compare(FormulaModel(model), grid, outputs=("u", "v"))


def test_plane_over_time_draws_first_middle_and_last_time(tmp_path):
    c = _plane_over_time()
    fig = plot_solution(c, tmp_path / "xyt.png")
    assert _ink(tmp_path / "xyt.png") > 0.1
    assert len(fig.subfigs) == 2
    for sub, name in zip(fig.subfigs, ("u", "v")):
        errors = c.outputs[name]
        panels = _maps(sub)
        # a value bar per time, one error bar
        assert len(panels) == 9 and sum(ax.get_label() == "<colorbar>" for ax in sub.axes) == 4
        assert [ax.get_title() for ax in panels[::3]] == ["prediction, t = 0", "prediction, t = 0.5", "prediction, t = 1"]
        assert [ax.get_title() for ax in panels[6:]] == ["prediction, t = 1", "reference, t = 1", "error, t = 1"]
        assert all(ax.get_aspect() == 1.0 for ax in panels)
        assert panels[6].get_xlabel() == "x" and panels[3].get_ylabel() == "y"
        np.testing.assert_allclose(_mesh(panels[3]).get_array(), errors.prediction[:, :, 2].T)
        np.testing.assert_allclose(_mesh(panels[7]).get_array(), errors.reference[:, :, 4].T)
        for row, k in enumerate([0, 2, 4]):  # each time its own value scale, shared by prediction and reference
            pred, ref = errors.prediction[:, :, k], errors.reference[:, :, k]
            lo, hi = min(pred.min(), ref.min()), max(pred.max(), ref.max())
            assert _mesh(panels[3 * row]).get_clim() == _mesh(panels[3 * row + 1]).get_clim() == pytest.approx((lo, hi))
        limits = {_mesh(ax).get_clim() for ax in panels[2::3]}
        assert len(limits) == 1  # one error scale for all times
        lo, hi = limits.pop()
        assert lo == -hi and hi == pytest.approx(errors.linf)
    # time stored first: the same panels
    c = _plane_over_time(("t", "x", "y"))
    panels = _maps(plot_solution(c).subfigs[0])
    assert panels[3].get_title() == "prediction, t = 0.5"
    assert (panels[3].get_ylabel(), panels[6].get_xlabel()) == ("y", "x")
    np.testing.assert_allclose(_mesh(panels[3]).get_array(), c.outputs["u"].prediction[2].T)


def test_one_axis_draws_lines_and_the_error():
    x = np.linspace(0, 1, 41)
    grid = GridSolution(("x",), (x,), np.sin(PI * x), "exact")
    c = compare(FormulaModel(lambda p: torch.sin(PI * p[:, 0]) + 0.01 * p[:, 0]), grid, time_axis=None)
    fig = plot_solution(c)
    values_ax, error_ax = fig.axes
    reference, prediction = values_ax.get_lines()
    assert reference.get_label() == "reference (exact)" and prediction.get_linestyle() == "--"
    np.testing.assert_allclose(prediction.get_ydata(), c.prediction)
    np.testing.assert_allclose(error_ax.get_lines()[0].get_ydata(), 0.01 * x, atol=1e-12)
    lo, hi = error_ax.get_ylim()
    assert lo == pytest.approx(-hi) and hi == pytest.approx(1.05 * 0.01)
    assert values_ax.get_xlabel() == "x" and values_ax.get_ylabel() == "u"


def test_unsupported_inputs_are_refused_with_the_fix():
    # every grid is drawn now (three and more axes are cut into planes, see test_plotting_cuts.py);
    # what is refused is something other than a comparison, and an error over time without time
    c = _plane_over_time()
    no_time = compare(FormulaModel(lambda p: torch.zeros(p.shape[0], 2, dtype=p.dtype)), c.reference, outputs=("u", "v"), time_axis=None)
    with pytest.raises(TypeError, match="takes the Comparison that compare"):
        plot_solution(c.reference)
    with pytest.raises(ValueError, match="no time axis; pass time_axis="):
        plot_error_over_time(no_time)
    with pytest.raises(TypeError, match="plot_error_over_time takes the Comparison"):
        plot_error_over_time(None)


def test_error_over_time_draws_one_line_per_output(tmp_path):
    c = _plane_over_time()
    fig = plot_error_over_time(c, tmp_path / "e.png")
    assert _ink(tmp_path / "e.png") > 0.02
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "t" and "relative L2" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["u", "v"]
    for line, name in zip(ax.get_lines(), ("u", "v")):
        over_time = c.outputs[name].error_over_time
        assert over_time[0] == 0.0  # exact at t = 0: left off the log scale
        np.testing.assert_allclose(line.get_ydata()[1:], over_time[1:])
        assert np.isnan(line.get_ydata()[0])


def _records(extras: bool) -> list[dict[str, float]]:
    records = []
    for step in range(1, 61):
        r = {"step": float(step), "stage": 0.0 if step <= 40 else 1.0, "total": 2 * 0.9**step}
        r |= {"pde": 0.9**step, "initial": 0.9**step}
        if extras:
            r["coef/alpha"] = 1 - 0.5 * 0.95**step
            if step > 10:  # an adaptive weighting that starts late
                r |= {"weight/initial": 1 + step / 10, "causal_min/pde": 1 - 0.97**step}
        records.append(r)
    return records


def test_history_adds_panels_for_weights_and_coefficients(tmp_path):
    fig = plot_history(History(records=_records(extras=True)), tmp_path / "h.png")
    assert _ink(tmp_path / "h.png") > 0.03
    loss_ax, weight_ax, coef_ax = fig.axes
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "log", "linear"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "weighting", "learned coefficient"]
    assert coef_ax.get_xlabel() == "step" and loss_ax.get_shared_x_axes().joined(loss_ax, coef_ax)

    def curves(ax):
        return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}

    assert list(curves(loss_ax)) == ["total (weighted)", "pde", "initial"]
    weights = curves(weight_ax)
    assert list(weights) == ["weight/initial", "causal_min/pde"]
    np.testing.assert_allclose(weights["weight/initial"].get_xdata(), np.arange(11, 61))
    np.testing.assert_allclose(weights["weight/initial"].get_ydata(), 1 + np.arange(11, 61) / 10)
    # a weight has the colour of its term, each kind of weighting its own line style
    assert weights["causal_min/pde"].get_color() == curves(loss_ax)["pde"].get_color()
    assert weights["weight/initial"].get_color() == curves(loss_ax)["initial"].get_color()
    assert weights["weight/initial"].get_linestyle() != weights["causal_min/pde"].get_linestyle()
    alpha = curves(coef_ax)["alpha"]
    np.testing.assert_allclose(alpha.get_ydata(), 1 - 0.5 * 0.95 ** np.arange(1, 61))
    for ax in fig.axes:  # the stage change at step 41, dotted, on every panel
        dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        assert [line.get_xdata()[0] for line in dotted] == [41.0]

    # weights within one decade (GradNorm settling near 15.5) get a linear axis
    narrow = [r | {"weight/data": 15.4 + r["step"] / 300} for r in _records(extras=False)]
    assert plot_history(History(records=narrow)).axes[1].get_yscale() == "linear"

    plain = plot_history(History(records=_records(extras=False)))
    assert plain.axes[0].get_lines()[0].get_label() == "total"
    assert len(plain.axes) == 1 and plain.axes[0].get_xlabel() == "step"


def test_history_errors_name_the_fix():
    with pytest.raises(ValueError, match="history is empty.*train first"):
        plot_history(History())
    with pytest.raises(TypeError, match="takes a training History"):
        plot_history(_records(extras=False))
    with pytest.raises(ValueError, match="record 1 lacks 'step' or 'total'"):
        plot_history(History(records=[{"step": 1.0, "total": 1.0}, {"total": 0.5}]))


def test_snapshots_draw_reference_and_prediction_at_evenly_spread_times(tmp_path):
    c = _space_time()  # t in [0, 0.5] on 11 points, x on 21; the prediction adds 0.01 x t
    fig = plot_snapshots(c, tmp_path / "snapshots.png", times=3)
    assert _ink(tmp_path / "snapshots.png") > 0.02
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines[::2]] == ["t = 0", "t = 0.25", "t = 0.5"]
    x = np.linspace(0, 1, 21)
    for (reference, prediction), t in zip(zip(lines[::2], lines[1::2]), [0.0, 0.25, 0.5]):
        np.testing.assert_allclose(reference.get_xdata(), x)
        np.testing.assert_allclose(reference.get_ydata(), np.exp(-PI**2 * t) * np.sin(PI * x), atol=1e-12)
        np.testing.assert_allclose(prediction.get_ydata() - reference.get_ydata(), 0.01 * t * x, atol=1e-12)
        assert reference.get_color() == prediction.get_color() and prediction.get_linestyle() == "--"
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "u"


def test_snapshots_refuse_planes_and_too_few_times():
    x = np.linspace(0, 1, 5)
    plane = compare(FormulaModel(lambda p: p[:, 0] * p[:, 1]), GridSolution.from_function(lambda p: p[:, 0] * p[:, 1], ("x", "y"), (x, x)))
    with pytest.raises(ValueError, match="one space axis and a time axis"):
        plot_snapshots(plane)
    with pytest.raises(ValueError, match="times must be an int >= 2"):
        plot_snapshots(_space_time(), times=1)


def test_scattered_plane_is_drawn_on_triangles_inside_the_domain(tmp_path):
    from pinnkan import Box, ScatteredSolution

    lshape = Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    pts = np.random.default_rng(1).uniform(-1, 1, size=(600, 2))
    pts = pts[lshape.inside(pts)]
    ref = ScatteredSolution(("x", "y"), pts, pts[:, 0] * pts[:, 1])
    c = compare(FormulaModel(lambda p: p[:, 0] * p[:, 1] + 0.01), ref, time_axis=None)
    fig = plot_solution(c, tmp_path / "s.png", inside=lshape.inside)
    pred_ax, ref_ax, err_ax = _maps(fig.subfigs[0])
    np.testing.assert_allclose(_mesh(ref_ax).get_array(), ref.values)
    np.testing.assert_allclose(_mesh(err_ax).get_array(), 0.01)
    tri = _mesh(ref_ax)._triangulation  # the tripcolor's triangulation, kept on its collection
    centres = pts[tri.triangles].mean(axis=1)
    # every triangle whose centre is in the cut-out quadrant is masked, and only those
    np.testing.assert_array_equal(tri.mask, ~lshape.inside(centres))
    assert tri.mask.any()
    assert _white(tmp_path / "s.png") > 0.3


def test_scattered_line_is_sorted_along_its_axis():
    from pinnkan import ScatteredSolution

    x = np.array([0.9, 0.1, 0.5, 0.3, 0.7])
    ref = ScatteredSolution(("x",), x, x**2)
    c = compare(FormulaModel(lambda p: p[:, 0] ** 2), ref, time_axis=None)
    values_ax = plot_solution(c).subfigs[0].axes[0]
    drawn = values_ax.lines[0].get_xdata()
    np.testing.assert_array_equal(drawn, np.sort(x))
    np.testing.assert_array_equal(values_ax.lines[0].get_ydata(), np.sort(x) ** 2)
