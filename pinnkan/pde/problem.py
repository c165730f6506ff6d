"""A PDE problem: domain, residual, conditions, and what its answer is checked against."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..reference.grid import GridSolution
from .conditions import Condition, Coordinates, HardConstraint
from .fields import Field
from .geometry import Domain

__all__ = ["Problem", "Residual"]

Residual = Callable[[Field], "torch.Tensor | Mapping[str, torch.Tensor]"]


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything that defines a PDE problem, and nothing about how to solve it.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"heat1d"``.
    domain : Domain
        Where the PDE holds; its coordinates name the residual's derivatives.
    residual : callable
        ``residual(f) -> tensor (N,)`` (or a mapping of names to such tensors for
        systems) that vanishes where the PDE holds, written against the
        :class:`~pinnkan.fields.Field` ``f``: ``lambda f: f.u_t - 0.4 * f.u_xx``.
    conditions : sequence of Condition
        Boundary and initial conditions enforced through loss terms.
    outputs : sequence of str
        Names of the unknowns, ``("u",)`` by default.
    hard_constraint : HardConstraint, optional
        Conditions built into the model's output instead of the loss.
    exact : callable, optional
        Exact solution, coordinates -> (N,) tensor (single output).
    reference : callable, optional
        ``reference() -> GridSolution`` from a finite-difference solver.
    description : str
        One line shown by ``pinnkan list``.
    reference_points : int
        Grid points per coordinate when the exact solution serves as the reference.
    """

    name: str
    domain: Domain
    residual: Residual
    conditions: Sequence[Condition] = ()
    outputs: Sequence[str] = ("u",)
    hard_constraint: HardConstraint | None = None
    exact: Callable[[Coordinates], torch.Tensor] | None = None
    reference: Callable[[], GridSolution] | None = None
    description: str = ""
    reference_points: int = 101

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a Problem needs a non-empty name")
        if not isinstance(self.domain, Domain):
            raise TypeError(
                f"domain must be a Domain (Interval, Box, SpaceTime), got {type(self.domain).__name__}"
            )
        if not callable(self.residual):
            raise TypeError("residual must be a function of the field, e.g. lambda f: f.u_t - f.u_xx")
        object.__setattr__(self, "conditions", tuple(self.conditions))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        for condition in self.conditions:
            if not isinstance(condition, Condition):
                raise TypeError(
                    f"conditions must be Condition objects (Dirichlet, Neumann, Initial), "
                    f"got {type(condition).__name__}"
                )
            if condition.part not in self.domain.parts:
                raise ValueError(
                    f"condition {condition.name!r} is on part {condition.part!r}, which the "
                    f"domain does not have; use one of {self.domain.parts}"
                )
        names = [c.name for c in self.conditions]
        if len(set(names)) != len(names) or "pde" in names:
            raise ValueError(f"condition names must be distinct and not 'pde', got {names}")
        if self.hard_constraint is not None:
            for part in self.hard_constraint.parts:
                if part not in self.domain.parts:
                    raise ValueError(
                        f"the hard constraint names part {part!r}; the domain has {self.domain.parts}"
                    )
        if self.exact is not None and len(self.outputs) != 1:
            raise ValueError("an exact solution is supported for single-output problems only")

    @property
    def coordinates(self) -> tuple[str, ...]:
        return self.domain.coordinates

    @property
    def has_reference(self) -> bool:
        """Whether there is something to compare with (exact solution or FD reference)."""
        return self.exact is not None or self.reference is not None

    def residuals(self, field: Field) -> dict[str, torch.Tensor]:
        """Evaluate the residual and check it: name -> (N,) tensor (``"pde"`` for one)."""
        result = self.residual(field)
        terms = dict(result) if isinstance(result, Mapping) else {"pde": result}
        n = field.points.shape[0]
        for name, value in terms.items():
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"residual {name!r} returned {type(value).__name__}; return a torch tensor "
                    f"built from the field, e.g. f.u_t - f.u_xx"
                )
            if value.shape == (n, 1):
                terms[name] = value = value[:, 0]
            if value.shape != (n,):
                raise ValueError(
                    f"residual {name!r} has shape {tuple(value.shape)} for {n} points; it must "
                    f"return one value per point, shape ({n},)"
                )
        return terms

    def reference_solution(self) -> GridSolution:
        """The solution to compare against: the FD reference, else the exact one on a grid."""
        if self.reference is not None:
            grid = self.reference()
            if not isinstance(grid, GridSolution):
                raise TypeError(f"{self.name}: reference() must return a GridSolution")
            if grid.axes != self.coordinates:
                raise ValueError(
                    f"{self.name}: reference axes {grid.axes} differ from the domain's "
                    f"coordinates {self.coordinates}"
                )
            return grid
        if self.exact is None:
            raise ValueError(
                f"problem {self.name!r} has neither an exact solution nor a reference; "
                f"give it exact=... or reference=... to compare"
            )
        lo, hi = self.domain.bounds()
        coords = tuple(np.linspace(a, b, self.reference_points) for a, b in zip(lo, hi))
        return GridSolution.from_function(self.exact_numpy, self.coordinates, coords)

    def exact_numpy(self, points: np.ndarray) -> np.ndarray:
        """The exact solution at numpy points (N, d), in float64."""
        if self.exact is None:
            raise ValueError(f"problem {self.name!r} has no exact solution")
        tensor = torch.as_tensor(points, dtype=torch.float64)
        coords = {name: tensor[:, i] for i, name in enumerate(self.coordinates)}
        return torch.as_tensor(self.exact(coords)).reshape(-1).numpy()
