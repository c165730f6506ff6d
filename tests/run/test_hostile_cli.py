"""Hostile input on the command line: each case exits with status 2 and a message naming the fix, never a traceback.

Every case is a ``pinnkan`` command line run in a process of its own, forked by
``cli_processes.py`` from one process that imported pinnkan once (starting fifty
interpreters would spend minutes importing torch); a few also run as
``python -m pinnkan.run.cli`` and through the console script, the entry points
users start. The bad problem files are in ``hostile/``; files that cannot live in
the repository (null bytes, another encoding, an empty file, a folder) are made here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
HOSTILE = HERE / "hostile"
# Children run side by side on a 2-core machine, one thread each.
WORKERS = 3
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Case:
    """A command line and the phrase its error message must contain."""

    id: str
    argv: tuple[str, ...]
    phrase: str
    status: int = 2
    traceback: bool = False  # --debug: the traceback is wanted


def _file(name: str, phrase: str, *extra: str) -> Case:
    return Case(name.removesuffix(".py"), ("solve", str(HOSTILE / name), *extra), phrase)


# Problem files that fail to load: the message names the file, the line and the fix.
FILE_CASES = [
    _file("syntax_error.py", "syntax_error.py, line 6: SyntaxError: invalid syntax\n    residual=lambda f: f.u_t + f.u,,"),
    _file("unclosed_paren.py", "unclosed_paren.py, line 3: SyntaxError: '(' was never closed\n    problem = Problem("),
    _file("indentation_error.py", "indentation_error.py, line 4: IndentationError: expected an indented block"),
    _file("unicode_junk.py", "unicode_junk.py, line 4: SyntaxError: invalid character '∂' (U+2202)"),
    _file("name_error.py", "name_error.py, line 7: name 'Dirichlet' is not defined; add `from pinnkan import Dirichlet`"),
    _file("missing_torch_import.py", "missing_torch_import.py, line 8: name 'torch' is not defined; add `import torch`"),
    _file("misspelt_name.py", "misspelt_name.py, line 6: name 'domian' is not defined; did you mean 'domain'?"),
    _file("import_typo.py", "import_typo.py, line 1: cannot import name 'Dirichlett' from 'pinnkan'"),
    _file("missing_module.py", "missing_module.py, line 1: no module named 'pinnkan_extras'; install it or correct the import"),
    _file("raises_at_import.py", "raises_at_import.py, line 3: RuntimeError: mesh file missing; fix that line"),
    _file("exits_at_import.py", "exits_at_import.py, line 6: the file calls sys.exit() or exit() while being imported"),
    _file("no_problem.py", "no_problem.py must define `problem = Problem(...)` at module level"),
    _file("problem_misnamed.py", "it has decay = Problem(...): name it problem"),
    _file("problem_wrong_type.py", "`problem` must be a Problem, got str; define problem = Problem(...)"),
    _file("problem_is_class.py", "`problem` must be a Problem, got the class Problem itself (create one: Problem(...))"),
    _file("problem_is_function.py", "got function; define problem = Problem(...); it is a function: call it"),
    _file("setup_wrong_type.py", "`setup` must be a Setup(...) (or left out), got dict"),
    _file("setup_is_class.py", "`setup` must be a Setup(...) (or left out), got the class Setup itself"),
    _file("setup_stage_class.py", "setup_stage_class.py, line 9: Setup.stages must hold stages such as Adam(steps=...)"),
    _file("setup_weighting_string.py", "weighting must be a Weighting such as Fixed({...}), GradNorm()"),
    _file("setup_negative_points.py", "setup_negative_points.py, line 9: Points.interior must be a positive int, got -5"),
    _file("setup_negative_lr.py", "Adam.lr must be a finite number > 0, got -0.1"),
    _file("build_raises.py", "build_raises.py, line 7: KeyError: 'medium'; fix that line"),
    _file("build_returns_none.py", "build() must return a Problem, got NoneType"),
    _file("build_positional.py", "every argument of build() must be keyword-only with a default, e.g. `def build(*, rate=1.0)`"),
    _file("build_not_callable.py", "`build` must be a function returning the Problem, got dict"),
    _file("bad_problem_name.py", "a Problem's name names its run folder: use letters, digits and _ . + -"),
    # Problems that fail their checks: the condition, the function, the fix.
    _file("unknown_output.py", "condition 'dirichlet_boundary_w' is on output 'w', which the problem does not have"),
    _file("unknown_part.py", "is on part 'left', which the domain does not have; use one of ('x_min', 'x_max'"),
    _file("numpy_residual.py", "the residual called numpy on a torch tensor"),
    _file("numpy_condition.py", "condition 'initial': the value function called numpy on a torch tensor"),
    _file("math_residual.py", "the residual turned a tensor of many points into one number"),
    _file("residual_float.py", "residual 'pde' returned float; return a torch tensor built from the field"),
    _file("residual_no_return.py", "residual 'pde' returned NoneType; return a torch tensor"),
    _file("residual_wrong_shape.py", "residual 'pde' has shape (2,) for 4 points; it must return one value per point"),
    _file("residual_unknown_derivative.py", "cannot read 'u_zz': 'zz' is not a coordinate of ('x', 't')"),
    _file("residual_undeclared_coefficient.py", "must be declared on the Problem (coefficients={...})"),
    _file("residual_time_stationary.py", "this problem is stationary, so it has no time derivative; use SpaceTime"),
    _file("residual_constant.py", "residual 'pde' does not depend on the solution"),
    _file("residual_two_arguments.py", "the residual must take 1 argument, as pinnkan calls it"),
    _file("residual_raises.py", "the residual asked for 'heating' ("),
    _file("residual_system_tensor.py", "for a system return a dict of named residuals"),
    _file("condition_wrong_length.py", "value function returned shape (3,) for 4 points; return one value per point"),
    _file("condition_missing_coordinate.py", "asked for 'y' ("),
    _file("condition_list_value.py", "value function returned list; return a torch tensor"),
    _file("conditions_not_list.py", "conditions takes a list of conditions; put the Dirichlet in one"),
    _file("condition_not_a_condition.py", "conditions must be Condition objects (Dirichlet, Neumann"),
    _file("duplicate_condition.py", "two conditions are named 'dirichlet_x_min'; give one of them name=..."),
    _file("observations_outside.py", "1 of 2 points lie outside the domain (first: [2.0, 0.5])"),
    _file("where_predicate_raises.py", "the predicate of Where('left_half', within='boundary') asked for 'z'"),
    _file("hard_constraint_shape.py", "the hard constraint's distance function returned shape (3,) for 4 points"),
    _file("hard_constraint_numpy.py", "the hard constraint's particular function called numpy on a torch tensor"),
    _file("hard_constraint_misses.py", "the hard constraint's distance function is not zero on the part of condition "
          "'dirichlet_boundary', which it claims"),
    _file("hard_constraint_none.py", "the hard constraint's particular function returned NoneType"),
    _file("hard_constraint_unknown_part.py", "the hard constraint names part 'start'"),
    _file("hard_constraint_not_transform.py", "hard_constraint must be an OutputTransform or HardConstraint, got function"),
    _file("exact_none.py", "the exact solution returned NoneType; return a torch tensor"),
    _file("exact_wrong_length.py", "the exact solution gave 2 values of 'u' for 4 points"),
    _file("exact_raises.py", "the exact solution raised ZeroDivisionError ("),
    # These get as far as solve(): a tiny setup, one step.
    _file("residual_shape_in_training.py", "residual 'pde' has shape (4,) for 8 points"),
    _file("reference_raises.py", "the reference of problem 'decay' raised ZeroDivisionError ("),
    _file("reference_wrong_type.py", "reference() must return a GridSolution or a ScatteredSolution, got dict"),
    _file("runs_only_as_script.py", "--steps: give one step count per optimiser stage (2: Adam, BFGS), got 3", "--steps", "1,1,1"),
]

# Command lines that are wrong in themselves ({dir}: a folder, {file}: a plain file).
ARGV_CASES = [
    Case("no_command", (), "the following arguments are required: command"),
    Case("unknown_command", ("train", "heat1d"), "invalid choice: 'train'"),
    Case("no_problem_given", ("solve",), "the following arguments are required: problem"),
    Case("unknown_option", ("solve", "heat1d", "--stepz", "1"), "unrecognized arguments: --stepz"),
    Case("unknown_problem", ("solve", "no_such_problem"), "unknown problem 'no_such_problem'; built-in problems are"),
    Case("misspelt_problem", ("solve", "heat"), "did you mean 'heat1d'?"),
    Case("missing_file", ("solve", "missing.py"), "no problem file at missing.py; check the path"),
    Case("empty_name", ("solve", ""), "give a built-in problem name (`pinnkan list` shows them)"),
    Case("problem_is_folder", ("solve", "{dir}"), "is a folder; give a built-in problem name or a problem file in it"),
    Case("problem_not_py", ("solve", "{file}"), "is not a problem file: problem files are Python files ending in .py"),
    Case("param_no_value", ("solve", "heat1d", "--param", "alpha"), "--param takes NAME=VALUE, e.g. nu=0.02, got 'alpha'"),
    Case("param_no_name", ("solve", "heat1d", "--param", "=1"), "--param takes NAME=VALUE, e.g. nu=0.02, got '=1'"),
    Case("param_unknown", ("solve", "heat1d", "--param", "nu=1"), "heat1d has no parameter 'nu'; its parameters are {'alpha': 0.4}"),
    Case("param_not_a_number", ("solve", "heat1d", "--param", "alpha=abc"), "takes a float like its default 0.4, got 'abc'"),
    Case("param_out_of_range", ("solve", "heat1d", "--param", "alpha=-1"), "alpha must be > 0 (a diffusivity), got -1.0"),
    Case("param_twice", ("solve", "heat1d", "--param", "alpha=1", "--param", "alpha=2"), "['alpha'] more than once"),
    Case("param_without_build", ("solve", "poisson_lshape", "--param", "a=1"), "takes no parameters (it defines no build()"),
    Case("steps_zero", ("solve", "heat1d", "--steps", "0"), "--steps must be positive, one per stage"),
    Case("steps_word", ("solve", "heat1d", "--steps", "many"), "--steps takes positive integers separated by commas"),
    Case("steps_too_many", ("solve", "heat1d", "--steps", "1,1,1"), "--steps: give one step count per optimiser stage (2: Adam, BFGS)"),
    Case("extend_decreasing", ("solve", "heat1d", "--extend", "10,5"), "--extend takes increasing grid sizes"),
    Case("extend_not_kan", ("solve", "heat1d", "--model", "mlp", "--extend", "10"), "so it needs a B-spline KAN model"),
    Case("extend_smaller_grid", ("solve", "heat1d", "--extend", "5", "--steps", "1,1"), "larger grid than the model's G=5"),
    Case("out_empty", ("solve", "heat1d", "--out", ""), "--out takes the path of a folder, got an empty one"),
    Case("out_is_file", ("solve", "heat1d", "--out", "{file}"), "is a file; give a folder (created if missing)"),
    Case("out_under_file", ("solve", "heat1d", "--out", "{file}/run"), "choose another --out"),
    Case("device_meta", ("solve", "heat1d", "--device", "meta"), "--device 'meta' cannot train a model; give one of cpu"),
    Case("device_unknown", ("solve", "heat1d", "--device", "quantum"), "--device takes a torch device such as 'cpu', 'cuda'"),
    Case("seed_negative", ("solve", "heat1d", "--seed", "-1"), "--seed takes a whole number from 0 to 2**63 - 1"),
    Case("seed_word", ("solve", "heat1d", "--seed", "abc"), "--seed takes a whole number >= 0"),
    Case("seed_huge", ("solve", "heat1d", "--seed", str(2**64)), "--seed takes a whole number from 0 to 2**63 - 1"),
    Case("dtype_half", ("solve", "heat1d", "--dtype", "float16"), "invalid choice: 'float16'"),
    Case("model_unknown", ("solve", "heat1d", "--model", "resnet"), "invalid choice: 'resnet'"),
    Case("weighting_unknown", ("solve", "heat1d", "--weighting", "magic"), "--weighting takes one or more of"),
    Case("weighting_none_and_more", ("solve", "heat1d", "--weighting", "none,gradnorm"), "(none alone)"),
    Case("resampling_unknown", ("solve", "heat1d", "--resampling", "often"), "invalid choice: 'often'"),
    Case("engine_unknown", ("solve", "heat1d", "--engine", "symbolic"), "invalid choice: 'symbolic'"),
    Case("resume_nothing", ("solve", "heat1d", "--resume", "--steps", "1,1"), "no checkpoint to resume from"),
]
if not torch.cuda.is_available():
    ARGV_CASES.append(Case("device_no_cuda", ("solve", "heat1d", "--device", "cuda"), "has no cuda; give 'cpu'"))

# --debug, before or after the subcommand, shows the traceback instead.
DEBUG_CASES = [
    Case("debug_before", ("--debug", "solve", str(HOSTILE / "name_error.py")), "NameError: name 'Dirichlet'", 1, True),
    Case("debug_after", ("solve", str(HOSTILE / "numpy_residual.py"), "--debug"), "RuntimeError: Can't call numpy()", 1, True),
]


# Files that cannot be kept in the repository, written by the fixture: name -> (bytes or None for a folder, phrase).
MADE_FILES = {
    "empty.py": (b"", "empty.py must define `problem = Problem(...)` at module level"),
    "null_bytes.py": (b"problem = 1\x00\x00\xff", "is not Python source (source code string cannot contain null bytes)"),
    "latin1.py": ('name = "Schrödinger"\nproblem = 1\n'.encode("latin-1"), "save the file as UTF-8 text"),
    "bad_coding.py": (b"# -*- coding: klingon -*-\nproblem = 1\n", "is not Python source (unknown encoding: klingon)"),
    "a_folder.py": (None, "a_folder.py is a folder; give a problem file"),
}
MADE_CASES = [Case(name.removesuffix(".py"), ("solve", "{made}/" + name), phrase) for name, (_, phrase) in MADE_FILES.items()]


def _write_made_files(folder: Path) -> None:
    for name, (content, _) in MADE_FILES.items():
        if content is None:
            (folder / name).mkdir()
        else:
            (folder / name).write_bytes(content)


def _command_line(case: Case, folder: Path) -> list[str]:
    """The case's arguments with {dir}, {file} and {made} filled in, and its own run folder for a solve."""
    argv = [a.format(dir=folder / "a_dir", file=folder / "notes.txt", made=folder) for a in case.argv]
    if argv[:1] == ["solve"] or argv[1:2] == ["solve"]:
        if "--out" not in argv:
            argv += ["--out", str(folder / "runs" / case.id)]
        argv.append("--no-progress")
    return argv


def _entry_point(command: list[str], argv: list[str], cwd: Path) -> dict[str, object]:
    done = subprocess.run([*command, *argv], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    return {"status": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


CORPUS = FILE_CASES + MADE_CASES + ARGV_CASES + DEBUG_CASES
# These also run through the entry points users start: python -m, and the console script.
MODULE_CASES = ["syntax_error", "numpy_residual", "unknown_problem", "debug_before"]
SCRIPT_CASES = ["name_error"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every case's exit status, stdout and stderr, by case id (made files included)."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "a_dir").mkdir()
    (folder / "notes.txt").write_text("not a problem file\n")
    _write_made_files(folder)
    by_id = {case.id: case for case in CORPUS}
    assert len(by_id) == len(CORPUS), "case ids must be distinct"
    runner = [sys.executable, str(HERE / "cli_processes.py"), str(WORKERS)]
    payload = json.dumps([{"argv": _command_line(c, folder), "cwd": str(folder)} for c in CORPUS])
    console = shutil.which("pinnkan", path=str(Path(sys.executable).parent))
    with ThreadPoolExecutor(max_workers=1 + len(MODULE_CASES) + len(SCRIPT_CASES)) as pool:
        forked = pool.submit(
            subprocess.run, runner, input=payload, cwd=folder, env=ENV, capture_output=True, text=True, timeout=600
        )
        module = {
            i: pool.submit(_entry_point, [sys.executable, "-m", "pinnkan.run.cli"], _command_line(by_id[i], folder), folder)
            for i in MODULE_CASES
        }
        script = {i: pool.submit(_entry_point, [str(console)], _command_line(by_id[i], folder), folder) for i in SCRIPT_CASES}
        done = forked.result()
    assert done.returncode == 0, done.stderr
    found = dict(zip(by_id, json.loads(done.stdout)))
    found.update({f"{i} (python -m)": f.result() for i, f in module.items()})
    found.update({f"{i} (console script)": f.result() for i, f in script.items()})
    return found


def _cases() -> list[Case]:
    """The corpus, and the cases run again through the entry points users start."""
    by_id = {c.id: c for c in CORPUS}
    via = [replace(by_id[i], id=f"{i} (python -m)") for i in MODULE_CASES]
    via += [replace(by_id[i], id=f"{i} (console script)") for i in SCRIPT_CASES]
    return CORPUS + via


def test_the_corpus_is_large_enough():
    assert len(FILE_CASES) + len(MADE_CASES) + len(ARGV_CASES) >= 40


def test_a_problem_file_is_imported_not_run_as_a_script(results: dict[str, dict[str, object]]):
    result = results["runs_only_as_script"]
    assert result["status"] == 2 and result["stdout"] == ""  # its `if __name__ == "__main__":` part prints


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.id)
def test_hostile_input_gets_a_message_naming_the_fix(case: Case, results: dict[str, dict[str, object]]):
    result = results[case.id]
    stderr = str(result["stderr"])
    assert result["status"] == case.status, stderr
    assert case.phrase in stderr, stderr
    assert ("Traceback (most recent call last)" in stderr) is case.traceback, stderr
    assert "Traceback" not in str(result["stdout"])
    if not case.traceback:
        assert stderr.count("error:") == 1, stderr  # one message, no cascade
