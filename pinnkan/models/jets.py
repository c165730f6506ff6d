"""Forward derivative jets: values carried together with the partial derivatives a residual needs.

A :class:`Jet` holds, for a batch of ``N`` points and ``w`` channels, the value and
a fixed set of partial derivatives with respect to the input coordinates, stacked
as one tensor ``data`` of shape ``(K, N, w)``; ``data[0]`` is the value. Which
derivatives it carries is its :class:`JetPlan`: multi-indices (sorted tuples of
coordinate axes, ``(0, 0)`` for ``d^2/dx_0^2``) closed under taking sub-multisets,
so that every derivative the chain rule needs is there.

A network pushes a jet through its layers: affine maps act on every component
at once, and an elementwise function ``phi`` acts by Faà di Bruno's formula,

    (phi o h)_alpha = sum over set partitions pi of alpha of phi^(|pi|)(h) prod_{B in pi} h_B,

e.g. ``(phi o h)_xy = phi''(h) h_x h_y + phi'(h) h_xy``. Products use Leibniz's
rule ``(f g)_alpha = sum_{beta subset alpha} f_beta g_{alpha - beta}``. One forward pass
yields every derivative the residual asks for; the gradients with respect to
the parameters then come from one ordinary backward pass.

Examples
--------
>>> plan = JetPlan.closure(1, [(0, 0)])          # value, d/dx, d^2/dx^2
>>> x = torch.tensor([[0.5]], dtype=torch.float64)
>>> jet = Jet.of_inputs(x, plan)
>>> y = jet.map([torch.sin(x), torch.cos(x), -torch.sin(x)])
>>> [round(float(y.component(i)), 6) for i in plan.indices]
[0.479426, 0.877583, -0.479426]
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch

from ..errors import InputValueError, whole

__all__ = ["MultiIndex", "JetPlan", "Jet", "jet_obstacle"]

MultiIndex = tuple[int, ...]

# A term of a composite's derivative: (order r of phi, multiplicity, component indices of the blocks).
_ChainTerm = tuple[int, int, tuple[int, ...]]
# A term of a product's derivative: (multiplicity, component of the first factor, component of the second).
_ProductTerm = tuple[int, int, int]


@dataclass(frozen=True)
class JetPlan:
    """Which partial derivatives a jet carries, with the bookkeeping of the chain and product rules.

    Build one with :meth:`closure`. ``indices[0]`` is ``()`` (the value); indices are
    ordered by total order, so every derivative comes after the ones it is built from.

    Attributes
    ----------
    dim : int
        Number of input coordinates.
    indices : tuple of MultiIndex
        The carried derivatives, as sorted tuples of axes.
    """

    dim: int
    indices: tuple[MultiIndex, ...]
    _position: dict[MultiIndex, int] = field(init=False, repr=False, compare=False)
    _chain: tuple[tuple[_ChainTerm, ...], ...] = field(init=False, repr=False, compare=False)
    _product: tuple[tuple[_ProductTerm, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        position = {index: k for k, index in enumerate(self.indices)}
        if len(position) != len(self.indices) or not self.indices or self.indices[0] != ():
            raise InputValueError(f"a jet plan lists distinct multi-indices, the value () first; got {self.indices}")
        for index in self.indices:
            if tuple(sorted(index)) != index or any(not 0 <= a < self.dim for a in index):
                raise InputValueError(f"multi-index {index} must be a sorted tuple of axes in 0..{self.dim - 1}")
            for sub in _sub_indices(index):
                if sub not in position or position[sub] >= position[index]:
                    raise InputValueError(f"a jet plan with {index} must list {sub} before it; use JetPlan.closure")
        object.__setattr__(self, "_position", position)
        object.__setattr__(self, "_chain", tuple(_chain_terms(i, position) for i in self.indices))
        object.__setattr__(self, "_product", tuple(_product_terms(i, position) for i in self.indices))

    @classmethod
    def closure(cls, dim: int, wanted: Iterable[MultiIndex]) -> JetPlan:
        """The smallest plan carrying the value and every multi-index in ``wanted``.

        Parameters
        ----------
        dim : int
            Number of input coordinates.
        wanted : iterable of tuple of int
            Derivatives needed, as tuples of axes in any order (``(1, 0)`` is ``(0, 1)``).
        """
        if not whole(dim, 1):
            raise InputValueError(f"a jet plan needs dim >= 1 input coordinates, got {dim!r}")
        indices: set[MultiIndex] = {()}
        for index in wanted:
            index = tuple(sorted(int(a) for a in index))
            if any(not 0 <= a < dim for a in index):
                raise InputValueError(f"multi-index {index} names an axis outside 0..{dim - 1}")
            indices.add(index)
            indices.update(_sub_indices(index))
        return cls(dim, tuple(sorted(indices, key=lambda i: (len(i), i))))

    @property
    def size(self) -> int:
        """Number of carried components ``K`` (the value included)."""
        return len(self.indices)

    @property
    def order(self) -> int:
        """Highest total derivative order carried."""
        return max(len(i) for i in self.indices)

    def position(self, index: MultiIndex) -> int:
        """Component number of a carried multi-index; KeyError if it is not carried."""
        return self._position[index]

    def __contains__(self, index: object) -> bool:
        return index in self._position


class Jet:
    """Values and carried partial derivatives of ``w`` channels at ``N`` points.

    Parameters
    ----------
    plan : JetPlan
        Which derivatives ``data`` holds, in order.
    data : torch.Tensor, shape (K, N, w)
        ``data[k]`` is the derivative ``plan.indices[k]``; ``data[0]`` the value.

    Attributes
    ----------
    points : torch.Tensor or None
        For a jet of the coordinates (:meth:`of_inputs`), the points it was made from.
    """

    points: torch.Tensor | None = None

    def __init__(self, plan: JetPlan, data: torch.Tensor) -> None:
        if data.ndim != 3 or data.shape[0] != plan.size:
            raise InputValueError(f"jet data must have shape ({plan.size}, N, w) for {plan.size} components, got {tuple(data.shape)}")
        self.plan = plan
        self.data = data
        self._parts: tuple[torch.Tensor, ...] | None = None

    @property
    def parts(self) -> tuple[torch.Tensor, ...]:
        """The components one by one, each (N, w) (one ``unbind``: indexing ``data`` per
        component would make every backward step allocate the whole stack)."""
        if self._parts is None:
            self._parts = self.data.unbind(0)
        return self._parts

    @classmethod
    def of_inputs(cls, points: torch.Tensor, plan: JetPlan) -> Jet:
        """The coordinates themselves: value ``x``, ``dx_i/dx_j = delta_ij``, higher derivatives zero."""
        if points.ndim != 2 or points.shape[1] != plan.dim:
            raise InputValueError(f"points must have shape (N, {plan.dim}) for this plan, got {tuple(points.shape)}")
        data = points.new_zeros(plan.size, *points.shape)
        data[0] = points.detach()
        eye = torch.eye(plan.dim, dtype=points.dtype, device=points.device)
        for axis in range(plan.dim):
            if (axis,) in plan:
                data[plan.position((axis,))] = eye[axis]
        jet = cls(plan, data)
        jet.points = points
        return jet

    @property
    def value(self) -> torch.Tensor:
        """The values, shape (N, w)."""
        return self.parts[0]

    @property
    def width(self) -> int:
        """Number of channels ``w``."""
        return self.data.shape[2]

    def component(self, index: MultiIndex) -> torch.Tensor:
        """The derivative ``index`` (a sorted tuple of axes), shape (N, w)."""
        return self.parts[self.plan.position(index)]

    def on_value(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` (w,) in the value's row and zeros in the derivatives' rows, shape (K, 1, w).

        Adding it to ``data`` shifts the value only (a constant has no derivatives).
        """
        values = values.reshape(1, 1, -1)
        return torch.cat([values, values.new_zeros(self.plan.size - 1, 1, values.shape[2])])

    def affine(self, scale: torch.Tensor, shift: torch.Tensor) -> Jet:
        """``x * scale + shift`` per channel, ``scale`` and ``shift`` of shape (w,)."""
        return Jet(self.plan, self.data * scale + self.on_value(shift))

    def linear(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> Jet:
        """``x @ weight + bias``: ``weight`` (w, out) acts on every component, ``bias`` (out,) on the value only."""
        k, n, w = self.data.shape
        out = (self.data.reshape(k * n, w) @ weight).reshape(k, n, -1)
        return Jet(self.plan, out if bias is None else out + self.on_value(bias))

    def chain_factors(self) -> list[list[tuple[int, torch.Tensor | None]]]:
        """For every component ``alpha``: the pairs ``(r, P_{alpha,r})`` of Faà di Bruno's formula.

        ``(phi o h)_alpha = sum_r phi^(r)(h) P_{alpha,r}`` with ``P_{alpha,r}`` (N, w) a sum
        of products of ``r`` derivatives of ``h``; ``None`` stands for one (the value's term).
        """
        data = self.parts
        factors: list[list[tuple[int, torch.Tensor | None]]] = []
        for terms in self.plan._chain:
            by_order: dict[int, torch.Tensor | None] = {}
            for r, count, blocks in terms:
                if not blocks:
                    by_order[0] = None
                    continue
                product = data[blocks[0]]
                for b in blocks[1:]:
                    product = product * data[b]
                if count != 1:
                    product = count * product
                by_order[r] = product if r not in by_order else by_order[r] + product  # type: ignore[operator]
            factors.append([(r, by_order[r]) for r in sorted(by_order)])
        return factors

    def compose(
        self, derivatives: Sequence[torch.Tensor], factors: list[list[tuple[int, torch.Tensor | None]]] | None = None
    ) -> torch.Tensor:
        """Components of ``phi(h)`` from ``derivatives[r] = phi^(r)(value)``: shape (K, N, ..., w).

        ``derivatives[r]`` has shape (N, w) or (N, m, w) (then each of the ``m`` middle
        entries is a separate function of the channel, e.g. spline bases); it needs
        ``len(derivatives) > plan.order``. ``factors`` may pass precomputed
        :meth:`chain_factors`.
        """
        if len(derivatives) <= self.plan.order:
            raise InputValueError(f"composing needs derivatives up to order {self.plan.order}, got {len(derivatives) - 1}")
        factors = self.chain_factors() if factors is None else factors
        extra = derivatives[0].ndim - 2
        out = []
        for terms in factors:
            total = None
            for r, product in terms:
                if product is None:
                    total = derivatives[r] if total is None else total + derivatives[r]
                    continue
                product = product.reshape(product.shape[0], *([1] * extra), product.shape[1])
                total = product * derivatives[r] if total is None else torch.addcmul(total, product, derivatives[r])
            out.append(total)
        return torch.stack(out)  # type: ignore[arg-type]

    def map(self, derivatives: Sequence[torch.Tensor]) -> Jet:
        """The jet of ``phi(h)`` given ``derivatives[r] = phi^(r)(value)``, each (N, w)."""
        return Jet(self.plan, self.compose(derivatives))

    def multiply(self, other: Jet) -> Jet:
        """The jet of the product ``self * other`` (Leibniz's rule), channel by channel."""
        if other.plan != self.plan:
            raise InputValueError("jets multiply only with the same plan")
        a, b = self.parts, other.parts
        out = []
        for terms in self.plan._product:
            total = None
            for count, i, j in terms:
                term = a[i] * b[j]
                if count != 1:
                    term = count * term
                total = term if total is None else total + term
            out.append(total)
        return Jet(self.plan, torch.stack(out))  # type: ignore[arg-type]

    def __add__(self, other: Jet) -> Jet:
        if other.plan != self.plan:
            raise InputValueError("jets add only with the same plan")
        return Jet(self.plan, self.data + other.data)


def jet_obstacle(module: object) -> str | None:
    """Why ``module`` cannot propagate jets, or None when it can.

    A module propagates jets when it has ``forward_jet(jet) -> Jet`` and its own
    ``jet_obstacle()`` (if any) reports nothing in the way.
    """
    forward_jet = getattr(module, "forward_jet", None)
    if not callable(forward_jet):
        return f"{type(module).__name__} is not one of pinnkan's networks (it has no forward_jet)"
    check = getattr(module, "jet_obstacle", None)
    return check() if callable(check) else None


def _sub_indices(index: MultiIndex) -> set[MultiIndex]:
    """Every proper sub-multiset of ``index`` (the empty one included), as sorted tuples."""
    subs = set()
    for size in range(len(index)):
        for chosen in itertools.combinations(range(len(index)), size):
            subs.add(tuple(index[p] for p in chosen))
    return subs


def _set_partitions(items: list[int]) -> Iterable[list[list[int]]]:
    """Every partition of ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        yield [[first], *partition]
        for k in range(len(partition)):
            yield [*partition[:k], [first, *partition[k]], *partition[k + 1 :]]


def _chain_terms(index: MultiIndex, position: dict[MultiIndex, int]) -> tuple[_ChainTerm, ...]:
    """Faà di Bruno's terms of ``index``, equal block multisets merged with their count."""
    if not index:
        return ((0, 1, ()),)
    counts: Counter[tuple[int, tuple[int, ...]]] = Counter()
    for partition in _set_partitions(list(range(len(index)))):
        blocks = tuple(sorted(position[tuple(sorted(index[p] for p in block))] for block in partition))
        counts[(len(partition), blocks)] += 1
    return tuple((r, count, blocks) for (r, blocks), count in sorted(counts.items()))


def _product_terms(index: MultiIndex, position: dict[MultiIndex, int]) -> tuple[_ProductTerm, ...]:
    """Leibniz's terms of ``index``: splits of its positions into two sub-multi-indices, merged with their count."""
    counts: Counter[tuple[int, int]] = Counter()
    n = len(index)
    for size in range(n + 1):
        for chosen in itertools.combinations(range(n), size):
            left = tuple(index[p] for p in chosen)
            right = tuple(index[p] for p in range(n) if p not in chosen)
            counts[(position[left], position[right])] += 1
    return tuple((count, i, j) for (i, j), count in sorted(counts.items()))
