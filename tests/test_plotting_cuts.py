"""plot_solution on three space axes and on three space axes and time: the planes drawn, their scales and masks."""

import math

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from pinnkan.compare import compare
from pinnkan.plotting import plot_error_over_time, plot_solution
from pinnkan.reference.grid import GridSolution, grid_points

from formula_model import FormulaModel

PI = math.pi


def _maps(container) -> list:
    return [ax for ax in container.axes if ax.collections and ax.get_label() != "<colorbar>"]


def _bars(container) -> list:
    return [ax for ax in container.axes if ax.get_label() == "<colorbar>"]


def _mesh(ax):
    return ax.collections[0]


def _ball():
    """u = x + 2 y + 3 z^2 on the unit ball (masked grid over [-1, 1]^3); the model adds 0.01 x z."""
    x = np.linspace(-1, 1, 21)
    y = np.linspace(-1, 1, 17)
    z = np.linspace(-1, 1, 21)
    inside = (np.linalg.norm(grid_points((x, y, z)), axis=1) <= 1.0).reshape(21, 17, 21)
    grid = GridSolution.from_function(
        lambda p: p[:, 0] + 2 * p[:, 1] + 3 * p[:, 2] ** 2, ("x", "y", "z"), (x, y, z), mask=inside
    )
    model = FormulaModel(lambda p: p[:, 0] + 2 * p[:, 1] + 3 * p[:, 2] ** 2 + 0.01 * p[:, 0] * p[:, 2])
    return compare(model, grid, time_axis=None), inside


def test_three_space_axes_draw_the_xy_plane_at_a_quarter_half_and_three_quarters_of_z(tmp_path):
    c, inside = _ball()
    fig = plot_solution(c, tmp_path / "ball.png")
    (sub,) = fig.subfigs
    panels = _maps(sub)
    assert len(panels) == 9 and len(_bars(sub)) == 2  # one value bar for all rows, one error bar
    # z on 21 points over [-1, 1]: heights -0.5, 0, 0.5 are grid points 5, 10, 15
    assert [ax.get_title() for ax in panels[::3]] == ["prediction, z = -0.5", "prediction, z = 0", "prediction, z = 0.5"]
    assert [ax.get_title() for ax in panels[6:]] == ["prediction, z = 0.5", "reference, z = 0.5", "error, z = 0.5"]
    u = c.outputs["u"]
    x, _, z = c.reference.coords
    for row, k in enumerate([5, 10, 15]):
        pred, ref, error = (_mesh(ax).get_array() for ax in panels[3 * row : 3 * row + 3])
        # rows of the drawn image are y, columns x; outside the ball masked
        plane_inside = np.take(inside, k, axis=2).T
        np.testing.assert_allclose(pred.filled(np.nan), np.take(u.prediction, k, axis=2).T)
        np.testing.assert_allclose(ref.filled(np.nan), np.take(u.reference, k, axis=2).T)
        for drawn in (pred, ref, error):
            np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~plane_inside)
        expected = np.where(plane_inside, 0.01 * x[None, :] * z[k], np.nan)  # the model's 0.01 x z
        np.testing.assert_allclose(error.filled(np.nan), expected, atol=1e-12)
        assert panels[3 * row].get_ylabel() == "y"
        assert all(ax.get_aspect() == 1.0 for ax in panels[3 * row : 3 * row + 3])
    assert [ax.get_xlabel() for ax in panels[6:]] == ["x", "x", "x"]
    # one value scale over the three planes: the range of prediction and reference on them
    planes = np.stack([np.take(a, k, axis=2) for a in (u.prediction, u.reference) for k in (5, 10, 15)])
    limits = {_mesh(ax).get_clim() for i, ax in enumerate(panels) if i % 3 != 2}
    assert len(limits) == 1 and limits.pop() == pytest.approx((np.nanmin(planes), np.nanmax(planes)))
    # one error scale over the three planes drawn: the largest |0.01 x z| on them (z = 0.5), below
    # the largest on the whole grid (z = 0.7 within the ball)
    lo, hi = _mesh(panels[2]).get_clim()
    X, _, Z = np.meshgrid(*c.reference.coords, indexing="ij")
    drawn = np.abs(0.01 * X * Z)[:, :, [5, 10, 15]][inside[:, :, [5, 10, 15]]]
    assert lo == -hi and hi == pytest.approx(np.max(drawn)) and hi < c.linf
    assert c.linf == pytest.approx(np.max(np.abs(0.01 * X * Z)[inside]))
    assert [bar.get_ylabel() for bar in _bars(sub)] == ["u", "error in u"]
    # blank outside the ball: the corner (0.9, 0.9) of the plane z = 0 is white in the file
    image = imread(tmp_path / "ball.png")[..., :3]
    px, py = panels[3].transData.transform((0.9, 0.9))
    assert np.all(image[round(image.shape[0] - py), round(px)] > 0.99)
    px, py = panels[3].transData.transform((0.0, 0.0))
    assert np.any(image[round(image.shape[0] - py), round(px)] < 0.9)


def _cube_over_time():
    """u = exp(-t) sin(pi x) y + z on (x, y, z, t); the model adds 0.02 t."""
    axes = ("x", "y", "z", "t")
    coords = (np.linspace(0, 1, 11), np.linspace(0, 2, 15), np.linspace(0, 1, 9), np.linspace(0, 1, 7))
    grid = GridSolution.from_function(lambda p: np.exp(-p[:, 3]) * np.sin(PI * p[:, 0]) * p[:, 1] + p[:, 2], axes, coords)
    model = FormulaModel(lambda p: torch.exp(-p[:, 3]) * torch.sin(PI * p[:, 0]) * p[:, 1] + p[:, 2] + 0.02 * p[:, 3])
    return compare(model, grid)


def test_three_space_axes_and_time_draw_the_middle_z_plane_at_first_middle_and_last_time(tmp_path):
    c = _cube_over_time()
    fig = plot_solution(c, tmp_path / "xyzt.png")
    (sub,) = fig.subfigs
    panels = _maps(sub)
    assert len(panels) == 9 and len(_bars(sub)) == 4  # a value bar per time, one error bar
    assert [ax.get_title() for ax in panels[::3]] == [
        "prediction, z = 0.5, t = 0", "prediction, z = 0.5, t = 0.5", "prediction, z = 0.5, t = 1"
    ]
    u = c.outputs["u"]
    for row, k in enumerate([0, 3, 6]):
        pred = u.prediction[:, :, 4, k]  # z = 0.5 is grid point 4 of 9
        ref = u.reference[:, :, 4, k]
        np.testing.assert_allclose(_mesh(panels[3 * row]).get_array(), pred.T)
        np.testing.assert_allclose(_mesh(panels[3 * row + 1]).get_array(), ref.T)
        np.testing.assert_allclose(_mesh(panels[3 * row + 2]).get_array(), np.full((15, 11), 0.02 * c.times[k]), atol=1e-12)
        lo, hi = min(pred.min(), ref.min()), max(pred.max(), ref.max())
        assert _mesh(panels[3 * row]).get_clim() == pytest.approx((lo, hi))  # each time its own scale
    assert (panels[0].get_ylabel(), panels[6].get_xlabel()) == ("y", "x")
    lo, hi = _mesh(panels[5]).get_clim()
    assert lo == -hi and hi == pytest.approx(0.02)
    # the error over time of a 4-axis grid: 0.02 t over the norm of each time slice
    fig = plot_error_over_time(c)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata()[1:], u.error_over_time[1:])
    slice_norm = np.linalg.norm(u.reference[..., 6])
    assert u.error_over_time[6] == pytest.approx(0.02 * math.sqrt(u.reference[..., 6].size) / slice_norm)


def test_an_error_that_decays_tenfold_between_the_times_drawn_gets_a_scale_per_time():
    c = _cube_over_time()
    # the error 0.02 exp(-6 t) x: largest 0.02, 0.02 e^-3 and 0.02 e^-6 at t = 0, 0.5, 1
    model = FormulaModel(lambda p: torch.exp(-p[:, 3]) * torch.sin(PI * p[:, 0]) * p[:, 1] + p[:, 2]
                         + 0.02 * torch.exp(-6 * p[:, 3]) * p[:, 0])
    (sub,) = plot_solution(compare(model, c.reference)).subfigs
    panels = _maps(sub)
    assert len(_bars(sub)) == 3 + 3  # a value bar and an error bar per time
    for row, t in enumerate([0.0, 0.5, 1.0]):
        lo, hi = _mesh(panels[3 * row + 2]).get_clim()
        assert lo == -hi and hi == pytest.approx(0.02 * math.exp(-6 * t))  # x reaches 1
    assert [bar.get_ylabel() for bar in _bars(sub)][1::2] == [f"error in u, z = 0.5, t = {t}" for t in ("0", "0.5", "1")]


def test_time_stored_first_draws_the_same_planes():
    c = _cube_over_time()
    order = (3, 0, 1, 2)  # (t, x, y, z): the plane is always of the first two space axes
    moved = GridSolution(
        tuple(c.reference.axes[i] for i in order), tuple(c.reference.coords[i] for i in order),
        np.transpose(c.reference.values, order), "exact",
    )
    model = FormulaModel(lambda p: torch.exp(-p[:, 0]) * torch.sin(PI * p[:, 1]) * p[:, 2] + p[:, 3] + 0.02 * p[:, 0])
    panels = _maps(plot_solution(compare(model, moved)).subfigs[0])
    assert panels[3].get_title() == "prediction, z = 0.5, t = 0.5"
    assert panels[3].get_ylabel() == "y" and panels[6].get_xlabel() == "x"
    np.testing.assert_allclose(_mesh(panels[3]).get_array(), c.outputs["u"].prediction[:, :, 4, 3].T, atol=1e-12)
