"""Supervised fitting: convergence, best-validation restore, plateau schedule, clipping, split, grid callbacks, errors."""

import math

import pytest
import torch

from pinnkan.models.kan import KAN
from pinnkan.training.fit import fit

F64 = torch.float64


def _line():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50, dtype=F64)[:, None]
    return torch.nn.Linear(1, 1, dtype=F64), x, 2 * x + 1


def _mse(model, x, y):
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


class _Recorder(torch.nn.Linear):
    """A linear model that remembers every input it saw, and whether it was training then."""

    def __init__(self):
        super().__init__(1, 1, dtype=F64)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, x[:, 0].tolist()))
        return super().forward(x)


def test_an_exactly_representable_target_is_fitted_to_rounding():
    model, x, y = _line()
    result = fit(model, x, y, steps=1500, lr=5e-2, plateau_patience=20)
    assert result.success and result.best_val < 1e-12
    assert model.weight.item() == pytest.approx(2.0, abs=1e-6)
    assert model.bias.item() == pytest.approx(1.0, abs=1e-6)


def test_the_best_validation_parameters_are_restored():
    model, x, y = _line()
    x_val, y_val = x[::5], y[::5]
    ruined = []

    def jolt(step, m):  # the last step ruins the parameters after its validation
        if step == 300:
            with torch.no_grad():
                m.weight += 10.0
            ruined.append(_mse(m, x_val, y_val))

    result = fit(model, x, y, steps=300, lr=5e-2, validation=(x_val, y_val), callbacks=[jolt])
    assert ruined[0] > 10.0
    assert result.best_val == min(result.val_loss)
    assert result.best_step == 1 + result.val_loss.index(result.best_val)
    assert _mse(model, x_val, y_val) == pytest.approx(result.best_val, rel=1e-12, abs=1e-300)


def test_plateau_halves_the_learning_rate_after_patience_bad_steps():
    # The model starts at the exact solution: the validation loss stays 0, every step after
    # the first is a bad one, so the rate drops at steps 1 + k (patience + 1), down to min_lr.
    model, x, y = _line()
    with torch.no_grad():
        model.weight.fill_(2.0)
        model.bias.fill_(1.0)
    patience, factor, lr, min_lr = 3, 0.5, 0.1, 1e-3
    result = fit(model, x, y, steps=40, lr=lr, plateau_patience=patience, plateau_factor=factor, min_lr=min_lr)
    expected = [max(min_lr, lr * factor ** max(0, (s - 2) // (patience + 1))) for s in range(1, 41)]
    assert result.lr == pytest.approx(expected, rel=1e-12)
    assert result.lr[-1] == min_lr


def test_gradient_norm_is_clipped_to_the_bound():
    # After each step the (clipped) gradients are still in place for the callbacks to read.
    def norms_with(clip):
        model, x, y = _line()
        norms = []

        def grad_norm(step, m):
            norms.append(math.sqrt(sum(float(p.grad.norm()) ** 2 for p in m.parameters())))

        fit(model, 100 * x, 100 * y, steps=5, lr=1e-3, clip=clip, callbacks=[grad_norm])
        return norms

    assert min(norms_with(None)) > 50.0
    assert norms_with(0.5) == pytest.approx([0.5] * 5, rel=1e-6)


def test_split_is_disjoint_covering_and_sized_by_the_fraction():
    x = torch.arange(100, dtype=F64)[:, None]
    splits = []
    for seed in (4, 4, 5):
        model = _Recorder()
        fit(model, x, x, steps=1, val_fraction=0.3, seed=seed)
        (training, train), (evaluating, val) = model.seen
        assert training and not evaluating
        assert len(train) == 70 and len(val) == 30
        assert set(train).isdisjoint(val) and set(train) | set(val) == set(range(100))
        splits.append(sorted(val))
    assert splits[0] == splits[1] and splits[0] != splits[2]  # the seed, and only it, moves the split


def test_batches_cover_the_training_points_once_per_pass():
    x = torch.arange(100, dtype=F64)[:, None]
    model = _Recorder()
    fit(model, x, x, steps=7, batch_size=10, validation=(x[:3], x[:3]))
    batches = [points for training, points in model.seen if training]
    assert [len(b) for b in batches] == [10] * 7
    seen = sum(batches, [])
    assert len(set(seen)) == 70  # without replacement within the pass


def test_explicit_validation_trains_on_every_point():
    x = torch.arange(20, dtype=F64)[:, None]
    model = _Recorder()
    result = fit(model, x, x, steps=1, validation=(x[:4] + 0.5, x[:4] + 0.5), val_fraction=0.9)
    (_, train), (_, val) = model.seen
    assert sorted(train) == list(range(20)) and val == [0.5, 1.5, 2.5, 3.5]
    assert result.val_loss[0] == pytest.approx(_mse(model, x[:4] + 0.5, x[:4] + 0.5), rel=1e-12)


def test_a_non_finite_loss_stops_and_restores_the_best_parameters():
    model, x, y = _line()

    def poison(step, m):
        if step == 5:
            with torch.no_grad():
                m.weight.fill_(float("nan"))

    result = fit(model, x, y, steps=50, lr=1e-2, callbacks=[poison])
    # The trainer goes back to the start of step 5 (the last parameters whose loss it saw finite):
    # step 5 is taken back, from the curves and from the best record alike.
    assert not result.success and result.steps == 4 and len(result.val_loss) == len(result.train_loss) == 4
    assert "non-finite at step 6" in result.message and "float64" in result.message
    assert "the parameters of step 4, with the lowest validation loss" in result.message
    assert result.best_step == 4 and result.best_val == min(result.val_loss)
    assert math.isfinite(model.weight.item())


def test_grid_changes_in_callbacks_keep_training_the_new_parameters():
    torch.manual_seed(0)
    x = torch.linspace(0, 1, 100, dtype=F64)[:, None]
    y = torch.sin(3 * x)
    net = KAN((1, 1), grid_size=5, input_bounds=((0.0,), (1.0,)), dtype=F64)
    after_change = {}

    def change_grid(step, m):
        if step == 20:
            m.update_grid(x)
        if step == 40:
            m.extend_grid(10)
            after_change["coef"] = m.layers[0].spline_coef.detach().clone()

    result = fit(net, x, y, steps=100, lr=1e-2, callbacks=[change_grid])
    assert result.success and net.grid_size == 10
    assert result.best_step > 40  # the record restarted at the extension and improved on it
    assert not torch.equal(net.layers[0].spline_coef, after_change["coef"])
    assert result.val_loss[-1] < 0.5 * result.val_loss[40]


def test_bad_fit_input_names_the_fix():
    model, x, y = _line()
    with pytest.raises(ValueError, match="same N"):
        fit(model, x, y[:10])
    with pytest.raises(ValueError, match=r"reshape 1-D data with \[:, None\]"):
        fit(model, x[:, 0], y)
    with pytest.raises(ValueError, match="maps 1 inputs to 1 outputs"):
        fit(model, torch.cat([x, x], 1), y)
    with pytest.raises(ValueError, match="NaN or inf; drop those rows"):
        fit(model, x, torch.full_like(y, float("nan")))
    with pytest.raises(ValueError, match="NaN or inf"):
        fit(model, x, y, validation=(x[:3], torch.full_like(y[:3], float("inf"))))
    for fraction in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\)"):
            fit(model, x, y, val_fraction=fraction)
    with pytest.raises(ValueError, match="leaves no training or no validation point"):
        fit(model, x, y, val_fraction=0.0)
    with pytest.raises(ValueError, match="leaves no training or no validation point"):
        fit(model, x[:2], y[:2], val_fraction=0.1)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        fit(model, x, y, steps=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        fit(model, x, y, lr=-1.0)
    with pytest.raises(ValueError, match="give min_lr <= lr"):
        fit(model, x, y, lr=1e-7)
    with pytest.raises(ValueError, match="Plateau.factor must be < 1"):
        fit(model, x, y, plateau_factor=2.0)
    with pytest.raises(ValueError, match="clip must be a finite number > 0 or None"):
        fit(model, x, y, clip=0.0)
    with pytest.raises(TypeError, match=r"pair \(x_val, y_val\)"):
        fit(model, x, y, validation=x)
    with pytest.raises(TypeError, match="callables callback"):
        fit(model, x, y, callbacks=[None])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit(lambda t: t, x, y)
