"""The composite loss: one named, weighted mean-square term per residual and condition.

``loss = sum_k w_k * mean(r_k^2)`` where ``r_k`` is the PDE residual on interior
points (term ``"pde"``) or a condition's residual on its part's points (term named
after the condition). An optional :class:`~pinnkan.regularization.Regularization`
adds the KAN penalties on the interior points as terms ``reg_*``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ..kan_tools.regularization import Regularization
from ..pde.conditions import Condition
from ..pde.fields import Field
from ..pde.geometry import INTERIOR, Sampler, Sobol
from ..pde.problem import Problem

__all__ = ["Points", "PointSet", "sample_points", "CompositeLoss"]

Model = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class Points:
    """How many collocation points to draw, and how.

    Parameters
    ----------
    interior : int
        Points for the PDE residual.
    boundary : int
        Points for each condition's loss term.
    sampler : Sampler
        Unit-cube point generator (scrambled Sobol by default).
    """

    interior: int = 2000
    boundary: int = 200
    sampler: Sampler = Sobol()

    def __post_init__(self) -> None:
        for name in ("interior", "boundary"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Points.{name} must be a positive int, got {value!r}")
        if not isinstance(self.sampler, Sampler):
            raise TypeError(f"Points.sampler must be a Sampler, got {type(self.sampler).__name__}")


@dataclass(frozen=True)
class PointSet:
    """Points of one part, with outward normals where the part is a boundary."""

    points: torch.Tensor  # (N, d)
    normals: torch.Tensor | None  # (N, d)


def sample_points(
    problem: Problem,
    conditions: tuple[Condition, ...],
    points: Points,
    *,
    rng: np.random.Generator,
    dtype: torch.dtype,
    device: torch.device | str | None = None,
) -> dict[str, PointSet]:
    """Draw the interior points and the points of every condition's part.

    Returns
    -------
    dict
        ``"interior"`` and each condition's part name -> :class:`PointSet`.
    """
    domain = problem.domain
    interior = domain.sample(INTERIOR, points.interior, sampler=points.sampler, rng=rng)
    sets = {INTERIOR: _point_set(interior, None, dtype, device)}
    for condition in conditions:
        if condition.part in sets:
            continue
        xs = domain.sample(condition.part, points.boundary, sampler=points.sampler, rng=rng)
        normals = domain.normal(condition.part, xs)
        sets[condition.part] = _point_set(xs, normals, dtype, device)
    return sets


def _point_set(
    xs: np.ndarray, normals: np.ndarray | None, dtype: torch.dtype, device: torch.device | str | None
) -> PointSet:
    points = torch.as_tensor(xs, dtype=dtype, device=device)
    if normals is None:
        return PointSet(points, None)
    return PointSet(points, torch.as_tensor(normals, dtype=dtype, device=device))


class CompositeLoss:
    """Weighted sum of named mean-square terms.

    Parameters
    ----------
    problem : Problem
        Supplies the residual, coordinates and outputs.
    conditions : tuple of Condition
        Conditions enforced through the loss (those not built into the model).
    point_sets : mapping
        Output of :func:`sample_points`.
    weights : mapping of str to float, optional
        Weight of each term by name; unnamed terms weigh 1.
    max_order : int, optional
        Highest derivative order the model supports (see :class:`~pinnkan.fields.Field`).
    regularization : Regularization, optional
        KAN penalties added as terms ``reg_*``, weighted by their own weights
        unless ``weights`` names them.
    """

    def __init__(
        self,
        problem: Problem,
        conditions: tuple[Condition, ...],
        point_sets: Mapping[str, PointSet],
        *,
        weights: Mapping[str, float] | None = None,
        max_order: int | None = None,
        regularization: Regularization | None = None,
    ) -> None:
        if regularization is not None and not isinstance(regularization, Regularization):
            raise TypeError(f"regularization must be a Regularization, got {type(regularization).__name__}")
        self.problem = problem
        self.regularization = regularization
        self.conditions = conditions
        self.point_sets = dict(point_sets)
        self.max_order = max_order
        missing = [c.part for c in conditions if c.part not in self.point_sets]
        if INTERIOR not in self.point_sets or missing:
            raise ValueError(f"point sets lack parts {[INTERIOR, *missing]}; use sample_points()")
        self.weights = dict(weights or {})
        for name, w in self.weights.items():
            if not (isinstance(w, (int, float)) and np.isfinite(w) and w >= 0):
                raise ValueError(f"weight of {name!r} must be a finite number >= 0, got {w!r}")

    def field(self, model: Model, points: torch.Tensor) -> Field:
        """A :class:`Field` of ``model`` at ``points`` for this problem."""
        return Field(
            model,
            points,
            self.problem.coordinates,
            self.problem.outputs,
            max_order=self.max_order,
        )

    def terms(self, model: Model) -> dict[str, torch.Tensor]:
        """Unweighted mean-square value of every term, name -> scalar tensor."""
        values = {}
        interior = self.field(model, self.point_sets[INTERIOR].points)
        for name, r in self.problem.residuals(interior).items():
            values[name] = torch.mean(r**2)
        for condition in self.conditions:
            point_set = self.point_sets[condition.part]
            field = self.field(model, point_set.points)
            residual = condition.residual(field, point_set.normals)
            values[condition.name] = torch.mean(residual**2)
        if self.regularization is not None and self.regularization.active:
            values.update(self.regularization.terms(model, self.point_sets[INTERIOR].points))
        unknown = set(self.weights) - set(values)
        if unknown:
            raise ValueError(f"weights name unknown loss terms {sorted(unknown)}; terms are {sorted(values)}")
        return values

    def __call__(self, model: Model) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and the unweighted terms."""
        terms = self.terms(model)
        defaults = self.regularization.weights if self.regularization is not None else {}
        total = sum(self.weights.get(name, defaults.get(name, 1.0)) * value for name, value in terms.items())
        return total, terms  # type: ignore[return-value]
