"""Resolution that adapts: after the planned stages, estimate, mark and refine while the budget lasts.

Like an adaptive finite-element solve (solve, estimate, mark, refine), a
:class:`Refiner` takes over when the trainer has run its stages: it asks an error
estimator how far the model is from the solution, stops when the estimate meets
the tolerance, and otherwise plans a round of refinement for the trainer to run:

* as many PDE points again are added, drawn by residual (RAR-D: density
  ``~ |r| / mean |r| + 1``), so the next round looks where the error is made while
  the points already there keep the whole domain covered;
* a B-spline KAN's grid is doubled (:class:`~pinnkan.training.grid_stages.ExtendGrid`,
  the same function on a finer grid), up to ``max_grid``;
* a quasi-Newton stage as long as the remaining budget allows (the trainer stops
  it early if its steps turn out slower than planned and the budget runs out):
  dense BFGS with the self-scaled Broyden update, L-BFGS for large models.

It stops when the estimate meets the tolerance, the budget (training seconds in
all, the planned stages included) is spent, the rounds are used up, or a round
lowered the estimate less than 1.5 times (refinement no longer pays). Every round
is recorded with the estimate and the PDE residual that led to it; the planned
stages and the records live in the checkpoint, so a resumed run replays them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from torch import nn

from ..errors import InputTypeError, InputValueError, check_whole
from ..models.kan import KAN
from .adaptive import RAR, pde_points_everywhere
from .grid_stages import ExtendGrid
from .stages import BFGS, CHOSEN_UPDATE, LBFGS, ModelChange, Stage

if TYPE_CHECKING:
    from .losses import PINNLoss
    from .trainer import History

__all__ = ["Refinement", "Refiner", "Estimate"]

# A round must lower the estimate at least this many times for the next one to be planned.
PAYS = 1.5
# Dense BFGS up to this many parameters, L-BFGS above.
_DENSE_LIMIT = 8000


class Estimate(Protocol):
    """What the refiner needs of an error estimate."""

    rel_l2: float
    resolved: bool


@dataclass(frozen=True, kw_only=True)
class Refinement:
    """How far to refine, and for how long.

    Parameters
    ----------
    tolerance : float
        The estimated relative L2 error to reach, ``> 0``.
    budget : float
        Training time in seconds, the planned stages included, after which no new
        round starts (a round is sized to end within it).
    max_grid : int
        Largest KAN grid a round extends to.
    steps : int
        Quasi-Newton steps of a round when the budget allows.
    rounds : int
        Most rounds.
    """

    tolerance: float = 1e-3
    budget: float = 300.0
    max_grid: int = 64
    steps: int = 2000
    rounds: int = 4

    def __post_init__(self) -> None:
        for name in ("tolerance", "budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
                raise InputValueError(f"Refinement.{name} must be a finite number > 0, got {value!r}")
        for name in ("max_grid", "steps", "rounds"):
            check_whole(f"Refinement.{name}", getattr(self, name))

    def describe(self) -> dict[str, object]:
        """The settings, for reports."""
        return dict(vars(self))


class Refiner:
    """Plans refinement rounds for the trainer (see the module docstring).

    Parameters
    ----------
    refinement : Refinement
    estimate : callable
        ``estimate(model)`` -> an object with ``rel_l2`` and ``resolved`` (see
        :func:`pinnkan.estimate.estimate_error`).
    loss : PINNLoss
        Whose PDE points a round redistributes.
    """

    def __init__(self, refinement: Refinement, estimate: Callable[[nn.Module], Estimate], loss: PINNLoss) -> None:
        if not isinstance(refinement, Refinement):
            raise InputTypeError(f"refinement must be a Refinement, got {type(refinement).__name__}")
        self.refinement = refinement
        self.estimate = estimate
        self.loss = loss
        self.records: list[dict[str, object]] = []
        self.rounds: list[dict[str, object]] = []  # the planned stages of each round, as plain values
        self.last: Estimate | None = None
        self.outcome = ""

    def plan(self, model: nn.Module, history: History, seconds: float, steps: int) -> list[Stage | ModelChange]:
        """The next round's stages, or an empty list when refinement ends (``outcome`` says why)."""
        estimate = self.estimate(model)
        self.last = estimate
        record: dict[str, object] = {
            "step": steps,
            "seconds": round(seconds, 1),
            "pde_residual": _pde_residual(history, self.loss),
            "error_estimate": float(estimate.rel_l2),
            "resolved": bool(estimate.resolved),
        }
        self.records.append(record)
        settings = self.refinement
        previous = [float(r["error_estimate"]) for r in self.records[:-1]]  # type: ignore[arg-type]
        per_step = seconds / max(steps, 1)
        remaining = settings.budget - seconds
        if estimate.rel_l2 <= settings.tolerance:
            self.outcome = f"tolerance {settings.tolerance:g} met (estimated error {estimate.rel_l2:.2e})"
        elif len(self.rounds) >= settings.rounds:
            self.outcome = f"stopped after {len(self.rounds)} rounds (the most allowed)"
        elif previous and estimate.rel_l2 > previous[-1] / PAYS:
            self.outcome = (
                f"refinement stopped paying: the last round took the estimate from {previous[-1]:.2e} to "
                f"{estimate.rel_l2:.2e}"
            )
        elif remaining < 50 * per_step:
            self.outcome = f"budget of {settings.budget:g} s spent ({seconds:.0f} s trained)"
        else:
            round_ = self._round(model, remaining, per_step)
            record["action"] = round_["action"]
            self.rounds.append(round_)
            return self._stages(round_)
        record["action"] = "stop: " + self.outcome
        return []

    def planned(self) -> list[Stage | ModelChange]:
        """Every stage the rounds so far have added, in order (for a resumed trainer)."""
        return [stage for round_ in self.rounds for stage in self._stages(round_)]

    def _round(self, model: nn.Module, remaining: float, per_step: float) -> dict[str, object]:
        """Add PDE points by residual now; plan a finer grid and quasi-Newton steps."""
        settings = self.refinement
        note = RAR(every=1, add=pde_points_everywhere(self.loss), k=1.0, c=1.0).apply(self.loss, model, self.loss.rng)
        actions = [note]
        grid = None
        kan = _kan(model)
        if kan is not None and kan.grid_size * 2 <= settings.max_grid:
            grid = kan.grid_size * 2
            actions.append(f"grid G={kan.grid_size} -> {grid}")
        params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        if grid is not None and kan is not None:
            params = int(params * (grid + kan.spline_order) / (kan.grid_size + kan.spline_order))
        # A round's steps cost more than earlier ones: twice the points, and dense BFGS grows with
        # the parameters squared.
        affordable = int(0.8 * remaining / (3.0 * per_step))
        steps = max(1, min(settings.steps, affordable))
        dense = params <= _DENSE_LIMIT
        actions.append(f"{'BFGS' if dense else 'L-BFGS'} {steps} steps")
        return {"action": "; ".join(actions), "grid": grid, "steps": steps, "dense": dense}

    @staticmethod
    def _stages(round_: Mapping[str, object]) -> list[Stage | ModelChange]:
        stages: list[Stage | ModelChange] = []
        if round_["grid"] is not None:
            stages.append(ExtendGrid(grid_size=int(round_["grid"])))  # type: ignore[call-overload]
        steps = int(round_["steps"])  # type: ignore[call-overload]
        stages.append(BFGS(steps=steps, update=CHOSEN_UPDATE) if round_["dense"] else LBFGS(steps=steps))
        return stages

    def report(self) -> dict[str, object]:
        """The settings, every round with its estimate and residual, and why refinement ended."""
        return {**self.refinement.describe(), "rounds": [dict(r) for r in self.records], "outcome": self.outcome}

    def state_dict(self) -> dict[str, object]:
        return {"records": [dict(r) for r in self.records], "rounds": [dict(r) for r in self.rounds], "outcome": self.outcome}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        self.records = [dict(r) for r in state["records"]]  # type: ignore[attr-defined]
        self.rounds = [dict(r) for r in state["rounds"]]  # type: ignore[attr-defined]
        self.outcome = str(state["outcome"])


def _kan(model: nn.Module) -> KAN | None:
    for module in model.modules():
        if isinstance(module, KAN):
            return module
    return None


def _pde_residual(history: History, loss: PINNLoss) -> float | None:
    """The root of the last recorded mean-square PDE residual (summed over a system's terms)."""
    if not history.records:
        return None
    last = history.records[-1]
    squares = [last[name] for name in loss.info.pde if name in last]
    return math.sqrt(sum(squares)) if squares else None

