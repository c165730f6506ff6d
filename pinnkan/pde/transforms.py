"""Hard constraints: conditions built into the model's output by a transform of the network.

``u = T(x, N(x))`` is chosen so that every network ``N`` meets the conditions the
transform covers; those conditions then need no loss term. The common form is
:class:`HardConstraint`, ``u = g(x) + D(x) N(x)`` with ``g`` meeting the conditions
and ``D`` vanishing exactly where they are imposed.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError
from ..models.jets import Jet, JetPlan, jet_obstacle
from .conditions import Condition, Dirichlet, OnPart
from .fields import coordinate_dict
from .geometry import Where
from .user_code import call_user, kind_of

__all__ = ["OutputTransform", "HardConstraint", "ConstrainedModel", "keep_out_of_compilation"]

Coordinates = Mapping[str, torch.Tensor]

_PARTICULAR = "the hard constraint's particular function"
_DISTANCE = "the hard constraint's distance function"


class OutputTransform:
    """``u = function(c, raw)``: the model's outputs from the coordinates and the network's raw outputs.

    Parameters
    ----------
    function : callable
        ``function(c, raw) -> (N, m)`` with ``c`` the coordinates by name and ``raw``
        the network's outputs (N, m).
    covers : sequence of str or Where
        Boundary parts (``"initial"``, ``"x_min"``; ``"boundary"`` means every spatial
        part; a :class:`~pinnkan.pde.geometry.Where`) or condition names whose
        conditions the transform meets exactly.

    Examples
    --------
    An output transform that fixes ``u(x, 0) = 0``:

    >>> zero_start = OutputTransform(lambda c, raw: c["t"][:, None] * raw, covers=("initial",))
    """

    def __init__(
        self, function: Callable[[Coordinates, torch.Tensor], torch.Tensor], *, covers: Sequence[str | Where]
    ) -> None:
        if not callable(function):
            raise InputTypeError("an OutputTransform takes a function(c, raw) -> (N, m) tensor")
        covers = tuple(covers)
        if any(not (isinstance(p, Where) or isinstance(p, str) and p) for p in covers):
            raise InputTypeError(f"covers must be part names, Where parts or condition names, got {covers!r}")
        self._function = function
        self.parts = covers

    def apply(self, coordinates: Coordinates, raw: torch.Tensor) -> torch.Tensor:
        """The constrained outputs (N, m) for raw network outputs (N, m)."""
        out = call_user("the output transform's function", self._function, coordinates, raw)
        if not isinstance(out, torch.Tensor) or out.shape != raw.shape:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else kind_of(out)
            raise InputValueError(
                f"the output transform returned {shape} for raw outputs of shape {tuple(raw.shape)}; "
                f"return a tensor of the same shape, one column per output"
            )
        return out

    def jet_obstacle(self) -> str | None:
        """Why jets cannot pass this transform, or None."""
        return (
            "a general OutputTransform has no jet rule; write it as HardConstraint(particular=, distance=) "
            "to use jets"
        )

    def covers(self, condition: Condition) -> bool:
        """Whether the transform meets ``condition`` exactly.

        A condition named in ``parts`` is covered; so is a value condition (``Dirichlet``,
        ``Initial``) on a listed part, where ``"boundary"`` stands for every spatial part
        (all parts but ``"initial"``). A condition on derivatives (``Neumann``, ``Robin``,
        ``InitialVelocity``) is covered only when named: fixing the value on a part does
        not fix a derivative there.
        """
        if condition.name in self.parts:
            return True
        if not isinstance(condition, Dirichlet):
            return False
        location = condition.location
        if not isinstance(location, OnPart):
            return False
        part = location.part
        if isinstance(part, Where):  # the same Where object (a predicate has no other identity)
            return any(p is part for p in self.parts)
        return part in self.parts or ("boundary" in self.parts and part != "initial")


class HardConstraint(OutputTransform):
    """Build conditions into the output: ``u = particular(x) + distance(x) * N(x)``.

    ``particular`` must satisfy the conditions and ``distance`` must vanish exactly
    where they are imposed (and nowhere else), so every network ``N`` satisfies them.

    Parameters
    ----------
    particular : callable
        Coordinates -> (N,) tensor (or (N, m) for m outputs).
    distance : callable
        Coordinates -> (N,) tensor, zero on the constrained parts, positive elsewhere.
    parts : tuple of str or Where
        The parts the constraint enforces (names, or the :class:`~pinnkan.pde.geometry.Where`
        objects the conditions use) or the names of the conditions; those need no loss term.

    Examples
    --------
    Heat equation on [0, 1] with u(x, 0) = sin(pi x) and u = 0 at both ends:

    >>> import math
    >>> hard = HardConstraint(
    ...     particular=lambda c: torch.sin(math.pi * c["x"]),
    ...     distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
    ...     parts=("initial", "boundary"),
    ... )
    """

    def __init__(
        self,
        *,
        particular: Callable[[Coordinates], torch.Tensor],
        distance: Callable[[Coordinates], torch.Tensor],
        parts: Sequence[str | Where],
    ) -> None:
        if not callable(particular) or not callable(distance):
            raise InputTypeError("particular and distance must be callables of the coordinates")
        self.particular = particular
        self.distance = distance
        super().__init__(self._combine, covers=parts)

    def _combine(self, c: Coordinates, raw: torch.Tensor) -> torch.Tensor:
        particular = _column(call_user(_PARTICULAR, self.particular, c), raw, _PARTICULAR)
        distance = _column(call_user(_DISTANCE, self.distance, c), raw, _DISTANCE)
        return particular + distance * raw

    def coordinate_jets(self, points: torch.Tensor, names: tuple[str, ...], plan: JetPlan, width: int) -> tuple[Jet, Jet]:
        """The jets of ``particular`` and ``distance`` at ``points`` (N, d), ``width`` columns each.

        They hold no parameters: nested autograd on the points computes them, and the
        results carry no graph. ``u = g + D N`` then has the jet ``g + D * N`` (Leibniz).
        """
        like = points.new_empty(points.shape[0], width)
        return (_coordinate_jet(self.particular, _PARTICULAR, points, plan, names, like),
                _coordinate_jet(self.distance, _DISTANCE, points, plan, names, like))

    def jet_obstacle(self) -> str | None:
        return None


class ConstrainedModel(nn.Module):
    """A network whose output obeys an :class:`OutputTransform`.

    Parameters
    ----------
    net : torch.nn.Module
        Maps points (N, d) to (N, m).
    transform : OutputTransform
    coordinates : tuple of str
        Name of each input column.
    """

    # Jets of a hard constraint's g and D per point set: the points rarely change, and
    # recomputing them takes nested autograd at every step.
    _CACHED_POINT_SETS = 16

    def __init__(self, net: nn.Module, transform: OutputTransform, coordinates: tuple[str, ...]) -> None:
        super().__init__()
        if not isinstance(transform, OutputTransform):
            raise InputTypeError(f"transform must be an OutputTransform or HardConstraint, got {type(transform).__name__}")
        self.net = net
        self.transform = transform
        self.coordinates = tuple(coordinates)
        self._coordinate_jets: OrderedDict[int, tuple[weakref.ref, int, JetPlan, int, Jet, Jet]] = OrderedDict()

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_coordinate_jets"] = OrderedDict()  # weak references do not pickle; the cache refills
        return state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Constrained outputs (N, m) at points (N, d)."""
        return self.transform.apply(coordinate_dict(x, self.coordinates), self.net(x))

    def forward_jet(self, jet: Jet) -> Jet:
        """The constrained outputs' jet from the jet of the coordinates (made by :meth:`Jet.of_inputs`)."""
        if not isinstance(self.transform, HardConstraint):
            raise InputTypeError(self.transform.jet_obstacle())
        raw = self.net.forward_jet(jet)  # type: ignore[operator]
        points = jet.points if jet.points is not None else jet.value
        particular, distance = self._constraint_jets(points, raw.plan, raw.width)
        return particular + distance.multiply(raw)

    def _constraint_jets(self, points: torch.Tensor, plan: JetPlan, width: int) -> tuple[Jet, Jet]:
        """The hard constraint's coordinate jets at ``points``, reused while the point set is unchanged."""
        key = id(points)
        entry = self._coordinate_jets.get(key)
        if entry is not None:
            ref, version, cached_plan, cached_width, particular, distance = entry
            if ref() is points and version == points._version and cached_plan == plan and cached_width == width:
                self._coordinate_jets.move_to_end(key)
                return particular, distance
        particular, distance = self.transform.coordinate_jets(points, self.coordinates, plan, width)  # type: ignore[attr-defined]
        self._coordinate_jets[key] = (weakref.ref(points), points._version, plan, width, particular, distance)
        while len(self._coordinate_jets) > self._CACHED_POINT_SETS:
            self._coordinate_jets.popitem(last=False)
        return particular, distance

    def jet_obstacle(self) -> str | None:
        """Why jets cannot pass this model (its network or its transform), or None."""
        return jet_obstacle(self.net) or self.transform.jet_obstacle()


def _coordinate_jet(
    function: Callable[[Coordinates], torch.Tensor],
    what: str,
    points: torch.Tensor,
    plan: JetPlan,
    names: tuple[str, ...],
    like: torch.Tensor,
) -> Jet:
    """The jet of a parameter-free function of the coordinates, by nested autograd at ``points`` (N, d).

    Each derivative comes from its parent with the last axis removed; one backward
    call yields all first partials of a component. The result is detached: the
    function holds nothing to train.
    """
    with torch.enable_grad():
        x = points.detach().clone().requires_grad_(True)
        columns = _column(call_user(what, function, coordinate_dict(x, names)), like, what)  # (N, m) or (N, 1)
        if columns.shape[1] != like.shape[1]:
            columns = columns.expand(-1, like.shape[1])
        components: dict[tuple[int, ...], torch.Tensor] = {(): columns}
        higher = plan.order > 1
        for index in plan.indices[1:]:
            if index in components:
                continue
            parent = index[:-1]
            grads = _column_gradients(components[parent], x, create_graph=higher)  # (d, N, m)
            for axis in range(x.shape[1]):
                key = tuple(sorted(parent + (axis,)))
                if key in plan and key not in components:
                    components[key] = grads[axis]
    return Jet(plan, torch.stack([components[i].detach() for i in plan.indices]))


def _column_gradients(values: torch.Tensor, x: torch.Tensor, *, create_graph: bool) -> torch.Tensor:
    """``d values[:, j] / d x[:, a]`` for every column ``j`` and axis ``a``, shape (d, N, m)."""
    result = x.new_zeros(x.shape[1], *values.shape)
    if not values.requires_grad:
        return result
    for j in range(values.shape[1]):
        (grad,) = torch.autograd.grad(values[:, j].sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True)
        if grad is not None:
            result[:, :, j] = grad.T
    return result


def _column(values: object, like: torch.Tensor, what: str) -> torch.Tensor:
    """A hard constraint's part as a column: (N, 1), or (N, m) like the raw outputs ``like`` (N, m)."""
    n, m = like.shape
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return torch.full((n, 1), float(values), dtype=like.dtype, device=like.device)
    if not isinstance(values, torch.Tensor):
        raise InputTypeError(
            f"{what} returned {kind_of(values)}; return a torch tensor built from the coordinates, "
            f"e.g. c['x'] * (1 - c['x']) (use torch.sin, not numpy.sin)"
        )
    values = torch.as_tensor(values, dtype=like.dtype, device=like.device)
    if values.ndim == 0:
        return values.expand(n, 1)
    if values.shape == (n,):
        return values.unsqueeze(-1)
    if values.shape == (n, 1) or values.shape == (n, m):
        return values
    columns = f", or (N, {m}), one column per output" if m > 1 else ""
    raise InputValueError(
        f"{what} returned shape {tuple(values.shape)} for {n} points; return one value per point, shape (N,){columns}"
    )


def keep_out_of_compilation() -> None:
    """Mark what ``torch.compile`` must run eagerly: the hard constraint's coordinate jets.

    They come from nested autograd, which compiled code does not trace faithfully.
    Marking imports TorchDynamo (over a second), so it is done by the first
    compilation (:class:`pinnkan.training.compiled.Compiled`), not at import; a
    second call changes nothing.
    """
    method = ConstrainedModel._constraint_jets
    if not getattr(method, "_pinnkan_eager", False):
        marked = torch.compiler.disable(method)
        marked._pinnkan_eager = True  # type: ignore[attr-defined]
        ConstrainedModel._constraint_jets = marked  # type: ignore[method-assign]
