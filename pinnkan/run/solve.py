"""Solve a problem end to end: build the model, sample, train, compare, write a run folder.

Examples
--------
>>> from pinnkan import load_problem, solve
>>> spec = load_problem("heat1d")
>>> solution = solve(spec.problem, spec.setup, seed=0, out="runs/heat1d")  # doctest: +SKIP
>>> solution.comparison.rel_l2  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy
import torch
from torch import nn

from ..compare import Comparison, compare
from ..kan_tools.regularization import Regularization
from ..models.base import ModelSpec
from ..models.kan import KANSpec
from ..pde.conditions import ConstrainedModel
from ..pde.geometry import INTERIOR
from ..pde.problem import Problem
from ..training.grid_stages import ExtendGrid
from ..training.losses import CompositeLoss, Points, sample_points
from ..training.stages import LBFGS, Adam, ModelChange, Stage
from ..training.trainer import Trainer, TrainResult

__all__ = ["Setup", "Solution", "solve", "check_output_folder"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True, kw_only=True)
class Setup:
    """How to solve a problem: model size, collocation points, training stages.

    Parameters
    ----------
    model : ModelSpec
        The approximator to build: ``KANSpec``, ``ChebyKANSpec`` or ``MLPSpec``.
    points : Points
        Collocation points per part.
    stages : tuple of Stage or ModelChange
        Training stages, run in order; model changes (e.g. ``ExtendGrid``) between them.
    weights : mapping of str to float
        Loss-term weights by name (others weigh 1).
    hard : bool
        Build the problem's hard constraint (if any) into the model; the
        conditions it covers then get no loss term.
    regularization : Regularization, optional
        KAN penalties added to the loss (see :mod:`pinnkan.regularization`).
    """

    model: ModelSpec = KANSpec()
    points: Points = Points()
    stages: tuple[Stage | ModelChange, ...] = (Adam(steps=2000, lr=1e-2, final_lr=1e-3), LBFGS(steps=500))
    weights: Mapping[str, float] = field(default_factory=dict)
    hard: bool = True
    regularization: Regularization | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelSpec):
            raise TypeError(
                f"Setup.model must be a ModelSpec such as KANSpec(), ChebyKANSpec() or MLPSpec(), "
                f"got {type(self.model).__name__}"
            )
        if not isinstance(self.points, Points):
            raise TypeError(f"Setup.points must be a Points, got {type(self.points).__name__}")
        if self.regularization is not None and not isinstance(self.regularization, Regularization):
            raise TypeError(
                f"Setup.regularization must be a Regularization or None, got {type(self.regularization).__name__}"
            )
        object.__setattr__(self, "stages", tuple(self.stages))

    def with_steps(self, steps: Sequence[int]) -> Setup:
        """The same setup with new step counts, one per optimiser stage (model changes keep theirs)."""
        steps = list(steps)
        optimisers = [s for s in self.stages if isinstance(s, Stage)]
        if len(steps) != len(optimisers):
            raise ValueError(
                f"give one step count per optimiser stage ({len(optimisers)}: "
                f"{', '.join(type(s).__name__ for s in optimisers)}), got {len(steps)}"
            )
        counts = iter(steps)
        stages = tuple(replace(s, steps=next(counts)) if isinstance(s, Stage) else s for s in self.stages)
        return replace(self, stages=stages)

    def with_grid_extension(self, grid_sizes: Sequence[int]) -> Setup:
        """The same setup followed, per size, by ``ExtendGrid(size)`` and a rerun of the last optimiser stage."""
        sizes = list(grid_sizes)
        if not sizes:
            raise ValueError("give at least one grid size to extend to, e.g. [10, 20]")
        optimisers = [s for s in self.stages if isinstance(s, Stage)]
        if not optimisers:
            raise ValueError("grid extension reruns the last optimiser stage; the setup has none")
        extra = [stage for size in sizes for stage in (ExtendGrid(grid_size=size), optimisers[-1])]
        return replace(self, stages=(*self.stages, *extra))

    def describe(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {
            "model": {"kind": self.model.kind, **vars(self.model)},
            "points": {"interior": self.points.interior, "boundary": self.points.boundary,
                       "sampler": type(self.points.sampler).__name__},
            "stages": [s.describe() for s in self.stages],
            "weights": dict(self.weights),
            "hard": self.hard,
            "regularization": None if self.regularization is None else vars(self.regularization),
        }


@dataclass(frozen=True)
class Solution:
    """A trained model with its training record, comparison and interior training points."""

    problem: Problem
    setup: Setup
    model: nn.Module
    train: TrainResult
    comparison: Comparison | None
    seed: int
    dtype: torch.dtype
    samples: torch.Tensor

    @property
    def net(self) -> nn.Module:
        """The approximator inside the model (without a hard-constraint wrapper)."""
        return self.model.net if isinstance(self.model, ConstrainedModel) else self.model

    def report(self) -> dict[str, object]:
        """The run's figures and settings, as written to ``report.json``."""
        net = self.net
        report: dict[str, object] = {
            "problem": self.problem.name,
            "success": self.train.success,
            "message": self.train.message,
            "train_seconds": self.train.seconds,
            "steps": self.train.steps,
            "params": sum(p.numel() for p in self.model.parameters()),
            "model": net.describe() if hasattr(net, "describe") else type(net).__name__,
            "dtype": str(self.dtype).removeprefix("torch."),
            "seed": self.seed,
            "final_losses": self.train.history.final(),
            "setup": self.setup.describe(),
            "versions": versions(),
        }
        if self.comparison is not None:
            report.update(self.comparison.metrics())
        return report


def versions() -> dict[str, str]:
    """Versions of Python and the numerical stack."""
    from .. import __version__

    return {
        "pinnkan": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": sys.platform,
    }


def check_output_folder(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and make sure it is a writable folder."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot create the output folder {path} ({err.strerror}); choose another --out") from None
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise ValueError(f"the output folder {path} is not writable; choose another --out")
    return path


def solve(
    problem: Problem,
    setup: Setup | None = None,
    *,
    seed: int = 0,
    dtype: torch.dtype | str = torch.float32,
    device: torch.device | str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
) -> Solution:
    """Train a model for ``problem`` and compare it with the problem's reference.

    Parameters
    ----------
    problem : Problem
    setup : Setup, optional
        Model, points and stages; ``Setup()`` by default.
    seed : int
        Fixes the collocation points and the initial parameters.
    dtype : torch.dtype or {"float32", "float64"}
        Precision of the model and of training.
    device : torch.device or str, optional
        Where to train (CPU by default).
    out : path, optional
        Run folder for ``report.json``, figures and ``checkpoint.pt``; nothing is
        written when None.
    resume : bool
        Continue from ``out/checkpoint.pt``.
    progress : bool
        Show a progress bar.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    setup = setup or Setup()
    dtype = _dtype(dtype)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    folder = check_output_folder(out) if out is not None else None
    if resume and folder is None:
        raise ValueError("resume=True needs the run folder (out=...) that holds checkpoint.pt")
    if setup.regularization is not None and setup.regularization.active and not isinstance(setup.model, KANSpec):
        raise ValueError(f"Regularization penalises B-spline KAN edges; the model is {setup.model.kind}: use KANSpec")

    # The reference is cheap next to training: build it first so a broken one fails early.
    grid = problem.reference_solution() if problem.has_reference else None
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    lo, hi = problem.domain.bounds()
    net = setup.model.build(
        problem.domain.dim, len(problem.outputs), (lo.tolist(), hi.tolist()), dtype=dtype, device=device
    )
    model: nn.Module = net
    conditions = problem.conditions
    hard = problem.hard_constraint if setup.hard else None
    if hard is not None:
        model = ConstrainedModel(net, hard, problem.coordinates)
        conditions = tuple(c for c in conditions if not hard.covers(c.part))
    point_sets = sample_points(problem, conditions, setup.points, rng=rng, dtype=dtype, device=device)
    loss = CompositeLoss(
        problem,
        conditions,
        point_sets,
        weights=setup.weights,
        max_order=net.smoothness,
        regularization=setup.regularization,
    )
    trainer = Trainer(
        model,
        loss,
        setup.stages,
        checkpoint=None if folder is None else folder / "checkpoint.pt",
        progress=progress,
        # The points come from the seed, so a resume must use the same seed and dtype.
        metadata={"problem": problem.name, "seed": seed, "dtype": str(dtype), "setup": setup.describe()},
        samples=point_sets[INTERIOR].points,
    )
    if resume:
        trainer.resume()
    result = trainer.run()
    comparison = None
    if grid is not None:
        exact = problem.exact_numpy if problem.exact is not None else None
        comparison = compare(model, grid, exact=exact)
    solution = Solution(problem, setup, model, result, comparison, seed, dtype, point_sets[INTERIOR].points)
    if folder is not None:
        write_run_folder(solution, folder)
    return solution


def write_run_folder(solution: Solution, folder: Path) -> None:
    """Write ``report.json``, the figures and ``model.pt`` into ``folder``.

    ``model.pt`` holds the trained approximator as a pickled module with the
    interior training points and coordinate names, for ``pinnkan plot``; load it
    with ``torch.load(path, weights_only=False)`` only from run folders you trust.
    """
    from ..plotting import plot_error_over_time, plot_history, plot_solution

    report = solution.report()
    (folder / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    model_file = {"net": solution.net, "samples": solution.samples, "coordinates": solution.problem.coordinates}
    torch.save(model_file, folder / "model.pt")
    if solution.train.history.records:
        plot_history(solution.train.history, folder / "loss_history.png")
    if solution.comparison is not None:
        plot_solution(solution.comparison, folder / "solution.png")
        if solution.comparison.error_over_time is not None:
            plot_error_over_time(solution.comparison, folder / "error_over_time.png")


def _dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        return DTYPES[dtype]
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return dtype
