"""Named values at points written to the files that :mod:`pinnkan.reference.readers` reads back.

A :class:`PointTable` is what a file holds: points (a whole grid, or scattered) and
named values at them. :func:`write_table` writes one by the file's suffix, whole or
not at all (into a temporary file of the same folder, then renamed):

- mesh files through ``meshio`` (extra ``pinnkan[mesh]``): a space-time table with
  the same space points at every time becomes an XDMF time series (``.xdmf``, data
  inline, no HDF5 file beside it); any other table one mesh whose points are all
  the coordinates (time included), with triangles in 2-D, lines in 1-D and single
  vertices otherwise;
- text tables in COMSOL's layout (``%`` header lines; a column per time of each
  value when the space points repeat at every time), 17 significant digits;
- ``.npz`` and ``.mat``: the coordinate arrays by name and the values (grids as
  arrays over them, snapshots as (T, M), anything else as columns);
- netCDF through ``xarray`` (extra ``pinnkan[xarray]``): grids only.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay

from ..errors import InputValueError
from ..extras import require
from ..files import atomic_write
from .grid import GridSolution
from .readers import MESH_SUFFIXES, NETCDF_SUFFIXES, TEXT_SUFFIXES
from .scattered import ScatteredSolution

__all__ = ["PointTable", "write_table", "write_reference"]


@dataclass(frozen=True)
class PointTable:
    """Named values at points, as a file holds them.

    Attributes
    ----------
    axes : tuple of str
        Coordinate names, time included.
    points : numpy.ndarray
        Shape (N, len(axes)).
    fields : mapping of str to numpy.ndarray
        Name -> (N,) values (NaN allowed: outside the domain, say).
    coords : tuple of numpy.ndarray or None
        When the points are the whole grid ``coords[0] x coords[1] x ...`` (last axis
        fastest): its coordinate arrays.
    time_axis : str or None
        Which axis is time.
    triangles : numpy.ndarray or None
        (K, 3) triangles for meshes: of the points of a two-axis table, or of the space
        points of a table of two space axes and time (in the order of :meth:`snapshots`).
    """

    axes: tuple[str, ...]
    points: np.ndarray
    fields: Mapping[str, np.ndarray]
    coords: tuple[np.ndarray, ...] | None = None
    time_axis: str | None = None
    triangles: np.ndarray | None = None

    @classmethod
    def of(cls, solution: GridSolution | ScatteredSolution, *, time_axis: str | None = None) -> PointTable:
        """A reference's points and values (a grid's points outside its mask hold NaN)."""
        time_axis = time_axis if time_axis in solution.axes else None
        if isinstance(solution, GridSolution):
            inside = solution.inside.reshape(-1)
            fields = {n: np.where(inside, v.reshape(-1), np.nan) for n, v in solution.outputs.items()}
            return cls(solution.axes, solution.points(), fields, solution.coords, time_axis)
        return cls(solution.axes, solution.points, dict(solution.outputs), None, time_axis, solution.triangles)

    def at_points(self) -> PointTable:
        """The table without the points where every value is NaN (a grid's points outside the domain)."""
        keep = ~np.logical_and.reduce([np.isnan(v) for v in self.fields.values()])
        if keep.all():
            return self
        return PointTable(self.axes, self.points[keep], {n: v[keep] for n, v in self.fields.items()}, None,
                          self.time_axis)

    def snapshots(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None:
        """``(times (T,), space points (M, d - 1), name -> values (T, M))`` when every time has the same space points."""
        if self.time_axis is None:
            return None
        t = self.axes.index(self.time_axis)
        space = [i for i in range(len(self.axes)) if i != t]
        series = ScatteredSolution(self.axes, self.points, {"_": np.zeros(len(self.points))}).snapshots(self.time_axis)
        if series is None:
            return None
        times, which = series
        order = np.lexsort([*(self.points[:, i] for i in reversed(space)), which])
        m = len(self.points) // times.size
        space_points = self.points[order[:m]][:, space]
        return times, space_points, {n: v[order].reshape(times.size, m) for n, v in self.fields.items()}


def write_reference(solution: GridSolution | ScatteredSolution, path: str | os.PathLike[str], *,
                    time_axis: str | None = None) -> Path:
    """Write a reference solution to ``path`` (format by suffix, see the module docstring); returns the path.

    :func:`~pinnkan.reference.readers.read_reference` reads it back to the same values.
    """
    return write_table(PointTable.of(solution, time_axis=time_axis), path)


def write_table(table: PointTable, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` to ``path``, its format chosen by the suffix; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.parent.is_dir():
        raise InputValueError(f"folder {path.parent} does not exist; create it or write elsewhere")
    if suffix in TEXT_SUFFIXES:
        atomic_write(path, _text(table.at_points(), delimiter="," if suffix == ".csv" else None))
    elif suffix == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, **_arrays(table))
        atomic_write(path, buffer.getvalue())
    elif suffix == ".mat":
        from scipy.io import savemat

        buffer = io.BytesIO()
        savemat(buffer, _arrays(table))
        atomic_write(path, buffer.getvalue())
    elif suffix in NETCDF_SUFFIXES:
        _netcdf(table, path)
    elif suffix in MESH_SUFFIXES:
        _mesh(table.at_points(), path)
    else:
        raise InputValueError(
            f"{path.name}: pinnkan writes mesh files ({', '.join(MESH_SUFFIXES[:4])}, ...), text tables "
            f"({', '.join(TEXT_SUFFIXES)}), .npz, .mat and netCDF ({', '.join(NETCDF_SUFFIXES[:2])}); pick one of those suffixes"
        )
    return path


def _text(table: PointTable, delimiter: str | None) -> str:
    """COMSOL's layout: ``%`` header lines, the last naming the columns."""
    series = table.snapshots()
    if series is not None:
        times, space_points, values = series
        space = [a for a in table.axes if a != table.time_axis]
        names = [*space, *(f"{n} @ {table.time_axis}={t!r}" for n in values for t in times.tolist())]
        data = np.column_stack([space_points, *(v.T for v in values.values())])
    else:
        names = [*table.axes, *table.fields]
        data = np.column_stack([table.points, *table.fields.values()])
    sep = delimiter or "  "
    head = ["% Written by pinnkan", f"% Nodes: {data.shape[0]}", "% " + sep.join(names)]
    body = io.StringIO()
    np.savetxt(body, data, fmt="%.17g", delimiter=sep)
    return "\n".join(head) + "\n" + body.getvalue()


def _arrays(table: PointTable) -> dict[str, np.ndarray]:
    if table.coords is not None and len(table.axes) > 1:
        shape = tuple(c.size for c in table.coords)
        return {**dict(zip(table.axes, table.coords)), **{n: v.reshape(shape) for n, v in table.fields.items()}}
    series = table.snapshots()
    if series is not None:
        times, space_points, values = series
        space = [a for a in table.axes if a != table.time_axis]
        return {table.time_axis: times, **{a: space_points[:, i] for i, a in enumerate(space)}, **values}  # type: ignore[dict-item]
    return {**{a: table.points[:, i] for i, a in enumerate(table.axes)}, **dict(table.fields)}


def _netcdf(table: PointTable, path: Path) -> None:
    xarray = require("xarray", "writing netCDF files")
    if table.coords is None:
        raise InputValueError(
            f"{path.name}: netCDF holds values on a grid, and these are at scattered points; write .vtu, .npz or a text table"
        )
    shape = tuple(c.size for c in table.coords)
    data = xarray.Dataset(
        {n: (table.axes, v.reshape(shape)) for n, v in table.fields.items()},
        coords={a: c for a, c in zip(table.axes, table.coords)},
        attrs={"source": "pinnkan"},
    )
    with _replacing(path) as temporary:
        data.to_netcdf(temporary)


def _mesh(table: PointTable, path: Path) -> None:
    meshio = require("meshio", f"writing {path.suffix} files")
    series = table.snapshots() if path.suffix.lower() in (".xdmf", ".xmf") else None
    with _replacing(path) as temporary:
        if series is not None:
            times, space_points, values = series
            with meshio.xdmf.TimeSeriesWriter(temporary, data_format="XML") as writer:
                writer.write_points_cells(_xyz(space_points), _cells(space_points, table.triangles))
                for k, t in enumerate(times):
                    writer.write_data(float(t), point_data={n: v[k] for n, v in values.items()})
            return
        if table.points.shape[1] > 3:
            raise InputValueError(
                f"{path.name}: a mesh file holds points of at most 3 coordinates; these have {table.points.shape[1]} "
                f"{table.axes}: write .xdmf (a time series) or .npz"
            )
        mesh = meshio.Mesh(_xyz(table.points), _cells(table.points, table.triangles),
                           point_data={n: np.asarray(v) for n, v in table.fields.items()})
        if path.suffix.lower() in (".xdmf", ".xmf"):
            meshio.xdmf.write(temporary, mesh, data_format="XML")  # one file: no HDF5 file beside it
        else:  # the format from the suffix, which the temporary file shares (.msh: Gmsh's, not ANSYS's)
            meshio.write(temporary, mesh, file_format="gmsh" if path.suffix.lower() == ".msh" else None)


def _xyz(points: np.ndarray) -> np.ndarray:
    """Points padded to three columns, as ParaView wants them."""
    return np.column_stack([points, np.zeros((points.shape[0], 3 - points.shape[1]))]) if points.shape[1] < 3 else points


def _cells(points: np.ndarray, triangles: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """Lines along one axis, triangles in a plane (Delaunay's unless given), single vertices otherwise."""
    n, d = points.shape
    if d == 1 and n > 1:
        order = np.argsort(points[:, 0], kind="stable")
        return [("line", np.column_stack([order[:-1], order[1:]]))]
    if d == 2 and (triangles is not None or n >= 3):
        try:
            return [("triangle", triangles if triangles is not None else Delaunay(points).simplices)]
        except Exception:  # collinear points: no triangles
            pass
    return [("vertex", np.arange(n)[:, None])]


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that becomes ``path`` when the block ends without an error."""
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)

