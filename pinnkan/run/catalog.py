"""Finding and loading problem files: the built-in ones by name, a user's by path.

A problem file is a Python file that defines ``problem`` (a :class:`~pinnkan.Problem`)
and optionally ``setup`` (a :class:`~pinnkan.Setup` with tuned settings; without
one, every setting is chosen for the problem, see :mod:`pinnkan.run.setup`).
A file whose problem has parameters also defines ``build(*, name=default, ...)``,
which returns the problem for other values (keyword-only arguments with
defaults), and sets ``problem = build()``; ``load_problem(name, nu=0.02)`` and
``pinnkan solve NAME --param nu=0.02`` call it.
The built-in files ship as the package ``pinnkan.problems`` (the repository's
``problems/`` folder); the library itself never imports them.
"""

from __future__ import annotations

import builtins
import difflib
import hashlib
import importlib.resources
import importlib.util
import inspect
import numbers
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import InputTypeError, InputValueError
from ..pde.problem import Problem
from ..pde.user_code import describe_location, kind_of, raised_in_pinnkan
from ..reference.readers import ReferenceFile
from .setup import Setup

__all__ = ["ProblemFile", "ProblemFileError", "list_problems", "load_problem"]


class ProblemFileError(InputValueError):
    """A problem file that cannot be loaded; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class ProblemFile:
    """What a problem file defines."""

    problem: Problem
    setup: Setup
    path: Path
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Every parameter of ``build`` with the value it was built with (empty without ``build``);
    also ``problem.parameters``."""


def _builtin_folder() -> Path:
    return Path(str(importlib.resources.files("pinnkan.problems")))


def list_problems() -> dict[str, Path]:
    """Built-in problem names and their files."""
    return {
        p.stem: p for p in sorted(_builtin_folder().glob("*.py")) if not p.name.startswith("_")
    }


def load_problem(name_or_path: str | Path, **parameters: Any) -> ProblemFile:
    """Load a built-in problem by name (``"heat1d"``) or a problem file by path.

    Loading imports the file (under a module name of its own, so code under
    ``if __name__ == "__main__":`` does not run) and calls its ``build`` if it has one;
    nothing else runs.

    Parameters
    ----------
    name_or_path : str or path
        A built-in name (see :func:`list_problems`) or a ``.py`` file.
    **parameters
        Values for the keyword arguments of the file's ``build`` function (the
        others keep their defaults). A file without ``build`` takes none.

    Raises
    ------
    ProblemFileError
        The file does not exist, does not import (the message gives the line and the
        text for a syntax error, the line where an error was raised otherwise) or does
        not define what it must.
    ValueError, TypeError
        A parameter its ``build`` does not take, or a value of another kind than the default.

    Examples
    --------
    >>> spec = load_problem("burgers1d", nu=0.005)
    >>> spec.parameters["nu"]
    0.005
    """
    return _load_file(_find(name_or_path), parameters)


def _find(name_or_path: str | Path) -> Path:
    """The file of a built-in problem name or of a path, or an error saying what to give instead."""
    text = str(name_or_path)
    if not text.strip():
        raise ProblemFileError("give a built-in problem name (`pinnkan list` shows them) or a path to a problem file (.py)")
    path = Path(text)
    if text.endswith(".py") or path.suffix == ".py":
        if path.is_dir():
            raise ProblemFileError(f"{path} is a folder; give a problem file, a .py file that defines `problem`")
        if not path.is_file():
            raise ProblemFileError(f"no problem file at {path}; check the path")
        return path
    builtin = list_problems()
    if text in builtin:
        return builtin[text]
    if path.is_dir():
        raise ProblemFileError(
            f"{path} is a folder; give a built-in problem name or a problem file in it, e.g. {path / 'my_problem.py'}"
        )
    if path.is_file():
        raise ProblemFileError(f"{path} is not a problem file: problem files are Python files ending in .py")
    if Path(text + ".py").is_file():
        raise ProblemFileError(f"unknown problem {text!r}; did you mean the file {text}.py?")
    close = difflib.get_close_matches(text, builtin, n=1)
    raise ProblemFileError(
        f"unknown problem {text!r}; built-in problems are {sorted(builtin)}, "
        f"or pass a path to a problem file ending in .py" + (f"; did you mean {close[0]!r}?" if close else "")
    )


def _defaults(build: Callable[..., Problem], path: Path) -> dict[str, Any]:
    """The keyword arguments of a problem file's ``build`` and their defaults."""
    defaults = {}
    for name, p in inspect.signature(build).parameters.items():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty:
            raise ProblemFileError(
                f"{path}: every argument of build() must be keyword-only with a default, "
                f"e.g. `def build(*, {name}=1.0)`; {name!r} is not"
            )
        defaults[name] = p.default
    return defaults


def _like(value: Any, default: Any, what: str) -> Any:
    """``value`` if it is of the kind of ``default``: any real number (numpy's too) where a float
    is expected becomes a float, any integer where an int is expected an int."""
    if isinstance(default, bool) or isinstance(value, bool):
        if type(value) is type(default):
            return value
    elif isinstance(default, float) and isinstance(value, numbers.Real):
        return float(value)
    elif isinstance(default, int) and isinstance(value, numbers.Integral):
        return int(value)
    elif default is None or type(value) is type(default):
        return value
    raise InputTypeError(f"{what} takes a {type(default).__name__} like its default {default!r}, got {value!r}")


def _load_file(path: Path, parameters: Mapping[str, Any]) -> ProblemFile:
    module = _import(path)
    problem = _problem_of(module, path)
    build = getattr(module, "build", None)
    if build is None:
        if parameters:
            raise InputValueError(f"{path} takes no parameters (it defines no build() function); drop {sorted(parameters)}")
        values: dict[str, Any] = {}
    else:
        if not callable(build):
            raise ProblemFileError(f"{path}: `build` must be a function returning the Problem, got {kind_of(build)}")
        defaults = _defaults(build, path)
        unknown = sorted(set(parameters) - set(defaults))
        if unknown:
            raise InputValueError(f"{path.stem} has no parameter {', '.join(map(repr, unknown))}; its parameters are {defaults}")
        values = {**defaults, **{n: _like(v, defaults[n], f"{path.stem}'s parameter {n!r}") for n, v in parameters.items()}}
        # Always built from the values recorded, so the record cannot differ from the problem.
        try:
            problem = build(**values)
        except Exception as err:
            raise _build_error(path, values, err) from err
        if not isinstance(problem, Problem):
            raise ProblemFileError(f"{path}: build() must return a Problem, got {kind_of(problem)}")
        # A file states its reference's error for the defaults; other values leave it unknown.
        stated = problem.reference_error if values == defaults or problem.reference is None else None
        problem = replace(problem, parameters=values, reference_error=stated)
    reference = problem.reference
    if isinstance(reference, ReferenceFile) and not reference.path.is_absolute():  # beside the problem file
        problem = replace(problem, reference=replace(reference, path=path.resolve().parent / reference.path))
    setup = getattr(module, "setup", None)
    if setup is None:
        setup = Setup()
    elif not isinstance(setup, Setup):
        raise ProblemFileError(f"{path}: `setup` must be a Setup(...) (or left out), got {kind_of(setup)}")
    return ProblemFile(problem, setup, path, values)


def _import(path: Path) -> ModuleType:
    """Import the problem file, its failures reported with the file, the line and the fix."""
    # A module name per file, registered like any import: tools that look functions
    # up by their module (torch.compile does) find the problem file's.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"pinnkan_problem_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ProblemFileError(f"cannot load {path} as a Python file; give a .py problem file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:
        del sys.modules[module_name]
        raise _import_error(path, err, module) from err
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _problem_of(module: ModuleType, path: Path) -> Problem:
    """The module's ``problem``, or an error naming what the file defines instead."""
    problem = getattr(module, "problem", None)
    if isinstance(problem, Problem):
        return problem
    if problem is None:
        others = [name for name, value in vars(module).items() if isinstance(value, Problem)]
        hint = f"; it has {others[0]} = Problem(...): name it problem" if others else ""
        raise ProblemFileError(f"{path} must define `problem = Problem(...)` at module level{hint}")
    hint = "; it is a function: call it, e.g. problem = build()" if callable(problem) and not isinstance(problem, type) else ""
    raise ProblemFileError(f"{path}: `problem` must be a Problem, got {kind_of(problem)}; define problem = Problem(...){hint}")


def _import_error(path: Path, err: BaseException, module: ModuleType) -> ProblemFileError:
    """The error for a problem file whose import raised ``err``."""
    if isinstance(err, SyntaxError):
        return _syntax_error(path, err)
    where = describe_location(err.__traceback__, path) or str(path)
    if isinstance(err, SystemExit):
        return ProblemFileError(
            f"{where}: the file calls sys.exit() or exit() while being imported; a problem file only defines "
            f"`problem` (and `setup`, `build`): put script code under `if __name__ == '__main__':`"
        )
    if isinstance(err, OSError) and where == str(path):  # the file itself could not be read
        return ProblemFileError(f"{path}: cannot read the file ({err.strerror or err}); check that it exists and is readable")
    if isinstance(err, ModuleNotFoundError):
        return ProblemFileError(f"{where}: no module named {err.name!r}; install it or correct the import")
    if isinstance(err, ImportError):
        return ProblemFileError(f"{where}: {err}; {_import_hint(err)}")
    if isinstance(err, NameError):
        return ProblemFileError(f"{where}: {err}; {_name_hint(err.name, module)}")
    if isinstance(err, (ValueError, TypeError)) and raised_in_pinnkan(err.__traceback__):
        return ProblemFileError(f"{where}: {err}")  # pinnkan's own check: its message names the fix
    return ProblemFileError(f"{where}: {type(err).__name__}: {err}; fix that line (it raised while the file was imported)")


def _syntax_error(path: Path, err: SyntaxError) -> ProblemFileError:
    """File, line and text of a syntax error (``path`` itself, or a module it imports)."""
    file = err.filename or str(path)
    prefix = "" if Path(file).resolve() == path.resolve() else f"{path} imports {file}, which does not compile: "
    if not err.lineno:
        return ProblemFileError(f"{prefix}{file} is not Python source ({err.msg}); give a problem file written in Python")
    text = "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in (err.text or "").rstrip("\r\n"))
    shown = text.lstrip()
    column = (err.offset or 1) - 1 - (len(text) - len(shown))
    caret = f"\n    {' ' * column}^" if 0 <= column <= len(shown) else ""
    fix = "save the file as UTF-8 text" if "codec can't decode" in str(err.msg) else "fix the Python syntax there"
    return ProblemFileError(f"{prefix}{file}, line {err.lineno}: {type(err).__name__}: {err.msg}\n    {shown}{caret}\n{fix}")


def _build_error(path: Path, values: Mapping[str, Any], err: Exception) -> ProblemFileError:
    """The error for a ``build(**values)`` that raised ``err``."""
    where = describe_location(err.__traceback__, path) or str(path)
    if isinstance(err, (ValueError, TypeError, ArithmeticError)):
        return ProblemFileError(f"{path.stem} with {values}: {err} ({where})")
    return ProblemFileError(f"{path.stem} with {values}: build() raised {type(err).__name__}: {err} ({where}); fix build() there")


def _import_hint(err: ImportError) -> str:
    """A close match for a name that a module does not have, or where to look."""
    match = re.match(r"cannot import name '(\w+)' from '([\w.]+)'", str(err))
    source = sys.modules.get(match.group(2)) if match else None
    if match is None or source is None:
        return "check the names imported"
    names = getattr(source, "__all__", None) or [n for n in vars(source) if not n.startswith("_")]
    close = difflib.get_close_matches(match.group(1), names, n=1)
    return f"did you mean {close[0]!r}?" if close else f"{match.group(2)} has {sorted(names)}"


def _name_hint(name: str | None, module: ModuleType) -> str:
    """How to define a name the problem file uses but never defined or imported."""
    usual = {"torch": "import torch", "np": "import numpy as np", "numpy": "import numpy", "math": "import math"}
    if name in usual:
        return f"add `{usual[name]}` at the top of the file"
    import pinnkan  # the package's public names, for `from pinnkan import ...`

    if name in pinnkan.__all__:
        return f"add `from pinnkan import {name}` at the top of the file"
    known = [*vars(module), *pinnkan.__all__, *dir(builtins)]
    close = difflib.get_close_matches(name or "", known, n=1)
    return f"did you mean {close[0]!r}?" if close else "define it, or import it, before that line"
