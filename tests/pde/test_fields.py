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
