"""Boundary, initial, periodic and data conditions: where each applies and its residual there.

A condition says *where* it holds (a :class:`Location`: a part of the boundary, the
paired faces of a periodic coordinate, or fixed observation points) and *what*
holds there (its residuals, zero where it is met). The training layer turns each
location into a point source and each residual into a loss term, so a condition
never looks points up by name. Prescribed values are numbers or callables of the
coordinates by name (``lambda c: torch.sin(torch.pi * c["x"])``).

Examples
--------
>>> conditions = [
...     Initial(lambda c: torch.sin(torch.pi * c["x"])),   # u(x, t0) = sin(pi x)
...     Dirichlet("x_min", 0.0),                            # u = 0 at x = lo
...     Neumann("x_max", 0.0),                              # du/dn = 0 at x = hi
... ]
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError, whole
from .fields import Field, coordinate_dict
from .geometry import Domain, Sampler, Where
from .user_code import call_user, kind_of

__all__ = [
    "Batch",
    "Location",
    "OnPart",
    "PeriodicPairs",
    "AtPoints",
    "Condition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Initial",
    "InitialVelocity",
    "Observations",
    "evaluate",
]

Coordinates = Mapping[str, torch.Tensor]
Value = float | Callable[[Coordinates], torch.Tensor]
Part = str | Where


@dataclass(frozen=True)
class Batch:
    """The points a condition's residual is evaluated at.

    Attributes
    ----------
    points : torch.Tensor, shape (N, d)
    normals : torch.Tensor or None, shape (N, d)
        Outward unit normals, for points on the boundary.
    data : torch.Tensor or None, shape (N, m)
        Observed values, for observation points.
    """

    points: torch.Tensor
    normals: torch.Tensor | None = None
    data: torch.Tensor | None = None

    @staticmethod
    def joined(batches: Sequence[Batch]) -> Batch:
        """The points (normals, data) of ``batches`` one after the other."""
        return Batch(*(None if getattr(batches[0], key) is None else torch.cat([getattr(b, key) for b in batches])
                       for key in ("points", "normals", "data")))

    def slice(self, start: int, stop: int) -> Batch:
        """Points ``start`` to ``stop - 1`` with their normals and data."""
        return Batch(*(None if t is None else t[start:stop] for t in (self.points, self.normals, self.data)))


class Location(ABC):
    """Where a condition holds: how its points are drawn and what a problem must offer for them.

    This is the one place that knows each kind of location; the problem's checks, the
    training's point sources and every evaluation after training ask it.
    """

    #: Whether :meth:`sample` draws new points on every call (False for fixed observations).
    resamplable = True

    @abstractmethod
    def sample(self, domain: Domain, n: int, rng: np.random.Generator, sampler: Sampler | None = None) -> Batch:
        """``n`` points (float64, CPU) where the condition holds, with their normals or observed values."""

    @abstractmethod
    def check(self, domain: Domain, condition: Condition, outputs: tuple[str, ...]) -> None:
        """Raise ValueError naming the fix when ``condition`` cannot hold on ``domain`` with these outputs."""

    def rows(self, batch: Batch) -> int:
        """How many residual rows a condition gives on ``batch``: one per point."""
        return batch.points.shape[0]

    def part_of(self, batch: Batch, start: int, stop: int) -> Batch:
        """The points of ``batch`` that residual rows ``start`` to ``stop - 1`` are evaluated at."""
        return batch.slice(start, stop)

    def join(self, batches: Sequence[Batch]) -> Batch:
        """One batch of the rows of ``batches`` in order (the inverse of :meth:`part_of` over consecutive parts)."""
        return Batch.joined(batches)


@dataclass(frozen=True)
class OnPart(Location):
    """Sampled points of a named boundary part (``"x_min"``, ``"boundary"``, ``"initial"``) or a :class:`Where` part."""

    part: Part

    def sample(self, domain: Domain, n: int, rng: np.random.Generator, sampler: Sampler | None = None) -> Batch:
        points, normals = domain.sample_boundary(self.part, n, sampler=sampler, rng=rng)
        return Batch(torch.as_tensor(points), torch.as_tensor(normals))

    def check(self, domain: Domain, condition: Condition, outputs: tuple[str, ...]) -> None:
        if isinstance(self.part, str) and self.part not in domain.part_names:
            raise InputValueError(
                f"condition {condition.name!r} is on part {self.part!r}, which the domain does not have; use one of "
                f"{domain.part_names}" + (" (a time-dependent problem needs a SpaceTime domain)"
                                          if self.part == "initial" else "")
            )


@dataclass(frozen=True)
class PeriodicPairs(Location):
    """Pairs of points on the faces ``<coordinate>_min`` and ``<coordinate>_max`` that differ only in that coordinate.

    A batch holds the ``n`` points of the lower face followed by their ``n`` images.
    """

    coordinate: str

    def sample(self, domain: Domain, n: int, rng: np.random.Generator, sampler: Sampler | None = None) -> Batch:
        lower, upper = domain.periodic_pairs(self.coordinate, n, sampler=sampler, rng=rng)
        return Batch(torch.as_tensor(np.concatenate([lower, upper])))

    def rows(self, batch: Batch) -> int:
        """One residual row per pair."""
        return batch.points.shape[0] // 2

    def part_of(self, batch: Batch, start: int, stop: int) -> Batch:
        """Pairs ``start`` to ``stop - 1``: their lower points followed by their images."""
        half = batch.points.shape[0] // 2
        return Batch(torch.cat([batch.points[start:stop], batch.points[half + start : half + stop]]))

    def join(self, batches: Sequence[Batch]) -> Batch:
        halves = [b.points.shape[0] // 2 for b in batches]
        lower = [b.points[:h] for b, h in zip(batches, halves)]
        upper = [b.points[h:] for b, h in zip(batches, halves)]
        return Batch(torch.cat([*lower, *upper]))

    def check(self, domain: Domain, condition: Condition, outputs: tuple[str, ...]) -> None:
        label = f"condition {condition.name!r}"
        if self.coordinate == getattr(domain, "time", None):
            raise InputValueError(f"{label}: time cannot be periodic; give a space coordinate")
        for name in getattr(condition, "outputs", None) or ():
            if name not in outputs:
                raise InputValueError(f"{label} is on output {name!r}; outputs are {outputs}")
        try:
            domain.periodic_pairs(self.coordinate, 1, rng=np.random.default_rng(0))
        except ValueError as err:
            raise InputValueError(f"{label}: {err}") from None


@dataclass(frozen=True, eq=False)
class AtPoints(Location):
    """Fixed points with observed values: ``points`` (N, d) and ``values`` (N, m), float64.

    :meth:`sample` gives the first ``n`` of them, in their order, whatever the generator.
    """

    points: np.ndarray
    values: np.ndarray
    resamplable = False

    def sample(self, domain: Domain, n: int, rng: np.random.Generator, sampler: Sampler | None = None) -> Batch:
        return Batch(torch.as_tensor(self.points[:n]), data=torch.as_tensor(self.values[:n]))

    def check(self, domain: Domain, condition: Condition, outputs: tuple[str, ...]) -> None:
        label = f"condition {condition.name!r}"
        points = self.points
        if points.shape[1] != domain.dim:
            raise InputValueError(
                f"{label}: points have {points.shape[1]} columns; the domain has coordinates {domain.coordinates}"
            )
        outside = ~domain.inside(points)
        if outside.any():
            first = points[np.argmax(outside)].tolist()
            raise InputValueError(
                f"{label}: {int(outside.sum())} of {len(points)} points lie outside the domain (first: {first}); "
                f"drop them or fix the coordinates' order {domain.coordinates}"
            )
        columns = self.values.shape[1]
        if columns != 1 and columns != len(outputs):
            raise InputValueError(f"{label}: values have {columns} columns; give one, or one per output {outputs}")
        if columns == 1 and condition.output is None and len(outputs) > 1:
            raise InputValueError(f"{label}: name the observed output, e.g. output={outputs[0]!r}")


class Condition(ABC):
    """A condition on the solution: where it holds and its residuals there.

    Attributes
    ----------
    name : str
        Name of its loss term (terms ``<name>_<key>`` when it has several residuals). By
        default the kind and the part, and the output when one is named:
        ``dirichlet_lid_u``, ``initial``.
    location : Location
    output : str or None
        The output it constrains (None: the only one).
    """

    name: str
    location: Location
    output: str | None = None

    @abstractmethod
    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        """Residuals at the batch's points, key -> (N,) tensor; the key ``""`` names the condition itself."""


class _OnPartCondition(Condition):
    """A condition evaluated on points of one boundary part."""

    def __init__(self, part: Part, output: str | None, name: str | None, default_name: str) -> None:
        self.location = OnPart(_check_part(part))
        self.output = _check_output(output)
        # conditions on different outputs of one part (a cavity's u and v on the lid) get different names
        default_name = default_name if self.output is None else f"{default_name}_{self.output}"
        self.name = _check_term_name(name) if name is not None else default_name

    @property
    def part(self) -> Part:
        """The boundary part the condition holds on."""
        return self.location.part  # type: ignore[attr-defined]


class Dirichlet(_OnPartCondition):
    """Prescribed value on a part: ``u = g``.

    Parameters
    ----------
    part : str or Where
        Boundary part, e.g. ``"x_min"``, ``"boundary"``, or ``Where(lambda c: c["x"] < 0)``.
    value : float or callable
        ``g``, a number or a function of the coordinates (a mapping name -> (N,) tensor).
    output : str, optional
        Which output the condition applies to (the only one by default).
    name : str, optional
        Name of the loss term (``"dirichlet_<part>"`` by default).
    """

    def __init__(self, part: Part, value: Value = 0.0, *, output: str | None = None, name: str | None = None) -> None:
        super().__init__(part, output, name, f"dirichlet_{_part_name(part)}")
        self.value = _check_value(value, "value")

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        return {"": field.value(self.output) - evaluate(self.value, field)}


class Neumann(_OnPartCondition):
    """Prescribed outward normal derivative on a part: ``du/dn = h``.

    Parameters
    ----------
    part : str or Where
        Boundary part, e.g. ``"x_max"``.
    flux : float or callable
        ``h``, a number or a function of the coordinates.
    output, name
        As for :class:`Dirichlet` (name defaults to ``"neumann_<part>"``).
    """

    def __init__(self, part: Part, flux: Value = 0.0, *, output: str | None = None, name: str | None = None) -> None:
        if part == "initial":
            raise InputValueError("a Neumann condition needs a spatial boundary part, not 'initial'; use InitialVelocity for u_t")
        super().__init__(part, output, name, f"neumann_{_part_name(part)}")
        self.flux = _check_value(flux, "flux")

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        return {"": normal_derivative(field, batch, self.output) - evaluate(self.flux, field)}


class Robin(_OnPartCondition):
    """A mixed condition on a part: ``a u + b du/dn = g``.

    Parameters
    ----------
    part : str or Where
        Boundary part.
    a, b : float or callable
        Coefficients of the value and of the outward normal derivative.
    value : float or callable
        ``g``.
    output, name
        As for :class:`Dirichlet` (name defaults to ``"robin_<part>"``).
    """

    def __init__(
        self,
        part: Part,
        *,
        a: Value,
        b: Value,
        value: Value = 0.0,
        output: str | None = None,
        name: str | None = None,
    ) -> None:
        if part == "initial":
            raise InputValueError("a Robin condition needs a spatial boundary part, not 'initial'")
        super().__init__(part, output, name, f"robin_{_part_name(part)}")
        self.a = _check_value(a, "a")
        self.b = _check_value(b, "b")
        self.value = _check_value(value, "value")

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        u = field.value(self.output)
        dudn = normal_derivative(field, batch, self.output)
        return {"": evaluate(self.a, field) * u + evaluate(self.b, field) * dudn - evaluate(self.value, field)}


class Initial(Dirichlet):
    """Initial value: ``u(x, t0) = g(x)`` on the ``"initial"`` part of a space-time domain."""

    def __init__(self, value: Value = 0.0, *, output: str | None = None, name: str | None = None) -> None:
        super().__init__("initial", value, output=output, name=name)
        if name is None:
            self.name = "initial" if self.output is None else f"initial_{self.output}"


class InitialVelocity(_OnPartCondition):
    """Initial rate of change, for equations second order in time: ``u_t(x, t0) = v(x)``."""

    def __init__(self, value: Value = 0.0, *, output: str | None = None, name: str | None = None) -> None:
        super().__init__("initial", output, name, "initial_velocity")
        self.value = _check_value(value, "value")

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        if field.time is None:
            raise InputValueError("InitialVelocity needs a time coordinate; use a SpaceTime domain")
        return {"": field.d(field.output_name(self.output), field.time) - evaluate(self.value, field)}


class Periodic(Condition):
    """Periodicity in one space coordinate: ``d^k u(lo) = d^k u(hi)`` for ``k = 0 .. derivatives``.

    Parameters
    ----------
    coordinate : str
        The periodic coordinate, e.g. ``"x"``; the domain must be a box in it.
    outputs : sequence of str, optional
        The outputs made periodic (all of them by default).
    derivatives : int
        Highest derivative order matched across the faces (1: value and slope).
    name : str, optional
        Prefix of the loss terms (``"periodic_<coordinate>"`` by default): one term
        per output and order, ``<name>_<output>`` for values and ``<name>_<output>_<coordinate>...`` for derivatives.
    """

    def __init__(
        self,
        coordinate: str,
        *,
        outputs: Sequence[str] | None = None,
        derivatives: int = 1,
        name: str | None = None,
    ) -> None:
        if not isinstance(coordinate, str) or not coordinate:
            raise InputTypeError(f"Periodic takes the name of the periodic coordinate, e.g. Periodic('x'), got {coordinate!r}")
        if not whole(derivatives, 0):
            raise InputValueError(f"Periodic.derivatives must be an int >= 0 (1 matches value and slope), got {derivatives!r}")
        self.location = PeriodicPairs(coordinate)
        self.coordinate = coordinate
        self.outputs = None if outputs is None else tuple(_check_output(o) for o in outputs)
        self.derivatives = derivatives
        self.name = _check_term_name(name) if name is not None else f"periodic_{coordinate}"

    def _matched(self, outputs: Sequence[str]) -> list[tuple[str, int]]:
        chosen = self.outputs if self.outputs is not None else tuple(outputs)
        return [(o, k) for o in chosen for k in range(self.derivatives + 1)]

    def _key(self, output: str, order: int) -> str:
        return f"{self.name}_{output}" + (f"_{self.coordinate * order}" if order else "")

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        half = field.n // 2
        result = {}
        for output, order in self._matched(field.outputs):
            values = field.d(output, *([self.coordinate] * order))
            result[self._key(output, order)] = values[:half] - values[half:]
        return result


class Observations(Condition):
    """Measured values at given points (possibly noisy): ``u(x_i) = y_i``.

    Parameters
    ----------
    points : array-like, shape (N, d)
        Observation points, one column per coordinate in the domain's order.
    values : array-like, shape (N,) or (N, m)
        Observed values of ``output`` (or of every output, one column each, if ``output`` is None
        and the array has m columns).
    output : str, optional
        The observed output (the only one by default).
    name : str
        Name of the loss term.
    """

    def __init__(self, points: object, values: object, *, output: str | None = None, name: str = "data") -> None:
        pts = _finite_array(points, "points")
        vals = _finite_array(values, "values")
        if pts.ndim != 2 or pts.shape[0] < 1:
            raise InputValueError(f"Observations.points must have shape (N, d) with N >= 1, got {pts.shape}")
        if vals.ndim == 1:
            vals = vals[:, None]
        if vals.ndim != 2 or vals.shape[0] != pts.shape[0]:
            raise InputValueError(
                f"Observations.values must have one row per point: shape ({pts.shape[0]},) or "
                f"({pts.shape[0]}, m), got {vals.shape}"
            )
        if output is not None and vals.shape[1] != 1:
            raise InputValueError(f"Observations of output {output!r} take one value per point, got {vals.shape[1]} columns")
        self.location = AtPoints(pts, vals)
        self.output = _check_output(output)
        self.name = _check_term_name(name)

    @property
    def points(self) -> np.ndarray:
        """The observation points (N, d)."""
        return self.location.points  # type: ignore[attr-defined]

    @property
    def values(self) -> np.ndarray:
        """The observed values (N, m)."""
        return self.location.values  # type: ignore[attr-defined]

    def residuals(self, field: Field, batch: Batch) -> dict[str, torch.Tensor]:
        assert batch.data is not None
        if batch.data.shape[1] == 1:
            return {"": field.value(self.output) - batch.data[:, 0]}
        if batch.data.shape[1] != len(field.outputs):
            raise InputValueError(
                f"observations have {batch.data.shape[1]} columns, the problem has outputs {field.outputs}; "
                f"give one column per output or name the observed output"
            )
        diffs = [field.value(o) - batch.data[:, j] for j, o in enumerate(field.outputs)]
        return {"": torch.cat(diffs)}


def normal_derivative(field: Field, batch: Batch, output: str | None) -> torch.Tensor:
    """``du/dn = sum_i n_i du/dx_i`` over the space coordinates, shape (N,)."""
    if batch.normals is None:
        raise InputValueError("a normal derivative needs the outward normals of its points")
    output = field.output_name(output)
    total = torch.zeros_like(field.value(output))
    for coordinate in field.space:
        axis = field.coordinates.index(coordinate)
        total = total + batch.normals[:, axis] * field.d(output, coordinate)
    return total


def evaluate(value: Value, field: Field) -> torch.Tensor:
    """A prescribed value at the field's points, shape (N,)."""
    points = field.points
    if not callable(value):
        return torch.full((points.shape[0],), float(value), dtype=points.dtype, device=points.device)
    result = call_user("the value function", value, coordinate_dict(points, field.coordinates))
    if not isinstance(result, (torch.Tensor, int, float)) or isinstance(result, bool):
        raise InputTypeError(
            f"a condition's value function returned {kind_of(result)}; return a torch tensor "
            f"built from the coordinates (use torch.sin, not numpy.sin)"
        )
    result = torch.as_tensor(result, dtype=points.dtype, device=points.device)
    if result.ndim == 0:
        return result.expand(points.shape[0])
    if result.shape not in ((points.shape[0],), (points.shape[0], 1)):
        raise InputValueError(
            f"a condition's value function returned shape {tuple(result.shape)} for "
            f"{points.shape[0]} points; return one value per point, shape (N,)"
        )
    return result.reshape(-1)


def _part_name(part: Part) -> str:
    return part.name if isinstance(part, Where) else str(part)


def _check_part(part: object) -> Part:
    if isinstance(part, Where):
        return part
    if not isinstance(part, str) or not part:
        raise InputTypeError(f"a condition's part must be a part name such as 'x_min' or a Where(...), got {part!r}")
    return part


def _check_output(output: object) -> str | None:
    if output is not None and (not isinstance(output, str) or not output):
        raise InputTypeError(f"output must be the name of an output such as 'u', got {output!r}")
    return output  # type: ignore[return-value]


def _check_term_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise InputValueError(f"a condition's name must be an identifier such as 'inlet', got {name!r}")
    return name


def _check_value(value: object, what: str) -> Value:
    if callable(value):
        return value  # type: ignore[return-value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise InputTypeError(f"{what} must be a finite number or a function of the coordinates, got {value!r}")


def _finite_array(data: object, what: str) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"Observations.{what} must be an array of numbers, got {type(data).__name__}") from None
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise InputValueError(f"Observations.{what} contain {bad} NaN or infinite entries; drop or fill them first")
    return array
