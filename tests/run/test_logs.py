"""``--log tensorboard``: the event files hold the history's figures, the errors of the report, and a resume's steps once."""

import json
import sys

import pytest

from pinnkan import load_problem, solve
from pinnkan.run.cli import main
from pinnkan.run.logs import TensorBoard

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _scalars(folder):
    events = event_accumulator.EventAccumulator(str(folder / "tensorboard"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_every_figure_of_the_run_is_logged(tmp_path):
    args = ["solve", "heat1d", "--steps", "120,10", "--out", str(tmp_path), "--no-progress", "--dtype", "float64",
            "--log", "tensorboard"]
    assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    scalars = _scalars(tmp_path)
    assert {"loss/total", "loss/pde", "lr", "error/rel_l2", "error/estimated"} <= set(scalars)
    total = scalars["loss/total"]
    assert [s for s, _ in total] == list(range(1, 131))
    assert total[-1][1] == pytest.approx(report["final_losses"]["total"], rel=1e-6)  # event values are float32
    error = dict(scalars["error/rel_l2"])
    assert sorted(error) == [100, 130]  # every 100 steps, and the end
    assert error[130] == pytest.approx(report["rel_l2"], rel=1e-6)
    assert dict(scalars["error/estimated"])[130] == pytest.approx(report["error_estimate"], rel=1e-6)


def test_a_resumed_run_logs_each_step_once(tmp_path):
    spec = load_problem("heat1d")
    setup = spec.setup.with_steps([40, 10])
    solve(spec.problem, setup, out=tmp_path, progress=False, logs=(TensorBoard(every=10),),
          checkpoint_every=20, callbacks=(_stop_at(30),))
    solve(spec.problem, setup, out=tmp_path, progress=False, resume=True, logs=(TensorBoard(every=10),))
    steps = [s for s, _ in _scalars(tmp_path)["loss/total"]]
    assert steps == list(range(1, 51))


def _stop_at(step):
    def callback(now, record):
        if now == step:
            raise KeyboardInterrupt

    return callback


def test_a_missing_tensorboard_names_the_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    assert main(["solve", "heat1d", "--steps", "5,1", "--out", str(tmp_path), "--log", "tensorboard"]) == 2
    err = capsys.readouterr().err
    assert "--log tensorboard needs the package tensorboard" in err and "pip install 'pinnkan[tensorboard]'" in err
    assert not (tmp_path / "model.pt").exists()
    with pytest.raises(ValueError, match="logs are written into the run folder"):
        solve(load_problem("heat1d").problem, logs=(TensorBoard(),))
    with pytest.raises(ValueError, match="TensorBoard.every must be a positive int"):
        TensorBoard(every=0)
