"""Symbolic regression of one-dimensional curves against a small library of functions.

A sampled curve ``y(x)`` is fitted by ``a * f(b * x + c) + d`` for every ``f`` of
:data:`LIBRARY`; :func:`suggest` ranks the fits by accuracy and simplicity. This is
the core that turns one KAN edge function into a formula.

Method (variable projection): for fixed ``(b, c)`` the best ``(a, d)`` is a linear
least-squares solve, so only the argument ``b * x + c`` is searched. The remaining
residual is screened on a deterministic grid of arguments plus seeded random ones,
and ``scipy.optimize.least_squares`` runs from the best of them. Parameters that do
not change the curve are not searched: powers and ``abs`` keep ``b = 1`` (``a``
absorbs the scale), ``sqrt``, ``log`` and ``1/x`` keep ``b = +-1``, and ``exp`` ends
with ``c = 0`` (``a`` absorbs ``exp(c)``).

Domains: on the fitted data the argument of ``sqrt`` stays ``>= 0``, that of ``log``
and ``1/x`` keeps one sign and stays at least ``1e-3`` of its span away from zero,
and that of ``tan`` stays within ``pi/2 - 0.01`` of zero (one branch; the period of
``tan`` makes the others equivalent). The search is parametrised so that no other
argument can be proposed, so every fitted curve is finite and continuous on the data.

Complexities (lower is simpler, used to break near-ties in :func:`suggest`):
zero 0; x 1; x^2 2; x^3, x^4, abs 3; sin, cos, exp, log, sqrt, tanh, gaussian 4;
1/x, tan 5 (their poles let them imitate many steep curves, so they rank last).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.optimize import OptimizeResult, least_squares

from ..errors import InputTypeError, InputValueError, whole
from ..models.functions import LIBRARY, SymbolicFunction

if TYPE_CHECKING:
    import sympy

__all__ = [
    "SymbolicFunction",
    "SymbolicFit",
    "LIBRARY",
    "fit_function",
    "suggest",
    "evaluate_formula",
    "to_sympy",
]


@dataclass(frozen=True)
class SymbolicFit:
    """``y ~ a * f(b * x + c) + d`` with ``f = LIBRARY[name]``, and its quality.

    Attributes
    ----------
    name : str
        Key in :data:`LIBRARY`.
    a, b, c, d : float
        Affine parameters outside and inside ``f``.
    r2 : float
        Coefficient of determination ``1 - SS_res / SS_tot`` on the fitted data.
    complexity : int
        ``LIBRARY[name].complexity``.
    """

    name: str
    a: float
    b: float
    c: float
    d: float
    r2: float
    complexity: int

    @property
    def affine(self) -> tuple[float, float, float, float]:
        """``(a, b, c, d)``."""
        return (self.a, self.b, self.c, self.d)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The fitted curve at ``x``, NaN where the argument leaves the domain of ``f``."""
        with np.errstate(all="ignore"):
            return self.a * LIBRARY[self.name].numpy(self.b * np.asarray(x, dtype=float) + self.c) + self.d

    def torch_eval(self, x: torch.Tensor) -> torch.Tensor:
        """The fitted curve at ``x``, differentiable, in the dtype and device of ``x``."""
        return self.a * LIBRARY[self.name].torch(self.b * x + self.c) + self.d

    def expression(self, arg: str, precision: int = 6) -> str:
        """Formula text of the fitted curve, with argument text ``arg``.

        Numbers keep ``precision`` significant digits and sit in parentheses, e.g.
        ``"(1.5)*sin((3.14159)*(x1) + (0.2)) + (-0.3)"``; ``"zero"`` gives ``"(d)"``.
        """
        a, b, c, d = (f"({v:.{precision}g})" for v in self.affine)
        if self.name == "zero":
            return d
        inner = LIBRARY[self.name].template.format(f"{b}*({arg}) + {c}")
        return f"{a}*{inner} + {d}"


# log and 1/x: the argument stays this fraction of its span on the data away from 0.
_POLE_MARGIN = 1e-3
# tan: the argument stays within pi/2 - _TAN_MARGIN of 0.
_TAN_MARGIN = 1e-2


@dataclass(frozen=True)
class _Branch:
    """One family of arguments ``b * x + c``, parametrised by free parameters ``p``.

    Every ``p`` maps into the domain of the function, so the search is unconstrained.
    """

    to_bc: Callable[[np.ndarray], tuple[float, float]]
    candidates: np.ndarray  # (K, P) starting points, screened before the local search


def _branches(name: str, x: np.ndarray, starts: int, rng: np.random.Generator) -> list[_Branch]:
    """The search branches of library function ``name`` on data ``x``.

    Each branch screens a fixed grid plus ``starts`` seeded random points. Grids are
    written for the normalised data ``s = (x - mid) / half`` in ``[-1, 1]``; ``b > 0``
    suffices for odd and even functions.
    """
    mid, half = 0.5 * float(x.max() + x.min()), 0.5 * float(x.max() - x.min())

    def scaled(bs: float, cs: float) -> tuple[float, float]:
        # b * x + c = bs * s + cs.
        return bs / half, cs - bs * mid / half

    def shifted(scales: np.ndarray, centres: np.ndarray) -> np.ndarray:
        # (bs, cs) pairs whose argument vanishes at s = centre.
        return np.column_stack([scales, -scales * centres])

    if name in ("x^2", "x^3", "x^4", "abs"):
        # (x - x0)^k, abs(x - x0) with the zero x0 = mid + half * p.
        zeros = np.concatenate([[-8.0, -4.0], np.linspace(-2.0, 2.0, 33), [4.0, 8.0], rng.normal(0.0, 3.0, starts)])
        return [_Branch(lambda p: (1.0, -(mid + half * p[0])), zeros[:, None])]
    if name in ("sqrt", "log", "1/x"):
        # sign * x + c >= margin on the data: c = margin - min(sign * x) + span * p^2.
        margin = 0.0 if name == "sqrt" else _POLE_MARGIN * 2 * half
        lowest = {1.0: margin - float(x.min()), -1.0: margin + float(x.max())}
        return [
            _Branch(
                lambda p, sign=sign: (sign, lowest[sign] + 2 * half * p[0] ** 2),
                np.sqrt(np.concatenate([np.geomspace(1e-4, 1e2, 13), 10 ** rng.uniform(-4, 2, starts)]))[:, None],
            )
            for sign in (1.0, -1.0)
        ]
    if name == "tan":
        # The argument at the ends of the data is edge * sin(p); being linear in x,
        # it stays between these values, inside one branch, on all the data.
        edge = math.pi / 2 - _TAN_MARGIN
        levels = np.linspace(-1.5, 1.5, 7)
        ends = [(lo, hi) for lo in levels for hi in levels if lo < hi]
        ends += [sorted(pair) for pair in rng.uniform(-edge, edge, (starts, 2))]

        def tan_bc(p: np.ndarray) -> tuple[float, float]:
            lo, hi = edge * np.sin(p)
            return scaled(0.5 * (hi - lo), 0.5 * (hi + lo))

        return [_Branch(tan_bc, np.arcsin(np.asarray(ends) / edge))]
    if name == "exp":
        # exp(bs * s - |bs|) <= 1 on the data, so the column never overflows; a absorbs the shift.
        rates = np.geomspace(0.1, 30.0, 12)
        candidates = np.concatenate([rates, -rates, rng.normal(0.0, 5.0, starts)])[:, None]
        return [_Branch(lambda p: scaled(p[0], -abs(p[0])), candidates)]
    random_scales = 10 ** rng.uniform(-0.6, 1.4, starts)
    if name in ("sin", "cos"):
        # Frequencies finer than the width of a basin (about 1 in bs), four phases.
        scales = np.concatenate([[0.25, 0.5, 1.0], np.arange(1.5, 24.1, 0.75)])
        grid = np.array([(bs, cs) for bs in scales for cs in np.arange(4) * math.pi / 4])
        candidates = np.vstack([grid, np.column_stack([random_scales, rng.uniform(-math.pi, math.pi, starts)])])
    else:
        # tanh, gaussian: a step or bump of width 1 / bs centred in or near the data.
        scales, centres = np.meshgrid(np.geomspace(0.25, 64.0, 9), np.linspace(-1.5, 1.5, 13))
        candidates = np.vstack(
            [shifted(scales.ravel(), centres.ravel()), shifted(random_scales, rng.uniform(-1.5, 1.5, starts))]
        )
    return [_Branch(lambda p: scaled(p[0], p[1]), candidates)]


def fit_function(x: np.ndarray, y: np.ndarray, name: str, *, starts: int = 8, seed: int = 0) -> SymbolicFit:
    """Fit ``y ~ a * f(b * x + c) + d`` to samples, ``f = LIBRARY[name]``.

    For fixed ``(b, c)`` the best ``(a, d)`` is a linear least-squares solve. The
    remaining residual is screened on a fixed grid of ``(b, c)`` plus ``starts``
    seeded random points; Levenberg-Marquardt runs from the ``starts`` best of them,
    and the best result is refined to full precision.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Finite samples, ``N >= 4``, at least two distinct ``x``.
    name : str
        A key of :data:`LIBRARY`.
    starts : int
        Number of random screening points and of local searches, per search branch
        (``sqrt``, ``log`` and ``1/x`` have two: increasing and decreasing).
    seed : int
        Seed of the random screening points.

    Returns
    -------
    SymbolicFit
        The best fit found; for ``sqrt``, ``log``, ``1/x`` and ``tan`` its argument
        stays inside the function's domain on ``x`` (see the module docstring).

    Examples
    --------
    >>> x = np.linspace(-1, 1, 100)
    >>> fit = fit_function(x, 2 * np.sin(np.pi * x) + 1, "sin")
    >>> round(fit.r2, 9), round(fit.b, 6)
    (1.0, 3.141593)
    """
    x, y = _check_data(x, y)
    if not isinstance(name, str) or name not in LIBRARY:
        raise InputValueError(f"unknown symbolic function {name!r}; choose one of {sorted(LIBRARY)}")
    if not whole(starts, 1):
        raise InputValueError(f"starts must be a positive int, got {starts!r}")
    fn = LIBRARY[name]
    if name == "zero":
        return _result(fn, x, y, 0.0, 1.0, 0.0, float(np.mean(y)))
    if name == "x":
        a, d = _project(x, y)
        return _result(fn, x, y, a, 1.0, 0.0, d)

    blowup = 1e3 * (float(np.max(np.abs(y))) + 1.0)

    def residual(p: np.ndarray, branch: _Branch) -> np.ndarray:
        b, c = branch.to_bc(p)
        with np.errstate(all="ignore"):
            column = fn.numpy(b * x + c)
        if not np.all(np.isfinite(column)):  # overflow of powers far from their zero
            return np.full_like(y, blowup)
        a, d = _project(column, y)
        return a * column + d - y

    best_cost, best = math.inf, None
    for branch in _branches(name, x, starts, np.random.default_rng(seed)):
        screened = [float(np.sum(residual(p, branch) ** 2)) for p in branch.candidates]
        for k in np.argsort(screened, kind="stable")[:starts]:
            sol = _solve(residual, branch.candidates[k], branch, tolerance=1e-8, evaluations=100)
            cost = float(sol.fun @ sol.fun)
            if cost < best_cost:
                best_cost, best = cost, (branch, sol.x)
    branch, p = best
    b, c = (float(v) for v in branch.to_bc(_solve(residual, p, branch, tolerance=1e-15, evaluations=400).x))
    with np.errstate(all="ignore"):
        a, d = _project(fn.numpy(b * x + c), y)
    return _result(fn, x, y, *_canonical(name, a, b, c, d))


def _solve(
    residual: Callable[[np.ndarray, _Branch], np.ndarray],
    start: Sequence[float],
    branch: _Branch,
    tolerance: float,
    evaluations: int,
) -> OptimizeResult:
    """Levenberg-Marquardt on one branch from ``start``."""
    return least_squares(
        residual,
        np.asarray(start, dtype=float),
        args=(branch,),
        method="lm",
        ftol=tolerance,
        xtol=tolerance,
        gtol=tolerance,
        max_nfev=evaluations,
    )


def _project(column: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(a, d)`` of ``y ~ a * column + d`` (``a = 0`` for a constant column)."""
    centred = column - column.mean()
    spread = float(centred @ centred)
    a = float(centred @ (y - y.mean())) / spread if spread > 0 else 0.0
    return a, float(y.mean() - a * column.mean())


def _canonical(name: str, a: float, b: float, c: float, d: float) -> tuple[float, float, float, float]:
    """The same curve with ``b > 0`` for odd and even ``f``, ``|c| <= pi/2`` for sin and cos, ``c = 0`` for exp.

    Fixing the redundant signs and scales keeps formulas readable and stops the
    parameters from drifting to equivalent ill-conditioned forms when trained later.
    """
    if name in ("sin", "tan", "tanh", "1/x") and b < 0:
        a, b, c = -a, -b, -c
    elif name in ("cos", "gaussian") and b < 0:
        b, c = -b, -c
    if name in ("sin", "cos"):
        # f(u + k pi) = (-1)^k f(u): bring c into [-pi/2, pi/2].
        turns = round(c / math.pi)
        a, c = (-a if turns % 2 else a), c - turns * math.pi
    if name == "exp" and abs(c) < 700.0:  # exp(c) stays a normal float
        a, c = a * math.exp(c), 0.0
    return a, b, c, d


def _result(fn: SymbolicFunction, x: np.ndarray, y: np.ndarray, a: float, b: float, c: float, d: float) -> SymbolicFit:
    """The fit with its ``R^2`` on ``(x, y)``; a constant ``y`` counts as explained only if matched."""
    fit = SymbolicFit(fn.name, a, b, c, d, 0.0, fn.complexity)
    residual = float(np.sum((fit(x) - y) ** 2))
    total = float(np.sum((y - np.mean(y)) ** 2))
    tiny = 1e-24 * max(1.0, float(np.sum(y**2)))
    if not math.isfinite(residual):
        r2 = -math.inf
    elif total <= tiny:
        r2 = 1.0 if residual <= tiny else 0.0
    else:
        r2 = 1.0 - residual / total
    return SymbolicFit(fn.name, a, b, c, d, r2, fn.complexity)


def suggest(
    x: np.ndarray,
    y: np.ndarray,
    *,
    library: Sequence[str] | None = None,
    top: int = 5,
    r2_tolerance: float = 1e-4,
    starts: int = 8,
    seed: int = 0,
) -> list[SymbolicFit]:
    """Fit library functions to samples and rank the fits, best first.

    Ranking: fits with ``R^2 >= max R^2 - r2_tolerance`` count as equally good and
    come first, simplest first (equal complexities in :data:`LIBRARY` order, so
    ``sin`` before ``cos``); the others follow by decreasing ``R^2``.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Finite samples, ``N >= 4``.
    library : sequence of str, optional
        Names to try; all of :data:`LIBRARY` by default.
    top : int
        How many fits to return.
    r2_tolerance : float
        Width of the band of fits that count as equally good.
    starts, seed
        See :func:`fit_function`.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 200)
    >>> [(f.name, round(f.r2, 6)) for f in suggest(x, 3 * x**2 - 1, top=3)]
    [('x^2', 1.0), ('sin', 1.0), ('cos', 1.0)]

    ``sin(b x + c)`` with a small ``b`` imitates the parabola, but ``x^2`` is simpler.
    """
    names = list(LIBRARY) if library is None else list(library)
    unknown = [n for n in names if not isinstance(n, str) or n not in LIBRARY]
    if unknown:
        raise InputValueError(f"unknown symbolic functions {unknown}; choose from {sorted(LIBRARY)}")
    if not names:
        raise InputValueError(f"library is empty; name at least one of {sorted(LIBRARY)} or pass None for all")
    if not whole(top, 1):
        raise InputValueError(f"top must be a positive int, got {top!r}")
    if not r2_tolerance >= 0:
        raise InputValueError(f"r2_tolerance must be >= 0, got {r2_tolerance!r}")
    fits = [fit_function(x, y, n, starts=starts, seed=seed) for n in dict.fromkeys(names)]
    cut = max(f.r2 for f in fits) - r2_tolerance
    order = {name: k for k, name in enumerate(LIBRARY)}
    good = sorted((f for f in fits if f.r2 >= cut), key=lambda f: (f.complexity, order[f.name]))
    rest = sorted((f for f in fits if f.r2 < cut), key=lambda f: -f.r2)
    return (good + rest)[:top]


def _check_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise InputValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if x.size < 4:
        raise InputValueError(f"symbolic fitting needs at least 4 points, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputValueError("symbolic fitting needs finite samples; drop NaN/inf points first")
    if x.max() == x.min():
        raise InputValueError("x takes a single value, so no function of x can be fitted; sample x over a range")
    return x, y


_NAMESPACE = types.MappingProxyType(
    {
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "tanh": np.tanh,
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "abs": np.abs,
        "pi": np.pi,
    }
)


def evaluate_formula(formula: str, variables: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate formula text (as written by :meth:`SymbolicFit.expression`) with numpy.

    Only ``sin, cos, tan, tanh, exp, log, sqrt, abs``, ``pi`` and the given
    variables are visible; there are no builtins. Not a sandbox for untrusted text.

    Parameters
    ----------
    formula : str
        A Python arithmetic expression, e.g. ``"(2)*sin((3)*(x1) + (0.5)) + (1)"``.
    variables : mapping of str to array_like
        Values of the names used in ``formula``; they broadcast together.

    Returns
    -------
    np.ndarray
        The formula's value, float64.

    Examples
    --------
    >>> evaluate_formula("2*sin(pi*x) + 1", {"x": np.array([0.0, 0.5])})
    array([1., 3.])
    """
    if not isinstance(formula, str):
        raise InputTypeError(f"formula must be a str, got {type(formula).__name__}")
    clash = sorted(set(variables) & set(_NAMESPACE))
    if clash:
        raise InputValueError(f"variable names {clash} clash with function names; rename them")
    namespace = {"__builtins__": {}, **_NAMESPACE, **{k: np.asarray(v, dtype=float) for k, v in variables.items()}}
    try:
        return np.asarray(eval(formula, namespace), dtype=float)  # noqa: S307 - restricted namespace
    except NameError as err:
        raise InputValueError(f"the formula uses an unknown name ({err}); give it in variables") from None


def to_sympy(formula: str) -> sympy.Expr:
    """The formula text as a SymPy expression (SymPy is optional: ``pip install sympy``).

    Examples
    --------
    >>> to_sympy("(2)*sin((3)*(x1) + (0)) + (1)")
    2*sin(3*x1) + 1
    """
    try:
        import sympy
    except ImportError:
        raise ImportError("to_sympy needs SymPy, an optional dependency; install it with `pip install sympy`") from None
    return sympy.sympify(formula, locals={"abs": sympy.Abs})
