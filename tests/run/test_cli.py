"""The command line and the end-to-end solve: run folder, report, error messages."""

import json

import numpy as np
import pytest

from pinnkan import LBFGS, Adam, KANSpec, KernelBuild, Points, Setup, load_problem, solve
from pinnkan.models.kernel_build import active_build
from pinnkan.run import cli
from pinnkan.run.cli import main


def test_list_shows_heat1d(capsys):
    assert main(["list"]) == 0
    assert "heat1d" in capsys.readouterr().out


def test_short_training_reaches_small_error_and_writes_run_folder(tmp_path):
    spec = load_problem("heat1d")
    setup = Setup(
        model=KANSpec(hidden=(6,), grid_size=5),
        points=Points(interior=256, boundary=64),
        stages=(Adam(steps=200, lr=1e-2), LBFGS(steps=100)),
    )
    solution = solve(spec.problem, setup, seed=1, dtype="float64", out=tmp_path / "run", progress=False)
    assert solution.train.success
    assert solution.comparison.rel_l2 < 5e-3
    assert abs(solution.comparison.rel_l2_exact - solution.comparison.rel_l2) < 1e-5
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    for key in ("problem", "rel_l2", "linf", "reference", "rel_l2_exact", "train_seconds", "steps",
                "params", "model", "dtype", "seed", "final_losses", "versions"):
        assert key in report, key
    assert report["reference"] == "fd" and report["dtype"] == "float64" and report["steps"] == 300
    assert report["rel_l2"] == pytest.approx(solution.comparison.rel_l2)
    for name in ("solution.png", "loss_history.png", "error_over_time.png", "checkpoint.pt"):
        assert (tmp_path / "run" / name).stat().st_size > 1000, name


def test_cli_solve_user_problem_file(tmp_path, capsys):
    problem_file = tmp_path / "decay.py"
    problem_file.write_text(
        "import torch\n"
        "from pinnkan import Interval, Problem, Dirichlet, Setup, Adam, KANSpec, Points\n"
        "problem = Problem(\n"
        "    name='decay', domain=Interval(0.0, 1.0, name='t'),\n"
        "    residual=lambda f: f.u_t + f.u, conditions=[Dirichlet('t_min', 1.0)],\n"
        "    exact=lambda c: torch.exp(-c['t']))\n"
        "setup = Setup(model=KANSpec(hidden=(4,)), points=Points(interior=64, boundary=1),\n"
        "              stages=(Adam(steps=100, lr=1e-2),))\n"
    )
    code = main(["solve", str(problem_file), "--out", str(tmp_path / "out"), "--steps", "300",
                 "--dtype", "float64", "--no-progress"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[0])
    assert summary["problem"] == "decay" and summary["steps"] == 300
    assert summary["rel_l2"] < 1e-2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "no_such_problem"], "unknown problem 'no_such_problem'; built-in problems are"),
        (["solve", "missing.py"], "no problem file at missing.py"),
        (["solve", "heat1d", "--steps", "0"], "--steps must be positive"),
        (["solve", "heat1d", "--steps", "10"], "give one step count per optimiser stage"),
        (["solve", "heat1d", "--dtype", "float16"], "invalid choice"),
        (["solve", "heat1d", "--model", "resnet"], "invalid choice"),
        (["solve", "heat1d", "--extend", "10,5"], "--extend takes increasing grid sizes"),
        (["solve", "heat1d", "--extend", "5", "--steps", "1,1"], "larger grid than the model's G=5"),
        (["solve", "heat1d", "--model", "mlp", "--extend", "10"], "needs a B-spline KAN model"),
        (["plot", "nowhere"], "does not exist; give a run folder"),
        (["solve", "heat1d", "--weighting", "magic"], "--weighting takes one or more of"),
        (["solve", "heat1d", "--weighting", "none,gradnorm"], "(none alone)"),
        (["solve", "heat1d", "--resampling", "often"], "invalid choice"),
        (["solve", "heat1d", "--engine", "symbolic"], "invalid choice"),
    ],
)
def test_cli_errors_name_the_fix(argv, message, capsys, tmp_path):
    out = ["--out", str(tmp_path)] if argv[0] == "solve" else []
    try:
        code = main([*argv, *out])
    except SystemExit as exit_:  # argparse reports usage errors itself
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_unwritable_output_folder_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["solve", "heat1d", "--out", str(blocker / "run")]) == 2
    assert "choose another --out" in capsys.readouterr().err


def test_resume_with_another_seed_is_refused(tmp_path, capsys):
    args = ["solve", "heat1d", "--out", str(tmp_path), "--steps", "3,2", "--no-progress"]
    assert main([*args, "--seed", "1"]) == 0
    assert main([*args, "--seed", "2", "--resume"]) == 2
    assert "resume with {'seed': 1}" in capsys.readouterr().err


@pytest.mark.parametrize("model, describe, limit", [("mlp", "MLP[2,32,32,32,1] tanh", 2e-2),
                                                     ("chebykan", "ChebyKAN[2,16,1] degree=6", 1e-1)])
def test_other_models_solve_through_the_same_command(model, describe, limit, tmp_path, capsys):
    args = ["solve", "heat1d", "--model", model, "--steps", "100,20", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"] == describe and report["setup"]["model"]["kind"] == model
    assert report["rel_l2"] < limit
    assert main(["plot", str(tmp_path)]) == 2
    assert "draws B-spline KAN edges" in capsys.readouterr().err


def test_extend_refines_the_grid_and_plot_draws_the_run(tmp_path, capsys):
    args = ["solve", "heat1d", "--steps", "100,50", "--extend", "10", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"].startswith("KAN[2,24,1] G=10")
    assert report["steps"] <= 200 and "extended the grid from G=5 to G=10" in report["message"]
    assert [s["stage"] for s in report["setup"]["stages"]] == ["Adam", "BFGS", "ExtendGrid", "BFGS"]
    capsys.readouterr()
    assert main(["plot", str(tmp_path)]) == 0
    for name in ("activations.png", "network.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name


def test_weighting_and_resampling_from_the_command_line(tmp_path):
    args = ["solve", "heat1d", "--soft", "--weighting", "causal,gradnorm", "--resampling", "rar",
            "--steps", "30,5", "--out", str(tmp_path), "--no-progress", "--dtype", "float64"]
    assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert [w["weighting"] for w in report["setup"]["weighting"]] == ["Causal", "GradNorm"]
    assert report["setup"]["resampling"]["resampling"] == "RAR"
    assert report["hard_constraint"].startswith("none")
    assert set(report["condition_errors"]) == {"initial", "dirichlet_boundary"}
    assert set(report["final_losses"]) == {"total", "pde", "initial", "dirichlet_boundary"}


def test_engines_from_the_command_line_agree_and_are_recorded(tmp_path):
    reports = {}
    for engine in ("autograd", "jets", "auto"):
        args = ["solve", "heat1d", "--engine", engine, "--steps", "20,3", "--dtype", "float64",
                "--out", str(tmp_path / engine), "--no-progress"]
        assert main(args) == 0
        reports[engine] = json.loads((tmp_path / engine / "report.json").read_text())
    assert reports["autograd"]["engine"]["terms"] == {"pde": "autograd"}
    assert reports["jets"]["engine"]["terms"] == {"pde": "jets"}
    assert reports["auto"]["engine"] == {"setup": "auto", "terms": {"pde": "jets"}, "notes": [], "compile": False,
                                         "chunk_size": None, "processes": 1,  # a few hundred points: no chunks
                                         "spline_kernels": active_build().status()}
    assert reports["jets"]["final_losses"]["total"] == pytest.approx(reports["autograd"]["final_losses"]["total"], rel=1e-6)



def test_the_kernel_build_is_set_from_the_command_line(tmp_path, capsys):
    base = ["solve", "heat1d", "--steps", "3,1", "--dtype", "float64", "--no-progress", "--budget", "1"]
    assert main([*base, "--no-kernels", "--out", str(tmp_path / "off")]) == 0
    assert json.loads((tmp_path / "off" / "report.json").read_text())["engine"]["spline_kernels"] == "disabled"
    # a named compiler that is not there: said in the warning and the report, and the run still works
    with pytest.warns(RuntimeWarning, match="'no-such-cc-pinnkan' is not found"):
        assert main([*base, "--cc", "no-such-cc-pinnkan -O2", "--out", str(tmp_path / "missing")]) == 0
    report = json.loads((tmp_path / "missing" / "report.json").read_text())
    assert report["engine"]["spline_kernels"] == "the C compiler 'no-such-cc-pinnkan' is not found"
    assert main([*base, "--no-kernels", "--cc", "gcc"]) == 2
    assert "--no-kernels turns the C kernels off; drop --cc" in capsys.readouterr().err
    if active_build().available():  # the kernels land in the folder given
        assert main([*base, "--kernel-cache", str(tmp_path / "kernels"), "--out", str(tmp_path / "on")]) == 0
        assert json.loads((tmp_path / "on" / "report.json").read_text())["engine"]["spline_kernels"] == "native"
        assert {p.name.split("-")[0] for p in (tmp_path / "kernels").iterdir()} == {"spline_jet"}


def test_kernel_flags_turn_a_problem_files_kernels_on_and_keep_its_other_settings(tmp_path):
    spec = load_problem("heat1d")
    own = Setup(kernels=KernelBuild(enabled=False, compiler="gcc -O2", cache=tmp_path / "mine"))
    args = cli._parser().parse_args(["solve", "heat1d", "--kernel-cache", str(tmp_path / "other")])
    build = cli._setup(own, spec.problem, args).kernels
    assert (build.enabled, build.command, build.cache) == (True, ("gcc", "-O2"), tmp_path / "other")
    args = cli._parser().parse_args(["solve", "heat1d", "--no-kernels"])
    build = cli._setup(Setup(), spec.problem, args).kernels
    assert not build.enabled and build.status() == "disabled"

def test_a_monitor_sees_the_model_as_it_trains():
    spec = load_problem("heat1d")
    setup = Setup(model=KANSpec(hidden=(4,), grid_size=4), points=Points(interior=64, boundary=16),
                  stages=(Adam(steps=6, lr=1e-2),))
    seen = []

    def monitor(model):
        first = [p.detach().clone() for p in model.parameters()]

        def callback(step, record):  # how far the parameters have moved: the model trains in place
            seen.append((step, sum(float((p - q).abs().sum()) for p, q in zip(model.parameters(), first))))

        seen.append(model)
        return callback

    solution = solve(spec.problem, setup, seed=0, progress=False, monitor=monitor)
    assert seen[0] is solution.model and [s for s, _ in seen[1:]] == list(range(1, 7))
    assert 0 < seen[1][1] < seen[-1][1]
    with pytest.raises(TypeError, match="monitor must be a callable model -> callback"):
        solve(spec.problem, setup, monitor=3)

def test_setup_kernels_must_be_a_kernel_build():
    with pytest.raises(TypeError, match=r"Setup.kernels must be a KernelBuild\(compiler=..., cache=..., enabled=...\)"):
        Setup(kernels="gcc")


USER_MODULE = """
import torch
from pinnkan import Interval, Problem, Dirichlet, Setup, Adam, Points
from pinnkan.models.base import ModelSpec

class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
    def forward(self, x):
        return torch.tanh(self.layer(x))

class TinySpec(ModelSpec):
    kind = "tiny"
    def build(self, in_features, out_features, bounds, *, dtype=None, device=None):
        return Tiny().to(dtype=dtype)

problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + f.u,
                  conditions=[Dirichlet("t_min", 1.0)], exact=lambda c: torch.exp(-c["t"]))
setup = Setup(model=TinySpec(), points=Points(interior=32, boundary=1), stages=(Adam(steps=5),), hard=False)
"""


def test_a_users_module_runs_on_autograd_and_explicit_jets_say_why_not(tmp_path, capsys):
    problem_file = tmp_path / "tiny.py"
    problem_file.write_text(USER_MODULE)
    with pytest.warns(UserWarning, match="autograd: Tiny is not one of pinnkan's networks"):
        assert main(["solve", str(problem_file), "--out", str(tmp_path / "auto"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "auto" / "report.json").read_text())
    assert report["engine"]["terms"] == {"pde": "autograd", "dirichlet_t_min": "autograd"}
    assert report["engine"]["notes"] == ["autograd: Tiny is not one of pinnkan's networks (it has no forward_jet)"]
    capsys.readouterr()
    assert main(["solve", str(problem_file), "--engine", "jets", "--out", str(tmp_path / "jets"), "--no-progress"]) == 2
    assert "Jets() cannot run here: Tiny is not one of pinnkan's networks" in capsys.readouterr().err


# Poisson on the unit ball minus the octant box [0, 1]^3: -Laplace(u) = 1.75 u for u = sin(x) cos(y) e^(z/2).
BALL_MINUS_BOX = """
import torch
from pinnkan import Adam, Ball, Box, Dirichlet, KANSpec, Points, Problem, Setup

def exact(c):
    return torch.sin(c["x"]) * torch.cos(c["y"]) * torch.exp(0.5 * c["z"])

problem = Problem(
    name="poisson_ball", domain=Ball((0.0, 0.0, 0.0), 1.0) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u") - 1.75 * f.u, conditions=[Dirichlet("boundary", exact)], exact=exact,
    reference_points=31)
setup = Setup(model=KANSpec(hidden=(4,), grid_size=3), points=Points(interior=64, boundary=64),
              stages=(Adam(steps=5), Adam(steps=5, lr=1e-3)))
"""

# Heat on the unit cube over t in [0, 1]: u_t = 0.05 Laplace(u), u = exp(-0.15 pi^2 t) sin(pi x) sin(pi y) sin(pi z).
HEAT_CUBE = """
import math
import torch
from pinnkan import Adam, Box, Dirichlet, Initial, KANSpec, Points, Problem, Setup, SpaceTime

def exact(c):
    return (torch.exp(-0.15 * math.pi**2 * c["t"]) * torch.sin(math.pi * c["x"]) * torch.sin(math.pi * c["y"])
            * torch.sin(math.pi * c["z"]))

problem = Problem(
    name="heat_cube", domain=SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)}), (0.0, 1.0)),
    residual=lambda f: f.u_t - 0.05 * f.laplacian("u"), conditions=[Initial(exact), Dirichlet("boundary", 0.0)],
    exact=exact, reference_points=33)
setup = Setup(model=KANSpec(hidden=(4,), grid_size=3), points=Points(interior=64, boundary=64),
              stages=(Adam(steps=5), Adam(steps=5, lr=1e-3)))
"""


def _drawn(path) -> tuple[float, float]:
    """Share of pixels that are not white, and of coloured (not grey) ones."""
    from matplotlib.image import imread

    image = imread(path)[..., :3]
    ink = float(np.mean(np.any(image < 0.95, axis=-1)))
    colour = float(np.mean(image.max(axis=-1) - image.min(axis=-1) > 0.2))
    return ink, colour


@pytest.mark.parametrize("source, figures", [
    (BALL_MINUS_BOX, ("solution.png", "residual.png", "loss_history.png", "error_estimate.png")),
    (HEAT_CUBE, ("solution.png", "residual.png", "loss_history.png", "error_over_time.png", "error_estimate.png")),
])
def test_three_space_axes_solve_and_draw_every_figure(source, figures, tmp_path, capsys):
    problem_file = tmp_path / "problem.py"
    problem_file.write_text(source)
    args = ["solve", str(problem_file), "--steps", "5,5", "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["figures"] == dict.fromkeys(figures, "written")
    for name in figures:
        ink, colour = _drawn(tmp_path / "run" / name)
        assert ink > (0.2 if name in ("solution.png", "residual.png") else 0.1 if name == "error_estimate.png" else 0.02), name
        if name in ("solution.png", "residual.png", "error_estimate.png"):
            assert colour > (0.1 if name == "error_estimate.png" else 0.2), name  # heat maps, not empty axes
    assert not (tmp_path / "run" / "snapshots.png").exists()  # profiles are for one space axis


def test_a_figure_that_fails_is_a_warning_and_the_run_succeeds(tmp_path, monkeypatch, capsys):
    from pinnkan import plotting
    from pinnkan.run.figures import FigureWarning

    def broken(*args, **kwargs):
        raise RuntimeError("no room for the colour bar")

    monkeypatch.setattr(plotting, "plot_fields", broken)
    args = ["solve", "heat1d", "--steps", "3,2", "--out", str(tmp_path), "--no-progress"]
    with pytest.warns(FigureWarning, match="residual.png was not drawn: RuntimeError: no room for the colour bar"):
        assert main(args) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["figures"] == {
        "loss_history.png": "written",
        "solution.png": "written",
        "residual.png": "failed: RuntimeError: no room for the colour bar",
        "error_over_time.png": "written",
        "snapshots.png": "written",
        "error_estimate.png": "failed: RuntimeError: no room for the colour bar",
    }
    assert report["steps"] == 5 and "rel_l2" in report
    for name in ("loss_history.png", "solution.png", "error_over_time.png", "snapshots.png", "model.pt"):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert not (tmp_path / "residual.png").exists()
