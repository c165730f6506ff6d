"""The trainable whole of a physics-informed solve: the network and the problem's coefficients.

Residuals read coefficients by name from the field; the trainer optimises one
module. :class:`PINN` holds both, so unknown coefficients are trained, saved in
checkpoints and restored with the network.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models.jets import Jet, jet_obstacle
from .coefficients import CoefficientSet
from .transforms import ConstrainedModel

__all__ = ["PINN"]


class PINN(nn.Module):
    """A network (possibly inside a hard-constraint transform) with the problem's coefficients.

    Parameters
    ----------
    net : torch.nn.Module
        Maps points (N, d) to outputs (N, m); a :class:`ConstrainedModel` for hard constraints.
    coefficients : CoefficientSet
        The problem's coefficients (trainable ones are parameters).
    """

    def __init__(self, net: nn.Module, coefficients: CoefficientSet) -> None:
        super().__init__()
        self.net = net
        self.coefficients = coefficients

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (N, m) at points (N, d)."""
        return self.net(x)

    def forward_jet(self, jet: Jet) -> Jet:
        """The outputs' jet from the coordinates' jet (see :mod:`pinnkan.models.jets`)."""
        return self.net.forward_jet(jet)  # type: ignore[operator]

    def jet_obstacle(self) -> str | None:
        """Why jets cannot pass the network, or None."""
        return jet_obstacle(self.net)

    def coefficient_values(self) -> dict[str, torch.Tensor]:
        """Every coefficient's current value by name (0-d tensors)."""
        return self.coefficients.values()

    @property
    def approximator(self) -> nn.Module:
        """The approximator itself, without the hard-constraint wrapper."""
        return self.net.net if isinstance(self.net, ConstrainedModel) else self.net
