"""Named derivatives against analytic derivatives of known functions."""

import pytest
import torch

from pinnkan.pde.fields import Field

F64 = torch.float64


def model(p):
    x, t = p[:, 0], p[:, 1]
    return torch.stack([torch.sin(2 * x) * torch.exp(-t) + x**3 * t**2, x * t], dim=1)


@pytest.fixture
def field():
    p = torch.rand(20, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    return Field(model, p, ("x", "t"), ("u", "v"), max_order=3)


def test_derivatives_match_analytic(field):
    x, t = field.x.detach(), field.t.detach()
    expected = {
        "u": torch.sin(2 * x) * torch.exp(-t) + x**3 * t**2,
        "u_x": 2 * torch.cos(2 * x) * torch.exp(-t) + 3 * x**2 * t**2,
        "u_t": -torch.sin(2 * x) * torch.exp(-t) + 2 * x**3 * t,
        "u_xx": -4 * torch.sin(2 * x) * torch.exp(-t) + 6 * x * t**2,
        "u_xt": -2 * torch.cos(2 * x) * torch.exp(-t) + 6 * x**2 * t,
        "u_tx": -2 * torch.cos(2 * x) * torch.exp(-t) + 6 * x**2 * t,
        "u_tt": torch.sin(2 * x) * torch.exp(-t) + 2 * x**3,
        "u_xxx": -8 * torch.cos(2 * x) * torch.exp(-t) + 6 * t**2,
        "v_x": t,
        "v_xt": torch.ones_like(x),
    }
    for name, value in expected.items():
        assert torch.allclose(field[name].detach(), value, atol=1e-12), name
    assert torch.allclose(field.u_xx.detach(), expected["u_xx"], atol=1e-12)
    assert torch.allclose(field.d("u", "t", "x").detach(), expected["u_xt"], atol=1e-12)


def test_each_derivative_is_computed_once():
    calls = []

    def counting(p):
        calls.append(1)
        return model(p)

    p = torch.rand(5, 2, dtype=F64)
    f = Field(counting, p, ("x", "t"), ("u", "v"))
    grads = []
    original = torch.autograd.grad

    def counting_grad(*args, **kwargs):
        grads.append(1)
        return original(*args, **kwargs)

    torch.autograd.grad = counting_grad
    try:
        f.u_t, f.u_xx, f.u_x, f.u_xx, f.u_tx
    finally:
        torch.autograd.grad = original
    assert len(calls) == 1
    # u -> (u_x, u_t) in one call, u_x -> (u_xx, u_xt) in one more.
    assert len(grads) == 2


def test_unknown_names_and_too_high_order_name_the_fix(field):
    with pytest.raises(AttributeError, match="ask for a coordinate"):
        field.w_x
    with pytest.raises(KeyError, match="is not a coordinate"):
        field["u_xz"]
    with pytest.raises(ValueError, match="raise the spline order to at least 5"):
        field.u_xxxx
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        Field(model, torch.zeros(3, 3), ("x", "t"))
    with pytest.raises(ValueError, match="one column per output"):
        Field(model, torch.zeros(3, 2), ("x", "t"), ("u",)).u


def _field3(points, time=None, coordinates=("x", "y", "z")):
    def model(p):
        x, y, z = p[:, 0], p[:, 1], p[:, 2]
        u = torch.sin(x) * torch.cos(2 * y) * torch.exp(z / 2) + x**2 * y * z**3
        v = x * y * z + torch.sin(y) ** 2
        w = torch.cos(x + z) * y**2
        return torch.stack([u, v, w], dim=1)

    return Field(model, points, coordinates, ("u", "v", "w"), time=time)


def test_operators_match_analytic_derivatives_in_three_dimensions():
    p = torch.rand(50, 3, dtype=F64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    f = _field3(p)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    s, c2, e = torch.sin(x), torch.cos(2 * y), torch.exp(z / 2)
    expected = {
        "u_xyz": torch.cos(x) * (-2 * torch.sin(2 * y)) * e / 2 + 2 * x * 3 * z**2,
        "u_xxz": -s * c2 * e / 2 + 2 * y * 3 * z**2,
        "u_zzz": s * c2 * e / 8 + x**2 * y * 6,
        "u_xyy": torch.cos(x) * (-4 * c2) * e,
        "v_xyz": torch.ones_like(x),
    }
    for name, value in expected.items():
        assert torch.allclose(f[name].detach(), value, rtol=0, atol=1e-10), name
    laplacian_u = -s * c2 * e - 4 * s * c2 * e + s * c2 * e / 4 + 2 * y * z**3 + x**2 * y * 6 * z
    assert torch.allclose(f.laplacian("u").detach(), laplacian_u, atol=1e-10)
    grad_u = torch.stack([torch.cos(x) * c2 * e + 2 * x * y * z**3, -2 * s * torch.sin(2 * y) * e + x**2 * z**3,
                          s * c2 * e / 2 + 3 * x**2 * y * z**2], 1)
    assert torch.allclose(f.grad("u").detach(), grad_u, atol=1e-10)
    div = (torch.cos(x) * c2 * e + 2 * x * y * z**3) + (x * z + 2 * torch.sin(y) * torch.cos(y)) - torch.sin(x + z) * y**2
    assert torch.allclose(f.div("u", "v", "w").detach(), div, atol=1e-10)
    assert torch.equal(f.div(("u", "v", "w")), f.div("u", "v", "w"))


def test_vector_calculus_skips_time_and_reads_coefficients():
    p = torch.rand(20, 3, dtype=F64, generator=torch.Generator().manual_seed(2))
    f = Field(lambda q: (q[:, :1] ** 2 + q[:, 1:2] ** 2) * q[:, 2:], p, ("x", "y", "t"), time="t",
              coefficients={"kappa": torch.tensor(0.5, dtype=F64)})
    t = p[:, 2]
    assert f.space == ("x", "y")
    assert torch.allclose(f.laplacian().detach(), 4 * t, atol=1e-12)  # u_xx + u_yy, not u_tt
    assert f.grad().shape == (20, 2)
    assert float(f.kappa) == 0.5 and f.kappa.dtype == F64
    with pytest.raises(ValueError, match="one output per space coordinate"):
        f.div("u")


def test_names_that_would_be_ambiguous_are_refused():
    p = torch.zeros(2, 2, dtype=F64)
    with pytest.raises(ValueError, match="different names"):
        Field(model, p, ("x", "t"), ("u", "v"), coefficients={"x": 1.0})
    with pytest.raises(ValueError, match="taken by the field"):
        Field(model, p, ("x", "t"), ("u", "v"), coefficients={"laplacian": 1.0})
    with pytest.raises(ValueError, match="without underscores"):
        Field(model, p, ("x", "t"), ("u", "v"), coefficients={"k_0": 1.0})
    with pytest.raises(AttributeError, match="stationary"):
        Field(model, p, ("x", "y"), ("u", "v")).u_t


def test_third_derivative_and_laplacian_in_one_dimension():
    x = torch.linspace(-1, 1, 41, dtype=F64)[:, None]
    f = Field(lambda p: torch.sin(3 * p) + p**4, x, ("x",))
    s = x[:, 0]
    assert torch.allclose(f.u_xxx.detach(), -27 * torch.cos(3 * s) + 24 * s, rtol=0, atol=1e-10)
    assert torch.allclose(f.laplacian().detach(), -9 * torch.sin(3 * s) + 12 * s**2, rtol=0, atol=1e-10)
    assert torch.allclose(f.div("u").detach(), 3 * torch.cos(3 * s) + 4 * s**3, rtol=0, atol=1e-10)
