"""Reading a run folder back: the trained model rebuilt from ``model.pt``, and the report.

``model.pt`` holds a spec and state dicts, never pickled objects, so opening a
run folder someone sent you runs no code of theirs (see :mod:`pinnkan.files`).

Examples
--------
>>> from pinnkan import load_problem, load_run
>>> run = load_run("runs/heat1d", problem=load_problem("heat1d").problem)  # doctest: +SKIP
>>> run.model(torch.tensor([[0.5, 0.1]]))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputTypeError, InputValueError
from ..files import load_torch
from ..models import SPECS
from ..models.base import ModelSpec
from ..pde.pinn import PINN
from ..pde.problem import Problem
from .catalog import list_problems, load_problem
from .setup import DTYPES, Setup
from .solve import assemble, hard_constraint

__all__ = ["SavedRun", "load_run", "run_problem"]



@dataclass(frozen=True)
class SavedRun:
    """A run folder read back.

    Attributes
    ----------
    folder : Path
    net : torch.nn.Module
        The trained approximator (without hard constraint or coefficients): a
        :class:`~pinnkan.models.base.Network` unless the run used a spec of your own.
    model : PINN or None
        The whole trained model, hard constraint and coefficients included; only
        when :func:`load_run` was given the problem (the constraint is built from it).
    samples : torch.Tensor
        The PDE residual's training points at the end of training (N, d).
    coordinates, outputs : tuple of str
    problem : str
        The problem's name; ``parameters`` its parameter values.
    parameters : dict
    report : dict or None
        ``report.json``, when the folder has one.
    """

    folder: Path
    net: nn.Module
    model: PINN | None
    samples: torch.Tensor
    coordinates: tuple[str, ...]
    outputs: tuple[str, ...]
    problem: str
    parameters: dict[str, object]
    report: dict[str, object] | None


def load_run(
    folder: str | os.PathLike[str],
    *,
    problem: Problem | None = None,
    spec: ModelSpec | None = None,
    device: torch.device | str | None = None,
) -> SavedRun:
    """Read the run folder written by :func:`pinnkan.solve` (or ``pinnkan solve``).

    Parameters
    ----------
    folder : path
        The run folder; it must hold ``model.pt``.
    problem : Problem, optional
        The problem the run solved (with the same parameters): then ``model`` is
        the whole trained model, with its hard constraint and coefficients.
    spec : ModelSpec, optional
        The spec that built the model, needed (only) when it was a spec of your
        own rather than ``KANSpec``, ``ChebyKANSpec`` or ``MLPSpec``.
    device : torch.device or str, optional
        Where to put the model (CPU by default).

    Raises
    ------
    ValueError
        Naming the file, when ``model.pt`` is missing, damaged, not a pinnkan
        model or of another version; when ``report.json`` is not JSON; when
        ``problem`` is not the problem of the run.
    """
    folder = Path(folder)
    path = folder / "model.pt"
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise InputValueError(f"{folder} {state}; give a run folder written by `pinnkan solve`")
    saved = load_torch(path, kind="model", map_location=device)
    try:
        net = _network(saved, spec, path, device)
        samples = saved["samples"]
        coordinates = tuple(saved["coordinates"])  # type: ignore[call-overload]
        outputs = tuple(saved["outputs"])  # type: ignore[call-overload]
        name, parameters = str(saved["problem"]), dict(saved["parameters"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputValueError(f"{path} is not a complete pinnkan model ({type(err).__name__}: {err}); rerun the solve") from None
    if not isinstance(samples, torch.Tensor):
        raise InputValueError(f"{path} is not a complete pinnkan model (its samples are not a tensor); rerun the solve")
    model = None if problem is None else _whole(saved, net, problem, path, device)
    return SavedRun(folder, net, model, samples, coordinates, outputs, name, parameters, _report(folder / "report.json"))


def _network(
    saved: Mapping[str, object], spec: ModelSpec | None, path: Path, device: torch.device | str | None
) -> nn.Module:
    if saved["spec"] is None and spec is None:
        raise InputValueError(
            f"{path} holds a model of your own ({saved['model_class']}); give load_run the spec that built it (spec=...)"
        )
    if spec is None:
        values = dict(saved["spec"])  # type: ignore[call-overload]
        kind = values.pop("kind")
        if kind not in SPECS:
            raise InputValueError(f"unknown model kind {kind!r}")
        spec = SPECS[kind](**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    elif not isinstance(spec, ModelSpec):
        raise InputTypeError(f"spec must be a ModelSpec, got {type(spec).__name__}")
    dtype = DTYPES[str(saved["dtype"])]
    net = spec.build(
        int(saved["in_features"]), int(saved["out_features"]), saved["bounds"], dtype=dtype, device=device  # type: ignore[arg-type, call-overload]
    )
    net.load_state_dict(saved["net"])  # type: ignore[arg-type]
    return net.eval()


def _whole(
    saved: Mapping[str, object], net: nn.Module, problem: Problem, path: Path, device: torch.device | str | None
) -> PINN:
    if not isinstance(problem, Problem):
        raise InputTypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if problem.name != saved["problem"] or tuple(problem.outputs) != tuple(saved["outputs"]):  # type: ignore[call-overload]
        raise InputValueError(
            f"{path} holds a model of {saved['problem']!r} with outputs {saved['outputs']}; "
            f"give that problem, not {problem.name!r}"
        )
    if dict(problem.parameters) != saved["parameters"]:
        raise InputValueError(
            f"{path} was trained with parameters {saved['parameters']}; give the problem built with them "
            f"(load_problem(name, **parameters)), not {dict(problem.parameters)}"
        )
    setup = Setup(hard=bool(saved["hard"]), decay=bool(saved.get("decay", False)))  # older runs had no decay
    transform = hard_constraint(problem, setup).constraint
    param = next(net.parameters())
    model = assemble(problem, net, transform, dtype=param.dtype, device=param.device)
    model.coefficients.load_state_dict(saved["coefficients"])  # type: ignore[arg-type]
    return model.eval()


def _report(path: Path) -> dict[str, object] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputValueError(f"{path} is not valid JSON ({err}); rerun the solve to write it again") from None


def run_problem(saved: SavedRun, problem: Problem | str | os.PathLike[str] | None, command: str) -> Problem:
    """The problem a run solved: the built-in one of its name, or the given Problem or problem file."""
    if problem is None:
        if saved.problem not in list_problems():
            raise InputValueError(
                f"{saved.folder} is a run of {saved.problem!r}, which is not a built-in problem; give its problem "
                f"file (pinnkan {command} RUN --problem my_problem.py ...)"
            )
        problem = load_problem(saved.problem, **saved.parameters).problem
    elif isinstance(problem, (str, os.PathLike)):
        problem = load_problem(problem, **saved.parameters).problem
    if not isinstance(problem, Problem):
        raise InputTypeError(f"problem must be a Problem or the path of its file, got {type(problem).__name__}")
    return problem
