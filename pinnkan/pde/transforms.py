"""Hard constraints: conditions built into the model's output by a transform of the network.

``u = T(x, N(x))`` is chosen so that every network ``N`` meets the conditions the
transform covers; those conditions then need no loss term. The common form is
:class:`HardConstraint`, ``u = g(x) + D(x) N(x)`` with ``g`` meeting the conditions
and ``D`` vanishing exactly where they are imposed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from ..models.jets import Jet, JetPlan, jet_obstacle
from .conditions import Condition, OnPart
from .fields import coordinate_dict

__all__ = ["OutputTransform", "HardConstraint", "ConstrainedModel"]

Coordinates = Mapping[str, torch.Tensor]


class OutputTransform:
    """``u = function(c, raw)``: the model's outputs from the coordinates and the network's raw outputs.

    Parameters
    ----------
    function : callable
        ``function(c, raw) -> (N, m)`` with ``c`` the coordinates by name and ``raw``
        the network's outputs (N, m).
    covers : sequence of str
        Boundary parts (``"initial"``, ``"x_min"``; ``"boundary"`` means every spatial
        part) or condition names whose conditions the transform meets exactly.

    Examples
    --------
    An output transform that fixes ``u(x, 0) = 0``:

    >>> zero_start = OutputTransform(lambda c, raw: c["t"][:, None] * raw, covers=("initial",))
    """

    def __init__(self, function: Callable[[Coordinates, torch.Tensor], torch.Tensor], *, covers: Sequence[str]) -> None:
        if not callable(function):
            raise TypeError("an OutputTransform takes a function(c, raw) -> (N, m) tensor")
        covers = tuple(covers)
        if any(not isinstance(p, str) or not p for p in covers):
            raise TypeError(f"covers must be part or condition names, got {covers!r}")
        self._function = function
        self.parts = covers

    def apply(self, coordinates: Coordinates, raw: torch.Tensor) -> torch.Tensor:
        """The constrained outputs (N, m) for raw network outputs (N, m)."""
        out = self._function(coordinates, raw)
        if not isinstance(out, torch.Tensor) or out.shape != raw.shape:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"the output transform returned {shape} for raw outputs of shape {tuple(raw.shape)}; "
                f"return a tensor of the same shape, one column per output"
            )
        return out

    def apply_jet(self, points: torch.Tensor, names: tuple[str, ...], raw: Jet) -> Jet:
        """The constrained outputs' jet from the points (N, d), their coordinate names and the raw outputs' jet.

        A general transform has no jet rule; :class:`HardConstraint` has one.
        """
        raise TypeError(self.jet_obstacle())

    def jet_obstacle(self) -> str | None:
        """Why jets cannot pass this transform, or None."""
        return (
            "a general OutputTransform has no jet rule; write it as HardConstraint(particular=, distance=) "
            "to use jets"
        )

    def covers(self, condition: Condition) -> bool:
        """Whether the transform meets ``condition`` exactly.

        ``"boundary"`` covers every spatial part (all parts but ``"initial"``).
        """
        if condition.name in self.parts:
            return True
        location = condition.location
        if not isinstance(location, OnPart) or not isinstance(location.part, str):
            return False
        part = location.part
        return part in self.parts or ("boundary" in self.parts and part != "initial")


class HardConstraint(OutputTransform):
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

    >>> import math
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
        parts: Sequence[str],
    ) -> None:
        if not callable(particular) or not callable(distance):
            raise TypeError("particular and distance must be callables of the coordinates")
        self.particular = particular
        self.distance = distance
        super().__init__(self._combine, covers=parts)

    def _combine(self, c: Coordinates, raw: torch.Tensor) -> torch.Tensor:
        return _as_column(self.particular(c), raw) + _as_column(self.distance(c), raw) * raw

    def apply_jet(self, points: torch.Tensor, names: tuple[str, ...], raw: Jet) -> Jet:
        """``g + D N`` on jets: ``g`` and ``D`` differentiated by autograd (they hold no parameters), Leibniz for the product."""
        like = raw.value
        particular = _coordinate_jet(self.particular, points, raw.plan, names, like)
        distance = _coordinate_jet(self.distance, points, raw.plan, names, like)
        return particular + distance.multiply(raw)

    def jet_obstacle(self) -> str | None:
        return None


class ConstrainedModel(nn.Module):
    """A network whose output obeys an :class:`OutputTransform`.

    Parameters
    ----------
    net : torch.nn.Module
        Maps points (N, d) to (N, m).
    transform : OutputTransform
    coordinates : tuple of str
        Name of each input column.
    """

    def __init__(self, net: nn.Module, transform: OutputTransform, coordinates: tuple[str, ...]) -> None:
        super().__init__()
        if not isinstance(transform, OutputTransform):
            raise TypeError(f"transform must be an OutputTransform or HardConstraint, got {type(transform).__name__}")
        self.net = net
        self.transform = transform
        self.coordinates = tuple(coordinates)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Constrained outputs (N, m) at points (N, d)."""
        return self.transform.apply(coordinate_dict(x, self.coordinates), self.net(x))

    def forward_jet(self, jet: Jet) -> Jet:
        """The constrained outputs' jet from the jet of the coordinates (made by :meth:`Jet.of_inputs`)."""
        return self.transform.apply_jet(jet.value, self.coordinates, self.net.forward_jet(jet))  # type: ignore[operator]

    def jet_obstacle(self) -> str | None:
        """Why jets cannot pass this model (its network or its transform), or None."""
        return jet_obstacle(self.net) or self.transform.jet_obstacle()


def _coordinate_jet(
    function: Callable[[Coordinates], torch.Tensor],
    points: torch.Tensor,
    plan: JetPlan,
    names: tuple[str, ...],
    like: torch.Tensor,
) -> Jet:
    """The jet of a parameter-free function of the coordinates, by nested autograd at ``points`` (N, d).

    Each derivative comes from its parent with the last axis removed; one backward
    call yields all first partials of a component. The result is detached: the
    function holds nothing to train.
    """
    with torch.enable_grad():
        x = points.detach().requires_grad_(True)
        columns = _as_column(function(coordinate_dict(x, names)), like)  # (N, m) or (N, 1)
        if columns.shape[1] != like.shape[1]:
            columns = columns.expand(-1, like.shape[1])
        components: dict[tuple[int, ...], torch.Tensor] = {(): columns}
        higher = plan.order > 1
        for index in plan.indices[1:]:
            if index in components:
                continue
            parent = index[:-1]
            grads = _column_gradients(components[parent], x, create_graph=higher)  # (d, N, m)
            for axis in range(x.shape[1]):
                key = tuple(sorted(parent + (axis,)))
                if key in plan and key not in components:
                    components[key] = grads[axis]
    return Jet(plan, torch.stack([components[i].detach() for i in plan.indices]))


def _column_gradients(values: torch.Tensor, x: torch.Tensor, *, create_graph: bool) -> torch.Tensor:
    """``d values[:, j] / d x[:, a]`` for every column ``j`` and axis ``a``, shape (d, N, m)."""
    result = x.new_zeros(x.shape[1], *values.shape)
    if not values.requires_grad:
        return result
    for j in range(values.shape[1]):
        (grad,) = torch.autograd.grad(values[:, j].sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True)
        if grad is not None:
            result[:, :, j] = grad.T
    return result


def _as_column(values: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    values = torch.as_tensor(values, dtype=like.dtype, device=like.device)
    if values.ndim == 0:
        return values.expand(like.shape[0], 1)
    return values.unsqueeze(-1) if values.ndim == 1 else values
