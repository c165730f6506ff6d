"""2-D spectral heat reference: exact separable solutions, spectral convergence with a variable
conductivity, agreement with Crank–Nicolson (extrapolated, and at its defaults on heat2d_varcoef),
a constant state, bad input."""

import numpy as np
import pytest
from pinnkan.problems import heat2d_varcoef

from pinnkan.reference import solve_heat_2d, solve_heat_2d_spectral

PI = np.pi


def bump(x, y):
    return np.sin(PI * x) * np.sin(PI * y)


# The heat2d_varcoef problem's data, from the problem itself.
VARCOEF = dict(
    conductivity=lambda x, y: heat2d_varcoef.conductivity(x, y, 0.5),
    x_range=(0.0, 1.0),
    y_range=(0.0, 1.0),
    t_range=(0.0, 0.5),
    initial=heat2d_varcoef.initial,
)


def rel_l2(u, reference):
    return np.linalg.norm(u - reference) / np.linalg.norm(reference)


@pytest.fixture(scope="module")
def varcoef_default():
    return solve_heat_2d_spectral(**VARCOEF)


def test_constant_conductivity_on_the_unit_square_is_exact():
    sol = solve_heat_2d_spectral(conductivity=1.0, x_range=(0, 1), y_range=(0, 1), t_range=(0, 0.5), initial=bump,
                                 n=24)
    x, y, t = sol.points().T
    exact = np.exp(-2 * PI**2 * t) * bump(x, y)
    assert sol.axes == ("x", "y", "t") and sol.shape == (51, 51, 51)
    assert np.abs(sol.values.reshape(-1) - exact).max() < 1e-12


def test_two_modes_on_a_shifted_rectangle_and_time_interval_with_nonzero_sides():
    # u = b + sum_m c_m exp(-k pi^2 (p^2 / Lx^2 + q^2 / Ly^2) (t - t0)) sin(p pi (x - a) / Lx) sin(q pi (y - c) / Ly).
    k, (a, lx), (c, ly), t0, b = 0.7, (-1.0, 3.0), (0.5, 1.0), 1.0, -2.0
    modes = ((1, 1, 1.0), (2, 3, 0.3))

    def exact(x, y, t):
        return b + sum(
            amp * np.exp(-k * PI**2 * (p**2 / lx**2 + q**2 / ly**2) * (t - t0))
            * np.sin(p * PI * (x - a) / lx) * np.sin(q * PI * (y - c) / ly)
            for p, q, amp in modes
        )

    sol = solve_heat_2d_spectral(conductivity=k, x_range=(a, a + lx), y_range=(c, c + ly), t_range=(t0, t0 + 0.2),
                                 initial=lambda x, y: exact(x, y, t0), boundary=b, n=24,
                                 save_nx=31, save_ny=21, save_nt=11)
    np.testing.assert_allclose(sol.coords[0], np.linspace(-1, 2, 31), rtol=0, atol=1e-15)
    np.testing.assert_allclose(sol.coords[1], np.linspace(0.5, 1.5, 21), rtol=0, atol=1e-15)
    np.testing.assert_allclose(sol.coords[2], np.linspace(1.0, 1.2, 11), rtol=0, atol=1e-15)
    x, y, t = sol.points().T
    assert np.abs(sol.values.reshape(-1) - exact(x, y, t)).max() < 1e-12


def test_variable_conductivity_converges_spectrally(varcoef_default):
    # Measured against the default (32 points): 5.6e-7, 6.5e-9, 5.5e-11 at 12, 16, 20 points, 5.4e-13 at 24.
    errors = [rel_l2(solve_heat_2d_spectral(**VARCOEF, n=n).values, varcoef_default.values) for n in (12, 16, 20)]
    assert errors[0] < 1e-6
    assert errors[0] / errors[1] > 50 and errors[1] / errors[2] > 50, errors
    assert rel_l2(solve_heat_2d_spectral(**VARCOEF, n=24).values, varcoef_default.values) < 1e-11


def test_agrees_with_extrapolated_crank_nicolson_for_an_unsymmetric_conductivity():
    # k and the rectangle are not symmetric under x <-> y, so a transposed operator would show (it differs by 2.7e-2).
    # Crank–Nicolson is second order in space and time together, so (4 fine - coarse) / 3 cancels the leading error:
    # measured 1.6e-8 from it, against 2.4e-4 and 5.9e-5 from the two solves alone.
    problem = dict(conductivity=lambda x, y: 1 + 0.5 * x + 0.25 * y**2, x_range=(0, 2), y_range=(0, 1),
                   t_range=(0, 0.1), initial=lambda x, y: np.sin(PI * x / 2) * np.sin(PI * y),
                   save_nx=21, save_ny=11, save_nt=11)
    coarse = solve_heat_2d(**problem, nx=81, ny=41, nt=100).values
    fine = solve_heat_2d(**problem, nx=161, ny=81, nt=200).values
    spectral = solve_heat_2d_spectral(**problem, n=20).values
    assert 3.5 < rel_l2(coarse, spectral) / rel_l2(fine, spectral) < 4.5
    assert rel_l2((4 * fine - coarse) / 3, spectral) < 1e-7


def test_crank_nicolson_defaults_on_heat2d_varcoef_are_off_by_their_stated_error(varcoef_default):
    # Crank–Nicolson's stated error there is 4.3e-6; measured 4.30e-6 against the spectral solution.
    fd = solve_heat_2d(**VARCOEF)
    for fd_axis, spectral_axis in zip(fd.coords, varcoef_default.coords):
        np.testing.assert_allclose(fd_axis, spectral_axis, rtol=0, atol=1e-15)
    assert 2e-6 < rel_l2(fd.values, varcoef_default.values) < 7e-6


def test_a_constant_state_equal_to_the_sides_stays():
    sol = solve_heat_2d_spectral(conductivity=VARCOEF["conductivity"], x_range=(0, 1), y_range=(0, 2),
                                 t_range=(0, 1), initial=lambda x, y: np.full_like(x, 3.25), boundary=3.25, n=12,
                                 save_nx=11, save_ny=21, save_nt=6)
    assert np.abs(sol.values - 3.25).max() < 1e-13


def test_bad_input_names_the_fix():
    base = dict(conductivity=1.0, x_range=(0, 1), y_range=(0, 1), t_range=(0, 0.1), initial=bump, n=8)
    with pytest.raises(ValueError, match="conductivity must be a finite number > 0, got -1.0"):
        solve_heat_2d_spectral(**{**base, "conductivity": -1.0})
    # The smallest value at a collocation point (sides included).
    with pytest.raises(ValueError, match=r"\(x, y\) must be > 0 everywhere; it is -0.5 at \(x, y\) = \(0, 0\)"):
        solve_heat_2d_spectral(**{**base, "conductivity": lambda x, y: x - 0.5})
    with pytest.raises(ValueError, match=r"conductivity\(x, y\) returned NaN or infinity"):
        solve_heat_2d_spectral(**{**base, "conductivity": lambda x, y: np.where(y > 0.5, np.inf, 1.0)})
    with pytest.raises(ValueError, match=r"initial\(x, y\) returned NaN or infinity"):
        solve_heat_2d_spectral(**{**base, "initial": lambda x, y: np.where(x > 0.5, np.nan, 0.0)})
    with pytest.raises(ValueError, match=r"initial\(x, y\) must return one value per point, shape \(8, 8\); got"):
        solve_heat_2d_spectral(**{**base, "initial": lambda x, y: x[:, 0]})
    for n in (2, 65):
        with pytest.raises(ValueError, match=rf"n must be an int from 3 to 64 \(the time step .*\), got {n}"):
            solve_heat_2d_spectral(**{**base, "n": n})
    with pytest.raises(ValueError, match=r"x_range must be finite with lo < hi, got \(1.0, 0.0\)"):
        solve_heat_2d_spectral(**{**base, "x_range": (1, 0)})
    with pytest.raises(ValueError, match="boundary must be a finite number, got nan"):
        solve_heat_2d_spectral(**base, boundary=float("nan"))
    with pytest.raises(TypeError, match="boundary must be a number for solve_heat_2d_spectral; use solve_heat_2d"):
        solve_heat_2d_spectral(**base, boundary=lambda x, y, t: 0 * x)
    with pytest.raises(ValueError, match="save_nt must be an int >= 2, got 1"):
        solve_heat_2d_spectral(**base, save_nt=1)
