"""The command line's handling of errors: one line and status 2 for the user's, the traceback with --debug or for a bug."""

import argparse

import pytest

from pinnkan.run import cli
from pinnkan.run.catalog import ProblemFileError
from pinnkan.run.cli import main


def test_a_user_error_is_one_line_on_stderr_with_status_2(capsys):
    assert main(["solve", "heat"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("pinnkan: error: unknown problem 'heat'; built-in problems are")
    assert captured.err.endswith("did you mean 'heat1d'?\n")


@pytest.mark.parametrize("argv", [["--debug", "solve", "heat"], ["solve", "heat", "--debug"], ["list", "--debug"]])
def test_debug_raises_the_error_itself(argv, monkeypatch):
    monkeypatch.setattr(cli, "list_problems", lambda: (_ for _ in ()).throw(ProblemFileError("broken")))
    with pytest.raises(ProblemFileError, match="unknown problem 'heat'|broken"):
        main(argv)


@pytest.mark.parametrize("bug", [IndexError("list index out of range"), ValueError("math domain error")])
def test_a_bug_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys, bug):
    # a ValueError that no check of pinnkan's raised (here from inside load_problem) is a bug too
    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr(cli, "load_problem", broken)
    assert main(["solve", "heat1d"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and f"{type(bug).__name__}: {bug}" in err
    assert err.rstrip().endswith("Please report it with the traceback above and the command you ran.")
    assert "pinnkan: error:" not in err
    with pytest.raises(type(bug), match=str(bug)):
        main(["solve", "heat1d", "--debug"])


def test_running_out_of_memory_names_the_fix(monkeypatch, capsys):
    def huge(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli, "load_problem", huge)
    assert main(["solve", "heat1d"]) == 2
    assert capsys.readouterr().err == (
        "pinnkan: error: out of memory (MemoryError); use fewer points (Setup(points=Points(...))) or a smaller model\n"
    )


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"]])
def test_help_documents_debug(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    text = " ".join(capsys.readouterr().out.split())
    assert "--debug on an error, show the Python traceback instead of one line (for a bug report)" in text


@pytest.mark.parametrize(("check", "text", "message"), [
    (cli._seed, "-3", "--seed takes a whole number from 0 to 2**63 - 1, got '-3'"),
    (cli._seed, "1.5", "--seed takes a whole number >= 0, e.g. --seed 1, got '1.5'"),
    (cli._device, "meta", "--device 'meta' cannot train a model; give one of cpu, cuda, mps, xpu"),
    (cli._device, "gpu", "--device takes a torch device such as 'cpu', 'cuda' or 'cuda:1', got 'gpu'"),
    (cli._out, " ", "--out takes the path of a folder, got an empty one"),
    (cli._tolerance, "0", "--tolerance takes a relative L2 error to reach, a number between 0 and 1 such as 1e-3; got '0'"),
    (cli._tolerance, "tight", "--tolerance takes a relative L2 error to reach"),
    (cli._budget, "5 minutes", "cannot read the budget '5 minutes'; give seconds or a duration such as '90s', '5m'"),
    (cli._budget, "-1m", "cannot read the budget '-1m'"),
])
def test_argument_checks(check, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        check(text)
    assert str(caught.value).startswith(message)


def test_good_arguments_pass_the_checks(tmp_path):
    assert cli._seed("7") == 7
    assert cli._device("cpu") == "cpu"
    assert cli._out(str(tmp_path / "new")) == str(tmp_path / "new")
    assert (cli._tolerance("1e-4"), cli._budget("5m"), cli._budget("90")) == (1e-4, 300.0, 90.0)


def test_parameter_values_cannot_leave_the_runs_folder():
    assert cli._folder_name("burgers1d", [("nu", 0.005)]) == "runs/burgers1d_nu=0.005"
    assert cli._folder_name("shape", [("kind", "../x y")]) == "runs/shape_kind=.._x_y"


def test_solve_itself_checks_the_device_and_the_seed_before_any_work():
    from pinnkan import load_problem, solve

    problem = load_problem("heat1d").problem
    with pytest.raises(ValueError, match="device 'meta' cannot train a model; give one of cpu, cuda"):
        solve(problem, device="meta")
    with pytest.raises(ValueError, match="device takes a torch device such as 'cpu'"):
        solve(problem, device="quantum")
    with pytest.raises(ValueError, match=r"seed must be a whole number from 0 to 2\*\*63 - 1, got -1"):
        solve(problem, seed=-1)


def test_a_hard_constraint_asked_for_a_condition_it_cannot_build_names_it_before_training():
    from pinnkan import Disk, Dirichlet, Neumann, Problem, Setup, Where, solve

    problem = Problem(
        name="half", domain=Disk((0.0, 0.0), 1.0), residual=lambda f: f.u_xx + f.u_yy - 1.0,
        conditions=[Dirichlet(Where(lambda c: c["x"] < 0, name="left"), 0.0), Neumann("boundary", 0.0, name="flux")],
    )
    with pytest.raises(ValueError, match=r"the hard constraint cannot build in \['dirichlet_left', 'flux'\] "
                                         r"\(dirichlet_left: .* whole boundary pieces.*; flux: a condition on the normal"):
        solve(problem, Setup(hard=("dirichlet_left", "flux")))
    with pytest.raises(ValueError, match=r"Setup.hard names \['inlet'\], which are not conditions of 'half'"):
        solve(problem, Setup(hard=("inlet",)))
