"""The errors pinnkan raises when it refuses its input, told apart from its own bugs.

Every check of pinnkan's (a bad option, a problem that fails its checks, a function of
the user's that fails) raises :class:`InputError`, as :class:`InputValueError` or
:class:`InputTypeError`: they are ``ValueError`` and ``TypeError``, so code that catches
those keeps working. The command line prints an ``InputError`` in one line as the user's
to fix; any other exception is a bug in pinnkan and keeps its traceback.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["InputError", "InputTypeError", "InputValueError", "MissingExtra", "check_number", "check_whole", "whole"]


class InputError(Exception):
    """pinnkan refused its input; the message names the fix."""


class InputValueError(InputError, ValueError):
    """A value pinnkan cannot use (out of range, inconsistent, not found)."""


class InputTypeError(InputError, TypeError):
    """An argument of a kind pinnkan cannot use."""


class MissingExtra(InputError, ImportError):
    """An optional package that a feature needs is not installed; the message names the ``pip install``."""


def whole(value: object, least: int | None = None, most: int | None = None, *, numpy: bool = False) -> bool:
    """Whether ``value`` is a whole number (an ``int``, not a ``bool``; also a numpy integer when ``numpy``)
    from ``least`` to ``most`` (either bound may be None).

    The one test behind pinnkan's checks of counts, orders and sizes; each check words its own message.
    """
    kinds: tuple[type, ...] = (int, np.integer) if numpy else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        return False
    return (least is None or value >= least) and (most is None or value <= most)


def check_whole(what: str, value: object, least: int = 1, *, numpy: bool = False) -> int:
    """``value`` as an int, or an :class:`InputValueError` saying ``what`` must be a positive int (an int
    ``>= least`` when ``least`` is not 1)."""
    if not whole(value, least, numpy=numpy):
        kind = "a positive int" if least == 1 else f"an int >= {least}"
        raise InputValueError(f"{what} must be {kind}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def check_number(what: str, value: object, requirement: str, ok: Callable[[float], bool]) -> None:
    """Raise :class:`InputValueError` ``"{what} must be {requirement}, got {value!r}"`` unless ``value`` is a
    finite real number (not a ``bool``) for which ``ok(value)`` holds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise InputValueError(f"{what} must be {requirement}, got {value!r}")
