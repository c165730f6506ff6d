"""Symbolic library fits recover planted curves; formulas evaluate to the same numbers."""

import math
import sys

import numpy as np
import pytest
import torch

from pinnkan.kan_tools.symbolic import (
    LIBRARY,
    SymbolicFit,
    evaluate_formula,
    fit_function,
    suggest,
    to_sympy,
)

# (a, b, c, d) of a * f(b * x + c) + d and an x range, chosen to exercise shifted and
# scaled data, a domain edge (sqrt from 0), a nearby pole (tan, 1/x) and a negative
# argument (1/x).
PLANTED = {
    "x": ((1.5, 1.0, 0.0, -0.3), (-1, 1)),
    "x^2": ((1.5, 0.8, 0.2, -0.3), (-1, 2)),
    "x^3": ((-0.7, 1.2, -0.4, 0.5), (-1, 1)),
    "x^4": ((0.4, 0.9, 0.3, -1.0), (-2, 1)),
    "abs": ((1.5, 2.0, -0.5, 0.2), (-1, 1)),
    "sin": ((2.0, np.pi, 0.3, 0.1), (-1, 1)),
    "cos": ((0.5, 7.0, 1.0, 0.0), (0, 2)),
    "exp": ((0.7, -1.3, 0.2, -1.0), (-1, 2)),
    "log": ((1.2, 0.9, 1.5, 0.3), (-1, 1)),
    "sqrt": ((1.2, 1.0, 0.0, 0.3), (0, 4)),
    "tanh": ((1.1, 5.0, -1.0, 0.1), (-1, 1)),
    "gaussian": ((1.1, 3.0, 1.5, 0.1), (-2, 2)),
    "1/x": ((0.5, 1.0, -1.2, 0.1), (-1, 1)),
    "tan": ((0.5, 1.4, 0.1, 0.2), (-1, 1)),
}


def _planted(name: str, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    (a, b, c, d), (lo, hi) = PLANTED[name]
    x = np.linspace(lo, hi, n)
    return x, a * LIBRARY[name].numpy(b * x + c) + d


def test_library_has_the_promised_functions_and_complexities():
    assert set(LIBRARY) == {"x", "x^2", "x^3", "x^4", "1/x", "sqrt", "exp", "log", "sin", "cos",
                            "tan", "tanh", "abs", "gaussian", "zero"}
    complexity = {name: fn.complexity for name, fn in LIBRARY.items()}
    assert complexity["zero"] < complexity["x"] < complexity["x^2"] < complexity["x^3"] < complexity["sin"]
    assert complexity["tan"] > complexity["sin"] and complexity["1/x"] > complexity["exp"]
    with pytest.raises(TypeError):
        LIBRARY["sinh"] = LIBRARY["sin"]  # read-only


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_fit_recovers_the_planted_curve(name):
    x, y = _planted(name)
    fit = fit_function(x, y, name)
    assert fit.name == name and fit.complexity == LIBRARY[name].complexity
    assert fit.r2 > 1 - 1e-12
    assert np.max(np.abs(fit(x) - y)) < 1e-6 * np.ptp(y)


def test_canonical_parameters_are_the_well_conditioned_ones():
    x = np.linspace(-1, 1, 100)
    square = fit_function(x, 4 * (0.5 * x - 0.1) ** 2, "x^2")  # = 1 * (x - 0.2)^2
    assert square.b == 1.0 and square.a == pytest.approx(1.0, rel=1e-9) and square.c == pytest.approx(-0.2, abs=1e-9)
    grow = fit_function(x, 3 * np.exp(2 * x + 0.5), "exp")
    assert grow.c == 0.0 and grow.a == pytest.approx(3 * math.exp(0.5), rel=1e-9)
    assert grow.b == pytest.approx(2.0, rel=1e-9)
    # -sin(-3x + 0.2 + 2 pi) = sin(3x - 0.2): b > 0 and |c| <= pi/2.
    wave = fit_function(x, -np.sin(-3 * x + 0.2 + 2 * np.pi), "sin")
    assert (wave.a, wave.b, wave.c) == pytest.approx((1.0, 3.0, -0.2), abs=1e-9)


@pytest.mark.parametrize("name", ["sqrt", "log", "1/x", "tan"])
@pytest.mark.parametrize("target", ["reciprocal", "tan2x"])
def test_fitted_argument_stays_in_the_domain(name, target):
    # Both targets have poles between the samples, so the best unconstrained fits
    # of 1/x and tan would cross them.
    x = np.linspace(-1, 1, 200)
    y = 1 / x if target == "reciprocal" else np.tan(2 * x)
    fit = fit_function(x, y, name)
    fine = np.linspace(-1, 1, 100_001)
    argument = fit.b * fine + fit.c
    span = np.ptp(argument)
    if name == "sqrt":
        assert argument.min() >= 0
    elif name == "log":
        assert argument.min() >= 1e-3 * span * (1 - 1e-9)
    elif name == "1/x":
        assert (argument * np.sign(argument[0])).min() >= 1e-3 * span * (1 - 1e-9)
    else:
        assert np.abs(argument).max() <= np.pi / 2 - 1e-2 + 1e-9
    assert np.all(np.isfinite(fit(fine)))
    assert np.isfinite(fit.r2)


def test_suggest_ranks_the_simplest_exact_fit_first():
    x = np.linspace(-1, 1, 200)
    waves = suggest(x, np.sin(np.pi * x), top=3)
    assert waves[0].name in ("sin", "cos") and waves[0].r2 > 1 - 1e-12
    assert waves[0](x) == pytest.approx(np.sin(np.pi * x), abs=1e-9)
    parabola = suggest(x, 3 * x**2 - 1, top=3)
    assert parabola[0].name == "x^2" and parabola[0].r2 > 1 - 1e-12
    line = suggest(x, 2 * x + 1, top=1)
    assert line[0].name == "x"


def test_suggest_orders_by_the_documented_rule():
    x = np.linspace(-1, 1, 120)
    y = np.sin(3 * x) + x**2
    names = ["x", "x^2", "abs", "sin", "gaussian", "tanh"]
    tolerance = 0.01
    ranked = suggest(x, y, library=names, top=len(names), r2_tolerance=tolerance)
    r2 = {name: fit_function(x, y, name).r2 for name in names}
    assert {f.name: f.r2 for f in ranked} == pytest.approx(r2, abs=1e-12)
    cut = max(r2.values()) - tolerance
    band = [f for f in ranked if f.r2 >= cut]
    rest = ranked[len(band):]
    assert [f.name for f in band] == sorted((n for n in names if r2[n] >= cut), key=lambda n: LIBRARY[n].complexity)
    assert [f.r2 for f in rest] == sorted((r2[n] for n in names if r2[n] < cut), reverse=True)
    assert len(band) == 2 and len(rest) == 4  # sin and gaussian are within 0.01 of each other


def test_constant_data_is_fitted_by_zero():
    x = np.linspace(0, 1, 20)
    flat = fit_function(x, np.full_like(x, 2.5), "zero")
    assert (flat.a, flat.d, flat.r2) == (0.0, 2.5, 1.0)
    assert suggest(x, np.full_like(x, 2.5), top=1)[0].name == "zero"
    mean = fit_function(x, x, "zero")
    assert mean.d == pytest.approx(0.5, abs=1e-15) and mean.r2 == pytest.approx(0.0, abs=1e-15)
    assert mean.expression("u") == "(0.5)"
    assert evaluate_formula(mean.expression("u"), {"u": x}) == pytest.approx(0.5)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_torch_eval_matches_numpy_and_is_differentiable(name):
    x, y = _planted(name, n=40)
    fit = fit_function(x, y, name)
    inner = torch.tensor(0.5 * (x[1:] + x[:-1]), dtype=torch.float64, requires_grad=True)  # off kinks and edges
    values = fit.torch_eval(inner)
    assert values.dtype == torch.float64
    assert np.allclose(values.detach().numpy(), fit(inner.detach().numpy()), rtol=1e-14, atol=1e-12)
    assert torch.autograd.gradcheck(fit.torch_eval, (inner,))


def test_zero_in_torch_keeps_the_dtype():
    fit = SymbolicFit("zero", 0.0, 1.0, 0.0, -0.25, 1.0, 0)
    out = fit.torch_eval(torch.ones(3, dtype=torch.float32))
    assert out.dtype == torch.float32 and out.tolist() == [-0.25] * 3


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_expression_and_sympy_agree_with_the_fit(name):
    if name == "zero":
        x = np.linspace(-1, 1, 50)
        fit = fit_function(x, np.full_like(x, -0.3), "zero")
    else:
        x, y = _planted(name, n=50)
        fit = fit_function(x, y, name)
    text = fit.expression("u", precision=17)
    assert np.allclose(evaluate_formula(text, {"u": x}), fit(x), rtol=0, atol=1e-9)
    import sympy

    expr = to_sympy(text)
    u = sympy.Symbol("u")
    assert expr.free_symbols <= {u}
    assert np.allclose(sympy.lambdify(u, expr, "numpy")(x), fit(x), rtol=0, atol=1e-9)


def test_expression_rounds_to_the_requested_digits():
    fit = SymbolicFit("sin", 1.5, np.pi, 0.2, -0.3, 1.0, 4)
    assert fit.expression("x1") == "(1.5)*sin((3.14159)*(x1) + (0.2)) + (-0.3)"
    assert fit.expression("x1", precision=3) == "(1.5)*sin((3.14)*(x1) + (0.2)) + (-0.3)"


def test_evaluate_formula_sees_only_math_and_the_variables():
    x = np.array([0.0, 0.5])
    assert evaluate_formula("2*sin(pi*x) + sqrt(abs(x - 1))", {"x": x}) == pytest.approx([1.0, 2 + np.sqrt(0.5)])
    with pytest.raises(ValueError, match="unknown name .*give it in variables"):
        evaluate_formula("sinh(u)", {"u": x})
    with pytest.raises(ValueError, match="unknown name"):
        evaluate_formula("__import__('os')", {})
    with pytest.raises(ValueError, match=r"variable names \['exp'\] clash with function names; rename them"):
        evaluate_formula("exp + 1", {"exp": x})


def test_to_sympy_explains_how_to_install_sympy(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy now raises ImportError
    with pytest.raises(ImportError, match="pip install sympy"):
        to_sympy("x + 1")


def test_bad_symbolic_input_names_the_fix():
    x = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match=r"unknown symbolic function 'sinh'; choose one of \['1/x', 'abs'"):
        fit_function(x, x, "sinh")
    with pytest.raises(ValueError, match=r"unknown symbolic functions \['cosh'\]; choose from"):
        suggest(x, x, library=["sin", "cosh"])
    with pytest.raises(ValueError, match="library is empty"):
        suggest(x, x, library=[])
    with pytest.raises(ValueError, match="same length"):
        fit_function(x, x[:5], "sin")
    with pytest.raises(ValueError, match="1-D arrays"):
        fit_function(x[:, None], x[:, None], "sin")
    with pytest.raises(ValueError, match="finite samples; drop NaN/inf"):
        fit_function(x, np.where(x > 0.5, np.inf, x), "sin")
    with pytest.raises(ValueError, match="at least 4 points, got 3"):
        fit_function(x[:3], x[:3], "sin")
    with pytest.raises(ValueError, match="single value.*sample x over a range"):
        fit_function(np.ones(10), x, "sin")
    with pytest.raises(ValueError, match="starts must be a positive int"):
        fit_function(x, x, "sin", starts=0)
    with pytest.raises(ValueError, match="top must be a positive int"):
        suggest(x, x, top=0)
    with pytest.raises(ValueError, match="r2_tolerance must be >= 0"):
        suggest(x, x, r2_tolerance=-1.0)
