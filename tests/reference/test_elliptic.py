"""Five-point Poisson/Helmholtz reference: accuracy at the defaults against manufactured solutions,
observed orders with and without Richardson extrapolation, the Poisson sign, bad input."""

import numpy as np
import pytest

from pinnkan.reference import solve_helmholtz_2d, solve_poisson_2d

PI = np.pi


def poisson_exact(x, y):
    # Nonzero on the sides y = 1 and x = 1.
    return np.sin(PI * x) * np.sin(2 * PI * y) + x**2 * y


def poisson_source(x, y):
    # f = -Laplace(u).
    return 5 * PI**2 * np.sin(PI * x) * np.sin(2 * PI * y) - 2 * y


def helmholtz_exact(x, y):
    # The helmholtz2d problem: Laplace(u) + k^2 u = q on [-1, 1]^2, k = 1, zero sides.
    return np.sin(PI * x) * np.sin(4 * PI * y)


def helmholtz_source(x, y):
    return (1 - 17 * PI**2) * helmholtz_exact(x, y)


def rel_error(sol, exact):
    u = exact(*sol.points().T).reshape(sol.shape)
    return np.linalg.norm(sol.values - u) / np.linalg.norm(u)


def poisson_error(**grid):
    sol = solve_poisson_2d(source=poisson_source, boundary=poisson_exact, x_range=(0, 1), y_range=(0, 1), **grid)
    return rel_error(sol, poisson_exact)


def helmholtz_error(**grid):
    sol = solve_helmholtz_2d(k=1.0, source=helmholtz_source, x_range=(-1, 1), y_range=(-1, 1), **grid)
    return rel_error(sol, helmholtz_exact)


def observed_order(sizes, errors):
    slope, _ = np.polyfit(np.log(sizes), np.log(errors), 1)
    return slope


def test_default_resolution_matches_the_manufactured_solutions():
    # Measured 6.6e-10 (Poisson) and 2.3e-7 (helmholtz2d); the poisson2d and helmholtz2d
    # problems need at most 1e-7 and 1e-5.
    assert poisson_error() <= 2e-9
    assert helmholtz_error() <= 5e-7


@pytest.mark.parametrize(
    ("extrapolate", "expected"), [(False, 2.0), (True, 4.0)], ids=["five-point", "richardson"]
)
def test_observed_order_poisson(extrapolate, expected):
    # nx - 1 odd and ny = 2 nx - 1: extrapolation needs no particular grid, the spacing may differ per axis.
    nxs = [10, 20, 40, 80]
    errors = [poisson_error(nx=n, ny=2 * n - 1, extrapolate=extrapolate) for n in nxs]
    order = observed_order([1.0 / (n - 1) for n in nxs], errors)
    assert abs(order - expected) < 0.2, (order, errors)


@pytest.mark.parametrize(
    ("extrapolate", "expected"), [(False, 2.0), (True, 4.0)], ids=["five-point", "richardson"]
)
def test_observed_order_helmholtz(extrapolate, expected):
    nxs = [21, 41, 81, 161]
    errors = [helmholtz_error(nx=n, ny=n, extrapolate=extrapolate) for n in nxs]
    order = observed_order([1.0 / (n - 1) for n in nxs], errors)
    assert abs(order - expected) < 0.2, (order, errors)


def test_poisson_is_helmholtz_with_k_zero_and_the_source_negated():
    grid = dict(boundary=poisson_exact, x_range=(0, 1), y_range=(0, 1), nx=31, ny=21)
    poisson = solve_poisson_2d(source=poisson_source, **grid)
    helmholtz = solve_helmholtz_2d(k=0.0, source=lambda x, y: -poisson_source(x, y), **grid)
    np.testing.assert_allclose(poisson.values, helmholtz.values, rtol=0, atol=1e-13)
    assert poisson.axes == ("x", "y") and poisson.source == "fd"
    assert rel_error(poisson, poisson_exact) < 1e-5  # 5.8e-6 on this coarse grid


def test_constant_boundary_data():
    # u = 2 solves Laplace(u) + 9 u = 18 exactly, also on the grid.
    sol = solve_helmholtz_2d(k=3.0, source=lambda x, y: np.full_like(x, 18.0), boundary=2.0,
                             x_range=(0, 1), y_range=(0, 2), nx=11, ny=21)
    np.testing.assert_allclose(sol.values, 2.0, rtol=0, atol=1e-12)


def test_resonance_is_reported():
    # One interior point at spacing 1: the grid's -Laplace is 4, and k^2 = 4 makes the system singular.
    with pytest.raises(ValueError, match=r"singular: k\^2 = 4 is an eigenvalue.*change k, nx or ny"):
        solve_helmholtz_2d(k=2.0, source=lambda x, y: x, x_range=(0, 2), y_range=(0, 2), nx=3, ny=3, extrapolate=False)


def test_bad_input_names_the_fix():
    base = dict(source=helmholtz_source, x_range=(-1, 1), y_range=(-1, 1), nx=11, ny=11)
    with pytest.raises(ValueError, match="k must be a finite number >= 0, got -1.0"):
        solve_helmholtz_2d(k=-1.0, **base)
    with pytest.raises(TypeError, match="k must be a real number, got str"):
        solve_helmholtz_2d(k="1", **base)
    with pytest.raises(ValueError, match="k must be a finite number >= 0, got nan"):
        solve_helmholtz_2d(k=float("nan"), **base)
    with pytest.raises(ValueError, match="nx must be an int >= 3, got 2"):
        solve_helmholtz_2d(k=1.0, **{**base, "nx": 2})
    with pytest.raises(ValueError, match=r"y_range must be finite with lo < hi"):
        solve_helmholtz_2d(k=1.0, **{**base, "y_range": (1, -1)})
    with pytest.raises(TypeError, match=r"source must be a function of \(x, y\), got float"):
        solve_poisson_2d(source=1.0, x_range=(0, 1), y_range=(0, 1))
    with pytest.raises(ValueError, match=r"source\(x, y\) must return one value per point, shape \(9, 9\); got"):
        solve_helmholtz_2d(k=1.0, **{**base, "source": lambda x, y: x[:3, 0]})
    with pytest.raises(ValueError, match=r"source\(x, y\) returned NaN or infinity"):
        solve_poisson_2d(source=lambda x, y: np.where(x > 0.5, np.nan, x), x_range=(0, 1), y_range=(0, 1), nx=11, ny=11)
    with pytest.raises(ValueError, match=r"boundary\(x, y\) must return one value per point, shape \(40,\)"):
        solve_helmholtz_2d(k=1.0, boundary=lambda x, y: np.zeros(3), **base)
    with pytest.raises(ValueError, match="boundary must be finite, got inf"):
        solve_helmholtz_2d(k=1.0, boundary=float("inf"), **base)
    with pytest.raises(TypeError, match=r"boundary must be a number or a function of \(x, y\), got str"):
        solve_helmholtz_2d(k=1.0, boundary="zero", **base)
