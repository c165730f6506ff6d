"""Calling the user's functions, and reporting their failures with the function, the line and the fix.

pinnkan calls code the user wrote: a problem's residual, a condition's value, a hard
constraint's parts, an exact solution, a reference. :func:`call_user` runs one and
turns a failure inside it into a ``ValueError`` or ``TypeError`` whose message names
the function, the line of the user's file where it failed and the fix. The common
slips get their own message: numpy (or scipy) applied to a tensor that carries
gradients, and ``math.sin`` or ``float()`` applied to a tensor of many values.

Errors raised by pinnkan itself pass through unchanged (they carry their own fix,
or they are bugs whose traceback should be seen), and so does any ``RuntimeError``
unless asked otherwise: the loss relies on one to fall back from jets to autograd.

Examples
--------
>>> import numpy as np, torch
>>> x = torch.ones(3, requires_grad=True)
>>> call_user("the residual", lambda t: np.sin(t), x)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
TypeError: the residual called numpy on a torch tensor (...); write it with torch functions ...
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
import torch

from ..errors import InputTypeError, InputValueError

__all__ = ["call_user", "describe_location", "kind_of", "raised_in_pinnkan"]

T = TypeVar("T")

_PINNKAN = str(Path(__file__).resolve().parents[1]) + os.sep
_PROBLEMS = _PINNKAN + "problems" + os.sep  # where the built-in problem files are installed
# Code a user's function runs through on its way to an error, but never the place of the slip.
_LIBRARIES = tuple(
    str(Path(p).resolve()) + os.sep
    for p in (Path(torch.__file__).parent, Path(np.__file__).parent, sysconfig.get_paths()["stdlib"])
)

_NUMPY_FIX = "write it with torch functions (use torch.sin, not numpy.sin; torch.where, not numpy.where)"
_MATH_FIX = "write it with torch functions, which act on every point at once (use torch.sin, not math.sin or float())"


def call_user(what: str, function: Callable[..., T], *args: Any, runtime_errors: bool = False) -> T:
    """``function(*args)``, with a failure inside the user's code reported as ValueError/TypeError.

    Parameters
    ----------
    what : str
        The function as the user knows it, e.g. ``"the residual"`` or ``"the exact solution"``.
    function : callable
        The user's function.
    *args
        Its arguments.
    runtime_errors : bool
        Report a ``RuntimeError`` raised in the user's code too. Off where the caller
        itself handles one (the loss falls back from jets to autograd on it).

    Raises
    ------
    TypeError
        The function applied numpy or math to a tensor, or raised a TypeError.
    ValueError
        The function raised anything else in the user's code, or asked the field or the
        coordinates for a name they do not have.
    """
    try:
        return function(*args)
    except Exception as err:
        error = _translate(what, err, args, runtime_errors)
        if error is None:
            raise
        raise error from err


def kind_of(value: object) -> str:
    """What ``value`` is, for a message: its type's name, or for a class a hint to create one."""
    if isinstance(value, type):
        return f"the class {value.__name__} itself (create one: {value.__name__}(...))"
    return type(value).__name__


def describe_location(traceback: TracebackType | None, path: str | os.PathLike[str] | None = None) -> str:
    """``"file.py, line 12"`` for the innermost frame of ``traceback`` in user code (in ``path`` if given); '' if none."""
    frame = _user_frame(traceback, None if path is None else str(Path(path).resolve()))
    return "" if frame is None else f"{frame[0]}, line {frame[1]}"


def _translate(what: str, err: Exception, args: tuple[Any, ...], runtime_errors: bool) -> Exception | None:
    """The error to raise instead of ``err``, or None to let ``err`` through."""
    message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    if isinstance(err, TypeError) and "argument" in message and len(_frames(err.__traceback__)) == 1:  # the call failed
        count = f"{len(args)} argument" + ("s" if len(args) != 1 else "")
        return InputTypeError(f"{what} must take {count}, as pinnkan calls it: {message}")
    where = describe_location(err.__traceback__)
    at = f" ({where})" if where else ""
    ours = raised_in_pinnkan(err.__traceback__)
    if isinstance(err, RuntimeError) and "numpy()" in message and not ours:
        return InputTypeError(f"{what} called numpy on a torch tensor{at}; {_NUMPY_FIX}")
    if "only one element tensors can be converted to Python scalars" in message and not ours:
        return InputTypeError(f"{what} turned a tensor of many points into one number{at}; {_MATH_FIX}")
    if not where:
        return None  # raised by pinnkan or a library with no user code in between
    if ours:
        # The field's own lookups and checks, met inside the user's function: their messages name the fix.
        # Subclasses (JetsUnavailable) pass unchanged: the loss acts on them.
        if isinstance(err, (KeyError, AttributeError)) or type(err) in (ValueError, InputValueError):
            return InputValueError(f"{what}{at}: {message}")
        if type(err) in (TypeError, InputTypeError):
            return InputTypeError(f"{what}{at}: {message}")
        return None
    if isinstance(err, KeyError):
        return InputValueError(f"{what} asked for {message!r}{at}, which is not there{_known_names(args)}; fix the name")
    if isinstance(err, RuntimeError) and not runtime_errors:
        return None
    kind = InputTypeError if isinstance(err, TypeError) else InputValueError
    return kind(f"{what} raised {type(err).__name__}{at}: {message}; fix the function there")


def _known_names(args: tuple[Any, ...]) -> str:
    """The coordinates' names when one of the arguments is the coordinates mapping, else ''."""
    for arg in args:
        if isinstance(arg, Mapping):
            return f" (if it is a coordinate: the coordinates are {tuple(arg)}, e.g. c[{next(iter(arg), 'x')!r}])"
    return ""


def _frames(traceback: TracebackType | None) -> list[tuple[str, int]]:
    """(file, line) of every frame of ``traceback``, outermost first."""
    frames = []
    while traceback is not None:
        frames.append((traceback.tb_frame.f_code.co_filename, traceback.tb_lineno))
        traceback = traceback.tb_next
    return frames


def _is_library(filename: str) -> bool:
    """Whether a frame's file is pinnkan, torch, numpy or the standard library (the built-in problems are user code)."""
    if filename.startswith("<frozen"):
        return True
    resolved = str(Path(filename).resolve())
    if resolved.startswith(_PINNKAN):
        return not resolved.startswith(_PROBLEMS)
    if resolved.startswith(_LIBRARIES[:2]):
        return True
    parts = Path(resolved).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return False  # another installed package: the user's code as far as pinnkan knows
    return resolved.startswith(_LIBRARIES[2:])


def _user_frame(traceback: TracebackType | None, path: str | None) -> tuple[str, int] | None:
    """The innermost frame in ``path``, or (without a path) in user code; None if there is none."""
    for filename, line in reversed(_frames(traceback)):
        if path is not None:
            if filename == path or str(Path(filename).resolve()) == path:
                return filename, line
        elif not _is_library(filename):
            return filename, line
    return None


def raised_in_pinnkan(traceback: TracebackType | None) -> bool:
    """Whether the innermost frame of ``traceback`` is pinnkan's own code (not a problem file)."""
    frames = _frames(traceback)
    if not frames:
        return False
    resolved = str(Path(frames[-1][0]).resolve())
    return resolved.startswith(_PINNKAN) and not resolved.startswith(_PROBLEMS)
