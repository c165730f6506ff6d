"""Loading problem files: a file that does not load gets the file, the line and the fix; nothing but the import runs."""

import sys
from pathlib import Path
from types import ModuleType

import pytest

from pinnkan import load_problem
from pinnkan.run.catalog import ProblemFileError, _import_error

HOSTILE = Path(__file__).parent / "hostile"


def _message(name: str) -> str:
    with pytest.raises(ProblemFileError) as caught:
        load_problem(HOSTILE / name)
    return str(caught.value)


def test_a_syntax_error_gives_the_line_the_text_and_a_caret():
    path = (HOSTILE / "syntax_error.py").resolve()
    assert _message("syntax_error.py") == (
        f"{path}, line 6: SyntaxError: invalid syntax\n"
        f"    residual=lambda f: f.u_t + f.u,,\n"
        f"    {' ' * 31}^\n"
        f"fix the Python syntax there"
    )


def test_an_error_at_import_gives_the_line_it_was_raised_at():
    path = (HOSTILE / "raises_at_import.py").resolve()
    assert _message("raises_at_import.py") == (
        f"{path}, line 3: RuntimeError: mesh file missing; fix that line (it raised while the file was imported)"
    )
    # raised inside a function of the file: the innermost line in the file
    assert _message("build_raises.py").startswith(f"{(HOSTILE / 'build_raises.py').resolve()}, line 7: KeyError: 'medium'")


@pytest.mark.parametrize(("name", "hint"), [
    ("name_error.py", "line 7: name 'Dirichlet' is not defined; add `from pinnkan import Dirichlet` at the top of the file"),
    ("missing_torch_import.py", "line 8: name 'torch' is not defined; add `import torch` at the top of the file"),
    ("misspelt_name.py", "line 6: name 'domian' is not defined; did you mean 'domain'?"),
    ("import_typo.py", "line 1: cannot import name 'Dirichlett' from 'pinnkan'"),
])
def test_a_missing_name_is_told_where_to_get_it(name, hint):
    message = _message(name)
    assert hint in message
    if name == "import_typo.py":
        assert message.endswith("did you mean 'Dirichlet'?")


def test_pinnkans_own_check_at_import_keeps_its_message_after_the_line():
    path = (HOSTILE / "unknown_output.py").resolve()
    assert _message("unknown_output.py") == (
        f"{path}, line 8: condition 'dirichlet_boundary_w' is on output 'w', which the problem does not have; "
        f"outputs are ('u',)"
    )


def test_a_failed_import_leaves_no_module_behind():
    _message("raises_at_import.py")
    assert not [name for name in sys.modules if name.startswith("pinnkan_problem_raises_at_import_")]


def test_ctrl_c_during_the_import_is_not_a_user_error(tmp_path):
    path = tmp_path / "interrupted.py"
    path.write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_problem(path)
    assert not [name for name in sys.modules if name.startswith("pinnkan_problem_interrupted_")]


def test_the_script_part_of_a_problem_file_does_not_run(capsys):
    spec = load_problem(HOSTILE / "runs_only_as_script.py")
    assert spec.problem.name == "decay"
    assert capsys.readouterr().out == ""


def test_a_falsy_setup_is_not_mistaken_for_none(tmp_path):
    path = tmp_path / "falsy.py"
    path.write_text((HOSTILE / "problem_misnamed.py").read_text().replace("decay = ", "problem = ") + "setup = []\n")
    with pytest.raises(ProblemFileError, match=r"falsy.py: `setup` must be a Setup\(\.\.\.\) \(or left out\), got list"):
        load_problem(path)


def test_build_errors_name_the_values_and_the_line():
    with pytest.raises(ProblemFileError, match=r"heat1d with \{'alpha': -1.0\}: alpha must be > 0 \(a diffusivity\), "
                                               r"got -1.0 \(.*heat1d.py, line \d+\)$"):
        load_problem("heat1d", alpha=-1.0)


def test_names_that_are_not_problems():
    with pytest.raises(ProblemFileError, match=r"^unknown problem 'heat'; built-in problems are .*; did you mean 'heat1d'\?$"):
        load_problem("heat")
    with pytest.raises(ProblemFileError, match=r"^give a built-in problem name \(`pinnkan list` shows them\) or a path"):
        load_problem("")


def test_paths_that_are_not_problem_files(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("u_t = u_xx\n")
    (tmp_path / "decay.py").write_text((HOSTILE / "runs_only_as_script.py").read_text())
    with pytest.raises(ProblemFileError, match="folder is a folder; give a built-in problem name or a problem file in it"):
        load_problem(tmp_path / "folder")
    with pytest.raises(ProblemFileError, match="notes.txt is not a problem file: problem files are Python files ending"):
        load_problem(tmp_path / "notes.txt")
    with pytest.raises(ProblemFileError, match=r"unknown problem '.*decay'; did you mean the file .*decay.py\?"):
        load_problem(tmp_path / "decay")


def test_a_file_that_cannot_be_read_says_so(tmp_path):
    path = tmp_path / "locked.py"
    error = _import_error(path, PermissionError(13, "Permission denied"), ModuleType("locked"))
    assert str(error) == f"{path}: cannot read the file (Permission denied); check that it exists and is readable"
