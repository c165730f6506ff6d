"""A PDE problem: domain, residual, conditions, coefficients, and what its answer is checked against.

A problem checks itself when it is made: its conditions' parts and outputs must
exist, and the residual, every condition, the hard constraint and the exact
solution are evaluated once on a few points with a smooth stand-in for the
network, so that a misspelt derivative, an undeclared coefficient, numpy on a
tensor, a function of the wrong shape, a residual that does not depend on the
solution or a hard constraint that misses a condition it claims fails here,
before any training, with the fix and the line of the user's code named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError
from ..reference.grid import GridSolution
from ..reference.readers import ReferenceFile
from ..reference.scattered import ScatteredSolution
from .coefficients import Coefficient, check_coefficients
from .conditions import Batch, Condition, Coordinates, Dirichlet
from .fields import Field, check_name, coordinate_dict
from .geometry import Domain, SpaceTime, Where
from .transforms import HardConstraint, OutputTransform
from .user_code import call_user, describe_location, kind_of

__all__ = ["Problem", "Residual", "PDE_TERM"]

_DISTANCE = "the hard constraint's distance function"

Residual = Callable[[Field], "torch.Tensor | Mapping[str, torch.Tensor]"]
Exact = Callable[[Coordinates], "torch.Tensor | Mapping[str, torch.Tensor]"]

T = TypeVar("T")

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
    reference : callable, solution, path or ReferenceFile, optional
        What to compare with when the exact solution is not known:
        ``reference() -> GridSolution`` from a finite-difference solver, a
        :class:`~pinnkan.reference.grid.GridSolution` or
        :class:`~pinnkan.reference.scattered.ScatteredSolution`, or a file
        (``"solution.vtu"`` or :class:`~pinnkan.reference.readers.ReferenceFile` with a
        mapping of its fields to the outputs), read when the run compares.
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
    reference: Callable[[], GridSolution | ScatteredSolution] | GridSolution | ScatteredSolution | ReferenceFile | None = None
    description: str = ""
    reference_points: int = 101
    reference_error: float | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_problem_name(self.name)
        if not isinstance(self.domain, Domain):
            raise InputTypeError(
                f"domain must be a Domain (Interval, Box, Disk, Polygon, a CSG of them, SpaceTime), "
                f"got {type(self.domain).__name__}"
            )
        if not callable(self.residual):
            raise InputTypeError("residual must be a function of the field, e.g. lambda f: f.u_t - f.u_xx")
        object.__setattr__(self, "outputs", _output_names(self.outputs))
        object.__setattr__(self, "coefficients", check_coefficients(self.coefficients))
        object.__setattr__(self, "conditions", _condition_tuple(self.conditions))
        for condition in self.conditions:
            self._check_condition(condition)
        if self.hard_constraint is not None:
            self._check_transform(self.hard_constraint)
        if self.exact is not None and not callable(self.exact):
            raise InputTypeError("exact must be a function of the coordinates returning a tensor")
        if isinstance(self.reference, (str, os.PathLike)):
            object.__setattr__(self, "reference", ReferenceFile(self.reference))
        if self.reference is not None and not (
                callable(self.reference) or isinstance(self.reference, (GridSolution, ScatteredSolution, ReferenceFile))):
            raise InputTypeError(
                "reference must be a function returning a GridSolution, a GridSolution or ScatteredSolution, or a "
                f"file (a path or ReferenceFile), got {type(self.reference).__name__}"
            )
        if self.reference_error is not None:
            if isinstance(self.reference_error, bool) or not isinstance(self.reference_error, (int, float)):
                raise InputTypeError(f"reference_error must be a number (a relative L2 error), got {self.reference_error!r}")
            if not (0.0 <= self.reference_error < 1.0):
                raise InputValueError(f"reference_error is a relative L2 error in [0, 1), got {self.reference_error!r}")
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
        result = call_user("the residual", self.residual, field)
        if isinstance(result, Mapping):
            terms = dict(result)
            if not terms:
                raise InputValueError("the residual returned an empty mapping; return at least one named residual")
        else:
            terms = {PDE_TERM: result}
        n = field.n
        for name, value in terms.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise InputValueError(f"residual names must be identifiers such as 'momentum_x', got {name!r}")
            if not isinstance(value, torch.Tensor):
                raise InputTypeError(
                    f"residual {name!r} returned {kind_of(value)}; return a torch tensor "
                    f"built from the field, e.g. f.u_t - f.u_xx"
                )
            if value.shape == (n, 1):
                terms[name] = value = value[:, 0]
            if value.ndim == 2 and value.shape[0] == n and name == PDE_TERM:
                raise InputValueError(
                    f"the residual returned shape {tuple(value.shape)}; for a system return a dict of "
                    f"named residuals, one value per point each, e.g. {{'momentum_x': ..., 'continuity': ...}}"
                )
            if value.shape != (n,):
                raise InputValueError(
                    f"residual {name!r} has shape {tuple(value.shape)} for {n} points; it must "
                    f"return one value per point, shape ({n},)"
                )
        return terms

    def exact_values(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """The exact solution at numpy points (N, d), output name -> (N,) float64."""
        if self.exact is None:
            raise InputValueError(f"problem {self.name!r} has no exact solution")
        tensor = torch.as_tensor(points, dtype=torch.float64)
        coords = {name: tensor[:, i] for i, name in enumerate(self.coordinates)}
        with torch.no_grad():
            result = call_user("the exact solution", self.exact, coords, runtime_errors=True)
        return _named_columns(result, self.outputs, points.shape[0], "the exact solution")

    def _check_condition(self, condition: object) -> None:
        if not isinstance(condition, Condition):
            raise InputTypeError(
                f"conditions must be Condition objects (Dirichlet, Neumann, Robin, Periodic, Initial, "
                f"InitialVelocity, Observations), got {type(condition).__name__}"
            )
        label = f"condition {condition.name!r}"
        output = condition.output
        if output is not None and output not in self.outputs:
            raise InputValueError(f"{label} is on output {output!r}, which the problem does not have; outputs are {self.outputs}")
        condition.location.check(self.domain, condition, self.outputs)

    def _check_transform(self, transform: object) -> None:
        if not isinstance(transform, OutputTransform):
            raise InputTypeError(f"hard_constraint must be an OutputTransform or HardConstraint, got {type(transform).__name__}")
        known = set(self.domain.part_names) | {c.name for c in self.conditions}
        for part in transform.parts:
            if isinstance(part, Where):
                self.domain.check_part(part)
            elif part not in known:
                raise InputValueError(
                    f"the hard constraint names part {part!r}; the domain has {self.domain.part_names} "
                    f"and the conditions are {sorted(c.name for c in self.conditions)}"
                )


def _check_problem_name(name: object) -> None:
    """A problem's name also names its run folder (``runs/<name>``): no path separators, no spaces."""
    if not isinstance(name, str) or not name:
        raise InputValueError(f"a Problem needs a non-empty name such as 'heat1d', got {name!r}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
        raise InputValueError(
            f"a Problem's name names its run folder: use letters, digits and _ . + - (no spaces or slashes), "
            f"starting with a letter or digit, e.g. 'heat1d'; got {name!r}"
        )


def _output_names(outputs: object) -> tuple[str, ...]:
    """The outputs as a tuple of checked names (one name may be given as a string)."""
    if isinstance(outputs, str):
        outputs = (outputs,)
    if not isinstance(outputs, (tuple, list)):
        raise InputTypeError(f"outputs must be a tuple of names such as ('u',) or ('u', 'v', 'p'), got {kind_of(outputs)}")
    if not outputs:
        raise InputValueError("a Problem needs at least one output, e.g. outputs=('u',)")
    for name in outputs:
        check_name("output", name)
    if len(set(outputs)) != len(outputs):
        raise InputValueError(f"outputs must have different names, got {tuple(outputs)}")
    return tuple(outputs)


def _condition_tuple(conditions: object) -> tuple[Condition, ...]:
    """The conditions as a tuple; a single condition, or something that is no sequence, is refused with the fix."""
    if isinstance(conditions, Condition):
        raise InputTypeError(
            f"conditions takes a list of conditions; put the {type(conditions).__name__} in one: conditions=[...]"
        )
    if not isinstance(conditions, (tuple, list)):
        raise InputTypeError(f"conditions must be a list of conditions, e.g. [Dirichlet('boundary', 0.0)], got {kind_of(conditions)}")
    return tuple(conditions)


def condition_points(domain: Domain, condition: Condition, n: int, rng: np.random.Generator) -> Batch:
    """A batch of ``n`` points (float64) where ``condition`` holds, sampled with ``rng`` (the first ``n`` of
    an observation's points)."""
    return condition.location.sample(domain, n, rng)


def _probe(problem: Problem) -> dict[str, tuple[str, ...]]:
    """Evaluate the residual, every condition, the hard constraint and the exact solution once.

    A smooth stand-in plays the network, so that a misspelt derivative, a function of
    the wrong shape or numpy on a tensor fails here, with the fix named. Returns the
    loss-term names of each group: ``"pde"`` for the residual, then each condition's name.
    """
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    dim, width = problem.domain.dim, len(problem.outputs)
    weight = torch.randn(dim, width, generator=generator, dtype=torch.float64).requires_grad_(True)
    bias = torch.randn(width, generator=generator, dtype=torch.float64)

    def stand_in(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x @ weight + bias)

    # Trainable coefficients as leaves too: a term may depend on them alone.
    coefficients = {
        n: torch.tensor(float(c.initial), dtype=torch.float64, requires_grad=c.trainable)  # type: ignore[union-attr]
        for n, c in problem.coefficients.items()
    }
    label = f"problem {problem.name!r}"
    interior = torch.as_tensor(problem.domain.sample_interior(4, rng=rng))
    field = problem.field(stand_in, interior, coefficients=coefficients)
    terms = _checked(label, problem.residuals, field)
    _check_dependence(label, terms, [weight, *(c for c in coefficients.values() if c.requires_grad)])
    groups = {PDE_TERM: tuple(terms)}
    for condition in problem.conditions:
        if condition.name in groups:
            raise InputValueError(f"two conditions are named {condition.name!r}; give one of them name=...")
        batch = _checked(f"condition {condition.name!r}", condition_points, problem.domain, condition, 4, rng)
        field = problem.field(stand_in, batch.points, coefficients=coefficients)
        keys = _checked(f"condition {condition.name!r}", condition.residuals, field, batch)
        groups[condition.name] = tuple(condition.name if key == "" else key for key in keys)
    names = [n for group in groups.values() for n in group]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InputValueError(f"loss term names must be distinct, got {repeated} more than once; give the conditions name=...")
    if problem.hard_constraint is not None:
        _check_constraint(problem, stand_in, coefficients, rng)
    if problem.exact is not None:
        points = problem.domain.sample_interior(4, rng=rng)
        _checked(label, problem.exact_values, points)
    return groups


def _check_dependence(label: str, terms: Mapping[str, torch.Tensor], leaves: Sequence[torch.Tensor]) -> None:
    """Every residual term must depend on the network (or a trainable coefficient), or training has nothing to do."""
    for name, value in terms.items():
        used = value.requires_grad and any(
            g is not None for g in torch.autograd.grad(value.sum(), leaves, allow_unused=True, retain_graph=True)
        )
        if not used:
            raise InputValueError(
                f"{label}: residual {name!r} does not depend on the solution; build it from the outputs "
                f"and their derivatives, e.g. f.u_t - f.u_xx"
            )


def _check_constraint(
    problem: Problem,
    network: Callable[[torch.Tensor], torch.Tensor],
    coefficients: Mapping[str, torch.Tensor],
    rng: np.random.Generator,
) -> None:
    """The hard constraint returns one value per point and output, and meets every condition it covers for any network."""
    transform = problem.hard_constraint
    assert transform is not None
    label = f"problem {problem.name!r}"

    def constrained(x: torch.Tensor) -> torch.Tensor:
        return transform.apply(coordinate_dict(x, problem.coordinates), network(x))

    interior = torch.as_tensor(problem.domain.sample_interior(4, rng=rng)).requires_grad_(True)
    _checked(label, constrained, interior)
    option = "parts" if isinstance(transform, HardConstraint) else "covers"
    for condition in problem.conditions:
        if not transform.covers(condition):
            continue
        batch = condition_points(problem.domain, condition, 8, rng)
        field = problem.field(constrained, batch.points, coefficients=coefficients)
        residuals = _checked(f"condition {condition.name!r}", condition.residuals, field, batch)
        off = max(float(r.detach().abs().max()) for r in residuals.values())
        scale = 1.0 + max(float(field.value(o).detach().abs().max()) for o in problem.outputs)
        if isinstance(transform, HardConstraint) and isinstance(condition, Dirichlet):
            distance = call_user(_DISTANCE, transform.distance, coordinate_dict(batch.points, problem.coordinates))
            largest = float(torch.as_tensor(distance).detach().abs().max())
            if not largest <= 1e-6 * scale:
                raise InputValueError(
                    f"{label}: the hard constraint's distance function is not zero on the part of condition "
                    f"{condition.name!r}, which it claims (measured: up to {largest:.1e} on 8 of its points); make "
                    f"the distance vanish there (e.g. domain.part_distance(part)), or leave {condition.name!r} out "
                    f"of {option}"
                )
        if not off <= 1e-6 * scale:
            raise InputValueError(
                f"{label}: the hard constraint does not meet condition {condition.name!r}, which it covers "
                f"(its residual is {off:.1e} there for a random network); make the constraint meet it "
                f"(particular meeting the condition, distance zero on its part), or leave {condition.name!r} "
                f"out of {option} so that it stays in the loss"
            )


def _checked(what: str, evaluate: Callable[..., T], *args: object) -> T:
    """``evaluate(*args)``, with a user error's message prefixed by ``what``.

    KeyError and AttributeError become ValueError, and so does a RuntimeError raised in
    the user's code (at construction no engine falls back on it).
    """
    try:
        return evaluate(*args)
    except (KeyError, AttributeError) as err:
        raise InputValueError(f"{what}: {err.args[0] if err.args else err}") from err
    except (TypeError, ValueError) as err:
        raise type(err)(f"{what}: {err}") from err
    except RuntimeError as err:
        where = describe_location(err.__traceback__)
        if not where:
            raise
        raise InputValueError(f"{what}: {type(err).__name__} ({where}): {err}; fix the function there") from err


def _named_columns(result: object, outputs: tuple[str, ...], n: int, what: str) -> dict[str, np.ndarray]:
    if isinstance(result, Mapping):
        missing = [o for o in outputs if o not in result]
        if missing:
            raise InputValueError(f"{what} lacks outputs {missing}; return a mapping with {outputs}")
        columns = {o: _float_array(result[o], f"{what}'s {o!r}").reshape(-1) for o in outputs}
    else:
        array = _float_array(result, what)
        if array.ndim == 1 and len(outputs) == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != len(outputs):
            raise InputValueError(
                f"{what} returned shape {array.shape}; return (N,) for one output or (N, {len(outputs)}) / "
                f"a mapping by output name for {outputs}"
            )
        columns = {o: array[:, j] for j, o in enumerate(outputs)}
    for o, column in columns.items():
        if column.shape != (n,):
            raise InputValueError(f"{what} gave {column.shape[0]} values of {o!r} for {n} points; give one per point")
    return columns


def _float_array(values: object, what: str) -> np.ndarray:
    """``values`` (a tensor, array or number) as float64 numpy; a clear error for anything else."""
    if isinstance(values, (str, bytes)) or values is None:
        raise InputTypeError(f"{what} returned {kind_of(values)}; return a torch tensor of the coordinates, e.g. torch.sin(c['x'])")
    try:
        return np.asarray(torch.as_tensor(values).detach().cpu(), dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        raise InputTypeError(
            f"{what} returned {kind_of(values)}; return a torch tensor of the coordinates, e.g. torch.sin(c['x'])"
        ) from None
