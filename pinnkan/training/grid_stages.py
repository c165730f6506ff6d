"""Grid changes as training stages: refine a KAN's grids or re-place its knots between optimiser stages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from ..errors import InputValueError, check_whole
from ..models.kan import KAN, find_kan
from .stages import ModelChange

__all__ = ["ExtendGrid", "UpdateGrid"]


@dataclass(frozen=True, kw_only=True)
class ExtendGrid(ModelChange):
    """A training stage that refines the KAN's grids to ``grid_size`` intervals.

    Put it between optimiser stages, e.g.
    ``[Adam(steps=500), BFGS(steps=500), ExtendGrid(grid_size=10), BFGS(steps=500)]``.
    """

    grid_size: int

    def __post_init__(self) -> None:
        check_whole("ExtendGrid.grid_size", self.grid_size)

    def check(self, model: nn.Module) -> None:
        net = find_kan(model, type(self).__name__)
        if self.grid_size <= net.grid_size:
            raise InputValueError(
                f"ExtendGrid needs a larger grid than the model's G={net.grid_size}, got {self.grid_size}"
            )

    def apply(self, model: nn.Module, samples: torch.Tensor | None) -> str:
        net = find_kan(model, type(self).__name__)
        before = net.grid_size
        change = _output_change(net, samples, partial(net.extend_grid, self.grid_size))
        return f"extended the grid from G={before} to G={self.grid_size}{change}"


@dataclass(frozen=True, kw_only=True)
class UpdateGrid(ModelChange):
    """A training stage that re-places the KAN's knots around the training points' values.

    Parameters
    ----------
    uniform_fraction, margin : float
        See :meth:`KANLayer.update_grid`.
    """

    uniform_fraction: float = 0.1
    margin: float = 0.01
    needs_samples = True

    def __post_init__(self) -> None:
        if not 0.0 < self.uniform_fraction <= 1.0:
            raise InputValueError(f"UpdateGrid.uniform_fraction must be in (0, 1], got {self.uniform_fraction}")
        if not (math.isfinite(self.margin) and self.margin >= 0.0):
            raise InputValueError(f"UpdateGrid.margin must be a finite number >= 0, got {self.margin}")

    def check(self, model: nn.Module) -> None:
        find_kan(model, type(self).__name__)

    def apply(self, model: nn.Module, samples: torch.Tensor | None) -> str:
        net = find_kan(model, type(self).__name__)
        if samples is None:
            raise InputValueError("UpdateGrid needs sample points; give the Trainer samples=...")
        update = partial(net.update_grid, samples, uniform_fraction=self.uniform_fraction, margin=self.margin)
        change = _output_change(net, samples, update)
        return f"updated the grid on {samples.shape[0]} points{change}"


@torch.no_grad()
def _output_change(net: KAN, samples: torch.Tensor | None, change: Callable[[], None]) -> str:
    """Apply ``change`` and say how much the output on ``samples`` moved, relative to its norm."""
    if samples is None:
        change()
        return ""
    before = net(samples)
    change()
    moved = float((net(samples) - before).norm() / torch.clamp(before.norm(), min=torch.finfo(before.dtype).tiny))
    return f" (output changed by {moved:.1e} relative)"
