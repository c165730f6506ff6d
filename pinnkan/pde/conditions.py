"""Boundary and initial conditions, as residuals on named parts of a domain.

A condition's residual is zero where it holds; the loss squares and averages it
over points sampled on the condition's part. Prescribed values are numbers or
callables of the coordinates by name (``lambda c: torch.sin(torch.pi * c["x"])``).
A :class:`HardConstraint` instead builds conditions into the model's output.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping

import torch
from torch import nn

from .fields import Field, coordinate_dict

__all__ = ["Condition", "Dirichlet", "Neumann", "Initial", "HardConstraint", "ConstrainedModel"]

Coordinates = Mapping[str, torch.Tensor]
Value = float | Callable[[Coordinates], torch.Tensor]


class Condition(ABC):
    """A condition on one part of the domain's boundary."""

    part: str
    output: str | None
    name: str
    needs_normals: bool = False

    @abstractmethod
    def residual(self, field: Field, normals: torch.Tensor | None) -> torch.Tensor:
        """Residual at the field's points, shape (N,); zero where the condition holds."""


class Dirichlet(Condition):
    """Prescribed value on a part: ``u = g``.

    Parameters
    ----------
    part : str
        Boundary part, e.g. ``"x_min"`` or ``"boundary"``.
    value : float or callable
        ``g``, a number or a function of the coordinates (a mapping name -> (N,) tensor).
    output : str, optional
        Which output the condition applies to (the only one by default).
    name : str, optional
        Name of the loss term (``"dirichlet_<part>"`` by default).
    """

    def __init__(
        self, part: str, value: Value = 0.0, *, output: str | None = None, name: str | None = None
    ) -> None:
        self.part = _check_part(part)
        self.value = _check_value(value, "value")
        self.output = output
        self.name = name or f"dirichlet_{part}"

    def residual(self, field: Field, normals: torch.Tensor | None) -> torch.Tensor:
        return field.value(self.output) - evaluate(self.value, field)


class Neumann(Condition):
    """Prescribed outward normal derivative on a part: ``du/dn = h``.

    Parameters
    ----------
    part : str
        Boundary part, e.g. ``"x_max"``.
    flux : float or callable
        ``h``, a number or a function of the coordinates.
    output, name
        As for :class:`Dirichlet` (name defaults to ``"neumann_<part>"``).
    """

    needs_normals = True

    def __init__(
        self, part: str, flux: Value = 0.0, *, output: str | None = None, name: str | None = None
    ) -> None:
        if part == "initial":
            raise ValueError("a Neumann condition needs a spatial boundary part, not 'initial'")
        self.part = _check_part(part)
        self.flux = _check_value(flux, "flux")
        self.output = output
        self.name = name or f"neumann_{part}"

    def residual(self, field: Field, normals: torch.Tensor | None) -> torch.Tensor:
        if normals is None:
            raise ValueError("a Neumann condition needs the outward normals of its points")
        output = field.output_name(self.output)
        dudn = torch.zeros_like(field.value(output))
        for axis, coordinate in enumerate(field.coordinates):
            if bool(torch.any(normals[:, axis] != 0)):
                dudn = dudn + normals[:, axis] * field.d(output, coordinate)
        return dudn - evaluate(self.flux, field)


class Initial(Dirichlet):
    """Initial value: ``u(x, t0) = g(x)`` on the ``"initial"`` part of a space-time domain."""

    def __init__(
        self, value: Value = 0.0, *, output: str | None = None, name: str | None = None
    ) -> None:
        super().__init__("initial", value, output=output, name=name or "initial")


class HardConstraint:
    """Build conditions into the output: ``u = particular(x) + distance(x) * N(x)``.

    ``particular`` must satisfy the conditions and ``distance`` must vanish exactly
    where they are imposed (and nowhere else), so every network ``N`` satisfies them.

    Parameters
    ----------
    particular : callable
        Coordinates -> (N,) tensor (or (N, m) for m outputs).
    distance : callable
        Coordinates -> (N,) tensor, zero on the constrained parts, positive elsewhere.
    parts : tuple of str
        The parts the constraint enforces; conditions on them need no loss term.

    Examples
    --------
    Heat equation on [0, 1] with u(x, 0) = sin(pi x) and u = 0 at both ends:

    >>> hard = HardConstraint(
    ...     particular=lambda c: torch.sin(math.pi * c["x"]),
    ...     distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
    ...     parts=("initial", "boundary"),
    ... )
    """

    def __init__(
        self,
        *,
        particular: Callable[[Coordinates], torch.Tensor],
        distance: Callable[[Coordinates], torch.Tensor],
        parts: tuple[str, ...],
    ) -> None:
        if not callable(particular) or not callable(distance):
            raise TypeError("particular and distance must be callables of the coordinates")
        self.particular = particular
        self.distance = distance
        self.parts = tuple(_check_part(p) for p in parts)

    def covers(self, part: str) -> bool:
        """Whether the constraint enforces the conditions on ``part``.

        ``"boundary"`` covers every spatial part (all parts but ``"initial"``).
        """
        return part in self.parts or ("boundary" in self.parts and part != "initial")


class ConstrainedModel(nn.Module):
    """A network whose output obeys a :class:`HardConstraint`.

    Parameters
    ----------
    net : torch.nn.Module
        Maps points (N, d) to (N, m).
    constraint : HardConstraint
    coordinates : tuple of str
        Name of each input column.
    """

    def __init__(
        self, net: nn.Module, constraint: HardConstraint, coordinates: tuple[str, ...]
    ) -> None:
        super().__init__()
        self.net = net
        self.constraint = constraint
        self.coordinates = coordinates

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = coordinate_dict(x, self.coordinates)
        raw = self.net(x)  # (N, m)
        return _as_column(self.constraint.particular(c), raw) + _as_column(
            self.constraint.distance(c), raw
        ) * raw


def evaluate(value: Value, field: Field) -> torch.Tensor:
    """A prescribed value at the field's points, shape (N,)."""
    points = field.points
    if not callable(value):
        return torch.full((points.shape[0],), float(value), dtype=points.dtype, device=points.device)
    result = value(coordinate_dict(points, field.coordinates))
    result = torch.as_tensor(result, dtype=points.dtype, device=points.device)
    if result.ndim == 0:
        return result.expand(points.shape[0])
    if result.shape not in ((points.shape[0],), (points.shape[0], 1)):
        raise ValueError(
            f"a condition's value function returned shape {tuple(result.shape)} for "
            f"{points.shape[0]} points; return one value per point, shape (N,)"
        )
    return result.reshape(-1)


def _as_column(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    values = torch.as_tensor(values, dtype=like.dtype, device=like.device)
    return values.unsqueeze(-1) if values.ndim == 1 else values


def _check_part(part: object) -> str:
    if not isinstance(part, str) or not part:
        raise TypeError(f"a condition's part must be a part name such as 'x_min', got {part!r}")
    return part


def _check_value(value: object, what: str) -> Value:
    if callable(value):
        return value  # type: ignore[return-value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise TypeError(
        f"{what} must be a finite number or a function of the coordinates, got {value!r}"
    )
