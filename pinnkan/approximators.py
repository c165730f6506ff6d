"""Approximators behind one interface: what a problem's model is built from.

A :class:`ModelSpec` builds a network for a problem's input and output widths
and bounding box. Every built network maps the box onto ``[-1, 1]`` first and
offers ``in_features``, ``out_features``, ``smoothness`` (continuous derivatives
of its output) and ``describe()``. Besides the B-spline KAN
(:class:`~pinnkan.kan.KANSpec`) there are

* :class:`ChebyKAN`: edge functions ``phi_ij(x) = sum_n c_ijn T_n(x)``, Chebyshev
  polynomials by the three-term recurrence ``T_{n+1} = 2 x T_n - T_{n-1}`` (smooth
  at ``+-1``, unlike ``cos(n arccos x)``); hidden values pass through ``tanh`` so
  that every layer sees ``[-1, 1]``, where the polynomials are bounded;
* :class:`MLP`: the plain fully connected baseline.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ModelSpec", "Network", "ChebyKAN", "ChebyKANLayer", "ChebyKANSpec", "MLP", "MLPSpec", "SMOOTH"]

# ``smoothness`` of networks that are infinitely differentiable.
SMOOTH = 1_000_000

Bounds = tuple[Sequence[float], Sequence[float]]


class ModelSpec(ABC):
    """The size and kind of an approximator, built for a problem's domain."""

    kind: str

    @abstractmethod
    def build(
        self,
        in_features: int,
        out_features: int,
        bounds: Bounds,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> nn.Module:
        """A freshly initialised network mapping ``bounds`` = ``(lo, hi)`` onto ``[-1, 1]``."""


class Network(nn.Module):
    """Base of the layered approximators: ``widths`` from input to output."""

    widths: tuple[int, ...]

    @property
    def in_features(self) -> int:
        """Input width (coordinates)."""
        return self.widths[0]

    @property
    def out_features(self) -> int:
        """Output width (unknowns)."""
        return self.widths[-1]


class _BoxInput(nn.Module):
    """Holds the bounding box and maps points of it onto ``[-1, 1]``."""

    def __init__(self, width: int, bounds: Bounds | None, dtype: torch.dtype, device) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        lo, hi = box_bounds(bounds, width)
        self.register_buffer("input_lo", torch.tensor(lo, dtype=dtype, device=device))
        self.register_buffer("input_hi", torch.tensor(hi, dtype=dtype, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2.0 * (x - self.input_lo) / (self.input_hi - self.input_lo) - 1.0


class ChebyKANLayer(nn.Module):
    """``in_features * out_features`` Chebyshev-series edges summed at each output, plus a bias.

    Parameters
    ----------
    in_features, out_features : int
    degree : int
        Highest polynomial degree ``d >= 1``.
    dtype, device
    """

    def __init__(self, in_features: int, out_features: int, *, degree: int = 6, dtype=None, device=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
            raise ValueError(f"degree must be an int >= 1, got {degree!r}")
        self.in_features, self.out_features, self.degree = in_features, out_features, degree
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self.coef = nn.Parameter(torch.empty(in_features, degree + 1, out_features, **factory))
        self.bias = nn.Parameter(torch.zeros(out_features, **factory))
        # A spectrum decaying like 1/(n + 1) starts from smooth edge functions, whose
        # derivatives (and so PDE residuals) stay moderate; it trains much faster than
        # equal variances for all degrees.
        decay = 1.0 / torch.arange(1, degree + 2, **factory)
        with torch.no_grad():
            nn.init.normal_(self.coef, std=1.0 / math.sqrt(in_features))
            self.coef.mul_(decay[None, :, None])

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """``T_0 .. T_d`` of every input, shape (N, in, d + 1)."""
        polys = [torch.ones_like(x), x]
        for _ in range(2, self.degree + 1):
            polys.append(2 * x * polys[-1] - polys[-2])
        return torch.stack(polys, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in) -> (N, out)."""
        n = x.shape[0]
        return self.basis(x).reshape(n, -1) @ self.coef.reshape(-1, self.out_features) + self.bias


class ChebyKAN(Network):
    """A Chebyshev KAN ``widths[0] -> ... -> widths[-1]`` (see the module docstring).

    Examples
    --------
    >>> net = ChebyKAN((2, 8, 1), degree=5, input_bounds=((0.0, 0.0), (1.0, 1.0)))
    >>> net.describe()
    'ChebyKAN[2,8,1] degree=5'
    """

    smoothness = SMOOTH

    def __init__(
        self,
        widths: Sequence[int],
        *,
        degree: int = 6,
        input_bounds: Bounds | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.widths = _check_widths(widths)
        self.degree = degree
        dtype = dtype or torch.get_default_dtype()
        self.box = _BoxInput(self.widths[0], input_bounds, dtype, device)
        self.layers = nn.ModuleList(
            ChebyKANLayer(a, b, degree=degree, dtype=dtype, device=device)
            for a, b in zip(self.widths[:-1], self.widths[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, widths[0]) -> (N, widths[-1])."""
        check_input(x, self.in_features)
        h = self.box(x)
        for i, layer in enumerate(self.layers):
            h = layer(torch.tanh(h) if i > 0 else h)
        return h

    def describe(self) -> str:
        return f"ChebyKAN[{','.join(map(str, self.widths))}] degree={self.degree}"


_ACTIVATIONS = {"tanh": torch.tanh, "silu": nn.functional.silu, "sin": torch.sin}


class MLP(Network):
    """A fully connected network with a smooth activation, on inputs mapped to ``[-1, 1]``.

    Parameters
    ----------
    widths : sequence of int
        Layer widths including input and output.
    activation : {"tanh", "silu", "sin"}
    input_bounds, dtype, device
        As for :class:`~pinnkan.kan.KAN`.
    """

    smoothness = SMOOTH

    def __init__(
        self,
        widths: Sequence[int],
        *,
        activation: str = "tanh",
        input_bounds: Bounds | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.widths = _check_widths(widths)
        self.activation = activation
        dtype = dtype or torch.get_default_dtype()
        self.box = _BoxInput(self.widths[0], input_bounds, dtype, device)
        self.layers = nn.ModuleList(
            nn.Linear(a, b, dtype=dtype, device=device) for a, b in zip(self.widths[:-1], self.widths[1:])
        )
        for layer in self.layers:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, widths[0]) -> (N, widths[-1])."""
        check_input(x, self.in_features)
        act = _ACTIVATIONS[self.activation]
        h = self.box(x)
        for layer in self.layers[:-1]:
            h = act(layer(h))
        return self.layers[-1](h)

    def describe(self) -> str:
        return f"MLP[{','.join(map(str, self.widths))}] {self.activation}"


@dataclass(frozen=True, kw_only=True)
class ChebyKANSpec(ModelSpec):
    """A Chebyshev KAN with the given hidden widths and polynomial degree."""

    hidden: tuple[int, ...] = (16,)
    degree: int = 6
    kind = "chebykan"

    def __post_init__(self) -> None:
        _check_widths((1, *self.hidden, 1))
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or self.degree < 1:
            raise ValueError(f"degree must be an int >= 1, got {self.degree!r}")

    def build(self, in_features, out_features, bounds, *, dtype=None, device=None) -> ChebyKAN:  # type: ignore[no-untyped-def, override]
        return ChebyKAN(
            (in_features, *self.hidden, out_features), degree=self.degree, input_bounds=bounds, dtype=dtype, device=device
        )


@dataclass(frozen=True, kw_only=True)
class MLPSpec(ModelSpec):
    """A plain MLP with the given hidden widths and activation."""

    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "tanh"
    kind = "mlp"

    def __post_init__(self) -> None:
        _check_widths((1, *self.hidden, 1))
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")

    def build(self, in_features, out_features, bounds, *, dtype=None, device=None) -> MLP:  # type: ignore[no-untyped-def, override]
        return MLP(
            (in_features, *self.hidden, out_features),
            activation=self.activation,
            input_bounds=bounds,
            dtype=dtype,
            device=device,
        )


def _check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError(f"widths needs at least an input and an output width, got {widths}")
    for w in widths:
        check_positive_int("every width", w)
    return widths


def check_positive_int(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")


def check_input(x: torch.Tensor, width: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"the network takes a torch.Tensor of shape (N, {width}), got {type(x)}")
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"the network takes points of shape (N, {width}), got {tuple(x.shape)}; "
            f"pass one column per coordinate"
        )


def box_bounds(
    bounds: tuple[Sequence[float], Sequence[float]] | None, width: int
) -> tuple[list[float], list[float]]:
    if bounds is None:
        return [-1.0] * width, [1.0] * width
    lo, hi = ([float(v) for v in side] for side in bounds)
    if len(lo) != width or len(hi) != width:
        raise ValueError(
            f"input_bounds needs (lo, hi) with {width} entries each, got {len(lo)} and {len(hi)}"
        )
    for a, b in zip(lo, hi):
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ValueError(
                f"input_bounds must be finite with lo < hi in every input, got lo={lo}, hi={hi}"
            )
    return lo, hi
