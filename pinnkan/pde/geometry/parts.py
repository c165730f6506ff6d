"""Parts of a domain: the interior's name and boundary parts given by a predicate.

A domain names its boundary parts (``"boundary"``, a box's ``"x_min"``, a
space-time's ``"initial"``). :class:`Where` selects a piece of a named part by a
condition on the coordinates, e.g. the left half of a disk's circle.

Examples
--------
>>> import numpy as np
>>> left = Where(lambda c: c["x"] < 0, name="left")
>>> left.select(np.array([[-0.5, 1.0], [0.5, 1.0]]), ("x", "y"))
array([ True, False])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...errors import InputTypeError, InputValueError
from ..user_code import call_user

__all__ = ["INTERIOR", "Where"]

INTERIOR = "interior"

Predicate = Callable[[Mapping[str, np.ndarray]], np.ndarray]


class Where:
    """The points of a named boundary part where a predicate holds.

    Parameters
    ----------
    predicate : callable
        Function of the coordinates by name (a mapping name -> (n,) float64 array)
        returning a boolean array (n,), e.g. ``lambda c: c["x"] < 0``.
    name : str, optional
        Name for loss terms and messages (``"where"`` by default).
    within : str
        The named boundary part to select from (``"boundary"`` by default).
    """

    def __init__(self, predicate: Predicate, *, name: str | None = None, within: str = "boundary") -> None:
        if not callable(predicate):
            raise InputTypeError(
                f"Where takes a predicate over the coordinates, e.g. Where(lambda c: c['x'] < 0), "
                f"got {type(predicate).__name__}"
            )
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise InputValueError(f"the name of a Where part must be an identifier such as 'left', got {name!r}")
        if not isinstance(within, str) or not within or within == INTERIOR:
            raise InputValueError(
                f"Where(within=...) must name a boundary part such as 'boundary' or 'x_min', got {within!r}"
            )
        self.predicate = predicate
        self.name = name if name is not None else "where"
        self.within = within

    def __repr__(self) -> str:
        return f"Where({self.name!r}, within={self.within!r})"

    def select(self, points: np.ndarray, coordinates: tuple[str, ...]) -> np.ndarray:
        """Evaluate the predicate at points (n, dim) with the given coordinate names; bool (n,)."""
        named = {name: points[:, i] for i, name in enumerate(coordinates)}
        mask = np.asarray(call_user(f"the predicate of {self!r}", self.predicate, named, runtime_errors=True))
        if mask.shape == () and mask.dtype == bool:
            return np.full(points.shape[0], bool(mask))
        if mask.dtype != bool or mask.shape != (points.shape[0],):
            raise InputTypeError(
                f"the predicate of {self!r} must return a boolean array of shape ({points.shape[0]},), "
                f"one per point, e.g. c['x'] < 0; got dtype {mask.dtype} and shape {mask.shape}"
            )
        return mask
