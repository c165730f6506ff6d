"""Problem parameters: build(**values) through load_problem and --param, checked where they enter."""

import json
import math

import numpy as np
import pytest

from pinnkan import load_problem
from pinnkan.run.cli import main


def test_a_parameter_changes_the_problem_and_is_recorded():
    spec = load_problem("heat1d", alpha=0.2)
    assert spec.parameters == {"alpha": 0.2} and spec.problem.parameters == {"alpha": 0.2}
    point = np.array([[0.3, 0.7]])
    assert spec.problem.exact_values(point)["u"][0] == pytest.approx(math.exp(-0.2 * math.pi**2 * 0.7) * math.sin(0.3 * math.pi))
    # the stated reference error belongs to the default only
    assert spec.problem.reference_error is None and load_problem("heat1d").problem.reference_error == 9.3e-9
    assert load_problem("heat1d").parameters == {"alpha": 0.4}
    # an int where the default is a float is taken as a float
    assert load_problem("heat1d", alpha=1).parameters == {"alpha": 1.0}


def test_unknown_or_mistyped_parameters_name_the_accepted_ones():
    with pytest.raises(ValueError, match=r"burgers1d has no parameter 'mu'; its parameters are \{'nu'"):
        load_problem("burgers1d", mu=0.01)
    with pytest.raises(TypeError, match="parameter 'nu' takes a float like its default"):
        load_problem("burgers1d", nu="small")
    with pytest.raises(ValueError, match="takes no parameters .* drop \\['a'\\]"):
        load_problem("poisson_lshape", a=1.0)


def test_build_must_take_keyword_only_arguments_with_defaults(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(
        "from pinnkan import Interval, Problem\n"
        "def build(rate):\n"
        "    return Problem(name='bad', domain=Interval(0.0, 1.0), residual=lambda f: f.u_x - rate * f.u)\n"
        "problem = build(1.0)\n"
    )
    with pytest.raises(ValueError, match=r"keyword-only with a default, e.g. `def build\(\*, rate=1.0\)`"):
        load_problem(path)


def test_cli_param_reaches_the_report_and_the_listing(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["solve", "heat1d", "--param", "alpha=0.25", "--steps", "3,2", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["parameters"] == {"alpha": 0.25} and report["reference_error"] is None
    assert (out / "snapshots.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["list"]) == 0
    assert "parameters: alpha=0.4" in capsys.readouterr().out


def test_cli_param_without_a_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["solve", "heat1d", "--param", "alpha"])
    assert stop.value.code == 2 and "--param takes NAME=VALUE, e.g. nu=0.02" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "alpha=0.1", "--param", "alpha=0.2"], "--param gives ['alpha'] more than once"),
        (["--param", "alpha=hot"], "heat1d's parameter 'alpha' takes a float like its default 0.4, got 'hot'"),
    ],
)
def test_cli_param_errors_are_one_line(args, message, capsys):
    assert main(["solve", "heat1d", "--steps", "1,1", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_numpy_numbers_are_taken_and_bad_values_are_named_by_the_file():
    assert load_problem("heat1d", alpha=np.float64(0.25)).parameters == {"alpha": 0.25}
    assert type(load_problem("heat1d", alpha=np.int64(1)).parameters["alpha"]) is float
    with pytest.raises(ValueError, match=r"fisher_kpp1d with \{'d': 0.0, 'rho': 1.0\}: d and rho must be > 0"):
        load_problem("fisher_kpp1d", d=0.0)
    with pytest.raises(ValueError, match="kovasznay with .*re must be > 0"):
        load_problem("kovasznay", re=0)


def test_the_recorded_values_are_the_ones_the_problem_was_built_with(tmp_path):
    path = tmp_path / "decay.py"
    path.write_text(
        "from pinnkan import Interval, Problem\n"
        "def build(*, rate=1.0):\n"
        "    return Problem(name='decay', description=f'rate {rate}', domain=Interval(0.0, 1.0),\n"
        "                   residual=lambda f: f.u_x + rate * f.u)\n"
        "problem = build(rate=2.0)\n"
    )
    spec = load_problem(path)
    assert spec.parameters == {"rate": 1.0} and spec.problem.description == "rate 1.0"
    assert load_problem(path, rate=3).problem.description == "rate 3.0"


def test_other_values_get_their_own_default_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["solve", "heat1d", "--param", "alpha=0.3", "--steps", "2,1", "--no-progress"]) == 0
    report = json.loads((tmp_path / "runs" / "heat1d_alpha=0.3" / "report.json").read_text())
    assert report["parameters"] == {"alpha": 0.3} and not (tmp_path / "runs" / "heat1d").exists()
