"""trace: a user's torch function of the coordinates read as a SymPy expression."""

import math

import numpy as np
import sympy
import torch

from pinnkan.pde.trace import trace

x, t = sympy.symbols("x t")


def test_heat1d_constraint_functions_read_exactly():
    assert trace(lambda c: torch.sin(math.pi * c["x"]), ("x", "t")) == sympy.sin(sympy.pi * x)
    assert sympy.expand(trace(lambda c: c["t"] * c["x"] * (1.0 - c["x"]), ("x", "t")) - t * x * (1 - x)) == 0
    assert trace(lambda c: torch.exp(-0.4 * c["t"]), ("x", "t")) == sympy.exp(-sympy.Rational(2, 5) * t)


def test_traced_expression_evaluates_like_the_function():
    def function(c):
        return torch.tanh(c["x"] ** 2 / 3) - torch.sqrt(1 + c["t"]) * torch.cos(c["x"] - 2 * c["t"]) + torch.square(c["t"])

    expr = trace(function, ("x", "t"))
    points = torch.rand(20, 2, dtype=torch.float64)
    values = function({"x": points[:, 0], "t": points[:, 1]}).numpy()
    evaluate = sympy.lambdify((x, t), expr, "numpy")
    np.testing.assert_allclose(evaluate(points[:, 0].numpy(), points[:, 1].numpy()), values, rtol=1e-14)


def test_functions_without_a_closed_form_give_none():
    assert trace(lambda c: torch.clamp(c["x"], 0, 1), ("x", "t")) is None
    assert trace(lambda c: c["x"].max(), ("x", "t")) is None
    assert trace(lambda c: c["y"], ("x", "t")) is None
    assert trace(lambda c: c["x"][0], ("x", "t")) is None
