"""``pinnkan export`` and ``--reference``: files that ParaView and xarray open, equal to the model's predictions."""

import json

import numpy as np
import pytest
import torch

from pinnkan import load_problem, load_run
from pinnkan.compare import predict, reference_solution
from pinnkan.reference.writers import write_reference
from pinnkan.run.cli import main

meshio = pytest.importorskip("meshio")
xarray = pytest.importorskip("xarray")


def _run(problem, folder, *extra):
    args = ["solve", problem, "--steps", "20,3", "--out", str(folder), "--no-progress", "--dtype", "float64", *extra]
    assert main(args) == 0
    spec = load_problem(problem)
    return spec.problem, load_run(folder, problem=spec.problem).model


def test_space_time_run_exports_a_time_series_and_a_grid(tmp_path, capsys):
    problem, model = _run("heat1d", tmp_path / "run")
    reference = reference_solution(problem)  # a grid of 201 x 101 (x, t)
    x, t = reference.coords
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "heat.xdmf")]) == 0
    assert capsys.readouterr().out.strip().endswith("heat.xdmf")
    with meshio.xdmf.TimeSeriesReader(tmp_path / "heat.xdmf") as reader:
        points, _ = reader.read_points_cells()
        assert reader.num_steps == t.size
        np.testing.assert_allclose(points[:, 0], x)
        for k in (0, 50, 100):
            stamp, data, _ = reader.read_data(k)
            assert stamp == pytest.approx(t[k], abs=1e-15)
            expected = predict(model, np.column_stack([x, np.full_like(x, t[k])]))[:, 0]
            np.testing.assert_allclose(data["u"], expected, rtol=0, atol=1e-12)
            np.testing.assert_allclose(data["reference_u"], reference.values[:, k], rtol=0, atol=1e-15)
            np.testing.assert_allclose(data["error_u"], expected - reference.values[:, k], rtol=0, atol=1e-12)
            assert np.isfinite(data["residual_pde"]).all()
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "heat.nc")]) == 0
    with xarray.open_dataset(tmp_path / "heat.nc") as data:
        assert data["u"].dims == ("x", "t")
        np.testing.assert_allclose(data["u"].values, predict(model, reference.points())[:, 0].reshape(201, 101),
                                   rtol=0, atol=1e-12)
        assert {"reference_u", "error_u", "residual_pde"} <= set(data.data_vars)


def test_stationary_run_exports_a_triangle_mesh_of_the_domain(tmp_path):
    problem, model = _run("poisson_lshape", tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "l.vtu")]) == 0
    mesh = meshio.read(tmp_path / "l.vtu")
    reference = reference_solution(problem)
    assert mesh.points.shape[0] == int(reference.mask.sum())  # the points inside the L only
    np.testing.assert_allclose(mesh.point_data["u"], predict(model, mesh.points[:, :2])[:, 0], rtol=0, atol=1e-12)
    triangles = mesh.cells_dict["triangle"]
    centres = mesh.points[triangles][:, :, :2].mean(axis=1)
    assert problem.domain.inside(centres).all()  # no triangle bridges the cut-out quadrant
    assert mesh.points[triangles][:, :, :2].mean(axis=1)[:, 0].max() > 0.5


def test_solve_against_a_reference_file_and_the_field_mapping(tmp_path, capsys):
    problem = load_problem("heat1d").problem
    reference = reference_solution(problem)
    path = write_reference(reference, tmp_path / "comsol.txt", time_axis="t")
    path.write_text(path.read_text().replace("u @ t=", "T (K) @ t="))  # the file's field is called T
    code = main(["solve", "heat1d", "--steps", "20,3", "--out", str(tmp_path / "run"), "--no-progress",
                 "--dtype", "float64", "--reference", str(path), "--field", "u=T"])
    assert code == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["reference"] == "file: comsol.txt" and report["reference_points"] == 201 * 101
    assert report["reference_error"] is None
    model = load_run(tmp_path / "run", problem=problem).model
    points = reference.points()
    prediction = predict(model, points)[:, 0]
    exact = reference.values.reshape(-1)
    assert report["rel_l2"] == pytest.approx(np.linalg.norm(prediction - exact) / np.linalg.norm(exact), rel=1e-9)
    assert len(report["error_over_time"]["t"]) == 101
    assert (tmp_path / "run" / "solution.png").is_file() and (tmp_path / "run" / "snapshots.png").is_file()
    capsys.readouterr()
    assert main(["solve", "heat1d", "--steps", "1,1", "--reference", str(path), "--field", "u=Q",
                 "--out", str(tmp_path / "r2")]) == 2
    assert "comsol.txt has no field named ['Q']: its fields are ['T']; the problem's outputs are ['u']; map them with" \
        in capsys.readouterr().err
    assert main(["solve", "heat1d", "--field", "u=T", "--out", str(tmp_path / "r3")]) == 2
    assert "give the file with --reference FILE" in capsys.readouterr().err
    # the export compares with the same file when told so
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "e.npz"), "--reference", str(path),
                 "--field", "u=T"]) == 0
    exported = np.load(tmp_path / "e.npz")
    rel = np.linalg.norm(exported["error_u"]) / np.linalg.norm(exported["reference_u"])
    assert rel == pytest.approx(report["rel_l2"], rel=1e-9)


def test_export_errors_name_the_fix(tmp_path, capsys):
    _run("poisson_lshape", tmp_path / "run")
    capsys.readouterr()
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "out.xyz")]) == 2
    assert "pick one of those suffixes" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing"), "--to", str(tmp_path / "a.vtu")]) == 2
    assert "does not exist; give a run folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "run"), "--to", str(tmp_path / "no" / "a.vtu")]) == 2
    assert "folder" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.vtu")) and torch.get_default_dtype() == torch.float32


def test_a_plane_over_time_keeps_its_hole(tmp_path):
    from formula_model import FormulaModel

    from pinnkan import Box, Disk, Problem, SpaceTime
    from pinnkan.reference.writers import write_table
    from pinnkan.run.export import export_table

    domain = SpaceTime(Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}) - Disk((0.0, 0.0), 0.5), (0.0, 1.0))
    problem = Problem(name="holed", domain=domain, residual=lambda f: f.u_t - f.u_xx - f.u_yy)
    model = FormulaModel(lambda p: p[:, 0] ** 2 + p[:, 1] ** 2 + 4.0 * p[:, 2])  # u_t = u_xx + u_yy exactly
    table = export_table(problem, model, points_per_axis=21)
    write_table(table, tmp_path / "holed.xdmf")
    with meshio.xdmf.TimeSeriesReader(tmp_path / "holed.xdmf") as reader:
        points, cells = reader.read_points_cells()
        assert reader.num_steps == 21
        stamp, data, _ = reader.read_data(20)
    assert stamp == pytest.approx(1.0)
    assert (np.hypot(points[:, 0], points[:, 1]) >= 0.5 - 1e-12).all()  # no node in the hole
    triangles = next(c.data for c in cells if c.type == "triangle")
    centres = points[triangles][:, :, :2].mean(axis=1)
    assert (np.hypot(centres[:, 0], centres[:, 1]) > 0.5).all()  # no triangle across it
    np.testing.assert_allclose(data["u"], points[:, 0] ** 2 + points[:, 1] ** 2 + 4.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data["residual_pde"], 0.0, atol=1e-10)
