"""Run folders: where a solve writes its report, figures and trained model (read back by :mod:`.load`)."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy
import torch

from ..errors import InputValueError
from ..files import atomic_write, plain, save_torch
from ..models.base import Network
from ..pde.transforms import ConstrainedModel
from .figures import Extra, write_figures

if TYPE_CHECKING:
    from .solve import Solution

__all__ = ["check_output_folder", "model_payload", "versions", "write_run_folder"]


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
        raise InputValueError(f"cannot create the output folder {path} ({err.strerror}); choose another --out") from None
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise InputValueError(f"the output folder {path} is not writable; choose another --out")
    return path


def write_run_folder(
    solution: Solution, folder: Path, *, figures: bool = True, extra: Extra | None = None
) -> dict[str, str] | None:
    """Write ``report.json``, ``model.pt`` and (unless ``figures`` is False) the figures into ``folder``.

    Every file is written atomically. ``model.pt`` holds no pickled objects: the
    approximator's spec and state dict, the coefficients, whether a hard
    constraint was built in, the PDE training points and the coordinate and
    output names, under a format header; :func:`pinnkan.run.load.load_run`
    rebuilds the model from it.

    The figures (see :func:`pinnkan.run.figures.write_figures`) are drawn after
    ``report.json`` and ``model.pt`` are safe; a figure that cannot be drawn is a
    warning, and ``report.json`` is written again with ``"figures"``: file name ->
    ``"written"`` or ``"failed: <reason>"``. ``extra`` adds fields to the figures
    (see :func:`pinnkan.run.figures.model_fields`), e.g. an estimated error.

    Returns
    -------
    dict or None
        What became of each figure; None when ``figures`` is False.
    """
    report = solution.report()
    _write_report(folder, report)
    save_torch(model_payload(solution), folder / "model.pt", kind="model")
    if not figures:
        return None
    outcomes = write_figures(solution, folder, extra=extra)
    _write_report(folder, {**report, "figures": outcomes})
    return outcomes


def _write_report(folder: Path, report: dict[str, object]) -> None:
    atomic_write(folder / "report.json", json.dumps(report, indent=2, default=str) + "\n")


def model_payload(solution: Solution) -> dict[str, object]:
    """What ``model.pt`` holds: plain values and tensors only (see :func:`write_run_folder`)."""
    net = solution.net
    problem = solution.problem
    # A model of the user's own spec is stored as its state dict only: it is
    # rebuilt by giving load_run the spec, never by unpickling a class.
    spec = net.spec() if isinstance(net, Network) else None
    lo, hi = problem.domain.bounds()
    return {
        "spec": None if spec is None else {"kind": spec.kind, **{f.name: getattr(spec, f.name) for f in fields(spec)}},  # type: ignore[arg-type]
        "model_class": type(net).__name__,
        "in_features": problem.domain.dim,
        "out_features": len(problem.outputs),
        "bounds": (lo.tolist(), hi.tolist()),
        "dtype": str(solution.dtype).removeprefix("torch."),
        "net": _cpu(net.state_dict()),
        "coefficients": _cpu(solution.model.coefficients.state_dict()),
        "hard": isinstance(solution.model.net, ConstrainedModel),
        "decay": bool(solution.setup.decay),
        "samples": solution.samples.detach().cpu(),
        "problem": problem.name,
        "parameters": plain(dict(problem.parameters)),
        "coordinates": list(problem.coordinates),
        "outputs": list(problem.outputs),
    }


def _cpu(state: dict[str, object]) -> dict[str, object]:
    return {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state.items()}
