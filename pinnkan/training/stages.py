"""Training stages: optimiser runs (Adam, L-BFGS, dense BFGS, Gauss-Newton) and model changes between them.

A :class:`Stage` makes a fresh optimiser for the parameters; a :class:`ModelChange`
(e.g. a finer KAN grid) changes the model between optimiser stages and takes no
steps. Stages are small frozen objects with keyword-only options.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, check_number, check_whole, whole
from ..pde.user_code import kind_of
from .bfgs import UPDATES, DenseBFGS
from .gauss_newton import LevenbergMarquardt

Schedule = torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau

__all__ = ["Stage", "ModelChange", "Adam", "Plateau", "LBFGS", "BFGS", "GaussNewton", "CHOSEN_UPDATE"]

#: The inverse-Hessian update of the BFGS stages pinnkan chooses itself (default stages, refinement rounds):
#: the self-scaled Broyden update, 4-35x lower than plain BFGS on scripts/defaults_study.py's files.
CHOSEN_UPDATE = "ssbroyden"


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
    #: Largest 2-norm of the gradient over all parameters (clipped to it), or None.
    clip: float | None = None
    #: Whether the stage needs the loss as a sum of squares (its residual rows), not only its gradient.
    needs_residuals = False

    @abstractmethod
    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """A fresh optimiser for ``params``."""

    def scheduler(self, optimizer: torch.optim.Optimizer) -> Schedule | None:
        """A learning-rate schedule stepped once per step, or None. A ``ReduceLROnPlateau`` is stepped
        with the objective's monitored value (:meth:`~pinnkan.training.objective.Objective.monitor`)."""
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


def _check_rate(value: object, name: str, requirement: str = "a finite number > 0") -> None:
    check_number(name, value, requirement, lambda v: v > 0)


@dataclass(frozen=True, kw_only=True)
class Plateau:
    """Lower the learning rate when the monitored loss stalls (``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    Parameters
    ----------
    patience : int
        Steps without improvement before the rate is lowered.
    factor : float
        What the rate is multiplied by, in (0, 1).
    min_lr : float
        The lowest rate.
    """

    patience: int = 100
    factor: float = 0.5
    min_lr: float = 1e-6

    def __post_init__(self) -> None:
        check_whole("Plateau.patience", self.patience, 0)
        for name, value in (("Plateau.factor", self.factor), ("Plateau.min_lr", self.min_lr)):
            _check_rate(value, name)
        if not self.factor < 1:
            raise InputValueError(f"Plateau.factor must be < 1 to lower the learning rate, got {self.factor}")


@dataclass(frozen=True, kw_only=True)
class Adam(Stage):
    """Adam (AdamW with weight decay), with an optional schedule of the learning rate and gradient clipping.

    Parameters
    ----------
    steps : int
        Optimiser steps.
    lr : float
        Initial learning rate.
    final_lr : float, optional
        Learning rate reached at the last step by exponential decay; constant if None.
    weight_decay : float
        AdamW's decoupled weight decay (0: plain Adam).
    clip : float, optional
        Largest 2-norm of the gradient over all parameters; no clipping if None.
    plateau : Plateau, optional
        Lower the rate when the objective's monitored loss stalls (instead of ``final_lr``).
    """

    steps: int
    lr: float = 1e-3
    final_lr: float | None = None
    weight_decay: float = 0.0
    clip: float | None = None
    plateau: Plateau | None = None
    adaptive = True

    def __post_init__(self) -> None:
        _check_steps(self.steps, "Adam")
        _check_rate(self.lr, "Adam.lr")
        if self.final_lr is not None:
            _check_rate(self.final_lr, "Adam.final_lr")
        check_number("Adam.weight_decay", self.weight_decay, "a finite number >= 0", lambda v: v >= 0)
        if self.clip is not None:
            _check_rate(self.clip, "Adam.clip", "a finite number > 0 or None")
        if self.plateau is not None:
            if not isinstance(self.plateau, Plateau):
                raise InputTypeError(f"Adam.plateau must be a Plateau(...) or None, got {kind_of(self.plateau)}")
            if self.final_lr is not None:
                raise InputValueError("Adam takes final_lr or plateau, not both: one schedule of the learning rate")
            if self.plateau.min_lr > self.lr:
                raise InputValueError(f"Plateau.min_lr={self.plateau.min_lr} exceeds Adam.lr={self.lr}; give min_lr <= lr")

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        if self.weight_decay:
            return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.Adam(params, lr=self.lr)

    def scheduler(self, optimizer: torch.optim.Optimizer) -> Schedule | None:
        if self.plateau is not None:
            plateau = self.plateau
            return torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=plateau.factor, patience=plateau.patience, min_lr=plateau.min_lr
            )
        if self.final_lr is None:
            return None
        gamma = (self.final_lr / self.lr) ** (1.0 / self.steps)
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)

    def describe(self) -> dict[str, object]:
        """The settings, leaving out the options at their defaults (so reports and checkpoints of plain
        Adam stages read as before these options existed)."""
        described: dict[str, object] = {"stage": "Adam", "steps": self.steps, "lr": self.lr, "final_lr": self.final_lr}
        if self.weight_decay:
            described["weight_decay"] = self.weight_decay
        if self.clip is not None:
            described["clip"] = self.clip
        if self.plateau is not None:
            described["plateau"] = vars(self.plateau)
        return described


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
    update : {"bfgs", "ssbfgs", "ssbroyden"}
        The inverse-Hessian update: BFGS, or the self-scaled BFGS or Broyden updates of
        Urbán, Stefanou & Pons (2025), which rescale the whole estimate at every step
        (:mod:`pinnkan.training.bfgs`).
    """

    steps: int
    max_eval: int = 25
    tolerance_change: float = 1e-14
    update: str = "bfgs"
    records_accepted_point = True

    def __post_init__(self) -> None:
        _check_steps(self.steps, "BFGS")
        if not whole(self.max_eval, 1):
            raise InputValueError("BFGS.max_eval must be >= 1")
        if self.update not in UPDATES:
            raise InputValueError(f"BFGS.update must be one of {list(UPDATES)}, got {self.update!r}")

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return DenseBFGS(params, max_eval=self.max_eval, tolerance_change=self.tolerance_change, update=self.update)

    def describe(self) -> dict[str, object]:
        """The settings; ``update`` only when it is not plain BFGS (so reports and checkpoints of BFGS stages
        read as before the option existed)."""
        described = super().describe()
        if self.update == "bfgs":
            del described["update"]
        return described


@dataclass(frozen=True, kw_only=True)
class GaussNewton(Stage):
    """Levenberg-Marquardt: damped Gauss-Newton steps from the Jacobian of every residual row.

    Each step differentiates every weighted residual row of the loss (through graphs of
    ``chunk`` rows: one vectorised backward pass per graph, or one pass per row where the
    graph holds the fused C kernels of a B-spline KAN), adds them into the ``P x P`` normal equations and
    solves them with a damping that adapts to how well the linear model predicted the last
    step (:mod:`pinnkan.training.gauss_newton`). A step costs about as much as a few hundred
    BFGS steps, but near a solution it can lower the loss by orders of magnitude where
    quasi-Newton updates stall. Needs a loss that is a sum of squares (no KAN penalties).

    Parameters
    ----------
    steps : int
        Iterations at most; the stage ends early when no damped step lowers the loss.
    damping : float
        The first damping relative to the largest diagonal entry of ``J^T J``.
    chunk : int
        Residual rows per forward pass while the Jacobian is built.
    max_trials : int
        Damped steps tried per iteration.
    tolerance_change : float
        Stop when the loss changes by less than this.
    """

    steps: int
    damping: float = 1e-3
    chunk: int = 32
    max_trials: int = 10
    tolerance_change: float = 1e-14
    records_accepted_point = True
    needs_residuals = True

    def __post_init__(self) -> None:
        _check_steps(self.steps, "GaussNewton")
        _check_rate(self.damping, "GaussNewton.damping")
        check_whole("GaussNewton.chunk", self.chunk)
        check_whole("GaussNewton.max_trials", self.max_trials)
        check_number("GaussNewton.tolerance_change", self.tolerance_change, "a finite number >= 0", lambda v: v >= 0)

    def optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return LevenbergMarquardt(params, damping=self.damping, chunk=self.chunk, max_trials=self.max_trials,
                                  tolerance_change=self.tolerance_change)
