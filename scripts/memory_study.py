"""Peak resident memory of a heat1d run, and whether it grows with the number of steps.

Runs ``pinnkan solve heat1d`` in fresh processes (float64 by default) with the shipped
stages scaled to a tenth and to the full length, and reads each process's peak
resident set (``ru_maxrss``). A run whose memory grows with the steps shows a
larger peak for the longer run; a flat one shows the same. Prints a table and
writes ``benchmarks/memory.json``. Usage::

    python scripts/memory_study.py [--dtype float64] [--engine auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pinnkan import load_problem
from pinnkan.run.folder import versions


def peak_mib(args: list[str]) -> tuple[float, dict[str, object]]:
    """Peak resident MiB of one ``pinnkan solve`` process, and its report."""
    with tempfile.TemporaryDirectory() as out:
        code = (
            "import resource, sys\n"
            "from pinnkan.run.cli import main\n"
            "status = main(sys.argv[1:])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
            "sys.exit(status)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, *args, "--out", out, "--no-progress"],
            capture_output=True, text=True, check=True,
        )
        report = json.loads(Path(out, "report.json").read_text())
    maxrss = int(result.stdout.strip().splitlines()[-1])  # KiB on Linux, bytes on macOS
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024), report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--engine", choices=["auto", "jets", "autograd"], default="auto")
    parser.add_argument("--out", default="benchmarks/memory.json")
    args = parser.parse_args()
    stages = [s for s in load_problem("heat1d").setup.stages if hasattr(s, "steps")]
    full = [s.steps for s in stages]
    tenth = [max(1, n // 10) for n in full]
    records = []
    for steps in (tenth, full):
        mib, report = peak_mib(["solve", "heat1d", "--dtype", args.dtype, "--engine", args.engine,
                                "--steps", ",".join(map(str, steps))])
        records.append({"steps_per_stage": steps, "steps": report["steps"], "peak_mib": mib,
                        "rel_l2": report["rel_l2"], "train_seconds": report["train_seconds"]})
    growth = records[1]["peak_mib"] / records[0]["peak_mib"] - 1
    print("| steps per stage | steps run | peak resident MiB | relative L2 | training s |")
    print("|---|---|---|---|---|")
    for r in records:
        print(f"| {','.join(map(str, r['steps_per_stage']))} | {r['steps']} | {r['peak_mib']:.0f} | "
              f"{r['rel_l2']:.2e} | {r['train_seconds']:.1f} |")
    print(f"growth of the peak from {records[0]['steps']} to {records[1]['steps']} steps: {100 * growth:+.1f}%")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dtype": args.dtype, "engine": args.engine, "records": records, "growth": growth,
               "cpu_count": os.cpu_count(), "versions": versions()}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
