"""Derivative engines: how the partial derivatives behind a :class:`~pinnkan.pde.fields.Field` are computed.

A residual never sees the engine; it asks the field for ``f.u_xx`` and the field
asks its engine. An engine is chosen once, by the setup, and starts one
:class:`Derivatives` per batch of points. :class:`Autograd` works for any model
by nested reverse-mode differentiation; faster engines (forward jets through
pinnkan's own layers) implement the same two methods.

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
from collections.abc import Callable

import torch

__all__ = ["Engine", "Derivatives", "Autograd"]

Model = Callable[[torch.Tensor], torch.Tensor]


class Derivatives(ABC):
    """Partial derivatives of a model's outputs at one batch of points."""

    @property
    @abstractmethod
    def points(self) -> torch.Tensor:
        """The points (N, d) the derivatives are taken at (a leaf that requires gradients)."""

    @abstractmethod
    def get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        """``d^k y_output / dx_axes[0] ... dx_axes[k-1]`` at every point, shape (N,).

        ``axes`` is sorted (mixed partials do not depend on the order); ``()`` is the value.
        """


class Engine(ABC):
    """Makes :class:`Derivatives` for a model at a batch of points."""

    name: str

    @abstractmethod
    def start(self, model: Model, points: torch.Tensor, *, outputs: int) -> Derivatives:
        """Begin computing derivatives of ``model`` (``outputs`` columns) at ``points`` (N, d)."""

    def describe(self) -> str:
        """The engine's name, for reports."""
        return self.name


class Autograd(Engine):
    """Nested reverse-mode autograd: works for any differentiable model.

    Each derivative is computed at most once per batch and built on a cached lower
    one (``u_xx`` from ``u_x``); one backward call yields every first partial of a
    quantity at once, and all of them are kept.
    """

    name = "autograd"

    def start(self, model: Model, points: torch.Tensor, *, outputs: int) -> Derivatives:
        return _AutogradDerivatives(model, points, outputs)


class _AutogradDerivatives(Derivatives):
    def __init__(self, model: Model, points: torch.Tensor, outputs: int) -> None:
        self._model = model
        self._points = points.detach().requires_grad_(True)
        self._outputs = outputs
        self._values: torch.Tensor | None = None
        # (output index, sorted coordinate indices) -> tensor of shape (N,)
        self._cache: dict[tuple[int, tuple[int, ...]], torch.Tensor] = {}

    @property
    def points(self) -> torch.Tensor:
        return self._points

    def get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        key = (output, axes)
        if key in self._cache:
            return self._cache[key]
        if not axes:
            result = self._evaluate()[:, output]
        else:
            # Prefer a cached parent: u_xx from u_x, u_xt from u_x or u_t.
            parents = [axes[:i] + axes[i + 1 :] for i in range(len(axes))]
            parent = next((p for p in parents if (output, p) in self._cache), parents[-1])
            grads = _gradient(self.get(output, parent), self._points)
            for i in range(grads.shape[1]):
                self._cache.setdefault((output, tuple(sorted(parent + (i,)))), grads[:, i])
            result = self._cache[key]
        self._cache[key] = result
        return result

    def _evaluate(self) -> torch.Tensor:
        if self._values is None:
            values = self._model(self._points)
            n = self._points.shape[0]
            if not isinstance(values, torch.Tensor) or values.shape != (n, self._outputs):
                shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
                raise ValueError(
                    f"the model returned {shape} for {n} points; expected (N, {self._outputs}), "
                    f"one column per output"
                )
            self._values = values
        return self._values


def _gradient(y: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """All first partials of ``y`` (N,) at ``points`` (N, d), kept differentiable."""
    if not y.requires_grad:  # y does not depend on the points (e.g. u_x of a linear u)
        return torch.zeros_like(points)
    (grad,) = torch.autograd.grad(y.sum(), points, create_graph=True, allow_unused=True)
    return torch.zeros_like(points) if grad is None else grad
