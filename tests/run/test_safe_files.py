"""Run files: atomic writes, weights-only loading, clear errors for damaged or foreign files, load_run."""

import os
import zipfile

import numpy as np
import pytest
import torch

from pinnkan import Adam, BFGS, ExtendGrid, KANSpec, MLPSpec, ChebyKANSpec, Points, Setup, load_problem, load_run, solve
from pinnkan.files import atomic_write, load_torch, plain, save_torch
from pinnkan.training.trainer import Trainer

F64 = torch.float64


def _tiny_trainer(path, steps=6):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).to(F64)
    x = torch.linspace(-1, 1, 16, dtype=F64)[:, None]

    def loss(m):
        fit = torch.mean((m(x) - x**2) ** 2)
        return fit, {"fit": fit}

    return Trainer(model, loss, [Adam(steps=steps, lr=1e-2), BFGS(steps=steps)], checkpoint=path,
                   checkpoint_every=2, progress=False)


class _Planted:
    """Unpickling this object touches a file: the proof that a loader ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mknod, (str(self.marker),))


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for kind in ("checkpoint", "model"):
        path = tmp_path / f"{kind}.pt"
        torch.save({"format": "pinnkan", "kind": kind, "version": 1, "payload": _Planted(marker)}, path)
        with pytest.raises(ValueError, match="loading it could run code; pinnkan does not load it"):
            load_torch(path, kind=kind)
        assert not marker.exists()
    # The check is the loader's: unsafe loading of the same file does run the code.
    torch.load(tmp_path / "model.pt", weights_only=False)
    assert marker.exists()


def test_resume_and_load_run_refuse_planted_files_by_name(tmp_path):
    marker = tmp_path / "ran"
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"format": "pinnkan", "kind": "checkpoint", "version": 1, "model": _Planted(marker)}, checkpoint)
    with pytest.raises(ValueError, match=f"{checkpoint} holds Python objects"):
        _tiny_trainer(checkpoint).resume()
    torch.save({"net": _Planted(marker)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="model.pt holds Python objects"):
        load_run(tmp_path)
    assert not marker.exists()


def test_a_truncated_checkpoint_always_gives_the_clear_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    _tiny_trainer(path).run()
    whole = path.read_bytes()
    _tiny_trainer(path).resume()  # the whole file loads
    rng = np.random.default_rng(0)
    for offset in rng.integers(1, len(whole) - 1, size=10):
        path.write_bytes(whole[:offset])
        with pytest.raises(ValueError, match=f"{path} is damaged .* delete it and solve without --resume"):
            _tiny_trainer(path).resume()


def test_foreign_and_mismatched_files_name_what_they_are(tmp_path):
    path = tmp_path / "file.pt"
    path.write_bytes(os.urandom(256))
    with pytest.raises(ValueError, match="is damaged .* or not a torch file"):
        load_torch(path, kind="checkpoint")
    path.write_text('{"step": 3}')
    with pytest.raises(ValueError, match="is damaged .* or not a torch file"):
        load_torch(path, kind="checkpoint")
    torch.save({"model": {}}, path)
    with pytest.raises(ValueError, match="is not a pinnkan checkpoint .*no pinnkan header"):
        load_torch(path, kind="checkpoint")
    save_torch({"net": {}}, path, kind="model")
    with pytest.raises(ValueError, match="is a pinnkan model, not a checkpoint"):
        load_torch(path, kind="checkpoint")
    torch.save({"format": "pinnkan", "kind": "checkpoint", "version": 99}, path)
    with pytest.raises(ValueError, match="version 99 checkpoint; this pinnkan reads version 1"):
        load_torch(path, kind="checkpoint")
    with pytest.raises(ValueError, match="does not exist"):
        load_torch(tmp_path / "none.pt", kind="model")
    with pytest.raises(ValueError, match="kind must be one of"):
        save_torch({}, path, kind="pickle")


def test_a_complete_header_with_missing_contents_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_torch({"step": 3}, path, kind="checkpoint")
    with pytest.raises(ValueError, match="is not a complete pinnkan checkpoint"):
        _tiny_trainer(path).resume()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    atomic_write(path, "old")

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, "new " * 1000)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_plain_turns_numpy_numbers_into_python_ones_that_weights_only_loading_accepts(tmp_path):
    value = {"nu": np.float64(0.01), "n": [np.int64(3), (np.float32(0.5), "x")], "t": torch.ones(2)}
    converted = plain(value)
    assert type(converted["nu"]) is float and type(converted["n"][0]) is int
    assert converted["n"][1] == (0.5, "x") and converted["t"] is value["t"]
    save_torch(converted, tmp_path / "c.pt", kind="checkpoint")
    assert load_torch(tmp_path / "c.pt", kind="checkpoint")["nu"] == 0.01
    save_torch(value, tmp_path / "d.pt", kind="checkpoint")
    with pytest.raises(ValueError, match="holds Python objects"):
        load_torch(tmp_path / "d.pt", kind="checkpoint")


def _zip_names(path):
    with zipfile.ZipFile(path) as archive:
        return [n.split("/", 1)[1] for n in archive.namelist()]


@pytest.mark.parametrize(
    "model, name",
    [(KANSpec(hidden=(6,), grid_size=4), "kan"), (ChebyKANSpec(hidden=(6,), degree=4), "chebykan"),
     (MLPSpec(hidden=(8, 8)), "mlp")],
)
def test_load_run_rebuilds_the_trained_model_from_plain_files(tmp_path, model, name):
    spec = load_problem("heat1d_inverse")  # a hard constraint and a learned coefficient
    stages = (Adam(steps=8, lr=1e-2), ExtendGrid(grid_size=7), BFGS(steps=4)) if name == "kan" else (Adam(steps=8, lr=1e-2),)
    setup = Setup(model=model, points=Points(interior=64, boundary=16), stages=stages, dtype="float64")
    solution = solve(spec.problem, setup, out=tmp_path, progress=False)
    assert "data.pkl" in _zip_names(tmp_path / "model.pt")
    raw = (tmp_path / "model.pt").read_bytes()
    assert b"pinnkan.models" not in raw and b"torch.nn" not in raw  # no class is pickled
    run = load_run(tmp_path, problem=spec.problem)
    x = solution.samples[:50]
    assert torch.equal(run.net(x), solution.net(x))
    assert torch.equal(run.model(x), solution.model(x))  # hard constraint and all
    assert run.model.coefficients.report() == solution.coefficients
    assert solution.coefficients["alpha"] != pytest.approx(1.0, abs=1e-6)  # the coefficient moved from its start (1.0)
    assert run.net.describe() == solution.net.describe()
    assert run.coordinates == ("x", "t") and run.outputs == ("u",) and run.report["params"] == solution.report()["params"]
    assert torch.equal(run.samples, solution.samples)


def test_load_run_checks_the_problem_and_names_the_fix(tmp_path):
    spec = load_problem("heat1d")
    setup = Setup(model=KANSpec(hidden=(4,)), points=Points(interior=32, boundary=8), stages=(Adam(steps=2),))
    solve(spec.problem, setup, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="holds a model of 'heat1d' .* give that problem, not 'poisson2d'"):
        load_run(tmp_path, problem=load_problem("poisson2d").problem)
    with pytest.raises(ValueError, match="trained with parameters"):
        load_run(tmp_path, problem=load_problem("heat1d", **{next(iter(spec.parameters)): 0.123}).problem)
    (tmp_path / "report.json").write_text("{broken")
    with pytest.raises(ValueError, match="report.json is not valid JSON"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match="does not exist; give a run folder"):
        load_run(tmp_path / "missing")
