"""Run folders: where a solve writes its report, figures and trained model."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy
import torch

if TYPE_CHECKING:
    from .solve import Solution

__all__ = ["check_output_folder", "versions", "write_run_folder"]


def versions() -> dict[str, str]:
    """Versions of Python and the numerical stack."""
    from .. import __version__

    return {
        "pinnkan": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": sys.platform,
    }


def check_output_folder(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and make sure it is a writable folder."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot create the output folder {path} ({err.strerror}); choose another --out") from None
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise ValueError(f"the output folder {path} is not writable; choose another --out")
    return path


def write_run_folder(solution: Solution, folder: Path) -> None:
    """Write ``report.json``, the figures and ``model.pt`` into ``folder``.

    ``model.pt`` holds the trained approximator as a pickled module with the PDE
    training points and coordinate names, for ``pinnkan plot``; load it with
    ``torch.load(path, weights_only=False)`` only from run folders you trust.
    """
    from ..plotting import plot_error_over_time, plot_history, plot_snapshots, plot_solution

    report = solution.report()
    _write_text(folder / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    model_file = {"net": solution.net, "samples": solution.samples, "coordinates": solution.problem.coordinates}
    torch.save(model_file, folder / "model.pt")
    if solution.train.history.records:
        plot_history(solution.train.history, folder / "loss_history.png")
    comparison = solution.comparison
    if comparison is not None:
        plot_solution(comparison, folder / "solution.png")
        if comparison.time_axis is not None:
            plot_error_over_time(comparison, folder / "error_over_time.png")
            if len(comparison.grid.axes) == 2:
                plot_snapshots(comparison, folder / "snapshots.png")


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
