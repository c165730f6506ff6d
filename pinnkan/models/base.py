"""What every approximator shares: the spec that builds it, the network base, input checks.

A :class:`ModelSpec` builds a network for a problem's input and output widths
and bounding box. Every built network (a :class:`Network`) maps the box affinely
onto ``[-1, 1]`` first and offers ``in_features``, ``out_features``, ``smoothness``
(continuous derivatives of its output), ``normalise(x)`` and ``describe()``.
The approximators are the B-spline KAN (:mod:`pinnkan.models.kan`), the Chebyshev
KAN (:mod:`pinnkan.models.chebykan`) and the MLP (:mod:`pinnkan.models.mlp`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, check_whole
from .jets import Jet

__all__ = ["ModelSpec", "Network", "SMOOTH", "check_input", "box_bounds", "check_widths"]


# ``smoothness`` of networks that are infinitely differentiable: larger than any
# derivative order a residual asks for, and still an int to compare against.
SMOOTH = 1_000_000

Bounds = tuple[Sequence[float], Sequence[float]]
Device = torch.device | str | None


class ModelSpec(ABC):
    """The size and kind of an approximator, built for a problem's domain.

    Concrete specs are frozen keyword-only dataclasses that check their fields
    on construction, so a bad size fails before any training starts.
    """

    @property
    @abstractmethod
    def kind(self) -> str:
        """Short name of the approximator: ``"kan"``, ``"chebykan"``, ``"mlp"``."""

    @abstractmethod
    def build(
        self,
        in_features: int,
        out_features: int,
        bounds: Bounds,
        *,
        dtype: torch.dtype | None = None,
        device: Device = None,
    ) -> Network:
        """A freshly initialised network for the problem.

        Parameters
        ----------
        in_features, out_features : int
            Coordinates in and unknowns out.
        bounds : pair of sequences
            ``(lo, hi)`` of the domain's bounding box, one entry per input; the
            network maps it onto ``[-1, 1]``.
        dtype, device
            Where the parameters live (default dtype: torch's default).
        """


class Network(nn.Module, ABC):
    """Base of the approximators: layers of ``widths`` from input to output.

    Subclasses set ``widths`` and, unless they hold the box themselves, call
    :meth:`_register_bounds`, which stores the box as the buffers ``input_lo``
    and ``input_hi`` (so it follows ``.to()`` and ``state_dict``).
    """

    widths: tuple[int, ...]
    input_lo: torch.Tensor
    input_hi: torch.Tensor

    @property
    def in_features(self) -> int:
        """Input width (coordinates)."""
        return self.widths[0]

    @property
    def out_features(self) -> int:
        """Output width (unknowns)."""
        return self.widths[-1]

    @property
    @abstractmethod
    def smoothness(self) -> int:
        """How many times the output is continuously differentiable (:data:`SMOOTH` for C-infinity)."""

    @abstractmethod
    def describe(self) -> str:
        """A one-line summary such as ``ChebyKAN[2,16,1] degree=6``."""

    @abstractmethod
    def spec(self) -> ModelSpec:
        """The spec that builds a network of this one's current shape (after grid changes and pruning).

        ``net.spec().build(...)`` followed by ``load_state_dict(net.state_dict())``
        gives this network back, which is how run folders store models without
        pickling them.
        """

    def _register_bounds(self, bounds: Bounds | None, dtype: torch.dtype, device: Device) -> None:
        lo, hi = box_bounds(bounds, self.in_features)
        self.register_buffer("input_lo", torch.tensor(lo, dtype=dtype, device=device))
        self.register_buffer("input_hi", torch.tensor(hi, dtype=dtype, device=device))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Map points of the bounding box onto ``[-1, 1]``: ``2 (x - lo) / (hi - lo) - 1``, shape (N, in)."""
        return 2.0 * (x - self.input_lo) / (self.input_hi - self.input_lo) - 1.0

    def normalise_jet(self, jet: Jet) -> Jet:
        """:meth:`normalise` applied to a jet of the coordinates (an affine map: derivatives scale)."""
        scale = 2.0 / (self.input_hi - self.input_lo)
        return jet.affine(scale, -self.input_lo * scale - 1.0)

    @abstractmethod
    def forward_jet(self, jet: Jet) -> Jet:
        """The outputs' jet (K, N, out) from the coordinates' jet (K, N, in), see :mod:`pinnkan.models.jets`."""

    def jet_obstacle(self) -> str | None:
        """Why this network cannot propagate jets right now, or None."""
        return None


def check_hidden(spec: str, hidden: object) -> None:
    """Raise TypeError unless ``hidden`` is a tuple or list of positive ints (``spec`` names the spec)."""
    if not isinstance(hidden, (tuple, list)):
        raise InputTypeError(
            f"{spec}.hidden takes a tuple of hidden widths, e.g. hidden=({hidden!r},) for one layer, got {hidden!r}"
        )
    for w in hidden:
        check_whole(f"every {spec}.hidden width", w)


def check_input(x: torch.Tensor, width: int) -> None:
    """Raise TypeError unless ``x`` is a tensor, ValueError unless its shape is (N, width)."""
    if not isinstance(x, torch.Tensor):
        raise InputTypeError(f"the network takes a torch.Tensor of shape (N, {width}), got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != width:
        raise InputValueError(
            f"the network takes points of shape (N, {width}), got {tuple(x.shape)}; "
            f"pass one column per coordinate"
        )


def box_bounds(bounds: Bounds | None, width: int) -> tuple[list[float], list[float]]:
    """Checked ``(lo, hi)`` lists of a bounding box of ``width`` inputs; ``None`` means ``[-1, 1]``."""
    if bounds is None:
        return [-1.0] * width, [1.0] * width
    lo, hi = ([float(v) for v in side] for side in bounds)
    if len(lo) != width or len(hi) != width:
        raise InputValueError(f"input_bounds needs (lo, hi) with {width} entries each, got {len(lo)} and {len(hi)}")
    for a, b in zip(lo, hi):
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise InputValueError(f"input_bounds must be finite with lo < hi in every input, got lo={lo}, hi={hi}")
    return lo, hi


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(widths)
    if len(widths) < 2:
        raise InputValueError(f"widths needs at least an input and an output width, got {widths}")
    for w in widths:
        check_whole("every width", w)
    return widths
