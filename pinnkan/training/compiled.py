"""Running a function through ``torch.compile``, with a warning and the eager function where that fails.

Compilation needs a working compiler toolchain and a Python that TorchDynamo
supports; neither is guaranteed on a user's machine, and a failure there should
cost speed, not the run.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

import torch

from ..pde.transforms import keep_out_of_compilation

__all__ = ["Compiled"]

P = ParamSpec("P")
R = TypeVar("R")


class Compiled(Generic[P, R]):
    """``function`` compiled by ``torch.compile`` on first use; eager from the first failure on.

    Parameters
    ----------
    function : callable
        What to compile (its backward is compiled too when it is differentiated). A
        function or bound method is compiled through its own copy of the code object:
        TorchDynamo keeps the compiled variants of a code object in one cache of
        ``torch._dynamo.config.recompile_limit`` entries (8 by default), so without the
        copy every instance of a class would share it, and the ninth loss of a process
        would silently run uncompiled.

    Attributes
    ----------
    failure : str or None
        Why compilation was given up, or None while it works.
    """

    def __init__(self, function: Callable[P, R]) -> None:
        self._function = function
        self.failure: str | None = None
        try:
            keep_out_of_compilation()
            self._compiled: Callable[P, R] = torch.compile(_with_own_code(function))
        except RuntimeError as err:  # e.g. a Python that TorchDynamo does not support
            self._give_up(err)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.failure is None:
            try:
                return self._compiled(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - any compiler failure; a real error recurs below
                self._give_up(err)
        return self._function(*args, **kwargs)

    def _give_up(self, err: BaseException) -> None:
        self.failure = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        warnings.warn(f"torch.compile is unavailable here ({self.failure}); running eagerly", stacklevel=3)


def _with_own_code(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` (a function or bound method) rebuilt on a copy of its code object; others unchanged."""
    if isinstance(function, types.MethodType):
        return types.MethodType(_with_own_code(function.__func__), function.__self__)  # type: ignore[return-value]
    if not isinstance(function, types.FunctionType):
        return function
    code = function.__code__.replace()
    copy = types.FunctionType(code, function.__globals__, function.__name__, function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return copy  # type: ignore[return-value]
