"""References in files: every format written and read back gives the built-in reference's errors; bad files say the fix."""

import math
import sys

import numpy as np
import pytest
import torch
from formula_model import FormulaModel

from pinnkan import ScatteredSolution, load_problem, read_reference
from pinnkan.compare import compare, reference_solution
from pinnkan.errors import MissingExtra
from pinnkan.reference.writers import write_reference

FORMATS = (".vtu", ".xdmf", ".msh", ".vtk", ".txt", ".csv", ".npz", ".mat", ".nc")
PI = math.pi


def _model(problem):
    # a fixed formula near the solution, so that the error is a definite number of a few per cent
    if problem.time is None:
        return FormulaModel(lambda p: torch.sin(PI * p[:, 0]) * torch.sin(PI * p[:, 1]) * 0.1 + 0.01 * p[:, 0])
    return FormulaModel(lambda p: torch.sin(PI * p[:, 0]) * torch.exp(-p[:, 1]))


@pytest.mark.parametrize("name", ["heat1d", "poisson_lshape"])
def test_every_format_round_trips_to_the_same_errors(name, tmp_path):
    problem = load_problem(name).problem
    built_in = reference_solution(problem)
    model = _model(problem)
    expected = compare(model, built_in, outputs=problem.outputs, time_axis=problem.time)
    for suffix in FORMATS:
        path = write_reference(built_in, tmp_path / f"ref{suffix}", time_axis=problem.time)
        back = read_reference(path, axes=problem.coordinates, outputs=problem.outputs, time_axis=problem.time)
        got = compare(model, back, outputs=problem.outputs, time_axis=problem.time)
        assert abs(got.rel_l2 - expected.rel_l2) <= 1e-12 * expected.rel_l2, suffix
        assert got.linf == pytest.approx(expected.linf, rel=1e-12), suffix
        if problem.time is not None:  # the same time slices, whatever the format
            np.testing.assert_allclose(got.times, expected.times, rtol=0, atol=1e-15)
            np.testing.assert_allclose(got.error_over_time, expected.error_over_time, rtol=1e-10)
    # a text or mesh file of a masked grid holds the points inside the domain only
    if built_in.mask is not None:
        back = read_reference(tmp_path / "ref.vtu", axes=problem.coordinates)
        assert back.size == int(built_in.mask.sum())


def test_a_problem_file_names_its_reference_file(tmp_path):
    problem = load_problem("heat1d").problem
    write_reference(reference_solution(problem), tmp_path / "sol.txt", time_axis="t")
    source = (tmp_path / "heat_file.py")
    source.write_text(
        "import math, torch\n"
        "from pinnkan import Problem, SpaceTime, Interval, Initial, Dirichlet, ReferenceFile\n"
        "problem = Problem(name='heat_file', domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),\n"
        "    residual=lambda f: f.u_t - 0.4 * f.u_xx,\n"
        "    conditions=[Initial(lambda c: torch.sin(math.pi * c['x'])), Dirichlet('boundary', 0.0)],\n"
        "    reference=ReferenceFile('sol.txt', fields={'u': 'u'}))\n"
    )
    loaded = load_problem(source).problem
    assert loaded.reference.path == tmp_path / "sol.txt"  # relative to the problem file
    reference = reference_solution(loaded)
    assert isinstance(reference, ScatteredSolution) and reference.source == "file: sol.txt"
    assert reference.size == 201 * 101


def test_comsol_export_with_a_column_per_time(tmp_path):
    x = np.linspace(0.0, 1.0, 6)
    times = [0.0, 0.5, 1.0]
    rows = np.column_stack([x, *[np.sin(PI * x) * math.exp(-t) for t in times]])
    header = ("% Model:              rod.mph\n% Version:            COMSOL 6.2\n% Dimension:          1\n"
              "% Nodes:              6\n% Expressions:        1\n% Description:        Temperature\n"
              "% x                       T (K) @ t=0               T (K) @ t=0.5             T (K) @ t=1\n")
    path = tmp_path / "rod.txt"
    path.write_text(header + "\n".join("   ".join(f"{v:.17g}" for v in row) for row in rows) + "\n")
    ref = read_reference(path, axes=("x", "t"), outputs=("u",), fields={"u": "T"}, time_axis="t")
    assert ref.size == 18 and np.unique(ref.column("t")).tolist() == times
    expected = np.sin(PI * ref.column("x")) * np.exp(-ref.column("t"))
    np.testing.assert_allclose(ref.values, expected, rtol=0, atol=1e-15)
    # compared at the nodes: the exact model has no error, interpolation or not
    result = compare(FormulaModel(lambda p: torch.sin(PI * p[:, 0]) * torch.exp(-p[:, 1])), ref)
    assert result.rel_l2 < 1e-15
    np.testing.assert_allclose(result.times, times)


def test_single_spaced_headers_with_units_and_times(tmp_path):
    path = tmp_path / "single.txt"
    path.write_text("% x T (K) @ t=0 T (K) @ t=1\n0 1 2\n1 3 4\n")
    ref = read_reference(path, axes=("x", "t"), outputs=("u",), time_axis="t")  # one field, one output: T is u
    np.testing.assert_array_equal(ref.points, [[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(ref.values, [1, 3, 2, 4])


def test_scattered_time_slices_and_bins():
    rng = np.random.default_rng(0)
    pts = rng.uniform(size=(400, 2))  # every point at its own time: binned
    ref = ScatteredSolution(("x", "t"), pts, pts[:, 1] + 1.0)
    model = FormulaModel(lambda p: (p[:, 1] + 1.0) * (1.0 + 0.1 * p[:, 1]))  # relative error 0.1 t
    result = compare(model, ref)
    assert len(result.times) == 50
    # in each bin the relative error is 0.1 t at the bin's points: close to 0.1 x its middle time
    np.testing.assert_allclose(result.error_over_time, 0.1 * result.times, rtol=0.05, atol=2e-3)


@pytest.mark.parametrize(("content", "message"), [
    ("% x  T\n0 1\n0.5 nan\n1 0\n", r"NaN or infinite at 1 points .* drop those points"),
    ("% x  p\n0 1\n1 0\n", r"fields are \['p'\].*outputs are \['u', 'v'\].*--field u=T"),
    ("% y  u\n0 1\n1 0\n", r"no column 'x'"),
    ("0 1\n1 0\n", r"no header line names its 2 columns"),
])
def test_bad_tables_say_the_fix(content, message, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_reference(path, axes=("x",), outputs=("u", "v") if "p" in content else ("u",))


def test_points_outside_the_domain_and_wrong_dimensions(tmp_path):
    meshio = pytest.importorskip("meshio")
    problem = load_problem("poisson_lshape").problem
    pts = np.array([[-0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])  # (0.5, 0.5) is in the cut-out quadrant
    meshio.write(tmp_path / "out.vtu", meshio.Mesh(np.column_stack([pts, np.zeros(3)]), [("triangle", [[0, 1, 2]])],
                                                   point_data={"u": np.ones(3)}))
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"1 of the reference's 3 points lie outside the domain .*'x': 0.5"):
        reference_solution(replace(problem, reference=str(tmp_path / "out.vtu")))
    meshio.write(tmp_path / "3d.vtu", meshio.Mesh(np.eye(3), [("triangle", [[0, 1, 2]])], point_data={"u": np.ones(3)}))
    with pytest.raises(ValueError, match=r"mesh in more than 2 dimensions .* give a 2-D mesh"):
        read_reference(tmp_path / "3d.vtu", axes=("x", "y"))
    line = np.column_stack([np.linspace(0, 1, 4), np.zeros((4, 2))])
    meshio.write(tmp_path / "1d.vtu", meshio.Mesh(line, [("line", [[0, 1], [1, 2], [2, 3]])], point_data={"u": np.ones(4)}))
    with pytest.raises(ValueError, match=r"do not vary in \['y'\]"):
        read_reference(tmp_path / "1d.vtu", axes=("x", "y"))
    meshio.write(tmp_path / "cells.vtu", meshio.Mesh(line, [("line", [[0, 1], [1, 2], [2, 3]])],
                                                     cell_data={"u": [np.ones(3)]}))
    with pytest.raises(ValueError, match="cell data only; export the solution as point data"):
        read_reference(tmp_path / "cells.vtu", axes=("x",))


def test_vector_point_data_and_a_missing_extra(tmp_path, monkeypatch):
    meshio = pytest.importorskip("meshio")
    pts = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    velocity = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [5.0, 6.0, 0.0]])
    meshio.write(tmp_path / "flow.vtu", meshio.Mesh(pts, [("triangle", [[0, 1, 2]])], point_data={"velocity": velocity}))
    ref = read_reference(tmp_path / "flow.vtu", axes=("x", "y"), outputs=("u", "v"),
                         fields={"u": "velocity[0]", "v": "velocity[1]"})
    assert ref.outputs["u"].tolist() == [1.0, 3.0, 5.0] and ref.outputs["v"].tolist() == [2.0, 4.0, 6.0]
    assert ref.triangles.tolist() == [[0, 1, 2]]
    monkeypatch.setitem(sys.modules, "meshio", None)  # as if it were not installed: importing it fails
    with pytest.raises(MissingExtra, match=r"reading .vtu files needs the package meshio.*pip install 'pinnkan\[mesh\]'"):
        read_reference(tmp_path / "flow.vtu", axes=("x", "y"))
