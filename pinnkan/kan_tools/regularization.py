"""Sparsity and smoothness penalties of a KAN, as named loss terms.

With ``m_ij = mean_n |phi_ij(x_n)|`` the mean magnitude of edge ``i -> j`` of a
layer on a batch, summed over the layers:

* ``reg_l1 = sum_ij m_ij`` pushes whole edge functions towards zero;
* ``reg_entropy = -sum_ij p_ij log p_ij`` with ``p_ij = m_ij / sum m`` makes a few
  edges carry most of the magnitude;
* ``reg_smoothness = sum_ij sum_m (c_ij,m+1 - c_ij,m)^2`` penalises jumps between
  neighbouring spline coefficients.

Together the first two make the network prunable (see :mod:`pinnkan.kan_tools.pruning`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputValueError
from ..models.kan import find_kan

__all__ = ["Regularization"]


@dataclass(frozen=True, kw_only=True)
class Regularization:
    """Weights of the KAN penalties; a zero weight leaves its term out.

    Parameters
    ----------
    l1 : float
        Weight of ``reg_l1``.
    entropy : float
        Weight of ``reg_entropy``.
    smoothness : float
        Weight of ``reg_smoothness``.

    Examples
    --------
    >>> from pinnkan import KAN
    >>> reg = Regularization(l1=1e-3, entropy=1e-3)
    >>> terms = reg.terms(KAN((2, 3, 1)), torch.rand(10, 2))
    >>> sorted(terms)
    ['reg_entropy', 'reg_l1']
    """

    l1: float = 0.0
    entropy: float = 0.0
    smoothness: float = 0.0

    def __post_init__(self) -> None:
        for name, value in self.weights.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputValueError(f"Regularization weight {name[4:]} must be a finite number >= 0, got {value!r}")

    @property
    def weights(self) -> dict[str, float]:
        """Term name -> weight, including zero weights."""
        return {"reg_l1": self.l1, "reg_entropy": self.entropy, "reg_smoothness": self.smoothness}

    @property
    def active(self) -> bool:
        """True when any weight is positive."""
        return any(w > 0 for w in self.weights.values())

    def terms(self, model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unweighted penalties of the KAN in ``model`` on inputs ``x`` (N, in), for positive weights."""
        net = find_kan(model, "Regularization")
        terms: dict[str, torch.Tensor] = {}
        if self.l1 > 0 or self.entropy > 0:
            magnitudes = [values.abs().mean(0) for values in net.edge_values(x)]  # (in, out) each
            if self.l1 > 0:
                terms["reg_l1"] = sum(m.sum() for m in magnitudes)  # type: ignore[assignment]
            if self.entropy > 0:
                terms["reg_entropy"] = sum(_entropy(m) for m in magnitudes)  # type: ignore[assignment]
        if self.smoothness > 0:
            terms["reg_smoothness"] = sum(  # type: ignore[assignment]
                torch.sum(torch.diff(layer.spline_coef, dim=1) ** 2 * layer.edge_mask[:, None, :])
                for layer in net.layers
            )
        return terms


def _entropy(magnitudes: torch.Tensor) -> torch.Tensor:
    p = magnitudes.flatten()
    p = p / torch.clamp(p.sum(), min=torch.finfo(p.dtype).tiny)
    return -torch.sum(torch.special.xlogy(p, p))
