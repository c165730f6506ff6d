"""Run many ``pinnkan`` command lines, each in a process of its own, forked from one that imported pinnkan once.

Importing torch and pinnkan costs about 5 s of CPU per process on the 2-core test
machine, so a corpus of fifty command lines started as ``python -m pinnkan.run.cli``
would spend minutes importing. This script imports :mod:`pinnkan.run.cli` once and
forks one child per command line. A child runs what the console script runs,
``sys.exit(main(argv))``; an exception that escapes is printed by
``sys.excepthook`` as the interpreter prints it, and the child's stdout, stderr and
exit status are collected. The parent never runs torch code, so every child forks
from a process without threads.

Usage::

    python cli_processes.py WORKERS < cases.json > results.json

``cases.json`` is a list of ``{"argv": [...], "cwd": "..."}``; the results are a list
of ``{"status": int, "stdout": str, "stderr": str}`` in the same order (a negative
status is the signal that ended the child, e.g. -14 after ``TIMEOUT`` seconds).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from pinnkan.run.cli import main

# Seconds a child may run before SIGALRM ends it.
TIMEOUT = 240


def _status(code: object) -> int:
    """The exit status for ``sys.exit(code)``, as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _child(argv: list[str], cwd: str, stdout: int, stderr: int) -> NoReturn:
    """Run one command line with its output in the given files, then end the process."""
    status = 1
    try:
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.chdir(cwd)
        signal.alarm(TIMEOUT)
        sys.argv = ["pinnkan", *argv]
        try:
            status = _status(main(argv))
        except SystemExit as stop:
            status = _status(stop.code)
        except BaseException:
            sys.excepthook(*sys.exc_info())
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def run_all(cases: list[dict[str, object]], workers: int) -> list[dict[str, object]]:
    """Run every case, ``workers`` at a time; their results in the order of ``cases``."""
    with tempfile.TemporaryDirectory(prefix="pinnkan_cli_") as name:
        folder = Path(name)
        statuses = _run(cases, workers, folder)
        return [
            {
                "status": statuses[i],
                "stdout": (folder / f"{i}.out").read_text(errors="replace"),
                "stderr": (folder / f"{i}.err").read_text(errors="replace"),
            }
            for i in range(len(cases))
        ]


def _run(cases: list[dict[str, object]], workers: int, folder: Path) -> dict[int, int]:
    """Fork a child per case, at most ``workers`` at once, output in ``folder``; case index -> exit status."""
    pending = list(enumerate(cases))
    running: dict[int, int] = {}  # pid -> case index
    statuses: dict[int, int] = {}
    while pending or running:
        while pending and len(running) < workers:
            index, case = pending.pop(0)
            out = os.open(folder / f"{index}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            err = os.open(folder / f"{index}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            pid = os.fork()
            if pid == 0:
                _child([str(a) for a in case["argv"]], str(case["cwd"]), out, err)  # type: ignore[attr-defined]
            os.close(out)
            os.close(err)
            running[pid] = index
        pid, wait_status = os.waitpid(-1, 0)
        statuses[running.pop(pid)] = os.waitstatus_to_exitcode(wait_status)
    return statuses


if __name__ == "__main__":
    json.dump(run_all(json.load(sys.stdin), int(sys.argv[1])), sys.stdout)
