"""Resampling during training: fresh points, and points that follow the residual.

Every ``every`` steps of a first-order stage (Adam), a strategy changes the
points the loss terms own:

* :class:`Resample` draws fresh points for every sampled term.
* :class:`RAD` (residual-based adaptive distribution) redraws the PDE points from a
  dense candidate set with probability ``p(x) ~ |r(x)|^k / mean |r|^k + c``
  (Wu, Zhu, Tan, Kartha & Lu 2023).
* :class:`RAR` (residual-based adaptive refinement) adds the ``add`` candidates
  with the largest residual ``|r(x)|`` to the PDE points (Lu, Meng, Mao & Karniadakis 2021),
  or, given ``k``, ``add`` candidates drawn with RAD's density (RAR-D, Wu et al. 2023).

Quasi-Newton stages never resample: their curvature estimates assume a fixed
objective. The points live in the loss's state, so resumed runs continue on them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..errors import InputValueError, whole
from .distributed import Group, shard

__all__ = ["AdaptivePoints", "Resampling", "Resample", "RAD", "RAR", "pde_points_everywhere"]


@runtime_checkable
class AdaptivePoints(Protocol):
    """What a resampling strategy needs of a loss (:class:`~pinnkan.training.losses.PINNLoss` offers it):
    its PDE points, fresh candidates from the domain, the residual's size at any points, and fresh points
    for every term. In a ``group`` of processes each holds its share of the points: a strategy changes
    this process's share, with densities and counts taken over all of them."""

    group: Group

    def pde_points(self) -> np.ndarray:
        """The PDE residual's current points (N, d), float64."""
        ...

    def set_pde_points(self, points: np.ndarray) -> None:
        """Train the PDE residual on ``points`` (N, d) from now on."""
        ...

    def sample_interior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` uniform random points of the domain."""
        ...

    def residual_size(self, model: nn.Module, points: np.ndarray) -> np.ndarray:
        """The PDE residual's size at ``points`` (N, d), (N,) float64."""
        ...

    def redraw(self, rng: np.random.Generator) -> int:
        """Fresh points for every sampled term; how many terms were redrawn."""
        ...


class Resampling(ABC):
    """A strategy that changes the loss terms' points every ``every`` steps from step ``start`` on."""

    every: int
    start: int

    def due(self, step: int) -> bool:
        """Whether to act after ``step`` (1-based)."""
        return step >= self.start and step % self.every == 0

    @abstractmethod
    def apply(self, loss: AdaptivePoints, model: nn.Module, rng: np.random.Generator) -> str:
        """Change the loss's points; return a short note of what changed."""

    def describe(self) -> dict[str, object]:
        """The strategy's settings, for reports."""
        return {"resampling": type(self).__name__, **vars(self)}


def _check_every(name: str, every: object) -> None:
    if not whole(every, 1):
        raise InputValueError(f"{name}.every must be a positive int (steps between resamplings), got {every!r}")


def _check_start(name: str, start: object) -> None:
    if not whole(start, 0):
        raise InputValueError(f"{name}.start must be an int >= 0 (the first step that may resample), got {start!r}")


def _check_density(name: str, k: object, c: object) -> None:
    if not (isinstance(k, (int, float)) and np.isfinite(k) and k >= 0):
        raise InputValueError(f"{name}.k must be a finite number >= 0, got {k!r}")
    if not (isinstance(c, (int, float)) and np.isfinite(c) and c >= 0) or (k == 0 and c == 0):
        raise InputValueError(f"{name}.c must be a finite number >= 0 (and k, c not both 0), got {c!r}")


def _draw_by_residual(
    loss: AdaptivePoints, model: nn.Module, pool: np.ndarray, n: int, k: float, c: float, rng: np.random.Generator
) -> np.ndarray:
    """Indices of ``n`` distinct candidates drawn with probability ``~ |r|^k / mean |r|^k + c``.

    With ``c = 0`` candidates of zero residual keep a vanishing share (1e-12 of the
    largest), so that ``n`` distinct ones can always be drawn.
    """
    size = loss.residual_size(model, pool) ** k
    total, count = loss.group.sum(torch.tensor([size.sum(), size.size], dtype=torch.float64)).tolist()
    density = size / max(total / count, np.finfo(float).tiny) + c  # the mean over every process's candidates
    density = np.maximum(density, 1e-12 * density.max() if density.max() > 0 else 1.0)
    return rng.choice(pool.shape[0], size=n, replace=False, p=density / density.sum())


def pde_points_everywhere(loss: AdaptivePoints) -> int:
    """How many PDE points the processes of the loss's group hold together."""
    return int(loss.group.sum(torch.tensor([float(loss.pde_points().shape[0])], dtype=torch.float64)).item())


def _check_candidates(name: str, candidates: object) -> None:
    if not whole(candidates, 1):
        raise InputValueError(f"{name}.candidates must be an int >= 1 (a multiple of the PDE points), got {candidates!r}")


@dataclass(frozen=True, kw_only=True)
class Resample(Resampling):
    """Fresh points for every sampled term (PDE and conditions) every ``every`` steps from step ``start``."""

    every: int
    start: int = 0

    def __post_init__(self) -> None:
        _check_every("Resample", self.every)
        _check_start("Resample", self.start)

    def apply(self, loss: AdaptivePoints, model: nn.Module, rng: np.random.Generator) -> str:
        count = loss.redraw(rng)
        return f"redrew the points of {count} terms"


@dataclass(frozen=True, kw_only=True)
class RAD(Resampling):
    """Residual-based adaptive distribution of the PDE points: ``p(x) ~ |r|^k / mean |r|^k + c``.

    Parameters
    ----------
    every : int
        Steps between redistributions.
    k : float
        Exponent ``>= 0`` (0 gives uniform sampling).
    c : float
        Uniform share ``>= 0`` (keeps some points everywhere).
    candidates : int
        Candidates per PDE point, drawn uniformly from the domain each time.
    start : int
        The first step that may redistribute (e.g. once a first solution has formed).
    """

    every: int = 500
    k: float = 1.0
    c: float = 1.0
    candidates: int = 10
    start: int = 0

    def __post_init__(self) -> None:
        _check_every("RAD", self.every)
        _check_start("RAD", self.start)
        _check_candidates("RAD", self.candidates)
        _check_density("RAD", self.k, self.c)

    def apply(self, loss: AdaptivePoints, model: nn.Module, rng: np.random.Generator) -> str:
        n = loss.pde_points().shape[0]
        pool = loss.sample_interior(n * self.candidates, rng)
        loss.set_pde_points(pool[_draw_by_residual(loss, model, pool, n, self.k, self.c, rng)])
        return f"redistributed {n} PDE points by residual"


@dataclass(frozen=True, kw_only=True)
class RAR(Resampling):
    """Residual-based adaptive refinement: add the ``add`` candidates with the largest ``|r|`` to the PDE points.

    With ``k`` given, the ``add`` points are drawn from the candidates with probability
    ``~ |r|^k / mean |r|^k + c`` instead (RAR-D): they favour large residuals without
    all landing in one spot.

    Parameters
    ----------
    every : int
        Steps between refinements.
    add : int
        Points added each time.
    candidates : int
        Candidates per current PDE point, drawn uniformly from the domain each time.
    max_points : int, optional
        Stop adding once the PDE term has this many points.
    start : int
        The first step that may add points (e.g. once a first solution has formed).
    k : float, optional
        Draw the added points with RAD's density of this exponent; None adds the largest.
    c : float
        Uniform share of that density (used with ``k``).
    """

    every: int = 500
    add: int = 100
    candidates: int = 10
    max_points: int | None = None
    start: int = 0
    k: float | None = None
    c: float = 1.0

    def __post_init__(self) -> None:
        _check_every("RAR", self.every)
        _check_start("RAR", self.start)
        _check_candidates("RAR", self.candidates)
        if not whole(self.add, 1):
            raise InputValueError(f"RAR.add must be a positive int, got {self.add!r}")
        if self.max_points is not None and not whole(self.max_points, 1):
            raise InputValueError(f"RAR.max_points must be a positive int or None, got {self.max_points!r}")
        if self.k is not None:
            _check_density("RAR", self.k, self.c)

    def apply(self, loss: AdaptivePoints, model: nn.Module, rng: np.random.Generator) -> str:
        current = loss.pde_points()
        added = self.add if self.max_points is None else min(self.add, self.max_points - pde_points_everywhere(loss))
        if added <= 0:
            return "kept the PDE points (at max_points)"
        start, stop = shard(added, loss.group)  # this process's share of the points added
        pool = loss.sample_interior(current.shape[0] * self.candidates, rng)
        room = min(stop - start, pool.shape[0])
        if self.k is None:
            chosen = np.argsort(loss.residual_size(model, pool))[pool.shape[0] - room :]
            where = "where the residual is largest"
        else:
            chosen = _draw_by_residual(loss, model, pool, room, self.k, self.c, rng)
            where = "drawn by residual"
        loss.set_pde_points(np.concatenate([current, pool[chosen]]))
        return f"added {added if loss.group.size > 1 else room} PDE points {where}"
