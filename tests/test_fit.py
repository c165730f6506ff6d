"""Supervised fitting: convergence, best-validation restore, plateau schedule, clipping, split, errors."""

import math

import pytest
import torch

from pinnkan.fit import fit

F64 = torch.float64


def _line():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50, dtype=F64)[:, None]
    return torch.nn.Linear(1, 1, dtype=F64), x, 2 * x + 1


def test_an_exactly_representable_target_is_fitted_to_rounding():
    model, x, y = _line()
    result = fit(model, x, y, steps=1500, lr=5e-2, plateau_patience=20)
    assert result.success and result.best_val < 1e-12
    assert math.isclose(model.weight.item(), 2.0, rel_tol=1e-6)


def test_the_best_validation_parameters_are_restored():
    model, x, y = _line()
    x_val, y_val = x[::5], y[::5]

    def jolt(step, m):  # the last step ruins the parameters
        if step == 300:
            with torch.no_grad():
                m.weight += 10.0

    result = fit(model, x, y, steps=300, lr=5e-2, validation=(x_val, y_val), callbacks=[jolt])
    with torch.no_grad():
        val = float(torch.mean((model(x_val) - y_val) ** 2))
    assert result.best_step < 300
    assert val == pytest.approx(result.best_val, rel=1e-12)


def test_plateau_lowers_the_learning_rate_by_its_factor():
    torch.manual_seed(1)
    x = torch.rand(40, 1, dtype=F64)
    y = torch.rand(40, 1, dtype=F64)  # noise: the validation loss soon stalls
    result = fit(torch.nn.Linear(1, 1, dtype=F64), x, y, steps=400, lr=1e-2, plateau_patience=5, plateau_factor=0.5)
    drops = [(a, b) for a, b in zip(result.lr, result.lr[1:]) if b != a]
    assert len(drops) >= 2
    assert all(b == pytest.approx(0.5 * a) or b == pytest.approx(1e-6) for a, b in drops)  # or min_lr


def test_gradient_norm_is_clipped():
    model, x, y = _line()
    norms = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm):
        original(params, max_norm)
        norms.append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters())))

    torch.nn.utils.clip_grad_norm_ = spy
    try:
        fit(model, 100 * x, 100 * y, steps=5, lr=1e-3, clip=0.5)
    finally:
        torch.nn.utils.clip_grad_norm_ = original
    assert len(norms) == 5 and max(norms) <= 0.5 + 1e-9


def test_split_is_disjoint_covering_and_sized_by_the_fraction():
    # A zero model on y_i = i: the two losses are mean squares of disjoint index sets.
    x = torch.arange(100, dtype=F64)[:, None]
    model = torch.nn.Linear(1, 1, dtype=F64)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    result = fit(model, x, x, steps=1, lr=1e-300, clip=None, val_fraction=0.3, seed=4)
    total = float((x**2).sum())
    assert 70 * result.train_loss[0] + 30 * result.val_loss[0] == pytest.approx(total, rel=1e-12)
    other = fit(model, x, x, steps=1, lr=1e-300, clip=None, val_fraction=0.3, seed=5)
    assert other.val_loss[0] != pytest.approx(result.val_loss[0], rel=1e-6)  # the seed moves the split


def test_bad_fit_input_names_the_fix():
    model, x, y = _line()
    with pytest.raises(ValueError, match="same N"):
        fit(model, x, y[:10])
    with pytest.raises(ValueError, match="NaN or inf"):
        fit(model, x, torch.full_like(y, float("nan")))
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        fit(model, x, y, val_fraction=1.0)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        fit(model, x, y, steps=0)
    with pytest.raises(ValueError, match="leaves no training or no validation"):
        fit(model, x[:2], y[:2], val_fraction=0.1)
