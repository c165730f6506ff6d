"""Training in stages (Adam, then L-BFGS, ...) with a history, checkpoints and resume.

The trainer knows a model and an objective that returns ``(total, {name: term})``
(:mod:`pinnkan.training.objective`); it knows nothing about PDEs. Checkpoints are written atomically, so an interrupted
or failed run keeps its last good one, and a run resumed from a checkpoint
repeats exactly what the uninterrupted run would have done.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .bfgs import DenseBFGS
from .objective import LossFn, Objective, as_objective
from .stages import BFGS, LBFGS, ModelChange, Stage

__all__ = ["History", "TrainResult", "Trainer"]

Callback = Callable[[int, Mapping[str, float]], None]


@dataclass
class History:
    """Loss terms at every step: ``records[i]`` holds ``step``, ``stage``, ``total`` and each term.

    Adam and L-BFGS steps record the loss at the step's starting point, BFGS steps
    at its accepted point (the evaluation each already makes). Keys with a ``/``
    are the objective's extra figures (``weight/initial``, ``coef/alpha``), not loss terms.
    """

    records: list[dict[str, float]] = field(default_factory=list)

    def column(self, name: str) -> list[float]:
        """Values of one key over all steps."""
        return [r[name] for r in self.records if name in r]

    @property
    def term_names(self) -> list[str]:
        """Names of the loss terms (without ``step``, ``stage`` and ``total``)."""
        if not self.records:
            return []
        return [k for k in self.records[-1] if k not in ("step", "stage", "total") and "/" not in k]

    def final(self) -> dict[str, float]:
        """The last record's total and loss terms (without the extra figures)."""
        if not self.records:
            return {}
        return {k: v for k, v in self.records[-1].items() if k not in ("step", "stage") and "/" not in k}


@dataclass(frozen=True)
class TrainResult:
    """What a training run did.

    ``success`` is False when the loss became non-finite or the run was
    interrupted; ``message`` says what happened and what to do.
    """

    success: bool
    message: str
    steps: int
    seconds: float
    history: History


class Trainer:
    """Runs training stages on a model and a composite loss.

    Parameters
    ----------
    model : torch.nn.Module
        Its parameters are optimised in place.
    loss : Objective or callable
        ``loss(model) -> (total, {name: term})``; an :class:`~pinnkan.training.objective.Objective`
        also hears when steps begin and end, and its state is checkpointed.
    stages : sequence of Stage or ModelChange
        Run in order, e.g. ``[Adam(steps=5000, lr=1e-2), LBFGS(steps=500)]``; a
        :class:`ModelChange` such as ``ExtendGrid(grid_size=10)`` changes the model
        between them.
    checkpoint : path, optional
        File to write checkpoints to (atomically) and to resume from.
    checkpoint_every : int
        Steps between checkpoints; one is also written at every stage end.
    progress : bool
        Show a progress bar.
    callbacks : sequence of callable
        ``callback(step, record)`` after every step.
    metadata : mapping, optional
        Plain values saved with each checkpoint (e.g. seed, dtype, problem) that a
        resume must match, since they decide what the checkpoint means.
    samples : torch.Tensor, optional
        Training inputs handed to model changes that need them (e.g. grid updates);
        by default the objective's own (``loss.samples()``).

    Examples
    --------
    >>> trainer = Trainer(model, loss, [Adam(steps=1000, lr=1e-2), LBFGS(steps=200)])
    >>> result = trainer.run()  # doctest: +SKIP
    """

    def __init__(
        self,
        model: nn.Module,
        loss: Objective | LossFn,
        stages: Sequence[Stage],
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 1000,
        progress: bool = True,
        callbacks: Sequence[Callback] = (),
        metadata: Mapping[str, object] | None = None,
        samples: torch.Tensor | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        objective = as_objective(loss)
        stages = tuple(stages)
        if not stages:
            raise ValueError("give at least one stage, e.g. [Adam(steps=1000)]")
        for stage in stages:
            if not isinstance(stage, (Stage, ModelChange)):
                raise TypeError(
                    f"stages must be Stage objects such as Adam(steps=...) or LBFGS(steps=...) "
                    f"or model changes such as ExtendGrid(grid_size=...), got {type(stage).__name__}"
                )
            if isinstance(stage, ModelChange):
                stage.check(model)
                if stage.needs_samples and samples is None and objective.samples() is None:
                    raise ValueError(f"{type(stage).__name__} needs training inputs; give the Trainer samples=...")
        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive int, got {checkpoint_every!r}")
        self.model = model
        self.objective = objective
        self.stages = stages
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.callbacks = tuple(callbacks)
        self.metadata = dict(metadata or {})
        self.samples = samples
        self.history = History()
        self._stage_index = 0
        self._stage_step = 0
        self._step = 0
        self._optimizer: torch.optim.Optimizer | None = None
        self._scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
        if self.checkpoint is not None:
            _check_writable(self.checkpoint)

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)

    @property
    def step(self) -> int:
        """Steps completed over all stages (a converged L-BFGS stage may end early)."""
        return self._step

    def resume(self) -> None:
        """Load model, optimiser, history and position from the checkpoint file."""
        if self.checkpoint is None or not self.checkpoint.exists():
            raise ValueError(f"no checkpoint to resume from at {self.checkpoint}; run without resume")
        state = torch.load(self.checkpoint, map_location=_device_of(self.model), weights_only=False)
        if state["stages"] != [s.describe() for s in self.stages]:
            raise ValueError(
                "the checkpoint was written with other stages; resume with the same stages "
                f"({state['stages']})"
            )
        if state["metadata"] != self.metadata:
            differ = {k: state["metadata"].get(k) for k in set(state["metadata"]) | set(self.metadata)
                      if state["metadata"].get(k) != self.metadata.get(k)}
            raise ValueError(f"the checkpoint was written with other settings; resume with {differ}")
        # Replay the completed model changes so that parameter shapes match.
        for stage in self.stages[: state["stage_index"]]:
            if isinstance(stage, ModelChange):
                stage.apply(self.model, self._samples())
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        self.history = History(list(state["history"]))
        self._stage_index = state["stage_index"]
        self._stage_step = state["stage_step"]
        self._step = state["step"]
        self._optimizer = self._scheduler = None
        if self._stage_index < len(self.stages) and isinstance(self.stages[self._stage_index], Stage):
            self._start_stage()
            if state["optimizer"] is not None:
                self._optimizer.load_state_dict(state["optimizer"])  # type: ignore[union-attr]
            if self._scheduler is not None and state["scheduler"] is not None:
                self._scheduler.load_state_dict(state["scheduler"])

    def run(self) -> TrainResult:
        """Run the remaining stages; return a :class:`TrainResult`."""
        start = time.perf_counter()
        good = _snapshot(self.model)
        notes = []
        changes = 0
        success = True
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=None if self.progress else True,  # None: only on a terminal
            unit="step",
            leave=False,
        )
        try:
            while self._stage_index < len(self.stages):
                stage = self.stages[self._stage_index]
                if isinstance(stage, ModelChange):
                    notes.append(f"{stage.apply(self.model, self._samples())} after step {self.step}")
                    good = _snapshot(self.model)
                    self._stage_index += 1
                    self._save()
                    continue
                if self._optimizer is None:
                    self._start_stage()
                converged = False
                while self._stage_step < stage.steps and not converged:
                    before = _snapshot(self.model)
                    self.objective.before_step(self.step + 1, stage.adaptive)
                    record = self._one_step()
                    if not math.isfinite(record["total"]):
                        _restore(self.model, good)
                        bad = [k for k, v in record.items() if not math.isfinite(v)]
                        success = False
                        message = (
                            f"loss became non-finite at step {self.step + 1} (terms {bad}); "
                            f"restored the last good parameters; lower the learning rate or "
                            f"train in float64"
                        )
                        return self._result(success, message, start)
                    # The recorded (finite) loss belongs to the step's start or, for
                    # stages that record their accepted point, to its end.
                    good = _snapshot(self.model) if stage.records_accepted_point else before
                    self._stage_step += 1
                    self._step += 1
                    record.update(self.objective.extras())
                    self.history.records.append(record)
                    if self.objective.after_step(self.step, self.model, stage.adaptive):
                        changes += 1
                    for callback in self.callbacks:
                        callback(self.step, record)
                    bar.update(1)
                    if self.step % 50 == 0:
                        bar.set_postfix(loss=f"{record['total']:.3e}", stage=type(stage).__name__)
                    converged = self._converged(stage)
                    if self.step % self.checkpoint_every == 0:
                        self._save()
                if converged:
                    notes.append(
                        f"{type(stage).__name__} stopped after {self._stage_step} of "
                        f"{stage.steps} steps (no further progress)"
                    )
                bar.update(stage.steps - self._stage_step)
                self._stage_index += 1
                self._stage_step = 0
                self._optimizer = self._scheduler = None
                self._save()
            if changes:
                notes.append(f"the points changed {changes} times during training")
            message = "; ".join(["finished all stages", *notes])
        except KeyboardInterrupt:
            _restore(self.model, good)
            success = False
            message = f"interrupted after step {self.step}; the last checkpoint is kept"
        finally:
            bar.close()
        return self._result(success, message, start)

    def _result(self, success: bool, message: str, start: float) -> TrainResult:
        return TrainResult(success, message, self.step, time.perf_counter() - start, self.history)

    def _samples(self) -> torch.Tensor | None:
        return self.samples if self.samples is not None else self.objective.samples()

    def _start_stage(self) -> None:
        stage = self.stages[self._stage_index]
        params = [p for p in self.model.parameters() if p.requires_grad]
        self._optimizer = stage.optimizer(params)
        self._scheduler = stage.scheduler(self._optimizer)

    def _one_step(self) -> dict[str, float]:
        optimizer = self._optimizer
        assert optimizer is not None
        evaluations: list[dict[str, float]] = []

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            total, terms = self.objective(self.model)
            values = {"total": float(total.detach())}
            values.update({k: float(v.detach()) for k, v in terms.items()})
            evaluations.append(values)
            if torch.isfinite(total):
                total.backward()
            return total

        if isinstance(optimizer, (torch.optim.LBFGS, DenseBFGS)):
            optimizer.step(closure)
        else:
            closure()
            if math.isfinite(evaluations[0]["total"]):
                optimizer.step()
        stage = self.stages[self._stage_index]
        record = evaluations[-1] if stage.records_accepted_point else evaluations[0]
        if self._scheduler is not None and math.isfinite(record["total"]):
            self._scheduler.step()
        return {"step": float(self._step + 1), "stage": float(self._stage_index), **record}

    def _converged(self, stage: Stage) -> bool:
        optimizer = self._optimizer
        if not isinstance(stage, (LBFGS, BFGS)) or optimizer is None or not optimizer.state:
            return False
        state = optimizer.state[next(iter(optimizer.state))]
        if isinstance(stage, BFGS):
            return bool(state.get("converged", False))
        if "d" not in state or "t" not in state:
            return False
        step_size = float(state["t"]) * float(state["d"].abs().max())
        records = self.history.records
        change = abs(records[-1]["total"] - records[-2]["total"]) if len(records) > 1 else math.inf
        return step_size <= stage.tolerance_change or change <= stage.tolerance_change

    def _save(self) -> None:
        if self.checkpoint is None:
            return
        state = {
            "model": self.model.state_dict(),
            "optimizer": None if self._optimizer is None else self._optimizer.state_dict(),
            "scheduler": None if self._scheduler is None else self._scheduler.state_dict(),
            "stage_index": self._stage_index,
            "stage_step": self._stage_step,
            "step": self._step,
            "stages": [s.describe() for s in self.stages],
            "history": self.history.records,
            "metadata": self.metadata,
            "objective": self.objective.state_dict(),
        }
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint)


def _snapshot(model: nn.Module) -> dict[str, object]:
    # Modules may keep plain Python state (e.g. a KAN layer's symbolic edges) in it.
    return {
        k: v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)
        for k, v in model.state_dict().items()
    }


def _restore(model: nn.Module, snapshot: dict[str, object]) -> None:
    model.load_state_dict(snapshot)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_writable(path: Path) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(
            f"cannot write the checkpoint into {folder} ({err.strerror}); choose another path"
        ) from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write the checkpoint into {folder}; choose another path")
