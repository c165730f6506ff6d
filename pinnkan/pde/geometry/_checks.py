"""Input checks shared by the domains: coordinate names, ranges, point arrays."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...errors import InputTypeError, InputValueError, check_whole


def coordinate_names(names: object, dim: int | None = None) -> tuple[str, ...]:
    """Check coordinate names (identifiers without underscores, distinct); return them as a tuple."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise InputTypeError(f"coordinates must be a sequence of names such as ('x', 'y'), got {names!r}")
    names = tuple(names)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or "_" in name:
            raise InputValueError(f"coordinate name {name!r} must be an identifier without underscores")
    if len(set(names)) != len(names):
        raise InputValueError(f"coordinate names must be distinct, got {names}")
    if dim is not None and len(names) != dim:
        raise InputValueError(f"give {dim} coordinate names, one per dimension, got {names}")
    return names


def interval(name: str, pair: object) -> tuple[float, float]:
    """Check a range ``(lo, hi)`` of coordinate ``name``: finite with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in pair)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise InputTypeError(f"range of {name!r} must be a pair (lo, hi), got {pair!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputValueError(f"range of {name!r} must be finite, got ({lo}, {hi})")
    if not lo < hi:
        raise InputValueError(f"range of {name!r} is degenerate or reversed: ({lo}, {hi}); pass (lo, hi) with lo < hi")
    return lo, hi


def finite_vector(value: object, what: str) -> np.ndarray:
    """A 1-d finite float64 array, or a ValueError naming ``what``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"{what} must be a sequence of numbers, got {value!r}") from None
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise InputValueError(f"{what} must be a flat sequence of finite numbers, got {value!r}")
    return array


def points_array(points: object, coordinates: tuple[str, ...]) -> np.ndarray:
    """Points as a float64 array (n, dim) for ``coordinates``, or a ValueError saying the shape."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != len(coordinates):
        raise InputValueError(
            f"points must have shape (n, {len(coordinates)}), one column per coordinate {coordinates}, "
            f"got shape {array.shape}"
        )
    return array


def positive_count(n: object) -> int:
    """A number of points: a positive int."""
    return check_whole("number of points", n, numpy=True)
