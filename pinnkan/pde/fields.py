"""The derivative engine: named derivatives of a network's output at a batch of points.

A residual receives a :class:`Field` and asks for what it needs by name::

    def heat(f):
        return f.u_t - 0.4 * f.u_xx      # or f["u_t"], f.d("u", "x", "x")

Names are ``<output>_<coordinates>``: ``u_x``, ``u_xx``, ``u_xt`` (mixed partials
do not depend on the order), ``v_yy`` for an output called ``v``. Coordinates are
read by name too (``f.x``, ``f["t"]``). Each derivative is computed at most once
per field and built on the cached lower one (``u_xx`` from ``u_x``); one autograd
call gives all first partials of a quantity at once.

This engine uses nested autograd and works for any model. Faster engines keep
the same interface, so residuals do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = ["Field", "coordinate_dict"]

Model = Callable[[torch.Tensor], torch.Tensor]


class Field:
    """Values and derivatives of a model's outputs at fixed points.

    Parameters
    ----------
    model : callable
        Maps points ``(N, d)`` to outputs ``(N, m)``.
    points : torch.Tensor, shape (N, d)
        Where to evaluate. A copy that requires gradients is made when a derivative
        is asked for.
    coordinates : sequence of str
        Name of each column of ``points``, e.g. ``("x", "t")``.
    outputs : sequence of str
        Name of each output column, e.g. ``("u",)``.
    max_order : int, optional
        Highest total derivative order the model supports (``k - 1`` for a KAN of
        spline order ``k``); asking for more raises a ``ValueError``.
    """

    def __init__(
        self,
        model: Model,
        points: torch.Tensor,
        coordinates: Sequence[str],
        outputs: Sequence[str] = ("u",),
        *,
        max_order: int | None = None,
    ) -> None:
        coordinates = tuple(coordinates)
        outputs = tuple(outputs)
        if points.ndim != 2 or points.shape[1] != len(coordinates):
            raise ValueError(
                f"points must have shape (N, {len(coordinates)}) for coordinates "
                f"{coordinates}, got {tuple(points.shape)}"
            )
        _check_names("coordinate", coordinates)
        _check_names("output", outputs)
        if set(coordinates) & set(outputs):
            raise ValueError(
                f"outputs {outputs} and coordinates {coordinates} share a name; rename one"
            )
        self._model = model
        self._points = points.detach().requires_grad_(True)
        self.coordinates = coordinates
        self.outputs = outputs
        self.max_order = max_order
        self._values: torch.Tensor | None = None
        # (output index, sorted coordinate indices) -> tensor of shape (N,)
        self._cache: dict[tuple[int, tuple[int, ...]], torch.Tensor] = {}

    @property
    def points(self) -> torch.Tensor:
        """The evaluation points, shape (N, d), requiring gradients."""
        return self._points

    def coordinate(self, name: str) -> torch.Tensor:
        """Column ``name`` of the points, shape (N,)."""
        try:
            return self._points[:, self.coordinates.index(name)]
        except ValueError:
            raise KeyError(
                f"no coordinate {name!r}; this problem has coordinates {self.coordinates}"
            ) from None

    def value(self, output: str | None = None) -> torch.Tensor:
        """Model output ``output`` (the only one by default), shape (N,)."""
        return self.d(self.output_name(output))

    def d(self, output: str, *coordinates: str) -> torch.Tensor:
        """Partial derivative of ``output`` w.r.t. the named coordinates, shape (N,).

        ``f.d("u", "x", "x")`` is ``u_xx``; ``f.d("u")`` is ``u`` itself.
        """
        j = self._output_index(output)
        axes = tuple(sorted(self._coordinate_index(c) for c in coordinates))
        if self.max_order is not None and len(axes) > self.max_order:
            raise ValueError(
                f"derivative of order {len(axes)} asked, but the model is only "
                f"{self.max_order} times differentiable; raise the spline order to at "
                f"least {len(axes) + 1}"
            )
        return self._derivative(j, axes)

    def __getitem__(self, name: str) -> torch.Tensor:
        if name in self.coordinates:
            return self.coordinate(name)
        output, sep, suffix = name.partition("_")
        if output in self.outputs and (sep == "" or suffix):
            return self.d(output, *self._split(suffix, name))
        raise KeyError(
            f"cannot read {name!r}; ask for a coordinate {self.coordinates}, an output "
            f"{self.outputs}, or a derivative such as "
            f"'{self.outputs[0]}_{self.coordinates[0]}'"
        )

    def __getattr__(self, name: str) -> torch.Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as err:
            raise AttributeError(err.args[0]) from None

    def _derivative(self, j: int, axes: tuple[int, ...]) -> torch.Tensor:
        key = (j, axes)
        if key in self._cache:
            return self._cache[key]
        if not axes:
            if self._values is None:
                values = self._model(self._points)
                if values.ndim != 2 or values.shape != (self._points.shape[0], len(self.outputs)):
                    raise ValueError(
                        f"the model returned shape {tuple(values.shape)} for "
                        f"{self._points.shape[0]} points; expected (N, {len(self.outputs)}), "
                        f"one column per output {self.outputs}"
                    )
                self._values = values
            result = self._values[:, j]
        else:
            # Prefer a cached parent: u_xx from u_x, u_xt from u_x or u_t.
            parents = [axes[:i] + axes[i + 1 :] for i in range(len(axes))]
            parent = next((p for p in parents if (j, p) in self._cache), parents[-1])
            lower = self._derivative(j, parent)
            # One autograd call yields every first partial of `lower`; keep them all.
            grads = _gradient(lower, self._points)
            for i in range(grads.shape[1]):
                self._cache.setdefault((j, tuple(sorted(parent + (i,)))), grads[:, i])
            result = self._cache[key]
        self._cache[key] = result
        return result

    def output_name(self, output: str | None = None) -> str:
        """The output called `output`, or the only one when `output` is None."""
        if output is None:
            if len(self.outputs) != 1:
                raise ValueError(f"this field has outputs {self.outputs}; name the one you want")
            return self.outputs[0]
        return output

    def _output_index(self, output: str) -> int:
        try:
            return self.outputs.index(output)
        except ValueError:
            raise KeyError(f"no output {output!r}; outputs are {self.outputs}") from None

    def _coordinate_index(self, name: str) -> int:
        try:
            return self.coordinates.index(name)
        except ValueError:
            raise KeyError(
                f"no coordinate {name!r}; this problem has coordinates {self.coordinates}"
            ) from None

    def _split(self, suffix: str, name: str) -> list[str]:
        """Split ``"xxt"`` into coordinate names, longest names first."""
        names = sorted(self.coordinates, key=len, reverse=True)
        parts = []
        rest = suffix
        while rest:
            match = next((c for c in names if rest.startswith(c)), None)
            if match is None:
                raise KeyError(
                    f"cannot read {name!r}: {rest!r} is not a coordinate of {self.coordinates}"
                )
            parts.append(match)
            rest = rest[len(match) :]
        return parts


def coordinate_dict(points: torch.Tensor, coordinates: Sequence[str]) -> dict[str, torch.Tensor]:
    """Columns of ``points`` (N, d) by name: ``{"x": (N,), "t": (N,)}``."""
    return {name: points[:, i] for i, name in enumerate(coordinates)}


def _gradient(y: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """All first partials of ``y`` (N,) at ``points`` (N, d), kept differentiable."""
    if not y.requires_grad:  # y does not depend on the points (e.g. u_x of a linear u)
        return torch.zeros_like(points)
    (grad,) = torch.autograd.grad(y.sum(), points, create_graph=True, allow_unused=True)
    return torch.zeros_like(points) if grad is None else grad


def _check_names(kind: str, names: tuple[str, ...]) -> None:
    for n in names:
        if not isinstance(n, str) or not n.isidentifier() or "_" in n:
            raise ValueError(
                f"{kind} name {n!r} must be an identifier without underscores, "
                f"e.g. 'x', 't', 'u'"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{kind} names must be distinct, got {names}")
