"""Crank–Nicolson reference: accuracy at the defaults and observed orders of convergence."""

import numpy as np
import pytest

from pinnkan.reference import DirichletEnd, GridSolution, NeumannEnd, solve_heat_1d

ALPHA = 0.4


def sine_exact(p):
    return np.exp(-ALPHA * np.pi**2 * p[:, 1]) * np.sin(np.pi * p[:, 0])


def cosine_exact(p):
    return np.exp(-ALPHA * np.pi**2 * p[:, 1]) * np.cos(np.pi * p[:, 0])


def mixed_exact(p):
    # u = exp(-alpha t) sin(x + 0.5): u_t = alpha u_xx.
    return np.exp(-ALPHA * p[:, 1]) * np.sin(p[:, 0] + 0.5)


CASES = {
    "dirichlet": dict(exact=sine_exact, initial=lambda x: np.sin(np.pi * x), left=DirichletEnd(), right=DirichletEnd()),
    "neumann": dict(exact=cosine_exact, initial=lambda x: np.cos(np.pi * x), left=NeumannEnd(), right=NeumannEnd()),
    "mixed, time-dependent": dict(
        exact=mixed_exact,
        initial=lambda x: np.sin(x + 0.5),
        left=NeumannEnd(flux=lambda t: np.exp(-ALPHA * t) * np.cos(0.5)),
        right=DirichletEnd(value=lambda t: np.exp(-ALPHA * t) * np.sin(1.5)),
    ),
}


def rel_error(case, **grid):
    sol = solve_heat_1d(alpha=ALPHA, x_range=(0.0, 1.0), t_range=(0.0, 1.0), initial=case["initial"],
                        left=case["left"], right=case["right"], **grid)
    exact = case["exact"](sol.points()).reshape(sol.values.shape)
    return np.linalg.norm(sol.values - exact) / np.linalg.norm(exact)


def observed_order(sizes, errors):
    slope, _ = np.polyfit(np.log(sizes), np.log(errors), 1)
    return slope


def test_default_resolution_matches_exact_solution():
    error = rel_error(CASES["dirichlet"])
    assert error <= 1e-6


@pytest.mark.parametrize("name", list(CASES))
def test_second_order_in_space(name):
    nxs = [21, 41, 81, 161]
    errors = [rel_error(CASES[name], nx=nx, nt=4000, save_nx=11, save_nt=11) for nx in nxs]
    order = observed_order([1.0 / (n - 1) for n in nxs], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


@pytest.mark.parametrize("name", list(CASES))
def test_second_order_in_time(name):
    nts = [10, 20, 40, 80]
    errors = [rel_error(CASES[name], nx=4001, nt=nt, save_nx=11, save_nt=11) for nt in nts]
    order = observed_order([1.0 / n for n in nts], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


def test_grid_points_follow_value_order():
    coords = (np.array([0.0, 0.5, 1.0]), np.array([0.0, 2.0]))
    grid = GridSolution.from_function(lambda p: p[:, 0] + 10 * p[:, 1], ("x", "t"), coords)
    np.testing.assert_array_equal(grid.values, [[0.0, 20.0], [0.5, 20.5], [1.0, 21.0]])
    np.testing.assert_array_equal(grid.values.reshape(-1), grid.points() @ np.array([1.0, 10.0]))
    assert grid.source == "exact"


def test_bad_input_names_the_fix():
    base = dict(x_range=(0.0, 1.0), t_range=(0.0, 1.0), initial=np.sin)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        solve_heat_1d(alpha=-1.0, **base)
    with pytest.raises(ValueError, match=r"x_range must be finite with lo < hi"):
        solve_heat_1d(alpha=1.0, x_range=(1.0, 0.0), t_range=(0.0, 1.0), initial=np.sin)
    with pytest.raises(ValueError, match=r"e.g. nx = 2001"):
        solve_heat_1d(alpha=1.0, nx=1000, **base)
    with pytest.raises(ValueError, match=r"e.g. nt = 2000"):
        solve_heat_1d(alpha=1.0, nt=1001, **base)
    with pytest.raises(TypeError, match=r"DirichletEnd\(value=...\) or NeumannEnd\(flux=...\)"):
        solve_heat_1d(alpha=1.0, left="dirichlet", **base)
    with pytest.raises(ValueError, match="finite values"):
        solve_heat_1d(alpha=1.0, x_range=(0.0, 1.0), t_range=(0.0, 1.0), initial=lambda x: np.full_like(x, np.nan), nx=21, nt=100, save_nx=11, save_nt=11)
    with pytest.raises(ValueError, match="NaN or infinity"):
        GridSolution(("x",), (np.array([0.0, 1.0]),), np.array([0.0, np.nan]), "fd")
