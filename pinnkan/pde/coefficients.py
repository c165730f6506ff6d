"""PDE coefficients declared on a problem: known constants or unknowns learned with the network.

A residual reads a coefficient by name (``f.alpha``). A trainable coefficient is a
parameter of the :class:`CoefficientSet` module, so it is optimised, saved in
checkpoints and reported like the network's own parameters.

Examples
--------
>>> coefficients = CoefficientSet({"alpha": Coefficient(1.0, positive=True)})
>>> round(float(coefficients.values()["alpha"]), 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError
from .fields import check_name

__all__ = ["Coefficient", "CoefficientSet"]


@dataclass(frozen=True)
class Coefficient:
    """A scalar coefficient of the PDE.

    Parameters
    ----------
    initial : float
        Starting value (the value, if not trainable).
    positive : bool
        Keep it positive by learning ``log(value)``: ``value = exp(raw)``.
    trainable : bool
        Learn it with the network (an inverse problem) or keep it fixed.
    """

    initial: float
    positive: bool = False
    trainable: bool = True

    def __post_init__(self) -> None:
        value = self.initial
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputValueError(f"a Coefficient's initial value must be a finite number, got {value!r}")
        if self.positive and value <= 0:
            raise InputValueError(f"a positive Coefficient needs an initial value > 0, got {value}")

    def raw(self) -> float:
        """The unconstrained parameter value for :attr:`initial`."""
        return math.log(self.initial) if self.positive else float(self.initial)

    def value(self, raw: torch.Tensor) -> torch.Tensor:
        """The coefficient for an unconstrained parameter: ``exp(raw)`` if positive, else ``raw``."""
        return torch.exp(raw) if self.positive else raw


class CoefficientSet(nn.Module):
    """The problem's coefficients as a module: trainable ones are parameters.

    Parameters
    ----------
    declared : mapping of str to Coefficient
    dtype, device
        Where the parameters live.
    """

    def __init__(
        self,
        declared: Mapping[str, Coefficient],
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.declared = check_coefficients(declared)
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self.raw = nn.ParameterDict(
            {
                name: nn.Parameter(torch.tensor(c.raw(), **factory), requires_grad=c.trainable)
                for name, c in self.declared.items()
            }
        )

    def values(self) -> dict[str, torch.Tensor]:
        """Every coefficient's current value, name -> 0-d tensor (differentiable if trainable)."""
        return {name: c.value(self.raw[name]) for name, c in self.declared.items()}

    def report(self) -> dict[str, float]:
        """Current values as plain floats."""
        return {name: float(v.detach()) for name, v in self.values().items()}


def check_coefficients(declared: object) -> dict[str, Coefficient]:
    """Validated coefficients by name (a plain number means a fixed coefficient)."""
    if declared is None:
        return {}
    if not isinstance(declared, Mapping):
        raise InputTypeError(
            f"coefficients must be a mapping of name to Coefficient, e.g. {{'alpha': Coefficient(1.0)}}, "
            f"got {type(declared).__name__}"
        )
    checked = {}
    for name, c in declared.items():
        check_name("coefficient", name)
        if isinstance(c, (int, float)) and not isinstance(c, bool):
            c = Coefficient(float(c), trainable=False)
        if not isinstance(c, Coefficient):
            raise InputTypeError(f"coefficient {name!r} must be a Coefficient(...) or a number, got {type(c).__name__}")
        checked[name] = c
    return checked
