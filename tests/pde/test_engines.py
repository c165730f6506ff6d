"""Derivative engines: jets agree with autograd on whole losses, fall back where they cannot run, and say so."""

import math
import warnings

import numpy as np
import pytest
import torch

from pinnkan import (
    KAN,
    MLP,
    Auto,
    Autograd,
    Box,
    ChebyKAN,
    Dirichlet,
    HardConstraint,
    Initial,
    Interval,
    Jets,
    Neumann,
    OutputTransform,
    Periodic,
    PINNLoss,
    Points,
    Problem,
    SpaceTime,
)
from pinnkan.pde.transforms import ConstrainedModel

F64 = torch.float64


def _heat(residual=None, conditions=None):
    return Problem(
        name="heat",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=residual or (lambda f: f.u_t - 0.4 * f.u_xx),
        conditions=conditions
        if conditions is not None
        else [Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("x_min", 0.0), Neumann("x_max", 0.0)],
    )


def _loss(problem, engine, **options):
    return PINNLoss(problem, problem.conditions, Points(interior=64, boundary=16), rng=np.random.default_rng(0),
                    dtype=F64, engine=engine, **options)


def _total_and_grads(loss, model):
    total, terms = loss(model)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(total, params, allow_unused=True)
    return float(total.detach()), {k: float(v.detach()) for k, v in terms.items()}, [g for g in grads if g is not None]


def _assert_same(a, b, rtol=1e-11):
    assert math.isclose(a[0], b[0], rel_tol=rtol)
    for key in a[1]:
        assert math.isclose(a[1][key], b[1][key], rel_tol=rtol, abs_tol=1e-300), key
    for ga, gb in zip(a[2], b[2]):
        assert torch.allclose(ga, gb, rtol=1e-9, atol=1e-12 * float(gb.abs().max()))


class _Smooth(torch.nn.Module):
    """A user's own network: no forward_jet."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[1.3], [0.7]], dtype=F64))

    def forward(self, x):
        return torch.sin(x @ self.w) * x[:, :1]


@pytest.mark.parametrize("make", [
    lambda: KAN((2, 6, 1), grid_size=5, dtype=F64),
    lambda: ChebyKAN((2, 6, 1), dtype=F64),
    lambda: MLP((2, 8, 8, 1), dtype=F64),
])
def test_jets_and_autograd_give_the_same_loss_and_gradients(make):
    torch.manual_seed(0)
    model = make()
    problem = _heat()
    jets = _total_and_grads(_loss(problem, Jets()), model)
    _assert_same(jets, _total_and_grads(_loss(problem, Autograd()), model))


def test_hard_constraints_and_periodic_systems_on_jets_match_autograd():
    torch.manual_seed(1)
    hard = HardConstraint(particular=lambda c: torch.sin(math.pi * c["x"]), distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
                          parts=("initial", "boundary"))
    problem = _heat(conditions=[Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("boundary", 0.0)])
    model = ConstrainedModel(KAN((2, 5, 1), grid_size=5, dtype=F64), hard, problem.coordinates)
    _assert_same(_total_and_grads(_loss(problem, Jets()), model), _total_and_grads(_loss(problem, Autograd()), model))
    stokes = Problem(
        name="stokes", domain=Box({"x": (0.0, 1.0), "y": (0.0, 2.0)}), outputs=("u", "v", "p"),
        residual=lambda f: {"mx": f.p_x - f.laplacian("u"), "my": f.p_y - f.laplacian("v"), "div": f.div("u", "v")},
        conditions=[Periodic("x"), Dirichlet("y_min", 0.0, output="u")],
    )
    net = KAN((2, 6, 3), grid_size=5, dtype=F64)
    _assert_same(_total_and_grads(_loss(stokes, Jets()), net), _total_and_grads(_loss(stokes, Autograd()), net))


def test_auto_runs_a_users_module_on_autograd_with_one_warning():
    problem = _heat()
    model = _Smooth()
    loss = _loss(problem, Auto())
    with pytest.warns(UserWarning, match="autograd: _Smooth is not one of pinnkan's networks"):
        auto = _total_and_grads(loss, model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(model)  # said once
    _assert_same(auto, _total_and_grads(_loss(problem, Autograd()), model))
    assert loss.engine_report()["terms"] == {"pde": "autograd", "initial": "autograd", "dirichlet_x_min": "autograd",
                                              "neumann_x_max": "autograd"}


def test_explicit_jets_on_a_users_module_is_an_error_that_names_the_fix():
    with pytest.raises(ValueError, match=r"Jets\(\) cannot run here: _Smooth is not one of pinnkan's networks.*engine='auto'"):
        _loss(_heat(), Jets())(_Smooth())


def test_a_residual_that_differentiates_by_itself_runs_on_autograd_under_auto():
    def residual(f):  # d/dx of u_x by hand: jets hand out plain tensors, not functions of the points
        (u_xx,) = torch.autograd.grad(f.u_x.sum(), f.points, create_graph=True)
        return f.u_t - 0.4 * u_xx[:, 0]

    problem = _heat(residual=residual)
    model = KAN((2, 5, 1), grid_size=5, dtype=F64)
    loss = _loss(problem, Auto())
    with pytest.warns(UserWarning, match="loss term 'pde' runs on autograd"):
        auto = _total_and_grads(loss, model)
    assert loss.engine_report()["terms"]["pde"] == "autograd"
    assert loss.engine_report()["terms"]["initial"] == "jets"
    _assert_same(auto, _total_and_grads(_loss(problem, Autograd()), model))
    with pytest.raises(ValueError, match=r"loss term 'pde' cannot run on Jets\(max_order=4\).*engine='auto'"):
        _loss(problem, Jets())(model)


def test_orders_above_the_jets_limit_fall_back_under_auto_and_fail_under_jets():
    problem = Problem(name="beam", domain=Interval(0.0, 1.0), residual=lambda f: f.u_xxx + f.u)
    model = MLP((1, 8, 1), dtype=F64)
    with pytest.warns(UserWarning, match="order 3 was asked"):
        auto = _total_and_grads(_loss(problem, Auto(jets=Jets(max_order=2))), model)
    _assert_same(auto, _total_and_grads(_loss(problem, Autograd()), model))
    _assert_same(_total_and_grads(_loss(problem, Jets(max_order=3)), model), auto)
    with pytest.raises(ValueError, match="raise max_order"):
        _loss(problem, Jets(max_order=2))(model)


def test_a_general_output_transform_runs_on_autograd_under_auto():
    transform = OutputTransform(lambda c, raw: torch.tanh(raw) * c["t"][:, None], covers=("initial",))
    problem = _heat()
    model = ConstrainedModel(KAN((2, 4, 1), dtype=F64), transform, problem.coordinates)
    with pytest.warns(UserWarning, match="general OutputTransform has no jet rule"):
        auto = _total_and_grads(_loss(problem, Auto()), model)
    _assert_same(auto, _total_and_grads(_loss(problem, Autograd()), model))


def test_a_derivative_outside_the_announced_needs_is_still_exact():
    net = KAN((2, 5, 1), grid_size=5, dtype=F64)
    x = torch.rand(10, 2, dtype=F64)
    jets = Jets().start(net, x, outputs=1, needs={(0, (1,))})
    autograd = Autograd().start(net, x, outputs=1)
    for axes in [(1,), (0, 0), (0, 1)]:  # (0, 0) and (0, 1) extend the plan
        assert torch.allclose(jets.get(0, axes), autograd.get(0, axes), rtol=1e-12, atol=1e-14)
    assert jets.requested == {(0, (1,)), (0, (0, 0)), (0, (0, 1))}


def test_engines_check_their_options():
    with pytest.raises(ValueError, match="max_order must be an int in 1..8"):
        Jets(max_order=0)
    with pytest.raises(TypeError, match=r"Engine such as Auto\(\)"):
        _loss(_heat(), "jets")
    assert Jets(max_order=3) == Jets(max_order=3) and Jets() != Autograd()
