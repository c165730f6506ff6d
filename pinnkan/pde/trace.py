"""Read a user's function of the coordinates as a SymPy expression, by calling it on symbols.

A hard constraint's ``particular`` and ``distance`` are plain Python functions of
the coordinates written with torch (``lambda c: torch.sin(math.pi * c["x"])``).
:func:`trace` calls such a function with stand-ins for the coordinate columns that
record every arithmetic operation and every elementwise torch function they meet
(through ``__torch_function__``), and returns the expression they built, or None
when the function does something that has no closed form here (indexing, a
reduction, a torch function outside :data:`_FUNCTIONS`). Python numbers become
exact SymPy numbers (``math.pi`` becomes ``pi``, ``0.4`` becomes ``2/5``), so they are
fixed, never fitted.

Examples
--------
>>> trace(lambda c: torch.sin(math.pi * c["x"]) * c["t"], ("x", "t"))
t*sin(pi*x)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import sympy
import torch

__all__ = ["trace"]


def _exact(value: float) -> sympy.Expr:
    """A Python number as an exact SymPy number (pi and small rationals recognised)."""
    if float(value).is_integer():
        return sympy.Integer(int(value))
    return sympy.nsimplify(float(value), [sympy.pi], tolerance=1e-15 * max(1.0, abs(value)), rational=False)


class _Untraceable(Exception):
    """The function did something without a closed form here."""


def _as_expr(value: object) -> sympy.Expr:
    if isinstance(value, _Symbolic):
        return value.expr
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return _exact(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return _exact(float(value))
    raise _Untraceable(f"{type(value).__name__} is not a number or a coordinate")


def _unary(function: Callable[[sympy.Expr], sympy.Expr]) -> Callable[..., sympy.Expr]:
    return lambda a: function(_as_expr(a))


_FUNCTIONS: dict[object, Callable[..., sympy.Expr]] = {
    torch.sin: _unary(sympy.sin),
    torch.cos: _unary(sympy.cos),
    torch.tan: _unary(sympy.tan),
    torch.exp: _unary(sympy.exp),
    torch.log: _unary(sympy.log),
    torch.sqrt: _unary(sympy.sqrt),
    torch.tanh: _unary(sympy.tanh),
    torch.sinh: _unary(sympy.sinh),
    torch.cosh: _unary(sympy.cosh),
    torch.abs: _unary(sympy.Abs),
    torch.square: _unary(lambda e: e**2),
    torch.zeros_like: lambda a: sympy.Integer(0),
    torch.ones_like: lambda a: sympy.Integer(1),
    torch.pow: lambda a, b: _as_expr(a) ** _as_expr(b),
    torch.mul: lambda a, b: _as_expr(a) * _as_expr(b),
    torch.add: lambda a, b: _as_expr(a) + _as_expr(b),
    torch.sub: lambda a, b: _as_expr(a) - _as_expr(b),
    torch.div: lambda a, b: _as_expr(a) / _as_expr(b),
}


class _Symbolic:
    """A stand-in for a column of coordinates that builds a SymPy expression."""

    def __init__(self, expr: sympy.Expr) -> None:
        self.expr = expr

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        rule = _FUNCTIONS.get(func)
        if rule is None or kwargs:
            raise _Untraceable(f"torch.{getattr(func, '__name__', func)} has no closed form here")
        return _Symbolic(rule(*args))

    def __add__(self, other: object) -> _Symbolic:
        return _Symbolic(self.expr + _as_expr(other))

    def __radd__(self, other: object) -> _Symbolic:
        return _Symbolic(_as_expr(other) + self.expr)

    def __sub__(self, other: object) -> _Symbolic:
        return _Symbolic(self.expr - _as_expr(other))

    def __rsub__(self, other: object) -> _Symbolic:
        return _Symbolic(_as_expr(other) - self.expr)

    def __mul__(self, other: object) -> _Symbolic:
        return _Symbolic(self.expr * _as_expr(other))

    def __rmul__(self, other: object) -> _Symbolic:
        return _Symbolic(_as_expr(other) * self.expr)

    def __truediv__(self, other: object) -> _Symbolic:
        return _Symbolic(self.expr / _as_expr(other))

    def __rtruediv__(self, other: object) -> _Symbolic:
        return _Symbolic(_as_expr(other) / self.expr)

    def __pow__(self, other: object) -> _Symbolic:
        return _Symbolic(self.expr ** _as_expr(other))

    def __rpow__(self, other: object) -> _Symbolic:
        return _Symbolic(_as_expr(other) ** self.expr)

    def __neg__(self) -> _Symbolic:
        return _Symbolic(-self.expr)

    def __pos__(self) -> _Symbolic:
        return self

    def __getattr__(self, name: str) -> object:
        raise _Untraceable(f"a coordinate column has no closed form for .{name}")


def trace(function: Callable[[dict[str, object]], object], coordinates: Sequence[str]) -> sympy.Expr | None:
    """The SymPy expression ``function`` computes from the coordinates, or None when it has none here.

    Parameters
    ----------
    function : callable
        Called once with a mapping of coordinate name to a symbolic stand-in.
    coordinates : sequence of str
        The coordinate names (the symbols of the result).
    """
    columns = {name: _Symbolic(sympy.Symbol(name)) for name in coordinates}
    try:
        return _as_expr(function(columns))
    except (_Untraceable, TypeError, KeyError, ValueError, AttributeError):
        return None
