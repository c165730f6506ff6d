"""torch.compile on the loss: the same numbers as eager code, and eager code where compilation fails."""

import math

import numpy as np
import pytest
import torch

from pinnkan import (
    KAN,
    MLP,
    Auto,
    Autograd,
    Causal,
    Dirichlet,
    HardConstraint,
    Initial,
    Interval,
    Jets,
    PINNLoss,
    Points,
    Problem,
    SpaceTime,
)
from pinnkan.pde.transforms import ConstrainedModel
from pinnkan.training import compiled as compiled_module
from pinnkan.training.compiled import Compiled

F32 = torch.float32


def _problem(residual=None):
    return Problem(
        name="heat",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=residual or (lambda f: f.u_t - 0.4 * f.u_xx),
        conditions=[Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("boundary", 0.0)],
    )


def _evaluate(loss, model):
    total, terms = loss(model)
    grads = torch.autograd.grad(total, [p for p in model.parameters() if p.requires_grad], allow_unused=True)
    return float(total.detach()), {k: float(v.detach()) for k, v in terms.items()}, [g for g in grads if g is not None]


def _loss(problem, conditions, engine, compile, weighting=None):
    return PINNLoss(problem, conditions, Points(interior=96, boundary=24), rng=np.random.default_rng(0), dtype=F32,
                    engine=engine, compile=compile, weighting=weighting)


@pytest.mark.filterwarnings("ignore:derivative engine")
def test_compiled_losses_match_eager_ones_with_hard_constraints_and_autograd_terms():
    torch.manual_seed(0)
    problem = _problem()
    hard = HardConstraint(particular=lambda c: torch.sin(math.pi * c["x"]), distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
                          parts=("initial", "boundary"))
    model = ConstrainedModel(KAN((2, 6, 1), grid_size=5, dtype=F32), hard, problem.coordinates)
    cases = [(problem, [], model), (problem, problem.conditions, model.net)]

    def by_hand(f):  # runs on autograd under Auto: stays eager in a compiled loss
        (u_xx,) = torch.autograd.grad(f.u_x.sum(), f.points, create_graph=True)
        return f.u_t - 0.4 * u_xx[:, 0]

    cases.append((_problem(by_hand), _problem(by_hand).conditions, model.net))
    for problem, conditions, net in cases:
        eager = _evaluate(_loss(problem, conditions, Auto(), False), net)
        loss = _loss(problem, conditions, Auto(), True)
        compiled = _evaluate(loss, net)
        assert loss.engine_report()["compile"] and "compile_failure" not in loss.engine_report()
        assert math.isclose(compiled[0], eager[0], rel_tol=1e-5)
        for a, b in zip(compiled[2], eager[2]):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6 * float(b.abs().max()))


def test_a_compiled_mlp_loss_with_causal_weights_matches_the_eager_one():
    # the combination heat2d_varcoef's setup ships (there with a KAN)
    torch.manual_seed(0)
    problem = _problem(lambda f: f.u_t + f.u * f.u_x - 0.01 * f.u_xx)
    net = MLP((2, 8, 8, 1), dtype=F32)
    eager = _evaluate(_loss(problem, problem.conditions, Jets(), False, Causal(slabs=4)), net)
    loss = _loss(problem, problem.conditions, Jets(), True, Causal(slabs=4))
    for _ in range(2):  # the second call runs the compiled graph again
        compiled = _evaluate(loss, net)
        assert math.isclose(compiled[0], eager[0], rel_tol=1e-5), (compiled[0], eager[0])
        assert all(math.isclose(compiled[1][k], v, rel_tol=1e-5, abs_tol=1e-7) for k, v in eager[1].items())
        for a, b in zip(compiled[2], eager[2]):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6 * float(b.abs().max()))
    assert loss.engine_report()["compile"] and "compile_failure" not in loss.engine_report()


def test_compiling_a_loss_that_runs_on_autograd_alone_says_it_has_no_effect():
    problem = _problem()
    loss = _loss(problem, problem.conditions, Autograd(), True)
    with pytest.warns(UserWarning, match="compile=True has no effect: every loss term runs on autograd"):
        loss(MLP((2, 8, 1), dtype=F32))
    assert loss.engine_report()["compile"] is False


def test_a_failing_compiler_warns_once_and_runs_eagerly(monkeypatch):
    def broken(function):
        def fail(*args, **kwargs):
            raise RuntimeError("no C++ compiler found")
        return fail

    monkeypatch.setattr(compiled_module.torch, "compile", broken)
    calls = Compiled(lambda x: 2 * x)
    with pytest.warns(UserWarning, match=r"torch.compile is unavailable here \(RuntimeError: no C\+\+ compiler found\); running eagerly"):
        assert calls(torch.tensor(3.0)) == 6.0
    assert calls.failure == "RuntimeError: no C++ compiler found"
    assert calls(torch.tensor(4.0)) == 8.0  # eager from now on, without another warning
    problem = _problem()
    with pytest.warns(UserWarning, match="running eagerly"):
        loss = _loss(problem, problem.conditions, Jets(), True)
        total, _ = loss(KAN((2, 4, 1), dtype=F32))
    assert math.isfinite(float(total)) and loss.engine_report()["compile_failure"].startswith("RuntimeError")


def test_every_loss_of_a_process_compiles_its_own_variants(monkeypatch):
    # TorchDynamo caches at most recompile_limit variants per code object; losses sharing
    # one code object would run uncompiled (a dynamo log line, no error) once it is full.
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 1)
    counters = torch._dynamo.utils.counters
    problem = _problem()
    net = KAN((2, 4, 1), grid_size=5, dtype=F32)
    for _ in range(2):
        graphs = counters["stats"]["unique_graphs"]
        eager = _evaluate(_loss(problem, problem.conditions, Jets(), False), net)
        compiled = _evaluate(_loss(problem, problem.conditions, Jets(), True), net)
        assert counters["stats"]["unique_graphs"] > graphs
        assert math.isclose(compiled[0], eager[0], rel_tol=1e-5)
