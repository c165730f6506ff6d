"""Finding and loading problem files: the built-in ones by name, a user's by path.

A problem file is a Python file that defines ``problem`` (a :class:`~pinnkan.Problem`)
and optionally ``setup`` (a :class:`~pinnkan.Setup` with tuned settings; without
one, every setting is chosen for the problem, see :mod:`pinnkan.run.setup`).
The built-in files ship as the package ``pinnkan.problems`` (the repository's
``problems/`` folder); the library itself never imports them.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from ..pde.problem import Problem
from .setup import Setup

__all__ = ["ProblemFile", "list_problems", "load_problem"]


@dataclass(frozen=True)
class ProblemFile:
    """What a problem file defines."""

    problem: Problem
    setup: Setup
    path: Path


def _builtin_folder() -> Path:
    return Path(str(importlib.resources.files("pinnkan.problems")))


def list_problems() -> dict[str, Path]:
    """Built-in problem names and their files."""
    return {
        p.stem: p for p in sorted(_builtin_folder().glob("*.py")) if not p.name.startswith("_")
    }


def load_problem(name_or_path: str | Path) -> ProblemFile:
    """Load a built-in problem by name (``"heat1d"``) or a problem file by path."""
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
    return _load_file(path)


def _load_file(path: Path) -> ProblemFile:
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
    setup = getattr(module, "setup", None) or Setup()
    if not isinstance(setup, Setup):
        raise ValueError(f"{path}: `setup` must be a Setup, got {type(setup).__name__}")
    return ProblemFile(problem, setup, path)
