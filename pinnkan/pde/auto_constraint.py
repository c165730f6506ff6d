"""Hard constraints built automatically from Dirichlet and initial-value conditions on boxes.

On a box (or a box in space times a time interval) the prescribed values on the
faces are blended into one function that meets all of them, by transfinite
(Coons) interpolation: with ``P_a`` the interpolation along axis ``a`` between its
constrained faces (linear between two faces, constant from one),

    g = (I - prod_a (I - P_a)) [values],      D = prod_a d_a(x_a),

where ``d_a`` vanishes on the constrained faces of axis ``a`` (``4 (x - lo)(hi - x)
/ (hi - lo)^2`` for two faces, ``(x - lo) / (hi - lo)`` for one). Then ``u = g + D N``
meets every condition for any network ``N``. This needs compatible data (the
faces' values agree where faces meet); the construction is checked on sampled
face points and abandoned, with the reason, when they disagree.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .conditions import Condition, Dirichlet, OnPart, Value
from .geometry import Box, Domain, SpaceTime
from .transforms import HardConstraint

__all__ = ["auto_constraint"]

# A face is (axis index, upper side).
Face = tuple[int, bool]


@dataclass(frozen=True)
class _Axis:
    index: int
    lo: float
    hi: float
    faces: tuple[tuple[bool, Value], ...]  # (upper side, value) for each constrained face


def auto_constraint(
    domain: Domain, conditions: Sequence[Condition], outputs: Sequence[str]
) -> tuple[HardConstraint | None, str]:
    """A :class:`HardConstraint` meeting the problem's face-wise Dirichlet and initial conditions.

    Returns
    -------
    (HardConstraint or None, str)
        The constraint (None when none can be built) and a note saying which
        conditions it covers or why there is none.
    """
    if len(outputs) != 1:
        return None, "no automatic hard constraint for systems (several outputs)"
    faces_of = _face_parts(domain)
    if faces_of is None:
        return None, "no automatic hard constraint on a domain that is not a box (or a box times a time interval)"
    lo, hi = domain.bounds()
    values: dict[Face, Value] = {}
    covered = []
    for condition in conditions:
        if not isinstance(condition, Dirichlet):  # Initial is a Dirichlet on 'initial'
            continue
        part = condition.location.part if isinstance(condition.location, OnPart) else None
        if not isinstance(part, str) or part not in faces_of or condition.output not in (None, outputs[0]):
            continue
        for face in faces_of[part]:
            if face in values:
                return None, f"two conditions prescribe values on the same face ({part!r}); keep one"
            values[face] = condition.value
        covered.append(condition.name)
    if not values:
        return None, "no Dirichlet or initial-value condition on a face to build in"
    axes = tuple(
        _Axis(a, float(lo[a]), float(hi[a]), tuple((upper, values[(a, upper)]) for upper in (False, True) if (a, upper) in values))
        for a in sorted({a for a, _ in values})
    )
    names = domain.coordinates
    constraint = HardConstraint(
        particular=lambda c: _blend(c, axes, names),
        distance=lambda c: _distance(c, axes, names),
        parts=tuple(covered),
    )
    problem = _mismatch(domain, constraint, conditions, covered)
    if problem:
        return None, f"no automatic hard constraint: {problem}"
    return constraint, f"built into the output: {', '.join(covered)}"


def _face_parts(domain: Domain) -> dict[str, list[Face]] | None:
    """Part name -> the box faces it consists of, or None if the domain is not box-shaped."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    if not isinstance(space, Box):
        return None
    parts: dict[str, list[Face]] = {}
    for axis, name in enumerate(space.coordinates):
        parts[f"{name}_min"] = [(axis, False)]
        parts[f"{name}_max"] = [(axis, True)]
    parts["boundary"] = [face for faces in parts.values() for face in faces]
    if isinstance(domain, SpaceTime):
        parts["initial"] = [(domain.dim - 1, False)]
    return parts


def _value_at(value: Value, c: Mapping[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    if not callable(value):
        return torch.full_like(like, float(value))
    out = torch.as_tensor(value(c), dtype=like.dtype, device=like.device)
    return out.expand_as(like) if out.ndim == 0 else out.reshape(like.shape)


def _blend(c: Mapping[str, torch.Tensor], axes: tuple[_Axis, ...], names: tuple[str, ...]) -> torch.Tensor:
    """``(I - prod_a (I - P_a))`` applied to the face values, shape (N,)."""
    like = c[names[0]]
    total = torch.zeros_like(like)
    for size in range(1, len(axes) + 1):
        sign = 1.0 if size % 2 else -1.0
        for subset in itertools.combinations(axes, size):
            for choice in itertools.product(*(axis.faces for axis in subset)):
                point = dict(c)
                weight = torch.ones_like(like)
                for axis, (upper, _) in zip(subset, choice):
                    name = names[axis.index]
                    x = c[name]
                    if len(axis.faces) == 2:
                        weight = weight * ((x - axis.lo) if upper else (axis.hi - x)) / (axis.hi - axis.lo)
                    point[name] = torch.full_like(x, axis.hi if upper else axis.lo)
                # The point lies on every chosen face; any of their values serves there.
                total = total + sign * weight * _value_at(choice[0][1], point, like)
    return total


def _distance(c: Mapping[str, torch.Tensor], axes: tuple[_Axis, ...], names: tuple[str, ...]) -> torch.Tensor:
    """``prod_a d_a``, zero on every constrained face and about one inside, shape (N,)."""
    like = c[names[0]]
    result = torch.ones_like(like)
    for axis in axes:
        x = c[names[axis.index]]
        width = axis.hi - axis.lo
        if len(axis.faces) == 2:
            result = result * 4.0 * (x - axis.lo) * (axis.hi - x) / width**2
        elif axis.faces[0][0]:
            result = result * (axis.hi - x) / width
        else:
            result = result * (x - axis.lo) / width
    return result


def _mismatch(domain: Domain, constraint: HardConstraint, conditions: Sequence[Condition], covered: list[str]) -> str:
    """Check the blended values on sampled face points; '' when they meet every covered condition."""
    rng = np.random.default_rng(0)
    for condition in conditions:
        if condition.name not in covered:
            continue
        points, _ = domain.sample_boundary(condition.location.part, 64, rng=rng)  # type: ignore[attr-defined]
        x = torch.as_tensor(points, dtype=torch.float64)
        c = {name: x[:, i] for i, name in enumerate(domain.coordinates)}
        target = _value_at(condition.value, c, x[:, 0])  # type: ignore[attr-defined]
        got = constraint.particular(c)
        scale = 1.0 + float(target.abs().max())
        if not bool(torch.isfinite(got).all()) or float((got - target).abs().max()) > 1e-8 * scale:
            return (
                f"the prescribed values disagree where faces meet (condition {condition.name!r} is off by "
                f"{float((got - target).abs().max()):.1e}); make them agree at the corners, or keep the conditions soft"
            )
    return ""
