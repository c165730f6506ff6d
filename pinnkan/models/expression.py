"""A closed-form formula as a network: SymPy expressions of the coordinates with trainable numbers.

:class:`Expression` evaluates one SymPy expression per output with torch operations,
so nested autograd differentiates it like any network and a PDE residual can be
written against it. Every floating-point number of the expressions is a trainable
parameter; integers, rationals and ``pi`` stay fixed, which is how a number is
*snapped*: :meth:`Expression.snap` replaces it by an exact value and the number is
no longer trained.

Examples
--------
>>> import sympy
>>> x, t = sympy.symbols("x t")
>>> net = Expression([sympy.Float(2.0) * sympy.exp(-sympy.Float(0.5) * t) * sympy.sin(sympy.pi * x)], ("x", "t"))
>>> net.constants.numel()
2
>>> net(torch.tensor([[0.5, 0.0]], dtype=torch.float64)).item()
2.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import sympy
import torch
from torch import nn

from ..errors import InputTypeError, InputValueError

__all__ = ["Expression", "nice_numbers"]

_Evaluate = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]

# SymPy functions and their torch forms.
_FUNCTIONS: dict[type, Callable[[torch.Tensor], torch.Tensor]] = {
    sympy.sin: torch.sin,
    sympy.cos: torch.cos,
    sympy.tan: torch.tan,
    sympy.exp: torch.exp,
    sympy.log: torch.log,
    sympy.tanh: torch.tanh,
    sympy.sinh: torch.sinh,
    sympy.cosh: torch.cosh,
    sympy.Abs: torch.abs,
}


class Expression(nn.Module):
    """Outputs given by SymPy expressions of named coordinates; their floats are parameters.

    Parameters
    ----------
    expressions : sequence of sympy.Expr
        One expression per output, in the coordinates' symbols.
    coordinates : sequence of str
        The name of each input column, e.g. ``("x", "t")``; the expressions may use
        any of them and nothing else.
    dtype, device
        Where the parameters live (the default dtype when None).

    Attributes
    ----------
    constants : torch.nn.Parameter
        The trainable numbers, in the order of :attr:`names`.
    """

    def __init__(
        self,
        expressions: Sequence[sympy.Expr],
        coordinates: Sequence[str],
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        expressions = [_merge_numbers(sympy.sympify(e)) for e in expressions]
        if not expressions:
            raise InputValueError("an Expression needs at least one output expression")
        self.coordinates = tuple(str(c) for c in coordinates)
        allowed = {sympy.Symbol(c) for c in self.coordinates}
        for expr in expressions:
            stray = sorted(str(s) for s in expr.free_symbols - allowed)
            if stray:
                raise InputValueError(f"the expression {expr} uses {stray}, which are not coordinates {self.coordinates}")
        numbers = sorted({f for e in expressions for f in e.atoms(sympy.Float)}, key=lambda f: (float(f), str(f)))
        self.names = tuple(sympy.Symbol(f"_c{k}") for k in range(len(numbers)))
        swap = dict(zip(numbers, self.names))
        self.templates = tuple(e.xreplace(swap) for e in expressions)
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self.constants = nn.Parameter(torch.tensor([float(f) for f in numbers], **factory))
        self._programs = tuple(_compile(t, {n: k for k, n in enumerate(self.names)}) for t in self.templates)

    @property
    def in_features(self) -> int:
        return len(self.coordinates)

    @property
    def out_features(self) -> int:
        return len(self.templates)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (N, m) at points (N, d)."""
        if x.ndim != 2 or x.shape[1] != len(self.coordinates):
            raise InputValueError(f"points must have shape (N, {len(self.coordinates)}), got {tuple(x.shape)}")
        columns = {name: x[:, k] for k, name in enumerate(self.coordinates)}
        outputs = [program(columns, self.constants) for program in self._programs]
        return torch.stack([torch.broadcast_to(v, x.shape[:1]).to(x.dtype) for v in outputs], dim=1)

    def expressions(self, digits: int | None = None) -> list[sympy.Expr]:
        """The expressions with the current numbers (rounded to ``digits`` significant digits)."""
        values = self.constants.detach().cpu().tolist()
        numbers = {n: sympy.Float(v if digits is None else float(f"{v:.{digits}g}"), 17) for n, v in zip(self.names, values)}
        return [_merge_numbers(t.xreplace(numbers)) for t in self.templates]

    def snap(self, index: int, value: sympy.Expr) -> Expression:
        """A new Expression with number ``index`` replaced by the exact ``value`` (no longer trained)."""
        if not 0 <= index < len(self.names):
            raise InputValueError(f"number {index} does not exist; the expression has {len(self.names)}")
        value = sympy.sympify(value)
        if value.atoms(sympy.Float):
            raise InputTypeError(f"snap to an exact number (an integer, a rational, pi...), got {value}")
        values = self.constants.detach().cpu().tolist()
        numbers = {n: (value if k == index else sympy.Float(v, 17)) for k, (n, v) in enumerate(zip(self.names, values))}
        return Expression(
            [t.xreplace(numbers) for t in self.templates],
            self.coordinates,
            dtype=self.constants.dtype,
            device=self.constants.device,
        )

    def complexity(self) -> int:
        """Nodes of the expression trees (numbers and symbols count one each): lower is simpler."""
        return sum(sum(1 for _ in sympy.preorder_traversal(t)) for t in self.templates)

    def extra_repr(self) -> str:
        return f"{', '.join(str(e) for e in self.expressions(6))}"


def _merge_numbers(expr: sympy.Expr) -> sympy.Expr:
    """``2.0*pi*x`` as ``6.2831853*x``: exact numbers beside a fitted one in a product say nothing exact.

    The product's numbers become one float, which can then be snapped as a whole.
    """

    def merged(term: sympy.Mul) -> sympy.Expr:
        numbers = [a for a in term.args if a.is_number]
        rest = [a for a in term.args if not a.is_number]
        return sympy.Mul(sympy.Float(float(sympy.Mul(*numbers)), 17), *rest)

    return expr.replace(
        lambda e: e.is_Mul and any(a.is_Float for a in e.args) and sum(1 for a in e.args if a.is_number) > 1, merged
    )


def _compile(expr: sympy.Expr, constants: dict[sympy.Symbol, int]) -> _Evaluate:
    """A torch function of (coordinate columns, constants) computing ``expr``."""
    if expr in constants:
        index = constants[expr]  # type: ignore[index]
        return lambda columns, c: c[index]
    if expr.is_Symbol:
        name = str(expr)
        return lambda columns, c: columns[name]
    if expr.is_number:
        if not expr.is_real:
            raise InputValueError(f"the expression has a non-real number {expr}")
        value = float(expr)
        return lambda columns, c: c.new_tensor(value)
    args = [_compile(a, constants) for a in expr.args]
    if expr.is_Add:
        return lambda columns, c: _fold(args, columns, c, torch.add)
    if expr.is_Mul:
        return lambda columns, c: _fold(args, columns, c, torch.mul)
    if expr.is_Pow:
        base, power = args
        exponent = expr.args[1]
        if exponent.is_Integer or (exponent.is_Rational and not exponent.free_symbols):
            p = float(exponent)
            if p == 0.5:
                return lambda columns, c: torch.sqrt(base(columns, c))
            if p.is_integer():
                whole = int(p)
                return lambda columns, c: base(columns, c) ** whole
            return lambda columns, c: base(columns, c) ** p
        return lambda columns, c: torch.pow(base(columns, c), power(columns, c))
    function = _FUNCTIONS.get(type(expr))
    if function is None or len(args) != 1:
        raise InputValueError(f"{type(expr).__name__} has no torch form here; known: {sorted(f.__name__ for f in _FUNCTIONS)}")
    (inner,) = args
    return lambda columns, c: function(inner(columns, c))


def _fold(
    args: list[_Evaluate],
    columns: dict[str, torch.Tensor],
    c: torch.Tensor,
    op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    total = args[0](columns, c)
    for arg in args[1:]:
        total = op(total, arg(columns, c))
    return total


def nice_numbers(value: float, *, denominators: int = 4) -> list[sympy.Expr]:
    """Exact numbers near ``value`` to try when snapping: 0, p/q, p/q * pi and p/q / pi with q <= ``denominators``.

    Nearest first; each candidate is within 5% (or 0.05 absolutely) of ``value``.
    """
    if not math.isfinite(value):
        return []
    found: dict[sympy.Expr, float] = {}
    for q in range(1, denominators + 1):
        for unit in (sympy.Integer(1), sympy.pi, 1 / sympy.pi):
            p = round(value * q / float(unit))
            candidate = sympy.Rational(p, q) * unit
            found.setdefault(candidate, abs(float(candidate) - value))
    near = [(d, c) for c, d in found.items() if d <= max(0.05 * abs(value), 0.05)]
    return [c for _, c in sorted(near, key=lambda dc: (dc[0], sympy.count_ops(dc[1])))]
