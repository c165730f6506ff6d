"""The errors pinnkan raises when it refuses its input, told apart from its own bugs.

Every check of pinnkan's (a bad option, a problem that fails its checks, a function of
the user's that fails) raises :class:`InputError`, as :class:`InputValueError` or
:class:`InputTypeError`: they are ``ValueError`` and ``TypeError``, so code that catches
those keeps working. The command line prints an ``InputError`` in one line as the user's
to fix; any other exception is a bug in pinnkan and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "InputTypeError", "InputValueError"]


class InputError(Exception):
    """pinnkan refused its input; the message names the fix."""


class InputValueError(InputError, ValueError):
    """A value pinnkan cannot use (out of range, inconsistent, not found)."""


class InputTypeError(InputError, TypeError):
    """An argument of a kind pinnkan cannot use."""
