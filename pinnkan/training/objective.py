"""What the trainer minimises: a loss with optional hooks around each step.

The trainer knows nothing of PDEs. It calls an :class:`Objective` for the loss and
its named terms, tells it when a step begins and ends (so that weights and points
can adapt during first-order stages), records its extra figures, and saves its
state in checkpoints. A plain function ``loss(model) -> (total, terms)`` is an
objective without hooks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError
from .distributed import ALONE, Group

__all__ = ["Objective", "FunctionObjective", "as_objective"]

LossFn = Callable[[nn.Module], tuple[torch.Tensor, Mapping[str, torch.Tensor]]]


class Objective(ABC):
    """A loss ``(total, {name: term})`` with hooks; the hooks do nothing by default.

    ``group`` holds the processes that evaluate the loss together (each its share of
    the points, :mod:`pinnkan.training.distributed`); the trainer keeps them in step.
    """

    group: Group = ALONE

    @abstractmethod
    def __call__(self, model: nn.Module) -> tuple[torch.Tensor, Mapping[str, torch.Tensor]]:
        """The total loss and its unweighted terms (scalars)."""

    def loss_and_gradient(self, model: nn.Module) -> tuple[torch.Tensor, Mapping[str, torch.Tensor]]:
        """:meth:`__call__` without graphs, the total's gradient added to the parameters' ``.grad`` (whatever
        the total: asking whether it is finite would wait for the device; the trainer discards the gradient of
        a non-finite loss). An objective that evaluates in pieces overrides it."""
        total, terms = self(model)
        if total.requires_grad:
            total.backward()
        return total.detach(), {name: value.detach() for name, value in terms.items()}

    def before_step(self, step: int, adaptive: bool) -> None:
        """Step ``step`` (1-based) begins; ``adaptive`` is False in quasi-Newton stages."""

    def after_step(self, step: int, model: nn.Module, adaptive: bool) -> str | None:
        """Step ``step`` ended; return a note if the objective changed (e.g. new points)."""
        return None

    def extras(self) -> dict[str, float]:
        """Figures to record with each step besides the loss terms (weights, coefficients), after its update;
        names with a ``/``. A non-finite figure stops the step as a non-finite loss does."""
        return {}

    def monitor(self, record: Mapping[str, float]) -> float:
        """The loss a plateau schedule watches, from the step's ``record``: its total by default."""
        return record["total"]

    @property
    def sum_of_squares(self) -> bool:
        """Whether :meth:`residual_chunks` can write the total as a sum of squares (Gauss-Newton stages need it)."""
        return False

    def residual_chunks(self, model: nn.Module, size: int) -> Iterator[torch.Tensor]:
        """Pieces (1-D, differentiable, at most ``size`` points' rows each) of a vector ``F`` with
        ``sum(F**2)`` equal to the total loss."""
        raise InputValueError(f"{type(self).__name__} is not written as a sum of squares; Gauss-Newton stages need one")

    def samples(self) -> torch.Tensor | None:
        """Training inputs for model changes that need them (e.g. KAN grid updates)."""
        return None

    def state_dict(self) -> dict[str, object]:
        """State for checkpoints."""
        return {}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore :meth:`state_dict`."""

    def resharded(self, shards: Sequence[Mapping[str, object]]) -> Mapping[str, object]:
        """This process's state from the :meth:`state_dict` of each of another number of processes."""
        raise InputValueError(f"a checkpoint of {len(shards)} process(es) resumes with {len(shards)} "
                              f"(torchrun --nproc_per_node={len(shards)}); {type(self).__name__} cannot share out "
                              f"their state again")


class FunctionObjective(Objective):
    """A plain loss function as an objective."""

    def __init__(self, loss: LossFn) -> None:
        self._loss = loss

    def __call__(self, model: nn.Module) -> tuple[torch.Tensor, Mapping[str, torch.Tensor]]:
        return self._loss(model)


def as_objective(loss: Objective | LossFn) -> Objective:
    """``loss`` itself if it is an :class:`Objective`, else the function wrapped as one."""
    if isinstance(loss, Objective):
        return loss
    if not callable(loss):
        raise InputTypeError(f"loss must be an Objective or a function model -> (total, terms), got {type(loss).__name__}")
    return FunctionObjective(loss)
