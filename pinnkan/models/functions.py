"""The elementary functions a KAN edge can be locked to: ``a * f(b * x + c) + d``.

Each :class:`SymbolicFunction` carries its numpy and torch forms and a formula
template; :data:`LIBRARY` maps names to them. Fitting curves against the library
lives in :mod:`pinnkan.kan_tools.symbolic`.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

__all__ = ["SymbolicFunction", "LIBRARY"]


@dataclass(frozen=True)
class SymbolicFunction:
    """A library function: its numpy and torch forms and its formula template.

    Attributes
    ----------
    name : str
        Key in :data:`LIBRARY`.
    complexity : int
        Simplicity rank, lower is simpler.
    numpy, torch : callable
        Elementwise ``f`` on arrays and (differentiably) on tensors.
    template : str
        Formula text with one ``{}`` for the argument, valid for
        :func:`evaluate_formula` and ``sympy.sympify``, e.g. ``"sin({})"``.
    """

    name: str
    complexity: int
    numpy: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[torch.Tensor], torch.Tensor]
    template: str


_Array = TypeVar("_Array", np.ndarray, torch.Tensor)


def _identity(z: _Array) -> _Array:
    return z


def _cube(z: _Array) -> _Array:
    return z**3


def _fourth(z: _Array) -> _Array:
    return z**4


LIBRARY: Mapping[str, SymbolicFunction] = types.MappingProxyType(
    {
        f.name: f
        for f in (
            SymbolicFunction("zero", 0, np.zeros_like, torch.zeros_like, "0"),
            SymbolicFunction("x", 1, _identity, _identity, "({})"),
            SymbolicFunction("x^2", 2, np.square, torch.square, "({})**2"),
            SymbolicFunction("x^3", 3, _cube, _cube, "({})**3"),
            SymbolicFunction("x^4", 3, _fourth, _fourth, "({})**4"),
            SymbolicFunction("abs", 3, np.abs, torch.abs, "abs({})"),
            SymbolicFunction("sin", 4, np.sin, torch.sin, "sin({})"),
            SymbolicFunction("cos", 4, np.cos, torch.cos, "cos({})"),
            SymbolicFunction("exp", 4, np.exp, torch.exp, "exp({})"),
            SymbolicFunction("log", 4, np.log, torch.log, "log({})"),
            SymbolicFunction("sqrt", 4, np.sqrt, torch.sqrt, "sqrt({})"),
            SymbolicFunction("tanh", 4, np.tanh, torch.tanh, "tanh({})"),
            SymbolicFunction(
                "gaussian", 4, lambda z: np.exp(-np.square(z)), lambda z: torch.exp(-torch.square(z)), "exp(-({})**2)"
            ),
            SymbolicFunction("1/x", 5, np.reciprocal, torch.reciprocal, "1/({})"),
            SymbolicFunction("tan", 5, np.tan, torch.tan, "tan({})"),
        )
    }
)
