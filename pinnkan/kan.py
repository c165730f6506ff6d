"""Kolmogorov–Arnold networks with B-spline edge functions.

Every edge ``i -> j`` of a layer carries ``phi_ij(x) = w_ij silu(x) + sum_m c_ijm B_m(x)``,
and node ``j`` sums its edges plus a bias. A layer is evaluated as two matrix
products: the base branch ``silu(x) @ W`` and the spline bases flattened to
``(N, in * (G + k))`` times the coefficients.

Grid policy
-----------
The first layer maps the domain's bounding box affinely onto the spline grid
range ``[-1, 1]``, so no input point falls where the splines vanish. Hidden values
are squashed into the grid by ``tanh`` before each later layer (``squash_hidden=True``,
the default). With ``squash_hidden=False`` hidden values are used as they are;
where one leaves ``[-1, 1]`` only the base branch and the decaying spline tails
see it, and :meth:`KAN.grid_coverage` tells how often that happens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .splines import bspline_basis, uniform_knots

__all__ = ["KANLayer", "KAN", "KANSpec"]


class KANLayer(nn.Module):
    """One KAN layer: ``in_features * out_features`` learnable edge functions.

    Parameters
    ----------
    in_features, out_features : int
        Layer widths.
    grid_size : int
        Intervals ``G`` of the spline grid on ``grid_range``.
    spline_order : int
        Polynomial degree ``k`` of the splines.
    grid_range : tuple of float
        Interval covered by the uniform grid.
    spline_init_std : float
        Standard deviation of the initial spline coefficients, divided by ``sqrt(in_features)``.
    dtype, device
        Where the parameters live.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        grid_size: int = 5,
        spline_order: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        spline_init_std: float = 0.1,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        _check_positive_int("in_features", in_features)
        _check_positive_int("out_features", out_features)
        _check_positive_int("grid_size", grid_size)
        if not isinstance(spline_order, int) or spline_order < 1:
            raise ValueError(f"spline_order must be an int >= 1, got {spline_order!r}")
        lo, hi = (float(v) for v in grid_range)
        if not lo < hi:
            raise ValueError(f"grid_range must be (lo, hi) with lo < hi, got {grid_range}")
        self.in_features = in_features
        self.out_features = out_features
        self.grid_size = grid_size
        self.spline_order = spline_order
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        lo_t = torch.full((in_features,), lo, **factory)
        hi_t = torch.full((in_features,), hi, **factory)
        self.register_buffer("knots", uniform_knots(lo_t, hi_t, grid_size, spline_order))
        n_basis = grid_size + spline_order
        bound = 1.0 / math.sqrt(in_features)
        self.base_weight = nn.Parameter(torch.empty(in_features, out_features, **factory))
        self.spline_coef = nn.Parameter(torch.empty(in_features, n_basis, out_features, **factory))
        self.bias = nn.Parameter(torch.zeros(out_features, **factory))
        nn.init.uniform_(self.base_weight, -bound, bound)
        nn.init.normal_(self.spline_coef, std=spline_init_std * bound)

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """Spline bases of every input channel, shape (N, in, G + k)."""
        return bspline_basis(x, self.knots, self.spline_order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer: (N, in) -> (N, out)."""
        n = x.shape[0]
        base = nn.functional.silu(x) @ self.base_weight  # (N, out)
        splines = self.basis(x).reshape(n, -1) @ self.spline_coef.reshape(-1, self.out_features)
        return base + splines + self.bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"grid_size={self.grid_size}, spline_order={self.spline_order}"
        )


class KAN(nn.Module):
    """A Kolmogorov–Arnold network ``widths[0] -> ... -> widths[-1]``.

    Parameters
    ----------
    widths : sequence of int
        Layer widths including input and output, e.g. ``(2, 8, 8, 1)``.
    grid_size : int
        Spline grid intervals ``G`` of every layer.
    spline_order : int
        Spline degree ``k``; the network is ``C^{k-1}``, so a residual with
        derivatives of order ``m`` needs ``k >= m + 1``.
    input_bounds : pair of sequences, optional
        ``(lo, hi)`` of the domain's bounding box, one entry per input; mapped onto
        the grid range ``[-1, 1]``. Defaults to ``[-1, 1]`` in every input.
    squash_hidden : bool
        Map hidden values into the grid with ``tanh`` (see the module docstring).
    spline_init_std : float
        Initial spread of the spline coefficients.
    dtype, device
        Where the parameters live.

    Examples
    --------
    >>> net = KAN((2, 8, 1), input_bounds=((0.0, 0.0), (1.0, 2.0)))
    >>> net(torch.rand(5, 2)).shape
    torch.Size([5, 1])
    """

    def __init__(
        self,
        widths: Sequence[int],
        *,
        grid_size: int = 5,
        spline_order: int = 3,
        input_bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        squash_hidden: bool = True,
        spline_init_std: float = 0.1,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        if len(widths) < 2:
            raise ValueError(f"widths needs at least an input and an output width, got {widths}")
        for w in widths:
            _check_positive_int("every width", w)
        dtype = dtype or torch.get_default_dtype()
        self.widths = widths
        self.squash_hidden = squash_hidden
        lo, hi = _input_bounds(input_bounds, widths[0])
        self.register_buffer("input_lo", torch.tensor(lo, dtype=dtype, device=device))
        self.register_buffer("input_hi", torch.tensor(hi, dtype=dtype, device=device))
        self.layers = nn.ModuleList(
            KANLayer(
                a,
                b,
                grid_size=grid_size,
                spline_order=spline_order,
                spline_init_std=spline_init_std,
                dtype=dtype,
                device=device,
            )
            for a, b in zip(widths[:-1], widths[1:])
        )

    @property
    def in_features(self) -> int:
        return self.widths[0]

    @property
    def out_features(self) -> int:
        return self.widths[-1]

    @property
    def spline_order(self) -> int:
        return self.layers[0].spline_order

    @property
    def smoothness(self) -> int:
        """Number of continuous derivatives of the network output (``k - 1``)."""
        return self.spline_order - 1

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Map points of the bounding box onto the grid range ``[-1, 1]``."""
        return 2.0 * (x - self.input_lo) / (self.input_hi - self.input_lo) - 1.0

    def layer_inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The values entering each layer (after normalising or squashing)."""
        _check_input(x, self.in_features)
        h = self.normalise(x)
        inputs = []
        for i, layer in enumerate(self.layers):
            if i > 0 and self.squash_hidden:
                h = torch.tanh(h)
            inputs.append(h)
            h = layer(h)
        return inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network: (N, widths[0]) -> (N, widths[-1])."""
        _check_input(x, self.in_features)
        h = self.normalise(x)
        for i, layer in enumerate(self.layers):
            if i > 0 and self.squash_hidden:
                h = torch.tanh(h)
            h = layer(h)
        return h

    @torch.no_grad()
    def grid_coverage(self, x: torch.Tensor) -> list[float]:
        """Fraction of the values entering each layer that lie inside its grid range."""
        return [
            float(((h >= -1.0) & (h <= 1.0)).to(h.dtype).mean()) for h in self.layer_inputs(x)
        ]

    def describe(self) -> str:
        """A one-line summary, e.g. ``KAN[2,8,1] G=5 k=3``."""
        layer = self.layers[0]
        widths = ",".join(str(w) for w in self.widths)
        return f"KAN[{widths}] G={layer.grid_size} k={layer.spline_order}"


@dataclass(frozen=True, kw_only=True)
class KANSpec:
    """Size of a KAN, to be built for a problem's domain.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer widths; input and output widths come from the problem.
    grid_size : int
        Spline intervals ``G`` per edge.
    spline_order : int
        Spline degree ``k``.
    squash_hidden : bool
        See :class:`KAN`.
    """

    hidden: tuple[int, ...] = (8,)
    grid_size: int = 5
    spline_order: int = 3
    squash_hidden: bool = True

    def __post_init__(self) -> None:
        for w in self.hidden:
            _check_positive_int("every hidden width", w)
        _check_positive_int("grid_size", self.grid_size)
        if isinstance(self.spline_order, bool) or not isinstance(self.spline_order, int) or self.spline_order < 1:
            raise ValueError(f"spline_order must be an int >= 1, got {self.spline_order!r}")

    def build(
        self,
        in_features: int,
        out_features: int,
        bounds: tuple[Sequence[float], Sequence[float]],
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> KAN:
        """A freshly initialised KAN mapping ``bounds`` onto its grid."""
        return KAN(
            (in_features, *self.hidden, out_features),
            grid_size=self.grid_size,
            spline_order=self.spline_order,
            input_bounds=bounds,
            squash_hidden=self.squash_hidden,
            dtype=dtype,
            device=device,
        )


def _check_positive_int(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")


def _check_input(x: torch.Tensor, width: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"the network takes a torch.Tensor of shape (N, {width}), got {type(x)}")
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"the network takes points of shape (N, {width}), got {tuple(x.shape)}; "
            f"pass one column per coordinate"
        )


def _input_bounds(
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
