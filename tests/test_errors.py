"""pinnkan's refusals are InputError (still ValueError / TypeError); other exceptions are bugs."""

import re
from pathlib import Path

import numpy as np
import pytest

import pinnkan
from pinnkan import Dirichlet, Interval, Points, Problem, Setup
from pinnkan.errors import InputError, InputTypeError, InputValueError, check_whole, whole


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


@pytest.mark.parametrize(("value", "least", "most", "numpy", "expected"), [
    (3, 1, None, False, True), (0, 1, None, False, False), (True, 0, None, False, False), (2.0, 1, None, False, False),
    (8, 1, 8, False, True), (9, 1, 8, False, False), (-5, None, None, False, True), ("4", None, None, False, False),
    (np.int64(4), 1, None, False, False), (np.int64(4), 1, None, True, True), (np.bool_(True), 0, None, True, False),
])
def test_whole_numbers_are_ints_in_range_and_never_bools(value, least, most, numpy, expected):
    assert whole(value, least, most, numpy=numpy) is expected


def test_check_whole_names_what_it_checks_and_gives_a_plain_int():
    assert type(check_whole("n", np.int32(3), numpy=True)) is int
    with pytest.raises(InputValueError, match=r"^steps must be a positive int, got 0$"):
        check_whole("steps", 0)
    with pytest.raises(InputValueError, match=r"^seed must be an int >= 0, got -1$"):
        check_whole("seed", -1, 0)


def test_integer_checks_have_one_test_in_the_package():
    # counts, orders and sizes are checked by errors.whole, not by copies of its test
    package = Path(pinnkan.__file__).parent
    copies = [f"{path.relative_to(package)}:{number}" for path in package.rglob("*.py") if path.name != "errors.py"
              for number, line in enumerate(path.read_text().splitlines(), 1)
              if re.search(r"isinstance\((\w[\w.]*), bool\) or not isinstance\(\1, (int|\(int, np\.integer\))\)", line)]
    assert copies == []
