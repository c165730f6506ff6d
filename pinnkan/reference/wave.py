"""Leapfrog finite differences for the 1-D wave equation ``u_tt = c^2 u_xx + r(u) + f(x, t)``.

Central differences in space and time, second order in both; the first step is the
Taylor step ``u^1 = u^0 + dt v + dt^2 / 2 u_tt(0)``, which keeps second order. A
reaction ``r(u)`` (for example ``-u^3`` in the Klein–Gordon equation) is explicit
like the rest. The scheme is stable for ``c dt / dx <= 1``. Optionally a second march
at half the steps, Richardson-extrapolated, cancels the leading error term. Numpy in,
numpy out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from ..errors import InputTypeError, InputValueError
from ._checks import count, interval, on_grid, positive, save_strides, time_value
from .grid import GridSolution
from .heat import DirichletEnd

__all__ = ["solve_wave_1d"]

DEFAULT_COURANT = 0.5


def solve_wave_1d(
    *,
    speed: float,
    x_range: tuple[float, float],
    t_range: tuple[float, float],
    initial: Callable[[np.ndarray], np.ndarray],
    velocity: Callable[[np.ndarray], np.ndarray] | None = None,
    reaction: Callable[[np.ndarray], np.ndarray] | None = None,
    source: Callable[[np.ndarray, float], np.ndarray] | None = None,
    left: DirichletEnd = DirichletEnd(),
    right: DirichletEnd = DirichletEnd(),
    nx: int = 2001,
    nt: int | None = None,
    save_nx: int = 201,
    save_nt: int = 101,
    richardson: bool = False,
) -> GridSolution:
    """Solve ``u_tt = speed^2 u_xx + reaction(u) + source(x, t)`` by leapfrog on a uniform grid.

    Parameters
    ----------
    speed : float
        Wave speed ``c > 0``.
    x_range, t_range : (float, float)
        Space interval ``[a, b]`` and time interval ``[t0, t1]``.
    initial : callable
        ``u(x, t0)`` for a numpy array of x.
    velocity : callable, optional
        ``u_t(x, t0)``; None means zero.
    reaction : callable, optional
        ``r(u)``, elementwise on a numpy array; None means zero.
    source : callable, optional
        ``f(x, t)`` for a numpy array of x and a float t; None means zero.
    left, right : DirichletEnd
        Values at ``x = a`` and ``x = b`` (numbers or functions of t).
    nx : int
        Grid points in space, ends included.
    nt : int, optional
        Time steps; ``speed dt / dx`` must not exceed 1. None chooses the fewest steps,
        a multiple of ``save_nt - 1``, with ``speed dt / dx <= 0.5``.
    save_nx, save_nt : int
        Points per axis of the returned grid, taken at evenly spaced grid indices;
        need ``(nx - 1) % (save_nx - 1) == 0`` and ``nt % (save_nt - 1) == 0``.
    richardson : bool
        Solve again with half the space and time steps and return ``(4 u_fine - u) / 3`` at
        the saved points, which cancels the leading ``O(h^2)`` error (five times the work).

    Returns
    -------
    GridSolution
        Axes ``("x", "t")``, values of shape ``(save_nx, save_nt)``, source ``"fd"``.

    Examples
    --------
    >>> sol = solve_wave_1d(speed=2.0, x_range=(0, 1), t_range=(0, 1),
    ...                     initial=lambda x: np.sin(np.pi * x))
    >>> sol.values.shape
    (201, 101)
    """
    speed = positive(speed, "speed")
    a, b = interval(x_range, "x_range")
    t0, t1 = interval(t_range, "t_range")
    for name, end in (("left", left), ("right", right)):
        if not isinstance(end, DirichletEnd):
            raise InputTypeError(f"{name} must be DirichletEnd(value=...), got {end!r}")
    if not isinstance(richardson, bool):
        raise InputTypeError(f"richardson must be True or False, got {richardson!r}")
    nx = count(nx, "nx")
    save_nx, save_nt = count(save_nx, "save_nx", 2), count(save_nt, "save_nt", 2)
    dx = (b - a) / (nx - 1)
    stable = _fewest_steps(speed, dx, t1 - t0, 1.0, save_nt - 1)
    if nt is None:
        nt = _fewest_steps(speed, dx, t1 - t0, DEFAULT_COURANT, save_nt - 1)
    nt = count(nt, "nt", 1)
    save_strides(nx, nt, save_nx, save_nt)  # (raises unless the saved grid is part of this one)
    dt = (t1 - t0) / nt
    if speed * dt / dx > 1.0:
        raise InputValueError(
            f"leapfrog is unstable at speed dt / dx = {speed * dt / dx:.3g} > 1; use nt >= {stable} "
            f"(a multiple of save_nt - 1) or nt=None"
        )
    march = partial(_leapfrog, speed, (a, b), (t0, t1), initial, velocity, reaction, source, left, right,
                    save_nx=save_nx, save_nt=save_nt)
    coarse = march(nx, nt)
    if not richardson:
        return coarse
    fine = march(2 * nx - 1, 2 * nt)
    return GridSolution(("x", "t"), coarse.coords, (4.0 * fine.values - coarse.values) / 3.0, "fd")


def _leapfrog(
    speed: float,
    x_range: tuple[float, float],
    t_range: tuple[float, float],
    initial: Callable[[np.ndarray], np.ndarray],
    velocity: Callable[[np.ndarray], np.ndarray] | None,
    reaction: Callable[[np.ndarray], np.ndarray] | None,
    source: Callable[[np.ndarray, float], np.ndarray] | None,
    left: DirichletEnd,
    right: DirichletEnd,
    nx: int,
    nt: int,
    *,
    save_nx: int,
    save_nt: int,
) -> GridSolution:
    """The leapfrog march of :func:`solve_wave_1d` on ``nx`` points and ``nt`` steps (checked)."""
    (a, b), (t0, t1) = x_range, t_range
    dx = (b - a) / (nx - 1)
    x_stride, t_stride = save_strides(nx, nt, save_nx, save_nt)
    dt = (t1 - t0) / nt
    x = np.linspace(a, b, nx)
    u = on_grid(initial(x), nx, "initial(x)")
    v = np.zeros(nx) if velocity is None else on_grid(velocity(x), nx, "velocity(x)")

    def acceleration(u: np.ndarray, t: float) -> np.ndarray:
        acc = np.zeros(nx)
        acc[1:-1] = speed**2 * (u[2:] - 2.0 * u[1:-1] + u[:-2]) / dx**2
        if reaction is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                r = on_grid(reaction(u), nx, "reaction(u)", finite=False)
            if not np.all(np.isfinite(r)):
                raise InputValueError(
                    f"reaction(u) is not finite at t = {t:.6g}: the solution is blowing up (use a larger nt) "
                    "or the reaction is undefined for its values"
                )
            acc[1:-1] += r[1:-1]
        if source is not None:
            acc[1:-1] += on_grid(source(x, t), nx, "source(x, t)")[1:-1]
        return acc

    def with_ends(u: np.ndarray, t: float) -> np.ndarray:
        u[0], u[-1] = time_value(left.value, t), time_value(right.value, t)
        return u

    saved = np.empty((save_nx, save_nt))
    saved[:, 0] = u[::x_stride]
    previous = u
    u = with_ends(u + dt * v + 0.5 * dt**2 * acceleration(u, t0), t0 + dt)
    for n in range(1, nt + 1):
        if n % t_stride == 0:
            saved[:, n // t_stride] = u[::x_stride]
        if n < nt:
            t = t0 + n * dt
            previous, u = u, with_ends(2.0 * u - previous + dt**2 * acceleration(u, t), t + dt)
    if not np.all(np.isfinite(saved)):
        raise InputValueError("the solution is not finite; use a larger nt")
    times = np.linspace(t0, t1, save_nt)
    return GridSolution(("x", "t"), (x[::x_stride], times), saved, "fd")


def _fewest_steps(speed: float, dx: float, duration: float, courant: float, multiple: int) -> int:
    """The fewest time steps, a multiple of ``multiple``, with ``speed dt / dx <= courant``."""
    steps = math.ceil(speed * duration / (courant * dx) * (1 - 1e-12))
    return multiple * math.ceil(steps / multiple)
