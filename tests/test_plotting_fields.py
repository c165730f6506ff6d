"""plot_fields: named fields on grids of one to four axes, the colour scale of each kind, masks and refusals."""

import math

import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.image import imread

from pinnkan.grid_fields import GridFields
from pinnkan.plotting import plot_fields

PI = math.pi


def _maps(fig) -> list:
    return [ax for ax in fig.axes if ax.collections and ax.get_label() != "<colorbar>"]


def _bars(panels) -> list:
    """The colour bars drawn for the panels (a shared bar belongs to the last panel of its row)."""
    return [_mesh(ax).colorbar for ax in panels if _mesh(ax).colorbar is not None]


def _mesh(ax):
    return ax.collections[0]


def _ink(path) -> float:
    image = imread(path)[..., :3]
    return float(np.mean(np.any(image < 0.95, axis=-1)))


def _mesh_grid(*coords):
    return np.meshgrid(*coords, indexing="ij")


def test_one_axis_draws_a_line_per_field_with_the_axis_of_its_kind(tmp_path):
    x = np.linspace(0, 1, 51)
    fields = GridFields(
        ("x",), (x,),
        {"u": np.sin(PI * x), "error": 0.01 * np.cos(PI * x) - 0.002, "|residual pde|": 1 + x**2, "|spike|": np.exp(-40 * x)},
        {"u": "values", "error": "signed", "|residual pde|": "magnitude", "|spike|": "magnitude"},
    )
    fig = plot_fields(fields, tmp_path / "line.png", title="one axis")
    assert _ink(tmp_path / "line.png") > 0.02 and fig.get_suptitle() == "one axis"
    u, error, residual, spike = fig.axes
    np.testing.assert_allclose(u.get_lines()[0].get_ydata(), np.sin(PI * x))
    np.testing.assert_allclose(error.get_lines()[0].get_ydata(), 0.01 * np.cos(PI * x) - 0.002)
    assert [ax.get_xlabel() for ax in fig.axes] == ["x"] * 4
    assert [ax.get_ylabel() for ax in fig.axes] == ["u", "error", "|residual pde|", "|spike|"]
    assert error.get_ylim() == pytest.approx((-1.05 * 0.012, 1.05 * 0.012))  # symmetric about zero
    assert residual.get_yscale() == "linear" and residual.get_ylim() == pytest.approx((0.0, 2.1))  # from zero
    # exp(-40 x): the median (e^-20) is far below the largest value: a log axis
    assert spike.get_yscale() == "log" and spike.get_ylim()[1] == pytest.approx(1.5)


def test_plane_draws_each_field_to_scale_with_the_colour_scale_of_its_kind(tmp_path):
    x, y = np.linspace(-1, 1, 41), np.linspace(0, 1, 21)
    X, Y = _mesh_grid(x, y)
    inside = ~((X > 0) & (Y > 0.5))
    fields = GridFields(
        ("x", "y"), (x, y),
        {"u": 2 + X * Y, "error": 0.1 * X - 0.05, "|r|": np.abs(X) + 0.5},
        {"u": "values", "error": "signed", "|r|": "magnitude"},
        mask=inside,
    )
    fig = plot_fields(fields, tmp_path / "plane.png")
    assert _ink(tmp_path / "plane.png") > 0.1
    u, error, r = _maps(fig)
    for ax, name in zip((u, error, r), ("u", "error", "|r|")):
        assert ax.get_title() == name and ax.get_aspect() == 1.0
        assert ax.get_xlabel() == "x" and _mesh(ax).colorbar.ax.get_ylabel() == name
        drawn = _mesh(ax).get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~inside.T)  # blank outside
        np.testing.assert_allclose(drawn.filled(np.nan), np.where(inside, fields.fields[name], np.nan).T)
    assert u.get_ylabel() == "y"
    assert _mesh(u).get_cmap().name == "viridis" and _mesh(error).get_cmap().name == "RdBu_r"
    assert _mesh(r).get_cmap().name == "magma_r"
    # values: the range inside the domain (x y reaches 1 only in the cut-out corner, 0.5 at its edge)
    assert _mesh(u).get_clim() == pytest.approx((2 - 1.0, 2 + 0.5))
    # signed: symmetric about zero, up to the largest |0.1 x - 0.05| inside (x = -1)
    assert _mesh(error).get_clim() == pytest.approx((-0.15, 0.15))
    # magnitude: from zero to the largest value
    assert _mesh(r).get_clim() == pytest.approx((0.0, 1.5))
    assert len(_mesh(u).axes.collections) == 2  # the mesh and the domain's outline


def test_space_time_puts_time_across_and_keeps_the_panels_unscaled():
    x, t = np.linspace(0, 1, 21), np.linspace(0, 3, 31)
    X, T = _mesh_grid(x, t)
    fields = GridFields(("x", "t"), (x, t), {"u": np.exp(-T) * np.sin(PI * X)}, {"u": "values"}, time_axis="t")
    (ax,) = _maps(plot_fields(fields))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t", "x") and ax.get_aspect() == "auto"
    np.testing.assert_allclose(_mesh(ax).get_array(), fields.fields["u"])  # rows x, columns t
    assert ax.get_xlim() == pytest.approx((-0.05, 3.05)) and _mesh(ax).get_clim() == pytest.approx((0.0, 1.0))


def test_three_space_axes_draw_a_row_per_field_at_three_heights(tmp_path):
    x, y, z = np.linspace(-1, 1, 21), np.linspace(-1, 1, 21), np.linspace(0, 2, 21)
    X, Y, Z = _mesh_grid(x, y, z)
    inside = X**2 + Y**2 + (Z - 1) ** 2 <= 1.0
    fields = GridFields(
        ("x", "y", "z"), (x, y, z),
        {"u": X + Z, "e": 0.1 * Y * Z, "|r|": 0.2 + Z**2},
        {"u": "values", "e": "signed", "|r|": "magnitude"},
        mask=inside,
    )
    fig = plot_fields(fields, tmp_path / "xyz.png")
    assert _ink(tmp_path / "xyz.png") > 0.1
    panels = _maps(fig)
    assert len(panels) == 9 and len(_bars(panels)) == 3  # one bar per field
    # z over [0, 2] on 21 points: a quarter, half, three quarters are z = 0.5, 1, 1.5 (points 5, 10, 15)
    assert [ax.get_title() for ax in panels[:3]] == ["u, z = 0.5", "u, z = 1", "u, z = 1.5"]
    assert [ax.get_title() for ax in panels[3::3]] == ["e, z = 0.5", "|r|, z = 0.5"]
    for i, name in enumerate(("u", "e", "|r|")):
        row = panels[3 * i : 3 * i + 3]
        for ax, k in zip(row, (5, 10, 15)):
            drawn = _mesh(ax).get_array()
            expected = np.where(inside[:, :, k], fields.fields[name][:, :, k], np.nan).T
            np.testing.assert_allclose(drawn.filled(np.nan), expected)
        assert len({_mesh(ax).get_clim() for ax in row}) == 1  # one scale for the field's three planes
        assert _mesh(row[-1]).colorbar.ax.get_ylabel() == name
        assert row[0].get_ylabel() == "y" and row[-1].get_aspect() == 1.0
    on_planes = [inside[:, :, k] for k in (5, 10, 15)]

    def planes(name):
        return np.concatenate([fields.fields[name][:, :, k][m] for k, m in zip((5, 10, 15), on_planes)])

    assert _mesh(panels[0]).get_clim() == pytest.approx((planes("u").min(), planes("u").max()))
    m = np.abs(planes("e")).max()
    # 0.1 y z: at z = 1.5 the ball's section has radius 0.87, and its largest grid |y| is 0.8
    assert _mesh(panels[3]).get_clim() == pytest.approx((-m, m)) and m == pytest.approx(0.1 * 0.8 * 1.5)
    assert _mesh(panels[6]).get_clim() == pytest.approx((0.0, planes("|r|").max())) == (0.0, 0.2 + 1.5**2)
    assert [ax.get_xlabel() for ax in panels[6:]] == ["x", "x", "x"]


def test_a_grid_of_three_heights_draws_them_all_and_single_point_axes_are_named():
    x = np.linspace(0, 1, 11)
    z = np.array([0.1, 0.2, 0.9])  # not a quarter, half and three quarters: drawn as given
    X, Y, Z = _mesh_grid(x, x, z)
    fields = GridFields(("x", "y", "z"), (x, x, z), {"u": X * Y * Z}, {"u": "values"})
    panels = _maps(plot_fields(fields))
    assert [ax.get_title() for ax in panels] == ["u, z = 0.1", "u, z = 0.2", "u, z = 0.9"]
    np.testing.assert_allclose(_mesh(panels[2]).get_array(), fields.fields["u"][:, :, 2].T)
    # a single z is a cut: one plane, its place in the title
    cut = GridFields(("x", "y", "z"), (x, x, z[1:2]), {"u": (X * Y * Z)[:, :, 1:2]}, {"u": "values"})
    (ax,) = _maps(plot_fields(cut))
    assert ax.get_title() == "u, z = 0.2" and (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    np.testing.assert_allclose(_mesh(ax).get_array(), 0.2 * np.outer(x, x).T)


def test_three_space_axes_and_time_draw_the_middle_plane_at_three_times(tmp_path):
    x, y, z, t = np.linspace(0, 1, 11), np.linspace(0, 1, 13), np.linspace(0, 1, 5), np.linspace(0, 2, 9)
    X, Y, Z, T = _mesh_grid(x, y, z, t)
    fields = GridFields(
        ("x", "y", "z", "t"), (x, y, z, t),
        {
            "u": np.exp(-2 * T) * np.sin(PI * X) * (1 + Y) + Z,
            "|r|": 1 + T * X,  # largest 1, 2, 3 at the times drawn: one scale
            "e": np.exp(-4 * T) * (X - 0.7),  # decays e^4 per unit of time: a scale per time
        },
        {"u": "values", "|r|": "magnitude", "e": "signed"},
        time_axis="t",
    )
    fig = plot_fields(fields, tmp_path / "xyzt.png")
    assert _ink(tmp_path / "xyzt.png") > 0.1
    panels = _maps(fig)
    assert [ax.get_title() for ax in panels[:3]] == ["u, z = 0.5, t = 0", "u, z = 0.5, t = 1", "u, z = 0.5, t = 2"]
    assert len(_bars(panels)) == 3 + 1 + 3  # values and the decaying error: a bar per panel; |r| one for its row
    for col, k in enumerate((0, 4, 8)):
        u = fields.fields["u"][:, :, 2, k]
        np.testing.assert_allclose(_mesh(panels[col]).get_array(), u.T)
        assert _mesh(panels[col]).get_clim() == pytest.approx((u.min(), u.max()))  # each time its own scale
        np.testing.assert_allclose(_mesh(panels[3 + col]).get_array(), fields.fields["|r|"][:, :, 2, k].T)
        assert _mesh(panels[3 + col]).get_clim() == pytest.approx((0.0, 1.0 + 2.0))  # shared, from zero
        top = 0.7 * np.exp(-4 * t[k])  # |x - 0.7| is largest at x = 0
        assert _mesh(panels[6 + col]).get_clim() == pytest.approx((-top, top))  # symmetric, its own
    assert (panels[3].get_ylabel(), panels[7].get_xlabel()) == ("y", "x")


def test_magnitudes_spanning_decades_get_a_log_scale_and_lone_spikes_are_clipped():
    x = y = np.linspace(-1, 1, 41)
    X, Y = _mesh_grid(x, y)
    decades = np.exp(-20 * (X**2 + Y**2))  # 1 at the centre, e^-40 in the corners
    spike = 0.5 + 0.1 * X
    spike[20, 20] = 1e6  # one point far above the others (a singular residual on an edge)
    fields = GridFields(("x", "y"), (x, y), {"decades": decades, "spike": spike}, {"decades": "magnitude", "spike": "magnitude"})
    fig = plot_fields(fields)
    log_ax, clipped = _maps(fig)
    norm = _mesh(log_ax).norm
    assert isinstance(norm, LogNorm) and norm.vmax == pytest.approx(1.0)
    assert norm.vmin == pytest.approx(max(np.percentile(decades, 1), 1e-6))
    # below the scale's bottom: the palest colour, not blank (blank means outside the domain)
    assert not np.ma.getmaskarray(_mesh(log_ax).get_array()).any()
    assert _mesh(log_ax).get_array().min() == pytest.approx(norm.vmin)
    # the spike: a linear scale from zero to the 99th percentile, an arrow, the largest value named
    lo, hi = _mesh(clipped).get_clim()
    assert lo == 0.0 and hi == pytest.approx(np.percentile(spike, 99))
    bar = _mesh(clipped).colorbar
    assert bar.extend == "max" and bar.ax.get_ylabel() == "spike (largest 1e+06)"
    assert _mesh(log_ax).colorbar.extend == "min"


def test_refusals_name_the_fix():
    with pytest.raises(TypeError, match="takes a GridFields"):
        plot_fields({"u": np.zeros(3)})
    x = np.linspace(0, 1, 3)
    fields = GridFields(("x",), (x,), {"u": x}, {"u": "values"})
    with pytest.raises(TypeError, match="title must be a str"):
        plot_fields(fields, title=3)
    with pytest.raises(ValueError, match="every axis has a single point"):
        GridFields(("x", "y"), (x[:1], x[:1]), {"u": np.zeros((1, 1))}, {"u": "values"})
    with pytest.raises(ValueError, match="needs a kind, one of"):
        GridFields(("x",), (x,), {"u": x}, {"u": "log"})
    with pytest.raises(ValueError, match="select one or more of the fields"):
        fields.select(["v"])


def test_with_field_adds_values_on_the_grid_blank_outside():
    x = np.linspace(0, 1, 4)
    mask = np.array([True, True, False, True])
    fields = GridFields(("x",), (x,), {"u": x}, {"u": "values"}, mask=mask)
    more = fields.with_field("estimated error", fields.points()[:, 0] * 2, "magnitude")
    assert more.names == ("u", "estimated error") and more.kinds["estimated error"] == "magnitude"
    np.testing.assert_array_equal(more.fields["estimated error"], [0.0, 2 / 3, np.nan, 2.0])
    assert fields.names == ("u",)  # the original is unchanged
