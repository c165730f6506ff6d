"""Supervised function fitting: ``min ||model(x) - y||^2`` with a validation split.

AdamW with gradient-norm clipping, a learning rate lowered by
``ReduceLROnPlateau`` when the validation loss stalls, mini-batches or full
batch, and the parameters with the best validation loss restored at the end.

Examples
--------
>>> from pinnkan import KAN
>>> x = torch.linspace(0, 1, 200)[:, None]
>>> result = fit(KAN((1, 4, 1), input_bounds=((0.0,), (1.0,))), x, torch.sin(6 * x), steps=200)
>>> result.success
True
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .regularization import Regularization

__all__ = ["fit", "FitResult"]

FitCallback = Callable[[int, nn.Module], None]


@dataclass(frozen=True)
class FitResult:
    """What a fit did: per-step losses and learning rates, and the best validation point.

    ``success`` is False when the loss became non-finite; ``message`` says what to do.
    """

    success: bool
    message: str
    steps: int
    seconds: float
    train_loss: list[float]
    val_loss: list[float]
    lr: list[float]
    best_val: float
    best_step: int


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 2000,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    val_fraction: float = 0.2,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    clip: float | None = 1.0,
    plateau_patience: int = 100,
    plateau_factor: float = 0.5,
    min_lr: float = 1e-6,
    seed: int = 0,
    regularization: Regularization | None = None,
    callbacks: Sequence[FitCallback] = (),
) -> FitResult:
    """Fit ``model`` to samples ``y = f(x)``; the model ends with its best-validation parameters.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place; ``x`` and ``y`` move to its parameters' dtype and device.
    x : torch.Tensor, shape (N, in)
    y : torch.Tensor, shape (N, out)
    steps : int
        Optimiser steps.
    lr, weight_decay : float
        AdamW settings.
    batch_size : int, optional
        Training points per step, drawn without replacement each epoch; full batch if None.
    val_fraction : float
        Share of the points held out for validation by a seeded random split, in (0, 1).
    validation : (x_val, y_val), optional
        An explicit validation set instead of the split (all of x, y then train).
    clip : float, optional
        Maximum gradient norm; no clipping if None.
    plateau_patience, plateau_factor, min_lr
        ``ReduceLROnPlateau`` settings, stepped on the validation loss.
    seed : int
        Fixes the split and the batches.
    regularization : Regularization, optional
        KAN penalties on each batch, added to the training loss with their weights
        (the recorded losses stay mean-square errors).
    callbacks : sequence of callable
        ``callback(step, model)`` after every step, e.g. a grid update.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_int("steps", steps)
    for name, value in (("lr", lr), ("plateau_factor", plateau_factor), ("min_lr", min_lr)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not plateau_factor < 1:
        raise ValueError(f"plateau_factor must be < 1 to lower the learning rate, got {plateau_factor}")
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    if clip is not None and not (math.isfinite(clip) and clip > 0):
        raise ValueError(f"clip must be a finite number > 0 or None, got {clip!r}")
    param = next(model.parameters())
    x, y = _check_data(model, x, y, param, "x, y")
    generator = torch.Generator().manual_seed(seed)
    if validation is None:
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}; or pass validation=(x_val, y_val)")
        n_val = round(val_fraction * x.shape[0])
        if n_val < 1 or n_val >= x.shape[0]:
            raise ValueError(
                f"val_fraction={val_fraction} of {x.shape[0]} points leaves no training or no validation "
                f"point; use more points or another fraction"
            )
        order = torch.randperm(x.shape[0], generator=generator).to(x.device)
        x_val, y_val = x[order[:n_val]], y[order[:n_val]]
        x, y = x[order[n_val:]], y[order[n_val:]]
    else:
        x_val, y_val = _check_data(model, *validation, param, "validation")
    if batch_size is not None:
        _check_int("batch_size", batch_size)
    batch = x.shape[0] if batch_size is None else min(batch_size, x.shape[0])

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=plateau_factor, patience=plateau_patience, min_lr=min_lr
    )
    params = [p for p in model.parameters() if p.requires_grad]
    best_state = copy.deepcopy(model.state_dict())
    best_val, best_step = math.inf, 0
    train_curve: list[float] = []
    val_curve: list[float] = []
    lrs: list[float] = []
    start = time.perf_counter()
    permutation = torch.randperm(x.shape[0], generator=generator).to(x.device)
    cursor = 0
    message = "finished all steps"
    success = True
    for step in range(1, steps + 1):
        if cursor + batch > x.shape[0]:
            permutation = torch.randperm(x.shape[0], generator=generator).to(x.device)
            cursor = 0
        index = permutation[cursor : cursor + batch]
        cursor += batch
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(x[index]) - y[index]) ** 2)
        total = loss
        if regularization is not None:
            terms = regularization.terms(model, x[index])
            total = loss + sum(regularization.weights[k] * v for k, v in terms.items())
        if not torch.isfinite(total):
            success = False
            message = f"loss became non-finite at step {step}; restored the best parameters; lower lr or use float64"
            break
        total.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        with torch.no_grad():
            val = float(torch.mean((model(x_val) - y_val) ** 2))
        train_curve.append(float(loss.detach()))
        val_curve.append(val)
        lrs.append(optimizer.param_groups[0]["lr"])
        if val < best_val:
            best_val, best_step = val, step
            best_state = copy.deepcopy(model.state_dict())
        scheduler.step(val)
        for callback in callbacks:
            callback(step, model)
    model.load_state_dict(best_state)
    return FitResult(
        success=success,
        message=message,
        steps=len(train_curve),
        seconds=time.perf_counter() - start,
        train_loss=train_curve,
        val_loss=val_curve,
        lr=lrs,
        best_val=best_val,
        best_step=best_step,
    )


def _check_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_data(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, param: torch.Tensor, what: str
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{what} must be torch tensors")
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{what} must have shapes (N, in) and (N, out) with the same N, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}; reshape 1-D data with [:, None]"
        )
    width_in = getattr(model, "in_features", x.shape[1])
    width_out = getattr(model, "out_features", y.shape[1])
    if x.shape[1] != width_in or y.shape[1] != width_out:
        raise ValueError(
            f"the model maps {width_in} inputs to {width_out} outputs; {what} have {x.shape[1]} and {y.shape[1]} columns"
        )
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        raise ValueError(f"{what} contain NaN or inf; drop those rows first")
    return x.to(dtype=param.dtype, device=param.device), y.to(dtype=param.dtype, device=param.device)
