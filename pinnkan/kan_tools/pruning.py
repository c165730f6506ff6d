"""Importance scores of a KAN's edges and nodes, and pruning to a smaller network.

Scores are computed on a batch, from the output backwards. Output nodes score 1.
An edge ``i -> j`` scores its share of node ``j``'s variation times node ``j``'s
score, ``e_ij = std(phi_ij) / std(h_j) * s_j``, and a node scores the sum of its
outgoing edges' scores, ``s_i = sum_j e_ij``. Scores are dimensionless; an
edge or hidden node below the threshold is removed.

Removing an edge replaces it by its mean on the batch, added to the bias of the
node it feeds, so the network keeps its average output. A hidden node is removed
when its score is below the threshold or it has no live incoming or outgoing
edge; its outgoing edges become constants in the next layer's biases and the
layers lose a row and a column: the pruned network has fewer parameters.

A multiplication node (see :class:`~pinnkan.models.kan.KAN`) is the product of two
factor sub-nodes. An edge into a factor scores its share of that factor's
variation times the product node's score (both factors matter for the product);
the node scores the sum of its outgoing edges like any node. It goes when weak,
without live outgoing edges, or when neither factor has a live incoming edge (a
product with one constant factor is still a function); then both factor columns
of the layer before go with it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError
from ..models.kan import KAN, KANLayer

__all__ = ["edge_scores", "node_scores", "prune", "PruneResult"]


@dataclass(frozen=True)
class PruneResult:
    """A pruned copy of a KAN and what was removed.

    Attributes
    ----------
    model : KAN
        The smaller network (the original is untouched).
    removed_edges : int
        Edges removed, counting those of removed nodes.
    removed_nodes : list of (int, int)
        ``(layer, node)`` of every removed hidden node, in the original numbering
        (layer 1 is the first hidden layer).
    removed_inputs : list of int
        Inputs (0-based) left without any edge: the pruned network ignores them.
    params_before, params_after : int
        Parameters of live edges and nodes (see :meth:`KAN.count_parameters`).
    """

    model: KAN
    removed_edges: int
    removed_nodes: list[tuple[int, int]]
    removed_inputs: list[int]
    params_before: int
    params_after: int


@torch.no_grad()
def edge_scores(model: KAN, x: torch.Tensor) -> list[torch.Tensor]:
    """Importance of every edge on inputs ``x``: a list of (in, out) tensors, one per layer."""
    return _scores(model, x)[0]


@torch.no_grad()
def node_scores(model: KAN, x: torch.Tensor) -> list[torch.Tensor]:
    """Importance of every node, a list of (width,) tensors for layers 0 .. L (outputs score 1)."""
    return _scores(model, x)[1]


def _scores(model: KAN, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    if not isinstance(model, KAN):
        raise InputTypeError(f"pruning needs a KAN, got {type(model).__name__}")
    edges = model.edge_values(x)  # (N, in, out) per layer
    nodes = [model.layers[-1].bias.new_ones(model.out_features)]
    edge_scores: list[torch.Tensor] = []
    for level in reversed(range(len(model.layers))):
        values, layer = edges[level], model.layers[level]
        column_std = (values.sum(1) + layer.bias).std(0)  # (out,): sum nodes and factor sub-nodes
        tiny = torch.finfo(values.dtype).eps * (1.0 + column_std.max())
        # A factor sub-node passes on the score of the product it feeds.
        column_score = nodes[0][[n for n, cols in enumerate(model.node_columns(level + 1)) for _ in cols]]
        score = values.std(0) / torch.clamp(column_std, min=tiny) * column_score  # (in, out)
        edge_scores.insert(0, score)
        nodes.insert(0, score.sum(1))
    return edge_scores, nodes


@torch.no_grad()
def prune(model: KAN, x: torch.Tensor, *, threshold: float = 1e-2) -> PruneResult:
    """Remove the edges and hidden nodes whose score on ``x`` is below ``threshold``.

    Parameters
    ----------
    model : KAN
        Not modified; a pruned copy is returned.
    x : torch.Tensor, shape (N, in_features)
        A batch of inputs (e.g. training points) on which scores and means are taken.
    threshold : float
        Score below which an edge or hidden node goes, in ``(0, 1)``.

    Returns
    -------
    PruneResult

    Examples
    --------
    >>> net = KAN((3, 4, 1))
    >>> result = prune(net, torch.rand(200, 3) * 2 - 1, threshold=0.05)
    >>> result.params_after <= result.params_before
    True
    """
    if not isinstance(model, KAN):
        raise InputTypeError(f"pruning needs a KAN, got {type(model).__name__}")
    if not (isinstance(threshold, (int, float)) and 0.0 < threshold < 1.0):
        raise InputValueError(f"pruning threshold must be in (0, 1), e.g. 0.01; got {threshold!r}")
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != model.in_features or x.shape[0] < 2:
        raise InputValueError(f"pruning needs a batch of shape (N >= 2, {model.in_features})")
    if not bool(torch.isfinite(x).all()):
        raise InputValueError("pruning needs finite inputs; drop NaN/inf rows first")
    net = copy.deepcopy(model)
    params_before = net.count_parameters()
    live_before = sum(int(layer.edge_mask.sum()) for layer in net.layers)

    scores, nodes = _scores(net, x)
    for layer, score, values in zip(net.layers, scores, net.edge_values(x)):
        _fold_edges(layer, values, score < threshold)

    # Hidden nodes are named by (layer, index) in the original numbering.
    names = [list(range(w)) for w in net.widths]
    removed_nodes: list[tuple[int, int]] = []
    weak = [n < threshold for n in nodes]
    while True:
        doomed = _doomed_node(net, weak)
        if doomed is None:
            break
        level, index = doomed
        _remove_node(net, x, level, index)
        removed_nodes.append((level, names[level].pop(index)))
        weak[level] = torch.cat([weak[level][:index], weak[level][index + 1 :]])

    live_after = sum(int(layer.edge_mask.sum()) for layer in net.layers)
    first = net.layers[0].edge_mask
    removed_inputs = [i for i in range(net.in_features) if not bool(first[i].any())]
    return PruneResult(
        model=net,
        removed_edges=live_before - live_after,
        removed_nodes=removed_nodes,
        removed_inputs=removed_inputs,
        params_before=params_before,
        params_after=net.count_parameters(),
    )


def _fold_edges(layer: KANLayer, values: torch.Tensor, which: torch.Tensor) -> None:
    """Replace the edges marked in ``which`` (in, out) by their batch means in the bias."""
    which = which & (layer.edge_mask > 0)
    layer.bias += (values.mean(0) * which).sum(0)
    layer.mask_edges(which)


def _doomed_node(net: KAN, weak: list[torch.Tensor]) -> tuple[int, int] | None:
    """A hidden node to remove: weak, or without live incoming or outgoing edges.

    A multiplication node has live incoming edges when either factor has one.
    A layer keeps its last node, so the network stays connected.
    """
    for level in range(1, len(net.widths) - 1):
        if net.widths[level] == 1:
            continue
        live = net.layers[level - 1].edge_mask.any(0)  # (out,) of the layer before
        incoming = torch.stack([live[list(cols)].any() for cols in net.node_columns(level)])
        outgoing = net.layers[level].edge_mask.any(1)
        hits = torch.nonzero(weak[level] | ~incoming | ~outgoing).flatten()
        if hits.numel():
            return level, int(hits[0])
    return None


def _remove_node(net: KAN, x: torch.Tensor, level: int, index: int) -> None:
    """Remove hidden node ``index`` of ``level`` (with its factor columns), folding its outgoing edges into biases."""
    after = net.layers[level]
    values = net.edge_values(x)[level]  # (N, in, out) of the layer the node feeds
    out_mask = torch.zeros_like(after.edge_mask, dtype=torch.bool)
    out_mask[index] = True
    _fold_edges(after, values, out_mask)
    columns = net.node_columns(level)
    _select_outputs(net.layers[level - 1], [c for n, cols in enumerate(columns) if n != index for c in cols])
    _select_inputs(after, [i for i in range(net.widths[level]) if i != index])
    if len(columns[index]) == 2:
        mult = list(net.mult)
        mult[level - 1] -= 1
        net.mult = tuple(mult)
    widths = list(net.widths)
    widths[level] -= 1
    net.widths = tuple(widths)


def _select_outputs(layer: KANLayer, keep: list[int]) -> None:
    layer.base_weight = nn.Parameter(layer.base_weight[:, keep].contiguous())
    layer.spline_coef = nn.Parameter(layer.spline_coef[:, :, keep].contiguous())
    layer.bias = nn.Parameter(layer.bias[keep].contiguous())
    layer.edge_mask = layer.edge_mask[:, keep].contiguous()
    layer.select_symbolic(outputs=keep)
    layer.out_features = len(keep)


def _select_inputs(layer: KANLayer, keep: list[int]) -> None:
    layer.base_weight = nn.Parameter(layer.base_weight[keep].contiguous())
    layer.spline_coef = nn.Parameter(layer.spline_coef[keep].contiguous())
    layer.set_knots(layer.knots[keep].contiguous())
    layer.edge_mask = layer.edge_mask[keep].contiguous()
    layer.select_symbolic(inputs=keep)
    layer.in_features = len(keep)
