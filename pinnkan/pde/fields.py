"""Fields: named values, derivatives, operators and coefficients at a batch of points.

A residual receives a :class:`Field` and asks for what it needs by name::

    def heat(f):
        return f.u_t - f.alpha * f.u_xx      # or f["u_t"], f.d("u", "x", "x")

Names are ``<output>_<coordinates>``: ``u_x``, ``u_xx``, ``u_xyt`` (mixed partials
do not depend on the order), ``v_yy`` for an output called ``v``. Coordinates are
read by name (``f.x``, ``f["t"]``), and so are the problem's coefficients
(``f.alpha``). Vector calculus acts on the space coordinates only (never on
time): :meth:`Field.grad`, :meth:`Field.div`, :meth:`Field.laplacian`.

Every derivative is computed at most once per field, by the field's derivative
engine (:mod:`pinnkan.pde.engines`), and shared by everything that asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import torch

from ..errors import InputValueError
from .engines import Autograd, Derivatives, Engine, Request

__all__ = ["Field", "coordinate_dict", "check_name", "RESERVED"]

Model = Callable[[torch.Tensor], torch.Tensor]

# Attribute names of a Field that a coordinate, output or coefficient must not take.
RESERVED = frozenset(
    {"points", "coordinates", "outputs", "coefficients", "space", "time", "max_order", "value", "d",
     "grad", "div", "laplacian", "coordinate", "output_name", "n", "requested"}
)


class Field:
    """Values and derivatives of a model's outputs at fixed points.

    Parameters
    ----------
    model : callable
        Maps points ``(N, d)`` to outputs ``(N, m)``.
    points : torch.Tensor, shape (N, d)
        Where to evaluate.
    coordinates : sequence of str
        Name of each column of ``points``, e.g. ``("x", "t")``.
    outputs : sequence of str
        Name of each output column, e.g. ``("u",)`` or ``("u", "v", "p")``.
    engine : Engine, optional
        Computes the derivatives; :class:`~pinnkan.pde.engines.Autograd` by default.
    coefficients : mapping of str to tensor, optional
        Named scalars (0-d tensors or floats) the residual reads as ``f.<name>``.
    time : str, optional
        The time coordinate, excluded from ``grad``, ``div`` and ``laplacian``.
    max_order : int, optional
        Highest total derivative order the model supports (``k - 1`` for a KAN of
        spline order ``k``); asking for more raises a ``ValueError``.
    needs : collection of (output index, axes), optional
        The derivatives the caller will ask for, if known (see :attr:`requested`);
        an engine such as :class:`~pinnkan.pde.engines.Jets` computes them in one pass.

    Examples
    --------
    >>> p = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    >>> f = Field(lambda q: (q[:, :1] ** 2) * q[:, 1:], p, ("x", "y"))
    >>> float(f.u_xy), float(f.laplacian("u"))  # 2x, 2y
    (2.0, 4.0)
    """

    def __init__(
        self,
        model: Model,
        points: torch.Tensor,
        coordinates: Sequence[str],
        outputs: Sequence[str] = ("u",),
        *,
        engine: Engine | None = None,
        coefficients: Mapping[str, torch.Tensor | float] | None = None,
        time: str | None = None,
        max_order: int | None = None,
        needs: Collection[Request] | None = None,
    ) -> None:
        coordinates = tuple(coordinates)
        outputs = tuple(outputs)
        if not isinstance(points, torch.Tensor) or points.ndim != 2 or points.shape[1] != len(coordinates):
            shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__
            raise InputValueError(f"points must have shape (N, {len(coordinates)}) for coordinates {coordinates}, got {shape}")
        coefficients = dict(coefficients or {})
        for kind, names in (("coordinate", coordinates), ("output", outputs), ("coefficient", tuple(coefficients))):
            for name in names:
                check_name(kind, name)
        names = [*coordinates, *outputs, *coefficients]
        if len(set(names)) != len(names):
            raise InputValueError(
                f"coordinates {coordinates}, outputs {outputs} and coefficients {tuple(coefficients)} must "
                f"all have different names; rename the repeated one"
            )
        if time is not None and time not in coordinates:
            raise InputValueError(f"time coordinate {time!r} is not one of the coordinates {coordinates}")
        engine = engine or Autograd()
        self._derivatives: Derivatives = engine.start(model, points, outputs=len(outputs), needs=needs)
        self.coordinates = coordinates
        self.outputs = outputs
        self.coefficients = coefficients
        self.time = time
        self.max_order = max_order

    @property
    def points(self) -> torch.Tensor:
        """The evaluation points, shape (N, d)."""
        return self._derivatives.points

    @property
    def requested(self) -> set[Request]:
        """Every derivative asked for so far, as ``(output index, sorted axes)``."""
        return set(self._derivatives.requested)

    @property
    def n(self) -> int:
        """Number of points."""
        return self.points.shape[0]

    @property
    def space(self) -> tuple[str, ...]:
        """The space coordinates (all but time)."""
        return tuple(c for c in self.coordinates if c != self.time)

    def coordinate(self, name: str) -> torch.Tensor:
        """Column ``name`` of the points, shape (N,)."""
        return self.points[:, self._coordinate_index(name)]

    def value(self, output: str | None = None) -> torch.Tensor:
        """Model output ``output`` (the only one by default), shape (N,)."""
        return self.d(self.output_name(output))

    def d(self, output: str, *coordinates: str) -> torch.Tensor:
        """Partial derivative of ``output`` w.r.t. the named coordinates, shape (N,).

        ``f.d("u", "x", "x")`` is ``u_xx``; ``f.d("u")`` is ``u`` itself.
        """
        j = self._output_index(output)
        axes = tuple(sorted(self._coordinate_index(c) for c in coordinates))
        if self.max_order is not None and len(axes) > self.max_order:
            raise InputValueError(
                f"derivative of order {len(axes)} asked, but the model is only "
                f"{self.max_order} times differentiable; raise the spline order to at "
                f"least {len(axes) + 1}"
            )
        return self._derivatives.get(j, axes)

    def grad(self, output: str | None = None) -> torch.Tensor:
        """Spatial gradient ``(u_x, u_y, ...)`` of an output, shape (N, number of space coordinates)."""
        output = self.output_name(output)
        return torch.stack([self.d(output, c) for c in self._space_or_raise("grad")], dim=1)

    def div(self, *outputs: str) -> torch.Tensor:
        """Divergence ``u_x + v_y + ...`` of the vector field whose components are ``outputs``, shape (N,).

        Give one output per space coordinate, in coordinate order: ``f.div("u", "v")``.
        """
        if len(outputs) == 1 and not isinstance(outputs[0], str):
            outputs = tuple(outputs[0])  # f.div(("u", "v")) works too
        space = self._space_or_raise("div")
        if len(outputs) != len(space):
            raise InputValueError(
                f"div needs one output per space coordinate {space}, got {outputs}; e.g. "
                f"f.div({', '.join(repr(o) for o in self.outputs[: len(space)])})"
            )
        return sum(self.d(o, c) for o, c in zip(outputs, space))  # type: ignore[return-value]

    def laplacian(self, output: str | None = None) -> torch.Tensor:
        """Laplacian ``u_xx + u_yy + ...`` over the space coordinates, shape (N,)."""
        output = self.output_name(output)
        return sum(self.d(output, c, c) for c in self._space_or_raise("laplacian"))  # type: ignore[return-value]

    def output_name(self, output: str | None = None) -> str:
        """The output called ``output``, or the only one when ``output`` is None."""
        if output is None:
            if len(self.outputs) != 1:
                raise InputValueError(f"this problem has outputs {self.outputs}; name the one you want, e.g. output={self.outputs[0]!r}")
            return self.outputs[0]
        self._output_index(output)
        return output

    def __getitem__(self, name: str) -> torch.Tensor:
        if name in self.coordinates:
            return self.coordinate(name)
        if name in self.coefficients:
            return self._coefficient(name)
        output, sep, suffix = name.partition("_")
        if output in self.outputs and (sep == "" or suffix):
            return self.d(output, *self._split(suffix, name))
        raise KeyError(
            f"cannot read {name!r}; ask for a coordinate {self.coordinates}, an output {self.outputs}, "
            f"a derivative such as '{self.outputs[0]}_{self.coordinates[0]}'"
            + (f", or a coefficient {tuple(self.coefficients)}" if self.coefficients else
               "; an unknown PDE coefficient must be declared on the Problem (coefficients={...})")
        )

    def __getattr__(self, name: str) -> torch.Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as err:
            raise AttributeError(err.args[0]) from None

    def _coefficient(self, name: str) -> torch.Tensor:
        value = self.coefficients[name]
        points = self.points
        return torch.as_tensor(value, dtype=points.dtype, device=points.device)

    def _space_or_raise(self, what: str) -> tuple[str, ...]:
        space = self.space
        if not space:
            raise InputValueError(f"{what} acts on space coordinates, and this problem has none")
        return space

    def _output_index(self, output: str) -> int:
        try:
            return self.outputs.index(output)
        except ValueError:
            raise KeyError(f"no output {output!r}; outputs are {self.outputs}") from None

    def _coordinate_index(self, name: str) -> int:
        try:
            return self.coordinates.index(name)
        except ValueError:
            raise KeyError(_missing_coordinate(name, self.coordinates, self.time)) from None

    def _split(self, suffix: str, name: str) -> list[str]:
        """Split ``"xxt"`` into coordinate names, longest names first."""
        names = sorted(self.coordinates, key=len, reverse=True)
        parts = []
        rest = suffix
        while rest:
            match = next((c for c in names if rest.startswith(c)), None)
            if match is None:
                raise KeyError(f"cannot read {name!r}: {_missing_coordinate(rest, self.coordinates, self.time)}")
            parts.append(match)
            rest = rest[len(match) :]
        return parts


def _missing_coordinate(name: str, coordinates: tuple[str, ...], time: str | None) -> str:
    if time is None and name.startswith("t"):
        return (
            f"{name!r} is not a coordinate of {coordinates}: this problem is stationary, so it has no "
            f"time derivative; use SpaceTime(space, (t0, t1)) for a time-dependent problem"
        )
    return f"{name!r} is not a coordinate of {coordinates}; use derivatives of these coordinates only"


def coordinate_dict(points: torch.Tensor, coordinates: Sequence[str]) -> dict[str, torch.Tensor]:
    """Columns of ``points`` (N, d) by name: ``{"x": (N,), "t": (N,)}``."""
    return {name: points[:, i] for i, name in enumerate(coordinates)}


def check_name(kind: str, name: object) -> None:
    """Raise ValueError unless ``name`` can name a coordinate, output or coefficient."""
    if not isinstance(name, str) or not name.isidentifier() or "_" in name:
        raise InputValueError(f"{kind} name {name!r} must be an identifier without underscores, e.g. 'x', 't', 'u', 'alpha'")
    if name in RESERVED:
        raise InputValueError(f"{kind} name {name!r} is taken by the field's own {name!r}; choose another name")
