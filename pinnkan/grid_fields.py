"""Named fields of a run on a grid, for figures: prediction, residual, estimated error (numpy only).

A :class:`GridFields` holds arrays of the grid's shape, each with the kind of
colour scale it wants: ``"values"`` (a solution: sequential), ``"signed"`` (an
error or a correction: diverging, symmetric about zero) or ``"magnitude"``
(a size such as ``|residual|``: sequential from zero). Points outside the
domain are NaN and ``mask`` marks the points inside. An axis of a single
point is a cut: the grid lies in the plane (or line) where that coordinate
has that value, so a few planes of a 3-D or 4-D domain make a small grid.

Examples
--------
>>> x, y = np.linspace(0, 1, 3), np.linspace(0, 1, 2)
>>> f = GridFields(("x", "y"), (x, y), {"u": np.zeros((3, 2))}, {"u": "values"})
>>> f.shape, f.names
((3, 2), ('u',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .errors import InputTypeError, InputValueError

__all__ = ["GridFields", "KINDS", "HEIGHTS"]

KINDS = ("values", "signed", "magnitude")
# Where figures cut a third space axis without time: fractions of its range (rows of planes).
HEIGHTS = (0.25, 0.5, 0.75)


class GridFields:
    """Arrays on the grid ``coords[0] x coords[1] x ...``, named, each with a colour-scale kind.

    Parameters
    ----------
    axes : sequence of str
        Coordinate names in axis order.
    coords : sequence of numpy.ndarray
        One increasing 1-D array per axis; a single point makes the axis a cut.
    fields : mapping of str to numpy.ndarray
        Name (shown as a title, e.g. ``"u"``, ``"|residual pde|"``, ``"estimated error in u"``)
        to an array of the grid's shape; NaN outside the domain.
    kinds : mapping of str to str
        For every field, one of :data:`KINDS`.
    mask : numpy.ndarray of bool, optional
        True at grid points inside the domain; None: every point is.
    time_axis : str, optional
        The axis that is time, if any.
    """

    def __init__(
        self,
        axes: Sequence[str],
        coords: Sequence[np.ndarray],
        fields: Mapping[str, np.ndarray],
        kinds: Mapping[str, str],
        *,
        mask: np.ndarray | None = None,
        time_axis: str | None = None,
    ) -> None:
        axes = tuple(axes)
        coords = tuple(np.asarray(c, dtype=np.float64) for c in coords)
        if len(axes) != len(coords) or len(set(axes)) != len(axes):
            raise InputValueError(f"give one distinct axis name per coordinate array, got {axes}")
        for name, c in zip(axes, coords):
            if c.ndim != 1 or c.size < 1 or not np.all(np.diff(c) > 0) or not np.all(np.isfinite(c)):
                raise InputValueError(f"coordinates of {name!r} must be a finite increasing 1-D array of >= 1 point")
        if all(c.size == 1 for c in coords):
            raise InputValueError("every axis has a single point; give at least one axis two or more points")
        shape = tuple(c.size for c in coords)
        if not fields:
            raise InputValueError("give at least one field")
        arrays = {}
        for name, values in fields.items():
            if not isinstance(name, str) or not name:
                raise InputTypeError(f"field names must be non-empty strings (shown as titles), got {name!r}")
            values = np.asarray(values, dtype=np.float64)
            if values.shape != shape:
                raise InputValueError(f"field {name!r} has shape {values.shape}; the grid needs {shape}")
            kind = kinds.get(name)
            if kind not in KINDS:
                raise InputValueError(f"field {name!r} needs a kind, one of {KINDS}, got {kind!r}")
            arrays[name] = values
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != shape:
                raise InputValueError(f"the mask has shape {mask.shape}; the grid needs {shape}")
        if time_axis is not None and time_axis not in axes:
            raise InputValueError(f"time axis {time_axis!r} is not one of the axes {axes}")
        self.axes = axes
        self.coords = coords
        self.fields = arrays
        self.kinds = {name: kinds[name] for name in arrays}
        self.mask = mask
        self.time_axis = time_axis

    def __repr__(self) -> str:
        return f"GridFields(axes={self.axes}, shape={self.shape}, fields={self.names})"

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape, one entry per axis."""
        return tuple(c.size for c in self.coords)

    @property
    def names(self) -> tuple[str, ...]:
        """The fields' names, in drawing order."""
        return tuple(self.fields)

    @property
    def inside(self) -> np.ndarray:
        """Boolean array of the grid's shape: True inside the domain."""
        return np.ones(self.shape, dtype=bool) if self.mask is None else self.mask

    def points(self) -> np.ndarray:
        """Every grid point, shape (N, len(axes)), in the order of ``fields[name].reshape(-1)``."""
        mesh = np.meshgrid(*self.coords, indexing="ij")
        return np.stack([m.reshape(-1) for m in mesh], axis=1)

    def select(self, names: Sequence[str]) -> GridFields:
        """The same grid with only the fields ``names``, in that order."""
        if isinstance(names, str):
            raise InputTypeError(f"select takes a sequence of field names, e.g. [{names!r}]")
        unknown = [n for n in names if n not in self.fields]
        if unknown or not names:
            raise InputValueError(f"select one or more of the fields {self.names}, got {list(names)}")
        return GridFields(
            self.axes, self.coords, {n: self.fields[n] for n in names}, self.kinds, mask=self.mask, time_axis=self.time_axis
        )

    def with_field(self, name: str, values: np.ndarray, kind: str) -> GridFields:
        """The same grid with one more field (or ``name`` replaced): e.g. an error estimate at :meth:`points`.

        ``values`` has the grid's shape, or one value per point of :meth:`points`;
        points outside the domain are set to NaN.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1 and values.size == int(np.prod(self.shape)):
            values = values.reshape(self.shape)
        fields = {**self.fields, name: np.where(self.inside, values, np.nan) if values.shape == self.shape else values}
        return GridFields(
            self.axes, self.coords, fields, {**self.kinds, name: kind}, mask=self.mask, time_axis=self.time_axis
        )
