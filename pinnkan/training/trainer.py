"""Training in stages (Adam, then L-BFGS, ...) with a history, checkpoints and resume.

The trainer knows a model and an objective that returns ``(total, {name: term})``
(:mod:`pinnkan.training.objective`); it knows nothing about PDEs. Checkpoints are written atomically, so an interrupted
or failed run keeps its last good one, and a run resumed from a checkpoint
repeats exactly what the uninterrupted run would have done.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import InputTypeError, InputValueError, check_whole
from ..files import load_torch, save_torch
from .bfgs import DenseBFGS
from .distributed import Group
from .gauss_newton import LevenbergMarquardt
from .objective import LossFn, Objective, as_objective
from .refinement import Refiner
from .stages import BFGS, LBFGS, GaussNewton, ModelChange, Schedule, Stage

__all__ = ["History", "TrainResult", "Trainer"]

# Steps between checkpoints unless the caller says otherwise.
CHECKPOINT_EVERY = 1000
#: What every record holds besides the loss terms and the objective's extra figures.
RECORD_KEYS = ("step", "stage", "total", "lr")

Callback = Callable[[int, Mapping[str, float]], None]


@dataclass
class History:
    """Loss terms at every step: ``records[i]`` holds ``step``, ``stage``, ``total``, each term and
    ``lr``, the learning rate the step used (where the optimiser has one).

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
        """Names of the loss terms (without ``step``, ``stage``, ``total`` and ``lr``)."""
        if not self.records:
            return []
        return [k for k in self.records[-1] if k not in RECORD_KEYS and "/" not in k]

    def final(self) -> dict[str, float]:
        """The last record's total and loss terms (without the extra figures)."""
        if not self.records:
            return {}
        return {k: v for k, v in self.records[-1].items() if (k == "total" or k not in RECORD_KEYS) and "/" not in k}


@dataclass(frozen=True)
class TrainResult:
    """What a training run did.

    ``success`` is False when the loss became non-finite and could not be
    recovered, or the run was interrupted; ``message`` says what happened and
    what to do. ``stopped_by`` names the signal that stopped the run
    (``"SIGTERM"`` or ``"SIGINT"``), None otherwise.
    """

    success: bool
    message: str
    steps: int
    seconds: float
    history: History
    stopped_by: str | None = None


# After a non-finite loss, a retry goes on with this fraction of the learning rate.
RETRY_LR_FACTOR = 0.5


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
        Steps between checkpoints; one is also written at every stage end, and when
        SIGTERM or Ctrl-C stops the run.
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
    max_retries : int
        How often a non-finite loss or gradient may be recovered from: the run goes
        back to the last parameters with a finite loss, restarts the stage's
        optimiser there with :data:`RETRY_LR_FACTOR` times the learning rate (a
        plateau schedule: times the rate it had reached), and goes on. The next
        failure after that stops the run.
    refiner : Refiner, optional
        Plans more stages once these are done (estimate, refine) until the tolerance
        or the budget is reached (:mod:`pinnkan.training.refinement`); its rounds are
        saved in checkpoints and replayed on resume.

    Notes
    -----
    While :meth:`run` runs in the main thread, SIGTERM and the first Ctrl-C
    (SIGINT) stop it at the end of the current step with a checkpoint; the
    result's ``stopped_by`` names the signal. A second Ctrl-C stops at once and
    keeps the last checkpoint.

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
        checkpoint_every: int = CHECKPOINT_EVERY,
        progress: bool = True,
        callbacks: Sequence[Callback] = (),
        metadata: Mapping[str, object] | None = None,
        samples: torch.Tensor | None = None,
        max_retries: int = 3,
        refiner: Refiner | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise InputTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        objective = as_objective(loss)
        stages = tuple(stages)
        if not stages:
            raise InputValueError("give at least one stage, e.g. [Adam(steps=1000)]")
        for stage in stages:
            if not isinstance(stage, (Stage, ModelChange)):
                raise InputTypeError(
                    f"stages must be Stage objects such as Adam(steps=...) or LBFGS(steps=...) "
                    f"or model changes such as ExtendGrid(grid_size=...), got {type(stage).__name__}"
                )
            if isinstance(stage, Stage) and stage.needs_residuals and not objective.sum_of_squares:
                raise InputValueError(
                    f"{type(stage).__name__} needs a loss written as a sum of squares, and this "
                    f"{type(objective).__name__} is not one (a plain loss function, or a PINN loss with KAN "
                    f"penalties); use BFGS(...) instead, or turn the penalties off"
                )
            if isinstance(stage, ModelChange):
                stage.check(model)
                if stage.needs_samples and samples is None and objective.samples() is None:
                    raise InputValueError(f"{type(stage).__name__} needs training inputs; give the Trainer samples=...")
        for name, value, least in (("checkpoint_every", checkpoint_every, 1), ("max_retries", max_retries, 0)):
            check_whole(name, value, least)
        self.model = model
        self.objective = objective
        self.stages = stages
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.callbacks = tuple(callbacks)
        self.metadata = dict(metadata or {})
        self.samples = samples
        self.max_retries = max_retries
        if refiner is not None and not isinstance(refiner, Refiner):
            raise InputTypeError(f"refiner must be a Refiner, got {type(refiner).__name__}")
        self.refiner = refiner
        self._planned = stages  # the stages given; a refiner appends its rounds after them
        self.history = History()
        self._stage_index = 0
        self._stage_step = 0
        self._step = 0
        self._optimizer: torch.optim.Optimizer | None = None
        self._scheduler: Schedule | None = None
        self._notes: list[str] = []  # what the final message will say besides "finished"
        self._changes = 0  # how often the objective changed its points
        self._retries = 0
        self._seconds = 0.0  # training time of earlier runs (a resumed checkpoint's)
        self._started = time.perf_counter()
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
        """Load model, optimiser, objective, history and position from the checkpoint file.

        Raises
        ------
        ValueError
            Naming the file, when there is none, when it is damaged or not a
            pinnkan checkpoint (it is never unpickled beyond tensors and plain
            values), or when it was written with other stages or settings.
        """
        if self.checkpoint is None or not self.checkpoint.exists():
            raise InputValueError(f"no checkpoint to resume from at {self.checkpoint}; run without resume")
        state = load_torch(self.checkpoint, kind="checkpoint", map_location=_device_of(self.model))
        try:
            stages, metadata, stage_index = state["stages"], state["metadata"], int(state["stage_index"])  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError):
            raise InputValueError(f"{self.checkpoint} is not a complete pinnkan checkpoint; delete it and run without resume") from None
        if self.refiner is not None and state.get("refiner") is not None:  # type: ignore[union-attr]
            self.refiner.load_state_dict(state["refiner"])  # type: ignore[arg-type, index]
            self.stages = self._planned + tuple(self.refiner.planned())
        if stages != [s.describe() for s in self.stages]:
            raise InputValueError(f"the checkpoint was written with other stages; resume with the same stages ({stages})")
        if metadata != self.metadata:
            differ = {k: metadata.get(k) for k in set(metadata) | set(self.metadata)  # type: ignore[union-attr]
                      if metadata.get(k) != self.metadata.get(k)}  # type: ignore[union-attr]
            raise InputValueError(f"the checkpoint was written with other settings; resume with {differ}")
        self._objective_state(state)  # one that cannot be shared out among these processes fails here
        # Replay the completed model changes so that parameter shapes match.
        for stage in self.stages[:stage_index]:
            if isinstance(stage, ModelChange):
                stage.apply(self.model, self._samples())
        try:
            self._load(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise InputValueError(
                f"{self.checkpoint} does not fit this model and loss ({type(err).__name__}: {err}); "
                f"delete it and run without resume"
            ) from None

    def run(self) -> TrainResult:
        """Run the remaining stages; return a :class:`TrainResult`."""
        self._started = time.perf_counter()
        good = self._snapshot()
        spare: dict[str, object] | None = None  # a snapshot no longer needed, whose tensors the next one reuses
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=None if self.progress and self.objective.group.writer else True,  # None: only on a terminal
            unit="step",
            leave=False,
        )
        try:
            with _StopRequests() as stop:
                while self._stage_index < len(self.stages) or self._extend(bar):
                    stage = self.stages[self._stage_index]
                    if isinstance(stage, ModelChange):
                        self._notes.append(f"{stage.apply(self.model, self._samples())} after step {self.step}")
                        self.objective.group.broadcast(self.model)  # fitted to each process's points: take process 0's
                        self._stage_index += 1
                        self._save()
                        good = self._snapshot()
                        if (signum := stop.agreed(self.objective.group)) is not None:
                            return self._stopped(signum)
                        continue
                    if self._optimizer is None:
                        self._start_stage()
                    converged = out_of_time = False
                    while self._stage_step < stage.steps and not (converged or out_of_time):
                        before = self._snapshot(spare)
                        self.objective.before_step(self.step + 1, stage.adaptive)
                        record = self._one_step()
                        record.update(self.objective.extras())
                        if not all(map(math.isfinite, record.values())):
                            failure = self._recover(record, good)
                            if failure is not None:
                                return self._result(False, failure)
                            stage = self.stages[self._stage_index]
                            continue
                        self._stage_step += 1
                        self._step += 1
                        self.history.records.append(record)
                        # The recorded (finite) loss belongs to the step's start or, for
                        # stages that record their accepted point, to its end.
                        if stage.records_accepted_point:  # (into before's tensors: good stays whole until replaced)
                            spare, good = good, self._snapshot(before)
                        else:
                            spare, good = good, before
                        if self.objective.after_step(self.step, self.model, stage.adaptive):
                            self._changes += 1
                        for callback in self.callbacks:
                            callback(self.step, record)
                        if self._rebind():  # the objective or a callback replaced parameters (a grid change)
                            good = self._snapshot()
                        if self._plateau:
                            self._scheduler.step(self.objective.monitor(record))  # type: ignore[union-attr]
                        bar.update(1)
                        if self.step % 50 == 0:
                            bar.set_postfix(loss=f"{record['total']:.3e}", stage=type(stage).__name__)
                        converged = self._converged(stage)
                        out_of_time = self._out_of_time()
                        if self.step % self.checkpoint_every == 0:
                            self._save()
                        signum = stop.agreed(self.objective.group)
                        if signum is not None and self._stage_step < stage.steps and not (converged or out_of_time):
                            self._save()
                            return self._stopped(signum)
                    if converged or out_of_time:
                        why = "no further progress" if converged else "the refinement budget is spent"
                        self._notes.append(
                            f"{type(stage).__name__} stopped after {self._stage_step} of {stage.steps} steps ({why})"
                        )
                    bar.update(stage.steps - self._stage_step)
                    self._stage_index += 1
                    self._stage_step = 0
                    self._optimizer = self._scheduler = None
                    self._save()
                    signum = stop.agreed(self.objective.group)
                    if signum is not None and self._stage_index < len(self.stages):
                        return self._stopped(signum)
        except KeyboardInterrupt:
            self._restore(good)
            return self._result(False, f"interrupted after step {self.step}; the last checkpoint is kept")
        finally:
            bar.close()
        changed = [f"the points changed {self._changes} times during training"] if self._changes else []
        return self._result(True, "; ".join(["finished all stages", *self._notes, *changed]))

    def _extend(self, bar: tqdm) -> bool:
        """Ask the refiner for another round once every stage is done; True if it planned one."""
        if self.refiner is None or self.refiner.outcome:
            return False
        more = self.refiner.plan(self.model, self.history, self._elapsed(), self.step)
        for stage in more:
            if isinstance(stage, ModelChange):
                stage.check(self.model)
        self.stages = self.stages + tuple(more)
        if more:
            self._notes.append(f"refinement after step {self.step}: {self.refiner.records[-1]['action']}")
        else:
            self._notes.append(f"refinement: {self.refiner.outcome}")
        bar.total = self.total_steps
        bar.refresh()
        self._save()
        return bool(more)

    def _result(self, success: bool, message: str, stopped_by: str | None = None) -> TrainResult:
        return TrainResult(success, message, self.step, self._elapsed(), self.history, stopped_by)

    def _stopped(self, signum: int) -> TrainResult:
        name = signal.Signals(signum).name
        kept = (f", with a checkpoint; resume with the same settings to go on from step {self.step}"
                if self.checkpoint else "")
        return self._result(False, f"stopped by {name} after step {self.step}{kept}", name)

    def _elapsed(self) -> float:
        """Training seconds so far (in a group of processes, the longest of theirs, which all of them see)."""
        seconds = torch.tensor([self._seconds + time.perf_counter() - self._started], dtype=torch.float64)
        return float(self.objective.group.max(seconds))

    def _samples(self) -> torch.Tensor | None:
        return self.samples if self.samples is not None else self.objective.samples()

    def _start_stage(self, lr_factor: float | None = None, last_lr: float | None = None) -> None:
        """A fresh optimiser (and schedule) for the current stage.

        With ``lr_factor`` (a retry), a step-driven schedule is moved on to the stage's
        current step and the learning rate scaled by the factor; a plateau schedule, which
        lowers the rate by what it has seen, starts from ``last_lr`` (the rate in use when
        the loss failed) times the factor.
        """
        stage = self.stages[self._stage_index]
        params = [p for p in self.model.parameters() if p.requires_grad]
        self._optimizer = stage.optimizer(params)
        self._scheduler = stage.scheduler(self._optimizer)
        if lr_factor is None:
            return
        plateau = self._plateau
        if self._scheduler is not None and not plateau:
            with warnings.catch_warnings():  # stepping the schedule alone is the point here
                warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
                for _ in range(self._stage_step):
                    self._scheduler.step()
        for group in self._optimizer.param_groups:
            if "lr" in group:
                group["lr"] = (last_lr if plateau and last_lr is not None else group["lr"]) * lr_factor

    def _one_step(self) -> dict[str, float]:
        optimizer = self._optimizer
        assert optimizer is not None
        stage = self.stages[self._stage_index]
        evaluations: list[dict[str, float]] = []
        lr = optimizer.param_groups[0].get("lr")  # the rate this step uses

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            total, terms = self.objective.loss_and_gradient(self.model)
            if clash := terms.keys() & set(RECORD_KEYS):
                raise InputValueError(f"loss terms may not be named {sorted(clash)}: the history keeps "
                                      f"{list(RECORD_KEYS)} in every record; rename them")
            # The step's one wait for the device: its figures and whether the gradient is finite, in one copy.
            *numbers, finite = _figures([total, *terms.values()], optimizer)
            values = dict(zip(["total", *terms], numbers))
            evaluations.append(values)
            if not math.isfinite(values["total"]):
                optimizer.zero_grad(set_to_none=True)  # no gradient from a non-finite loss
            elif not finite:
                values["gradient"] = math.nan
                return total * math.nan  # a quasi-Newton line search backs off
            elif stage.clip is not None:
                nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], stage.clip)
            return total

        if isinstance(optimizer, LevenbergMarquardt):
            optimizer.step(closure, lambda size: self.objective.residual_chunks(self.model, size), self.objective.group)
        elif isinstance(optimizer, (torch.optim.LBFGS, DenseBFGS)):
            optimizer.step(closure)
        else:
            closure()
            if all(map(math.isfinite, evaluations[0].values())):
                optimizer.step()
        record = evaluations[-1] if stage.records_accepted_point else evaluations[0]
        # (a plateau schedule waits for the step's end: it watches the objective's monitored loss)
        if self._scheduler is not None and not self._plateau and all(map(math.isfinite, record.values())):
            self._scheduler.step()
        rate = {} if not isinstance(lr, (int, float)) else {"lr": float(lr)}
        return {"step": float(self._step + 1), "stage": float(self._stage_index), **record, **rate}

    @property
    def _plateau(self) -> bool:
        """Whether the stage's schedule lowers the rate on a plateau (stepped with a loss, not per step)."""
        return isinstance(self._scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def _rebind(self) -> bool:
        """Point the optimiser at the model's parameters if something replaced them since the stage began
        (e.g. a KAN grid change in a callback): new ones start with fresh moments, kept ones keep theirs.
        True when it did."""
        optimizer = self._optimizer
        if optimizer is None or len(optimizer.param_groups) != 1:
            return False
        old = optimizer.param_groups[0]["params"]
        new = [p for p in self.model.parameters() if p.requires_grad]
        if len(old) == len(new) and all(a is b for a, b in zip(old, new)):
            return False
        if isinstance(optimizer, (torch.optim.LBFGS, DenseBFGS, LevenbergMarquardt)):  # state of the old parameters: start afresh
            self._start_stage()
            return True
        kept = {id(p) for p in new}
        for p in old:
            if id(p) not in kept:
                optimizer.state.pop(p, None)
        optimizer.param_groups[0]["params"] = new
        return True

    def _recover(self, record: Mapping[str, float], good: dict[str, object]) -> str | None:
        """Go back to ``good`` after a non-finite ``record``: None to go on, else why the run stops."""
        bad = [k for k, v in record.items() if not math.isfinite(v)]
        step = int(record["step"])
        what = f"the {'gradient' if bad == ['gradient'] else 'loss'} became non-finite at step {step} (terms {bad})"
        at_start = good["step"] == 0 and step == 1
        blocked = any(isinstance(s, ModelChange) for s in self.stages[good["stage_index"] : self._stage_index])  # type: ignore[misc]
        last_lr = None if self._optimizer is None else self._optimizer.param_groups[0].get("lr")
        self._restore(good)
        if at_start:
            return (
                f"{what}, at the initial parameters: the loss gives inf or NaN there (in a PDE problem, a "
                f"condition's function, the residual or a coefficient at some points, e.g. 1/x at x = 0, log of a "
                f"negative number; in a fit, the data or the model); check the terms named"
            )
        if self._retries >= self.max_retries or blocked:
            self._save()  # a checkpoint written since the restored step holds parameters whose loss is not finite
            tried = f"after {self._retries} retries with a lower learning rate" if self._retries else "with no retry left"
            return (
                f"{what} {tried}; restored the last parameters with a finite loss (step {self.step}); "
                f"lower the learning rate (e.g. Adam(lr=1e-3)) or train in float64"
            )
        self._retries += 1
        self._start_stage(lr_factor=RETRY_LR_FACTOR**self._retries, last_lr=last_lr)
        self._notes.append(
            f"{what}; went back to step {self.step} and restarted {type(self.stages[self._stage_index]).__name__} "
            f"with {RETRY_LR_FACTOR**self._retries:g} times its learning rate"
        )
        return None

    def _snapshot(self, reuse: Mapping[str, object] | None = None) -> dict[str, object]:
        """The model, objective and position now (copies, into the tensors of a snapshot no longer needed
        when ``reuse`` is one), to go back to after a non-finite loss."""
        reuse = reuse or {}
        return {
            "model": copy_state(self.model.state_dict(), reuse.get("model")),
            "objective": copy_state(self.objective.state_dict(), reuse.get("objective")),
            "stage_index": self._stage_index,
            "stage_step": self._stage_step,
            "step": self._step,
        }

    def _restore(self, snapshot: Mapping[str, object]) -> None:
        self.model.load_state_dict(snapshot["model"])  # type: ignore[arg-type]
        self.objective.load_state_dict(copy_state(snapshot["objective"]))  # type: ignore[arg-type]
        self._stage_index = snapshot["stage_index"]  # type: ignore[assignment]
        self._stage_step = snapshot["stage_step"]  # type: ignore[assignment]
        self._step = snapshot["step"]  # type: ignore[assignment]
        del self.history.records[self._step :]
        self._optimizer = self._scheduler = None

    def _out_of_time(self) -> bool:
        """Whether a stage the refiner added has used up the refinement's time budget (the stages given run whole)."""
        if self.refiner is None or self._stage_index < len(self._planned):
            return False
        return self._elapsed() >= self.refiner.refinement.budget  # (the same in every process of a group)

    def _converged(self, stage: Stage) -> bool:
        optimizer = self._optimizer
        if not isinstance(stage, (LBFGS, BFGS, GaussNewton)) or optimizer is None or not optimizer.state:
            return False
        state = optimizer.state[next(iter(optimizer.state))]
        if isinstance(stage, (BFGS, GaussNewton)):
            return bool(state.get("converged", False))
        if "d" not in state or "t" not in state:
            return False
        step_size = float(state["t"]) * float(state["d"].abs().max())
        records = self.history.records
        change = abs(records[-1]["total"] - records[-2]["total"]) if len(records) > 1 else math.inf
        return step_size <= stage.tolerance_change or change <= stage.tolerance_change

    def _load(self, state: Mapping[str, object]) -> None:
        """Take over a checkpoint's model, objective, history and position."""
        self.model.load_state_dict(state["model"])  # type: ignore[arg-type]
        self.objective.load_state_dict(self._objective_state(state))
        self.history = History([dict(r) for r in state["history"]])  # type: ignore[attr-defined]
        self._stage_index = int(state["stage_index"])  # type: ignore[call-overload]
        self._stage_step = int(state["stage_step"])  # type: ignore[call-overload]
        self._step = int(state["step"])  # type: ignore[call-overload]
        self._notes = list(state["notes"])  # type: ignore[call-overload]
        self._changes = int(state["changes"])  # type: ignore[call-overload]
        self._retries = int(state["retries"])  # type: ignore[call-overload]
        self._seconds = float(state["seconds"])  # type: ignore[arg-type]
        self._optimizer = self._scheduler = None
        if self._stage_index < len(self.stages) and isinstance(self.stages[self._stage_index], Stage):
            self._start_stage()
            if state["optimizer"] is not None:
                self._optimizer.load_state_dict(state["optimizer"])  # type: ignore[union-attr, arg-type]
            if self._scheduler is not None and state["scheduler"] is not None:
                self._scheduler.load_state_dict(state["scheduler"])  # type: ignore[arg-type]

    def _objective_state(self, state: Mapping[str, object]) -> Mapping[str, object]:
        """This process's objective state in a checkpoint: its own shard, or shared out again when another number
        of processes wrote it."""
        group, shards = self.objective.group, state.get("objective_shards")
        shards = [state["objective"]] if shards is None else shards
        if len(shards) == group.size:  # type: ignore[arg-type]
            return shards[group.rank]  # type: ignore[index, return-value]
        return self.objective.resharded(shards)  # type: ignore[arg-type]

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
            "objective_shards": None,
            "notes": self._notes,
            "changes": self._changes,
            "retries": self._retries,
            "seconds": self._elapsed(),
            "refiner": None if self.refiner is None else self.refiner.state_dict(),
        }
        group = self.objective.group
        if group.size > 1:  # every process's points and weights, for a resume by as many processes
            state["objective_shards"] = group.gather(state["objective"])
        if group.writer:
            save_torch(state, self.checkpoint, kind="checkpoint")


class _StopRequests:
    """Within ``with``: SIGTERM and a first SIGINT are noted in ``signal`` instead of stopping at once.

    A second SIGINT raises KeyboardInterrupt as usual. Outside the main thread,
    where Python cannot install handlers, nothing changes.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._note)
        return self

    def agreed(self, group: Group) -> int | None:
        """The signal that stops the run in every process of ``group`` (SIGTERM where another process got one)."""
        if group.size == 1:
            return self.signal
        return (self.signal or signal.SIGTERM) if group.any(self.signal is not None) else None

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _note(self, signum: int, frame: object) -> None:
        if signum == signal.SIGINT and self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum


def _figures(scalars: Sequence[torch.Tensor], optimizer: torch.optim.Optimizer) -> list[float]:
    """The values of ``scalars`` and 1.0 if every gradient of ``optimizer``'s parameters is finite (else 0.0),
    copied from the device at once."""
    common = functools.reduce(torch.promote_types, (t.dtype for t in scalars))
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    finite = torch.stack([torch.isfinite(g).all() for g in grads]).all() if grads else scalars[0].new_ones(())
    return torch.stack([*(t.reshape(()).to(common) for t in scalars), finite.to(common)]).tolist()


def copy_state(value: object, into: object = None) -> object:
    """A copy of a state dict: tensors cloned, containers rebuilt, other values deep-copied.

    Much faster than ``copy.deepcopy`` on tensors, which matters once per step. Tensors of an
    earlier copy ``into`` of the same layout are written over instead of allocated afresh, so
    that a step does not allocate and free a model's worth of memory.
    """
    if isinstance(value, torch.Tensor):
        if (isinstance(into, torch.Tensor) and into.shape == value.shape and into.dtype == value.dtype
                and into.device == value.device):
            return into.copy_(value.detach())
        return value.detach().clone()
    if isinstance(value, dict):
        old = into if isinstance(into, dict) else {}
        return {k: copy_state(v, old.get(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        old = into if isinstance(into, (list, tuple)) and len(into) == len(value) else [None] * len(value)
        return type(value)(copy_state(v, o) for v, o in zip(value, old))
    return copy.deepcopy(value)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_writable(path: Path) -> None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputValueError(
            f"cannot write the checkpoint into {folder} ({err.strerror}); choose another path"
        ) from None
    if not os.access(folder, os.W_OK):
        raise InputValueError(f"cannot write the checkpoint into {folder}; choose another path")
