"""Training steps over many points: step time and peak memory from 10^4 to 10^6 points, and what two processes cost.

Each case is a fresh process (so that its peak resident memory, ``ru_maxrss``, is its
own) that solves ``heat1d`` with the shipped model, ``--dtype`` (float32 by default),
the given number of PDE points and a few Adam steps, evaluated in chunks of
``--chunk-size`` rows (``pinnkan.training.losses.PINNLoss``). The step time is the
median over the steps after the first (which probes the terms); the peak memory is
read after the last step, before the comparison with the reference. Cases:

- ``scaling``: every ``--points`` count in one process with every core's threads; the
  time should grow about linearly and the memory stay bounded by the chunk;
- ``whole``: the smaller counts without chunks, for what chunking costs;
- ``processes``: ``--compare-at`` points in one process of two threads against two
  processes of one thread each (``torchrun``, gloo), with the ratio of their step
  times (issue 26 asks for at most 1.3).

Prints a table and writes ``benchmarks/scale.json`` (records with ``n_points``,
``step_s``, ``peak_memory_gib``, ``chunk_size``, ``world_size``, ``threads``).
Run it alone on the machine. Usage::

    python scripts/scale_points.py [--points 10000 100000 1000000] [--chunk-size 65536] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace

import torch
from _study import markdown, save

from pinnkan import Adam, Points, load_problem, solve

PREFIX = "SCALE "


def worker(n: int, chunk: int | None, steps: int, dtype: str) -> None:
    """One case in this process (or in each process that torchrun started): print its record."""
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        torch.distributed.init_process_group("gloo")
    spec = load_problem("heat1d")
    ticks: list[float] = []
    peak: list[float] = []

    def tick(step: int, record: object) -> None:
        ticks.append(time.perf_counter())
        if step == steps:  # the training's peak, before the comparison and the error estimate
            peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024))

    points = Points(interior=n, boundary=spec.setup.points.boundary)  # type: ignore[union-attr]
    setup = replace(spec.setup, points=points, stages=(Adam(steps=steps, lr=1e-3),), chunk_size=chunk, tolerance=None)
    solution = solve(spec.problem, setup, dtype=dtype, progress=False, callbacks=[tick], distributed=distributed)
    record = {
        "n_points": n, "step_s": statistics.median(b - a for a, b in zip(ticks, ticks[1:])),
        "peak_memory_gib": peak[0] / 2**30, "chunk_size": solution.engine["chunk_size"],
        "world_size": torch.distributed.get_world_size() if distributed else 1, "threads": torch.get_num_threads(),
        "rank": torch.distributed.get_rank() if distributed else 0,
    }
    print(PREFIX + json.dumps(record), flush=True)
    if distributed:
        torch.distributed.destroy_process_group()


def measure(case: str, n: int, chunk: int | None, steps: int, dtype: str, *, processes: int, threads: int) -> dict:
    """Run one case in fresh processes; the record of process 0 (with the largest peak memory of any)."""
    options = ["--worker", "--count", str(n), "--chunk-size", str(chunk or 0), "--steps", str(steps), "--dtype", dtype]
    launch = [sys.executable, __file__] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", __file__]
    done = subprocess.run([*launch, *options], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if done.returncode != 0:
        raise RuntimeError(f"{case} with {n} points failed:\n{done.stderr[-3000:]}")
    records = [json.loads(line[len(PREFIX):]) for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    first = next(r for r in records if r["rank"] == 0)
    first["peak_memory_gib"] = max(r["peak_memory_gib"] for r in records)  # the largest process
    first["step_s"] = max(r["step_s"] for r in records)  # the slowest process sets the pace
    record = {"case": case, **first}
    print(f"{case:9s} {n:>9,d} points  chunk {record['chunk_size'] or '-':>7}  {processes} x {threads} threads: "
          f"{record['step_s']:.3f} s per step, peak {record['peak_memory_gib']:.2f} GiB", flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", type=int, default=[10_000, 30_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--chunk-size", type=int, default=65_536, help="rows per chunk (0: none)")
    parser.add_argument("--whole-up-to", type=int, default=100_000, help="largest count also run without chunks")
    parser.add_argument("--compare-at", type=int, default=100_000, help="points of the two-process comparison")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--out", default="benchmarks/scale.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    chunk = args.chunk_size or None
    if args.worker:
        worker(args.count, chunk, args.steps, args.dtype)
        return
    cores = os.cpu_count() or 1
    records = [measure("scaling", n, chunk, args.steps, args.dtype, processes=1, threads=cores) for n in args.points]
    records += [measure("whole", n, None, args.steps, args.dtype, processes=1, threads=cores)
                for n in args.points if n <= args.whole_up_to]
    one = measure("processes", args.compare_at, chunk, args.steps, args.dtype, processes=1, threads=2)
    two = measure("processes", args.compare_at, chunk, args.steps, args.dtype, processes=2, threads=1)
    records += [one, two]
    ratio = two["step_s"] / one["step_s"]
    print(markdown(records, ["case", "n_points", "chunk_size", "world_size", "threads", "step_s", "peak_memory_gib"]))
    scaling = [r for r in records if r["case"] == "scaling"]
    per_point = [r["step_s"] / r["n_points"] * 1e6 for r in scaling]
    print(f"step time per million points: {', '.join(f'{p:.2f} s' for p in per_point)} "
          f"(from {scaling[0]['n_points']:,} to {scaling[-1]['n_points']:,} points)")
    print(f"{args.compare_at:,} points: 2 processes x 1 thread take {ratio:.2f}x the step time "
          f"of 1 process x 2 threads")
    save(records, args.out, study="step time and peak memory against the number of points; processes against threads",
         problem="heat1d", dtype=args.dtype, steps=args.steps, two_processes_over_two_threads=ratio)


if __name__ == "__main__":
    main()
