"""Solve a problem end to end: build the model, the loss terms and their points, train, compare.

Examples
--------
>>> from pinnkan import load_problem, solve
>>> spec = load_problem("heat1d")
>>> solution = solve(spec.problem, spec.setup, seed=0, out="runs/heat1d")  # doctest: +SKIP
>>> solution.comparison.rel_l2  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..compare import Comparison, compare, reference_solution
from ..errors import InputTypeError, InputValueError, whole
from ..estimate import ErrorEstimate, estimate_error
from ..files import plain
from ..models.kan import KANSpec
from ..pde.auto_constraint import ConstraintPlan, auto_constraint
from ..pde.coefficients import CoefficientSet
from ..pde.conditions import Batch
from ..pde.decay import fit_decay
from ..pde.pinn import PINN
from ..pde.problem import Problem, condition_points
from ..pde.transforms import ConstrainedModel, OutputTransform
from ..training.distributed import ALONE, Group, ProcessGroup
from ..training.losses import PINNLoss
from ..training.refinement import Refiner
from ..training.trainer import CHECKPOINT_EVERY, Callback, Trainer, TrainResult
from ..training.weighting import Decay
from .folder import check_output_folder, versions, write_run_folder
from .formulas import FormulaResult, FormulaSearch
from .logs import TensorBoard
from .setup import DEFAULT_GRID, DEFAULT_TOLERANCE, DTYPES, Setup, data_grid, dtype_name, resolve

__all__ = ["Solution", "assemble", "best_device", "check_device", "hard_constraint", "solve", "DTYPES", "DEVICE_TYPES"]

# Kinds of device that can hold and train a model.
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


@dataclass(frozen=True)
class Solution:
    """A trained model with its training record, comparison and training points.

    Attributes
    ----------
    problem : Problem
    setup : Setup
        The setup as run, every automatic choice filled in.
    model : PINN
        The network (inside its hard constraint, if any) and the coefficients.
    train : TrainResult
    comparison : Comparison or None
        Errors against the reference, when the problem has one.
    seed : int
    dtype : torch.dtype
    samples : torch.Tensor
        The PDE residual's points at the end of training (N, d).
    constraint : str
        Which conditions were built into the output, or why none were.
    condition_errors : dict
        For every loss term of the conditions, the largest and the root-mean-square
        residual on 1,000 fresh points after training (how well each condition holds).
    engine : dict
        Which derivative engine ran: ``setup`` (as asked), ``terms`` (the engine of
        each loss-term group), ``notes`` (why any fell back), ``compile``, and
        ``compile_failure`` when compilation was given up.
    estimate : ErrorEstimate or None
        The error estimated without the reference (:func:`pinnkan.estimate.estimate_error`);
        None when the run was stopped by a signal.
    conditions_in_loss : dict
        Every condition that stays in the loss, with the reason it is not built in.
    refinement : dict or None
        The refinement after the stages: settings, every round with its estimate and
        residual, and why it ended (None when the setup has no tolerance).
    formula : FormulaResult or None
        The formula of the solution, when asked for (``solve(..., formula=True)``).
    """

    problem: Problem
    setup: Setup
    model: PINN
    train: TrainResult
    comparison: Comparison | None
    seed: int
    dtype: torch.dtype
    samples: torch.Tensor
    constraint: str
    condition_errors: dict[str, dict[str, float]]
    engine: dict[str, object]
    estimate: ErrorEstimate | None = None
    conditions_in_loss: dict[str, str] = field(default_factory=dict)
    refinement: dict[str, object] | None = None
    formula: FormulaResult | None = None

    @property
    def net(self) -> nn.Module:
        """The approximator inside the model (without hard constraint and coefficients)."""
        return self.model.approximator

    @property
    def coefficients(self) -> dict[str, float]:
        """The problem's coefficients after training (learned ones included)."""
        return self.model.coefficients.report()

    def report(self) -> dict[str, object]:
        """The run's figures and settings, as written to ``report.json``."""
        net = self.net
        report: dict[str, object] = {
            "problem": self.problem.name,
            "parameters": dict(self.problem.parameters),
            "reference_error": self.problem.reference_error,
            "success": self.train.success,
            "message": self.train.message,
            "stopped_by": self.train.stopped_by,
            "train_seconds": self.train.seconds,
            "steps": self.train.steps,
            "params": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
            "model": net.describe() if hasattr(net, "describe") else type(net).__name__,
            "outputs": list(self.problem.outputs),
            "dtype": str(self.dtype).removeprefix("torch."),
            "seed": self.seed,
            "coefficients": self.coefficients,
            "hard_constraint": self.constraint,
            "conditions_in_loss": dict(self.conditions_in_loss),
            "engine": self.engine,
            "condition_errors": self.condition_errors,
            "final_losses": self.train.history.final(),
            "setup": self.setup.describe(),
            "versions": versions(),
        }
        if self.estimate is not None:
            report.update(self.estimate.metrics())
        if self.refinement is not None:
            report["refinement"] = self.refinement
        if self.comparison is not None:
            report.update(self.comparison.metrics())
        if self.formula is not None:
            from .formula_files import formula_report

            report.update(formula_report(self.problem, self.formula))
        return report


def solve(
    problem: Problem,
    setup: Setup | None = None,
    *,
    seed: int = 0,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: int = CHECKPOINT_EVERY,
    callbacks: Sequence[Callback] = (),
    monitor: Callable[[PINN], Callback] | None = None,
    distributed: bool = False,
    logs: Sequence[TensorBoard] = (),
    formula: bool | FormulaSearch = False,
) -> Solution:
    """Train a model for ``problem`` and compare it with the problem's reference.

    Parameters
    ----------
    problem : Problem
    setup : Setup, optional
        Model, points, stages, weighting, ...; fields left at None (all of them by
        default) are chosen for the problem (see :mod:`pinnkan.run.setup`).
    seed : int
        Fixes the points, their resampling and the initial parameters. The caller's
        global random state is left as it was.
    dtype : torch.dtype or {"float32", "float64"}, optional
        Precision of the model and of training: the setup's (float32 unless it says)
        when None.
    device : torch.device or str, optional
        Where to train: the CPU by default, ``"auto"`` for a GPU where there is one
        (:func:`best_device`). The fused C kernels of B-spline KANs run on the CPU only;
        elsewhere the jets run on PyTorch operators.
    out : path, optional
        Run folder for ``report.json``, figures, ``model.pt`` and ``checkpoint.pt``;
        nothing is written when None.
    resume : bool
        Continue from ``out/checkpoint.pt``.
    progress : bool
        Show a progress bar.
    checkpoint_every : int
        Steps between checkpoints in ``out`` (one is also written at every stage end).
    callbacks : sequence of callable
        ``callback(step, record)`` after every training step (``record``: the loss terms).
    monitor : callable, optional
        Called with the model once it is built; the callback it returns runs after every
        step as ``callbacks`` do, and can look at the model as it trains (e.g. its error
        against the reference every so many steps, as ``scripts/optimizer_study.py`` draws).
    distributed : bool
        Train together with the other processes of torch.distributed's default process
        group (initialised, e.g. by ``pinnkan solve --distributed`` under ``torchrun``):
        each process draws its share of every term's points from its own stream of
        ``seed``, the loss and gradients are those of all points, and only process 0
        writes ``out`` (every process must pass the same ``out``). A checkpoint
        resumes with as many processes as wrote it.
    logs : sequence of TensorBoard
        Training logs written into ``out`` as the run trains
        (:class:`~pinnkan.run.logs.TensorBoard`: ``out/tensorboard``).
    formula : bool or FormulaSearch
        After training, look for a closed-form formula of the solution
        (:func:`~pinnkan.run.formulas.find_formula`; a FormulaSearch says how):
        ``solution.formula``, and in ``out`` the file ``formula.txt``, the figure
        ``formula_network.png`` and the fields ``formula`` and ``formula_rel_l2`` of
        ``report.json``.

    Notes
    -----
    SIGTERM or Ctrl-C stop the training at the end of the current step: the run
    folder then gets a checkpoint, ``report.json`` and ``model.pt`` (no figures),
    and ``solution.train.stopped_by`` names the signal; ``resume=True`` goes on.
    """
    if not isinstance(problem, Problem):
        raise InputTypeError(f"problem must be a Problem, got {type(problem).__name__}")
    setup = Setup() if setup is None else setup
    if not isinstance(setup, Setup):
        raise InputTypeError(f"setup must be a Setup, got {type(setup).__name__}")
    if dtype is not None:
        setup = replace(setup, dtype=dtype_name(dtype))
    if not whole(seed):
        raise InputTypeError(f"seed must be an int, got {seed!r}")
    if monitor is not None and not callable(monitor):
        raise InputTypeError(f"monitor must be a callable model -> callback(step, record), got {type(monitor).__name__}")
    if not 0 <= seed < 2**63:
        raise InputValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed}")
    device = check_device(device)
    folder = check_output_folder(out) if out is not None else None
    if resume and folder is None:
        raise InputValueError("resume=True needs the run folder (out=...) that holds checkpoint.pt")
    if not isinstance(distributed, bool):
        raise InputTypeError(f"distributed must be True or False, got {distributed!r}")
    logs = tuple(logs)
    if not all(isinstance(log, TensorBoard) for log in logs):
        raise InputTypeError(f"logs takes TensorBoard(...) objects, got {[type(log).__name__ for log in logs]}")
    if logs and folder is None:
        raise InputValueError("logs are written into the run folder; give out=... (pinnkan solve writes one)")
    if not isinstance(formula, (bool, FormulaSearch)):
        raise InputTypeError(f"formula must be True, False or a FormulaSearch, got {type(formula).__name__}")
    group = ProcessGroup() if distributed else ALONE

    # The kernels change the speed, never the numbers: the whole run (training, comparison,
    # estimate, figures) uses the setup's build.
    with setup.kernels.active() if setup.kernels is not None else contextlib.nullcontext():
        solution = _solve(problem, setup, seed, device, folder, resume, progress, checkpoint_every, callbacks,
                          monitor, group, logs)
        if formula and solution.train.stopped_by is None:
            from .formulas import find_formula

            found = find_formula(problem, solution.model, formula if isinstance(formula, FormulaSearch) else None,
                                 seed=seed)
            solution = replace(solution, formula=found)
            if folder is not None and group.writer:
                from .formula_files import write_formula

                write_formula(folder, problem, found)
        return solution


def _solve(problem: Problem, setup: Setup, seed: int, device: torch.device | None, folder: Path | None, resume: bool,
           progress: bool, checkpoint_every: int, callbacks: Sequence[Callback],
           monitor: Callable[[PINN], Callback] | None, group: Group, logs: tuple[TensorBoard, ...]) -> Solution:
    """:func:`solve` once its arguments are checked."""
    plan = hard_constraint(problem, setup)
    transform, constraint = plan.constraint, plan.note
    soft = tuple(c for c in problem.conditions if transform is None or not transform.covers(c))
    grid_size = DEFAULT_GRID if setup.model is not None else data_grid(
        problem, _reproduced(problem, plan), setup.tolerance or DEFAULT_TOLERANCE
    )
    setup = resolve(setup, problem, soft_conditions=len(soft), grid_size=grid_size)
    if plan.decay and setup.decay:  # residuals relative to the decaying solution (one output: one rate)
        setup = replace(setup, weighting=(*setup.weightings(), Decay(rate=next(iter(plan.decay.values())))))
    dtype = DTYPES[setup.dtype]  # type: ignore[index]
    if setup.regularization is not None and setup.regularization.active and not isinstance(setup.model, KANSpec):
        raise InputValueError(f"Regularization penalises B-spline KAN edges; the model is {setup.model.kind}: use KANSpec")  # type: ignore[union-attr]
    # The reference is cheap next to training: build it first so a broken one fails early.
    reference = reference_solution(problem) if problem.has_reference else None
    model = _build_model(problem, setup, transform, seed=seed, dtype=dtype, device=device)
    group.broadcast(model)  # the same seed initialises the same model everywhere: made sure of
    loss = PINNLoss(
        problem,
        soft,
        setup.points,  # type: ignore[arg-type]
        rng=group.rng(seed),
        group=group,
        dtype=dtype,
        device=device,
        engine=setup.engine,  # type: ignore[arg-type]
        compile=setup.compile,
        chunk_size=setup.chunk_size,
        # Weighting schemes keep state: each solve gets its own copies.
        weighting=copy.deepcopy(setup.weightings()),
        resampling=setup.resampling,
        regularization=setup.regularization,
        # A user's own module may not say how smooth it is: then nothing is checked.
        max_order=getattr(model.approximator, "smoothness", None),
    )
    refinement = setup.refinement()
    refiner = None
    if refinement is not None:
        refiner = Refiner(refinement, lambda m: estimate_error(problem, m, rng=np.random.default_rng(seed + 2)), loss)
    trainer = Trainer(
        model,
        loss,
        setup.stages,  # type: ignore[arg-type]
        refiner=refiner,
        checkpoint=None if folder is None else folder / "checkpoint.pt",
        progress=progress,
        checkpoint_every=checkpoint_every,
        callbacks=(*callbacks, *(() if monitor is None else (monitor(model),))),
        # The points come from the seed, so a resume must use the same seed and dtype.
        metadata={
            "problem": problem.name,
            "parameters": plain(dict(problem.parameters)),
            "seed": seed,
            "dtype": str(dtype),
            "setup": setup.describe(),
        },
    )
    if resume:
        trainer.resume()
    writers = [log.open(folder, problem, reference, seed=seed, start=trainer.step)  # type: ignore[arg-type]
               for log in logs] if group.writer else []
    trainer.callbacks += tuple(w.monitor(model) for w in writers)
    try:
        result = trainer.run()
        comparison = None
        if reference is not None:
            exact = problem.exact_values if problem.exact is not None else None
            comparison = compare(model, reference, outputs=problem.outputs, exact=exact, time_axis=problem.time)
        errors = condition_errors(problem, model, rng=np.random.default_rng(seed + 1))
        estimate = None
        if result.stopped_by is None:  # after a signal, quickly: a job scheduler's grace period is short
            finished = refiner is not None and refiner.outcome and refiner.last is not None
            estimate = refiner.last if finished else estimate_error(problem, model, rng=np.random.default_rng(seed + 2))  # type: ignore[union-attr]
        for writer in writers:  # the final figures at the last step
            if comparison is not None:
                writer.errors(model, result.steps)
            if estimate is not None:
                writer.estimate(model, result.steps, estimate.rel_l2)
    finally:
        for writer in writers:
            writer.close()
    solution = Solution(
        problem, setup, model, result, comparison, seed, dtype, _all_points(loss.pde_points_tensor(), group),
        constraint, errors,
        loss.engine_report(), estimate, dict(plan.soft), None if refiner is None else refiner.report(),
    )
    if folder is not None and group.writer:
        # After a signal, quickly: a job scheduler's grace period is short.
        write_run_folder(solution, folder, figures=result.stopped_by is None)
    return solution


def _all_points(points: torch.Tensor, group: Group) -> torch.Tensor:
    """Every process's PDE points (in process 0; the others keep their own)."""
    shares = group.gather(points.detach().cpu()) if group.size > 1 else None
    return points if shares is None else torch.cat(shares).to(points.device)  # type: ignore[arg-type]


def condition_errors(
    problem: Problem, model: PINN, *, rng: np.random.Generator, n: int = 1000
) -> dict[str, dict[str, float]]:
    """Largest and root-mean-square residual of every condition term on ``n`` fresh points (all of a data set)."""
    param = next(model.parameters())
    errors = {}
    for condition in problem.conditions:
        batch = condition_points(problem.domain, condition, n, rng)
        batch = Batch(*(None if t is None else t.to(dtype=param.dtype, device=param.device) for t in
                        (batch.points, batch.normals, batch.data)))
        field = problem.field(model, batch.points, coefficients=model.coefficient_values())
        for key, r in condition.residuals(field, batch).items():
            r = r.detach().abs().double()
            errors[key or condition.name] = {"max_abs": float(r.max()), "rms": float(torch.sqrt(torch.mean(r**2)))}
    return errors


def hard_constraint(problem: Problem, setup: Setup) -> ConstraintPlan:
    """The output transform to build in, which conditions it covers, and why the others stay in the loss.

    Raises
    ------
    ValueError
        When ``setup.hard`` names conditions that cannot be built in (with the reasons).
    """
    if setup.hard is False:
        return ConstraintPlan(None, (), {c.name: "hard=False" for c in problem.conditions}, source="none")
    if problem.hard_constraint is not None:
        own = problem.hard_constraint
        covered = tuple(c.name for c in problem.conditions if own.covers(c))
        soft = {c.name: "not covered by the problem's hard constraint" for c in problem.conditions if not own.covers(c)}
        plan = ConstraintPlan(own, covered, soft, source="problem")
    else:
        plan = auto_constraint(problem.domain, problem.conditions, problem.outputs)
        rates = fit_decay(problem) if setup.decay else {}
        if rates:
            plan = auto_constraint(problem.domain, problem.conditions, problem.outputs, decay=rates)
    if setup.hard is not True:
        unknown = [name for name in setup.hard if name not in {c.name for c in problem.conditions}]
        if unknown:
            raise InputValueError(
                f"Setup.hard names {unknown}, which are not conditions of {problem.name!r}; its conditions are "
                f"{[c.name for c in problem.conditions]}"
            )
        missing = {name: plan.soft[name] for name in setup.hard if name not in plan.built}
        if missing:
            reasons = "; ".join(f"{name}: {why}" for name, why in missing.items())
            raise InputValueError(
                f"the hard constraint cannot build in {sorted(missing)} ({reasons}); leave them out of "
                f"Setup.hard (they then stay in the loss) or change the conditions"
            )
    return plan


def _reproduced(problem: Problem, plan: ConstraintPlan) -> list[tuple[object, object]]:
    """The data the network itself must reproduce: every condition left in the loss, and a built-in
    initial value that does not decay (the network cancels it as the solution moves on)."""
    data = []
    for condition in problem.conditions:
        location = getattr(condition, "location", None)
        part = getattr(location, "part", None)
        value = getattr(condition, "value", None) or getattr(condition, "flux", None)
        if part is None or value is None:
            continue
        built = condition.name in plan.built
        if not built or (part == "initial" and not plan.decay):
            data.append((part, value))
    return data


def _build_model(
    problem: Problem,
    setup: Setup,
    transform: OutputTransform | None,
    *,
    seed: int,
    dtype: torch.dtype,
    device: torch.device | None,
) -> PINN:
    lo, hi = problem.domain.bounds()
    # Initialise from the seed without touching the caller's global generators.
    with torch.random.fork_rng(devices=[] if device is None or device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        net = setup.model.build(  # type: ignore[union-attr]
            problem.domain.dim, len(problem.outputs), (lo.tolist(), hi.tolist()), dtype=dtype, device=device
        )
    return assemble(problem, net, transform, dtype=dtype, device=device)


def assemble(
    problem: Problem, net: nn.Module, transform: OutputTransform | None, *, dtype: torch.dtype, device: torch.device | None
) -> PINN:
    """The trainable whole: ``net`` inside the hard constraint (if any) with the problem's coefficients."""
    body: nn.Module = net if transform is None else ConstrainedModel(net, transform, problem.coordinates)
    return PINN(body, CoefficientSet(problem.coefficients, dtype=dtype, device=device))


def best_device() -> torch.device:
    """The first of a CUDA GPU, an Apple GPU (MPS) and the CPU that this machine and torch build have."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_device(device: torch.device | str | None) -> torch.device | None:
    """``device`` as a torch device that can train here (None stays None: the CPU; ``"auto"``: :func:`best_device`).

    Raises
    ------
    ValueError
        For a name torch does not know, a kind that holds no data (``meta``) or
        cannot train (one not in :data:`DEVICE_TYPES`), or one this machine or torch
        build does not have.
    """
    if device is None:
        return None
    if device == "auto":
        return best_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InputValueError(f"device takes a torch device such as 'cpu', 'cuda' or 'cuda:1', got {device!r}") from None
    if device.type not in DEVICE_TYPES:
        raise InputValueError(
            f"device {str(device)!r} cannot train a model; give one of {', '.join(DEVICE_TYPES)} (cuda on a machine with a GPU)"
        )
    backend = getattr(torch.backends if device.type == "mps" else torch, device.type, None)
    if not getattr(backend, "is_available", lambda: True)():
        raise InputValueError(f"device {str(device)!r}: this machine or this torch build has no {device.type}; give 'cpu'")
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as err:
        raise InputValueError(f"device {str(device)!r} cannot be used ({err}); give 'cpu'") from None
    return device

