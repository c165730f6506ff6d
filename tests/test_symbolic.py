"""Symbolic library fits recover planted curves; formulas evaluate to the same numbers."""

import numpy as np
import pytest
import torch

from pinnkan.symbolic import LIBRARY, evaluate_formula, fit_function, suggest, to_sympy

# (a, b, c, d) and a range on which b * x + c stays inside each function's domain.
PLANTED = {
    "x": ((1.5, 1.0, 0.0, -0.3), (-1, 1)),
    "x^2": ((1.5, 0.8, 0.2, -0.3), (-1, 1)),
    "x^3": ((1.5, 0.8, 0.2, -0.3), (-1, 1)),
    "x^4": ((1.5, 0.8, 0.2, -0.3), (-1, 1)),
    "abs": ((1.5, 0.8, 0.2, -0.3), (-1, 1)),
    "sin": ((2.0, np.pi, 0.3, 0.1), (-1, 1)),
    "cos": ((2.0, 2.5, 0.3, 0.1), (-1, 1)),
    "exp": ((0.7, 1.3, 0.2, -1.0), (-1, 1)),
    "log": ((1.2, 0.9, 1.5, 0.3), (-1, 1)),
    "sqrt": ((1.2, 0.9, 1.5, 0.3), (-1, 1)),
    "tanh": ((1.1, 2.0, 0.3, 0.1), (-1, 1)),
    "gaussian": ((1.1, 1.5, 0.3, 0.1), (-1, 1)),
    "1/x": ((0.5, 1.0, 2.0, 0.1), (-1, 1)),
    "tan": ((0.5, 1.0, 0.1, 0.2), (-1, 1)),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_fit_recovers_the_planted_curve(name):
    (a, b, c, d), (lo, hi) = PLANTED[name]
    x = np.linspace(lo, hi, 200)
    y = a * LIBRARY[name].numpy(b * x + c) + d
    fit = fit_function(x, y, name)
    assert fit.r2 > 1 - 1e-10
    assert np.max(np.abs(fit(x) - y)) < 1e-6 * np.max(np.abs(y))


def test_library_has_the_promised_functions():
    assert set(LIBRARY) == {"x", "x^2", "x^3", "x^4", "1/x", "sqrt", "exp", "log", "sin", "cos",
                            "tan", "tanh", "abs", "gaussian", "zero"}


def test_suggest_ranks_the_simplest_exact_fit_first():
    x = np.linspace(-1, 1, 200)
    assert suggest(x, np.sin(np.pi * x), top=3)[0].name == "sin"
    assert suggest(x, 3 * x**2 - 1, top=3)[0].name == "x^2"
    assert suggest(x, np.full_like(x, 2.5), top=1)[0].name == "zero"


def test_powers_and_exp_come_out_well_conditioned():
    x = np.linspace(-1, 1, 100)
    square = fit_function(x, 4 * x**2, "x^2")
    assert square.b == 1.0 and square.a == pytest.approx(4.0, rel=1e-9)
    grow = fit_function(x, 3 * np.exp(2 * x), "exp")
    assert grow.c == 0.0 and grow.a == pytest.approx(3.0, rel=1e-8) and grow.b == pytest.approx(2.0, rel=1e-8)


def test_torch_eval_expression_and_sympy_agree_with_the_fit():
    x = np.linspace(-1, 1, 50)
    fit = fit_function(x, 0.5 * np.sin(2 * x + 0.1) - 0.2, "sin")
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    assert np.allclose(fit.torch_eval(xt).detach().numpy(), fit(x), rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(fit.torch_eval, (xt,))
    text = fit.expression("u", precision=17)
    assert np.allclose(evaluate_formula(text, {"u": x}), fit(x), rtol=0, atol=1e-9)
    expr = to_sympy(text)
    (u,) = expr.free_symbols
    assert float(expr.subs(u, 0.25)) == pytest.approx(float(fit(np.array([0.25]))[0]), abs=1e-9)


def test_bad_symbolic_input_names_the_fix():
    x = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="unknown symbolic function 'sinh'; choose one of"):
        fit_function(x, x, "sinh")
    with pytest.raises(ValueError, match="unknown symbolic functions"):
        suggest(x, x, library=["sin", "cosh"])
    with pytest.raises(ValueError, match="same length"):
        fit_function(x, x[:5], "sin")
    with pytest.raises(ValueError, match="finite samples"):
        fit_function(x, np.full(10, np.nan), "sin")
    with pytest.raises(ValueError, match="at least 4 points"):
        fit_function(x[:3], x[:3], "sin")
    with pytest.raises(ValueError, match="unknown name"):
        evaluate_formula("sinh(u)", {"u": x})
