"""Chebyshev KAN and MLP: numbers against numpy, gradients, derivatives, a short fit."""

import copy
import math

import numpy as np
import pytest
import torch
from numpy.polynomial import chebyshev
from torch.func import functional_call

from pinnkan.models.base import SMOOTH
from pinnkan.models.chebykan import ChebyKAN, ChebyKANLayer, ChebyKANSpec
from pinnkan.models.mlp import MLP, MLPSpec
from pinnkan.models.kan import KANSpec

F64 = torch.float64
BOX = ((0.0, -3.0), (2.0, 5.0))


def _nets(widths, bounds=None):
    """One ChebyKAN and one MLP per activation, all float64."""
    torch.manual_seed(0)
    return [ChebyKAN(widths, degree=4, input_bounds=bounds, dtype=F64)] + [
        MLP(widths, activation=a, input_bounds=bounds, dtype=F64) for a in ("tanh", "silu", "sin")
    ]


@pytest.mark.parametrize("degree", [1, 2, 7])
def test_chebyshev_layer_matches_numpy_chebval(degree):
    torch.manual_seed(0)
    layer = ChebyKANLayer(2, 3, degree=degree, dtype=F64)
    with torch.no_grad():
        layer.coef.normal_()
        layer.bias.normal_()
    x = torch.cat([torch.rand(50, 2, dtype=F64) * 2 - 1, torch.tensor([[-1.0, 1.0], [1.0, -1.0]], dtype=F64)])
    coef, xs = layer.coef.detach().numpy(), x.numpy()
    expected = layer.bias.detach().numpy() + np.stack(
        [sum(chebyshev.chebval(xs[:, i], coef[i, :, j]) for i in range(2)) for j in range(3)], axis=1
    )
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("net", _nets((2, 3, 3, 1), BOX), ids=lambda n: n.describe())
def test_gradcheck_and_gradgradcheck_in_inputs_and_parameters(net):
    names = [name for name, _ in net.named_parameters()]

    def u(x, *params):
        return functional_call(net, dict(zip(names, params)), (x,))

    x = torch.tensor([[0.1, -2.5], [1.9, 4.2], [1.0, 0.3]], dtype=F64, requires_grad=True)
    params = tuple(p.detach().clone().requires_grad_(True) for p in net.parameters())
    assert torch.autograd.gradcheck(u, (x, *params))
    assert torch.autograd.gradgradcheck(u, (x, *params))


@pytest.mark.parametrize("cls", [ChebyKAN, MLP])
def test_bounding_box_maps_onto_minus_one_one(cls):
    net = cls((2, 3, 1), input_bounds=BOX, dtype=F64)
    points = torch.tensor([[0.0, -3.0], [2.0, 5.0], [0.0, 5.0], [1.0, 1.0], [0.5, 3.0]], dtype=F64)
    expected = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [0.0, 0.0], [-0.5, 0.5]], dtype=F64)
    torch.testing.assert_close(net.normalise(points), expected, rtol=0, atol=1e-15)
    assert net.state_dict()["input_hi"].tolist() == [2.0, 5.0]


@pytest.mark.parametrize("net", _nets((2, 5, 5, 1), BOX), ids=lambda n: n.describe())
def test_second_derivatives_match_finite_differences(net):
    x = torch.tensor([[0.3, -1.0], [1.7, 4.0], [1.1, 0.2]], dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    h = 1e-3
    for k in range(2):
        (second,) = torch.autograd.grad(grad[:, k].sum(), x, retain_graph=True)
        step = torch.zeros(2, dtype=F64)
        step[k] = h
        with torch.no_grad():
            # Richardson-extrapolated central differences: error O(h^4).
            def central(s, k=k):
                return (net(x + s) - 2 * net(x) + net(x - s))[:, 0] / s[k] ** 2

            fd = (4 * central(step / 2) - central(step)) / 3
        torch.testing.assert_close(second[:, k], fd, rtol=1e-5, atol=0)
    assert net.smoothness == SMOOTH


@pytest.mark.parametrize(
    "spec",
    [ChebyKANSpec(hidden=(8,), degree=5), MLPSpec(hidden=(16, 16)), MLPSpec(hidden=(16, 16), activation="sin")],
    ids=lambda s: s.kind,
)
def test_each_model_fits_a_sine_with_adam(spec):
    torch.manual_seed(3)
    net = spec.build(1, 1, ((0.0,), (1.0,)), dtype=F64)
    x = torch.linspace(0, 1, 64, dtype=F64)[:, None]
    y = torch.sin(math.pi * x)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(1000):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    test = torch.linspace(0, 1, 1001, dtype=F64)[:, None]
    with torch.no_grad():
        mse = float(((net(test) - torch.sin(math.pi * test)) ** 2).mean())
    assert mse < 1e-4


@pytest.mark.parametrize("net", _nets((2, 4, 1), BOX), ids=lambda n: n.describe())
def test_float32_copy_agrees_with_float64(net):
    x = torch.tensor([[0.2, -2.0], [1.5, 4.5]], dtype=F64)
    single = copy.deepcopy(net).to(torch.float32)
    assert {t.dtype for t in single.state_dict().values()} == {torch.float32}
    out = single(x.float())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), net(x), rtol=1e-5, atol=1e-6)


def test_specs_build_what_they_describe():
    bounds = ((0.0, 0.0), (1.0, 1.0))
    assert ChebyKANSpec().build(2, 1, bounds).describe() == "ChebyKAN[2,16,1] degree=6"
    assert MLPSpec().build(2, 1, bounds).describe() == "MLP[2,32,32,32,1] tanh"
    assert (ChebyKANSpec.kind, MLPSpec.kind) == ("chebykan", "mlp")


def test_bad_approximator_input_names_the_fix():
    with pytest.raises(ValueError, match="degree must be an int >= 1"):
        ChebyKANSpec(degree=0)
    with pytest.raises(ValueError, match="degree must be an int >= 1"):
        ChebyKAN((2, 1), degree=0)
    with pytest.raises(ValueError, match=r"activation must be one of \['silu', 'sin', 'tanh'\]"):
        MLPSpec(activation="relu6")
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP((2, 1), activation="relu")
    with pytest.raises(ValueError, match="every MLPSpec.hidden width must be a positive int"):
        MLPSpec(hidden=(0,))
    with pytest.raises(ValueError, match="every ChebyKANSpec.hidden width must be a positive int"):
        ChebyKANSpec(hidden=(8, -1))
    with pytest.raises(TypeError, match=r"KANSpec.hidden takes a tuple of hidden widths, e.g. hidden=\(3,\)"):
        KANSpec(hidden=3)
    with pytest.raises(ValueError, match=r"shape \(N, 2\).*one column per coordinate"):
        MLP((2, 1))(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"shape \(N, 2\).*one column per coordinate"):
        ChebyKAN((2, 1))(torch.zeros(3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        ChebyKAN((2, 1))([[0.0, 0.0]])
    with pytest.raises(ValueError, match="lo < hi"):
        MLPSpec().build(1, 1, ((1.0,), (0.0,)))
