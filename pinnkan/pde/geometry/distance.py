"""Approximate distance functions: R-functions, trimmed pieces and their combinations.

Every domain has a smooth approximate distance ``phi`` to its boundary (Sukumar &
Srivastava, "Exact imposition of boundary conditions with distance functions in
physics-informed deep neural networks", CMAME 2022): positive inside, zero on the
boundary, and normalised to first order, so that its derivative along the inward
normal is one on the boundary (away from corners, where no smooth function can be
normalised to two faces at once). Primitives give it in closed form; constructive
geometry composes it with R-functions, which keep both the zero set and the
normalisation:

    A ∩ B:  phi_A + phi_B - sqrt(phi_A^2 + phi_B^2)
    A ∪ B:  phi_A + phi_B + sqrt(phi_A^2 + phi_B^2)
    A \\ B:  A ∩ (not B),  not B: -phi_B

A domain's boundary is also a list of :class:`Piece` objects (a box's faces, a
disk's circle, a polygon's edges, and the parts of them that constructive geometry
keeps), each with a distance of its own that vanishes on that piece only; a
boundary part (a face, a :class:`~pinnkan.pde.geometry.Where`) is a set of whole
pieces, and its distance is their R-equivalence ``(sum_i phi_i^-2)^(-1/2)``. A
piece that only part of it belongs to the domain's boundary is trimmed:
``sqrt(f^2 + ((sqrt(t^2 + f^4) - t) / 2)^2)`` vanishes where ``f = 0`` and ``t >= 0``.

Every function here takes the coordinates by name (a mapping name -> (N,) tensor)
and returns an (N,) tensor, differentiable to any order wherever the point is not on
a corner (a tiny ``EPS`` inside each square root keeps the corners finite). An
R-function is not smooth where both its arguments vanish: for the parts of a domain
that is the domain's corners, but a 3-D box's per-axis parabolas also vanish together
on the lines through its edges beyond it, so a box cut out of another domain leaves
those lines, inside the result, with second derivatives growing like one over the
distance to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["EPS", "Coordinates", "DistanceFunction", "Piece", "conjunction", "disjunction", "equivalence", "trim"]

Coordinates = Mapping[str, torch.Tensor]
DistanceFunction = Callable[[Coordinates], torch.Tensor]
# Points of a boundary piece: (n, rng) -> (n, dim) numpy array.
PieceSampler = Callable[[int, np.random.Generator], np.ndarray]

# Keeps square roots differentiable where their argument vanishes (corners, ends of pieces);
# it moves zeros by at most about EPS, far below any tolerance that matters.
EPS = 1e-14


def conjunction(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """R-conjunction (intersection): ``a + b - sqrt(a^2 + b^2)``, positive where both are."""
    return a + b - torch.sqrt(a * a + b * b + EPS**2)


def disjunction(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """R-disjunction (union): ``a + b + sqrt(a^2 + b^2)``, positive where either is."""
    return a + b + torch.sqrt(a * a + b * b + EPS**2)


def equivalence(values: Sequence[torch.Tensor], *, m: int = 1) -> torch.Tensor:
    """Distance to the union of pieces from their distances ``phi_i >= 0``: ``(sum_i phi_i^-m)^(-1/m)``.

    Zero where any ``phi_i`` is, and normalised to order ``m``: next to piece ``i`` it
    equals ``phi_i (1 - phi_i^m sum_{j != i} phi_j^-m / m + ...)``. With ``m = 1``
    (the default) two parallel walls at distance ``L`` give the parabola ``s (L - s) / L``.
    """
    if len(values) == 1:
        return values[0]
    if m == 1:
        total = sum(1.0 / torch.sqrt(v * v + EPS**2) for v in values)
        return 1.0 / total  # type: ignore[operator]
    total = sum((v * v + EPS**2) ** (-0.5 * m) for v in values)
    return total ** (-1.0 / m)  # type: ignore[operator]


def trim(f: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Distance to the piece ``{f = 0, t >= 0}``: ``sqrt(f^2 + ((sqrt(t^2 + f^4) - t) / 2)^2)``.

    Where ``t > 0`` it is ``|f| (1 + O(f^6))``: the piece's own distance, normalised;
    where ``t < 0`` it stays positive even where ``f`` vanishes.
    """
    f2 = f * f
    rest = 0.5 * (torch.sqrt(t * t + f2 * f2 + EPS**2) - t)
    return torch.sqrt(f2 + rest * rest + EPS**2)


@dataclass(frozen=True)
class Piece:
    """A smooth piece of a domain's boundary: a box face, a circle, a polygon edge, or what is kept of one.

    Attributes
    ----------
    label : str
        What the piece is, for messages (``"face x_min of Box(...)"``).
    distance : callable
        Coordinates -> (N,): zero on the piece and positive everywhere else in the
        closed domain (possibly zero on points outside the domain).
    sample : callable
        ``sample(n, rng)`` -> (n, dim) points of the piece as its primitive has it;
        constructive geometry may have removed some of them from the boundary.
    signed : bool
        Whether ``distance`` is negative beyond the piece (a plane's or a sphere's signed
        distance, positive on the side of its primitive): then it may be reversed
        (:meth:`flipped`) for the second operand of a difference.
    """

    label: str
    distance: DistanceFunction
    sample: PieceSampler
    signed: bool

    def flipped(self) -> Piece:
        """The same piece seen from the other side (positive outside its primitive)."""
        if not self.signed:
            return self
        distance = self.distance
        return Piece(self.label, lambda c: -distance(c), self.sample, True)

    def trimmed(self, keep: DistanceFunction) -> Piece:
        """The part of the piece where ``keep >= 0``, with a distance that is positive elsewhere."""
        distance = self.distance
        return Piece(self.label, lambda c: trim(distance(c), keep(c)), self.sample, False)
