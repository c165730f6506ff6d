"""Levenberg-Marquardt (damped Gauss-Newton) steps for losses that are sums of squares.

A PINN loss is ``L = sum_k F_k^2`` over weighted residual rows ``F`` (every point of
every term). With the Jacobian ``J = dF/dtheta``, a step solves the damped normal
equations

    (J^T J + mu I) delta = -J^T F,

the Gauss-Newton step for small ``mu`` and a short gradient step for large ``mu``.
The step is taken when the loss falls by at least a fraction of what the linear
model ``|F + J delta|^2`` predicts; ``mu`` shrinks after good steps and grows after
poor ones (Nielsen's rule; Madsen, Nielsen & Tingleff, *Methods for non-linear least
squares problems*, 2004, section 3.2). On PINNs such steps are the energy natural
gradient of Müller & Zeinhofer (ICML 2023) with a trust region instead of a line
search.

``J`` is never held whole: rows come in pieces (:meth:`Objective.residual_chunks`),
each piece's rows are differentiated through its small graph (in one vectorised
backward pass where the graph allows, one pass per row where it does not: the fused C
kernels of B-spline KANs), and the pieces are added into ``J^T J`` (``P x P``) and
``J^T F`` in float64, whatever the model's precision. Memory is ``P^2`` numbers plus
one piece.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

from ..errors import InputValueError
from .bfgs import flat_parameters, set_flat_parameters
from .distributed import ALONE, Group

__all__ = ["LevenbergMarquardt", "normal_equations"]

Chunks = Callable[[int], Iterator[torch.Tensor]]

# How much a trial step must lower the loss, as a fraction of the decrease the linear model predicts.
ACCEPT = 1e-4


def normal_equations(
    pieces: Iterable[torch.Tensor], params: list[torch.Tensor], *, batched: bool = True
) -> tuple[torch.Tensor, torch.Tensor, float, bool]:
    """``(J^T J, J^T F, F^T F, batched)`` in float64 from pieces of ``F`` with their graphs to ``params``.

    A piece's rows are differentiated in one vectorised backward pass (``torch.vmap`` over
    the rows, ``is_grads_batched``) where every operation of the graph has a batching rule,
    else (``batched`` False, or the first piece failed) one backward pass per row; the
    returned flag says which ran. Graphs are kept while a piece is in use, as pieces may
    share one; parameters a row does not depend on get zeros.
    """
    size = sum(p.numel() for p in params)
    like = params[0]
    gram = torch.zeros(size, size, dtype=torch.float64, device=like.device)
    gradient = torch.zeros(size, dtype=torch.float64, device=like.device)
    value = 0.0
    for piece in pieces:
        rows = piece.reshape(-1)
        jacobian = torch.zeros(rows.numel(), size, dtype=torch.float64, device=like.device)
        if rows.requires_grad:
            if batched:
                batched = _batched_rows(rows, params, jacobian)
            if not batched:
                for k in range(rows.numel()):
                    grads = torch.autograd.grad(rows[k], params, retain_graph=True, allow_unused=True)
                    _place(grads, params, jacobian[k])
        values = rows.detach().double()
        gram.addmm_(jacobian.T, jacobian)
        gradient.addmv_(jacobian.T, values)
        value += float(values @ values)
    return gram, gradient, value, batched


def _batched_rows(rows: torch.Tensor, params: list[torch.Tensor], jacobian: torch.Tensor) -> bool:
    """Fill ``jacobian`` with the rows' gradients in one vectorised backward pass; False where an operation
    of the graph (e.g. a fused C kernel) cannot be vectorised."""
    eye = torch.eye(rows.numel(), dtype=rows.dtype, device=rows.device)
    try:
        with warnings.catch_warnings():  # (operations without a batching rule fall back to a loop, and say so)
            warnings.simplefilter("ignore", UserWarning)
            grads = torch.autograd.grad(rows, params, grad_outputs=eye, retain_graph=True, allow_unused=True,
                                        is_grads_batched=True)
    except (RuntimeError, NotImplementedError):  # no batching rule somewhere in the graph: the caller goes row by row
        return False
    _place(grads, params, jacobian)
    return True


def _place(grads: Sequence[torch.Tensor | None], params: list[torch.Tensor], out: torch.Tensor) -> None:
    """Write per-parameter gradients (each with an optional leading row axis) side by side into ``out``."""
    offset = 0
    for p, g in zip(params, grads):
        if g is not None:
            out[..., offset : offset + p.numel()] = g.reshape(*out.shape[:-1], p.numel())
        offset += p.numel()


class LevenbergMarquardt(torch.optim.Optimizer):
    """Damped Gauss-Newton on all parameters; one call of :meth:`step` is one accepted step (or none).

    Parameters
    ----------
    params : iterable of tensors
        Parameters to optimise (one group).
    damping : float
        The first ``mu`` relative to the largest diagonal entry of ``J^T J``.
    chunk : int
        Residual rows per forward pass when the Jacobian is built.
    max_trials : int
        Damped steps tried per iteration before the stage is declared converged.
    tolerance_change : float
        The state's ``converged`` flag is set when the loss changes by less than this.
    """

    def __init__(self, params, *, damping: float = 1e-3, chunk: int = 32, max_trials: int = 10,
                 tolerance_change: float = 1e-14) -> None:
        super().__init__(params, {"damping": damping, "chunk": chunk, "max_trials": max_trials,
                                  "tolerance_change": tolerance_change})
        if len(self.param_groups) != 1:
            raise InputValueError("LevenbergMarquardt takes a single parameter group")
        self._params = self.param_groups[0]["params"]

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor], chunks: Chunks,  # type: ignore[override]
             processes: Group = ALONE) -> torch.Tensor:
        """One iteration: build the normal equations from ``chunks(size)`` (pieces of ``F``; in a group of
        ``processes``, each process's rows, and the equations are summed over them), then try damped steps,
        each judged by ``closure()`` (the loss, whose last evaluation is at the point kept)."""
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        with torch.enable_grad():
            gram, gradient, value, state["batched"] = normal_equations(
                chunks(group["chunk"]), self._params, batched=state.get("batched", True)
            )
        if processes.size > 1:
            size = len(gradient)
            summed = processes.sum(torch.cat([gram.reshape(-1), gradient, gradient.new_tensor([value])]))
            gram, gradient, value = summed[: size * size].view(size, size), summed[size * size : -1], float(summed[-1])
        evaluate = torch.enable_grad()(closure)
        if "mu" not in state:
            state["mu"] = group["damping"] * max(float(gram.diagonal().max()), torch.finfo(torch.float64).tiny)
            state["nu"] = 2.0
        state["converged"] = False
        x0 = flat_parameters(self._params)
        eye = torch.eye(len(gradient), dtype=gram.dtype, device=gram.device)
        for _ in range(group["max_trials"]):
            factor, info = torch.linalg.cholesky_ex(gram + state["mu"] * eye)
            if int(info) != 0:  # not positive definite in floating point: damp more
                state["mu"] *= state["nu"]
                state["nu"] *= 2.0
                continue
            delta = -torch.cholesky_solve(gradient[:, None], factor)[:, 0]
            predicted = -(2.0 * float(delta @ gradient) + float(delta @ (gram @ delta)))
            set_flat_parameters(self._params, x0 + delta.to(x0.dtype))
            trial = float(evaluate())
            ratio = (value - trial) / predicted if predicted > 0 else -math.inf
            if math.isfinite(trial) and ratio > ACCEPT:
                state["mu"] *= max(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
                state["nu"] = 2.0
                state["converged"] = abs(value - trial) <= group["tolerance_change"]
                return torch.tensor(trial)
            state["mu"] *= state["nu"]
            state["nu"] *= 2.0
        set_flat_parameters(self._params, x0)
        state["converged"] = True
        return torch.tensor(float(evaluate()))  # the last evaluation at the point kept
