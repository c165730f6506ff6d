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


def _as_column(values: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    values = torch.as_tensor(values, dtype=like.dtype, device=like.device)
    if values.ndim == 0:
        return values.expand(like.shape[0], 1)
    return values.unsqueeze(-1) if values.ndim == 1 else values
