"""Hard constraints built automatically from a problem's Dirichlet and initial-value conditions, on any domain.

The output becomes ``u = G + D N``: ``G`` meets every built-in condition, ``D``
vanishes exactly on their parts, so any network ``N`` meets them. Each output of a
system gets its own ``G`` and ``D`` (``D = 1`` for an output without such conditions).

* **Boxes** (a :class:`Box`, or a box times a time interval) whose conditions sit on
  whole faces: transfinite (Coons) interpolation of the face values, with
  ``P_a`` the interpolation along axis ``a`` between its constrained faces (linear
  between two, constant from one),

      G = (I - prod_a (I - P_a)) [values],      D = prod_a d_a(x_a),

  where ``d_a`` vanishes on the constrained faces of axis ``a`` (``4 (x - lo)(hi - x)
  / (hi - lo)^2`` for two faces, ``(x - lo) / (hi - lo)`` for one). Both are
  polynomials in the coordinates, smooth up to the corners.
* **Any other domain** (disks, polygons, constructive geometry, space-time over
  them): distance functions (Sukumar & Srivastava, CMAME 2022). Condition ``k`` on
  part ``P_k`` has the part's distance ``phi_k`` (:meth:`Domain.part_distance`); the
  spatial data are blended by transfinite interpolation,

      G_s = sum_k w_k g_k,   w_k = prod_{j != k} phi_j / sum_i prod_{j != i} phi_j,
      D_s = equivalence(phi_k) / scale,

  with ``scale`` the largest value of the spatial distance on the domain (so ``D`` is
  at most about one, like a box's).
* **Time**: the initial value is added like a Coons patch in time,

      G = G_s + s(t) (g_0 - G_s|_{t = t0}),      D = (t - t0) / (t1 - t0) D_s,

  with ``s = 1``, or ``s(t) = exp(-lambda (t - t0))`` when a decay rate is given
  (``decay=``; fitted to the PDE by :func:`pinnkan.pde.decay.fit_decay`); then, where
  the boundary values vanish, ``D`` is multiplied by ``s`` too, so that the whole
  output follows the decay and keeps its relative accuracy at late times.

Conditions on the normal derivative (Neumann, Robin), periodicity, initial
velocities and data stay in the loss; so does a Dirichlet condition whose part cuts
a boundary piece (a :class:`Where` that keeps half of a circle), or that meets
another on the same piece. The blended data must agree where parts meet (checked on
sampled points of every part): otherwise that output keeps its conditions in the loss.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputValueError
from .conditions import (
    Condition,
    Dirichlet,
    InitialVelocity,
    Neumann,
    Observations,
    Periodic,
    Robin,
    Value,
)
from .geometry import Box, Domain, SpaceTime
from .geometry.distance import Coordinates, DistanceFunction, equivalence
from .transforms import HardConstraint, OutputTransform
from .user_code import call_user

__all__ = ["ConstraintPlan", "auto_constraint"]

# A face is (axis index, upper side).
Face = tuple[int, bool]
# Interior points on which the built distance must be positive, and the largest value is taken.
_INTERIOR_PROBES = 4096
# Points of each built condition's part on which its value is checked.
_PART_PROBES = 128


@dataclass(frozen=True)
class ConstraintPlan:
    """Which conditions are built into the output, and why the others stay in the loss.

    Attributes
    ----------
    constraint : OutputTransform or None
        The output transform (``u = G + D N`` when built automatically); None when no
        condition is built in.
    built : tuple of str
        Names of the conditions built in.
    soft : dict of str to str
        Every other condition's name, with the reason it stays in the loss.
    source : str
        ``"automatic"``, ``"problem"`` (the problem's own hard constraint) or ``"none"`` (``hard=False``).
    decay : dict of str to float
        Per output, the rate at which the built-in initial value decays (empty: none).
    """

    constraint: OutputTransform | None
    built: tuple[str, ...] = ()
    soft: dict[str, str] = field(default_factory=dict)
    source: str = "automatic"
    decay: dict[str, float] = field(default_factory=dict)

    @property
    def note(self) -> str:
        """One line for reports: what is built in and what is not, with the reasons."""
        if self.source == "none":
            return "none: every condition is enforced through the loss (hard=False)"
        if self.source == "problem":
            return f"the problem's own, covering {', '.join(self.built) or 'no condition'}"
        built = f"built into the output: {', '.join(self.built)}" if self.built else "no condition built into the output"
        for output, rate in self.decay.items():
            built += f"; the initial value of {output} decays like exp(-{rate:.6g} (t - t0)), fitted to the PDE at t0"
        if not self.soft:
            return built
        return f"{built}; in the loss: " + "; ".join(f"{name} ({why})" for name, why in self.soft.items())


@dataclass(frozen=True)
class _Blend:
    """One output's ``G`` and ``D``."""

    particular: Callable[[Coordinates], torch.Tensor]
    distance: Callable[[Coordinates], torch.Tensor]


def auto_constraint(
    domain: Domain,
    conditions: Sequence[Condition],
    outputs: Sequence[str],
    *,
    decay: Mapping[str, float] | None = None,
) -> ConstraintPlan:
    """Build every Dirichlet and initial-value condition that can be built into the output.

    Parameters
    ----------
    domain : Domain
    conditions : sequence of Condition
    outputs : sequence of str
        The problem's outputs, in column order.
    decay : mapping of str to float, optional
        Per output, a rate ``lambda``: the built-in initial value then decays like
        ``exp(-lambda (t - t0))`` instead of staying (see :func:`pinnkan.pde.decay.fit_decay`);
        where the boundary values are zero the network's part decays with it.

    Returns
    -------
    ConstraintPlan
    """
    outputs = tuple(outputs)
    soft: dict[str, str] = {}
    by_output: dict[str, list[Dirichlet]] = {name: [] for name in outputs}
    for condition in conditions:
        reason = _why_soft(condition)
        if reason:
            soft[condition.name] = reason
            continue
        output = condition.output if condition.output is not None else outputs[0]
        if condition.output is None and len(outputs) > 1:
            soft[condition.name] = "it names no output of this system"
            continue
        by_output[output].append(condition)  # type: ignore[arg-type]
    blends: dict[str, _Blend] = {}
    built: list[str] = []
    for output, chosen in by_output.items():
        if not chosen:
            continue
        blend, names, reasons = _blend_output(domain, chosen, (decay or {}).get(output, 0.0))
        soft.update(reasons)
        if blend is not None:
            blends[output] = blend
            built += names
    order = {c.name: i for i, c in enumerate(conditions)}
    soft = dict(sorted(soft.items(), key=lambda item: order[item[0]]))
    if not blends:
        return ConstraintPlan(None, (), soft)
    rates = {name: rate for name, rate in (decay or {}).items() if name in blends and rate != 0.0}
    built.sort(key=order.__getitem__)
    constraint = HardConstraint(
        particular=lambda c: _columns(c, outputs, blends, "particular"),
        distance=lambda c: _columns(c, outputs, blends, "distance"),
        parts=tuple(built),
    )
    return ConstraintPlan(constraint, tuple(built), soft, decay=rates)


def _why_soft(condition: Condition) -> str:
    """Why a condition cannot be built in by its kind, or '' if it may be."""
    if isinstance(condition, Dirichlet):  # Initial included
        return ""
    if isinstance(condition, (Neumann, Robin)):
        return "a condition on the normal derivative"
    if isinstance(condition, Periodic):
        return "periodicity"
    if isinstance(condition, InitialVelocity):
        return "an initial rate of change"
    if isinstance(condition, Observations):
        return "data"
    return f"a {type(condition).__name__} condition has no automatic hard constraint"


def _columns(c: Coordinates, outputs: tuple[str, ...], blends: Mapping[str, _Blend], which: str) -> torch.Tensor:
    """The blends' ``G`` (or ``D``): (N,) for one output, else (N, m) with ``G = 0``, ``D = 1`` for outputs without one."""
    if len(outputs) == 1:
        return getattr(blends[outputs[0]], which)(c)
    like = next(iter(c.values()))
    columns = []
    for name in outputs:
        blend = blends.get(name)
        if blend is None:
            columns.append(torch.zeros_like(like) if which == "particular" else torch.ones_like(like))
        else:
            columns.append(getattr(blend, which)(c))
    return torch.stack(columns, dim=1)


def _blend_output(domain: Domain, conditions: list[Dirichlet], rate: float) -> tuple[_Blend | None, list[str], dict[str, str]]:
    """One output's blend from its Dirichlet conditions: the blend, the names built in, the reasons for the rest."""
    soft: dict[str, str] = {}
    pieces: dict[str, tuple[object, ...]] = {}
    claimed: dict[object, str] = {}
    for condition in conditions:
        try:
            keys = tuple(_piece_keys(domain, condition))
        except (ValueError, NotImplementedError) as err:
            soft[condition.name] = str(err)
            continue
        clash = next((claimed[k] for k in keys if k in claimed), None)
        if clash is not None:
            soft[condition.name] = f"it prescribes values on the same boundary piece as {clash}"
            continue
        claimed.update(dict.fromkeys(keys, condition.name))
        pieces[condition.name] = keys
    chosen = [c for c in conditions if c.name in pieces]
    if not chosen:
        return None, [], soft
    initial = next((c for c in chosen if c.location.part == "initial"), None)  # type: ignore[attr-defined]
    spatial = [c for c in chosen if c is not initial]
    try:
        space = None
        if spatial:
            faces = _faces(domain, spatial, pieces)
            space = _coons(domain, spatial, faces) if faces is not None else _transfinite(domain, spatial)
        blend = space if initial is None else _in_time(domain, space, initial, rate)
    except (ValueError, NotImplementedError) as err:
        return None, [], soft | {c.name: str(err) for c in chosen}
    problem = _mismatch(domain, blend, chosen)  # type: ignore[arg-type]
    if problem:
        return None, [], soft | {c.name: problem for c in chosen}
    return blend, [c.name for c in chosen], soft


def _piece_keys(domain: Domain, condition: Dirichlet) -> list[object]:
    """Identities of the boundary pieces a condition's part consists of."""
    part = condition.location.part  # type: ignore[attr-defined]
    return [piece.label for piece in domain.part_pieces(part)]


def _box_of(domain: Domain) -> Box | None:
    space = domain.space if isinstance(domain, SpaceTime) else domain
    return space if isinstance(space, Box) else None


def _faces(domain: Domain, conditions: list[Dirichlet], pieces: Mapping[str, tuple[object, ...]]) -> dict[str, list[Face]] | None:
    """Condition name -> the box faces its part consists of, or None if the domain is not box-shaped."""
    box = _box_of(domain)
    if box is None:
        return None
    face_of: dict[object, Face] = {}
    for axis in range(box.dim):
        for upper in (False, True):
            face_of[box._face_piece((axis, upper)).label] = (axis, upper)
    if isinstance(domain, SpaceTime):
        face_of = {f"{label} over time": face for label, face in face_of.items()}
    return {c.name: [face_of[key] for key in pieces[c.name]] for c in conditions}


# ----------------------------------------------------------------- boxes: Coons patches
@dataclass(frozen=True)
class _Axis:
    index: int
    lo: float
    hi: float
    faces: tuple[tuple[bool, Value], ...]  # (upper side, value) for each constrained face


def _coons(domain: Domain, conditions: list[Dirichlet], faces: Mapping[str, list[Face]]) -> _Blend:
    lo, hi = domain.bounds()
    values: dict[Face, Value] = {}
    for condition in conditions:
        for face in faces[condition.name]:
            values[face] = condition.value
    axes = tuple(
        _Axis(a, float(lo[a]), float(hi[a]), tuple((upper, values[(a, upper)]) for upper in (False, True) if (a, upper) in values))
        for a in sorted({a for a, _ in values})
    )
    names = domain.coordinates
    return _Blend(lambda c: _coons_values(c, axes, names), lambda c: _coons_distance(c, axes, names))


def _coons_values(c: Coordinates, axes: tuple[_Axis, ...], names: tuple[str, ...]) -> torch.Tensor:
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


def _coons_distance(c: Coordinates, axes: tuple[_Axis, ...], names: tuple[str, ...]) -> torch.Tensor:
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


# ----------------------------------------------------------------- any domain: distance functions
def _transfinite(domain: Domain, conditions: list[Dirichlet]) -> _Blend:
    """The spatial data blended by transfinite interpolation with the parts' distance functions."""
    distances: list[DistanceFunction] = [domain.part_distance(c.location.part) for c in conditions]  # type: ignore[attr-defined]
    values = [c.value for c in conditions]
    scale = _distance_scale(domain, distances)

    def particular(c: Coordinates) -> torch.Tensor:
        like = next(iter(c.values()))
        if len(values) == 1:
            return _value_at(values[0], c, like)
        phis = [d(c) for d in distances]
        weights = [_product(phis[:k] + phis[k + 1 :]) for k in range(len(phis))]
        total = sum(weights)
        return sum(w * _value_at(v, c, like) for w, v in zip(weights, values)) / total  # type: ignore[return-value]

    return _Blend(particular, lambda c: equivalence([d(c) for d in distances]) / scale)


def _in_time(domain: Domain, space: _Blend | None, initial: Dirichlet, rate: float) -> _Blend:
    """Add the initial value like a Coons patch in time: ``G = G_s + s(t) (g_0 - G_s|t0)``, ``D = (t - t0) / T D_s``.

    ``s(t) = exp(-rate (t - t0))`` (one without a rate). Where the spatial values vanish
    (``G_s = 0``), ``D`` decays with ``s`` too, so the whole output follows the decay.
    """
    if not isinstance(domain, SpaceTime):
        raise InputValueError("an initial value needs a SpaceTime domain")
    name, (t0, t1) = domain.time, domain.time_range
    follow = rate != 0.0 and (space is None or _vanishes(domain, space))

    def decay(t: torch.Tensor) -> torch.Tensor | float:
        return torch.exp(-rate * (t - t0)) if rate != 0.0 else 1.0

    def particular(c: Coordinates) -> torch.Tensor:
        start = dict(c)
        start[name] = torch.full_like(c[name], t0)
        g0 = _value_at(initial.value, start, c[name])
        if space is None:
            return decay(c[name]) * g0
        return space.particular(c) + decay(c[name]) * (g0 - space.particular(start))

    def distance(c: Coordinates) -> torch.Tensor:
        time = (c[name] - t0) / (t1 - t0)
        result = time if space is None else time * space.distance(c)
        return result * decay(c[name]) if follow else result

    return _Blend(particular, distance)


def _vanishes(domain: Domain, space: _Blend) -> bool:
    """Whether the spatial blend is zero (homogeneous boundary values), on sampled points."""
    points = domain.sample_interior(256, rng=np.random.default_rng(0))
    with torch.no_grad():
        values = space.particular(_coordinates(points, domain.coordinates))
    return bool(float(values.abs().max()) == 0.0)


def _product(values: list[torch.Tensor]) -> torch.Tensor | float:
    result: torch.Tensor | float = 1.0
    for value in values:
        result = result * value
    return result


def _distance_scale(domain: Domain, distances: list[DistanceFunction]) -> float:
    """The largest value of the spatial distance on interior points (1 without one), checking it is positive there."""
    if not distances:
        return 1.0
    points = domain.sample_interior(_INTERIOR_PROBES, rng=np.random.default_rng(0))
    c = _coordinates(points, domain.coordinates)
    with torch.no_grad():
        values = equivalence([d(c) for d in distances])
    # Interior points well away from the boundary must have a clearly positive distance.
    lo, hi = domain.bounds()
    depth = 1e-6 * float(np.linalg.norm(hi - lo))
    if not bool(torch.isfinite(values).all()) or float(values.min()) <= -depth:
        raise InputValueError(
            f"the distance function of {domain!r} is not positive inside (smallest value {float(values.min()):.2e}); "
            f"domains that only touch (a union sharing a face) give distance functions with a zero inside"
        )
    return float(values.max())


def _coordinates(points: np.ndarray, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    x = torch.as_tensor(points, dtype=torch.float64)
    return {name: x[:, i] for i, name in enumerate(names)}


def _value_at(value: Value, c: Coordinates, like: torch.Tensor) -> torch.Tensor:
    if not callable(value):
        return torch.full_like(like, float(value))
    out = torch.as_tensor(call_user("a condition's value function", value, c), dtype=like.dtype, device=like.device)
    return out.expand_as(like) if out.ndim == 0 else out.reshape(like.shape)


def _mismatch(domain: Domain, blend: _Blend, conditions: Sequence[Condition]) -> str:
    """Check ``G`` and ``D`` on sampled points of every built condition's part; '' when they meet it."""
    rng = np.random.default_rng(0)
    lo, hi = domain.bounds()
    size = float(np.linalg.norm(hi - lo))
    for condition in conditions:
        points, _ = domain.sample_boundary(condition.location.part, _PART_PROBES, rng=rng)  # type: ignore[attr-defined]
        c = _coordinates(points, domain.coordinates)
        like = c[domain.coordinates[0]]
        with torch.no_grad():
            target = _value_at(condition.value, c, like)  # type: ignore[attr-defined]
            got, zero = blend.particular(c), blend.distance(c)
        scale = 1.0 + float(target.abs().max())
        off = float((got - target).abs().max())
        if not bool(torch.isfinite(got).all()) or not off <= 1e-8 * scale:
            return (
                f"the prescribed values disagree where parts meet (condition {condition.name!r} is off by "
                f"{off:.1e}); make them agree where the parts meet, or keep the conditions soft"
            )
        if not float(zero.abs().max()) <= 1e-10 * max(size, 1.0):
            return f"the distance function is not zero on the part of {condition.name!r} ({float(zero.abs().max()):.1e})"
    return ""
