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

import hashlib
import importlib.resources
import importlib.util
import inspect
import numbers
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..pde.problem import Problem
from .setup import Setup

__all__ = ["ProblemFile", "list_problems", "load_problem"]


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

    Parameters
    ----------
    name_or_path : str or path
        A built-in name (see :func:`list_problems`) or a ``.py`` file.
    **parameters
        Values for the keyword arguments of the file's ``build`` function (the
        others keep their defaults). A file without ``build`` takes none.

    Examples
    --------
    >>> spec = load_problem("burgers1d", nu=0.005)
    >>> spec.parameters["nu"]
    0.005
    """
    text = str(name_or_path)
    path = Path(text)
    if text.endswith(".py") or path.suffix == ".py":
        if not path.is_file():
            raise ValueError(f"no problem file at {path}; check the path")
    else:
        builtin = list_problems()
        if text not in builtin:
            raise ValueError(
                f"unknown problem {text!r}; built-in problems are {sorted(builtin)}, "
                f"or pass a path to a problem file ending in .py"
            )
        path = builtin[text]
    return _load_file(path, parameters)


def _defaults(build: Callable[..., Problem], path: Path) -> dict[str, Any]:
    """The keyword arguments of a problem file's ``build`` and their defaults."""
    defaults = {}
    for name, p in inspect.signature(build).parameters.items():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty:
            raise ValueError(
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
    raise TypeError(f"{what} takes a {type(default).__name__} like its default {default!r}, got {value!r}")


def _load_file(path: Path, parameters: Mapping[str, Any]) -> ProblemFile:
    # A module name per file, registered like any import: tools that look functions
    # up by their module (torch.compile does) find the problem file's.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"pinnkan_problem_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    problem = getattr(module, "problem", None)
    if not isinstance(problem, Problem):
        raise ValueError(f"{path} must define `problem = Problem(...)` at module level")
    build = getattr(module, "build", None)
    if build is None:
        if parameters:
            raise ValueError(f"{path} takes no parameters (it defines no build() function); drop {sorted(parameters)}")
        values: dict[str, Any] = {}
    else:
        if not callable(build):
            raise ValueError(f"{path}: `build` must be a function returning the Problem, got {type(build).__name__}")
        defaults = _defaults(build, path)
        unknown = sorted(set(parameters) - set(defaults))
        if unknown:
            raise ValueError(f"{path.stem} has no parameter {', '.join(map(repr, unknown))}; its parameters are {defaults}")
        values = {**defaults, **{n: _like(v, defaults[n], f"{path.stem}'s parameter {n!r}") for n, v in parameters.items()}}
        # Always built from the values recorded, so the record cannot differ from the problem.
        try:
            problem = build(**values)
        except (ValueError, TypeError, ArithmeticError) as err:
            raise ValueError(f"{path.stem} with {values}: {err}") from None
        if not isinstance(problem, Problem):
            raise ValueError(f"{path}: build() must return a Problem, got {type(problem).__name__}")
        # A file states its reference's error for the defaults; other values leave it unknown.
        stated = problem.reference_error if values == defaults or problem.reference is None else None
        problem = replace(problem, parameters=values, reference_error=stated)
    setup = getattr(module, "setup", None) or Setup()
    if not isinstance(setup, Setup):
        raise ValueError(f"{path}: `setup` must be a Setup, got {type(setup).__name__}")
    return ProblemFile(problem, setup, path, values)
