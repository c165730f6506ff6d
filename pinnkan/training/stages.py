"""Training stages: optimiser runs (Adam, L-BFGS, dense BFGS) and model changes between them.

A :class:`Stage` makes a fresh optimiser for the parameters; a :class:`ModelChange`
(e.g. a finer KAN grid) changes the model between optimiser stages and takes no
steps. Stages are small frozen objects with keyword-only options.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputValueError, whole
from .bfgs import DenseBFGS

__all__ = ["Stage", "ModelChange", "Adam", "LBFGS", "BFGS"]


class Stage(ABC):
    """One optimiser run of a fixed number of steps.

    ``records_accepted_point`` tells the trainer which loss evaluation of a step to
    record: the first (the step's starting point) or the last (its accepted point).
    """

    steps: int
    records_accepted_point = False
    #: Whether the objective may change during the stage (weights, points); only
    #: first-order optimisers tolerate that.
    adaptive = False

    @abstractmethod
    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """A fresh optimiser for ``params``."""

    def scheduler(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler | None:
        """A learning-rate schedule stepped once per step, or None."""
        return None

    def describe(self) -> dict[str, object]:
        """The stage's settings, for reports."""
        return {"stage": type(self).__name__, **vars(self)}


class ModelChange(ABC):
    """A change to the model between optimiser stages (e.g. a finer spline grid).

    It takes no optimiser steps. ``needs_samples`` tells the trainer that
    :meth:`apply` uses the training inputs given to it as ``samples``.
    """

    steps = 0
    needs_samples = False

    @abstractmethod
    def apply(self, model: nn.Module, samples: torch.Tensor | None) -> str:
        """Change ``model`` in place; return a short note of what was done."""

    def check(self, model: nn.Module) -> None:
        """Raise a TypeError or ValueError now if :meth:`apply` cannot work on ``model``."""

    def describe(self) -> dict[str, object]:
        """The change's settings, for reports."""
        return {"stage": type(self).__name__, **vars(self)}


def _check_steps(steps: object, what: str) -> None:
    if not whole(steps, 1):
        raise InputValueError(f"{what}.steps must be a positive int, got {steps!r}")


def _check_rate(value: object, name: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Adam(Stage):
    """Adam with an optional exponential decay of the learning rate.

    Parameters
    ----------
    steps : int
        Optimiser steps.
    lr : float
        Initial learning rate.
    final_lr : float, optional
        Learning rate reached at the last step by exponential decay; constant if None.
    """

    steps: int
    lr: float = 1e-3
    final_lr: float | None = None
    adaptive = True

    def __post_init__(self) -> None:
        _check_steps(self.steps, "Adam")
        _check_rate(self.lr, "Adam.lr")
        if self.final_lr is not None:
            _check_rate(self.final_lr, "Adam.final_lr")

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr)

    def scheduler(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler | None:
        if self.final_lr is None:
            return None
        gamma = (self.final_lr / self.lr) ** (1.0 / self.steps)
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)


@dataclass(frozen=True, kw_only=True)
class LBFGS(Stage):
    """L-BFGS with a strong-Wolfe line search, one iteration per step.

    Parameters
    ----------
    steps : int
        Iterations at most; the stage ends early when the loss stops changing.
    lr : float
        Initial step length of each line search.
    history_size : int
        Curvature pairs kept.
    max_eval : int
        Loss evaluations allowed per iteration (line search included).
    tolerance_change : float
        Stop when the loss or the step changes by less than this.
    """

    steps: int
    lr: float = 1.0
    history_size: int = 50
    max_eval: int = 25
    tolerance_change: float = 1e-14

    def __post_init__(self) -> None:
        _check_steps(self.steps, "LBFGS")
        _check_rate(self.lr, "LBFGS.lr")
        if self.history_size < 1 or self.max_eval < 1:
            raise InputValueError("LBFGS.history_size and LBFGS.max_eval must be >= 1")

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.LBFGS(
            params,
            lr=self.lr,
            max_iter=1,
            max_eval=self.max_eval,
            history_size=self.history_size,
            tolerance_grad=0.0,
            tolerance_change=self.tolerance_change,
            line_search_fn="strong_wolfe",
        )


@dataclass(frozen=True, kw_only=True)
class BFGS(Stage):
    """Full BFGS with a dense inverse Hessian and a strong-Wolfe line search.

    Suited to models with up to a few thousand parameters (the estimate takes
    ``P^2`` numbers), where it reaches lower losses than L-BFGS. One step is one
    iteration, usually one loss evaluation.

    Parameters
    ----------
    steps : int
        Iterations at most; the stage ends early when it stops making progress.
    max_eval : int
        Loss evaluations allowed per line search.
    tolerance_change : float
        Stop when the loss or the step changes by less than this.
    """

    steps: int
    max_eval: int = 25
    tolerance_change: float = 1e-14
    records_accepted_point = True

    def __post_init__(self) -> None:
        _check_steps(self.steps, "BFGS")
        if self.max_eval < 1:
            raise InputValueError("BFGS.max_eval must be >= 1")

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return DenseBFGS(params, max_eval=self.max_eval, tolerance_change=self.tolerance_change)
