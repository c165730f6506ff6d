"""Burgers references: the Hopf–Cole formula against the PDE and a literature value, the
finite-difference solver against Hopf–Cole (accuracy at the defaults, order of convergence)."""

import math

import numpy as np
import pytest

from pinnkan.reference import burgers_exact_grid, burgers_hopf_cole, solve_burgers_1d
from pinnkan.reference.burgers import _default_nodes, _semi_discrete

NU = 0.01 / math.pi  # the benchmark viscosity


def observed_order(steps, errors):
    slope, _ = np.polyfit(np.log(steps), np.log(errors), 1)
    return slope


def rel_l2(values, reference):
    return np.linalg.norm(values - reference) / np.linalg.norm(reference)


def pde_residual(x, t, h, nu=NU):
    """``u_t + u u_x - nu u_xx`` of the formula by central differences of step h, and the
    largest of the three terms (for scale)."""
    u = burgers_hopf_cole(x, t, nu=nu)
    u_t = (burgers_hopf_cole(x, t + h, nu=nu) - burgers_hopf_cole(x, t - h, nu=nu)) / (2 * h)
    right, left = burgers_hopf_cole(x + h, t, nu=nu), burgers_hopf_cole(x - h, t, nu=nu)
    u_x = (right - left) / (2 * h)
    u_xx = (right - 2 * u + left) / h**2
    scale = max(np.abs(u_t).max(), np.abs(u * u_x).max(), np.abs(nu * u_xx).max())
    return u_t + u * u_x - nu * u_xx, scale


def slope_at_origin(t, h=1e-4):
    """``u_x(0, t)`` by central differences with one Richardson step (error ~h^4)."""

    def central(step):
        return (burgers_hopf_cole(step, t) - burgers_hopf_cole(-step, t)) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


# --- Hopf–Cole -------------------------------------------------------------------------


def test_quadrature_converged_on_benchmark():
    x, t = np.meshgrid(np.linspace(-1, 1, 1001), np.linspace(0, 1, 51), indexing="ij")
    n = _default_nodes(NU, 1.0)
    difference = np.abs(burgers_hopf_cole(x, t) - burgers_hopf_cole(x, t, nodes=2 * n)).max()
    assert difference < 1e-10, difference


def test_small_ratio_of_nu_needs_no_weight_underflow():
    # For small nu the integrand peaks where the Gauss–Hermite weights are below 1e-308;
    # away from the front the solution must match the inviscid one, u = -sin(pi (x - u t)).
    x, t = np.array([0.05, 0.3, 0.6]), 1.0
    u = burgers_hopf_cole(x, t, nu=1e-4)
    np.testing.assert_allclose(u, -np.sin(np.pi * (x - u * t)), atol=1e-3)


@pytest.mark.parametrize(
    ("x", "t", "steps"),
    [
        (np.linspace(-0.9, 0.9, 19)[:, None], np.linspace(0.05, 0.2, 4)[None, :], [4e-3, 2e-3, 1e-3]),
        (np.linspace(-0.01, 0.01, 21)[:, None], np.array([[0.4, 0.5, 0.8]]), [4e-4, 2e-4, 1e-4]),
    ],
    ids=["smooth", "front"],
)
def test_hopf_cole_satisfies_the_pde(x, t, steps):
    errors, scales = zip(*(pde_residual(x, t, h) for h in steps))
    errors = [np.abs(r).max() for r in errors]
    assert errors[-1] < 1e-2 * scales[-1], (errors, scales)
    order = observed_order(steps, errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


def test_initial_condition_and_first_time_derivative():
    x = np.linspace(-1, 1, 401)
    u0 = -np.sin(np.pi * x)
    np.testing.assert_array_equal(burgers_hopf_cole(x, 0.0), u0)
    # Taylor in t: u = u0 + t (nu u0'' - u0 u0') + O(t^2); the remainder must shrink like t^2.
    u0_t = -NU * np.pi**2 * u0 - u0 * (-np.pi * np.cos(np.pi * x))
    times = [1e-3, 5e-4, 2.5e-4]
    errors = [np.abs(burgers_hopf_cole(x, t) - (u0 + t * u0_t)).max() for t in times]
    assert errors[-1] < 1e-5
    assert abs(observed_order(times, errors) - 2.0) < 0.1, errors


def test_boundary_values_vanish_and_solution_is_odd():
    t = np.linspace(0, 1, 101)
    np.testing.assert_allclose(burgers_hopf_cole(np.array([[-1.0], [1.0]]), t), 0.0, atol=1e-13)
    x = np.linspace(0, 1, 201)[:, None]
    np.testing.assert_allclose(burgers_hopf_cole(-x, t), -burgers_hopf_cole(x, t), atol=1e-13)


def test_maximum_slope_matches_basdevant_et_al():
    # Basdevant et al. (1986), Computers & Fluids 14: for nu = 0.01/pi, max_t |u_x(0, t)|
    # = 152.00516, reached at t = 1.6037/pi.
    t_peak = 1.6037 / math.pi
    slope = slope_at_origin(t_peak)
    assert abs(-slope - 152.00516) < 1e-6 * 152.00516, slope
    nearby = slope_at_origin(t_peak + np.linspace(-0.05, 0.05, 21))
    assert np.all(np.abs(nearby) <= abs(slope) + 1e-6)


def test_exact_grid_holds_hopf_cole_values():
    grid = burgers_exact_grid(nx=41, nt=6, t_range=(0.2, 0.7))
    assert grid.source == "exact" and grid.axes == ("x", "t")
    np.testing.assert_allclose(grid.coords[1], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    expected = burgers_hopf_cole(grid.coords[0][:, None], grid.coords[1][None, :])
    np.testing.assert_array_equal(grid.values, expected)


# --- finite differences ----------------------------------------------------------------


@pytest.mark.parametrize(("nu", "t_end"), [(0.1, 1.0), (NU, 0.2)], ids=["nu=0.1", "benchmark, before the front"])
def test_second_order_in_space(nu, t_end):
    nxs = [41, 81, 161, 321]
    errors = []
    for nx in nxs:
        sol = solve_burgers_1d(nu=nu, t_range=(0.0, t_end), nx=nx, nt=11)
        exact = burgers_hopf_cole(sol.coords[0][:, None], sol.coords[1][None, :], nu=nu)
        errors.append(rel_l2(sol.values, exact))
    order = observed_order([2.0 / (n - 1) for n in nxs], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


def test_second_order_through_the_front():
    nxs = [2001, 4001]
    errors = []
    for nx in nxs:
        sol = solve_burgers_1d(nx=nx, nt=11)
        errors.append(rel_l2(sol.values, burgers_exact_grid(nx=nx, nt=11).values))
    assert abs(observed_order([2.0 / (n - 1) for n in nxs], errors) - 2.0) < 0.1, errors


def test_default_resolution_is_within_1e_5_of_hopf_cole():
    # The whole benchmark at the defaults (about 1 s for the solve, 4 s for the formula).
    sol = solve_burgers_1d()
    exact = burgers_exact_grid()
    assert sol.source == "fd" and sol.values.shape == (8001, 101)
    np.testing.assert_array_equal(sol.coords[0], exact.coords[0])
    np.testing.assert_array_equal(sol.coords[1], exact.coords[1])
    assert rel_l2(sol.values, exact.values) < 1e-5


def test_radau_and_bdf_agree():
    bdf = solve_burgers_1d(nx=1001, nt=11)
    radau = solve_burgers_1d(nx=1001, nt=11, method="Radau")
    assert rel_l2(radau.values, bdf.values) < 1e-8


def test_jacobian_matches_finite_differences():
    nx, dx = 12, 2.0 / 11
    rhs, jacobian = _semi_discrete(nx, dx, 0.05)
    v = np.random.default_rng(0).standard_normal(nx - 2)
    h = 1e-6
    columns = [(rhs(0.0, v + h * e) - rhs(0.0, v - h * e)) / (2 * h) for e in np.eye(nx - 2)]
    np.testing.assert_allclose(jacobian(0.0, v).toarray(), np.stack(columns, axis=1), atol=1e-7)


# --- input checks ----------------------------------------------------------------------


def test_bad_input_names_the_fix():
    with pytest.raises(ValueError, match="nu must be a finite number > 0"):
        solve_burgers_1d(nu=-0.1)
    with pytest.raises(ValueError, match="nu must be a finite number > 0"):
        burgers_hopf_cole(0.0, 0.5, nu=math.nan)
    with pytest.raises(TypeError, match="nu must be a real number"):
        burgers_exact_grid(nu="0.01")
    with pytest.raises(ValueError, match=r"x_range must be \(-1, 1\).*rescale x to \[-1, 1\]"):
        solve_burgers_1d(x_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="x_range must be finite with lo < hi"):
        burgers_exact_grid(x_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="t_range must be finite with lo < hi"):
        solve_burgers_1d(t_range=(1.0, 0.5))
    with pytest.raises(ValueError, match="t0 >= 0"):
        solve_burgers_1d(t_range=(-0.5, 1.0))
    with pytest.raises(TypeError, match=r"t_range must be a pair \(lo, hi\)"):
        solve_burgers_1d(t_range=1.0)
    with pytest.raises(ValueError, match="nx must be an int >= 3"):
        solve_burgers_1d(nx=2)
    with pytest.raises(ValueError, match="nt must be an int >= 3"):
        burgers_exact_grid(nt=10.0)
    with pytest.raises(ValueError, match=r"method must be one of \('BDF', 'Radau'\)"):
        solve_burgers_1d(method="RK45", nx=11)
    with pytest.raises(ValueError, match="t must be >= 0"):
        burgers_hopf_cole(0.0, -0.1)
    with pytest.raises(ValueError, match="x and t must broadcast"):
        burgers_hopf_cole(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="x and t must be finite"):
        burgers_hopf_cole(np.inf, 0.5)
    with pytest.raises(ValueError, match="pass nodes= explicitly, or use solve_burgers_1d"):
        burgers_hopf_cole(0.0, 100.0, nu=1.0)
    with pytest.raises(ValueError, match="nodes must be an int >= 2"):
        burgers_hopf_cole(0.0, 0.5, nodes=1)
