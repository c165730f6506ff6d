"""Reference solvers for the 2-D heat equation ``u_t = div(k grad u) + f`` on a rectangle.

:func:`solve_heat_2d` is Crank–Nicolson finite differences: the diffusion is written in flux
(conservative) form with the conductivity at the half points,
``(k_{i+1/2,j} (u_{i+1,j} - u_{i,j}) - k_{i-1/2,j} (u_{i,j} - u_{i-1,j})) / dx^2`` plus the same
in y, which is second order in space for a smooth ``k``; Crank–Nicolson is second order in time.
The system matrix is factorised once; each step is one sparse product and one solve. It takes a
source and boundary data that vary along the sides and in time.

:func:`solve_heat_2d_spectral` is Chebyshev collocation in space and the exact matrix exponential
in time, spectrally accurate for smooth data; no source, and one constant value on the sides.

Dirichlet sides. Numpy in, numpy out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm
from scipy.sparse.linalg import splu

from ..errors import InputTypeError, InputValueError, check_number, whole
from ._checks import (
    count,
    function,
    interval,
    number_or_function,
    on_points,
    positive,
    save_strides,
    space_stride,
)
from .grid import GridSolution

__all__ = ["solve_heat_2d", "solve_heat_2d_spectral"]

SpaceFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
SpaceTimeFunction = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def solve_heat_2d(
    *,
    conductivity: float | SpaceFunction,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    t_range: tuple[float, float],
    initial: SpaceFunction,
    source: SpaceTimeFunction | None = None,
    boundary: float | SpaceTimeFunction = 0.0,
    nx: int = 201,
    ny: int = 201,
    nt: int = 1000,
    save_nx: int = 51,
    save_ny: int = 51,
    save_nt: int = 51,
) -> GridSolution:
    """Solve ``u_t = (k u_x)_x + (k u_y)_y + f`` with ``u = boundary`` on the sides, by Crank–Nicolson.

    On the ``heat2d_varcoef`` problem (unit square, ``t in [0, 0.5]``,
    ``k = 1 + 0.5 sin(pi x) sin(pi y)``, ``u0 = sin(pi x) sin(pi y)``, zero sides) the
    defaults are within 4.3e-6 relative L2 of the converged solution over the whole
    saved grid (from solves at half and at 1.5 times the resolution in space and time,
    which agree); the space and the time error, 9e-6 and 8e-6 alone, partly cancel.

    Parameters
    ----------
    conductivity : float or callable
        ``k > 0``: a number, or ``k(x, y)`` for numpy arrays x, y of one shape (evaluated
        at the half points between grid points).
    x_range, y_range, t_range : (float, float)
        Sides ``[a, b]`` and ``[c, d]`` of the rectangle and the time interval ``[t0, t1]``.
    initial : callable
        ``u(x, y, t0)`` for numpy arrays x, y of one shape; returns that shape.
    source : callable, optional
        ``f(x, y, t)`` for numpy arrays x, y and a float t; None means zero.
    boundary : float or callable
        Dirichlet data on the sides: a number, or ``g(x, y, t)`` at the side points.
    nx, ny : int
        Grid points per axis, sides included.
    nt : int
        Time steps.
    save_nx, save_ny, save_nt : int
        Points per axis of the returned grid, taken at evenly spaced grid indices; need
        ``(nx - 1) % (save_nx - 1) == 0``, the same for y, and ``nt % (save_nt - 1) == 0``.

    Returns
    -------
    GridSolution
        Axes ``("x", "y", "t")``, values of shape ``(save_nx, save_ny, save_nt)``, source
        ``"fd"``. At ``t0`` the values are ``initial`` (sides included), later ones are
        ``boundary`` on the sides.

    Raises
    ------
    ValueError
        If the inputs are out of range, the conductivity is not positive at a half point,
        or a function returns the wrong shape or non-finite values.

    Examples
    --------
    ``u = exp(-2 pi^2 t) sin(pi x) sin(pi y)`` for ``k = 1``:

    >>> sol = solve_heat_2d(conductivity=1.0, x_range=(0, 1), y_range=(0, 1), t_range=(0, 0.1),
    ...                     initial=lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y),
    ...                     nx=51, ny=51, nt=100, save_nx=11, save_ny=11, save_nt=11)
    >>> sol.values.shape
    (11, 11, 11)
    >>> x, y, t = sol.points().T
    >>> exact = np.exp(-2 * np.pi**2 * t) * np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> bool(np.abs(sol.values.reshape(-1) - exact).max() < 1e-3)
    True
    """
    a, b = interval(x_range, "x_range")
    c, d = interval(y_range, "y_range")
    t0, t1 = interval(t_range, "t_range")
    initial = function(initial, "initial", "(x, y)")
    if source is not None:
        source = function(source, "source", "(x, y, t)")
    boundary = number_or_function(boundary, "boundary", "(x, y, t)")
    nx, ny, nt = count(nx, "nx"), count(ny, "ny"), count(nt, "nt", 1)
    save_nx, save_ny = count(save_nx, "save_nx", 2), count(save_ny, "save_ny", 2)
    save_nt = count(save_nt, "save_nt", 2)
    x_stride, t_stride = save_strides(nx, nt, save_nx, save_nt)
    y_stride = space_stride(ny, save_ny, "y")

    x, y = np.linspace(a, b, nx), np.linspace(c, d, ny)
    hx, hy, dt = (b - a) / (nx - 1), (d - c) / (ny - 1), (t1 - t0) / nt
    X, Y = np.meshgrid(x, y, indexing="ij")
    u = on_points(initial(X, Y), (nx, ny), "initial(x, y)")
    kx, ky = _half_point_conductivity(conductivity, x, y)

    # div(k grad u) on the whole grid as -G^T K G (G: differences between neighbours, K: k at
    # their midpoints), symmetric; the rows of interior points are the flux-form stencil.
    gx = sp.kron(_difference(nx), sp.identity(ny), format="csr")
    gy = sp.kron(sp.identity(nx), _difference(ny), format="csr")
    operator = -(gx.T @ sp.diags(kx.reshape(-1) / hx**2) @ gx) - (gy.T @ sp.diags(ky.reshape(-1) / hy**2) @ gy)
    inner = np.zeros((nx, ny), dtype=bool)
    inner[1:-1, 1:-1] = True
    rows = operator.tocsr()[inner.reshape(-1)]
    interior = rows[:, inner.reshape(-1)].tocsc()
    to_sides = rows[:, ~inner.reshape(-1)].tocsr()
    eye = sp.identity(interior.shape[0], format="csc")
    # Symmetric too: a minimum-degree ordering of A + A^T halves the fill of the default.
    solver = splu((eye - 0.5 * dt * interior).tocsc(), permc_spec="MMD_AT_PLUS_A")
    explicit = (eye + 0.5 * dt * interior).tocsr()

    n_sides = int((~inner).sum())
    X_in, Y_in, X_side, Y_side = X[inner], Y[inner], X[~inner], Y[~inner]

    def side_values(t: float) -> np.ndarray:
        if not callable(boundary):
            return np.full(n_sides, boundary)
        return on_points(boundary(X_side, Y_side, t), (n_sides,), "boundary(x, y, t)")

    def forcing(t: float) -> np.ndarray:
        # Source plus the sides' share of the stencil at the interior points.
        f = to_sides @ side_values(t)
        if source is not None:
            f += on_points(source(X_in, Y_in, t), X_in.shape, "source(x, y, t)")
        return f

    saved = np.empty((save_nx, save_ny, save_nt))
    saved[:, :, 0] = u[::x_stride, ::y_stride]
    u_in = u[inner]
    f_old = forcing(t0)
    for n in range(1, nt + 1):
        t_new = t0 + n * dt
        f_new = forcing(t_new)
        u_in = solver.solve(explicit @ u_in + 0.5 * dt * (f_old + f_new))
        f_old = f_new
        if n % t_stride == 0:
            u[inner] = u_in
            u[~inner] = side_values(t_new)
            saved[:, :, n // t_stride] = u[::x_stride, ::y_stride]
    times = np.linspace(t0, t1, save_nt)
    return GridSolution(("x", "y", "t"), (x[::x_stride], y[::y_stride], times), saved, "fd")


def solve_heat_2d_spectral(
    *,
    conductivity: float | SpaceFunction,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    t_range: tuple[float, float],
    initial: SpaceFunction,
    boundary: float = 0.0,
    n: int = 32,
    save_nx: int = 51,
    save_ny: int = 51,
    save_nt: int = 51,
) -> GridSolution:
    """Solve ``u_t = (k u_x)_x + (k u_y)_y`` with ``u = boundary`` on the sides, spectrally.

    Chebyshev–Gauss–Lobatto collocation on ``n x n`` points: with ``D`` the differentiation
    matrix of an axis, ``div(k grad u) = D_x (K D_x u) + D_y (K D_y u)`` (``K`` is ``k`` at
    the points, so no derivative of ``k`` is needed), kept on the interior points for
    ``v = u - boundary``, which is zero on the sides. The system ``v' = A v`` is linear with
    constant coefficients, so it is integrated exactly: ``v(t + dt) = expm(dt A) v(t)``
    between saved times. The values on the saved grid are those of the interpolating
    polynomial (barycentric formula).

    On the ``heat2d_varcoef`` problem (unit square, ``t in [0, 0.5]``,
    ``k = 1 + 0.5 sin(pi x) sin(pi y)``, ``u0 = sin(pi x) sin(pi y)``, zero sides) the
    default (32 points per axis) agrees with solves on 40 and 48 points to 1.4e-13 and 1.0e-13
    relative L2 over the saved grid, the level of rounding: the error falls about a hundredfold
    per 4 more points, from 5.6e-7 at 12 points to 5.4e-13 at 24.
    Spectral accuracy needs a smooth ``k`` and a smooth ``initial`` that equals
    ``boundary`` on the sides.

    Parameters
    ----------
    conductivity : float or callable
        ``k > 0``: a number, or ``k(x, y)`` for numpy arrays x, y of one shape (evaluated
        at the collocation points, sides included).
    x_range, y_range, t_range : (float, float)
        Sides ``[a, b]`` and ``[c, d]`` of the rectangle and the time interval ``[t0, t1]``.
    initial : callable
        ``u(x, y, t0)`` for numpy arrays x, y of one shape; returns that shape.
    boundary : float
        The value of ``u`` on the sides at all times (use :func:`solve_heat_2d` for data
        that vary).
    n : int
        Chebyshev points per axis, sides included, from 3 to 64. The time step is a dense
        matrix exponential of size ``(n - 2)^2``, whose cost grows like ``n^6``.
    save_nx, save_ny, save_nt : int
        Evenly spaced points per axis of the returned grid, ends included.

    Returns
    -------
    GridSolution
        Axes ``("x", "y", "t")``, values of shape ``(save_nx, save_ny, save_nt)``, source
        ``"spectral"``. At ``t0`` the values are ``initial``
        (sides included), later ones are ``boundary`` on the sides.

    Raises
    ------
    ValueError
        If the inputs are out of range, the conductivity is not positive at a collocation
        point, or a function returns the wrong shape or non-finite values.

    Examples
    --------
    ``u = exp(-2 pi^2 t) sin(pi x) sin(pi y)`` for ``k = 1``:

    >>> sol = solve_heat_2d_spectral(conductivity=1.0, x_range=(0, 1), y_range=(0, 1), t_range=(0, 0.1),
    ...                              initial=lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y),
    ...                              n=16, save_nx=11, save_ny=11, save_nt=11)
    >>> sol.values.shape
    (11, 11, 11)
    >>> x, y, t = sol.points().T
    >>> exact = np.exp(-2 * np.pi**2 * t) * np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> bool(np.abs(sol.values.reshape(-1) - exact).max() < 1e-12)
    True
    """
    a, b = interval(x_range, "x_range")
    c, d = interval(y_range, "y_range")
    t0, t1 = interval(t_range, "t_range")
    initial = function(initial, "initial", "(x, y)")
    boundary = _constant_boundary(boundary)
    if not whole(n, 3, 64, numpy=True):
        raise InputValueError(
            f"n must be an int from 3 to 64 (the time step is a dense matrix exponential of size (n - 2)^2), got {n!r}"
        )
    save_nx, save_ny = count(save_nx, "save_nx", 2), count(save_ny, "save_ny", 2)
    save_nt = count(save_nt, "save_nt", 2)

    s, weights, derivative = _chebyshev(n)
    x, y = a + 0.5 * (b - a) * (s + 1), c + 0.5 * (d - c) * (s + 1)
    X, Y = np.meshgrid(x, y, indexing="ij")
    if callable(conductivity):
        k = _conductivity_on(conductivity, X, Y)
    else:
        k = np.full(X.shape, positive(conductivity, "conductivity"))
    operator = _flux_divergence(2 / (b - a) * derivative, 2 / (d - c) * derivative, k)
    v0 = on_points(initial(X, Y), X.shape, "initial(x, y)")[1:-1, 1:-1].reshape(-1) - boundary
    interior = _exact_in_time(operator, v0, (t1 - t0) / (save_nt - 1), save_nt).reshape(n - 2, n - 2, save_nt)

    # v is zero on the sides, so only the interior points' columns of the interpolation count.
    to_x = _interpolation(s, weights, np.linspace(-1.0, 1.0, save_nx))[:, 1:-1]
    to_y = _interpolation(s, weights, np.linspace(-1.0, 1.0, save_ny))[:, 1:-1]
    values = boundary + np.einsum("ip,pqt,jq->ijt", to_x, interior, to_y)
    xs, ys = np.linspace(a, b, save_nx), np.linspace(c, d, save_ny)
    values[:, :, 0] = on_points(initial(*np.meshgrid(xs, ys, indexing="ij")), (save_nx, save_ny), "initial(x, y)")
    return GridSolution(("x", "y", "t"), (xs, ys, np.linspace(t0, t1, save_nt)), values, "spectral")


def _constant_boundary(value: float) -> float:
    """``value`` as a float, or a TypeError/ValueError unless it is a finite number."""
    if callable(value):
        raise InputTypeError(
            "boundary must be a number for solve_heat_2d_spectral; use solve_heat_2d for boundary data g(x, y, t)"
        )
    check_number("boundary", value, "a finite number", lambda v: True)
    return float(value)


def _exact_in_time(operator: np.ndarray, v0: np.ndarray, dt: float, count: int) -> np.ndarray:
    """``v(j dt) = expm(j dt A) v0`` for ``v' = A v``, ``j = 0 .. count - 1``, shape ``(v0.size, count)``."""
    step = expm(dt * operator)
    v = np.empty((v0.size, count))
    v[:, 0] = v0
    for j in range(1, count):
        v[:, j] = step @ v[:, j - 1]
    return v


def _chebyshev(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev–Gauss–Lobatto points ``-cos(pi j / (n - 1))`` on ``[-1, 1]``, increasing, shape ``(n,)``;
    their barycentric weights ``(-1)^j`` (halved at the ends), ``(n,)``; and the differentiation matrix, ``(n, n)``.
    """
    m = n - 1
    # The sine form is exactly antisymmetric, so the middle point is exactly 0 when n is odd.
    s = np.sin(np.pi * (2 * np.arange(n) - m) / (2 * m))
    weights = (-1.0) ** np.arange(n)
    weights[[0, -1]] *= 0.5
    gaps = s[:, None] - s[None, :]
    np.fill_diagonal(gaps, 1.0)
    derivative = weights[None, :] / weights[:, None] / gaps
    # Rows sum to zero (constants have zero derivative): the diagonal from the others is more accurate.
    np.fill_diagonal(derivative, 0.0)
    np.fill_diagonal(derivative, -derivative.sum(axis=1))
    return s, weights, derivative


def _interpolation(nodes: np.ndarray, weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Matrix, shape ``(points.size, nodes.size)``, taking values at ``nodes`` to the interpolating
    polynomial's values at ``points`` (barycentric formula of the second kind)."""
    gaps = points[:, None] - nodes[None, :]
    on_node = gaps == 0
    gaps[on_node] = 1.0
    terms = weights / gaps
    matrix = terms / terms.sum(axis=1, keepdims=True)
    rows = on_node.any(axis=1)
    matrix[rows] = on_node[rows]
    return matrix


def _flux_divergence(dx: np.ndarray, dy: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``div(k grad v) = D_x (K D_x v) + D_y (K D_y v)`` at the interior points of the ``nx x ny`` grid for ``v``
    zero on the sides: a dense matrix of shape ``((nx - 2) (ny - 2),) * 2``, C order (y fastest).

    ``dx`` ``(nx, nx)`` and ``dy`` ``(ny, ny)`` are the differentiation matrices, ``k`` ``(nx, ny)`` the conductivity.
    """
    nx, ny = k.shape
    gx = sp.kron(dx, sp.identity(ny), format="csr")
    gy = sp.kron(sp.identity(nx), dy, format="csr")
    k_diag = sp.diags(k.reshape(-1))
    full = (gx @ k_diag @ gx + gy @ k_diag @ gy).tocsr()
    inner = np.zeros((nx, ny), dtype=bool)
    inner[1:-1, 1:-1] = True
    inner = inner.reshape(-1)
    return full[inner][:, inner].toarray()


def _half_point_conductivity(
    conductivity: float | SpaceFunction, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` between x-neighbours, shape ``(nx - 1, ny)``, and between y-neighbours, ``(nx, ny - 1)``."""
    xm, ym = 0.5 * (x[1:] + x[:-1]), 0.5 * (y[1:] + y[:-1])
    if not callable(conductivity):
        k = positive(conductivity, "conductivity")
        return np.full((xm.size, y.size), k), np.full((x.size, ym.size), k)
    x_half = _conductivity_on(conductivity, *np.meshgrid(xm, y, indexing="ij"))
    y_half = _conductivity_on(conductivity, *np.meshgrid(x, ym, indexing="ij"))
    return x_half, y_half


def _conductivity_on(conductivity: SpaceFunction, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``k(X, Y)``, or a ValueError naming the smallest value unless it is finite and > 0 at every point."""
    k = on_points(conductivity(X, Y), X.shape, "conductivity(x, y)")
    if not np.all(k > 0):
        i = np.unravel_index(np.argmin(k), k.shape)
        raise InputValueError(
            f"conductivity(x, y) must be > 0 everywhere; it is {k[i]:.6g} at (x, y) = ({X[i]:.6g}, {Y[i]:.6g})"
        )
    return k


def _difference(n: int) -> sp.csr_matrix:
    """``u_{i+1} - u_i`` for ``i = 0 .. n - 2``, shape ``(n - 1, n)``."""
    return sp.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n), format="csr")
