"""Leapfrog reference: accuracy at the defaults, observed second order, a nonlinear reaction, bad input."""

import numpy as np
import pytest

from pinnkan.reference import DirichletEnd, solve_wave_1d

PI = np.pi


def wave_exact(x, t):
    # u_tt = 4 u_xx on [0, 1], zero ends, at rest at t = 0.
    return np.sin(PI * x) * np.cos(2 * PI * t) + 0.5 * np.sin(4 * PI * x) * np.cos(8 * PI * t)


def kg_exact(x, t):
    # Klein–Gordon u_tt - u_xx + u^3 = f, manufactured (a standard PINN test case).
    return x * np.cos(5 * PI * t) + (x * t) ** 3


def kg_source(x, t):
    u = kg_exact(x, t)
    u_tt = -25 * PI**2 * x * np.cos(5 * PI * t) + 6 * x**3 * t
    u_xx = 6 * x * t**3
    return u_tt - u_xx + u**3


def wave_error(**grid):
    sol = solve_wave_1d(speed=2.0, x_range=(0.0, 1.0), t_range=(0.0, 1.0), initial=lambda x: wave_exact(x, 0.0), **grid)
    exact = wave_exact(*sol.points().T).reshape(sol.values.shape)
    return np.linalg.norm(sol.values - exact) / np.linalg.norm(exact)


def kg_error(**grid):
    sol = solve_wave_1d(
        speed=1.0, x_range=(0.0, 1.0), t_range=(0.0, 1.0),
        initial=lambda x: kg_exact(x, 0.0), velocity=lambda x: np.zeros_like(x),
        reaction=lambda u: -(u**3), source=kg_source,
        left=DirichletEnd(value=0.0), right=DirichletEnd(value=lambda t: kg_exact(1.0, t)), **grid,
    )
    exact = kg_exact(*sol.points().T).reshape(sol.values.shape)
    return np.linalg.norm(sol.values - exact) / np.linalg.norm(exact)


def observed_order(sizes, errors):
    slope, _ = np.polyfit(np.log(sizes), np.log(errors), 1)
    return slope


def test_default_resolution_matches_the_exact_solutions():
    # At most 1e-5: a hundredth of the wave1d (1e-2) and klein_gordon1d (1e-3) targets.
    assert wave_error() <= 1e-5
    assert kg_error() <= 1e-5


@pytest.mark.parametrize("error", [wave_error, kg_error], ids=["wave", "klein_gordon"])
def test_second_order_at_a_fixed_courant_number(error):
    nxs = [41, 81, 161, 321]
    errors = [error(nx=nx, nt=8 * (nx - 1), save_nx=11, save_nt=11) for nx in nxs]  # c dt / dx <= 0.25
    order = observed_order([1.0 / (n - 1) for n in nxs], errors)
    assert abs(order - 2.0) < 0.2, (order, errors)


def test_the_default_step_count_keeps_the_courant_number_at_one_half():
    # nx = 201 (dx = 1/200) and speed 2: dt <= 0.5 dx / 2 = 1/800, in multiples of 100 steps.
    sol_default = solve_wave_1d(speed=2.0, x_range=(0, 1), t_range=(0, 1), initial=np.sin, nx=201, save_nx=11)
    sol_explicit = solve_wave_1d(speed=2.0, x_range=(0, 1), t_range=(0, 1), initial=np.sin, nx=201, nt=800, save_nx=11)
    np.testing.assert_array_equal(sol_default.values, sol_explicit.values)


def test_bad_input_names_the_fix():
    base = dict(x_range=(0.0, 1.0), t_range=(0.0, 1.0), initial=np.sin)
    with pytest.raises(ValueError, match=r"unstable at speed dt / dx = 4 > 1; use nt >= 400"):
        solve_wave_1d(speed=2.0, nx=201, nt=100, save_nx=11, **base)
    with pytest.raises(ValueError, match="speed must be a finite number > 0"):
        solve_wave_1d(speed=0.0, **base)
    with pytest.raises(TypeError, match="left must be DirichletEnd"):
        solve_wave_1d(speed=1.0, left=0.0, **base)
    with pytest.raises(ValueError, match=r"source\(x, t\) must return 2001 finite values"):
        solve_wave_1d(speed=1.0, source=lambda x, t: x[:3], **base)
    with pytest.raises(ValueError, match=r"reaction\(u\) is not finite at t = .*use a larger nt"):
        solve_wave_1d(speed=1.0, nx=101, save_nx=11, reaction=lambda u: 1e6 * u**3, **base)


@pytest.mark.parametrize("error", [wave_error, kg_error], ids=["wave", "klein_gordon"])
def test_richardson_extrapolation_raises_the_order_above_three(error):
    nxs = [101, 201, 401]
    errors = [error(nx=nx, save_nx=11, save_nt=11, richardson=True) for nx in nxs]
    order = observed_order([1.0 / (n - 1) for n in nxs], errors)
    # (measured: 3.5 for Klein-Gordon, 4.0 for the wave; leapfrog alone 2.0)
    assert order > 3.3, (order, errors)


def test_klein_gordon1d_reference_is_a_hundred_times_below_its_target():
    # The problem's reference (nx = 1001, Richardson): issue 25's target is 1.4e-6.
    assert kg_error(nx=1001, richardson=True) <= 1.4e-8
