"""Supervised function fitting: ``min mean ||model(x) - y||^2`` with a validation set.

AdamW with gradient-norm clipping, a learning rate lowered by
``ReduceLROnPlateau`` when the validation loss stalls, mini-batches or full
batch, and the parameters with the best validation loss restored at the end.
It runs on :class:`~pinnkan.training.trainer.Trainer`, as PDE residuals do: a
supervised objective and one ``Adam`` stage with a ``Plateau`` schedule. SIGTERM or
Ctrl-C stop it at the end of a step (the best parameters are restored, and
``FitResult.message`` says so); a second Ctrl-C stops at once.

Examples
--------
>>> import torch
>>> from pinnkan import KAN
>>> x = torch.linspace(0, 1, 200, dtype=torch.float64)[:, None]
>>> net = KAN((1, 1), grid_size=10, input_bounds=((0.0,), (1.0,)), dtype=torch.float64)
>>> result = fit(net, x, torch.sin(6 * x), steps=500)
>>> result.success, result.best_val < 1e-4
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, check_number, check_whole
from ..kan_tools.regularization import Regularization
from .objective import Objective
from .stages import Adam, Plateau
from .trainer import Trainer, copy_state

__all__ = ["fit", "FitResult"]

FitCallback = Callable[[int, nn.Module], None]
VALIDATION = "validation/mse"  # the validation loss in the training history (an extra figure)


@dataclass(frozen=True)
class FitResult:
    """What a fit did: per-step losses and learning rates, and the best validation point.

    Attributes
    ----------
    success : bool
        False when the loss became non-finite; ``message`` then says what to do.
    message : str
    steps : int
        Steps completed (fewer than asked when the fit stopped early).
    seconds : float
        Wall-clock time of the fit.
    train_loss, val_loss : list of float, length steps
        Mean-square error on the step's training batch (before its update) and on
        the validation set (after it).
    lr : list of float, length steps
        Learning rate of each step.
    best_val : float
        Lowest validation loss; the model holds its parameters after the fit.
    best_step : int
        The step that reached it (0: the parameters the fit started from).
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
    progress: bool = False,
    callbacks: Sequence[FitCallback] = (),
) -> FitResult:
    """Fit ``model`` to samples ``y = f(x)`` by AdamW on the mean-square error.

    The validation loss is measured after every step. The parameters (and buffers,
    e.g. KAN grids) with the lowest validation loss are kept and **restored into
    ``model`` at the end**, also when the fit stops early on a non-finite loss.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place. If it has ``in_features`` / ``out_features`` attributes,
        the data must match them.
    x : torch.Tensor, shape (N, in)
        Inputs; moved to the dtype and device of the model's parameters.
    y : torch.Tensor, shape (N, out)
        Targets; moved likewise.
    steps : int
        Optimiser steps.
    lr, weight_decay : float
        AdamW's initial learning rate and decoupled weight decay.
    batch_size : int, optional
        Training points per step, drawn without replacement within each pass over
        the training set; full batch if None (or if larger than the training set).
    val_fraction : float
        Share of the points held out for validation by a seeded random split, in
        ``[0, 1)``; the split must leave at least one point on each side.
    validation : (x_val, y_val), optional
        An explicit validation set, shapes (M, in) and (M, out); all of ``x, y``
        then train and ``val_fraction`` is not used.
    clip : float, optional
        Maximum 2-norm of the gradient over all parameters; no clipping if None.
    plateau_patience, plateau_factor, min_lr
        ``ReduceLROnPlateau`` on the validation loss: after ``plateau_patience``
        steps without improvement the learning rate is multiplied by
        ``plateau_factor``, down to ``min_lr``.
    seed : int
        Fixes the split and the batches (not the model's initialisation).
    regularization : Regularization, optional
        KAN penalties on each batch, added to the training loss with their weights;
        the recorded losses stay mean-square errors.
    progress : bool
        Show a progress bar with the latest losses.
    callbacks : sequence of callable
        ``callback(step, model)`` after every step, e.g. a KAN grid update. If the
        callbacks replace parameters (as ``KAN.update_grid`` and ``KAN.extend_grid``
        do), the optimiser continues on the new ones with fresh moment estimates,
        and the best-validation record restarts from the changed model.

    Returns
    -------
    FitResult
        Loss curves, learning rates, the best validation loss and its step.

    Raises
    ------
    TypeError
        If ``model`` is not a module, the data are not tensors, or a callback is not callable.
    ValueError
        If shapes disagree with each other or the model, values are not finite, or
        a setting is out of range; the message says what to change.

    Examples
    --------
    >>> net = torch.nn.Linear(1, 1, dtype=torch.float64)
    >>> x = torch.linspace(-1, 1, 50, dtype=torch.float64)[:, None]
    >>> result = fit(net, x, 2 * x + 1, steps=1500, lr=5e-2)
    >>> round(net.weight.item(), 6), round(net.bias.item(), 6)
    (2.0, 1.0)
    """
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InputValueError("the model has no trainable parameters; set requires_grad=True on some")
    check_whole("steps", steps, 1)
    check_whole("seed", seed, 0)
    if batch_size is not None:
        check_whole("batch_size", batch_size, 1)
    # AdamW on the batches, the rate lowered when the validation loss stalls; the stage checks its settings
    stage = Adam(steps=steps, lr=lr, weight_decay=weight_decay, clip=clip,
                 plateau=Plateau(patience=plateau_patience, factor=plateau_factor, min_lr=min_lr))
    callbacks = tuple(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise InputTypeError(f"callbacks must be callables callback(step, model), got {type(callback).__name__}")
    x, y = _check_data(model, x, y, params[0], "x, y")
    generator = torch.Generator().manual_seed(seed)
    if validation is None:
        check_number("val_fraction", val_fraction, "in [0, 1)", lambda v: 0 <= v < 1)
        x, y, x_val, y_val = _split(x, y, val_fraction, generator)
    else:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise InputTypeError("validation must be a pair (x_val, y_val) of tensors")
        x_val, y_val = _check_data(model, *validation, params[0], "validation")
    n_train = x.shape[0]
    batch = n_train if batch_size is None else min(batch_size, n_train)

    was_training = model.training
    objective = _DataFit(model, (x, y), (x_val, y_val), batch, generator, regularization, callbacks)
    result = Trainer(model, objective, [stage], progress=progress, max_retries=0).run()
    model.load_state_dict(objective.best_state)
    model.train(was_training)
    history = result.history
    message = result.message
    if not result.success:
        message += (f"; then the parameters of step {objective.best_step}, with the lowest validation loss "
                    f"({objective.best_val:.3e}), were restored")
        if "non-finite" in result.message:
            message += "; lower lr, keep clip, or use a float64 model"
    return FitResult(
        success=result.success,
        message=message,
        steps=result.steps,
        seconds=result.seconds,
        train_loss=history.column("mse"),
        val_loss=history.column(VALIDATION),
        lr=history.column("lr"),
        best_val=objective.best_val,
        best_step=objective.best_step,
    )


class _DataFit(Objective):
    """The mean-square error of a batch of ``(x, y)`` with its regularisation, the validation loss as an
    extra figure after each step, and the parameters of the lowest validation loss.

    The batches are drawn without replacement within each pass over the training points. The
    fit's callbacks run after each step; if they replace the parameters (a grid change) the
    best-validation record restarts from the changed model. The best record is part of the
    state, so a step the trainer takes back is forgotten by it too.
    """

    def __init__(self, model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                 validation: tuple[torch.Tensor, torch.Tensor], batch: int, generator: torch.Generator,
                 regularization: Regularization | None, callbacks: tuple[FitCallback, ...]) -> None:
        self.model, (self.x, self.y), (self.x_val, self.y_val) = model, train, validation
        self.batch, self.generator = batch, generator
        self.regularization, self.callbacks = regularization, callbacks
        self._order = self._permutation()
        self._cursor = 0
        self._index = self._order[:batch]
        self._val = math.inf
        self._keep(0, math.inf)

    def _keep(self, step: int, val: float) -> None:
        """Record the model's parameters now as the best, at ``step`` with validation loss ``val``."""
        self.best_val, self.best_step, self.best_state = val, step, copy_state(self.model.state_dict())

    def _permutation(self) -> torch.Tensor:
        return torch.randperm(self.x.shape[0], generator=self.generator).to(self.x.device)

    def before_step(self, step: int, adaptive: bool) -> None:
        if self._cursor + self.batch > self.x.shape[0]:
            self._order, self._cursor = self._permutation(), 0
        self._index = self._order[self._cursor : self._cursor + self.batch]
        self._cursor += self.batch

    def __call__(self, model: nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        model.train()
        x = self.x[self._index]
        loss = torch.mean((model(x) - self.y[self._index]) ** 2)
        total = loss
        if self.regularization is not None:
            terms = self.regularization.terms(model, x)
            total = loss + sum(self.regularization.weights[k] * v for k, v in terms.items())
        return total, {"mse": loss}

    def extras(self) -> dict[str, float]:
        self._val = _mse(self.model, self.x_val, self.y_val)
        return {VALIDATION: self._val}

    def after_step(self, step: int, model: nn.Module, adaptive: bool) -> str | None:
        if self._val < self.best_val:
            self._keep(step, self._val)
        before = [p for p in model.parameters()]
        for callback in self.callbacks:
            callback(step, model)
        after = [p for p in model.parameters()]
        if len(before) != len(after) or any(a is not b for a, b in zip(before, after)):
            # Earlier best parameters may not even fit the changed model's shapes: the record restarts here.
            self._keep(step, _mse(model, self.x_val, self.y_val))
        return None

    def monitor(self, record: Mapping[str, float]) -> float:
        return self._val

    def state_dict(self) -> dict[str, object]:
        return {"best_val": self.best_val, "best_step": self.best_step, "best_state": self.best_state}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        self.best_val, self.best_step = state["best_val"], state["best_step"]  # type: ignore[assignment]
        self.best_state = state["best_state"]  # type: ignore[assignment]


def _mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


def _split(
    x: torch.Tensor, y: torch.Tensor, val_fraction: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded random split into ``(x_train, y_train, x_val, y_val)``, ``round(val_fraction * N)`` validation points."""
    n = x.shape[0]
    n_val = round(val_fraction * n)
    if n_val < 1 or n_val >= n:
        raise InputValueError(
            f"val_fraction={val_fraction} of {n} points leaves no training or no validation point; "
            "use more points, another fraction, or validation=(x_val, y_val)"
        )
    order = torch.randperm(n, generator=generator).to(x.device)
    train, val = order[n_val:], order[:n_val]
    return x[train], y[train], x[val], y[val]


def _check_data(
    model: nn.Module, x: object, y: object, param: torch.Tensor, what: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check shapes and values of ``x`` (N, in), ``y`` (N, out); return them on the model's dtype and device."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise InputTypeError(f"{what} must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise InputValueError(
            f"{what} must have shapes (N, in) and (N, out) with the same N, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}; reshape 1-D data with [:, None]"
        )
    if x.shape[0] == 0:
        raise InputValueError(f"{what} hold no points; give at least one row")
    width_in = getattr(model, "in_features", x.shape[1])
    width_out = getattr(model, "out_features", y.shape[1])
    if x.shape[1] != width_in or y.shape[1] != width_out:
        raise InputValueError(
            f"the model maps {width_in} inputs to {width_out} outputs, but {what} have {x.shape[1]} and "
            f"{y.shape[1]} columns; reshape the data or build the model for them"
        )
    if x.is_complex() or y.is_complex():
        raise InputTypeError(f"{what} must be real; take .real or .abs() first")
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        raise InputValueError(f"{what} contain NaN or inf; drop those rows first")
    return x.to(dtype=param.dtype, device=param.device), y.to(dtype=param.dtype, device=param.device)
