"""Crank–Nicolson finite differences for the 1-D heat equation ``u_t = alpha u_xx``.

Second order in space and time. The system matrix is factorised once; each step
is one sparse product and one triangular solve pair. Numpy in, numpy out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import InputTypeError, InputValueError
from ._checks import TimeFunction, count, interval, positive, save_strides, time_value
from .grid import GridSolution

__all__ = ["DirichletEnd", "NeumannEnd", "solve_heat_1d"]


@dataclass(frozen=True, kw_only=True)
class DirichletEnd:
    """Prescribed value at an end: ``u = value(t)`` (a number or a function of t)."""

    value: TimeFunction = 0.0


@dataclass(frozen=True, kw_only=True)
class NeumannEnd:
    """Prescribed slope at an end: ``du/dx = flux(t)`` (plain d/dx, not the outward normal)."""

    flux: TimeFunction = 0.0


End = DirichletEnd | NeumannEnd


def solve_heat_1d(
    *,
    alpha: float,
    x_range: tuple[float, float],
    t_range: tuple[float, float],
    initial: Callable[[np.ndarray], np.ndarray],
    left: End = DirichletEnd(),
    right: End = DirichletEnd(),
    nx: int = 2001,
    nt: int = 2000,
    save_nx: int = 201,
    save_nt: int = 101,
) -> GridSolution:
    """Solve ``u_t = alpha u_xx`` by Crank–Nicolson on a uniform grid.

    Neumann ends use a ghost node (central difference), which keeps second order.

    Parameters
    ----------
    alpha : float
        Diffusivity, ``> 0``.
    x_range, t_range : (float, float)
        Space interval ``[a, b]`` and time interval ``[t0, t1]``.
    initial : callable
        ``u(x, t0)`` for a numpy array of x.
    left, right : DirichletEnd or NeumannEnd
        Conditions at ``x = a`` and ``x = b``.
    nx : int
        Grid points in space, ends included.
    nt : int
        Time steps.
    save_nx, save_nt : int
        Points per axis of the returned grid, taken at evenly spaced grid indices;
        need ``(nx - 1) % (save_nx - 1) == 0`` and ``nt % (save_nt - 1) == 0``.

    Returns
    -------
    GridSolution
        Axes ``("x", "t")``, values of shape ``(save_nx, save_nt)``, source ``"fd"``.

    Examples
    --------
    >>> sol = solve_heat_1d(alpha=0.4, x_range=(0, 1), t_range=(0, 1),
    ...                     initial=lambda x: np.sin(np.pi * x))
    >>> sol.values.shape
    (201, 101)
    """
    alpha = positive(alpha, "alpha")
    a, b = interval(x_range, "x_range")
    t0, t1 = interval(t_range, "t_range")
    for name, end in (("left", left), ("right", right)):
        if not isinstance(end, (DirichletEnd, NeumannEnd)):
            raise InputTypeError(f"{name} must be DirichletEnd(value=...) or NeumannEnd(flux=...), got {end!r}")
    nx, nt = count(nx, "nx"), count(nt, "nt")
    save_nx, save_nt = count(save_nx, "save_nx", 2), count(save_nt, "save_nt", 2)
    x_stride, t_stride = save_strides(nx, nt, save_nx, save_nt)

    x = np.linspace(a, b, nx)
    dx, dt = (b - a) / (nx - 1), (t1 - t0) / nt
    u = np.asarray(initial(x), dtype=np.float64)
    if u.shape != x.shape or not np.all(np.isfinite(u)):
        raise InputValueError(f"initial(x) must return {nx} finite values for {nx} points")

    lap = _laplacian(nx, left, right)  # (nx, nx), scaled by 1/dx^2 below
    r = alpha * dt / dx**2
    eye = sp.identity(nx, format="csr")
    lhs = (eye - 0.5 * r * lap).tolil()
    rhs = (eye + 0.5 * r * lap).tolil()
    dirichlet = [(i, end) for i, end in ((0, left), (nx - 1, right)) if isinstance(end, DirichletEnd)]
    for i, _ in dirichlet:
        lhs[i, :] = 0.0
        lhs[i, i] = 1.0
        rhs[i, :] = 0.0
    solver = splu(lhs.tocsc())
    rhs = rhs.tocsr()

    def ghost(t: float) -> np.ndarray:
        # Neumann ghost node: u_{-1} = u_1 - 2 dx h(t), u_{n} = u_{n-2} + 2 dx h(t).
        g = np.zeros(nx)
        if isinstance(left, NeumannEnd):
            g[0] = -2.0 * dx * time_value(left.flux, t) / dx**2
        if isinstance(right, NeumannEnd):
            g[-1] = 2.0 * dx * time_value(right.flux, t) / dx**2
        return g

    saved = np.empty((save_nx, save_nt))
    saved[:, 0] = u[::x_stride]
    g_old = ghost(t0)
    for n in range(1, nt + 1):
        t_new = t0 + n * dt
        g_new = ghost(t_new)
        b_vec = rhs @ u + 0.5 * alpha * dt * (g_old + g_new)
        for i, end in dirichlet:
            b_vec[i] = time_value(end.value, t_new)
        u = solver.solve(b_vec)
        g_old = g_new
        if n % t_stride == 0:
            saved[:, n // t_stride] = u[::x_stride]
    times = np.linspace(t0, t1, save_nt)
    return GridSolution(("x", "t"), (x[::x_stride], times), saved, "fd")


def _laplacian(nx: int, left: End, right: End) -> sp.csr_matrix:
    """Second-difference matrix (unscaled) with ghost-node rows at Neumann ends."""
    main = -2.0 * np.ones(nx)
    upper = np.ones(nx - 1)
    lower = np.ones(nx - 1)
    if isinstance(left, NeumannEnd):
        upper[0] = 2.0
    if isinstance(right, NeumannEnd):
        lower[-1] = 2.0
    return sp.diags([lower, main, upper], [-1, 0, 1], format="csr")
