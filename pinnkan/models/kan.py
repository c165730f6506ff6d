"""Kolmogorov–Arnold networks with B-spline edge functions.

Every edge ``i -> j`` of a layer carries ``phi_ij(x) = w_ij silu(x) + sum_m c_ijm B_m(x)``,
and node ``j`` sums its edges plus a bias. A layer is evaluated as two matrix
products: the base branch ``silu(x) @ W`` and the spline bases flattened to
``(N, in * (G + k))`` times the coefficients.

Grid policy
-----------
The first layer maps the domain's bounding box affinely onto the spline grid
range ``[-1, 1]``, so no input point falls where the splines vanish. For hidden
values there are two policies:

* ``squash_hidden=True`` (the default): hidden values pass through ``tanh`` before
  each later layer, so they never leave ``[-1, 1]``.
* ``squash_hidden=False``: hidden values are used as they are, which keeps edge
  functions composable into formulas. A value outside a layer's grid sees only
  the base branch and the spline tails (the ``"extended"`` layout) or the spline's
  end value (the ``"clamped"`` layout, which clamps spline inputs to the grid).
  :meth:`KAN.grid_coverage` measures how often that happens and
  :meth:`KAN.update_grid` re-places every layer's knots around the values that
  actually reach it; call it (or train with :class:`UpdateGrid` stages) while the
  hidden values move.

Grids change without changing the function: :meth:`KAN.extend_grid` refines every
grid (``G = 5 -> 10 -> 20``) and :meth:`KAN.update_grid` re-places knots, both
refitting the spline coefficients by least squares.

Multiplication nodes
--------------------
As in KAN 2.0 (MultKAN), the last ``mult[l]`` nodes of hidden layer ``l`` may
multiply instead of sum: such a node has two factor sub-nodes, each an ordinary
sum of edges plus a bias, and its value is their product. The layer feeding it
then has ``widths[l] + mult[l]`` outputs, the sum nodes first and the factor
pairs after them; :meth:`KAN.combine` turns that layer's outputs into node values
(before the ``tanh`` of ``squash_hidden``). The output layer only sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, check_whole, whole
from .activations import derivatives, elementwise_derivatives
from .base import ModelSpec, Network, box_bounds, check_hidden, check_input
from .functions import LIBRARY
from .jets import Jet
from .local_splines import is_uniform, spline_jet
from .splines import (
    KNOT_LAYOUTS,
    KnotLayout,
    bspline_basis,
    fit_coefficients,
    grid_of,
    knots_from_grid,
)

__all__ = ["KANLayer", "KAN", "KANSpec", "find_kan"]

# Least-squares refits run in float64 whatever the model's dtype.
_FIT_DTYPE = torch.float64


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
    knot_layout : {"extended", "clamped"}
        ``"extended"``: uniform knots continued ``k`` intervals beyond the range.
        ``"clamped"``: open uniform knots with both ends repeated ``k + 1`` times,
        and spline inputs clamped to the range (the base branch sees them as they are).
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
        knot_layout: KnotLayout = "extended",
        spline_init_std: float = 0.1,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_whole("in_features", in_features)
        check_whole("out_features", out_features)
        check_whole("grid_size", grid_size)
        _check_spline_order(spline_order)
        _check_layout(knot_layout)
        lo, hi = (float(v) for v in grid_range)
        if not lo < hi:
            raise InputValueError(f"grid_range must be (lo, hi) with lo < hi, got {grid_range}")
        self.in_features = in_features
        self.out_features = out_features
        self.spline_order = spline_order
        self.knot_layout = knot_layout
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        lo_t = torch.full((in_features,), lo, **factory)
        hi_t = torch.full((in_features,), hi, **factory)
        grid = _uniform_samples(lo_t, hi_t, grid_size + 1).T  # (in, G + 1)
        self.register_buffer("knots", knots_from_grid(grid, spline_order, knot_layout))
        self._uniform = is_uniform(self.knots)
        # 1 for a live edge, 0 for a pruned one; ``pruned`` says whether any is 0, so
        # that unpruned layers skip the masking in the hot path.
        self.register_buffer("edge_mask", torch.ones(in_features, out_features, **factory))
        self.pruned = False
        # Edges locked to a library function a * f(b * x + c) + d (see lock_symbolic):
        # (i, j, name) per locked edge, and its (a, b, c, d) in the same order.
        self.symbolic: list[tuple[int, int, str]] = []
        self.symbolic_affine = nn.Parameter(torch.zeros(0, 4, **factory))
        n_basis = grid_size + spline_order
        bound = 1.0 / math.sqrt(in_features)
        self.base_weight = nn.Parameter(torch.empty(in_features, out_features, **factory))
        self.spline_coef = nn.Parameter(torch.empty(in_features, n_basis, out_features, **factory))
        self.bias = nn.Parameter(torch.zeros(out_features, **factory))
        nn.init.uniform_(self.base_weight, -bound, bound)
        nn.init.normal_(self.spline_coef, std=spline_init_std * bound)

    def set_knots(self, knots: torch.Tensor) -> None:
        """Use new knot vectors (C, M); every change of the knots goes through here or ``load_state_dict``."""
        self.knots = knots
        self._uniform = is_uniform(knots)

    @property
    def grid_size(self) -> int:
        """Intervals ``G`` of the grid."""
        return self.knots.shape[1] - 2 * self.spline_order - 1

    @property
    def grid(self) -> torch.Tensor:
        """Grid points of every input channel, shape (in, G + 1)."""
        return grid_of(self.knots, self.spline_order)

    @property
    def grid_range(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(lo, hi)`` of every input channel's grid, shapes (in,)."""
        grid = self.grid
        return grid[:, 0], grid[:, -1]

    def spline_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the splines see of ``x``: clamped to the grid for the clamped layout."""
        if self.knot_layout == "clamped":
            lo, hi = self.grid_range
            return torch.clamp(x, lo, hi)
        return x

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """Spline bases of every input channel, shape (N, in, G + k)."""
        return bspline_basis(self.spline_input(x), self.knots, self.spline_order)

    @property
    def symbolic_edges(self) -> list[tuple[int, int]]:
        """``(i, j)`` of the edges locked to a symbolic function."""
        return [(i, j) for i, j, _ in self.symbolic]

    def numeric_mask(self) -> torch.Tensor:
        """1 for live edges computed by their spline and base branch, shape (in, out)."""
        if not self.symbolic:
            return self.edge_mask
        mask = self.edge_mask.clone()
        rows, cols = zip(*self.symbolic_edges)
        mask[list(rows), list(cols)] = 0.0
        return mask

    def mask_edges(self, which: torch.Tensor) -> None:
        """Mark the edges where ``which`` (in, out) is True as pruned."""
        self.edge_mask[which] = 0.0
        self.pruned = True

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Base weights (in, out) and spline coefficients (in, G + k, out) of the numeric edges."""
        if not (self.pruned or self.symbolic):
            return self.base_weight, self.spline_coef
        mask = self.numeric_mask()
        return self.base_weight * mask, self.spline_coef * mask[:, None, :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer: (N, in) -> (N, out)."""
        n = x.shape[0]
        weight, coef = self._weights()
        base = nn.functional.silu(x) @ weight  # (N, out)
        out = base + self.basis(x).reshape(n, -1) @ coef.reshape(-1, self.out_features) + self.bias
        if self.symbolic:
            out = out + self._symbolic_values(x).sum(1)
        return out

    def forward_jet(self, jet: Jet) -> Jet:
        """Apply the layer to a jet (K, N, in) -> (K, N, out).

        Each edge's derivatives come from the closed-form derivatives of its base
        function and of the ``k + 1`` local B-spline bases, combined by Faà di Bruno's
        formula (:func:`~pinnkan.models.local_splines.spline_jet`); the spline branch
        reads only the coefficients next to each point, so its cost does not grow with
        the grid.
        """
        order = jet.plan.order
        k, n, _ = jet.data.shape
        weight, coef = self._weights()
        factors = jet.chain_factors()
        base = jet.compose(derivatives("silu", jet.value, order), factors)  # (K, N, in)
        out = (base.reshape(k * n, -1) @ weight).reshape(k, n, -1)
        spline = self._spline_input_jet(jet)
        spline_factors = factors if spline is jet else spline.chain_factors()
        out = out + spline_jet(spline, spline_factors, self.knots, self.spline_order, coef, uniform=self._uniform)
        out = out + jet.on_value(self.bias)
        if self.symbolic:
            out = out + self._symbolic_jet(jet)
        return Jet(jet.plan, out)

    def _spline_input_jet(self, jet: Jet) -> Jet:
        """The jet of :meth:`spline_input`: clamping stops the derivatives where it acts."""
        if self.knot_layout != "clamped":
            return jet
        lo, hi = self.grid_range
        value = jet.value
        inside = ((value >= lo) & (value <= hi)).to(value.dtype)
        return Jet(jet.plan, torch.cat([torch.clamp(value, lo, hi).unsqueeze(0), jet.data[1:] * inside]))

    def _symbolic_jet(self, jet: Jet) -> torch.Tensor:
        """The locked edges' contribution to the output jet, shape (K, N, out)."""
        order = jet.plan.order
        k, n, _ = jet.data.shape
        out = jet.data.new_zeros(k, n, self.out_features)
        for (i, j, name), (a, b, c, d) in zip(self.symbolic, self.symbolic_affine):
            f = elementwise_derivatives(LIBRARY[name].torch, b * jet.value[:, i : i + 1] + c, order)
            # d^r/dh^r [a f(b h + c) + d] = a b^r f^(r)(b h + c)
            edge = [a * f[0] + d] + [a * b**r * f[r] for r in range(1, order + 1)]
            values = Jet(jet.plan, jet.data[:, :, i : i + 1]).map(edge).data * self.edge_mask[i, j]  # (K, N, 1)
            out = out.index_add(2, torch.tensor([j], device=out.device), values)
        return out

    def edge_values(self, x: torch.Tensor) -> torch.Tensor:
        """Every edge function at ``x``: ``phi_ij(x_i)``, shape (N, in, out).

        The layer's output is ``edge_values(x).sum(1) + bias``.
        """
        weight, coef = self._weights()
        values = nn.functional.silu(x)[:, :, None] * weight + torch.einsum("nib,ibo->nio", self.basis(x), coef)
        if self.symbolic:
            values = values + self._symbolic_values(x)
        return values

    def lock_symbolic(self, i: int, j: int, name: str, affine: Sequence[float]) -> None:
        """Replace edge ``i -> j`` by ``a * f(b * x + c) + d`` with ``f = LIBRARY[name]``.

        The affine parameters ``(a, b, c, d)`` are trainable (a new parameter tensor:
        start a new optimiser after locking).
        """
        self.check_edge(i, j)
        if name not in LIBRARY:
            raise InputValueError(f"unknown symbolic function {name!r}; choose one of {sorted(LIBRARY)}")
        values = [float(v) for v in affine]
        if len(values) != 4 or not all(math.isfinite(v) for v in values):
            raise InputValueError(f"affine must be four finite numbers (a, b, c, d), got {affine!r}")
        self.unlock_symbolic(i, j)
        row = self.symbolic_affine.new_tensor([values])
        self.symbolic.append((i, j, name))
        self.symbolic_affine = nn.Parameter(torch.cat([self.symbolic_affine.detach(), row]))

    def unlock_symbolic(self, i: int, j: int) -> None:
        """Return edge ``i -> j`` to its spline and base branch (nothing if it is not locked)."""
        self.check_edge(i, j)
        self._keep_symbolic([k for k, (a, b, _) in enumerate(self.symbolic) if (a, b) != (i, j)])

    def select_symbolic(self, *, inputs: Sequence[int] | None = None, outputs: Sequence[int] | None = None) -> None:
        """Keep the locked edges between the given inputs and outputs, renumbered (for pruning)."""
        rows = {old: new for new, old in enumerate(range(self.in_features) if inputs is None else inputs)}
        cols = {old: new for new, old in enumerate(range(self.out_features) if outputs is None else outputs)}
        kept = [k for k, (i, j, _) in enumerate(self.symbolic) if i in rows and j in cols]
        renamed = [(rows[i], cols[j], name) for i, j, name in (self.symbolic[k] for k in kept)]
        self._keep_symbolic(kept)
        self.symbolic = renamed

    def _keep_symbolic(self, kept: list[int]) -> None:
        self.symbolic = [self.symbolic[k] for k in kept]
        self.symbolic_affine = nn.Parameter(self.symbolic_affine.detach()[kept].clone())

    def get_extra_state(self) -> dict[str, object]:
        return {"symbolic": list(self.symbolic), "knot_layout": self.knot_layout, "pruned": self.pruned}

    def set_extra_state(self, state: dict[str, object]) -> None:
        self.symbolic = [tuple(e) for e in state["symbolic"]]  # type: ignore[misc, union-attr]
        self.knot_layout = state["knot_layout"]  # type: ignore[assignment]
        self.pruned = bool(state["pruned"])

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The number of locked edges is part of the state: adopt the stored one.
        stored = state_dict.get(prefix + "symbolic_affine")
        if stored is not None and stored.shape != self.symbolic_affine.shape:
            self.symbolic_affine = nn.Parameter(self.symbolic_affine.new_zeros(stored.shape))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._uniform = is_uniform(self.knots)

    def _symbolic_values(self, x: torch.Tensor) -> torch.Tensor:
        """Values of the locked edges, zero elsewhere, shape (N, in, out)."""
        columns = []
        for (i, j, name), (a, b, c, d) in zip(self.symbolic, self.symbolic_affine):
            columns.append((a * LIBRARY[name].torch(b * x[:, i] + c) + d) * self.edge_mask[i, j])
        rows, cols = (torch.tensor(v, device=x.device) for v in zip(*self.symbolic_edges))
        values = x.new_zeros(self.in_features, self.out_features, x.shape[0])
        return values.index_put((rows, cols), torch.stack(columns)).permute(2, 0, 1)

    def check_edge(self, i: int, j: int) -> None:
        """Raise a ValueError naming the valid range unless edge ``i -> j`` exists."""
        if not (0 <= i < self.in_features and 0 <= j < self.out_features):
            raise InputValueError(
                f"edge ({i}, {j}) does not exist; this layer has inputs 0..{self.in_features - 1} "
                f"and outputs 0..{self.out_features - 1}"
            )

    def spline_values(self, x: torch.Tensor) -> torch.Tensor:
        """The spline branch of every edge at ``x``, shape (N, in, out)."""
        return torch.einsum("nib,ibo->nio", self.basis(x), self.spline_coef)

    @torch.no_grad()
    def extend_grid(self, grid_size: int) -> None:
        """Refine the grid to ``grid_size`` intervals, keeping the edge functions.

        The new grid points interpolate the old ones linearly in the knot index, so
        a multiple of the old size subdivides every interval: the old splines are
        then exactly representable and the least-squares transfer (on dense points
        of each grid range) reproduces them to rounding inside the range.
        """
        check_whole("grid_size", grid_size)
        if grid_size <= self.grid_size:
            raise InputValueError(
                f"grid extension needs a larger grid than the current G={self.grid_size}, got "
                f"{grid_size}; use update_grid() to re-place knots at the same size"
            )
        old = self.grid.to(_FIT_DTYPE)  # (in, G + 1)
        position = torch.linspace(0, self.grid_size, grid_size + 1, dtype=_FIT_DTYPE, device=old.device)
        left = position.floor().long().clamp(max=self.grid_size - 1)
        frac = position - left
        grid = old[:, left] + frac * (old[:, left + 1] - old[:, left])
        samples = _uniform_samples(old[:, 0], old[:, -1], 8 * (grid_size + self.spline_order) + 1)
        self._refit(grid, samples)

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, *, uniform_fraction: float = 0.1, margin: float = 0.01) -> None:
        """Re-place the knots around the values ``x`` reaching this layer; refit the splines.

        Each channel's new grid blends the quantiles of its values with a uniform
        grid, ``(1 - f) * quantiles + f * uniform``, on ``[min, max]`` widened by
        ``margin`` of its width at each end. The coefficients are refitted by least
        squares to the old edge functions at ``x`` and at uniform points of the new
        range. Channels whose values are all equal keep their grid.

        Parameters
        ----------
        x : torch.Tensor, shape (N, in)
            Values entering the layer.
        uniform_fraction : float
            Weight ``f`` of the uniform grid, in ``(0, 1]``; it keeps knots distinct.
        margin : float
            Relative widening of the range, ``>= 0``.
        """
        _check_values(x, self.in_features)
        if not 0.0 < uniform_fraction <= 1.0:
            raise InputValueError(f"uniform_fraction must be in (0, 1], got {uniform_fraction}")
        if not (math.isfinite(margin) and margin >= 0.0):
            raise InputValueError(f"margin must be a finite number >= 0, got {margin}")
        values = x.detach().to(_FIT_DTYPE)
        lo, hi = values.min(0).values, values.max(0).values
        width = hi - lo
        keep = width <= 1e-12 * torch.clamp(hi.abs(), min=1.0)
        lo, hi = lo - margin * width, hi + margin * width
        levels = torch.linspace(0, 1, self.grid_size + 1, dtype=_FIT_DTYPE, device=values.device)
        quantiles = torch.quantile(values, levels, dim=0).T  # (in, G + 1)
        quantiles[:, 0], quantiles[:, -1] = lo, hi
        uniform = lo[:, None] + width[:, None] * (1 + 2 * margin) * levels
        grid = (1 - uniform_fraction) * quantiles + uniform_fraction * uniform
        grid = torch.where(keep[:, None], self.grid.to(_FIT_DTYPE), grid)
        g_lo, g_hi = grid[:, 0], grid[:, -1]
        samples = torch.cat([values, _uniform_samples(g_lo, g_hi, 4 * (self.grid_size + self.spline_order) + 1)])
        self._refit(grid, samples)

    def _refit(self, grid: torch.Tensor, samples: torch.Tensor) -> None:
        """Move to the knots of ``grid`` (in, G' + 1), fitting the old splines at ``samples`` (S, in)."""
        dtype = self.spline_coef.dtype
        target = self.spline_values(samples.to(dtype)).to(_FIT_DTYPE)  # (S, in, out)
        knots = knots_from_grid(grid, self.spline_order, self.knot_layout)
        if self.knot_layout == "clamped":
            samples = torch.clamp(samples, grid[:, 0], grid[:, -1])
        coef = fit_coefficients(samples, target, knots, self.spline_order)
        self.set_knots(knots.to(dtype))
        # lstsq returns column-major solutions; optimisers such as L-BFGS need contiguous grads.
        self.spline_coef = nn.Parameter(coef.to(dtype).contiguous())

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"grid_size={self.grid_size}, spline_order={self.spline_order}, knot_layout={self.knot_layout!r}"
        )


class KAN(Network):
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
    knot_layout : {"extended", "clamped"}
        Knot vector of every layer (see :class:`KANLayer`).
    mult : sequence of int, optional
        For each hidden layer, how many of its ``widths[l]`` nodes multiply their two
        factor sub-nodes (the layer's last nodes); none when omitted.
    spline_init_std : float
        Initial spread of the spline coefficients.
    dtype, device
        Where the parameters live.

    Attributes
    ----------
    widths : tuple of int
        Node widths, input and output included.
    mult : tuple of int
        Multiplication nodes of each hidden layer (zeros without any).

    Examples
    --------
    >>> net = KAN((2, 8, 1), input_bounds=((0.0, 0.0), (1.0, 2.0)))
    >>> net(torch.rand(5, 2)).shape
    torch.Size([5, 1])
    >>> KAN((2, 3, 1), mult=(1,)).layers[0].out_features  # two sum nodes, two factors of one product
    4
    """

    def __init__(
        self,
        widths: Sequence[int],
        *,
        grid_size: int = 5,
        spline_order: int = 3,
        input_bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        squash_hidden: bool = True,
        knot_layout: KnotLayout = "extended",
        mult: Sequence[int] | None = None,
        spline_init_std: float = 0.1,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        if len(widths) < 2:
            raise InputValueError(f"widths needs at least an input and an output width, got {widths}")
        for w in widths:
            check_whole("every width", w)
        dtype = dtype or torch.get_default_dtype()
        self.widths = widths
        self.mult = _check_mult("KAN", mult, widths[1:-1])
        self.squash_hidden = squash_hidden
        lo, hi = box_bounds(input_bounds, widths[0])
        self.register_buffer("input_lo", torch.tensor(lo, dtype=dtype, device=device))
        self.register_buffer("input_hi", torch.tensor(hi, dtype=dtype, device=device))
        self.layers = nn.ModuleList(
            KANLayer(
                a,
                b,
                grid_size=grid_size,
                spline_order=spline_order,
                knot_layout=knot_layout,
                spline_init_std=spline_init_std,
                dtype=dtype,
                device=device,
            )
            for a, b in zip(widths[:-1], self._columns())
        )

    def _columns(self) -> list[int]:
        """Outputs of every layer: its nodes, a multiplication node counting twice."""
        return [w + m for w, m in zip(self.widths[1:], (*self.mult, 0))]

    @property
    def spline_order(self) -> int:
        return self.layers[0].spline_order

    @property
    def grid_size(self) -> int:
        """Intervals ``G`` of the first layer's grid (all layers share it unless set apart)."""
        return self.layers[0].grid_size

    @property
    def smoothness(self) -> int:
        """Number of continuous derivatives of the network output (``k - 1``)."""
        return self.spline_order - 1

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Map points of the bounding box onto the grid range ``[-1, 1]``."""
        return 2.0 * (x - self.input_lo) / (self.input_hi - self.input_lo) - 1.0

    def node_columns(self, level: int) -> list[tuple[int, ...]]:
        """For every node of layer ``level`` (1 .. L), the outputs of layer ``level - 1`` it is made of.

        A sum node is one output ``(j,)``, a multiplication node its two factors
        ``(s + 2q, s + 2q + 1)``, with ``s`` the layer's sum nodes.

        Examples
        --------
        >>> KAN((2, 3, 1), mult=(2,)).node_columns(1)
        [(0,), (1, 2), (3, 4)]
        """
        if not 1 <= level < len(self.widths):
            last = len(self.widths) - 1
            raise InputValueError(f"node layer {level} does not exist; the network has node layers 1..{last}")
        m = self.mult[level - 1] if level < len(self.widths) - 1 else 0
        s = self.widths[level] - m
        return [(j,) for j in range(s)] + [(s + 2 * q, s + 2 * q + 1) for q in range(m)]

    def combine(self, level: int, h: torch.Tensor) -> torch.Tensor:
        """Node values (N, widths[level + 1]) from the outputs (N, out) of layer ``level``.

        Sum nodes are their outputs as they are; multiplication node ``q`` is the
        product of outputs ``s + 2q`` and ``s + 2q + 1``. Without multiplication nodes
        ``h`` itself is returned.
        """
        m = self.mult[level] if level < len(self.mult) else 0
        if m == 0:
            return h
        s = self.widths[level + 1] - m
        sums, factors = h.split([s, 2 * m], dim=1)
        a, b = factors.unflatten(1, (m, 2)).unbind(2)
        return torch.cat([sums, a * b], dim=1)

    def combine_jet(self, level: int, jet: Jet) -> Jet:
        """:meth:`combine` of a jet (K, N, out): products by Leibniz's rule (:meth:`Jet.multiply`)."""
        m = self.mult[level] if level < len(self.mult) else 0
        if m == 0:
            return jet
        s = self.widths[level + 1] - m
        sums, factors = jet.data.split([s, 2 * m], dim=2)
        # Dense (K, N, m) factors: Leibniz's rule runs many small products on them.
        a, b = factors.unflatten(2, (m, 2)).movedim(3, 0).contiguous()
        products = Jet(jet.plan, a).multiply(Jet(jet.plan, b))
        return Jet(jet.plan, torch.cat([sums, products.data], dim=2))

    def _hidden(self, level: int, h: torch.Tensor) -> torch.Tensor:
        """What enters layer ``level + 1`` from the outputs of layer ``level``: node values, squashed or not."""
        h = self.combine(level, h)
        return torch.tanh(h) if self.squash_hidden else h

    def layer_inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The values entering each layer (node values after normalising or squashing)."""
        check_input(x, self.in_features)
        h = self.normalise(x)
        inputs = []
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self._hidden(i - 1, h)
            inputs.append(h)
            h = layer(h)
        return inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network: (N, widths[0]) -> (N, widths[-1])."""
        check_input(x, self.in_features)
        h = self.normalise(x)
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self._hidden(i - 1, h)
            h = layer(h)
        return h

    def forward_jet(self, jet: Jet) -> Jet:
        """Push a jet of the coordinates through the network (see :mod:`pinnkan.models.jets`)."""
        order = jet.plan.order
        h = self.normalise_jet(jet)
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self.combine_jet(i - 1, h)
                if self.squash_hidden:
                    h = h.map(derivatives("tanh", h.value, order))
            h = layer.forward_jet(h)
        return h

    def count_parameters(self) -> int:
        """Parameters that matter: ``G + k + 1`` per live spline edge, 4 per symbolic edge, biases.

        Pruned edges keep their (unused) tensors until their node goes; they are not counted.
        """
        total = 0
        for layer in self.layers:
            symbolic = len([e for e in layer.symbolic_edges if layer.edge_mask[e] > 0])
            numeric = int(layer.edge_mask.sum()) - symbolic
            total += numeric * (layer.spline_coef.shape[1] + 1) + 4 * symbolic + layer.out_features
        return total

    def edge_values(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every edge function of every layer at the values reaching it, shapes (N, in, out)."""
        return [layer.edge_values(h) for layer, h in zip(self.layers, self.layer_inputs(x))]

    @torch.no_grad()
    def grid_coverage(self, x: torch.Tensor) -> list[float]:
        """Fraction of the values entering each layer that lie inside its grid range."""
        coverage = []
        for layer, h in zip(self.layers, self.layer_inputs(x)):
            lo, hi = layer.grid_range
            coverage.append(float(((h >= lo) & (h <= hi)).to(h.dtype).mean()))
        return coverage

    def extend_grid(self, grid_size: int) -> None:
        """Refine every layer's grid to ``grid_size`` intervals (see :meth:`KANLayer.extend_grid`).

        Examples
        --------
        >>> net = KAN((2, 4, 1), grid_size=5, dtype=torch.float64)
        >>> x = torch.rand(100, 2, dtype=torch.float64) * 2 - 1
        >>> before = net(x)
        >>> net.extend_grid(10)
        >>> bool(torch.allclose(net(x), before, atol=1e-10))
        True
        """
        for layer in self.layers:
            layer.extend_grid(grid_size)

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, *, uniform_fraction: float = 0.1, margin: float = 0.01) -> None:
        """Re-place every layer's knots around the values that reach it from inputs ``x``.

        Layers are updated in order, each from the values produced by the already
        updated layers before it (see :meth:`KANLayer.update_grid`).

        Parameters
        ----------
        x : torch.Tensor, shape (N, in_features)
            Sample inputs, e.g. a training batch, in domain coordinates.
        uniform_fraction, margin : float
            See :meth:`KANLayer.update_grid`.
        """
        check_input(x, self.in_features)
        _check_values(x, self.in_features)
        h = self.normalise(x)
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self._hidden(i - 1, h)
            layer.update_grid(h, uniform_fraction=uniform_fraction, margin=margin)
            h = layer(h)

    def describe(self) -> str:
        """A one-line summary, e.g. ``KAN[2,8,1] G=5 k=3``; ``KAN[2,3(1×),1]``: one of three hidden nodes multiplies."""
        layer = self.layers[0]
        marks = ["", *(f"({m}×)" if m else "" for m in self.mult), ""]
        widths = ",".join(f"{w}{mark}" for w, mark in zip(self.widths, marks))
        layout = "" if layer.knot_layout == "extended" else f" {layer.knot_layout}"
        return f"KAN[{widths}] G={layer.grid_size} k={layer.spline_order}{layout}"

    def spec(self) -> KANSpec:
        layer = self.layers[0]
        return KANSpec(
            hidden=tuple(self.widths[1:-1]),
            grid_size=layer.grid_size,
            spline_order=layer.spline_order,
            squash_hidden=self.squash_hidden,
            knot_layout=layer.knot_layout,
            mult=self.mult if any(self.mult) else (),
        )


@dataclass(frozen=True, kw_only=True)
class KANSpec(ModelSpec):
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
    knot_layout : {"extended", "clamped"}
        See :class:`KANLayer`.
    mult : tuple of int
        Multiplication nodes of each hidden layer, among its ``hidden`` width (see
        :class:`KAN`); ``()`` for none.
    """

    hidden: tuple[int, ...] = (8,)
    grid_size: int = 5
    spline_order: int = 3
    squash_hidden: bool = True
    knot_layout: KnotLayout = "extended"
    mult: tuple[int, ...] = ()
    kind = "kan"

    def __post_init__(self) -> None:
        check_hidden("KANSpec", self.hidden)
        check_whole("grid_size", self.grid_size)
        _check_spline_order(self.spline_order)
        _check_layout(self.knot_layout)
        if self.mult != ():
            mult = _check_mult("KANSpec", self.mult, self.hidden)
            # All zeros is a plain KAN: one spelling, so specs compare equal.
            object.__setattr__(self, "mult", mult if any(mult) else ())

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
            knot_layout=self.knot_layout,
            mult=self.mult or None,
            dtype=dtype,
            device=device,
        )


def find_kan(model: nn.Module, what: str = "this operation") -> KAN:
    """The :class:`KAN` inside ``model`` (the model itself or a wrapper around one)."""
    for module in model.modules():
        if isinstance(module, KAN):
            return module
    raise InputTypeError(f"{what} needs a B-spline KAN model, got {type(model).__name__}; use KANSpec")


def _check_spline_order(order: object) -> None:
    if not whole(order, 1):
        raise InputValueError(f"spline_order must be an int >= 1, got {order!r}")


def _check_layout(layout: object) -> None:
    if layout not in KNOT_LAYOUTS:
        raise InputValueError(f"knot_layout must be one of {KNOT_LAYOUTS}, got {layout!r}")


def _check_mult(owner: str, mult: object, hidden: Sequence[int]) -> tuple[int, ...]:
    """``mult`` as a tuple of one count per hidden layer (zeros for None), each from 0 to the layer's width."""
    if mult is None:
        return (0,) * len(hidden)
    example = f"e.g. mult={(0,) * max(len(hidden) - 1, 0) + (1,)!r}" if hidden else "mult=None"
    if not isinstance(mult, (tuple, list)):
        raise InputTypeError(
            f"{owner} mult takes one count of multiplication nodes per hidden layer ({example}), got {mult!r}"
        )
    if len(mult) != len(hidden):
        extra = "; the output layer never multiplies" if len(mult) > len(hidden) else ""
        raise InputValueError(
            f"{owner} mult needs one count per hidden layer, {len(hidden)} for hidden widths {tuple(hidden)} "
            f"({example}), got {len(mult)}{extra}"
        )
    for m, w in zip(mult, hidden):
        if not whole(m, 0, w):
            raise InputValueError(
                f"{owner} mult counts must be ints from 0 to their hidden width {tuple(hidden)}, got {tuple(mult)!r}; "
                f"a multiplication node is one of its layer's nodes"
            )
    return tuple(int(m) for m in mult)


def _check_values(x: torch.Tensor, width: int) -> None:
    if x.ndim != 2 or x.shape[1] != width or x.shape[0] < 2:
        raise InputValueError(f"grid updates need values of shape (N >= 2, {width}), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise InputValueError("grid updates need finite values; drop NaN/inf samples first")


def _uniform_samples(lo: torch.Tensor, hi: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` evenly spaced points of each channel's ``[lo, hi]``, shape (count, C)."""
    steps = torch.linspace(0, 1, count, dtype=lo.dtype, device=lo.device)
    return lo + steps[:, None] * (hi - lo)
