"""KAN layers and networks: gradients, domain mapping, dtype, input checks."""

import math

import pytest
import torch

from pinnkan.models.kan import KAN, KANLayer, KANSpec
from pinnkan.models.splines import bspline_basis

F64 = torch.float64


def test_layer_gradcheck_and_gradgradcheck_in_inputs_and_parameters():
    torch.manual_seed(0)
    layer = KANLayer(3, 2, grid_size=4, spline_order=3, dtype=F64)
    x = (torch.rand(5, 3, dtype=F64) * 1.8 - 0.9).requires_grad_(True)
    params = (layer.base_weight, layer.spline_coef, layer.bias)

    def f(x, *p):
        return torch.func.functional_call(layer, dict(zip(("base_weight", "spline_coef", "bias"), p)), (x,))

    assert torch.autograd.gradcheck(f, (x, *params))
    assert torch.autograd.gradgradcheck(f, (x, *params))


def test_layer_is_silu_plus_spline_sum():
    torch.manual_seed(1)
    layer = KANLayer(2, 3, grid_size=5, spline_order=3, dtype=F64)
    x = torch.rand(7, 2, dtype=F64) * 2 - 1
    basis = bspline_basis(x, layer.knots, 3)  # (N, in, nb)
    expected = (
        torch.einsum("ni,io->no", torch.nn.functional.silu(x), layer.base_weight)
        + torch.einsum("nib,ibo->no", basis, layer.spline_coef)
        + layer.bias
    )
    assert torch.allclose(layer(x), expected, atol=1e-14)


def test_domain_box_maps_onto_grid_range():
    net = KAN((2, 4, 1), input_bounds=((0.0, -3.0), (2.0, 5.0)), dtype=F64)
    corners = torch.tensor([[0.0, -3.0], [2.0, 5.0], [1.0, 1.0]], dtype=F64)
    mapped = net.normalise(corners)
    assert torch.allclose(mapped, torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]], dtype=F64))
    x = torch.rand(500, 2, dtype=F64) * torch.tensor([2.0, 8.0], dtype=F64) + torch.tensor([0.0, -3.0], dtype=F64)
    assert net.grid_coverage(x) == [1.0, 1.0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_carried_through(dtype):
    net = KANSpec(hidden=(4, 4)).build(2, 1, ((0.0, 0.0), (1.0, 1.0)), dtype=dtype)
    y = net(torch.rand(3, 2, dtype=dtype))
    assert y.dtype == dtype
    assert all(p.dtype == dtype for p in net.parameters())
    assert all(b.dtype == dtype for b in net.buffers())


def test_float32_matches_float64():
    torch.manual_seed(3)
    net64 = KAN((2, 6, 1), dtype=F64)
    net32 = KAN((2, 6, 1), dtype=torch.float32)
    net32.load_state_dict({k: v.float() if torch.is_tensor(v) else v for k, v in net64.state_dict().items()})
    x = torch.rand(50, 2, dtype=F64) * 2 - 1
    diff = (net32(x.float()).double() - net64(x)).abs().max()
    assert diff < 1e-5


def test_second_derivative_of_network_matches_finite_difference():
    torch.manual_seed(4)
    net = KAN((1, 5, 1), grid_size=6, input_bounds=((0.0,), (1.0,)), dtype=F64)
    x = torch.tensor([[0.37]], dtype=F64, requires_grad=True)
    (d1,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    h = 1e-4
    with torch.no_grad():
        fd = (net(x + h) - 2 * net(x) + net(x - h)) / h**2
    assert math.isclose(float(d2), float(fd), rel_tol=1e-5, abs_tol=1e-6)


def test_bad_inputs_name_the_fix():
    net = KAN((2, 3, 1))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        net(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="input_bounds"):
        KAN((2, 1), input_bounds=((0.0, 1.0), (1.0, 1.0)))
    with pytest.raises(ValueError, match="spline_order must be an int >= 1"):
        KAN((2, 1), spline_order=0)
    with pytest.raises(ValueError, match="positive int"):
        KANSpec(hidden=(0,))
