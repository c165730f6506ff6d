"""Input checks shared by the reference solvers: numbers, ranges, grid counts, functions and their values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import InputTypeError, InputValueError, check_whole

TimeFunction = float | Callable[[float], float]


def positive(value: float, name: str) -> float:
    """``value`` as a float, or a TypeError/ValueError naming ``name`` unless it is a finite number > 0."""
    return _real(value, name, allow_zero=False)


def nonnegative(value: float, name: str) -> float:
    """``value`` as a float, or a TypeError/ValueError naming ``name`` unless it is a finite number >= 0."""
    return _real(value, name, allow_zero=True)


def _real(value: float, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputTypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise InputValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return float(value)


def interval(pair: tuple[float, float], name: str) -> tuple[float, float]:
    """``(lo, hi)`` as floats, or an error unless it is a finite pair with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must be a pair (lo, hi), got {pair!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputValueError(f"{name} must be finite with lo < hi, got ({lo}, {hi})")
    return lo, hi


def count(value: int, name: str, minimum: int = 3) -> int:
    """``value`` as an int, or a ValueError unless it is an int ``>= minimum``."""
    return check_whole(name, value, minimum, numpy=True)


def time_value(f: TimeFunction, t: float) -> float:
    """Boundary data ``f`` (a number or a function of t) at time ``t``, or a ValueError unless finite."""
    value = float(f(t)) if callable(f) else float(f)
    if not math.isfinite(value):
        raise InputValueError(f"boundary data is not finite at t = {t}; check the end conditions")
    return value


def save_strides(nx: int, nt: int, save_nx: int, save_nt: int) -> tuple[int, int]:
    """Grid strides ``(x, t)`` that keep ``save_nx x save_nt`` points, or a ValueError naming a fitting size."""
    x_stride = space_stride(nx, save_nx, "x")
    if nt % (save_nt - 1):
        raise InputValueError(f"nt must be a multiple of (save_nt - 1); e.g. nt = {(save_nt - 1) * 20}")
    return x_stride, nt // (save_nt - 1)


def space_stride(n: int, save_n: int, axis: str) -> int:
    """Grid stride along ``axis`` that keeps ``save_n`` of ``n`` points, or a ValueError naming a fitting size."""
    if (n - 1) % (save_n - 1):
        raise InputValueError(
            f"(n{axis} - 1) must be a multiple of (save_n{axis} - 1); e.g. n{axis} = {(save_n - 1) * 10 + 1}"
        )
    return (n - 1) // (save_n - 1)


def function(f: Callable, name: str, arguments: str) -> Callable:
    """``f``, or a TypeError naming ``name`` unless it is callable."""
    if not callable(f):
        raise InputTypeError(f"{name} must be a function of {arguments}, got {type(f).__name__}")
    return f


def number_or_function(value: float | Callable, name: str, arguments: str) -> float | Callable:
    """``value`` (a function, or a finite number as a float), or a TypeError/ValueError naming ``name``."""
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputTypeError(f"{name} must be a number or a function of {arguments}, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InputValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def on_points(values: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``values`` (one per point, or one number for all) as floats of ``shape``, or a ValueError naming ``what``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(shape, float(array))
    if array.shape != shape:
        raise InputValueError(f"{what} must return one value per point, shape {shape}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputValueError(f"{what} returned NaN or infinity; it must be finite at every grid point")
    return array


def on_grid(values: np.ndarray, nx: int, what: str, *, finite: bool = True) -> np.ndarray:
    """``values`` (one per point of a 1-D grid, or one number for all) as floats, or a ValueError naming ``what``.

    With ``finite`` the values must also be finite.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(nx, float(array))
    if array.shape != (nx,) or (finite and not np.all(np.isfinite(array))):
        raise InputValueError(f"{what} must return {nx} finite values for {nx} points")
    return array
