"""The multilayer perceptron: the plain fully connected baseline.

Examples
--------
>>> net = MLPSpec(hidden=(16, 16)).build(2, 1, ((0.0, 0.0), (1.0, 2.0)))
>>> net.describe()
'MLP[2,16,16,1] tanh'
>>> net.normalise(torch.tensor([[0.0, 0.0], [1.0, 2.0]])).tolist()
[[-1.0, -1.0], [1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputValueError
from .activations import ACTIVATIONS, derivatives
from .base import (
    SMOOTH,
    Bounds,
    Device,
    ModelSpec,
    Network,
    check_hidden,
    check_input,
    check_widths,
)
from .jets import Jet

__all__ = ["MLP", "MLPSpec"]


class MLP(Network):
    """A fully connected network with a smooth activation, on inputs mapped to ``[-1, 1]``.

    Weights start Xavier-normal and biases at zero. All activations are C-infinity,
    so ``smoothness`` is :data:`SMOOTH`.

    Parameters
    ----------
    widths : sequence of int
        Layer widths including input and output, e.g. ``(2, 32, 32, 32, 1)``.
    activation : {"tanh", "silu", "sin"}
        Applied after every layer but the last; ``"sin"`` is ``x -> sin(x)``.
    input_bounds, dtype, device
        As for :class:`ChebyKAN`.

    Examples
    --------
    >>> MLP((1, 8, 1), activation="sin").describe()
    'MLP[1,8,1] sin'
    """

    smoothness = SMOOTH

    def __init__(
        self,
        widths: Sequence[int],
        *,
        activation: str = "tanh",
        input_bounds: Bounds | None = None,
        dtype: torch.dtype | None = None,
        device: Device = None,
    ) -> None:
        super().__init__()
        _check_activation(activation)
        self.widths = check_widths(widths)
        self.activation = activation
        dtype = dtype or torch.get_default_dtype()
        self._register_bounds(input_bounds, dtype, device)
        self.layers = nn.ModuleList(
            nn.Linear(a, b, dtype=dtype, device=device) for a, b in zip(self.widths[:-1], self.widths[1:])
        )
        for layer in self.layers:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network: (N, widths[0]) -> (N, widths[-1])."""
        check_input(x, self.in_features)
        act = ACTIVATIONS[self.activation]
        h = self.normalise(x)
        for layer in self.layers[:-1]:
            h = act(layer(h))
        return self.layers[-1](h)

    def forward_jet(self, jet: Jet) -> Jet:
        """Push a jet of the coordinates through the network (see :mod:`pinnkan.models.jets`)."""
        order = jet.plan.order
        jet = self.normalise_jet(jet)
        for layer in self.layers[:-1]:
            jet = jet.linear(layer.weight.T, layer.bias)
            jet = jet.map(derivatives(self.activation, jet.value, order))
        last = self.layers[-1]
        return jet.linear(last.weight.T, last.bias)

    def describe(self) -> str:
        """A one-line summary, e.g. ``MLP[2,32,32,32,1] tanh``."""
        return f"MLP[{','.join(map(str, self.widths))}] {self.activation}"

    def spec(self) -> MLPSpec:
        return MLPSpec(hidden=tuple(self.widths[1:-1]), activation=self.activation)


@dataclass(frozen=True, kw_only=True)
class MLPSpec(ModelSpec):
    """Size of an MLP, to be built for a problem's domain.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer widths; input and output widths come from the problem.
    activation : {"tanh", "silu", "sin"}
        See :class:`MLP`.
    """

    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "tanh"
    kind = "mlp"

    def __post_init__(self) -> None:
        check_hidden("MLPSpec", self.hidden)
        _check_activation(self.activation)

    def build(
        self,
        in_features: int,
        out_features: int,
        bounds: Bounds,
        *,
        dtype: torch.dtype | None = None,
        device: Device = None,
    ) -> MLP:
        """A freshly initialised MLP mapping ``bounds`` onto ``[-1, 1]``."""
        return MLP(
            (in_features, *self.hidden, out_features),
            activation=self.activation,
            input_bounds=bounds,
            dtype=dtype,
            device=device,
        )


def _check_activation(activation: object) -> None:
    if activation not in ACTIVATIONS:
        raise InputValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
