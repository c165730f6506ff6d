"""The ``pinnkan`` command: list, solve, plot, export, formula. The one place that maps names to objects.

A user's error (a bad argument, a problem file that does not load, a setting the
library refuses, a function of the user's that fails: :class:`~pinnkan.errors.InputError`)
ends the command with ``pinnkan: error: <message>`` on stderr and exit status 2, without
a traceback; ``--debug`` raises it with its traceback. Any other exception is a bug in
pinnkan: its traceback is printed with a request to report it, and the status is 1.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import math
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist

from ..errors import InputError, InputValueError
from ..models import SPECS
from ..models.base import ModelSpec
from ..models.kan import KAN
from ..models.kernel_build import KernelBuild
from ..pde.engines import Auto, Autograd, Engine, Jets
from ..pde.problem import Problem
from ..reference.readers import ReferenceFile
from ..training.adaptive import RAD, RAR, Resample, Resampling
from ..training.trainer import CHECKPOINT_EVERY
from ..training.weighting import NTK, Causal, GradNorm, ResidualAttention, Weighting
from .catalog import list_problems, load_problem
from .folder import check_output_folder
from .formulas import FormulaSearch
from .load import load_run
from .logs import TensorBoard
from .memory import keep_freed_memory
from .setup import Setup, parse_budget, resolve
from .solve import DEVICE_TYPES, DTYPES, best_device, check_device, solve

# The one place where names on the command line become objects.
# --model NAME: the approximator used when the problem's own spec is of another kind.
MODELS: dict[str, ModelSpec] = {kind: spec() for kind, spec in SPECS.items()}
# --weighting NAME[,NAME]: loss balancing ("none" keeps every weight one, as --resampling none keeps the points).
WEIGHTINGS: dict[str, Weighting | None] = {
    "none": None,
    "gradnorm": GradNorm(),
    "ntk": NTK(),
    "attention": ResidualAttention(),
    "causal": Causal(),
}
# --resampling NAME: how the PDE points move during Adam stages.
RESAMPLINGS: dict[str, Resampling | None] = {
    "none": None,
    "resample": Resample(every=500),
    "rad": RAD(),
    "rar": RAR(),
}

# --log NAME: training logs written into the run folder as it trains.
LOGS: dict[str, TensorBoard] = {"tensorboard": TensorBoard()}

# --engine NAME: how derivatives are computed.
ENGINES: dict[str, Engine] = {"auto": Auto(), "jets": Jets(), "autograd": Autograd()}

# What the command line reports as the user's error, in one line (--debug: with the traceback):
# pinnkan's own checks, and failures inside the user's code, which pinnkan reports as InputError.
USER_ERRORS: tuple[type[BaseException], ...] = (InputError,)
# Running out of memory is the user's too: the size of the problem is theirs to choose.
OUT_OF_MEMORY: tuple[type[BaseException], ...] = (MemoryError, getattr(torch, "OutOfMemoryError", MemoryError))

__all__ = ["main"]


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--steps takes positive integers separated by commas, one per stage, got {text!r}"
        ) from None
    if any(n < 1 for n in steps):
        raise argparse.ArgumentTypeError(f"--steps must be positive, one per stage, got {text!r}")
    return steps


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--extend takes grid sizes separated by commas, e.g. 10,20, got {text!r}") from None
    if any(n < 2 for n in sizes) or sizes != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(f"--extend takes increasing grid sizes, e.g. 10,20, got {text!r}")
    return sizes


def _parameter(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, e.g. nu=0.02, got {text!r}")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        parsed = value.strip()  # a word stays a string
    return name.strip(), parsed


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed takes a whole number >= 0, e.g. --seed 1, got {text!r}") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"--seed takes a whole number from 0 to 2**63 - 1, got {text!r}")
    return seed


def _positive(text: str, message: str) -> int:
    """``text`` as an int >= 1, else an argparse error ``message`` followed by ``got <text>``."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{message}, got {text!r}")
    return value


def _every(text: str) -> int:
    return _positive(text, "--checkpoint-every takes a number of steps >= 1, e.g. 500")


def _chunk_size(text: str) -> int | str:
    return text if text in ("auto", "none") else _positive(text, "--chunk-size takes a number of rows >= 1, auto or none")


def _device(text: str) -> str:
    try:
        check_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"--{err}") from None
    return text


def _out(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out takes the path of a folder, got an empty one")
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"--out {text} is a file; give a folder (created if missing)")
    return text


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0.0 < value < 1.0):
        raise argparse.ArgumentTypeError(
            f"--tolerance takes a relative L2 error to reach, a number between 0 and 1 such as 1e-3; got {text!r}"
        )
    return value


def _budget(text: str) -> float:
    try:
        return parse_budget(text)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _field(text: str) -> tuple[str, str]:
    output, sep, name = text.partition("=")
    if not sep or not output.strip() or not name.strip():
        raise argparse.ArgumentTypeError(f"--field takes OUTPUT=NAME (the file's field for an output), e.g. u=T, got {text!r}")
    return output.strip(), name.strip()


def _weighting(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    unknown = [n for n in names if n not in WEIGHTINGS]
    if unknown or ("none" in names and len(names) > 1):
        raise argparse.ArgumentTypeError(
            f"--weighting takes one or more of {sorted(WEIGHTINGS)} separated by commas "
            f"(none alone), e.g. causal,gradnorm; got {text!r}"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinnkan",
        description="Solve PDEs with physics-informed Kolmogorov-Arnold networks.",
        epilog="A user's error prints `pinnkan: error: <message>` and exits with status 2; --debug shows its traceback.",
    )
    debug_help = "on an error, show the Python traceback instead of one line (for a bug report)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    # Also after the subcommand; SUPPRESS keeps a --debug given before it.
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the built-in problems", parents=[debug])
    solve_p = sub.add_parser("solve", help="train on a problem, compare, write a run folder", parents=[debug])
    solve_p.add_argument("problem", help="built-in problem name or path to a problem file (.py)")
    solve_p.add_argument(
        "--param",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the problem (repeatable), e.g. --param nu=0.02; `pinnkan list` shows them",
    )
    solve_p.add_argument(
        "--out", type=_out, help="run folder (default: runs/NAME, runs/NAME_nu=0.005 with --param nu=0.005)"
    )
    solve_p.add_argument("--steps", type=_steps, help="steps per stage, e.g. 5000,500")
    solve_p.add_argument("--seed", type=_seed, default=0, help="seed for points and initialisation (>= 0)")
    solve_p.add_argument(
        "--dtype", choices=sorted(DTYPES), help="precision (default: the problem's setup, else float32)"
    )
    solve_p.add_argument(
        "--device", type=_device, default=None, help=f"torch device: auto (a GPU if there is one) or one of "
        f"{', '.join(DEVICE_TYPES)}, with an index such as cuda:1 if need be (default cpu)"
    )
    solve_p.add_argument(
        "--distributed", action="store_true", help="train with the other processes torchrun started, each on its "
        "share of the points (gloo on CPUs, NCCL on GPUs), e.g. torchrun --nproc_per_node=2 -m pinnkan solve NAME "
        "--distributed"
    )
    solve_p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    solve_p.add_argument(
        "--checkpoint-every", type=_every, default=CHECKPOINT_EVERY, metavar="N",
        help="steps between checkpoints (default 1000; one is also written at every stage end)",
    )
    solve_p.add_argument("--soft", action="store_true", help="enforce every condition through the loss")
    solve_p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    solve_p.add_argument(
        "--model", choices=sorted(MODELS), help="approximator (default: the problem's own, a B-spline KAN)"
    )
    solve_p.add_argument(
        "--extend", type=_sizes, help="after training, extend the KAN grid to each size, e.g. 10,20, "
        "rerunning the last stage after each"
    )
    solve_p.add_argument(
        "--weighting", type=_weighting, help=f"loss balancing, one or more of {sorted(WEIGHTINGS)}, e.g. causal,gradnorm"
    )
    solve_p.add_argument("--resampling", choices=sorted(RESAMPLINGS), help="move the PDE points during Adam stages")
    solve_p.add_argument(
        "--engine", choices=sorted(ENGINES), help="derivatives by forward jets, autograd, or auto (jets where they run; "
        "the default)"
    )
    solve_p.add_argument("--compile", action="store_true", help="run the residuals on jets through torch.compile")
    solve_p.add_argument(
        "--chunk-size", type=_chunk_size, metavar="N|auto|none", help="evaluate the loss terms N residual rows at a "
        "time, adding up the gradients, so that many points fit in memory (default auto: chunks when a step "
        "would take more than a quarter of the free memory, and terms of more than 65,536 rows on the CPU)"
    )
    solve_p.add_argument(
        "--cc", metavar="COMMAND", help="C compiler of the fused spline kernels, with any arguments, e.g. 'ccache gcc' "
        "(default: $CC, else cc, gcc or clang)"
    )
    solve_p.add_argument(
        "--kernel-cache", metavar="DIR", help="folder of the compiled kernels (default: $PINNKAN_KERNEL_CACHE, else "
        "$XDG_CACHE_HOME/pinnkan/kernels, else ~/.cache/pinnkan/kernels); it must be yours and not writable by others"
    )
    solve_p.add_argument(
        "--no-kernels", action="store_true", help="run B-spline KANs on PyTorch operators only, no C kernels (as "
        "PINNKAN_NATIVE=0)"
    )
    solve_p.add_argument(
        "--tolerance", type=_tolerance, help="refine after the stages until the estimated relative L2 error is below "
        "this (default 1e-3 when the stages are chosen automatically)"
    )
    solve_p.add_argument(
        "--budget", type=_budget, help="training time for refinement to go on, e.g. 300, 90s, 5m, 1h (default 5m)"
    )
    solve_p.add_argument(
        "--no-decay", action="store_true", help="keep a built-in initial value at full amplitude (no fitted decay)"
    )
    solve_p.add_argument(
        "--log", choices=sorted(LOGS), action="append", default=[],
        help="write training logs into the run folder as it trains (tensorboard: OUT/tensorboard, watch with "
        "`tensorboard --logdir OUT/tensorboard`)"
    )
    solve_p.add_argument(
        "--reference", help="compare with the solution in this file (mesh, COMSOL table, .npz, .mat, netCDF) instead of "
        "the problem's own"
    )
    solve_p.add_argument(
        "--field", type=_field, action="append", default=[], metavar="OUTPUT=NAME",
        help="take the reference's OUTPUT from the file's field NAME, e.g. --field u=T (repeat for more outputs)"
    )
    plot_p = sub.add_parser("plot", help="draw a KAN run's edge functions and network diagram", parents=[debug])
    plot_p.add_argument("run", help="run folder written by `pinnkan solve`")
    export_p = sub.add_parser("export", help="write a run's solution to a file for ParaView, xarray or numpy",
                              parents=[debug])
    export_p.add_argument("run", help="run folder written by `pinnkan solve`")
    export_p.add_argument(
        "--to", required=True, help="file to write: .vtu or .xdmf (ParaView), .nc (netCDF), .npz, .mat, .txt, .csv"
    )
    export_p.add_argument(
        "--problem", help="the problem file of a run of your own problem (built-in problems are found by name)"
    )
    export_p.add_argument(
        "--points", type=lambda text: _positive(text, "--points takes a whole number >= 2, e.g. 101"),
        help="points per axis of the grid used when the problem has no reference"
    )
    export_p.add_argument("--reference", help="compare with this file, as `pinnkan solve --reference FILE` did")
    export_p.add_argument("--field", type=_field, action="append", default=[], metavar="OUTPUT=NAME",
                          help="take the reference's OUTPUT from the file's field NAME (repeatable)")
    formula_p = sub.add_parser(
        "formula", parents=[debug],
        help="find a closed-form formula of a run's solution from the PDE alone (writes formula.txt)",
    )
    formula_p.add_argument("run", help="run folder written by `pinnkan solve`")
    formula_p.add_argument(
        "--problem", help="the problem file of a run of your own problem (built-in problems are found by name)"
    )
    formula_p.add_argument("--seed", type=_seed,
                           help="seed of the search's networks and points (the run's seed by default)")
    formula_p.add_argument("--tolerance", type=float, default=FormulaSearch().tolerance,
                           help="largest estimated relative L2 error of a clean formula (default %(default)g)")
    return parser


def _setup(setup: Setup, problem: Problem, args: argparse.Namespace) -> Setup:
    """The problem's setup with the command line's changes."""
    if args.model is not None and (setup.model is None or setup.model.kind != args.model):
        setup = replace(setup, model=MODELS[args.model])
    if args.extend is not None and setup.model is not None and setup.model.kind != "kan":
        raise InputValueError(
            f"--extend refines a B-spline KAN's grid, so it needs a B-spline KAN model; this setup's model "
            f"is {setup.model.kind}: drop --extend or give --model kan"
        )
    if (args.steps is not None or args.extend is not None) and setup.stages is None:
        setup = replace(setup, stages=resolve(setup, problem).stages)
    if args.weighting is not None:
        schemes = tuple(WEIGHTINGS[n] for n in args.weighting if WEIGHTINGS[n] is not None)
        setup = replace(setup, weighting=schemes or ())
    if args.resampling is not None:
        setup = replace(setup, resampling=RESAMPLINGS[args.resampling])
    if args.steps is not None:
        setup = _option("--steps", setup.with_steps, args.steps)
    if args.extend is not None:
        setup = _option("--extend", setup.with_grid_extension, args.extend)
    if args.soft:
        setup = replace(setup, hard=False)
    if args.engine is not None:
        setup = replace(setup, engine=ENGINES[args.engine])
    if args.compile:
        setup = replace(setup, compile=True)
    if args.chunk_size is not None:
        setup = replace(setup, chunk_size=None if args.chunk_size == "none" else args.chunk_size)
    if args.cc is not None or args.kernel_cache is not None or args.no_kernels:
        if args.no_kernels and (args.cc is not None or args.kernel_cache is not None):
            raise InputValueError("--no-kernels turns the C kernels off; drop --cc and --kernel-cache with it")
        if args.cc is not None and not args.cc.strip():
            raise InputValueError("--cc needs a compiler command, e.g. --cc gcc or --cc 'ccache gcc'")
        given = setup.kernels or KernelBuild()  # the problem file's build keeps what the flags do not change
        asked = args.cc is not None or args.kernel_cache is not None  # a compiler or cache of one's own: on
        setup = replace(setup, kernels=KernelBuild(
            enabled=not args.no_kernels and (asked or given.enabled),
            compiler=args.cc if args.cc is not None else given.command or None,
            cache=args.kernel_cache if args.kernel_cache is not None else given.cache,
        ))
    if args.tolerance is not None:
        setup = replace(setup, tolerance=args.tolerance)
    if args.budget is not None:
        setup = replace(setup, budget=args.budget)
    if args.no_decay:
        setup = replace(setup, decay=False)
    return setup


def _option(flag: str, change: Callable[[list[int]], Setup], value: list[int]) -> Setup:
    """``change(value)``, its error prefixed with the option that asked for it."""
    try:
        return change(value)
    except ValueError as err:
        raise InputValueError(f"{flag}: {err}") from err


def _folder_name(problem: str, parameters: Sequence[tuple[str, object]]) -> str:
    """``runs/NAME``, and ``runs/NAME_nu=0.005`` for other parameter values (no path separators from the values)."""
    changed = "".join(f"_{name}={value}" for name, value in parameters)
    return "runs/" + problem + re.sub(r"[^\w.=+-]", "_", changed)


def _plot(args: argparse.Namespace) -> int:
    """``pinnkan plot``: draw ``activations.png`` and ``network.png`` of the KAN saved in a run folder."""
    from ..plotting import plot_activations, plot_network

    folder = Path(args.run)
    saved = load_run(folder)
    if not isinstance(saved.net, KAN):
        raise InputValueError(f"pinnkan plot draws B-spline KAN edges; this run used {saved.net.describe()}")
    check_output_folder(folder)
    plot_activations(saved.net, saved.samples, folder / "activations.png")
    plot_network(saved.net, saved.samples, folder / "network.png", names=list(saved.coordinates))
    print(folder / "activations.png", folder / "network.png", sep="\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a user's error, see the module docstring)."""
    args = _parser().parse_args(argv)
    keep_freed_memory()  # the command owns its process: fewer page faults per training step
    if args.command == "list":
        return _guarded(_list, args)
    if args.command == "plot":
        return _guarded(_plot, args)
    if args.command == "export":
        return _guarded(_export, args)
    if args.command == "formula":
        return _guarded(_formula, args)
    return _guarded(_solve, args)


def _guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``command(args)``, a user's error printed in one line with status 2 (raised with ``--debug``)."""
    try:
        return command(args)
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f"pinnkan: error: {err}", file=sys.stderr)
    except OUT_OF_MEMORY as err:
        if args.debug:
            raise
        print(
            f"pinnkan: error: out of memory ({str(err) or type(err).__name__}); use fewer points "
            f"(Setup(points=Points(...))) or a smaller model",
            file=sys.stderr,
        )
    except Exception:  # anything else is pinnkan's bug: the traceback, and a request to report it
        if args.debug:
            raise
        traceback.print_exc()
        print(
            "pinnkan: internal error: this looks like a bug in pinnkan, not in your input. Please report it "
            "with the traceback above and the command you ran.",
            file=sys.stderr,
        )
        return 1
    return 2


def _list(args: argparse.Namespace) -> int:
    """``pinnkan list``: each built-in problem with its description and parameters."""
    problems = list_problems()
    width = max(map(len, problems), default=0)
    for name, path in problems.items():
        spec = load_problem(path)
        print(f"{name:{width}s}  {spec.problem.description}")
        if spec.parameters:
            print(f"{'':{width}s}  parameters: " + ", ".join(f"{k}={v!r}" for k, v in spec.parameters.items()))
    return 0


def _solve(args: argparse.Namespace) -> int:
    """``pinnkan solve``: load, train, compare, write the run folder, print the summary."""
    names = [name for name, _ in args.param]
    if len(set(names)) != len(names):
        raise InputValueError(f"--param gives {sorted({n for n in names if names.count(n) > 1})} more than once; give each once")
    spec = load_problem(args.problem, **dict(args.param))
    problem = _with_reference(spec.problem, args.reference, args.field)
    setup = _setup(spec.setup, problem, args)
    with _process_group(args.distributed, args.device) as (device, writer):
        out = check_output_folder(args.out or _folder_name(spec.problem.name, args.param))
        solution = solve(
            problem,
            setup,
            seed=args.seed,
            dtype=args.dtype,
            device=device,
            out=out,
            resume=args.resume,
            progress=not args.no_progress,
            checkpoint_every=args.checkpoint_every,
            distributed=args.distributed,
            logs=tuple(LOGS[name] for name in dict.fromkeys(args.log)),
        )
    if not writer:  # process 0 prints
        return 0 if solution.train.success else 1
    report = solution.report()
    keys = ("problem", "rel_l2", "linf", "rel_l2_exact", "error_estimate", "train_seconds", "steps", "coefficients")
    summary = {k: report[k] for k in keys if k in report}
    summary["engine"] = report["engine"]["terms"]  # type: ignore[index]
    print(json.dumps(summary))
    print(f"run folder: {out}")
    train = solution.train
    if train.stopped_by is not None:  # 128 + the signal, as a shell reports a process it stopped
        print(f"pinnkan: {train.message}; continue with --resume", file=sys.stderr)
        return 128 + signal.Signals[train.stopped_by].value
    if not train.success:
        print(f"pinnkan: training did not finish: {train.message}", file=sys.stderr)
        return 1
    return 0


def _with_reference(problem: Problem, path: str | None, fields: list[tuple[str, str]]) -> Problem:
    """The problem compared with ``--reference FILE`` (its fields mapped by ``--field``)."""
    if path is None and fields and isinstance(problem.reference, ReferenceFile):  # the problem file's own file
        return replace(problem, reference=replace(problem.reference, fields={**problem.reference.fields,
                                                                             **_mapping(fields)}))
    reference = _reference_file(path, fields)
    # The file's own error is not known: none is recorded.
    return problem if reference is None else replace(problem, reference=reference, reference_error=None)


def _reference_file(path: str | None, fields: list[tuple[str, str]]) -> ReferenceFile | None:
    """``--reference FILE`` with its ``--field`` mappings (None without a file)."""
    mapping = _mapping(fields)
    if path is None:
        if mapping:
            raise InputValueError("--field maps the fields of a reference file; give the file with --reference FILE")
        return None
    if not Path(path).is_file():
        raise InputValueError(f"--reference {path}: no such file; give the path of a mesh, table, .npz, .mat or .nc file")
    return ReferenceFile(Path(path), fields=mapping)


def _mapping(fields: list[tuple[str, str]]) -> dict[str, str]:
    outputs = [o for o, _ in fields]
    if len(set(outputs)) != len(outputs):
        raise InputValueError(f"--field maps {sorted({o for o in outputs if outputs.count(o) > 1})} more than once; give each once")
    return dict(fields)


def _export(args: argparse.Namespace) -> int:
    """``pinnkan export``: the run's outputs, residuals (and reference and error) in a file."""
    from .export import export_run

    reference = _reference_file(args.reference, args.field)
    path = export_run(args.run, args.to, problem=args.problem, reference=reference, points_per_axis=args.points)
    print(path)
    return 0


def _formula(args: argparse.Namespace) -> int:
    """``pinnkan formula``: search a formula of the run's problem, write it beside the run, print it."""
    from .formula_files import FORMULA_FILE, formula_run

    if not (args.tolerance > 0 and math.isfinite(args.tolerance)):
        raise InputValueError(f"--tolerance must be a number > 0, e.g. 1e-3; got {args.tolerance}")
    result = formula_run(args.run, problem=args.problem, seed=args.seed,
                         search=FormulaSearch(tolerance=args.tolerance), log=lambda line: print(line, file=sys.stderr))
    if result.clean:
        print("\n".join(result.text()))
    print(result.message)
    if not result.clean:
        print("best candidate: " + "; ".join(result.text()))
    print(Path(args.run) / FORMULA_FILE)
    return 0


@contextlib.contextmanager
def _process_group(distributed: bool, device: str | None) -> Iterator[tuple[str | None, bool]]:
    """With ``--distributed``: torch.distributed's default group, started from torchrun's environment (gloo, or
    NCCL on CUDA with each process on its ``LOCAL_RANK``'s GPU) and ended afterwards; yields the device to use
    and whether this process is the one that writes and prints."""
    if not distributed:
        yield device, True
        return
    if not {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"} <= os.environ.keys():
        raise InputValueError("--distributed runs under torchrun, which starts the processes: "
                              "torchrun --nproc_per_node=2 -m pinnkan solve NAME --distributed")
    if device == "auto":
        device = str(best_device())
    cuda = device is not None and device.startswith("cuda")
    if cuda and device == "cuda":
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    if cuda:
        torch.cuda.set_device(torch.device(device))
    started = not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield device, dist.get_rank() == 0
    finally:
        if started:
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
