"""How to solve a problem: model, points, stages, weighting, resampling, engine, constraints.

Every field of :class:`Setup` left at ``None`` is chosen for the problem by
:func:`resolve` — so ``Setup()``, or a problem file without a setup, already
gives a useful first run. The choices and the reasons for them:

* **model** — a B-spline KAN with one hidden layer of 32 (two of 16 for four or
  more coordinates), grid G = 5, cubic splines: small enough for dense BFGS, and
  on heat1d it reaches 2e-5 relative L2 in float32.
* **points** — 1,000 Sobol interior points per two coordinates (1,000 for 2, 2,000
  for 3, 4,000 beyond), 200 per condition.
* **stages** — Adam (500 steps, learning rate 1e-2 decaying to 1e-3) finds the basin,
  then dense BFGS with the self-scaled Broyden update (2,000 steps,
  ``BFGS(update="ssbroyden")``) drives the residual down where L-BFGS stalls: on the
  user files of ``scripts/defaults_study.py`` 4–35x lower than plain BFGS for the same
  or less time. For models above 4,000 parameters, where dense BFGS gets expensive,
  Adam 2,000 then L-BFGS 1,000.
* **hard constraints** — Dirichlet and initial-value conditions are built into the
  output automatically on every domain (Coons patches on boxes, distance functions
  elsewhere: :mod:`pinnkan.pde.auto_constraint`); conditions on derivatives,
  periodicity and data stay in the loss, and the report says why.
* **dtype** — float32: on the problems tried, float64 lowers the error 3-6x for
  about 2.5x the time; a setup (or ``--dtype``) asks for it where that pays.
* **engine** — ``"auto"``: forward jets through pinnkan's networks (one forward
  pass for every derivative the residual needs, then one backward pass), autograd
  for what jets cannot run (a user's own module, a general output transform);
  ``compile=True`` adds ``torch.compile``.
* **refinement** — with the stages chosen automatically, the run then refines
  until the estimated error is below ``tolerance`` (1e-3 by default) or the
  ``budget`` (5 minutes of training by default) is spent: PDE points redistributed
  by residual, the KAN grid doubled, more quasi-Newton steps
  (:mod:`pinnkan.training.refinement`). Given stages are run as they are, and
  refined only when a tolerance is set.
* **weighting** — neural-tangent-kernel weights (:class:`~pinnkan.training.weighting.NTK`)
  when conditions remain in the loss, so that each is learnt as fast as the PDE residual
  (gradient-norm annealing lets them go where the PDE has a trivial solution, as
  Laplace's equation does); equal weights otherwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError, whole
from ..kan_tools.regularization import Regularization
from ..models.base import ModelSpec
from ..models.kan import KANSpec
from ..models.kernel_build import KernelBuild
from ..pde.engines import Auto, Engine
from ..pde.problem import Problem
from ..pde.user_code import kind_of
from ..training.adaptive import Resampling
from ..training.grid_stages import ExtendGrid
from ..training.losses import Points
from ..training.refinement import Refinement
from ..training.stages import BFGS, CHOSEN_UPDATE, LBFGS, Adam, ModelChange, Stage
from ..training.weighting import NTK, Weighting, check_weightings

__all__ = ["Setup", "resolve", "data_grid", "parse_budget", "DENSE_BFGS_LIMIT", "DEFAULT_TOLERANCE", "DEFAULT_BUDGET", "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Models with more parameters train with L-BFGS instead of dense BFGS by default.
DENSE_BFGS_LIMIT = 4000
# Refinement after automatically chosen stages: the estimated error to reach, and the training time allowed.
DEFAULT_TOLERANCE = 1e-3
DEFAULT_BUDGET = 300.0
# The default KAN's grid, and the finest one chosen for the data (see data_grid).
DEFAULT_GRID = 5
MAX_DATA_GRID = 64


@dataclass(frozen=True, kw_only=True)
class Setup:
    """How to solve a problem; fields left at None are chosen by :func:`resolve`.

    Parameters
    ----------
    model : ModelSpec, optional
        The approximator: ``KANSpec``, ``ChebyKANSpec`` or ``MLPSpec``.
    points : Points, optional
        Point counts per loss term and the sampler.
    stages : tuple of Stage or ModelChange, optional
        Training stages, run in order; model changes (e.g. ``ExtendGrid``) between them.
    weighting : Weighting or tuple of them, optional
        Loss balancing (``Fixed``, ``GradNorm``, ``ResidualAttention``, ``Causal``).
    resampling : Resampling, optional
        Point resampling during first-order stages (``Resample``, ``RAD``, ``RAR``); none by default.
    engine : Engine or "auto"
        How derivatives are computed: ``"auto"`` (the same as ``Auto()``: jets where
        they can run, autograd elsewhere), ``Jets()`` or ``Autograd()``.
    compile : bool
        Run the residuals on jets and their backward pass through ``torch.compile``
        (the first steps pay for compilation; a warning and eager code where it is
        unavailable; terms on autograd stay eager). torch.compile keeps a few
        compiled variants per residual function (eight by default); past them it
        warns and runs eagerly.
    chunk_size : int, "auto" or None
        Evaluate a loss term of more residual rows than this piece by piece, adding up
        the gradients, so that a step over many points stays within memory
        (:class:`~pinnkan.training.losses.PINNLoss`); ``"auto"`` (the default) chunks
        when the whole step's graph would take more than a quarter of the free memory,
        and on the CPU terms of more than 65,536 rows (faster in pieces); None never
        chunks.
    hard : bool or tuple of str
        Build conditions into the model's output: the problem's own hard constraint,
        or one made automatically from the Dirichlet and initial conditions (True:
        those that can be built; the rest stay in the loss). A tuple of condition
        names also requires that those be built in (an error says why one cannot).
        False enforces every condition through the loss.
    decay : bool
        Let a built-in initial value decay at the rate that fits the PDE at the initial
        time, when it decays at least tenfold over the interval
        (:func:`pinnkan.pde.decay.fit_decay`); with zero boundary values the whole output
        then follows the decay and keeps its relative accuracy at late times.
    regularization : Regularization, optional
        KAN penalties added to the loss (see :mod:`pinnkan.kan_tools.regularization`).
    tolerance : float, optional
        The estimated relative L2 error to refine to after the stages (see
        :mod:`pinnkan.training.refinement`); 1e-3 when the stages are chosen
        automatically, no refinement after given stages unless it is set.
    budget : float or str, optional
        Training time allowed for refinement to go on, in seconds or as ``"90s"``,
        ``"5m"``, ``"1h"``; 5 minutes by default.
    dtype : {"float32", "float64"} or torch.dtype, optional
        Precision of the model and of training; ``solve(dtype=...)`` and ``--dtype`` override it.
    kernels : KernelBuild, optional
        How the fused C kernels of B-spline KANs are compiled and where they are kept
        (:class:`~pinnkan.models.kernel_build.KernelBuild`: compiler, cache folder, or off);
        the default build, from ``CC``, ``PINNKAN_KERNEL_CACHE`` and ``PINNKAN_NATIVE``, when None.
        They change the speed, never the results, so a resume may use other kernels.
    """

    model: ModelSpec | None = None
    points: Points | None = None
    stages: tuple[Stage | ModelChange, ...] | None = None
    weighting: Weighting | tuple[Weighting, ...] | None = None
    resampling: Resampling | None = None
    engine: Engine | str = "auto"
    compile: bool = False
    chunk_size: int | str | None = "auto"
    hard: bool | tuple[str, ...] = True
    decay: bool = True
    regularization: Regularization | None = None
    tolerance: float | None = None
    budget: float | str | None = None
    dtype: str | None = None
    kernels: KernelBuild | None = None

    def __post_init__(self) -> None:
        if self.dtype is not None:
            object.__setattr__(self, "dtype", dtype_name(self.dtype))
        if self.model is not None and not isinstance(self.model, ModelSpec):
            raise InputTypeError(
                f"Setup.model must be a ModelSpec such as KANSpec(), ChebyKANSpec() or MLPSpec(), "
                f"got {kind_of(self.model)}"
            )
        if self.points is not None and not isinstance(self.points, Points):
            raise InputTypeError(f"Setup.points must be a Points(...), got {kind_of(self.points)}")
        if self.stages is not None:
            stages = tuple(self.stages) if isinstance(self.stages, (tuple, list)) else (self.stages,)
            if not stages:
                raise InputValueError("Setup.stages needs at least one stage, e.g. (Adam(steps=1000),); or leave it None")
            for stage in stages:
                if not isinstance(stage, (Stage, ModelChange)):
                    raise InputTypeError(
                        f"Setup.stages must hold stages such as Adam(steps=...), BFGS(steps=...) or "
                        f"ExtendGrid(grid_size=...), got {kind_of(stage)}"
                    )
            object.__setattr__(self, "stages", stages)
        if self.weighting is not None:
            schemes = check_weightings(self.weighting)
            object.__setattr__(self, "weighting", schemes[0] if len(schemes) == 1 else schemes)
        if self.resampling is not None and not isinstance(self.resampling, Resampling):
            raise InputTypeError(f"Setup.resampling must be RAD(), RAR(), Resample(every=...) or None, got {kind_of(self.resampling)}")
        if self.engine == "auto":
            object.__setattr__(self, "engine", Auto())
        if not isinstance(self.engine, Engine):
            shown = kind_of(self.engine) if isinstance(self.engine, type) else repr(self.engine)
            raise InputTypeError(f"Setup.engine must be 'auto' or an Engine such as Jets() or Autograd(), got {shown}")
        if not isinstance(self.compile, bool):
            raise InputTypeError(f"Setup.compile must be True or False, got {self.compile!r}")
        if self.chunk_size not in (None, "auto") and not whole(self.chunk_size, 1):
            raise InputValueError(f"Setup.chunk_size must be a positive int, 'auto' or None, got {self.chunk_size!r}")
        if not isinstance(self.hard, bool):
            names = (self.hard,) if isinstance(self.hard, str) else self.hard
            if not isinstance(names, (tuple, list)) or not names or not all(isinstance(n, str) for n in names):
                raise InputTypeError(
                    f"Setup.hard must be True, False or a tuple of condition names to build in, got {self.hard!r}"
                )
            object.__setattr__(self, "hard", tuple(names))
        if not isinstance(self.decay, bool):
            raise InputTypeError(f"Setup.decay must be True or False, got {self.decay!r}")
        if self.regularization is not None and not isinstance(self.regularization, Regularization):
            raise InputTypeError(
                f"Setup.regularization must be a Regularization or None, got {kind_of(self.regularization)}"
            )
        if self.tolerance is not None:
            tolerance = self.tolerance
            if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not (
                math.isfinite(tolerance) and 0 < tolerance < 1
            ):
                raise InputValueError(
                    f"Setup.tolerance is a relative L2 error to reach, a number in (0, 1) such as 1e-3; got {tolerance!r}"
                )
            object.__setattr__(self, "tolerance", float(tolerance))
        if self.budget is not None:
            object.__setattr__(self, "budget", parse_budget(self.budget))
        if self.kernels is not None and not isinstance(self.kernels, KernelBuild):
            raise InputTypeError(
                f"Setup.kernels must be a KernelBuild(compiler=..., cache=..., enabled=...) or None, got "
                f"{kind_of(self.kernels)}"
            )

    def with_steps(self, steps: Sequence[int]) -> Setup:
        """The same setup with new step counts, one per optimiser stage (model changes keep theirs)."""
        if self.stages is None:
            raise InputValueError("the setup's stages are chosen automatically; resolve(setup, problem) first")
        steps = list(steps)
        optimisers = [s for s in self.stages if isinstance(s, Stage)]
        if len(steps) != len(optimisers):
            raise InputValueError(
                f"give one step count per optimiser stage ({len(optimisers)}: "
                f"{', '.join(type(s).__name__ for s in optimisers)}), got {len(steps)}"
            )
        counts = iter(steps)
        stages = tuple(replace(s, steps=next(counts)) if isinstance(s, Stage) else s for s in self.stages)
        return replace(self, stages=stages)

    def with_grid_extension(self, grid_sizes: Sequence[int]) -> Setup:
        """The same setup followed, per size, by ``ExtendGrid(size)`` and a rerun of the last optimiser stage."""
        if self.stages is None:
            raise InputValueError("the setup's stages are chosen automatically; resolve(setup, problem) first")
        sizes = list(grid_sizes)
        if not sizes:
            raise InputValueError("give at least one grid size to extend to, e.g. [10, 20]")
        optimisers = [s for s in self.stages if isinstance(s, Stage)]
        if not optimisers:
            raise InputValueError("grid extension reruns the last optimiser stage; the setup has none")
        extra = [stage for size in sizes for stage in (ExtendGrid(grid_size=size), optimisers[-1])]
        return replace(self, stages=(*self.stages, *extra))

    def refinement(self) -> Refinement | None:
        """The refinement after the stages, or None (see :func:`resolve` for the defaults)."""
        if self.tolerance is None:
            return None
        return Refinement(tolerance=self.tolerance, budget=self.budget if self.budget is not None else DEFAULT_BUDGET)  # type: ignore[arg-type]

    def weightings(self) -> tuple[Weighting, ...]:
        """The weighting schemes as a tuple (empty for equal weights)."""
        return check_weightings(self.weighting)

    def describe(self) -> dict[str, object]:
        """JSON-ready summary."""
        points = self.points
        return {
            "model": None if self.model is None else {"kind": self.model.kind, **vars(self.model)},
            "points": None if points is None else {
                "interior": points.interior, "boundary": points.boundary, "sampler": type(points.sampler).__name__
            },
            "stages": None if self.stages is None else [s.describe() for s in self.stages],
            "weighting": [w.describe() for w in self.weightings()],
            "resampling": None if self.resampling is None else self.resampling.describe(),
            "engine": self.engine.describe(),  # type: ignore[union-attr]
            "compile": self.compile,
            "chunk_size": self.chunk_size,
            "hard": self.hard if isinstance(self.hard, bool) else list(self.hard),
            "decay": self.decay,
            "regularization": None if self.regularization is None else vars(self.regularization),
            "tolerance": self.tolerance,
            "budget": self.budget,
            "dtype": self.dtype,
        }


def resolve(
    setup: Setup, problem: Problem, *, soft_conditions: int | None = None, grid_size: int = DEFAULT_GRID
) -> Setup:
    """``setup`` with every field left at None chosen for ``problem`` (see the module docstring).

    Parameters
    ----------
    setup : Setup
    problem : Problem
    soft_conditions : int, optional
        How many conditions stay in the loss (after hard constraints); decides the
        default weighting. All of the problem's conditions if None.
    grid_size : int
        The grid of the default KAN (see :func:`data_grid`).
    """
    dim = problem.domain.dim
    model = setup.model or KANSpec(hidden=(32,) if dim <= 3 else (16, 16), grid_size=grid_size, spline_order=3)
    given = setup.points or Points()
    points = replace(given, interior=given.interior_for(dim))
    stages = setup.stages
    if stages is None:
        params = _parameter_count(model, dim, len(problem.outputs))
        if params <= DENSE_BFGS_LIMIT:
            stages = (Adam(steps=500, lr=1e-2, final_lr=1e-3), BFGS(steps=2000, update=CHOSEN_UPDATE))
        else:
            stages = (Adam(steps=2000, lr=1e-2, final_lr=1e-3), LBFGS(steps=1000))
    weighting = setup.weighting
    if weighting is None:
        soft = len(problem.conditions) if soft_conditions is None else soft_conditions
        weighting = (NTK(every=100, points=64),) if soft else ()
    dtype = setup.dtype or "float32"
    tolerance = setup.tolerance
    if tolerance is None and setup.stages is None:
        tolerance = DEFAULT_TOLERANCE
    budget = setup.budget if setup.budget is not None or tolerance is None else DEFAULT_BUDGET
    return replace(
        setup, model=model, points=points, stages=stages, weighting=weighting, dtype=dtype, tolerance=tolerance, budget=budget
    )


def data_grid(problem: Problem, values: Sequence[tuple[object, object]], tolerance: float) -> int:
    """A KAN grid fine enough for the data the network has to reproduce, to ``tolerance``.

    ``values`` are ``(part, value)`` pairs: the conditions the network must meet or
    cancel. Along each axis a function's slope over its spread, ``omega =
    ||dg/dx_a|| / ||g - mean g||``, gives ``omega L_a`` radians over the axis; a cubic
    spline interpolates a wave of that many radians with relative error about
    ``(omega h)^4 / 384``, so ``G = omega L_a / (384 tolerance)^(1/4)`` intervals, at
    least :data:`DEFAULT_GRID` and at most :data:`MAX_DATA_GRID`.
    """
    lo, hi = problem.domain.bounds()
    size = DEFAULT_GRID
    rng = np.random.default_rng(0)
    step = (384.0 * tolerance) ** 0.25
    for part, value in values:
        if not callable(value):
            continue
        points = torch.as_tensor(problem.domain.sample(part, 512, rng=rng)).requires_grad_(True)  # type: ignore[arg-type]
        data = torch.as_tensor(value({n: points[:, i] for i, n in enumerate(problem.coordinates)}), dtype=torch.float64)
        if data.ndim == 0 or not data.requires_grad:
            continue
        (grad,) = torch.autograd.grad(data.sum(), points)
        spread = float(data.detach().std())
        if not spread > 0:
            continue
        radians = grad.pow(2).mean(dim=0).sqrt().numpy() / spread * (hi - lo)
        size = max(size, math.ceil(float(radians.max()) / step))
    return min(size, MAX_DATA_GRID)


def parse_budget(budget: object) -> float:
    """Seconds from a number of seconds or a duration such as ``"90s"``, ``"5m"``, ``"1.5h"``.

    Raises
    ------
    ValueError
        For anything else, or a budget that is not positive and finite.
    """
    if isinstance(budget, bool):
        raise InputTypeError(f"a budget is seconds or a duration such as '5m', got {budget!r}")
    if isinstance(budget, (int, float)):
        seconds = float(budget)
    elif isinstance(budget, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|sec|m|min|h)?\s*", budget)
        if match is None:
            raise InputValueError(f"cannot read the budget {budget!r}; give seconds or a duration such as '90s', '5m', '1.5h'")
        seconds = float(match.group(1)) * {"s": 1, "sec": 1, None: 1, "m": 60, "min": 60, "h": 3600}[match.group(2)]
    else:
        raise InputTypeError(f"a budget is seconds or a duration such as '5m', got {kind_of(budget)}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputValueError(f"the budget must be a positive, finite time, got {budget!r}")
    return seconds


def dtype_name(dtype: object) -> str:
    """``"float32"`` or ``"float64"`` for a name or a torch dtype; a clear error otherwise."""
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise InputValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        return dtype
    for name, value in DTYPES.items():
        if dtype == value:
            return name
    raise InputValueError(f"dtype must be torch.float32, torch.float64 or one of {sorted(DTYPES)}, got {dtype!r}")


def _parameter_count(spec: ModelSpec, dim: int, outputs: int) -> int:
    with torch.random.fork_rng(devices=[]):  # building initialises: leave the caller's generator alone
        net = spec.build(dim, outputs, ([0.0] * dim, [1.0] * dim))
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
