"""A PDE problem: domain, residual, conditions, coefficients, and what its answer is checked against.

A problem checks itself when it is made: its conditions' parts and outputs must
exist, and the residual and every condition are evaluated once on a few points
with a smooth stand-in for the network, so that a misspelt derivative, an
undeclared coefficient or a residual of the wrong shape fails here, before any
training, with the fix named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .coefficients import Coefficient, check_coefficients
from .conditions import AtPoints, Batch, Condition, Coordinates, OnPart, PeriodicPairs
from .fields import Field, check_name
from .geometry import Domain, SpaceTime
from .transforms import OutputTransform

if TYPE_CHECKING:
    from ..reference.grid import GridSolution

__all__ = ["Problem", "Residual", "PDE_TERM"]

Residual = Callable[[Field], "torch.Tensor | Mapping[str, torch.Tensor]"]
Exact = Callable[[Coordinates], "torch.Tensor | Mapping[str, torch.Tensor]"]

# Name of the loss term of a residual that returns a single tensor.
PDE_TERM = "pde"


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
        ``residual(f) -> tensor (N,)``, or for systems a mapping of names to such
        tensors (``{"momentum_x": ..., "continuity": ...}``), that vanishes where the
        PDE holds, written against the :class:`~pinnkan.pde.fields.Field` ``f``:
        ``lambda f: f.u_t - f.alpha * f.u_xx``.
    conditions : sequence of Condition
        Boundary, initial, periodic and data conditions.
    outputs : sequence of str
        Names of the unknowns, ``("u",)`` by default; ``("u", "v", "p")`` for a system.
    coefficients : mapping of str to Coefficient or float
        Named coefficients the residual reads as ``f.<name>``; a
        :class:`~pinnkan.pde.coefficients.Coefficient` with ``trainable=True`` is learned.
    hard_constraint : OutputTransform, optional
        Conditions built into the model's output instead of the loss.
    exact : callable, optional
        Exact solution: coordinates -> (N,) tensor, or (N, m) / a mapping by output name for systems.
    reference : callable, optional
        ``reference() -> GridSolution`` from a finite-difference solver.
    description : str
        One line shown by ``pinnkan list``.
    reference_points : int
        Grid points per coordinate when the exact solution serves as the reference.
    reference_error : float, optional
        The finite-difference reference's own relative L2 error, as measured against
        the exact solution or a finer solve (recorded in ``report.json``; 0 for an
        exact reference). None: not stated.
    parameters : mapping of str to value
        The values the problem was built with (``build(**parameters)`` of its file);
        recorded in ``report.json``.
    """

    name: str
    domain: Domain
    residual: Residual
    conditions: Sequence[Condition] = ()
    outputs: Sequence[str] = ("u",)
    coefficients: Mapping[str, Coefficient | float] = field(default_factory=dict)
    hard_constraint: OutputTransform | None = None
    exact: Exact | None = None
    reference: Callable[[], GridSolution] | None = None
    description: str = ""
    reference_points: int = 101
    reference_error: float | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a Problem needs a non-empty name")
        if not isinstance(self.domain, Domain):
            raise TypeError(
                f"domain must be a Domain (Interval, Box, Disk, Polygon, a CSG of them, SpaceTime), "
                f"got {type(self.domain).__name__}"
            )
        if not callable(self.residual):
            raise TypeError("residual must be a function of the field, e.g. lambda f: f.u_t - f.u_xx")
        outputs = (self.outputs,) if isinstance(self.outputs, str) else tuple(self.outputs)
        if not outputs:
            raise ValueError("a Problem needs at least one output, e.g. outputs=('u',)")
        for name in outputs:
            check_name("output", name)
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(self, "coefficients", check_coefficients(self.coefficients))
        object.__setattr__(self, "conditions", tuple(self.conditions))
        for condition in self.conditions:
            self._check_condition(condition)
        if self.hard_constraint is not None:
            self._check_transform(self.hard_constraint)
        if self.exact is not None and not callable(self.exact):
            raise TypeError("exact must be a function of the coordinates returning a tensor")
        if self.reference is not None and not callable(self.reference):
            raise TypeError("reference must be a function returning a GridSolution")
        if self.reference_error is not None:
            if isinstance(self.reference_error, bool) or not isinstance(self.reference_error, (int, float)):
                raise TypeError(f"reference_error must be a number (a relative L2 error), got {self.reference_error!r}")
            if not (0.0 <= self.reference_error < 1.0):
                raise ValueError(f"reference_error is a relative L2 error in [0, 1), got {self.reference_error!r}")
        if self.reference is None and self.exact is not None and self.reference_error is None:
            object.__setattr__(self, "reference_error", 0.0)  # the exact solution is the reference
        object.__setattr__(self, "parameters", dict(self.parameters))
        object.__setattr__(self, "_term_groups", _probe(self))

    @property
    def coordinates(self) -> tuple[str, ...]:
        """The domain's coordinate names."""
        return self.domain.coordinates

    @property
    def time(self) -> str | None:
        """The time coordinate, or None for a stationary problem."""
        return self.domain.time if isinstance(self.domain, SpaceTime) else None

    @property
    def term_groups(self) -> dict[str, tuple[str, ...]]:
        """Loss-term names of the residual (key ``"pde"``) and of each condition (key: its name)."""
        return dict(self._term_groups)  # type: ignore[attr-defined]

    @property
    def term_names(self) -> tuple[str, ...]:
        """Every loss-term name, the residual's first."""
        return tuple(n for group in self._term_groups.values() for n in group)  # type: ignore[attr-defined]

    @property
    def trainable_coefficients(self) -> tuple[str, ...]:
        """Names of the coefficients learned from data."""
        return tuple(n for n, c in self.coefficients.items() if c.trainable)  # type: ignore[union-attr]

    @property
    def has_reference(self) -> bool:
        """Whether there is something to compare with (exact solution or FD reference)."""
        return self.exact is not None or self.reference is not None

    def field(self, model: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, **options: object) -> Field:
        """A :class:`Field` of ``model`` at ``points`` with this problem's names (options go to Field)."""
        return Field(model, points, self.coordinates, self.outputs, time=self.time, **options)  # type: ignore[arg-type]

    def residuals(self, field: Field) -> dict[str, torch.Tensor]:
        """Evaluate the residual and check it: name -> (N,) tensor (``"pde"`` for a single one)."""
        try:
            result = self.residual(field)
        except RuntimeError as err:
            if "numpy" not in str(err):
                raise
            raise TypeError(
                "the residual called numpy on the field; write it with torch functions (use torch.sin, not numpy.sin)"
            ) from None
        if isinstance(result, Mapping):
            terms = dict(result)
            if not terms:
                raise ValueError("the residual returned an empty mapping; return at least one named residual")
        else:
            terms = {PDE_TERM: result}
        n = field.n
        for name, value in terms.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"residual names must be identifiers such as 'momentum_x', got {name!r}")
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"residual {name!r} returned {type(value).__name__}; return a torch tensor "
                    f"built from the field, e.g. f.u_t - f.u_xx"
                )
            if value.shape == (n, 1):
                terms[name] = value = value[:, 0]
            if value.ndim == 2 and value.shape[0] == n and name == PDE_TERM:
                raise ValueError(
                    f"the residual returned shape {tuple(value.shape)}; for a system return a dict of "
                    f"named residuals, one value per point each, e.g. {{'momentum_x': ..., 'continuity': ...}}"
                )
            if value.shape != (n,):
                raise ValueError(
                    f"residual {name!r} has shape {tuple(value.shape)} for {n} points; it must "
                    f"return one value per point, shape ({n},)"
                )
        return terms

    def exact_values(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """The exact solution at numpy points (N, d), output name -> (N,) float64."""
        if self.exact is None:
            raise ValueError(f"problem {self.name!r} has no exact solution")
        tensor = torch.as_tensor(points, dtype=torch.float64)
        coords = {name: tensor[:, i] for i, name in enumerate(self.coordinates)}
        with torch.no_grad():
            result = self.exact(coords)
        return _named_columns(result, self.outputs, points.shape[0], "the exact solution")

    def _check_condition(self, condition: object) -> None:
        if not isinstance(condition, Condition):
            raise TypeError(
                f"conditions must be Condition objects (Dirichlet, Neumann, Robin, Periodic, Initial, "
                f"InitialVelocity, Observations), got {type(condition).__name__}"
            )
        label = f"condition {condition.name!r}"
        output = condition.output
        if output is not None and output not in self.outputs:
            raise ValueError(f"{label} is on output {output!r}, which the problem does not have; outputs are {self.outputs}")
        location = condition.location
        if isinstance(location, OnPart):
            part = location.part
            if isinstance(part, str) and part not in self.domain.part_names:
                raise ValueError(
                    f"{label} is on part {part!r}, which the domain does not have; use one of {self.domain.part_names}"
                    + (" (a time-dependent problem needs a SpaceTime domain)" if part == "initial" else "")
                )
        elif isinstance(location, PeriodicPairs):
            if location.coordinate == self.time:
                raise ValueError(f"{label}: time cannot be periodic; give a space coordinate")
            outputs = getattr(condition, "outputs", None) or ()
            for name in outputs:
                if name not in self.outputs:
                    raise ValueError(f"{label} is on output {name!r}; outputs are {self.outputs}")
            try:
                self.domain.periodic_pairs(location.coordinate, 1, rng=np.random.default_rng(0))
            except ValueError as err:
                raise ValueError(f"{label}: {err}") from None
        elif isinstance(location, AtPoints):
            points = location.points
            if points.shape[1] != self.domain.dim:
                raise ValueError(
                    f"{label}: points have {points.shape[1]} columns; the domain has coordinates {self.coordinates}"
                )
            outside = ~self.domain.inside(points)
            if outside.any():
                first = points[np.argmax(outside)].tolist()
                raise ValueError(
                    f"{label}: {int(outside.sum())} of {len(points)} points lie outside the domain (first: {first}); "
                    f"drop them or fix the coordinates' order {self.coordinates}"
                )
            columns = location.values.shape[1]
            if columns != 1 and columns != len(self.outputs):
                raise ValueError(f"{label}: values have {columns} columns; give one, or one per output {self.outputs}")
            if columns == 1 and output is None and len(self.outputs) > 1:
                raise ValueError(f"{label}: name the observed output, e.g. output={self.outputs[0]!r}")

    def _check_transform(self, transform: object) -> None:
        if not isinstance(transform, OutputTransform):
            raise TypeError(f"hard_constraint must be an OutputTransform or HardConstraint, got {type(transform).__name__}")
        known = set(self.domain.part_names) | {c.name for c in self.conditions}
        for part in transform.parts:
            if part not in known:
                raise ValueError(
                    f"the hard constraint names part {part!r}; the domain has {self.domain.part_names} "
                    f"and the conditions are {sorted(c.name for c in self.conditions)}"
                )


def condition_points(domain: Domain, condition: Condition, n: int, rng: np.random.Generator) -> Batch:
    """A batch of ``n`` points (float64) where ``condition`` holds, sampled with ``rng``."""
    location = condition.location
    if isinstance(location, OnPart):
        points, normals = domain.sample_boundary(location.part, n, rng=rng)
        return Batch(torch.as_tensor(points), torch.as_tensor(normals))
    if isinstance(location, PeriodicPairs):
        a, b = domain.periodic_pairs(location.coordinate, n, rng=rng)
        return Batch(torch.as_tensor(np.concatenate([a, b])))
    if isinstance(location, AtPoints):
        return Batch(torch.as_tensor(location.points[:n]), data=torch.as_tensor(location.values[:n]))
    raise TypeError(f"unknown condition location {type(location).__name__}")


def _probe(problem: Problem) -> dict[str, tuple[str, ...]]:
    """Evaluate the residual and every condition once with a smooth stand-in network.

    Returns the loss-term names of each group: ``"pde"`` for the residual, then
    each condition's name.
    """
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    dim, width = problem.domain.dim, len(problem.outputs)
    weight = torch.randn(dim, width, generator=generator, dtype=torch.float64)
    bias = torch.randn(width, generator=generator, dtype=torch.float64)

    def stand_in(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x @ weight + bias)

    coefficients = {n: c.initial for n, c in problem.coefficients.items()}  # type: ignore[union-attr]
    interior = torch.as_tensor(problem.domain.sample_interior(4, rng=rng))
    field = problem.field(stand_in, interior, coefficients=coefficients)
    groups = {PDE_TERM: tuple(_checked(f"the residual of problem {problem.name!r}", problem.residuals, field))}
    for condition in problem.conditions:
        if condition.name in groups:
            raise ValueError(f"two conditions are named {condition.name!r}; give one of them name=...")
        batch = condition_points(problem.domain, condition, 4, rng)
        field = problem.field(stand_in, batch.points, coefficients=coefficients)
        keys = _checked(f"condition {condition.name!r}", condition.residuals, field, batch)
        groups[condition.name] = tuple(condition.name if key == "" else key for key in keys)
    names = [n for group in groups.values() for n in group]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"loss term names must be distinct, got {repeated} more than once; give the conditions name=...")
    if problem.exact is not None:
        points = problem.domain.sample_interior(4, rng=rng)
        _checked("the exact solution", problem.exact_values, points)
    return groups


def _checked(what: str, evaluate: Callable[..., Mapping[str, object]], *args: object) -> Mapping[str, object]:
    """``evaluate(*args)``, with a user error's message prefixed by ``what`` (KeyError and AttributeError become ValueError)."""
    try:
        return evaluate(*args)
    except (KeyError, AttributeError) as err:
        raise ValueError(f"{what}: {err.args[0] if err.args else err}") from None
    except (TypeError, ValueError) as err:
        raise type(err)(f"{what}: {err}") from None


def _named_columns(result: object, outputs: tuple[str, ...], n: int, what: str) -> dict[str, np.ndarray]:
    if isinstance(result, Mapping):
        missing = [o for o in outputs if o not in result]
        if missing:
            raise ValueError(f"{what} lacks outputs {missing}; return a mapping with {outputs}")
        columns = {o: np.asarray(torch.as_tensor(result[o]), dtype=np.float64).reshape(-1) for o in outputs}
    else:
        array = np.asarray(torch.as_tensor(result), dtype=np.float64)
        if array.ndim == 1 and len(outputs) == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != len(outputs):
            raise ValueError(
                f"{what} returned shape {array.shape}; return (N,) for one output or (N, {len(outputs)}) / "
                f"a mapping by output name for {outputs}"
            )
        columns = {o: array[:, j] for j, o in enumerate(outputs)}
    for o, column in columns.items():
        if column.shape != (n,):
            raise ValueError(f"{what} gave {column.shape[0]} values of {o!r} for {n} points; give one per point")
    return columns
