"""pinnkan's refusals are InputError (still ValueError / TypeError); other exceptions are bugs."""

import re
from pathlib import Path

import pytest

import pinnkan
from pinnkan import Dirichlet, Interval, Points, Problem, Setup
from pinnkan.errors import InputError, InputTypeError, InputValueError


def test_checks_raise_input_errors_that_are_still_value_and_type_errors():
    with pytest.raises(InputValueError, match="tolerance") as caught:
        Setup(tolerance=0.0)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, InputError)
    with pytest.raises(InputTypeError, match="Setup.points must be a Points") as caught:
        Setup(points=3)
    assert isinstance(caught.value, TypeError)
    with pytest.raises(InputValueError, match="Points.interior must be a positive int"):
        Points(interior=-1)


def test_a_users_function_that_fails_is_reported_as_an_input_error():
    def residual(f):
        return f.u_xx - f.nu  # no coefficient nu

    with pytest.raises(InputError, match="'nu'"):
        Problem(name="p", domain=Interval(0.0, 1.0), residual=residual, conditions=[Dirichlet("boundary", 0.0)])


def test_no_plain_value_or_type_error_is_raised_in_the_package():
    # a refusal of pinnkan's must be an InputError, or the command line would take it for a bug
    package = Path(pinnkan.__file__).parent
    plain = [f"{path.relative_to(package)}:{number}" for path in package.rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\braise (ValueError|TypeError)\(", line)]
    assert plain == []
