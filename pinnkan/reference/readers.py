"""Reference solutions from files: mesh files, text tables (COMSOL), ``.npz``, MATLAB ``.mat``, netCDF.

:func:`read_reference` picks the reader by the file's suffix:

- mesh files that ``meshio`` reads (``.vtu``, ``.vtk``, ``.xdmf``, ``.msh``, ...; extra
  ``pinnkan[mesh]``): the nodes and their point data by name. A vector field's
  components are ``"name[0]"``, ``"name[1]"``, ... An XDMF time series holds a space
  mesh and values per time; a single mesh of a space-time problem holds points
  whose last columns are all the coordinates, time included;
- text tables (``.txt``, ``.csv``, ``.dat``, ``.tsv``): one row per point, one column
  per coordinate and per value. Header lines start with ``%`` (COMSOL) or ``#``, the
  last one naming the columns (``% x  y  T (K)``); a first line of names also
  works. Units in parentheses are dropped. COMSOL's columns of a value at several
  times (``T (K) @ t=0.1``) give a space-time reference;
- ``.npz`` and ``.mat`` (scipy.io): one array per coordinate, named by it, and one
  per value. Arrays of the coordinates' lengths as a grid (values of shape
  ``(len(x), len(t))``) give a grid; columns of equal length give scattered points;
  space columns of length M, a time array of length T and values (T, M) give snapshots;
- netCDF (``.nc``; extra ``pinnkan[xarray]``): data variables over dimension
  coordinates named like the problem's coordinates: a grid.

File fields are matched to the problem's outputs by name; ``fields={"u": "T"}``
maps an output to a field of another name. A grid's NaN values mark points
outside the domain; any other NaN is an error.

Examples
--------
>>> ref = read_reference("solution.vtu", axes=("x", "y"), fields={"u": "temperature"})  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputTypeError, InputValueError
from ..extras import require
from .grid import GridSolution
from .scattered import ScatteredSolution

__all__ = ["ReferenceFile", "read_reference", "MESH_SUFFIXES", "TEXT_SUFFIXES", "NETCDF_SUFFIXES"]

TEXT_SUFFIXES = (".txt", ".csv", ".dat", ".tsv")
NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")
# The mesh formats of meshio that hold point data (meshio reads them all by suffix).
MESH_SUFFIXES = (".vtu", ".vtk", ".xdmf", ".xmf", ".msh", ".med", ".mdpa", ".cgns", ".h5m", ".f3grid", ".su2",
                 ".inp", ".ugrid", ".ply", ".obj", ".off", ".stl", ".mesh", ".meshb", ".nas", ".bdf", ".tec")

Solution = GridSolution | ScatteredSolution

# A COMSOL column name: a name, maybe a unit in parentheses, maybe "@ t=value".
_COLUMN = re.compile(r"^(?P<name>.+?)(?:\s*\((?P<unit>[^()]*)\))?(?:\s*@\s*(?P<time>\w+)\s*=\s*(?P<value>\S+))?$")


@dataclass(frozen=True)
class ReferenceFile:
    """A problem's reference in a file, read when the run compares: ``Problem(reference=ReferenceFile(...))``.

    Parameters
    ----------
    path : path
        The file (see :func:`read_reference`); a relative path in a problem file is
        taken relative to that file's folder.
    fields : mapping of str to str, optional
        Output name -> the file's field name, for fields not named like the outputs.

    Examples
    --------
    >>> ReferenceFile("solution.vtu", fields={"u": "T"}).fields
    {'u': 'T'}
    """

    path: Path
    fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)):
            raise InputTypeError(f"ReferenceFile takes the path of a file, got {type(self.path).__name__}")
        object.__setattr__(self, "path", Path(self.path))
        if not isinstance(self.fields, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.fields.items()):
            raise InputTypeError(f"fields must map output names to the file's field names, e.g. {{'u': 'T'}}, got {self.fields!r}")
        object.__setattr__(self, "fields", dict(self.fields))

    def read(self, axes: Sequence[str], outputs: Sequence[str] | None = None, time_axis: str | None = None) -> Solution:
        """:func:`read_reference` of this file for a problem of these coordinates and outputs."""
        return read_reference(self.path, axes=axes, outputs=outputs, fields=self.fields, time_axis=time_axis)


def read_reference(
    path: str | os.PathLike[str],
    *,
    axes: Sequence[str],
    outputs: Sequence[str] | None = None,
    fields: Mapping[str, str] | None = None,
    time_axis: str | None = None,
) -> Solution:
    """Read a reference solution from a file.

    Parameters
    ----------
    path : path
        The file; its suffix chooses the reader (see the module docstring).
    axes : sequence of str
        The problem's coordinates in order, time included (``problem.coordinates``).
    outputs : sequence of str, optional
        The outputs to read (``problem.outputs``); None: every field of the file, each
        under its own name.
    fields : mapping of str to str, optional
        Output name -> the file's field name, for fields named otherwise.
    time_axis : str, optional
        Which of ``axes`` is time (``problem.time``), for files of values per time.

    Returns
    -------
    GridSolution or ScatteredSolution
        A grid for gridded files (netCDF, ``.npz``/``.mat`` arrays over the axes),
        scattered points otherwise.

    Raises
    ------
    ValueError
        A file that does not exist or cannot be read, fields that do not match the
        outputs, a mesh of the wrong dimension, NaN values; each message names the fix.
    """
    path = Path(path)
    axes = tuple(axes)
    if not axes or not all(isinstance(a, str) for a in axes):
        raise InputTypeError(f"axes must be the problem's coordinate names, e.g. ('x', 't'), got {axes!r}")
    if time_axis is not None and time_axis not in axes:
        raise InputValueError(f"time_axis {time_axis!r} is not one of the axes {axes}")
    if fields is not None and (not isinstance(fields, Mapping)
                               or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())):
        raise InputTypeError(f"fields must map output names to the file's field names, e.g. {{'u': 'T'}}, got {fields!r}")
    if not path.is_file():
        raise InputValueError(f"reference file {path} does not exist; give the path of a mesh, table, .npz, .mat or .nc file")
    wanted = _Wanted(tuple(outputs) if outputs is not None else None, dict(fields or {}), path)
    suffix = path.suffix.lower()
    source = f"file: {path.name}"
    if suffix in TEXT_SUFFIXES:
        return _read_text(path, axes, time_axis, wanted, source)
    if suffix in (".npz", ".mat"):
        arrays = _npz(path) if suffix == ".npz" else _mat(path)
        return _from_arrays(arrays, axes, time_axis, wanted, source, path)
    if suffix in NETCDF_SUFFIXES:
        return _read_netcdf(path, axes, wanted, source)
    if suffix in MESH_SUFFIXES:
        return _read_mesh(path, axes, time_axis, wanted, source)
    raise InputValueError(
        f"{path.name}: pinnkan reads references from mesh files ({', '.join(MESH_SUFFIXES[:4])}, ...), text tables "
        f"({', '.join(TEXT_SUFFIXES)}), .npz, .mat and netCDF ({', '.join(NETCDF_SUFFIXES[:2])}); convert it to one of those"
    )


class _Wanted:
    """Which of a file's fields become which outputs."""

    def __init__(self, outputs: tuple[str, ...] | None, fields: dict[str, str], path: Path) -> None:
        if outputs is not None:
            unknown = sorted(set(fields) - set(outputs))
            if unknown:
                raise InputValueError(f"fields maps {unknown}, which are not outputs of the problem; its outputs are {outputs}")
        self.outputs, self.fields, self.path = outputs, fields, path

    def pick(self, available: Sequence[str]) -> dict[str, str]:
        """Output name -> file field name."""
        available = list(available)
        if self.outputs is None:  # every field, under its own name or the one ``fields`` gives it
            renamed = set(self.fields.values())
            chosen = {**{name: name for name in available if name not in renamed}, **self.fields}
        else:
            chosen = {o: self.fields.get(o, o) for o in self.outputs if o in self.fields or o in available}
            if not chosen and len(self.outputs) == 1 and len(available) == 1:
                chosen = {self.outputs[0]: available[0]}  # one output, one field: whatever its name
        missing = {o: f for o, f in chosen.items() if f not in available}
        if not chosen or missing:
            what = f"no field named {sorted(missing.values())}" if missing else "no field named like an output"
            outs = "" if self.outputs is None else f"; the problem's outputs are {list(self.outputs)}"
            raise InputValueError(
                f"{self.path.name} has {what}: its fields are {available}{outs}; map them with "
                f"fields={{'u': 'T'}} (on the command line --field u=T)"
            )
        return chosen


def _read_text(path: Path, axes: tuple[str, ...], time_axis: str | None, wanted: _Wanted, source: str) -> Solution:
    lines = path.read_text(errors="replace").splitlines()
    header = [ln.lstrip("%#").strip() for ln in lines if ln.lstrip().startswith(("%", "#"))]
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("%", "#"))]
    if not body:
        raise InputValueError(f"{path.name} holds no rows of numbers; give one row per point")
    delimiter = "," if "," in body[0] else None  # else any run of spaces and tabs
    if not _numeric(body[0], delimiter):  # a first line of names
        header.append(body.pop(0))
    try:
        data = np.loadtxt(body, delimiter=delimiter, ndmin=2)
    except ValueError as err:
        raise InputValueError(f"{path.name}: a row is not numbers ({err}); keep header lines behind % or #") from None
    names = _column_names(header, data.shape[1], delimiter)
    if names is None:
        raise InputValueError(
            f"{path.name}: no header line names its {data.shape[1]} columns; add one, e.g. '% {'  '.join(axes)}  u'"
        )
    parsed = [_COLUMN.match(n) for n in names]
    plain = [m.group("name").strip() if m else n for m, n in zip(parsed, names)]
    timed = [(m.group("name").strip(), float(m.group("value"))) if m and m.group("time") else None for m in parsed]
    columns = {n: data[:, i] for i, n in enumerate(plain) if timed[i] is None}
    if any(timed):  # COMSOL: a value column per time
        if time_axis is None:
            raise InputValueError(f"{path.name} has values per time ('@ t=...'); the problem is stationary")
        space = [a for a in axes if a != time_axis]
        _need(columns, space, path)
        series: dict[str, dict[float, np.ndarray]] = {}
        for i, entry in enumerate(timed):
            if entry is not None:
                series.setdefault(entry[0], {})[entry[1]] = data[:, i]
        chosen = wanted.pick(list(series))
        times = np.array(sorted(series[next(iter(chosen.values()))]))
        values = {}
        for out, name in chosen.items():
            if sorted(series[name]) != times.tolist():
                raise InputValueError(f"{path.name}: field {name!r} is given at other times than the others; give each at all")
            values[out] = np.stack([series[name][t] for t in times])
        return ScatteredSolution.from_snapshots(axes, np.stack([columns[a] for a in space], axis=1), times, values,
                                                time_axis=time_axis, source=source)
    _need(columns, axes, path)
    chosen = wanted.pick([n for n in columns if n not in axes])
    points = np.stack([columns[a] for a in axes], axis=1)
    return ScatteredSolution(axes, points, {o: columns[f] for o, f in chosen.items()}, source=source)


def _numeric(line: str, delimiter: str | None) -> bool:
    try:
        [float(v) for v in line.split(delimiter) if v.strip()]
    except ValueError:
        return False
    return True


def _column_names(header: list[str], count: int, delimiter: str | None) -> list[str] | None:
    """The names of ``count`` columns from the last header line that has that many."""
    for line in reversed(header):
        split = line.split(delimiter) if delimiter else re.split(r"\s{2,}|\t", line)
        for parts in (split, line.split(), _joined(line.split())):
            parts = [p.strip() for p in parts if p.strip()]
            if len(parts) == count:
                return parts
    return None


def _joined(tokens: list[str]) -> list[str]:
    """Names split at single spaces put together again: ``T (K) @ t=0.1`` is one name."""
    names: list[str] = []
    for token in tokens:
        if names and (token.startswith(("(", "@")) or names[-1].endswith("@")):
            names[-1] += " " + token
        else:
            names.append(token)
    return names


def _need(columns: Mapping[str, np.ndarray], axes: Sequence[str], path: Path) -> None:
    missing = [a for a in axes if a not in columns]
    if missing:
        raise InputValueError(
            f"{path.name} has no column {missing[0]!r}: its columns are {list(columns)}; name the coordinate columns "
            f"{list(axes)} in the header"
        )


def _npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError) as err:
        raise InputValueError(f"{path.name} is not a readable .npz file ({err}); write it with numpy.savez") from None


def _mat(path: Path) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        data = loadmat(path)
    except NotImplementedError:
        raise InputValueError(f"{path.name} is a MATLAB v7.3 (HDF5) file; save it with save(..., '-v7')") from None
    except (OSError, ValueError, TypeError) as err:
        raise InputValueError(f"{path.name} is not a readable .mat file ({err}); save it from MATLAB with '-v7'") from None
    return {k: np.asarray(v) for k, v in data.items() if not k.startswith("__")}


def _from_arrays(arrays: dict[str, np.ndarray], axes: tuple[str, ...], time_axis: str | None, wanted: _Wanted,
                 source: str, path: Path) -> Solution:
    """``.npz``/``.mat`` variables: coordinates by name, values by name (grid, columns or snapshots)."""
    arrays = {k: np.squeeze(v) if v.ndim > 1 and 1 in v.shape else v for k, v in arrays.items()}
    _need(arrays, axes, path)
    numeric = {k: v for k, v in arrays.items() if k not in axes and np.issubdtype(v.dtype, np.number)}
    chosen = wanted.pick(list(numeric))
    values = {o: np.asarray(numeric[f], dtype=np.float64) for o, f in chosen.items()}
    coords = [np.asarray(arrays[a], dtype=np.float64).reshape(-1) for a in axes]
    first = next(iter(values.values()))
    grid_shape = tuple(c.size for c in coords)
    if len(axes) > 1 and all(v.shape == grid_shape for v in values.values()):
        return _grid(axes, coords, values, source)
    if all(v.ndim == 1 and v.size == coords[0].size for v in values.values()) and len({c.size for c in coords}) == 1:
        return ScatteredSolution(axes, np.stack(coords, axis=1), values, source=source)
    if time_axis is not None:
        space = [c for a, c in zip(axes, coords) if a != time_axis]
        times = coords[axes.index(time_axis)]
        if len({c.size for c in space}) == 1 and first.shape == (times.size, space[0].size):
            return ScatteredSolution.from_snapshots(axes, np.stack(space, axis=1), times, values,
                                                    time_axis=time_axis, source=source)
    shapes = {o: v.shape for o, v in values.items()}
    raise InputValueError(
        f"{path.name}: values of shapes {shapes} fit neither the grid {grid_shape} of the coordinate arrays nor "
        f"one value per point; give values of shape {grid_shape}, or coordinate and value columns of one length"
    )


def _grid(axes: tuple[str, ...], coords: list[np.ndarray], values: dict[str, np.ndarray], source: str) -> GridSolution:
    """A grid reference whose NaN values mark points outside the domain (checked against it when compared)."""
    finite = np.logical_and.reduce([np.isfinite(v) for v in values.values()])
    mask = None if finite.all() else finite
    return GridSolution(axes, coords, values, source, mask=mask)


def _read_netcdf(path: Path, axes: tuple[str, ...], wanted: _Wanted, source: str) -> GridSolution:
    xarray = require("xarray", f"reading {path.suffix} files")
    try:
        with xarray.open_dataset(path) as data:
            data.load()
            missing = [a for a in axes if a not in data.coords]
            if missing:
                raise InputValueError(
                    f"{path.name} has no coordinate {missing[0]!r}: its coordinates are {list(data.coords)}; the problem's "
                    f"are {list(axes)}"
                )
            gridded = [n for n, v in data.data_vars.items() if set(v.dims) == set(axes)]
            chosen = wanted.pick(gridded)
            values = {o: np.asarray(data[f].transpose(*axes).values, dtype=np.float64) for o, f in chosen.items()}
            coords = [np.asarray(data[a].values, dtype=np.float64) for a in axes]
    except (OSError, ValueError) as err:
        if isinstance(err, InputValueError):
            raise
        raise InputValueError(f"{path.name} is not a readable netCDF file ({err})") from None
    return _grid(axes, coords, values, source)


def _read_mesh(path: Path, axes: tuple[str, ...], time_axis: str | None, wanted: _Wanted, source: str) -> Solution:
    meshio = require("meshio", f"reading {path.suffix} files")
    if path.suffix.lower() in (".xdmf", ".xmf") and time_axis is not None:
        series = _xdmf_series(meshio, path)
        if series is not None:
            points, cells, times, data = series
            space = tuple(a for a in axes if a != time_axis)
            chosen = wanted.pick(list(data[0]))
            values = {o: np.stack([step[f] for step in data]) for o, f in chosen.items()}
            return ScatteredSolution.from_snapshots(axes, _columns(points, len(space), space, path), times, values,
                                                    time_axis=time_axis, source=source)
    try:
        mesh = meshio.read(path)
    except Exception as err:  # meshio raises many kinds for a file it cannot read
        raise InputValueError(f"{path.name} is not a mesh file meshio can read ({type(err).__name__}: {err})") from None
    data = _point_data(mesh.point_data, mesh.points.shape[0])
    if not data:
        kind = "cell data only" if mesh.cell_data else "no data"
        raise InputValueError(f"{path.name} holds {kind}; export the solution as point data (values at the nodes)")
    chosen = wanted.pick(list(data))
    points = _columns(mesh.points, len(axes), axes, path)
    triangles = None
    if len(axes) == 2:
        blocks = [c.data for c in mesh.cells if c.type == "triangle"]
        triangles = np.concatenate(blocks).astype(np.int64) if blocks else None
    return ScatteredSolution(axes, points, {o: data[f] for o, f in chosen.items()}, source=source, triangles=triangles)


def _xdmf_series(meshio: object, path: Path) -> tuple[np.ndarray, object, np.ndarray, list[dict[str, np.ndarray]]] | None:
    """An XDMF time series: space points, cells, times and point data per time; None for a single mesh."""
    try:
        with meshio.xdmf.TimeSeriesReader(path) as reader:  # type: ignore[attr-defined]
            points, cells = reader.read_points_cells()
            if reader.num_steps == 0:
                return None
            times, data = [], []
            for k in range(reader.num_steps):
                t, point_data, _ = reader.read_data(k)
                times.append(float(t))
                data.append(_point_data(point_data, points.shape[0]))
    except Exception:  # not a time series: read as one mesh
        return None
    return points, cells, np.asarray(times), data


def _point_data(point_data: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Scalar point data by name; a vector's components as ``name[i]``."""
    out = {}
    for name, array in point_data.items():
        if name.startswith("gmsh:"):  # Gmsh's bookkeeping (entity tags of the nodes), not a field
            continue
        array = np.asarray(array, dtype=np.float64)
        if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1):
            out[name] = array.reshape(n)
        elif array.ndim == 2:
            out.update({f"{name}[{i}]": array[:, i] for i in range(array.shape[1])})
    return out


def _columns(points: np.ndarray, d: int, axes: Sequence[str], path: Path) -> np.ndarray:
    """The first ``d`` columns of a mesh's points, the others checked to be flat."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape[1] < d:
        raise InputValueError(
            f"{path.name} is a {points.shape[1]}-D mesh; the problem needs points in {d} coordinates {tuple(axes)}"
        )
    extra = points[:, d:]
    if extra.size and np.ptp(extra, axis=0).max() > 0:
        raise InputValueError(
            f"{path.name} is a mesh in more than {d} dimensions (its points vary in column {d + 1}); the problem has "
            f"coordinates {tuple(axes)}: give a {d}-D mesh"
        )
    flat = [a for i, a in enumerate(axes) if np.ptp(points[:, i]) == 0]
    if flat and points.shape[0] > 1:
        raise InputValueError(
            f"{path.name}: the mesh's points do not vary in {flat} (a mesh of fewer dimensions than the problem's "
            f"coordinates {tuple(axes)}); give a {d}-D mesh"
        )
    return points[:, :d]
