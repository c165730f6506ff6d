"""Chunked training steps: the same loss, gradients and training history as one evaluation of every row;
the automatic chunk size from measured graph bytes; errors for what cannot be chunked."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from pinnkan import (
    BFGS,
    MLP,
    PINN,
    Adam,
    Autograd,
    Causal,
    Coefficient,
    Fixed,
    GradNorm,
    Initial,
    Interval,
    Observations,
    Periodic,
    Points,
    Problem,
    Regularization,
    ResidualAttention,
    Setup,
    SpaceTime,
    load_problem,
    solve,
)
from pinnkan.models.kan import KAN
from pinnkan.pde.coefficients import CoefficientSet
from pinnkan.run.cli import main as cli
from pinnkan.training.losses import PINNLoss
from pinnkan.training.memory import MIN_CHUNK, graph_bytes, rows_per_chunk
from pinnkan.training.trainer import Trainer

F64 = torch.float64


def _problem():
    """Advection-diffusion with a periodic pair condition, an initial condition and observations of a learned speed."""
    rng = np.random.default_rng(3)
    observed = rng.random((30, 2)) * (1.0, 0.5)
    return Problem(
        name="periodic",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 0.5)),
        residual=lambda f: f.u_t + f.c * f.u_x - 0.01 * f.u_xx,
        coefficients={"c": Coefficient(0.5)},
        conditions=[
            Initial(lambda c: torch.sin(2 * math.pi * c["x"])),
            Periodic("x", derivatives=1),
            Observations(observed, np.sin(2 * math.pi * (observed[:, 0] - observed[:, 1]))),
        ],
    )


def _model(problem, kind):
    torch.manual_seed(0)
    bounds = ((0.0, 0.0), (1.0, 0.5))
    net = KAN((2, 6, 1), input_bounds=bounds, dtype=F64) if kind == "kan" else MLP((2, 12, 1), input_bounds=bounds,
                                                                                    dtype=F64)
    return PINN(net, CoefficientSet(problem.coefficients, dtype=F64))


def _loss(problem, chunk_size, weighting=None, engine=None, regularization=None, interior=90):
    return PINNLoss(problem, problem.conditions, Points(interior=interior, boundary=25), rng=np.random.default_rng(0),
                    dtype=F64, weighting=weighting, engine=engine, chunk_size=chunk_size, regularization=regularization)


def _gradient(model):
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in model.parameters()])


def _step(problem, kind, chunk_size, weighting=()):
    model = _model(problem, kind)
    loss = _loss(problem, chunk_size, [*weighting], engine=Autograd() if kind == "mlp" else None)
    loss.before_step(1, adaptive=True)
    total, terms = loss.loss_and_gradient(model)
    return total, terms, _gradient(model)


@pytest.mark.parametrize("kind", ["kan", "mlp"])  # jets, and autograd
@pytest.mark.parametrize("size", [1, 7, 40])
def test_a_chunked_step_has_the_loss_and_gradient_of_one_evaluation(kind, size):
    problem = _problem()
    weighting = lambda: (Fixed({"initial": 10.0}), Causal(epsilon=2.0, slabs=4))  # noqa: E731
    total, terms, gradient = _step(problem, kind, None, weighting())
    total_c, terms_c, gradient_c = _step(problem, kind, size, weighting())
    assert float(total_c) == pytest.approx(float(total), rel=1e-13)
    assert terms_c.keys() == terms.keys() and set(terms) == {"pde", "initial", "periodic_x_u", "periodic_x_u_x", "data"}
    for name in terms:
        assert float(terms_c[name]) == pytest.approx(float(terms[name]), rel=1e-13), name
    assert float(gradient.norm()) > 1e-2  # the gradient is not trivially zero, and the speed c has one
    assert float((gradient_c - gradient).abs().max()) <= 1e-13 * float(gradient.abs().max())


def test_training_on_chunks_repeats_the_history_of_unchunked_training():
    # Residual attention keeps per-point state updated every step; BFGS's line search calls the loss repeatedly.
    problem = _problem()
    histories = []
    for size in (None, 16):
        model = _model(problem, "kan")
        loss = _loss(problem, size, ResidualAttention(gamma=0.9, eta=0.1))
        result = Trainer(model, loss, [Adam(steps=6, lr=1e-2), BFGS(steps=4)], progress=False).run()
        histories.append(np.array([[r["total"], r["pde"], r["data"]] for r in result.history.records]))
    assert histories[0].shape == (10, 3)
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-10)
    assert histories[0][-1, 0] < 0.7 * histories[0][0, 0]  # it trained (0.98 -> 0.59)


def test_kan_penalties_on_chunks_are_taken_on_the_first_chunk_of_pde_points():
    problem = _problem()
    regularization = Regularization(l1=1e-3, entropy=1e-3)
    model = _model(problem, "kan")
    loss = _loss(problem, 20, regularization=regularization)
    total, terms = loss.loss_and_gradient(model)
    expected = {k: v.detach() for k, v in regularization.terms(model, loss.pde_points_tensor()[:20]).items()}
    for name in ("reg_l1", "reg_entropy"):
        assert float(terms[name]) == pytest.approx(float(expected[name]), rel=1e-13)
    plain = sum(float(terms[n]) for n in ("pde", "initial", "periodic_x_u", "periodic_x_u_x", "data"))
    assert float(total) == pytest.approx(plain + 1e-3 * float(expected["reg_l1"] + expected["reg_entropy"]), rel=1e-12)


def test_a_non_finite_chunked_loss_stops_training_as_an_unchunked_one_does():
    problem = replace(_problem(), residual=lambda f: f.u_t / 0.0)
    results = [Trainer(model := _model(problem, "kan"), _loss(problem, size), [Adam(steps=3)], progress=False).run()
               for size in (None, 10)]
    assert not results[1].success and results[1].message == results[0].message
    assert "non-finite at step 1 (terms ['total', 'pde']), at the initial parameters" in results[1].message
    assert all(p.grad is None for p in model.parameters())  # the trainer kept no gradient of it


def test_graph_bytes_counts_what_the_backward_pass_keeps():
    x = torch.linspace(0, 1, 1000, dtype=F64, requires_grad=True)
    assert graph_bytes(lambda: torch.exp(x).sum()) == 8 * 1000  # exp keeps its result
    assert graph_bytes(lambda: (x * x).sum()) == 8 * 1000  # x, once though saved twice
    assert graph_bytes(lambda: (x * torch.sin(x)).sum()) == 2 * 8 * 1000  # x (for sin and the product) and sin x
    with torch.no_grad():
        assert graph_bytes(lambda: torch.exp(x).sum()) == 0


def test_the_automatic_chunk_is_a_quarter_of_the_free_memory_in_multiples_of_1024():
    assert rows_per_chunk(1000.0, 16 * 10**9, 10**6) is None  # 10^6 rows need 1 GB: a quarter of 16 GB holds them
    assert rows_per_chunk(1000.0, 10**9, 10**6) == 244 * MIN_CHUNK  # 250,000 rows fit: 244 x 1,024 of them
    assert rows_per_chunk(1000.0, 10**6, 10**6) == MIN_CHUNK  # never less than one chunk of 1,024
    assert rows_per_chunk(1000.0, None, 10**6) is None  # memory unknown: no chunks


def test_auto_chunks_a_step_too_large_for_the_memory(monkeypatch):
    problem = _problem()
    monkeypatch.setattr("pinnkan.training.losses.free_memory", lambda device: 4 * 10**6)
    loss = _loss(problem, "auto", interior=3000)
    model = _model(problem, "kan")
    total, _ = loss.loss_and_gradient(model)
    chosen = loss.engine_report()["chunk_size"]
    assert chosen == MIN_CHUNK  # a quarter of 4 MB holds less than 1,024 rows of this model's graph
    loss_free = _loss(problem, "auto", interior=3000)
    monkeypatch.setattr("pinnkan.training.losses.free_memory", lambda device: 10**12)
    assert float(loss_free.loss_and_gradient(_model(problem, "kan"))[0]) == pytest.approx(float(total), rel=1e-13)
    assert loss_free.engine_report()["chunk_size"] is None


def test_solve_records_the_chunk_size_and_trains_the_same(tmp_path):
    spec = load_problem("poisson2d")
    setup = replace(spec.setup, points=Points(interior=300, boundary=40), stages=(Adam(steps=20),), tolerance=None)
    runs = [solve(spec.problem, replace(setup, chunk_size=size), progress=False) for size in (None, 64)]
    assert runs[1].train.history.records[-1]["total"] == pytest.approx(runs[0].train.history.records[-1]["total"],
                                                                       rel=1e-5)  # float32: rounding differs
    assert runs[0].setup.describe()["chunk_size"] is None and runs[1].setup.describe()["chunk_size"] == 64


@pytest.mark.parametrize("chunk_size", [0, -3, 2.5, "big", True])
def test_a_chunk_size_must_be_a_positive_int_auto_or_none(chunk_size):
    with pytest.raises(ValueError, match="chunk_size must be a positive int, 'auto' or None"):
        _loss(_problem(), chunk_size)
    with pytest.raises(ValueError, match="Setup.chunk_size must be a positive int, 'auto' or None"):
        Setup(chunk_size=chunk_size)


def test_weighting_by_gradients_cannot_be_chunked():
    with pytest.raises(ValueError, match="GradNorm weighting differentiates whole loss terms.*drop chunk_size"):
        _loss(_problem(), 50, GradNorm(every=10))


def test_the_command_line_takes_a_chunk_size(capsys):
    with pytest.raises(SystemExit):
        cli(["solve", "poisson2d", "--chunk-size", "0"])
    assert "--chunk-size takes a number of rows >= 1, auto or none, got '0'" in capsys.readouterr().err


def test_auto_with_weighting_by_gradients_warns_and_evaluates_every_term_at_once(monkeypatch):
    problem = _problem()
    monkeypatch.setattr("pinnkan.training.losses.free_memory", lambda device: 4 * 10**6)
    loss = _loss(problem, "auto", GradNorm(every=10), interior=3000)
    with pytest.warns(UserWarning, match="would evaluate 1024 rows at a time.*GradNorm weighting differentiates"):
        loss.loss_and_gradient(_model(problem, "kan"))
    assert loss.engine_report()["chunk_size"] is None and "GradNorm" in loss.engine_report()["notes"][-1]


class _HostWaits(TorchDispatchMode):
    """Counts the operations that copy a tensor's value to the host (``item``, ``float``, ``bool``, ``tolist``)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func is torch.ops.aten._local_scalar_dense.default
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("kind, chunk_size", [("kan", None), ("kan", 16), ("mlp", None)])
def test_the_loss_and_its_gradient_never_wait_for_the_device(kind, chunk_size):
    # On a GPU a wait stalls the queue of kernels; the trainer copies the step's figures once, after it.
    problem = _problem()
    model = _model(problem, kind)
    loss = _loss(problem, chunk_size, [Causal(epsilon=1.0, slabs=4)], engine=Autograd() if kind == "mlp" else None)
    loss.loss_and_gradient(model)  # the first call probes the terms' derivatives
    with _HostWaits() as waits:
        total, _ = loss.loss_and_gradient(model)
    assert waits.count == 0
    with _HostWaits() as waits:
        float(total)
    assert waits.count == 1  # (the counter sees a wait)


def test_auto_cuts_a_large_term_into_fast_pieces_on_the_cpu_where_they_cost_no_extra_pass(monkeypatch):
    problem = _problem()
    monkeypatch.setattr("pinnkan.training.losses.free_memory", lambda device: 10**12)
    monkeypatch.setattr("pinnkan.training.losses.FAST_CHUNK", 1024)  # stands for 65,536 rows of 3,000
    plain, causal = _loss(problem, "auto", interior=3000), _loss(problem, "auto", [Causal()], interior=3000)
    whole = _loss(problem, None, interior=3000)
    totals = [float(loss.loss_and_gradient(_model(problem, "kan"))[0]) for loss in (plain, causal, whole)]
    assert plain.engine_report()["chunk_size"] == 1024
    assert causal.engine_report()["chunk_size"] is None  # causal weights would cost a pass without graphs
    assert totals[0] == pytest.approx(totals[2], rel=1e-13)
