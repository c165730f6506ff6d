"""Derivative engines: how the partial derivatives behind a :class:`~pinnkan.pde.fields.Field` are computed.

A residual never sees the engine; it asks the field for ``f.u_xx`` and the field
asks its engine. An engine is chosen by the setup and starts one
:class:`Derivatives` per batch of points:

* :class:`Autograd` works for any differentiable model, by nested reverse-mode
  differentiation.
* :class:`Jets` pushes the value and exactly the partial derivatives the residual
  needs through pinnkan's own networks in one forward pass
  (:mod:`pinnkan.models.jets`); the parameter gradients then take one ordinary
  backward pass. It needs to know the derivatives in advance: the loss learns
  them by one probing call and passes them as ``needs``.
* :class:`Auto` (``engine="auto"``) runs :class:`Jets` where they can run and
  :class:`Autograd` where they cannot (a user's own module, a general output
  transform, an operation or a derivative order jets do not carry), with the
  same results.

Examples
--------
>>> import torch
>>> points = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
>>> d = Autograd().start(lambda p: p[:, :1] ** 3 * p[:, 1:], points, outputs=1)
>>> float(d.get(0, (0, 0)))  # d^2/dx^2 of x^3 t = 6 x t
6.0
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection

import torch

from ..errors import InputValueError, whole
from ..models.jets import Jet, JetPlan, jet_obstacle

__all__ = ["Engine", "Derivatives", "Autograd", "Jets", "Auto", "JetsUnavailable", "Request"]

Model = Callable[[torch.Tensor], torch.Tensor]
# (output index, sorted coordinate indices): one partial derivative of one output.
Request = tuple[int, tuple[int, ...]]


class JetsUnavailable(ValueError):
    """Jets cannot compute what was asked (the model, or a derivative order they do not carry)."""


class Derivatives(ABC):
    """Partial derivatives of a model's outputs at one batch of points.

    ``requested`` collects every ``(output, axes)`` asked for, so that a caller can
    learn what a residual needs.
    """

    def __init__(self) -> None:
        self.requested: set[Request] = set()

    @property
    @abstractmethod
    def points(self) -> torch.Tensor:
        """The points (N, d) the derivatives are taken at."""

    def get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        """``d^k y_output / dx_axes[0] ... dx_axes[k-1]`` at every point, shape (N,).

        ``axes`` is sorted (mixed partials do not depend on the order); ``()`` is the value.
        """
        self.requested.add((output, axes))
        return self._get(output, axes)

    @abstractmethod
    def _get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        """What :meth:`get` returns."""


class Engine(ABC):
    """Makes :class:`Derivatives` for a model at a batch of points."""

    name: str

    @abstractmethod
    def start(
        self, model: Model, points: torch.Tensor, *, outputs: int, needs: Collection[Request] | None = None
    ) -> Derivatives:
        """Begin computing derivatives of ``model`` (``outputs`` columns) at ``points`` (N, d).

        ``needs`` lists the derivatives that will be asked for, when known; an engine
        may compute them all at once (asking for others still works, at extra cost).
        """

    def choose(self, model: object) -> tuple[Engine, str]:
        """The engine that runs for ``model``, and a note on the choice ('' when it is this one).

        Raises ValueError, naming the reason and the fix, when this engine cannot
        run the model and has no fallback.
        """
        return self, ""

    @property
    def fallback(self) -> Engine | None:
        """The engine used where this one cannot run (None: it is an error)."""
        return None

    def describe(self) -> str:
        """The engine's name, for reports."""
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(type(self))


class Autograd(Engine):
    """Nested reverse-mode autograd: works for any differentiable model.

    Each derivative is computed at most once per batch and built on a cached lower
    one (``u_xx`` from ``u_x``); one backward call yields every first partial of a
    quantity at once, and all of them are kept.
    """

    name = "autograd"

    def start(
        self, model: Model, points: torch.Tensor, *, outputs: int, needs: Collection[Request] | None = None
    ) -> Derivatives:
        return _AutogradDerivatives(model, points, outputs)


class Jets(Engine):
    """Forward derivative jets through pinnkan's networks (B-spline KAN, Chebyshev KAN, MLP).

    One forward pass carries the value and the partial derivatives in ``needs``
    (and those they are built from) through every layer, with closed-form
    derivatives of the splines and activations; hard constraints of the form
    ``g + D N`` (:class:`~pinnkan.pde.transforms.HardConstraint`) and the input
    normalisation are included. Agrees with :class:`Autograd` to rounding.

    Parameters
    ----------
    max_order : int
        Highest total derivative order carried (a partial of higher order raises
        :class:`JetsUnavailable`; :class:`Auto` then uses autograd).
    """

    name = "jets"

    def __init__(self, *, max_order: int = 4) -> None:
        if not whole(max_order, 1, 8):
            raise InputValueError(f"Jets.max_order must be an int in 1..8, got {max_order!r}")
        self.max_order = max_order

    def __repr__(self) -> str:
        return f"Jets(max_order={self.max_order})"

    def start(
        self, model: Model, points: torch.Tensor, *, outputs: int, needs: Collection[Request] | None = None
    ) -> Derivatives:
        reason = jet_obstacle(model)
        if reason is not None:
            raise JetsUnavailable(_cannot_run(reason))
        return _JetDerivatives(model, points, outputs, needs or (), self.max_order)

    def choose(self, model: object) -> tuple[Engine, str]:
        reason = jet_obstacle(model)
        if reason is not None:
            raise InputValueError(_cannot_run(reason))
        return self, ""


class Auto(Engine):
    """Jets where they can run, autograd where they cannot: ``Setup(engine="auto")``, the default.

    The choice is made per model (a user's own module runs on autograd) and, by the
    loss, per term (a residual that differentiates by itself, or asks for a
    derivative order above ``Jets.max_order``, runs on autograd); each fallback is
    reported once.
    """

    name = "auto"

    def __init__(self, *, jets: Jets | None = None) -> None:
        self.jets = jets if jets is not None else Jets()

    def start(
        self, model: Model, points: torch.Tensor, *, outputs: int, needs: Collection[Request] | None = None
    ) -> Derivatives:
        engine, _ = self.choose(model)
        return engine.start(model, points, outputs=outputs, needs=needs)

    def choose(self, model: object) -> tuple[Engine, str]:
        reason = jet_obstacle(model)
        if reason is None:
            return self.jets, ""
        return Autograd(), f"autograd: {reason}"

    @property
    def fallback(self) -> Engine:
        return Autograd()


def _cannot_run(reason: str) -> str:
    return f"Jets() cannot run here: {reason}; use engine='auto' (autograd where jets cannot run) or Autograd()"


class _AutogradDerivatives(Derivatives):
    def __init__(self, model: Model, points: torch.Tensor, outputs: int) -> None:
        super().__init__()
        self._model = model
        self._points = points.detach().requires_grad_(True)
        self._outputs = outputs
        self._values: torch.Tensor | None = None
        # (output index, sorted coordinate indices) -> tensor of shape (N,)
        self._cache: dict[Request, torch.Tensor] = {}

    @property
    def points(self) -> torch.Tensor:
        return self._points

    def _get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        key = (output, axes)
        if key in self._cache:
            return self._cache[key]
        if not axes:
            result = self._evaluate()[:, output]
        else:
            # Prefer a cached parent: u_xx from u_x, u_xt from u_x or u_t.
            parents = [axes[:i] + axes[i + 1 :] for i in range(len(axes))]
            parent = next((p for p in parents if (output, p) in self._cache), parents[-1])
            grads = _gradient(self._get(output, parent), self._points)
            for i in range(grads.shape[1]):
                self._cache.setdefault((output, tuple(sorted(parent + (i,)))), grads[:, i])
            result = self._cache[key]
        self._cache[key] = result
        return result

    def _evaluate(self) -> torch.Tensor:
        if self._values is None:
            self._values = _checked_values(self._model(self._points), self._points.shape[0], self._outputs)
        return self._values


class _JetDerivatives(Derivatives):
    """One jet pass for every derivative in ``needs``; a derivative outside them extends the plan and reruns."""

    def __init__(
        self, model: Model, points: torch.Tensor, outputs: int, needs: Collection[Request], max_order: int
    ) -> None:
        super().__init__()
        self._model = model
        # The term's own point tensor (not a detached copy): it identifies the point set.
        self._points = points.detach() if points.requires_grad else points
        self._outputs = outputs
        self._max_order = max_order
        self._wanted = {axes for _, axes in needs}
        self._jet: Jet | None = None
        self._parts: tuple[torch.Tensor, ...] = ()

    @property
    def points(self) -> torch.Tensor:
        return self._points

    def _get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        if len(axes) > self._max_order:
            raise JetsUnavailable(
                f"a derivative of order {len(axes)} was asked; Jets(max_order={self._max_order}) carries up to "
                f"order {self._max_order}: raise max_order, or use engine='auto' or Autograd()"
            )
        if self._jet is None or axes not in self._jet.plan:
            self._wanted.add(axes)
            self._run()
        jet = self._jet
        assert jet is not None
        return self._parts[jet.plan.position(axes)][:, output]

    def _run(self) -> None:
        plan = JetPlan.closure(self._points.shape[1], self._wanted)
        jet = self._model.forward_jet(Jet.of_inputs(self._points, plan))  # type: ignore[attr-defined]
        n = self._points.shape[0]
        if not isinstance(jet, Jet) or jet.data.shape != (plan.size, n, self._outputs):
            shape = tuple(jet.data.shape) if isinstance(jet, Jet) else type(jet).__name__
            raise InputValueError(f"the model's jet has shape {shape} for {n} points; expected ({plan.size}, N, {self._outputs})")
        self._jet = jet
        self._parts = jet.parts


def _checked_values(values: object, n: int, outputs: int) -> torch.Tensor:
    if not isinstance(values, torch.Tensor) or values.shape != (n, outputs):
        shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise InputValueError(f"the model returned {shape} for {n} points; expected (N, {outputs}), one column per output")
    return values


def _gradient(y: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """All first partials of ``y`` (N,) at ``points`` (N, d), kept differentiable."""
    if not y.requires_grad:  # y does not depend on the points (e.g. u_x of a linear u)
        return torch.zeros_like(points)
    (grad,) = torch.autograd.grad(y.sum(), points, create_graph=True, allow_unused=True)
    return torch.zeros_like(points) if grad is None else grad
