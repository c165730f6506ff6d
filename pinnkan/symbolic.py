"""Symbolic regression of one-dimensional curves against a library of functions.

A curve ``y(x)`` is fitted by ``a * f(b * x + c) + d`` for every ``f`` of
:data:`LIBRARY`. For fixed ``(b, c)`` the best ``(a, d)`` is a linear least-squares
solve, so only ``(b, c)`` are searched, by ``scipy.optimize.least_squares`` from a
grid of starts plus seeded random ones (variable projection). Fits are ranked by
the coefficient of determination ``R^2`` and by simplicity.

Complexities (lower is simpler): zero 0; x 1; x^2 2; x^3, x^4, abs 3; sin, cos,
exp, log, sqrt, tanh, gaussian 4; 1/x, tan 5 (poles make them easy to over-fit).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import least_squares

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
class SymbolicFunction:
    """A library function: its numpy and torch forms and its formula template.

    ``template`` has one ``{}`` for the argument and is valid numpy and SymPy text.
    """

    name: str
    complexity: int
    numpy: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[torch.Tensor], torch.Tensor]
    template: str


def _entry(name: str, complexity: int, np_fn, torch_fn, template: str) -> tuple[str, SymbolicFunction]:
    return name, SymbolicFunction(name, complexity, np_fn, torch_fn, template)


LIBRARY: Mapping[str, SymbolicFunction] = types.MappingProxyType(
    dict(
        [
            _entry("zero", 0, np.zeros_like, torch.zeros_like, "0"),
            _entry("x", 1, lambda z: z, lambda z: z, "({})"),
            _entry("x^2", 2, np.square, torch.square, "({})**2"),
            _entry("x^3", 3, lambda z: z**3, lambda z: z**3, "({})**3"),
            _entry("x^4", 3, lambda z: z**4, lambda z: z**4, "({})**4"),
            _entry("abs", 3, np.abs, torch.abs, "abs({})"),
            _entry("sin", 4, np.sin, torch.sin, "sin({})"),
            _entry("cos", 4, np.cos, torch.cos, "cos({})"),
            _entry("exp", 4, np.exp, torch.exp, "exp({})"),
            _entry("log", 4, np.log, torch.log, "log({})"),
            _entry("sqrt", 4, np.sqrt, torch.sqrt, "sqrt({})"),
            _entry("tanh", 4, np.tanh, torch.tanh, "tanh({})"),
            _entry("gaussian", 4, lambda z: np.exp(-(z**2)), lambda z: torch.exp(-(z**2)), "exp(-({})**2)"),
            _entry("1/x", 5, np.reciprocal, torch.reciprocal, "1/({})"),
            _entry("tan", 5, np.tan, torch.tan, "tan({})"),
        ]
    )
)


@dataclass(frozen=True)
class SymbolicFit:
    """``y ~ a * f(b * x + c) + d`` with ``f = LIBRARY[name]``, and its quality.

    Attributes
    ----------
    name : str
    a, b, c, d : float
    r2 : float
        Coefficient of determination on the fitted data.
    complexity : int
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
        """The fitted curve at ``x``."""
        with np.errstate(all="ignore"):
            return self.a * LIBRARY[self.name].numpy(self.b * np.asarray(x, dtype=float) + self.c) + self.d

    def torch_eval(self, x: torch.Tensor) -> torch.Tensor:
        """The fitted curve at ``x``, differentiable, in the dtype and device of ``x``."""
        return self.a * LIBRARY[self.name].torch(self.b * x + self.c) + self.d

    def expression(self, arg: str, precision: int = 6) -> str:
        """Formula text of the fitted curve with argument text ``arg``, e.g. ``"x1"``."""
        a, b, c, d = (_number(v, precision) for v in self.affine)
        if self.name == "zero":
            return d
        inner = LIBRARY[self.name].template.format(f"{b}*({arg}) + {c}")
        return f"{a}*{inner} + {d}"


def _number(value: float, precision: int) -> str:
    return f"({value:.{precision}g})"


def fit_function(x: np.ndarray, y: np.ndarray, name: str, *, starts: int = 8, seed: int = 0) -> SymbolicFit:
    """Fit ``a * f(b * x + c) + d`` to samples, ``f = LIBRARY[name]``.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Finite samples, ``N >= 4``.
    name : str
        A key of :data:`LIBRARY`.
    starts : int
        Random starts added to a fixed grid of starting points.
    seed : int
        Seed of the random starts.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 100)
    >>> fit = fit_function(x, 2 * np.sin(np.pi * x) + 1, "sin")
    >>> round(fit.r2, 9)
    1.0
    """
    x, y = _check_data(x, y)
    if name not in LIBRARY:
        raise ValueError(f"unknown symbolic function {name!r}; choose one of {sorted(LIBRARY)}")
    fn = LIBRARY[name]
    if name == "zero":
        return _result(fn, x, y, 0.0, 1.0, 0.0, float(np.mean(y)))
    if name == "x":
        a, d = np.polyfit(x, y, 1)
        return _result(fn, x, y, float(a), 1.0, 0.0, float(d))
    # Search (b, c) in the standardised variable s = (x - mean) / std.
    centre, scale = float(np.mean(x)), float(np.std(x)) or 1.0
    s = (x - centre) / scale
    penalty = 1e3 * (float(np.max(np.abs(y))) + 1.0)
    # Search only the parameters that change the curve: for powers, abs and 1/x a
    # scale of the argument is absorbed by a (search c with b = 1), for sqrt and log
    # by a and d (b = +-1), for exp a shift by a (search b with c = 0).
    rng = np.random.default_rng(seed)
    scales = [-3.0, -1.0, -0.3, 0.3, 1.0, 3.0, *rng.normal(0, 2, starts)]
    shifts = [-2.0, 0.0, 2.0, *rng.normal(0, 2, starts)]
    if name in ("x^2", "x^3", "x^4", "abs", "1/x"):
        searches = [(lambda p: (1.0, p[0]), [(c,) for c in shifts])]
    elif name in ("sqrt", "log"):
        searches = [(lambda p, sign=sign: (sign, p[0]), [(c,) for c in shifts]) for sign in (1.0, -1.0)]
    elif name == "exp":
        searches = [(lambda p: (p[0], 0.0), [(b,) for b in scales])]
    else:
        grid = [(b, c) for b in scales[:6] for c in shifts[:3]]
        searches = [(lambda p: (p[0], p[1]), grid + list(zip(scales[6:], shifts[3:])))]

    def residual(p: np.ndarray, unpack) -> np.ndarray:  # type: ignore[no-untyped-def]
        bs, cs = unpack(p)
        with np.errstate(all="ignore"):
            column = fn.numpy(bs * s + cs)
        if not np.all(np.isfinite(column)):
            return np.full_like(y, penalty)
        a, d = _linear(column, y)
        return a * column + d - y

    best_cost, best = math.inf, (1.0, 0.0)
    for unpack, start_points in searches:
        for start in start_points:
            if np.all(residual(np.array(start), unpack) == penalty):
                continue
            sol = least_squares(
                residual, np.array(start), args=(unpack,), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                max_nfev=200,
            )
            cost = float(np.sum(sol.fun**2))
            if cost < best_cost:
                best_cost, best = cost, unpack(sol.x)
    bs, cs = (float(v) for v in best)
    b, c = bs / scale, cs - bs * centre / scale
    with np.errstate(all="ignore"):
        column = fn.numpy(b * x + c)
    if not np.all(np.isfinite(column)):
        return SymbolicFit(name, 0.0, 1.0, 0.0, float(np.mean(y)), -math.inf, fn.complexity)
    a, d = _linear(column, y)
    return _result(fn, x, y, a, b, c, d)


def _linear(column: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(a, d)`` of ``y ~ a * column + d``."""
    matrix = np.column_stack([column, np.ones_like(column)])
    (a, d), *_ = np.linalg.lstsq(matrix, y, rcond=None)
    return float(a), float(d)


def _canonical(name: str, a: float, b: float, c: float, d: float) -> tuple[float, float, float, float]:
    """The same curve with redundant parameters fixed (``|b| = 1`` for powers, ``c = 0`` for exp).

    Without this the fits drift to equivalent but ill-conditioned forms such as
    ``1e-8 * (9000 x)^2``, which break later training of the parameters.
    """
    if b == 0.0:
        return a, b, c, d
    if name in ("x^2", "x^3", "x^4"):
        power = int(name[-1])
        return a * b**power, 1.0, c / b, d
    if name == "abs":
        return a * abs(b), 1.0, c / b, d
    if name == "1/x":
        return a / b, 1.0, c / b, d
    if name == "sqrt":
        return a * math.sqrt(abs(b)), math.copysign(1.0, b), c / abs(b), d
    if name == "log":
        return a, math.copysign(1.0, b), c / abs(b), d + a * math.log(abs(b))
    if name == "exp":
        return a * math.exp(c), b, 0.0, d
    return a, b, c, d


def _result(fn: SymbolicFunction, x: np.ndarray, y: np.ndarray, a: float, b: float, c: float, d: float) -> SymbolicFit:
    a, b, c, d = _canonical(fn.name, a, b, c, d)
    fit = SymbolicFit(fn.name, a, b, c, d, 0.0, fn.complexity)
    residual = np.sum((fit(x) - y) ** 2)
    total = np.sum((y - np.mean(y)) ** 2)
    tiny = 1e-24 * max(1.0, float(np.sum(y**2)))
    if total <= tiny:
        r2 = 1.0 if residual <= tiny else 0.0
    else:
        r2 = float(1.0 - residual / total) if np.isfinite(residual) else -math.inf
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
    """Fit every library function and rank the fits.

    Ranking: the fits whose ``R^2`` is within ``r2_tolerance`` of the best count
    as equally good and come first, simplest first (equal complexities in library
    order, so ``sin`` before ``cos``); the others follow by ``R^2``.

    Parameters
    ----------
    x, y : array_like, shape (N,)
    library : sequence of str, optional
        Names to try; all of :data:`LIBRARY` by default.
    top : int
        How many fits to return.
    r2_tolerance : float
        Width of the band of fits that count as equally good.
    starts, seed
        See :func:`fit_function`.
    """
    names = list(LIBRARY) if library is None else list(library)
    unknown = [n for n in names if n not in LIBRARY]
    if unknown or not names:
        raise ValueError(f"unknown symbolic functions {unknown}; choose from {sorted(LIBRARY)}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive int, got {top!r}")
    fits = [fit_function(x, y, n, starts=starts, seed=seed) for n in names]
    best = max(f.r2 for f in fits)
    order = {name: k for k, name in enumerate(LIBRARY)}
    good = sorted((f for f in fits if f.r2 >= best - r2_tolerance), key=lambda f: (f.complexity, order[f.name]))
    rest = sorted((f for f in fits if f.r2 < best - r2_tolerance), key=lambda f: -f.r2)
    return (good + rest)[:top]


def _check_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if x.size < 4:
        raise ValueError(f"symbolic fitting needs at least 4 points, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("symbolic fitting needs finite samples; drop NaN/inf points first")
    return x, y


_NAMESPACE = {
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


def evaluate_formula(formula: str, variables: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate formula text (as written by :meth:`SymbolicFit.expression`) with numpy.

    Only the library's functions, ``pi`` and the given variables are visible.
    """
    clash = set(variables) & set(_NAMESPACE)
    if clash:
        raise ValueError(f"variable names {sorted(clash)} clash with function names; rename them")
    namespace = {"__builtins__": {}, **_NAMESPACE, **{k: np.asarray(v, dtype=float) for k, v in variables.items()}}
    try:
        return np.asarray(eval(formula, namespace), dtype=float)  # noqa: S307 - restricted namespace
    except NameError as err:
        raise ValueError(f"the formula uses an unknown name ({err}); give it in variables") from None


def to_sympy(formula: str):  # type: ignore[no-untyped-def]
    """The formula as a SymPy expression (SymPy is optional: ``pip install sympy``)."""
    try:
        import sympy
    except ImportError:
        raise ImportError("to_sympy needs SymPy; install it with `pip install sympy`") from None
    return sympy.sympify(formula, locals={"abs": sympy.Abs})
