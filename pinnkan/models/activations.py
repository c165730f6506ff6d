"""Smooth elementwise functions of the networks, with their derivatives of any order in closed form.

Forward jets (:mod:`pinnkan.models.jets`) need ``phi, phi', ..., phi^(r)`` at the same
points. ``tanh`` and the logistic sigmoid satisfy ``t' = 1 - t^2`` and
``s' = s (1 - s)``, so each of their derivatives is a polynomial in the function
itself; ``silu(x) = x s(x)`` has ``silu^(n) = x s^(n) + n s^(n-1)``; ``sin`` cycles.

Examples
--------
>>> x = torch.tensor([0.3], dtype=torch.float64)
>>> d = derivatives("tanh", x, 2)
>>> round(float(d[2]), 6) == round(float(-2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2)), 6)
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.polynomial import polynomial as P

from ..errors import InputValueError, whole

__all__ = ["ACTIVATIONS", "derivatives", "elementwise_derivatives"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "silu": torch.nn.functional.silu,
    "sin": torch.sin,
}

# Highest derivative order with a precomputed polynomial (far above what residuals ask for).
_MAX_ORDER = 8


def _derivative_polynomials(slope: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Coefficients (lowest power first) of ``f, f', f'', ...`` as polynomials in ``f``, given ``f' = slope(f)``."""
    polys = [np.array([0.0, 1.0])]
    for _ in range(_MAX_ORDER):
        polys.append(P.polymul(P.polyder(polys[-1]), slope))
    return tuple(tuple(float(c) for c in p) for p in polys)


_TANH = _derivative_polynomials(np.array([1.0, 0.0, -1.0]))  # t' = 1 - t^2
_SIGMOID = _derivative_polynomials(np.array([0.0, 1.0, -1.0]))  # s' = s - s^2


def _horner(coefficients: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
    result = torch.full_like(x, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = result * x + c
    return result


def derivatives(name: str, x: torch.Tensor, order: int) -> list[torch.Tensor]:
    """``[phi(x), phi'(x), ..., phi^(order)(x)]`` of the activation ``name``, each shaped like ``x``.

    Parameters
    ----------
    name : {"tanh", "silu", "sin"}
    x : torch.Tensor
    order : int
        Highest derivative, ``0 <= order <= 8``.
    """
    if name not in ACTIVATIONS:
        raise InputValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    if not whole(order, 0, _MAX_ORDER):
        raise InputValueError(f"derivative order must be an int in 0..{_MAX_ORDER}, got {order!r}")
    if name == "sin":
        s, c = torch.sin(x), torch.cos(x)
        return [(s, c, -s, -c)[r % 4] for r in range(order + 1)]
    if name == "tanh":
        t = torch.tanh(x)
        return [t] + [_horner(_TANH[r], t) for r in range(1, order + 1)]
    s = torch.sigmoid(x)
    sig = [s] + [_horner(_SIGMOID[r], s) for r in range(1, order + 1)]
    return [x * s] + [x * sig[r] + r * sig[r - 1] for r in range(1, order + 1)]


def elementwise_derivatives(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, order: int
) -> list[torch.Tensor]:
    """``[f(x), f'(x), ..., f^(order)(x)]`` of any elementwise ``f``, by nested autograd.

    For functions without a closed form here (e.g. a KAN edge locked to a library
    function). The results stay differentiable with respect to whatever ``x`` depends on.
    """
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    out = [function(x)]
    for _ in range(order):
        last = out[-1]
        if not last.requires_grad:  # constant from here on (e.g. a polynomial's high derivatives)
            out.append(torch.zeros_like(x))
            continue
        (grad,) = torch.autograd.grad(last.sum(), x, create_graph=True, allow_unused=True)
        out.append(torch.zeros_like(x) if grad is None else grad)
    return out
