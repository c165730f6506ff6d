"""Chebyshev KAN and MLP: numbers against numpy, gradients, derivatives, a short fit."""

import math

import numpy as np
import pytest
import torch
from numpy.polynomial import chebyshev

from pinnkan.approximators import MLP, SMOOTH, ChebyKAN, ChebyKANLayer, ChebyKANSpec, MLPSpec
from pinnkan.fit import fit

F64 = torch.float64


def test_chebyshev_layer_matches_numpy_chebval():
    torch.manual_seed(0)
    layer = ChebyKANLayer(2, 3, degree=7, dtype=F64)
    x = torch.rand(50, 2, dtype=F64) * 2 - 1
    expected = np.zeros((50, 3)) + layer.bias.detach().numpy()
    coef = layer.coef.detach().numpy()
    for i in range(2):
        for j in range(3):
            expected[:, j] += chebyshev.chebval(x[:, i].numpy(), coef[i, :, j])
    assert np.allclose(layer(x).detach().numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("build", [
    lambda: ChebyKAN((2, 3, 1), degree=4, dtype=F64),
    lambda: MLP((2, 4, 4, 1), dtype=F64),
])
def test_gradcheck_and_gradgradcheck_in_the_inputs(build):
    torch.manual_seed(1)
    net = build()
    x = (torch.rand(4, 2, dtype=F64) * 1.8 - 0.9).requires_grad_(True)
    assert torch.autograd.gradcheck(net, (x,))
    assert torch.autograd.gradgradcheck(net, (x,))


@pytest.mark.parametrize("cls", [ChebyKAN, MLP])
def test_bounding_box_corners_map_to_plus_minus_one(cls):
    net = cls((2, 3, 1), input_bounds=((0.0, -3.0), (2.0, 5.0)), dtype=F64)
    corners = torch.tensor([[0.0, -3.0], [2.0, 5.0]], dtype=F64)
    assert torch.allclose(net.box(corners), torch.tensor([[-1.0, -1.0], [1.0, 1.0]], dtype=F64))


@pytest.mark.parametrize("cls", [ChebyKAN, MLP])
def test_second_derivative_matches_a_finite_difference(cls):
    torch.manual_seed(2)
    net = cls((1, 6, 1), input_bounds=((0.0,), (1.0,)), dtype=F64)
    x = torch.tensor([[0.37]], dtype=F64, requires_grad=True)
    (d1,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    h = 1e-4
    with torch.no_grad():
        fd = (net(x + h) - 2 * net(x) + net(x - h)) / h**2
    assert math.isclose(float(d2), float(fd), rel_tol=1e-5, abs_tol=1e-6)
    assert net.smoothness == SMOOTH


@pytest.mark.parametrize("spec", [ChebyKANSpec(hidden=(8,), degree=5), MLPSpec(hidden=(16, 16))])
def test_each_model_fits_a_sine(spec):
    torch.manual_seed(3)
    net = spec.build(1, 1, ((0.0,), (1.0,)), dtype=F64)
    x = torch.linspace(0, 1, 100, dtype=F64)[:, None]
    result = fit(net, x, torch.sin(math.pi * x), steps=600, lr=1e-2, plateau_patience=50)
    assert result.best_val < 1e-4


def test_bad_approximator_input_names_the_fix():
    with pytest.raises(ValueError, match="degree must be an int >= 1"):
        ChebyKANSpec(degree=0)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLPSpec(activation="relu6")
    with pytest.raises(ValueError, match="positive int"):
        MLPSpec(hidden=(0,))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        MLP((2, 1))(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        ChebyKAN((2, 1))([[0.0, 0.0]])
