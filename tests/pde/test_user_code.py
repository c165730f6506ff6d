"""Calling the user's functions: a failure in them names the function, the line and the fix; pinnkan's own pass through."""

import math

import numpy as np
import pytest
import torch

from pinnkan import KAN, Field, Jets
from pinnkan.pde.engines import JetsUnavailable
from pinnkan.pde.fields import coordinate_dict
from pinnkan.pde.user_code import call_user, describe_location, kind_of

GRAD = torch.linspace(0.0, 1.0, 5, dtype=torch.float64, requires_grad=True)


def numpy_residual(u):
    return np.sin(u)  # the line reported


def dividing(u):
    return u * (1.0 / (len(u) - 5))  # the line reported


def line_of(function, offset=1):
    return function.__code__.co_firstlineno + offset


def test_numpy_on_a_tensor_with_gradients_names_the_line_and_torch():
    with pytest.raises(TypeError) as caught:
        call_user("the residual", numpy_residual, GRAD)
    assert str(caught.value) == (
        f"the residual called numpy on a torch tensor ({__file__}, line {line_of(numpy_residual)}); "
        f"write it with torch functions (use torch.sin, not numpy.sin; torch.where, not numpy.where)"
    )


def test_math_on_a_tensor_of_many_points_names_torch():
    with pytest.raises(TypeError, match=r"the value function turned a tensor of many points into one number .*"
                                        r"\(use torch.sin, not math.sin or float\(\)\)"):
        call_user("the value function", lambda c: math.sin(c["x"]), {"x": GRAD})


def test_an_error_in_the_users_code_becomes_a_value_error_with_its_line_and_cause():
    with pytest.raises(ValueError) as caught:
        call_user("the exact solution", dividing, GRAD)
    assert str(caught.value) == (
        f"the exact solution raised ZeroDivisionError ({__file__}, line {line_of(dividing)}): "
        f"float division by zero; fix the function there"
    )
    assert isinstance(caught.value.__cause__, ZeroDivisionError)  # --debug shows the original


def test_a_missing_coordinate_lists_the_coordinates():
    with pytest.raises(ValueError, match=r"asked for 'y' \(.*\), which is not there \(if it is a coordinate: the "
                                         r"coordinates are \('x', 't'\), e.g. c\['x'\]\); fix the name"):
        call_user("the value function", lambda c: c["y"], {"x": GRAD, "t": GRAD})


def test_a_function_of_the_wrong_arity_is_told_how_it_is_called():
    with pytest.raises(TypeError, match="the residual must take 1 argument, as pinnkan calls it: .*missing 1 required"):
        call_user("the residual", lambda f, alpha: f, GRAD)


def test_runtime_errors_pass_unless_asked_for():
    def mismatch(u):
        return torch.cat([u[:, None], u[None, :]])

    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions|Sizes of tensors"):
        call_user("the residual", mismatch, GRAD)
    with pytest.raises(ValueError, match=r"the reference raised RuntimeError \(.*test_user_code.py, line"):
        call_user("the reference", mismatch, GRAD, runtime_errors=True)


def test_pinnkans_control_flow_and_bugs_pass_unchanged():
    net = KAN((1, 3, 1), dtype=torch.float64)
    field = Field(net, torch.rand(4, 1, dtype=torch.float64), ("x",), engine=Jets(max_order=1))
    with pytest.raises(JetsUnavailable, match="Jets\\(max_order=1\\) carries up to order 1"):
        call_user("the residual", lambda f: f.u_xx, field)  # the loss falls back to autograd on this one
    with pytest.raises(IndexError):  # raised inside pinnkan: a bug's traceback stays as it is
        call_user("the residual", lambda u: coordinate_dict(u, ("x", "y")), GRAD)


def test_pinnkans_own_check_inside_a_users_function_is_prefixed_with_the_function():
    field = Field(lambda p: p**2, torch.rand(4, 1, dtype=torch.float64), ("t",), time="t")
    with pytest.raises(ValueError, match=r"^the residual \(.*line \d+\): laplacian acts on space coordinates"):
        call_user("the residual", lambda f: f.laplacian(), field)


def test_kind_of_tells_a_class_from_an_instance():
    assert kind_of(Jets) == "the class Jets itself (create one: Jets(...))"
    assert kind_of(Jets()) == "Jets"


def test_describe_location_finds_the_innermost_frame_of_a_file():
    try:
        dividing(GRAD)
    except ZeroDivisionError as err:
        assert describe_location(err.__traceback__) == f"{__file__}, line {line_of(dividing)}"
        assert describe_location(err.__traceback__, "elsewhere.py") == ""
