"""From a trained KAN to a formula: fit edges to library functions, lock them, compose.

Workflow: train (with regularisation), :func:`~pinnkan.kan_tools.pruning.prune`, then
:func:`auto_symbolic` locks every live edge to its best library function, a short
training run tunes the affine parameters, and :func:`formula` writes the network
as one expression of its inputs (evaluable by
:func:`~pinnkan.kan_tools.symbolic.evaluate_formula`, convertible by
:func:`~pinnkan.kan_tools.symbolic.to_sympy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..errors import InputTypeError, InputValueError
from ..models.kan import KAN
from .symbolic import LIBRARY, SymbolicFit, suggest

__all__ = ["EdgeChoice", "edge_samples", "suggest_edge", "lock_edge", "auto_symbolic", "formula"]


@dataclass(frozen=True)
class EdgeChoice:
    """The library fit chosen for edge ``i -> j`` of layer ``layer``."""

    layer: int
    i: int
    j: int
    fit: SymbolicFit


@torch.no_grad()
def edge_samples(model: KAN, x: torch.Tensor, layer: int, i: int, j: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The values reaching edge ``i -> j`` of ``layer`` on inputs ``x`` and the edge's values there, (N,) each."""
    _check_edge(model, layer, i, j)
    h = model.layer_inputs(x)[layer]
    return h[:, i], model.layers[layer].edge_values(h)[:, i, j]


def suggest_edge(
    model: KAN, x: torch.Tensor, layer: int, i: int, j: int, *, library: Sequence[str] | None = None, top: int = 5
) -> list[SymbolicFit]:
    """Library fits of edge ``i -> j`` of ``layer`` on inputs ``x``, best first (see :func:`~pinnkan.kan_tools.symbolic.suggest`)."""
    inputs, values = edge_samples(model, x, layer, i, j)
    return suggest(inputs.cpu().double().numpy(), values.cpu().double().numpy(), library=library, top=top)


def lock_edge(model: KAN, layer: int, i: int, j: int, fit: SymbolicFit) -> None:
    """Lock edge ``i -> j`` of ``layer`` to a symbolic fit (its affine parameters stay trainable)."""
    _check_edge(model, layer, i, j)
    if not isinstance(fit, SymbolicFit):
        raise InputTypeError(f"fit must be a SymbolicFit (from suggest_edge), got {type(fit).__name__}")
    model.layers[layer].lock_symbolic(i, j, fit.name, fit.affine)


def auto_symbolic(
    model: KAN, x: torch.Tensor, *, library: Sequence[str] | None = None, min_r2: float = 0.0
) -> list[EdgeChoice]:
    """Lock every live, not yet symbolic edge to its best library fit on inputs ``x``.

    Layers are done in order, each from the values produced by the (already
    symbolic) layers before it. Edges whose best ``R^2`` is below ``min_r2`` stay
    numeric and are not in the returned list.
    """
    if not isinstance(model, KAN):
        raise InputTypeError(f"auto_symbolic needs a KAN, got {type(model).__name__}")
    if not -float("inf") < min_r2 <= 1.0:
        raise InputValueError(f"min_r2 must be at most 1, got {min_r2}")
    choices = []
    for level, layer in enumerate(model.layers):
        locked = set(layer.symbolic_edges)
        for i in range(layer.in_features):
            for j in range(layer.out_features):
                if layer.edge_mask[i, j] == 0 or (i, j) in locked:
                    continue
                best = suggest_edge(model, x, level, i, j, library=library, top=1)[0]
                if best.r2 >= min_r2:
                    lock_edge(model, level, i, j, best)
                    choices.append(EdgeChoice(level, i, j, best))
    return choices


def formula(model: KAN, *, variables: Sequence[str] | None = None, precision: int = 8) -> list[str]:
    """The network's outputs as formula text, one string per output.

    Every live edge must be symbolic. The input normalisation onto the grid and
    the ``tanh`` of hidden values (when ``squash_hidden``) are part of the formula;
    a multiplication node is written ``(A)*(B)`` of its two factors.

    Parameters
    ----------
    model : KAN
    variables : sequence of str, optional
        Input names; ``x1, x2, ...`` by default.
    precision : int
        Significant digits of the numbers.
    """
    if not isinstance(model, KAN):
        raise InputTypeError(f"formula needs a KAN, got {type(model).__name__}")
    names = [f"x{k + 1}" for k in range(model.in_features)] if variables is None else list(variables)
    if len(names) != model.in_features:
        raise InputValueError(f"give {model.in_features} variable names, got {len(names)}")
    numeric = [
        (level, i, j)
        for level, layer in enumerate(model.layers)
        for i, j in torch.nonzero(layer.numeric_mask()).tolist()
    ]
    if numeric:
        raise InputValueError(f"edges {numeric[:5]} (layer, i, j) are not symbolic yet; call auto_symbolic() first")
    lo, hi = model.input_lo.tolist(), model.input_hi.tolist()
    nodes = [_affine_text(v, 2.0 / (b - a), -(b + a) / (b - a), precision) for v, a, b in zip(names, lo, hi)]
    for level, layer in enumerate(model.layers):
        if level > 0 and model.squash_hidden:
            nodes = [f"tanh({n})" for n in nodes]
        terms: list[list[str]] = [[] for _ in range(layer.out_features)]
        constants = layer.bias.tolist()
        for (i, j, name), (a, b, c, d) in zip(layer.symbolic, layer.symbolic_affine.tolist()):
            if layer.edge_mask[i, j] > 0:
                # Each edge's offset d joins its node's constant.
                fit = SymbolicFit(name, a, b, c, 0.0, r2=1.0, complexity=LIBRARY[name].complexity)
                if name != "zero":
                    terms[j].append(fit.expression(nodes[i], precision).removesuffix(" + (0)"))
                constants[j] += d
        columns = [" + ".join([*t, _num(k, precision)]) for t, k in zip(terms, constants)]
        nodes = ["*".join(f"({columns[c]})" if len(cols) > 1 else columns[c] for c in cols)
                 for cols in model.node_columns(level + 1)]
    return nodes


def _affine_text(variable: str, scale: float, shift: float, precision: int) -> str:
    """``scale * variable + shift``, written as just the variable when that is what it is."""
    if scale == 1.0 and shift == 0.0:
        return variable
    return f"{_num(scale, precision)}*{variable} + {_num(shift, precision)}"


def _num(value: float, precision: int) -> str:
    return f"({value:.{precision}g})"


def _check_edge(model: KAN, layer: int, i: int, j: int) -> None:
    if not isinstance(model, KAN):
        raise InputTypeError(f"needs a KAN, got {type(model).__name__}")
    if not 0 <= layer < len(model.layers):
        raise InputValueError(f"layer {layer} does not exist; the network has layers 0..{len(model.layers) - 1}")
    model.layers[layer].check_edge(i, j)
