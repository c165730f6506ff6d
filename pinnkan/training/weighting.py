"""Loss balancing: how per-point residuals of the loss terms become one number.

The loss is ``L = sum_i lambda_i * mean_j(w_ij r_ij^2)``: term weights ``lambda_i``
between the terms and point weights ``w_ij`` within a term (uniform by default).
A scheme sets either or both and keeps its state in ``state_dict()``, so it
survives checkpoints:

* :class:`Fixed` — constant term weights.
* :class:`GradNorm` — learning-rate annealing: ``lambda_i`` tracks, with
  exponential smoothing, ``||grad L_pde|| / ||grad L_i||`` (Wang, Teng & Perdikaris 2021).
* :class:`NTK` — ``lambda_i = sum_j tr K_jj / tr K_ii`` from the neural tangent kernel
  of each term's residuals (Wang, Yu & Perdikaris 2022): every term learns at the same
  rate, however small or large its residual is (the default for soft conditions).
* :class:`ResidualAttention` — point weights ``w = lambda^2`` with
  ``lambda <- gamma lambda + eta |r| / max |r|`` (residual-based attention).
* :class:`Decay` — point weights ``exp(2 rate (t - t0))`` for a solution whose built-in
  output decays at ``rate``: the residuals count relative to the solution's size.
* :class:`Causal` — for time-dependent problems, the PDE residual of a later time
  slab counts only once earlier slabs are solved: slab ``k`` weighs
  ``exp(-epsilon sum_{l<k} L_l)`` (Wang, Sankaran & Perdikaris 2024).

Schemes combine: ``Setup(weighting=(Causal(), GradNorm()))`` multiplies their weights.
Adaptive schemes update only during first-order stages (Adam), where a changing
objective does no harm; quasi-Newton stages see frozen weights.
"""

from __future__ import annotations

import math
from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError, check_whole, whole
from ..pde.user_code import kind_of
from .distributed import ALONE, Group

__all__ = ["TermInfo", "Weighting", "Fixed", "GradNorm", "NTK", "Decay", "ResidualAttention", "Causal", "check_weightings"]


@dataclass(frozen=True)
class TermInfo:
    """What a weighting scheme knows of the loss terms before training.

    Attributes
    ----------
    names : tuple of str
        Every loss term.
    pde : tuple of str
        The PDE residual's terms (the rest are conditions and data).
    time_axis : int or None
        Column of the time coordinate in the points, None for stationary problems.
    time_range : (float, float) or None
    group : Group
        The processes that hold the terms' points (each a shard): what a scheme finds
        from residuals or gradients, it sums or maximises over them.
    """

    names: tuple[str, ...]
    pde: tuple[str, ...]
    time_axis: int | None = None
    time_range: tuple[float, float] | None = None
    group: Group = ALONE


class Weighting(ABC):
    """A loss-balancing scheme (see the module docstring); the defaults leave everything at weight one.

    ``frozen`` is set by the loss during quasi-Newton stages: a scheme must then
    keep its weights as they are, so that the objective stays a fixed function.
    """

    frozen = False
    #: Whether :meth:`point_weights` can return weights (a chunked loss then needs every residual first).
    has_point_weights = False
    #: Whether :meth:`update` differentiates the term values it is given (it cannot run on a chunked loss).
    uses_gradients = False

    def bind(self, info: TermInfo) -> None:
        """Learn the loss terms; raise ValueError if the scheme does not fit them."""
        self.info = info

    def point_weights(self, name: str, residual: torch.Tensor, points: torch.Tensor) -> torch.Tensor | None:
        """Weights (N,) of a term's squared residuals ``residual`` (N,) at ``points`` (N, d), or None for uniform."""
        return None

    def term_weight(self, name: str) -> float:
        """The weight of term ``name``."""
        return 1.0

    def due(self, step: int) -> bool:
        """Whether :meth:`update` should run at ``step`` (1-based; first-order stages only)."""
        return False

    def update(
        self,
        residuals: Mapping[str, torch.Tensor],
        values: Mapping[str, torch.Tensor],
        parameters: Sequence[torch.Tensor],
    ) -> None:
        """Adapt the weights from this step's residuals (N,) and term values (scalars, with graphs)."""

    def points_changed(self, name: str) -> None:
        """The points of term ``name`` were replaced; forget per-point state."""

    def report(self) -> dict[str, float]:
        """Current weights worth recording in the history, keyed ``"<kind>/<term>"``."""
        return {}

    def state_dict(self) -> dict[str, object]:
        """The scheme's state for checkpoints."""
        return {}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore :meth:`state_dict`."""

    def resharded(
        self, states: Sequence[Mapping[str, object]], blocks: Mapping[str, tuple[int, int]]
    ) -> Mapping[str, object]:
        """This process's state from those saved by another number of processes (in their order), when it
        holds rows ``blocks[name]`` of every term's rows joined: the first state by default (weights of terms
        are the same in every process)."""
        return states[0]

    def describe(self) -> dict[str, object]:
        """The scheme's settings, for reports."""
        hidden = ("info", "frozen")
        return {"weighting": type(self).__name__, **{k: v for k, v in vars(self).items() if not k.startswith("_") and k not in hidden}}


class Fixed(Weighting):
    """Constant term weights; terms not named weigh one.

    Parameters
    ----------
    weights : mapping of str to float, optional
        Weight of each term by name, finite and ``>= 0``.
    """

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        weights = dict(weights or {})
        for name, w in weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise InputValueError(f"weight of {name!r} must be a finite number >= 0, got {w!r}")
        self.weights = {k: float(v) for k, v in weights.items()}

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        unknown = sorted(set(self.weights) - set(info.names))
        if unknown:
            raise InputValueError(f"weights name unknown loss terms {unknown}; the terms are {list(info.names)}")

    def term_weight(self, name: str) -> float:
        return self.weights.get(name, 1.0)


class _TermWeights(Weighting):
    """A scheme with one adapted weight per term (``_weights``; terms not in it weigh one), recorded and saved."""

    _weights: dict[str, float]

    def term_weight(self, name: str) -> float:
        return self._weights.get(name, 1.0)

    def report(self) -> dict[str, float]:
        return {f"weight/{name}": w for name, w in self._weights.items()}

    def state_dict(self) -> dict[str, object]:
        return {"weights": dict(self._weights)}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        self._weights = dict(state["weights"])  # type: ignore[call-overload]


class GradNorm(_TermWeights):
    """Learning-rate annealing from gradient norms: ``lambda_i <- s lambda_i + (1 - s) ||grad L_pde|| / ||grad L_i||``.

    The PDE terms keep weight one; every other term is weighted so that its
    gradient is as large as the PDE residual's, within ``[min_weight, max_weight]``.

    ``||grad L_i||`` grows with the size of term ``i``'s residual, so this balance
    suits problems whose PDE residual stays large while the conditions are learnt
    (a forcing term, as in Helmholtz). Where the PDE has a trivial solution (Laplace's
    equation is solved by any constant), the network finds it first, the PDE gradient
    vanishes and so would the conditions' weights: ``min_weight`` keeps a condition
    at least as heavy as the PDE, but cannot bring it back; :class:`NTK` can, as its
    weights do not depend on the residuals' size.

    Parameters
    ----------
    every : int
        Steps between updates (the first is at step 1).
    smoothing : float
        ``s`` in ``[0, 1)``: how much of the old weight is kept.
    max_weight : float
        Upper bound of a weight (guards against a term whose gradient vanishes).
    min_weight : float
        Lower bound of a weight, in ``[0, max_weight]`` (guards against a PDE residual
        whose gradient vanishes while the conditions are not met).
    """

    uses_gradients = True

    def __init__(
        self, *, every: int = 100, smoothing: float = 0.9, max_weight: float = 1e6, min_weight: float = 1.0
    ) -> None:
        check_whole("GradNorm.every", every)
        if not (isinstance(smoothing, (int, float)) and 0 <= smoothing < 1):
            raise InputValueError(f"GradNorm.smoothing must be in [0, 1), got {smoothing!r}")
        if not (isinstance(max_weight, (int, float)) and math.isfinite(max_weight) and max_weight >= 1):
            raise InputValueError(f"GradNorm.max_weight must be a finite number >= 1, got {max_weight!r}")
        if not (isinstance(min_weight, (int, float)) and 0 <= min_weight <= max_weight):
            raise InputValueError(
                f"GradNorm.min_weight must be a number from 0 to max_weight ({max_weight!r}), got {min_weight!r}"
            )
        self.every, self.smoothing = every, float(smoothing)
        self.max_weight, self.min_weight = float(max_weight), float(min_weight)
        self._weights: dict[str, float] = {}

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        if not info.pde:
            raise InputValueError("GradNorm balances conditions against the PDE residual; this loss has no PDE term")
        self._weights = {name: self._weights.get(name, 1.0) for name in info.names if name not in info.pde}

    def due(self, step: int) -> bool:
        return (step - 1) % self.every == 0 and bool(self._weights)

    def update(
        self,
        residuals: Mapping[str, torch.Tensor],
        values: Mapping[str, torch.Tensor],
        parameters: Sequence[torch.Tensor],
    ) -> None:
        group = self.info.group
        reference = _grad_norm(sum(values[n] for n in self.info.pde), parameters, group)  # type: ignore[arg-type]
        for name in self._weights:
            norm = _grad_norm(values[name], parameters, group)
            if norm > 0 and math.isfinite(norm) and math.isfinite(reference):
                target = min(reference / norm, self.max_weight)
                weight = self.smoothing * self._weights[name] + (1 - self.smoothing) * target
                self._weights[name] = min(max(weight, self.min_weight), self.max_weight)


class NTK(_TermWeights):
    """Neural-tangent-kernel weights: ``lambda_i = (sum_j tr K_jj) / tr K_ii`` (Wang, Yu & Perdikaris 2022).

    ``K_ii`` is the kernel of term ``i``'s residuals, so ``tr K_ii`` is the sum over
    its points of ``||d r(x) / d theta||^2``: how fast gradient descent moves that
    term. Here ``tr K_ii`` is the *mean* over the term's points (so a term does not
    weigh less for having more points), estimated on ``points`` of them drawn at
    random at every update. Every term is weighted, the PDE's included; each weight
    is at least one. Unlike :class:`GradNorm`, the weights do not depend on how large
    the residuals are, only on how strongly the parameters move them: at a KAN's
    initialisation a Laplacian residual moves some 300x faster than a boundary value
    (``poisson_holes``), so the conditions get some 300x the weight, whether or not
    the PDE residual is already small.

    Each update takes ``points`` backward passes per term through that step's graph
    (one per point: a batched backward, ``is_grads_batched`` or ``torch.func``, does
    not run through the fused spline kernels). On ``poisson_holes`` (three terms, 1,400
    points, 897 parameters) an update with ``points=64`` costs about 0.2 s, some 30
    training steps.

    Parameters
    ----------
    every : int
        Steps between updates (the first is at step 1).
    points : int
        Points per term on which ``tr K_ii`` is estimated (all of them if a term has
        fewer). They are drawn with a generator seeded from the step, so a run repeats.
    max_weight : float
        Upper bound of a weight (guards against a term whose residual barely moves).

    Examples
    --------
    >>> setup = Setup(hard=False, weighting=NTK(every=100, points=64))  # doctest: +SKIP
    """

    uses_gradients = True

    def __init__(self, *, every: int = 100, points: int = 64, max_weight: float = 1e6) -> None:
        check_whole("NTK.every", every)
        check_whole("NTK.points", points)
        if not (isinstance(max_weight, (int, float)) and math.isfinite(max_weight) and max_weight >= 1):
            raise InputValueError(f"NTK.max_weight must be a finite number >= 1, got {max_weight!r}")
        self.every, self.points, self.max_weight = every, points, float(max_weight)
        self._weights: dict[str, float] = {}
        self._step = 1

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        self._weights = {name: self._weights.get(name, 1.0) for name in info.names}


    def due(self, step: int) -> bool:
        if (step - 1) % self.every != 0:
            return False
        self._step = step  # seeds the subsets drawn by the update of this step
        return True

    def update(
        self,
        residuals: Mapping[str, torch.Tensor],
        values: Mapping[str, torch.Tensor],
        parameters: Sequence[torch.Tensor],
    ) -> None:
        rng = np.random.default_rng(self._step)
        traces = {}
        for name in self._weights:
            r = residuals[name]
            if not r.requires_grad or r.numel() == 0:
                continue
            chosen = rng.permutation(r.shape[0])[: self.points]
            trace = torch.tensor([_mean_squared_point_gradient(r, chosen, parameters)], dtype=torch.float64)
            traces[name] = float(self.info.group.sum(trace)) / self.info.group.size  # the processes' mean
        total = sum(t for t in traces.values() if math.isfinite(t))
        for name, trace in traces.items():
            if trace > 0 and math.isfinite(trace) and math.isfinite(total):
                self._weights[name] = min(total / trace, self.max_weight)


class Decay(Weighting):
    """Point weights ``exp(2 rate (t - t0))``: residuals measured relative to a solution that decays like ``exp(-rate (t - t0))``.

    When the built-in output follows a fitted decay (:func:`pinnkan.pde.decay.fit_decay`),
    the residuals at late times are as small as the solution there; without this
    weight they would count ``exp(-2 rate (t1 - t0))`` times less than early ones and
    the solution would lose its relative accuracy over time. Every term with points in
    time is weighted (the PDE's and the conditions'); the weights are fixed.

    Parameters
    ----------
    rate : float
        ``rate > 0``, per unit of time.
    """

    has_point_weights = True

    def __init__(self, *, rate: float) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (math.isfinite(rate) and rate > 0):
            raise InputValueError(f"Decay.rate must be a finite number > 0, got {rate!r}")
        self.rate = float(rate)

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        if info.time_axis is None or info.time_range is None:
            raise InputValueError("Decay weighting needs a time-dependent problem (a SpaceTime domain)")

    def point_weights(self, name: str, residual: torch.Tensor, points: torch.Tensor) -> torch.Tensor | None:
        t0 = self.info.time_range[0]  # type: ignore[index]
        return torch.exp(2.0 * self.rate * (points[:, self.info.time_axis] - t0)).to(residual)


class ResidualAttention(Weighting):
    """Residual-based attention: point weights ``lambda^2`` with ``lambda <- gamma lambda + eta |r| / max |r|``.

    Each point's multiplier grows where the residual stays large; ``lambda`` starts
    at one and is bounded by ``eta / (1 - gamma)``.

    Parameters
    ----------
    gamma : float
        Memory, in ``(0, 1)``.
    eta : float
        Learning rate of the multipliers, ``> 0``.
    terms : sequence of str, optional
        The terms to weight (all by default).
    """

    has_point_weights = True

    def __init__(self, *, gamma: float = 0.999, eta: float = 0.01, terms: Sequence[str] | None = None) -> None:
        if not (isinstance(gamma, (int, float)) and 0 < gamma < 1):
            raise InputValueError(f"ResidualAttention.gamma must be in (0, 1), got {gamma!r}")
        if not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
            raise InputValueError(f"ResidualAttention.eta must be a finite number > 0, got {eta!r}")
        self.gamma, self.eta = float(gamma), float(eta)
        self.terms = None if terms is None else tuple(terms)
        self._lambdas: dict[str, torch.Tensor] = {}

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        if self.terms is not None:
            unknown = sorted(set(self.terms) - set(info.names))
            if unknown:
                raise InputValueError(f"ResidualAttention names unknown loss terms {unknown}; the terms are {list(info.names)}")

    def _weighted(self, name: str) -> bool:
        return self.terms is None or name in self.terms

    def point_weights(self, name: str, residual: torch.Tensor, points: torch.Tensor) -> torch.Tensor | None:
        if not self._weighted(name):
            return None
        lam = self._lambdas.get(name)
        if lam is None or lam.shape != residual.shape:
            return None
        return lam.to(residual) ** 2

    def due(self, step: int) -> bool:
        return True

    def update(
        self,
        residuals: Mapping[str, torch.Tensor],
        values: Mapping[str, torch.Tensor],
        parameters: Sequence[torch.Tensor],
    ) -> None:
        with torch.no_grad():
            for name, r in residuals.items():
                if not self._weighted(name):
                    continue
                size = r.abs()
                largest = self.info.group.max(size.max().reshape(1))
                scaled = size / torch.clamp(largest, min=torch.finfo(size.dtype).tiny)
                lam = self._lambdas.get(name)
                if lam is None or lam.shape != r.shape:
                    lam = torch.ones_like(size)
                self._lambdas[name] = self.gamma * lam + self.eta * scaled

    def points_changed(self, name: str) -> None:
        self._lambdas.pop(name, None)

    def report(self) -> dict[str, float]:
        return {f"attention_max/{name}": float(lam.max()) for name, lam in self._lambdas.items()}

    def state_dict(self) -> dict[str, object]:
        return {"lambdas": {name: lam.detach().cpu() for name, lam in self._lambdas.items()}}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        self._lambdas = {name: lam.clone() for name, lam in state["lambdas"].items()}  # type: ignore[attr-defined]

    def resharded(
        self, states: Sequence[Mapping[str, object]], blocks: Mapping[str, tuple[int, int]]
    ) -> Mapping[str, object]:
        saved = [state["lambdas"] for state in states]
        kept = {name: torch.cat([s[name] for s in saved])[slice(*blocks[name])]  # type: ignore[index]
                for name in saved[0] if name in blocks and all(name in s for s in saved)}  # type: ignore[union-attr]
        return {"lambdas": kept}


class Causal(Weighting):
    """Causal weighting of the PDE residual over time: slab ``k`` weighs ``exp(-epsilon sum_{l<k} L_l)``.

    The time interval is cut into ``slabs`` equal slabs; ``L_l`` is the mean squared
    residual in slab ``l`` (without gradient), and the PDE term becomes the mean of
    the weighted slab losses. Later times enter the loss only as earlier ones are
    resolved, which respects the direction of time.

    Parameters
    ----------
    epsilon : float
        Causality strength ``> 0``; larger waits longer for early times.
    slabs : int
        Number of time slabs, ``>= 2``.
    """

    has_point_weights = True

    def __init__(self, *, epsilon: float = 1.0, slabs: int = 16) -> None:
        if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
            raise InputValueError(f"Causal.epsilon must be a finite number > 0, got {epsilon!r}")
        if not whole(slabs, 2):
            raise InputValueError(f"Causal.slabs must be an int >= 2, got {slabs!r}")
        self.epsilon, self.slabs = float(epsilon), slabs
        self._slab_weights: dict[str, torch.Tensor] = {}

    def bind(self, info: TermInfo) -> None:
        super().bind(info)
        if info.time_axis is None or info.time_range is None:
            raise InputValueError("Causal weighting needs a time-dependent problem (a SpaceTime domain); drop it for this one")

    def point_weights(self, name: str, residual: torch.Tensor, points: torch.Tensor) -> torch.Tensor | None:
        if name not in self.info.pde:
            return None
        t0, t1 = self.info.time_range  # type: ignore[misc]
        t = points[:, self.info.time_axis]
        slab = torch.clamp(((t - t0) / (t1 - t0) * self.slabs).long(), 0, self.slabs - 1)
        with torch.no_grad():
            r2 = residual.detach() ** 2
            group = self.info.group
            counts = torch.zeros(self.slabs, dtype=r2.dtype, device=r2.device).index_add_(0, slab, torch.ones_like(r2))
            counts = group.sum(counts)  # over every process's points
            occupied = counts > 0
            if self.frozen and name in self._slab_weights:
                weights = self._slab_weights[name].to(r2)
            else:
                sums = group.sum(torch.zeros_like(counts).index_add_(0, slab, r2))
                means = sums / torch.clamp(counts, min=1.0)
                before = torch.cumsum(means, 0) - means  # sum over earlier slabs
                weights = torch.exp(-self.epsilon * before)
                self._slab_weights[name] = weights
            # mean_j(w_j r_j^2) equals the mean over occupied slabs of weight * slab mean.
            scale = counts.sum() / (occupied.sum() * torch.clamp(counts, min=1.0))  # the term's points: all processes
        return (weights * scale)[slab]

    def report(self) -> dict[str, float]:
        return {f"causal_min/{name}": float(w.min()) for name, w in self._slab_weights.items()}

    def state_dict(self) -> dict[str, object]:
        return {"slab_weights": {name: w.detach().cpu() for name, w in self._slab_weights.items()}}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        self._slab_weights = {name: w.clone() for name, w in state["slab_weights"].items()}  # type: ignore[attr-defined]


def check_weightings(weighting: object) -> tuple[Weighting, ...]:
    """A tuple of weighting schemes from one scheme, a sequence of them, or None."""
    if weighting is None:
        return ()
    schemes = tuple(weighting) if isinstance(weighting, (tuple, list)) else (weighting,)
    for scheme in schemes:
        if not isinstance(scheme, Weighting):
            raise InputTypeError(
                f"weighting must be a Weighting such as Fixed({{...}}), GradNorm(), NTK(), ResidualAttention() or Causal(), "
                f"or a tuple of them; got {kind_of(scheme)}"
            )
    return schemes


def _grad_norm(value: torch.Tensor, parameters: Sequence[torch.Tensor], group: Group) -> float:
    """The norm of the gradient of ``value`` (a process's share of a term) summed over the processes."""
    grads = torch.autograd.grad(value, list(parameters), retain_graph=True, allow_unused=True)
    if group.size > 1:
        flat = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, parameters)])
        return float(torch.linalg.vector_norm(group.sum(flat)))
    squares = [torch.sum(g**2) for g in grads if g is not None]
    return math.sqrt(float(sum(squares))) if squares else 0.0


def _mean_squared_point_gradient(residual: torch.Tensor, chosen: np.ndarray, parameters: Sequence[torch.Tensor]) -> float:
    """``mean_j ||d residual[j] / d theta||^2`` over the indices ``chosen``, one backward pass each."""
    total = torch.zeros((), dtype=torch.float64, device=residual.device)  # summed on the device: one sync at the end
    for j in chosen.tolist():
        grads = torch.autograd.grad(residual[j], list(parameters), retain_graph=True, allow_unused=True)
        total += sum(torch.sum(g.detach() ** 2).double() for g in grads if g is not None)
    return float(total) / len(chosen)


