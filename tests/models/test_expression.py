"""Expression: SymPy formulas as networks, their derivatives and snapping."""

import math

import numpy as np
import pytest
import sympy
import torch

from pinnkan.models.expression import Expression, nice_numbers

x, t = sympy.symbols("x t")


def _heat(c: float = 3.9, a: float = 1.5) -> Expression:
    return Expression([sympy.Float(a) * sympy.exp(-sympy.Float(c) * t) * sympy.sin(sympy.pi * x)], ("x", "t"),
                      dtype=torch.float64)


def test_values_and_derivatives_match_the_closed_form():
    net = _heat()
    points = torch.rand(50, 2, dtype=torch.float64, requires_grad=True)
    u = net(points)[:, 0]
    px, pt = points[:, 0].detach().numpy(), points[:, 1].detach().numpy()
    exact = 1.5 * np.exp(-3.9 * pt) * np.sin(np.pi * px)
    np.testing.assert_allclose(u.detach().numpy(), exact, rtol=1e-13)
    grad = torch.autograd.grad(u.sum(), points, create_graph=True)[0]
    u_xx = torch.autograd.grad(grad[:, 0].sum(), points)[0][:, 0]
    np.testing.assert_allclose(grad[:, 1].detach().numpy(), -3.9 * exact, rtol=1e-12)
    np.testing.assert_allclose(u_xx.numpy(), -np.pi**2 * exact, rtol=1e-12, atol=1e-12)


def test_numbers_are_parameters_and_gradients_are_right():
    net = _heat()
    assert sorted(net.constants.tolist()) == [-3.9, 1.5]
    points = torch.rand(7, 2, dtype=torch.float64)
    start = net.constants.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda c: torch.func.functional_call(net, {"constants": c}, (points,)), (start,))


def test_snap_fixes_a_number_and_expressions_read_back():
    net = _heat(c=4.0000001)
    index = [round(v, 3) for v in net.constants.tolist()].index(-4.0)
    snapped = net.snap(index, sympy.Integer(-4))
    assert snapped.constants.numel() == 1
    (expr,) = snapped.expressions()
    assert expr.has(sympy.exp(-4 * t))
    assert sympy.simplify(sympy.sympify(str(expr)) - expr) == 0
    with pytest.raises(TypeError, match="exact number"):
        net.snap(0, sympy.Float(1.0))
    with pytest.raises(ValueError, match="does not exist"):
        net.snap(5, sympy.Integer(1))


def test_pi_beside_a_fitted_number_is_merged_into_it():
    net = Expression([sympy.Float(0.5) * sympy.pi * x], ("x", "t"), dtype=torch.float64)
    (expr,) = net.expressions()
    assert not expr.has(sympy.pi)
    assert float(expr.subs(x, 1.0)) == pytest.approx(math.pi / 2, rel=1e-15)


def test_bad_expressions_are_refused():
    with pytest.raises(ValueError, match="not coordinates"):
        Expression([x * sympy.Symbol("z")], ("x", "t"))
    with pytest.raises(ValueError, match="no torch form"):
        Expression([sympy.erf(x)], ("x", "t"))
    with pytest.raises(ValueError, match="shape"):
        _heat()(torch.rand(3, 3, dtype=torch.float64))


def test_nice_numbers_nearest_first():
    assert nice_numbers(3.14159265)[0] == sympy.pi
    assert nice_numbers(0.50001)[0] == sympy.Rational(1, 2)
    assert nice_numbers(1e-9)[0] == 0
    assert nice_numbers(0.3183099)[0] == 1 / sympy.pi
    assert nice_numbers(3.9478) and all(abs(float(v) - 3.9478) <= 0.05 * 3.9478 for v in nice_numbers(3.9478))
    assert nice_numbers(float("nan")) == []
