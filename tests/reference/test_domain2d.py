"""Shortley–Weller references on non-box 2-D domains: observed second order against manufactured
solutions (holes, an L-shape, variable k, Neumann faces on and off the grid lines, the heat equation),
exactness for quadratics, very short arms, extrapolation, the saved grid, bad input."""

import numpy as np
import pytest

from pinnkan.pde.geometry import Ball, Box, Disk, SpaceTime, Where
from pinnkan.reference import solve_elliptic_domain, solve_heat_domain


def exact(x, y):
    return np.sin(2 * x + 0.5) * np.cos(1.5 * y) + x**2 * y


def exact_x(x, y):
    return 2 * np.cos(2 * x + 0.5) * np.cos(1.5 * y) + 2 * x * y


def exact_y(x, y):
    return -1.5 * np.sin(2 * x + 0.5) * np.sin(1.5 * y) + x**2


def exact_laplacian(x, y):
    return -6.25 * np.sin(2 * x + 0.5) * np.cos(1.5 * y) + 2 * y


def conductivity(x, y):
    return 1 + 0.5 * np.sin(3 * x) * np.cos(2 * y)


def div_k_grad(x, y):
    # div(k grad u) = k Laplace(u) + k_x u_x + k_y u_y.
    k_x, k_y = 1.5 * np.cos(3 * x) * np.cos(2 * y), -np.sin(3 * x) * np.sin(2 * y)
    return conductivity(x, y) * exact_laplacian(x, y) + k_x * exact_x(x, y) + k_y * exact_y(x, y)


def minus_laplacian(x, y):
    return -exact_laplacian(x, y)


HOLES = Box({"x": (-0.5, 0.5), "y": (-0.5, 0.5)}) - (
    Disk((0.3, 0.3), 0.1) | Disk((-0.3, 0.3), 0.1) | Disk((0.3, -0.3), 0.1) | Disk((-0.3, -0.3), 0.1)
)
L_SHAPE = Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)})
# Its faces lie between grid lines at every resolution below, and its corners are re-entrant corners of the domain.
BOX_HOLE = Box({"x": (0, 1), "y": (0, 1)}) - Box({"x": (0.31, 0.62), "y": (0.27, 0.58)})
SQUARE = Box({"x": (0, 1), "y": (0, 1)})


def near(coordinate, value):
    return Where(lambda c: np.abs(c[coordinate] - value) < 1e-9)


CASES = {
    "holes": dict(domain=HOLES, f=minus_laplacian, dirichlet=[("boundary", exact)]),
    "L-shape": dict(domain=L_SHAPE, f=minus_laplacian, dirichlet=[("boundary", exact)]),
    "holes, variable k": dict(
        domain=HOLES, f=lambda x, y: -div_k_grad(x, y), k=conductivity, dirichlet=[("boundary", exact)]
    ),
    # The face x = -0.5 lies on a grid line: its nodes are unknowns with the ghost-node row.
    "holes, Neumann face on the grid": dict(
        domain=HOLES,
        f=lambda x, y: minus_laplacian(x, y) + 2 * exact(x, y),
        c=2.0,
        dirichlet=[(Where(lambda c: (c["x"] > -0.5 + 1e-9) | (np.abs(c["y"]) > 0.5 - 1e-9)), exact)],
        neumann=[("boundary", lambda x, y: -exact_x(x, y))],
    ),
    # Two Neumann faces meet at (1, 0): each arm of the corner node takes its own face's flux.
    "square, Neumann corner": dict(
        domain=SQUARE,
        f=lambda x, y: -div_k_grad(x, y),
        k=conductivity,
        dirichlet=[("x_min", exact), ("y_max", exact)],
        neumann=[("x_max", exact_x), ("y_min", lambda x, y: -exact_y(x, y))],
    ),
    # The hole's faces cross the grid segments between nodes: shortened Neumann arms; du/dn points into the hole.
    "box hole, Neumann faces off the grid": dict(
        domain=BOX_HOLE,
        f=lambda x, y: -div_k_grad(x, y),
        k=conductivity,
        dirichlet=[(Where(lambda c: (np.abs(c["x"] - 0.5) > 0.5 - 1e-9) | (np.abs(c["y"] - 0.5) > 0.5 - 1e-9)), exact)],
        neumann=[
            (near("x", 0.31), exact_x),
            (near("x", 0.62), lambda x, y: -exact_x(x, y)),
            (near("y", 0.27), exact_y),
            (near("y", 0.58), lambda x, y: -exact_y(x, y)),
        ],
    ),
}


def max_error(sol, u=exact):
    x, y = sol.points()[sol.mask.reshape(-1)].T
    return np.abs(sol.values[sol.mask] - u(x, y)).max()


def observed_order(sizes, errors):
    slope, _ = np.polyfit(np.log(sizes), np.log(errors), 1)
    return slope


@pytest.mark.parametrize("name", list(CASES))
def test_second_order_against_manufactured_solutions(name):
    case = dict(CASES[name])
    domain = case.pop("domain")
    ns = [21, 41, 81]
    errors = [max_error(solve_elliptic_domain(domain, n=n, **case)) for n in ns]
    order = observed_order([1.0 / (n - 1) for n in ns], errors)
    # Measured (max norm over the mask, n = 21, 41, 81): 2.00, 1.99, 2.00, 2.00, 2.00, 2.08.
    assert abs(order - 2.0) < 0.2, (order, errors)
    assert errors[-1] < 1e-4, errors


def test_quadratics_are_exact_and_boundary_nodes_carry_the_boundary_value():
    # Three-point differences with any arm lengths are exact for quadratics, so only the
    # crossings' positions (to rounding) limit the error: u = 1 - x^2 - y^2 + x y on a disk minus a disk.
    domain = Disk((0, 0), 1) - Disk((0.3, 0.1), 0.25)
    u = lambda x, y: 1 - x**2 - y**2 + x * y  # noqa: E731
    sol = solve_elliptic_domain(domain, f=4.0, dirichlet=[("boundary", u)], n=(41, 31))
    assert sol.axes == ("x", "y") and sol.source == "fd" and sol.shape == (41, 31)
    np.testing.assert_array_equal(sol.mask.reshape(-1), domain.inside(sol.points()))
    assert max_error(sol, u) < 1e-12
    on = domain.on_boundary(sol.points()) & sol.mask.reshape(-1)
    assert on.sum() >= 12  # (+-1, 0), (0, +-1), (+-0.6, +-0.8), (+-0.8, +-0.6) at least
    np.testing.assert_array_equal(sol.values.reshape(-1)[on], u(*sol.points()[on].T))
    assert np.all(np.isnan(sol.values[~sol.mask]))


def test_very_short_arms_keep_the_accuracy():
    # A hole passes 3e-9 from the node (0.2, 0): outside the boundary tolerance (1.4e-9), so the node
    # keeps a Shortley-Weller arm of 1.2e-7 h; at 1e-12 the node is on the boundary. The node stays at
    # its boundary value and the error elsewhere is that of an arm of 0.04 h (measured 1.424e-5 and 1.428e-5).
    def solve(gap):
        domain = Box({"x": (-0.5, 0.5), "y": (-0.5, 0.5)}) - Disk((0.0, 0.0), 0.2 - gap)
        return solve_elliptic_domain(domain, f=minus_laplacian, dirichlet=[("boundary", exact)], n=41)

    regular = max_error(solve(1e-3))
    for gap in (3e-9, 1e-12):
        sol = solve(gap)
        assert sol.coords[0][28] == pytest.approx(0.2) and sol.coords[1][20] == 0.0
        assert abs(sol.values[28, 20] - exact(0.2, 0.0)) < 1e-10
        assert abs(max_error(sol) - regular) < 0.01 * regular


def test_extrapolation_lowers_the_error_on_dirichlet_problems():
    # (4 u_{h/2} - u_h) / 3: measured 1.1e-6 against 2.2e-5 for the grid alone (max norm). It is
    # not reliable with Neumann faces between grid lines (the docstring says so).
    plain = solve_elliptic_domain(HOLES, f=minus_laplacian, dirichlet=[("boundary", exact)], n=41)
    richardson = solve_elliptic_domain(
        HOLES, f=minus_laplacian, dirichlet=[("boundary", exact)], n=41, extrapolate=True
    )
    np.testing.assert_array_equal(richardson.mask, plain.mask)
    assert max_error(richardson) < max_error(plain) / 10


def test_saved_grid_is_every_few_grid_lines():
    base = dict(f=minus_laplacian, dirichlet=[("boundary", exact)])
    full = solve_elliptic_domain(L_SHAPE, n=(41, 21), **base)
    saved = solve_elliptic_domain(L_SHAPE, n=(41, 21), save=(11, 6), **base)
    np.testing.assert_array_equal(saved.values, full.values[::4, ::4])
    np.testing.assert_array_equal(saved.mask, full.mask[::4, ::4])
    np.testing.assert_array_equal(saved.coords[0], full.coords[0][::4])


# ----------------------------------------------------------------------------- heat

ONE_HOLE = Box({"x": (0, 1), "y": (0, 1)}) - Disk((0.55, 0.45), 0.21)


def heat_exact(x, y, t):
    return np.cos(2 * t) * exact(x, y) + t * x * y


def heat_source(x, y, t):
    # f = u_t - div(k grad u); div(k grad (x y)) = k_x y + k_y x.
    k_x, k_y = 1.5 * np.cos(3 * x) * np.cos(2 * y), -np.sin(3 * x) * np.sin(2 * y)
    u_t = -2 * np.sin(2 * t) * exact(x, y) + x * y
    return u_t - np.cos(2 * t) * div_k_grad(x, y) - t * (k_x * y + k_y * x)


def heat_error(n, **options):
    sol = solve_heat_domain(
        ONE_HOLE, (0.0, 1.0), initial=lambda x, y: heat_exact(x, y, 0.0), k=conductivity, f=heat_source,
        dirichlet=[("boundary", heat_exact)], n=n, **options,
    )
    x, y, t = sol.points()[sol.mask.reshape(-1)].T
    return np.abs(sol.values[sol.mask] - heat_exact(x, y, t)).max(), sol


def test_heat_second_order_in_space_and_time_together():
    ns = [21, 41, 81]
    errors = [heat_error(n, steps=n - 1, times=5)[0] for n in ns]
    order = observed_order([1.0 / (n - 1) for n in ns], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)  # measured 2.07


def test_heat_second_order_in_time():
    # On a grid fine enough that the time error dominates (measured 5.7e-4 .. 3.5e-5, order 2.00).
    steps = [4, 8, 16]
    errors = [heat_error(81, steps=s, times=5)[0] for s in steps]
    order = observed_order([1.0 / s for s in steps], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


def test_heat_saved_times_and_grid():
    _, sol = heat_error(21, steps=20, times=[0.0, 0.25, 1.0], save=11)
    assert sol.axes == ("x", "y", "t") and sol.shape == (11, 11, 3)
    np.testing.assert_allclose(sol.coords[2], [0.0, 0.25, 1.0], rtol=0, atol=1e-15)
    assert np.array_equal(sol.mask[..., 0], sol.mask[..., 2])
    # At t0 the values are the initial ones, later the boundary nodes carry the boundary values.
    x, y, t = sol.points().T
    inside = sol.mask.reshape(-1)
    first = inside & (t == 0)
    np.testing.assert_array_equal(sol.values.reshape(-1)[first], heat_exact(x[first], y[first], 0.0))
    side = inside & (x == 1.0)
    np.testing.assert_allclose(sol.values.reshape(-1)[side], heat_exact(x[side], y[side], t[side]), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- bad input


def test_bad_domains_name_the_fix():
    base = dict(f=1.0, dirichlet=[("boundary", 0.0)], n=11)
    with pytest.raises(ValueError, match=r"takes the spatial domain, got a SpaceTime; .*solve_heat_domain\(space"):
        solve_elliptic_domain(SpaceTime(Disk((0, 0), 1), (0, 1)), **base)
    with pytest.raises(ValueError, match=r"needs a 2-D domain, got one with coordinates \('x', 'y', 'z'\)"):
        solve_elliptic_domain(Box({"x": (0, 1), "y": (0, 1), "z": (0, 1)}), **base)
    with pytest.raises(ValueError, match=r"needs a 2-D domain"):
        solve_heat_domain(Ball((0, 0, 0), 1), (0, 1), initial=0.0, dirichlet=[("boundary", 0.0)])
    with pytest.raises(TypeError, match=r"takes a pinnkan domain .* got dict"):
        solve_elliptic_domain({"x": (0, 1)}, **base)
    # A thin ring: every grid node is outside or on the boundary.
    with pytest.raises(ValueError, match=r"no grid node lies inside the domain .* on the 3 x 3 grid; use a larger n"):
        solve_elliptic_domain(Disk((0, 0), 1) - Disk((0, 0), 0.9), **{**base, "n": 3})


def test_bad_conditions_name_the_fix():
    base = dict(f=1.0, n=11)
    with pytest.raises(ValueError, match=r"no Dirichlet condition and c = 0 .* singular.*add a Dirichlet condition"):
        solve_elliptic_domain(SQUARE, dirichlet=[], neumann=[("boundary", 0.0)], **base)
    with pytest.raises(ValueError, match=r"unknown part 'x_mid' in dirichlet; this domain has boundary parts \('x_min"):
        solve_elliptic_domain(SQUARE, dirichlet=[("x_mid", 0.0)], **base)
    left = Where(lambda c: c["x"] < 0, name="left", within="x_min")
    with pytest.raises(ValueError, match=r"unknown part 'x_min' \(the `within` of Where\('left'.*parts \('boundary',"):
        solve_elliptic_domain(L_SHAPE, dirichlet=[(left, 0.0)], **base)
    with pytest.raises(TypeError, match=r"dirichlet must be a sequence of \(part, value\) pairs.*wrap the pair in a"):
        solve_elliptic_domain(SQUARE, dirichlet=("boundary", 0.0), **base)
    with pytest.raises(ValueError, match=r"lies on none of the listed parts \(Dirichlet \['x_min'\], Neumann \[\]\)"):
        solve_elliptic_domain(SQUARE, dirichlet=[("x_min", 0.0)], **base)
    with pytest.raises(ValueError, match=r"Neumann part 'boundary' is not perpendicular.*only on axis-parallel parts"):
        solve_elliptic_domain(Disk((0, 0), 1), dirichlet=[], neumann=[("boundary", 0.0)], c=1.0, **base)
    with pytest.raises(ValueError, match=r"Neumann part 'boundary' is not perpendicular"):
        # A Dirichlet square edge and a Neumann hole: the circle is curved.
        solve_elliptic_domain(
            HOLES, dirichlet=[(Where(lambda c: np.abs(c["x"]) > 0.5 - 1e-9), 0.0)], neumann=[("boundary", 0.0)], **base
        )


def test_bad_values_name_the_fix():
    base = dict(dirichlet=[("boundary", 0.0)], n=11)
    with pytest.raises(ValueError, match="f must be finite, got nan"):
        solve_elliptic_domain(SQUARE, f=float("nan"), **base)
    with pytest.raises(ValueError, match=r"f\(x, y\) returned NaN or infinity"):
        solve_elliptic_domain(SQUARE, f=lambda x, y: np.where(x > 0.5, np.inf, 0.0), **base)
    with pytest.raises(ValueError, match=r"the dirichlet value of part 'boundary' must be finite, got inf"):
        solve_elliptic_domain(SQUARE, f=0.0, dirichlet=[("boundary", float("inf"))], n=11)
    half_nan = lambda x, y: np.where(x > 0.5, np.nan, x)  # noqa: E731
    with pytest.raises(ValueError, match=r"the dirichlet value\(x, y\) of part 'boundary' returned NaN"):
        solve_elliptic_domain(SQUARE, f=0.0, dirichlet=[("boundary", half_nan)], n=11)
    with pytest.raises(ValueError, match=r"the neumann value\(x, y\) of part 'boundary' must return one value per"):
        solve_elliptic_domain(SQUARE, f=0.0, dirichlet=[("x_min", 0.0)], neumann=[("boundary", lambda x, y: x[:1])],
                              n=9)
    with pytest.raises(ValueError, match=r"k must be > 0, got -1.0"):
        solve_elliptic_domain(SQUARE, f=0.0, k=-1.0, **base)
    with pytest.raises(ValueError, match=r"k\(x, y\) must be > 0 everywhere in the domain; it is -0.45 at \(0.05, "):
        solve_elliptic_domain(SQUARE, f=0.0, k=lambda x, y: x - 0.5, **base)
    with pytest.raises(ValueError, match=r"\(n - 1\) must be a multiple of \(save - 1\) along y: 10 is not a multiple"):
        solve_elliptic_domain(SQUARE, f=0.0, save=(11, 4), **base)
    with pytest.raises(ValueError, match=r"n must be an int >= 3, got 2"):
        solve_elliptic_domain(SQUARE, f=0.0, dirichlet=[("boundary", 0.0)], n=2)


def test_bad_heat_input_names_the_fix():
    base = dict(initial=0.0, dirichlet=[("boundary", 0.0)], n=11)
    with pytest.raises(ValueError, match=r"steps must be a multiple of \(times - 1\) = 10, got 15; e.g. steps = 20"):
        solve_heat_domain(SQUARE, (0, 1), steps=15, times=11, **base)
    with pytest.raises(ValueError, match=r"times must lie on the step grid .* 0.33 does not with steps = 10"):
        solve_heat_domain(SQUARE, (0, 1), steps=10, times=[0.0, 0.33], **base)
    with pytest.raises(ValueError, match=r"t_range must be finite with lo < hi"):
        solve_heat_domain(SQUARE, (1, 0), **base)
    with pytest.raises(ValueError, match=r"f\(x, y, t\) returned NaN or infinity"):
        solve_heat_domain(SQUARE, (0, 1), f=lambda x, y, t: x * (np.nan if t > 0.5 else 1.0), steps=10, times=2, **base)
