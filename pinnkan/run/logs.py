"""Training logs a person can watch while a run trains: TensorBoard event files in the run folder.

``pinnkan solve NAME --log tensorboard`` (or ``solve(..., logs=(TensorBoard(),))``)
writes ``RUN/tensorboard/``; watch it with ``tensorboard --logdir RUN/tensorboard``.
Every step adds the total loss and each term (``loss/...``), the learning rate
(``lr``) and the objective's figures (``weight/...``, ``coef/...``, ...); every
``every`` steps the relative L2 error against the reference (``error/rel_l2``, per
output for systems) and every ``estimate_every`` steps the error estimated without
it (``error/estimated``, about a second each). Needs the extra ``pinnkan[tensorboard]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compare import Reference, compare
from ..errors import InputValueError, whole
from ..estimate import estimate_error
from ..extras import require
from ..pde.pinn import PINN
from ..pde.problem import Problem
from ..training.trainer import Callback

__all__ = ["TensorBoard", "TensorBoardWriter"]

# Record keys that are not figures of the loss.
_SKIPPED = ("step", "stage")


@dataclass(frozen=True)
class TensorBoard:
    """Log a run to TensorBoard event files in ``RUN/tensorboard``.

    Parameters
    ----------
    every : int
        Steps between measurements of the error against the reference.
    estimate_every : int or None
        Steps between error estimates without the reference (None: only at the end).
    """

    every: int = 100
    estimate_every: int | None = 1000

    def __post_init__(self) -> None:
        if not whole(self.every, 1):
            raise InputValueError(f"TensorBoard.every must be a positive int, got {self.every!r}")
        if self.estimate_every is not None and not whole(self.estimate_every, 1):
            raise InputValueError(f"TensorBoard.estimate_every must be a positive int or None, got {self.estimate_every!r}")

    def open(self, folder: Path, problem: Problem, reference: Reference | None, *, seed: int,
             start: int = 0) -> TensorBoardWriter:
        """The writer of a run: events of steps after ``start`` (a resumed run's step) are dropped first."""
        return TensorBoardWriter(self, folder / "tensorboard", problem, reference, seed=seed, start=start)


class TensorBoardWriter:
    """The event files of one run; :meth:`monitor` gives the trainer's callback, :meth:`close` ends them."""

    def __init__(self, options: TensorBoard, folder: Path, problem: Problem, reference: Reference | None, *,
                 seed: int, start: int) -> None:
        require("tensorboard", "--log tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.options, self.problem, self.reference, self.seed = options, problem, reference, seed
        # purge_step: a resumed run rewrites what the interrupted one logged after its checkpoint (step ``start``)
        self.writer = SummaryWriter(log_dir=str(folder), purge_step=start + 1 if start else None)

    def monitor(self, model: PINN) -> Callback:
        """``callback(step, record)`` that logs the record, and the errors every so many steps."""

        def log(step: int, record: Mapping[str, float]) -> None:
            for key, value in record.items():
                if key not in _SKIPPED:
                    self.writer.add_scalar(key if "/" in key or key == "lr" else f"loss/{key}", value, step)
            if self.reference is not None and step % self.options.every == 0:
                self.errors(model, step)
            every = self.options.estimate_every
            if every is not None and step % every == 0:
                self.estimate(model, step)

        return log

    def errors(self, model: PINN, step: int) -> None:
        """``error/rel_l2`` (and ``error/rel_l2/<output>`` for systems) at ``step``."""
        comparison = compare(model, self.reference, outputs=self.problem.outputs, time_axis=None)  # type: ignore[arg-type]
        self.writer.add_scalar("error/rel_l2", comparison.rel_l2, step)
        if len(comparison.outputs) > 1:
            for name, e in comparison.outputs.items():
                self.writer.add_scalar(f"error/rel_l2/{name}", e.rel_l2, step)

    def estimate(self, model: PINN, step: int, value: float | None = None) -> None:
        """``error/estimated`` at ``step``: ``value``, or estimated now."""
        if value is None:
            value = estimate_error(self.problem, model, rng=np.random.default_rng(self.seed + 2)).rel_l2
        self.writer.add_scalar("error/estimated", value, step)

    def close(self) -> None:
        """Write what is buffered and close the files."""
        self.writer.close()

