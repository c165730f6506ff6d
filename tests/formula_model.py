"""A model that is a formula: tests put a known function where a trained network goes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class FormulaModel(nn.Module):
    """Maps points (N, d) to ``func(points)`` as (N, m); its one parameter carries the dtype (float64)."""

    def __init__(self, func: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.func = func
        self.anchor = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.func(x)
        return out[:, None] if out.ndim == 1 else out
