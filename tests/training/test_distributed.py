"""Training in a group of processes (torch.distributed, gloo): the loss history of two processes, each on its
share of the points, is that of one process on all of them; only process 0 writes; a checkpoint resumes with
any number of processes; refinement adds points over all of them."""

import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pinnkan import (
    BFGS,
    KAN,
    PINN,
    RAR,
    Adam,
    Causal,
    Dirichlet,
    GaussNewton,
    GradNorm,
    Initial,
    Interval,
    Points,
    Problem,
    ResidualAttention,
    SpaceTime,
)
from pinnkan.pde.coefficients import CoefficientSet
from pinnkan.training.distributed import ALONE, ProcessGroup, shard
from pinnkan.training.losses import PINNLoss
from pinnkan.training.trainer import Trainer

F64 = torch.float64
STAGES = {"bfgs": (Adam(steps=50, lr=1e-2), BFGS(steps=20)),
          "gauss-newton": (Adam(steps=20, lr=1e-2), GaussNewton(steps=4))}

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="this torch build has no torch.distributed")


def _problem():
    return Problem(
        name="heat",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - 0.1 * f.u_xx,
        conditions=[Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("boundary", 0.0)],
    )


def _train(group, sources=None, weighting=(), stages=STAGES["bfgs"], checkpoint=None, resume=False, stop_at=None,
           resampling=None, chunk_size=None):
    """The model and loss history of a run in ``group``; ``sources`` replaces the points of every term; with
    ``stop_at``, the run stops there as on SIGTERM (leaving ``checkpoint``), with ``resume`` it goes on from it."""
    problem = _problem()
    torch.manual_seed(0)
    model = PINN(KAN((2, 6, 1), input_bounds=((0.0, 0.0), (1.0, 1.0)), dtype=F64), CoefficientSet({}, dtype=F64))
    loss = PINNLoss(problem, problem.conditions, Points(interior=301, boundary=41), rng=group.rng(7), dtype=F64,
                    group=group, weighting=[*weighting], resampling=resampling, chunk_size=chunk_size)
    if sources is not None:
        loss.load_state_dict({**loss.state_dict(), "sources": sources})
    stop = [lambda step, record: os.kill(os.getpid(), signal.SIGTERM) if step == stop_at else None]
    trainer = Trainer(model, loss, stages, progress=False, checkpoint=checkpoint, callbacks=stop)
    if resume:
        trainer.resume()
    result = trainer.run()
    return loss, [r["total"] for r in result.history.records]


def _weighting(kind):
    if kind == "balanced":  # term weights from the norms of the gradients of all processes' points
        return (GradNorm(every=10),)
    return () if kind in ("plain", "gauss-newton") else (ResidualAttention(gamma=0.9, eta=0.1), Causal(slabs=4))


def _stages(kind):
    return STAGES["gauss-newton" if kind == "gauss-newton" else "bfgs"]


def _worker(rank, folder, kind, size=2, **run):
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous{size}", rank=rank, world_size=size)
    try:
        chunks = 64 if kind == "chunked" else None  # pieces in each process; one evaluation alone
        loss, history = _train(ProcessGroup(), weighting=_weighting(kind), stages=_stages(kind), chunk_size=chunks,
                               **run)
        torch.save({"sources": loss.state_dict()["sources"], "history": history}, f"{folder}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _refining_worker(rank, folder):
    _worker(rank, folder, "plain", 2, resampling=RAR(every=10, add=7, max_points=320))


def _resume_worker(rank, folder, size):
    _worker(rank, folder, "weighted", size, checkpoint=f"{folder}/checkpoint.pt", resume=True)


def _stopping_worker(rank, folder):
    _worker(rank, folder, "weighted", 2, checkpoint=f"{folder}/checkpoint.pt", stop_at=30)


@pytest.mark.parametrize("kind", ["plain", "weighted", "balanced", "chunked", "gauss-newton"])
def test_two_processes_train_as_one_process_on_the_union_of_their_points(tmp_path, kind):
    mp.spawn(_worker, args=(str(tmp_path), kind), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert ranks[0]["history"] == ranks[1]["history"]  # every process sees the same global loss
    shards = [r["sources"] for r in ranks]
    sizes = [[s["points"].shape[0] for s in shard_] for shard_ in shards]
    assert sizes == [[151, 21, 21], [150, 20, 20]]  # 301 PDE points, 41 of each condition, shared out
    assert not torch.equal(shards[0][0]["points"][:150], shards[1][0]["points"])  # distinct streams
    union = [{key: None if parts[0][key] is None else torch.cat([p[key] for p in parts]) for key in parts[0]}
             for parts in zip(*shards)]
    _, alone = _train(ALONE, union, _weighting(kind), _stages(kind))
    np.testing.assert_allclose(ranks[0]["history"], alone, rtol=1e-6)
    assert len(alone) == sum(s.steps for s in _stages(kind)) and alone[-1] < 0.2 * alone[0]  # it trained


def test_shards_cover_the_rows_once_in_order():
    class Rank:
        def __init__(self, rank, size):
            self.rank, self.size = rank, size

    for n, size in ((10, 3), (2, 4), (7, 1)):
        blocks = [shard(n, Rank(r, size)) for r in range(size)]
        assert blocks[0][0] == 0 and blocks[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
        assert max(b - a for a, b in blocks) - min(b - a for a, b in blocks) <= 1


def test_a_process_group_needs_torch_distributed_initialised():
    with pytest.raises(ValueError, match="launch with torchrun"):
        ProcessGroup()


def test_the_command_line_says_to_launch_distributed_runs_with_torchrun(capsys, monkeypatch, tmp_path):
    from pinnkan.run.cli import main

    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["solve", "heat1d", "--distributed", "--steps", "2,1", "--out", str(tmp_path / "run")]) == 2
    assert "--distributed runs under torchrun" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing written


def test_torchrun_trains_in_two_processes_and_only_the_first_writes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "pinnkan",
               "solve", "heat1d", "--distributed", "--steps", "20,3", "--dtype", "float64", "--out", str(out),
               "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    summaries = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1  # process 0 prints
    report = json.loads((out / "report.json").read_text())
    assert report["engine"]["processes"] == 2 and report["steps"] == 23
    assert torch.load(out / "model.pt", weights_only=True)["samples"].shape == (1000, 2)  # both processes' points
    # The checkpoint keeps both processes' points.
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    interior = [shard_["sources"][0]["points"].shape[0] for shard_ in saved["objective_shards"]]
    assert len(interior) == 2 and abs(interior[0] - interior[1]) <= 1
    assert sum(interior) == report["setup"]["points"]["interior"]


def test_a_checkpoint_of_two_processes_resumes_in_one_or_three(tmp_path):
    # Residual attention keeps a weight per point: it is shared out with the points.
    mp.spawn(_stopping_worker, args=(str(tmp_path),), nprocs=2, join=True)
    stopped = torch.load(tmp_path / "rank0.pt", weights_only=True)["history"]
    assert len(stopped) == 30
    checkpoint = (tmp_path / "checkpoint.pt").read_bytes()
    histories = {}
    for size in (2, 3):
        (tmp_path / "checkpoint.pt").write_bytes(checkpoint)
        mp.spawn(_resume_worker, args=(str(tmp_path), size), nprocs=size, join=True)
        histories[size] = torch.load(tmp_path / "rank0.pt", weights_only=True)["history"]
    (tmp_path / "checkpoint.pt").write_bytes(checkpoint)
    _, histories[1] = _train(ALONE, weighting=_weighting("weighted"), checkpoint=tmp_path / "checkpoint.pt",
                             resume=True)
    assert len(histories[2]) == 70 and histories[2][:30] == stopped
    for size in (1, 3):
        np.testing.assert_allclose(histories[size], histories[2], rtol=1e-6)


def test_refinement_adds_points_over_all_processes(tmp_path):
    # RAR adds 7 points every 10 Adam steps, shared out (4 + 3), until the processes hold 320 together.
    mp.spawn(_refining_worker, args=(str(tmp_path),), nprocs=2, join=True)
    sizes = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True)["sources"][0]["points"].shape[0] for r in range(2)]
    assert sizes == [151 + 4 + 4 + 3, 150 + 3 + 3 + 2]  # 301 + 7 + 7 + the 5 left (3 + 2); then no room
