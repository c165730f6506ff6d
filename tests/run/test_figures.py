"""model_fields (prediction and |residual| on the drawn grid) and write_figures (each figure in its own guard)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pinnkan import Ball, Box, Dirichlet, Initial, Problem, SpaceTime
from pinnkan.pde.coefficients import Coefficient, CoefficientSet
from pinnkan.pde.engines import Auto, Autograd, Jets
from pinnkan.pde.pinn import PINN
from pinnkan.run import figures
from pinnkan.run.figures import FigureWarning, model_fields, residual_name, write_figures
from pinnkan.training.trainer import History

from formula_model import FormulaModel

PI = math.pi


def _sin_sin(p):
    return torch.sin(PI * p[:, 0]) * torch.sin(PI * p[:, 1])


def _on_square_edge(points):
    """Points (N, 2) on the boundary of the unit square: where the residual is left blank."""
    return np.any((points == 0.0) | (points == 1.0), axis=1)


# -Laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on the unit square: u = sin(pi x) sin(pi y).
POISSON = Problem(
    name="poisson",
    domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u") - 2 * PI**2 * torch.sin(PI * f.x) * torch.sin(PI * f.y),
    conditions=[Dirichlet("boundary", 0.0)],
)


def test_prediction_is_the_model_and_the_residual_of_the_solution_vanishes():
    fields = model_fields(POISSON, FormulaModel(_sin_sin), points_per_axis=21)
    assert fields.names == ("u", "|residual pde|") and fields.shape == (21, 21)
    assert fields.kinds == {"u": "values", "|residual pde|": "magnitude"} and fields.mask is None
    x = np.linspace(0, 1, 21)
    np.testing.assert_allclose(fields.fields["u"], np.outer(np.sin(PI * x), np.sin(PI * x)), atol=1e-14)
    r = fields.fields["|residual pde|"].reshape(-1)
    edge = _on_square_edge(fields.points())
    assert edge.sum() == 80 and np.all(np.isnan(r[edge]))  # the conditions hold there, not the PDE
    assert np.max(r[~edge]) < 1e-11  # 2 pi^2 ~ 20: zero to rounding


def test_residual_magnitude_matches_the_closed_form():
    # u = x^2 y: Laplace(u) = 2 y, so |residual| = |2 y + 2 pi^2 sin(pi x) sin(pi y)|
    fields = model_fields(POISSON, FormulaModel(lambda p: p[:, 0] ** 2 * p[:, 1]), points_per_axis=11, batch=7)
    points = fields.points()
    x, y = points[:, 0], points[:, 1]
    expected = np.abs(2 * y + 2 * PI**2 * np.sin(PI * x) * np.sin(PI * y))
    expected[_on_square_edge(points)] = np.nan
    np.testing.assert_allclose(fields.fields["|residual pde|"].reshape(-1), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fields.fields["u"].reshape(-1), x**2 * y, atol=1e-15)
    # without residuals: the prediction alone
    alone = model_fields(POISSON, FormulaModel(lambda p: p[:, 0] ** 2 * p[:, 1]), points_per_axis=11, residuals=False)
    assert alone.names == ("u",)
    np.testing.assert_array_equal(alone.fields["u"], fields.fields["u"])


BALL = Problem(
    name="ball",
    domain=Ball((0.0, 0.0, 0.0), 1.0) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u") - 3 * f.u,
    conditions=[Dirichlet("boundary", 0.0)],
)


def test_three_space_axes_are_evaluated_on_the_three_planes_drawn():
    model = FormulaModel(lambda p: p[:, 0] + 2 * p[:, 1] + p[:, 2] ** 2)
    fields = model_fields(BALL, model, points_per_axis=41)
    assert fields.shape == (41, 41, 3) and fields.time_axis is None
    np.testing.assert_allclose(fields.coords[2], [-0.5, 0.0, 0.5])
    points = fields.points()
    radius = np.linalg.norm(points, axis=1)
    clear = np.abs(radius - 1.0) > 1e-9  # off the sphere, where rounding decides
    mask = fields.mask.reshape(-1)
    np.testing.assert_array_equal(mask[clear], ((radius < 1.0) & ~np.all(points > 0, axis=1))[clear])
    u = fields.fields["u"].reshape(-1)
    np.testing.assert_allclose(u[mask], (points[:, 0] + 2 * points[:, 1] + points[:, 2] ** 2)[mask])
    assert np.all(np.isnan(u[~mask]))
    # -Laplace(u) - 3 u = -2 - 3 u
    r = fields.fields["|residual pde|"].reshape(-1)
    within = mask & clear & ~(np.all(points >= 0, axis=1) & np.any(points == 0, axis=1))  # off the cut-out box's faces too
    np.testing.assert_allclose(r[within], np.abs(-2 - 3 * u[within]), rtol=1e-12)
    assert np.all(np.isnan(r[mask & ~within]))


def test_three_space_axes_and_time_give_the_middle_plane_at_three_times():
    problem = Problem(
        name="heat3d",
        domain=SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 2.0), "z": (0.0, 1.0)}), (0.0, 4.0)),
        residual=lambda f: f.u_t - f.laplacian("u"),
        conditions=[Initial(0.0), Dirichlet("boundary", 0.0)],
    )
    # u = t (x^2 + y^2 + z^2): u_t - Laplace(u) = x^2 + y^2 + z^2 - 6 t
    fields = model_fields(problem, FormulaModel(lambda p: p[:, 3] * (p[:, :3] ** 2).sum(1)), points_per_axis=9)
    assert fields.shape == (9, 9, 1, 3) and fields.time_axis == "t" and fields.mask is None
    np.testing.assert_allclose(fields.coords[2], [0.5])
    np.testing.assert_allclose(fields.coords[3], [0.0, 2.0, 4.0])
    p = fields.points()
    expected = np.abs((p[:, :3] ** 2).sum(1) - 6 * p[:, 3])
    lateral = np.any((p[:, :3] == 0) | (p[:, :3] == [1.0, 2.0, 1.0]), axis=1)  # t = 0 and t = 4 are not lateral
    assert 0 < lateral.sum() < p.shape[0]
    expected[lateral] = np.nan
    np.testing.assert_allclose(fields.fields["|residual pde|"].reshape(-1), expected, rtol=1e-12, atol=1e-12)


def test_coefficients_come_from_the_model_else_from_the_problem():
    problem = Problem(
        name="shifted",
        domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
        coefficients={"k": 3.0},
        residual=lambda f: -f.laplacian("u") - f.k,
        conditions=[Dirichlet("boundary", 0.0)],
    )
    u = FormulaModel(lambda p: p[:, 0] ** 2)  # Laplace(u) = 2
    plain = model_fields(problem, u, points_per_axis=5)
    np.testing.assert_allclose(plain.fields["|residual pde|"][1:-1, 1:-1], 5.0)  # |-2 - 3|
    pinn = PINN(u, CoefficientSet({"k": Coefficient(4.0)}, dtype=torch.float64))
    np.testing.assert_allclose(model_fields(problem, pinn, points_per_axis=5).fields["|residual pde|"][1:-1, 1:-1], 6.0)
    given = model_fields(problem, u, points_per_axis=5, coefficients={"k": torch.tensor(-2.0, dtype=torch.float64)})
    np.testing.assert_allclose(given.fields["|residual pde|"][1:-1, 1:-1], 0.0, atol=1e-13)


def test_extra_fields_are_evaluated_inside_the_domain_only():
    seen = []

    def estimate(points):
        seen.append(points.shape[0])
        return 0.1 * points[:, 0]

    fields = model_fields(BALL, FormulaModel(lambda p: p[:, 0]), points_per_axis=21, extra={"estimated error": (estimate, "magnitude")})
    assert fields.names == ("u", "|residual pde|", "estimated error") and fields.kinds["estimated error"] == "magnitude"
    inside = fields.mask.reshape(-1)
    assert seen == [int(inside.sum())]
    values = fields.fields["estimated error"].reshape(-1)
    np.testing.assert_allclose(values[inside], 0.1 * fields.points()[inside, 0])
    assert np.all(np.isnan(values[~inside]))


def test_a_grid_of_your_own_and_refusals_that_name_the_fix():
    own = model_fields(POISSON, FormulaModel(_sin_sin), coords=(np.array([0.5]), np.linspace(0, 1, 5)))
    np.testing.assert_allclose(own.fields["u"][0], np.sin(PI * np.linspace(0, 1, 5)), atol=1e-15)
    model = FormulaModel(_sin_sin)
    with pytest.raises(ValueError, match="give points_per_axis or coords, not both"):
        model_fields(POISSON, model, points_per_axis=5, coords=(np.linspace(0, 1, 3),) * 2)
    with pytest.raises(ValueError, match="one coordinate array per coordinate"):
        model_fields(POISSON, model, coords=(np.linspace(0, 1, 3),))
    with pytest.raises(ValueError, match="points_per_axis must be an int >= 2"):
        model_fields(POISSON, model, points_per_axis=1)
    with pytest.raises(TypeError, match="takes a Problem"):
        model_fields("poisson", model)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        model_fields(POISSON, _sin_sin)
    with pytest.raises(TypeError, match=r"extra\['e'\] must be \(function of points"):
        model_fields(POISSON, model, extra={"e": (np.abs, "log")})
    with pytest.raises(ValueError, match="extra field names must be new"):
        model_fields(POISSON, model, extra={residual_name("pde"): (np.abs, "magnitude")})
    with pytest.raises(ValueError, match="returned shape"):
        model_fields(POISSON, model, points_per_axis=3, extra={"e": (lambda p: p, "signed")})


def _solution(problem, model, history=()):
    """What write_figures reads of a Solution."""
    return SimpleNamespace(
        problem=problem, model=model, comparison=None, setup=SimpleNamespace(engine=Auto()),
        train=SimpleNamespace(history=History(list(history))),
    )


def test_each_figure_is_guarded_and_a_failed_field_evaluation_is_named_once(tmp_path, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(kwargs.get("residuals", True))
        raise RuntimeError("out of\nluck")

    monkeypatch.setattr(figures, "model_fields", broken)
    history = [{"step": 1.0, "stage": 0.0, "total": 1.0, "pde": 1.0}, {"step": 2.0, "stage": 0.0, "total": 0.5, "pde": 0.5}]
    with pytest.warns(FigureWarning) as caught:
        outcomes = write_figures(_solution(POISSON, FormulaModel(_sin_sin), history), tmp_path)
    assert outcomes == {
        "loss_history.png": "written",
        "solution.png": "failed: RuntimeError: out of luck",
        "residual.png": "failed: RuntimeError: out of luck",
    }
    assert [str(w.message) for w in caught] == [
        "solution.png was not drawn: RuntimeError: out of luck",
        "residual.png was not drawn: RuntimeError: out of luck",
    ]
    assert calls == [True, False]  # the fields once, then the prediction alone for solution.png
    assert (tmp_path / "loss_history.png").stat().st_size > 10_000
    assert not (tmp_path / "solution.png").exists()


def test_a_residual_that_fails_leaves_the_prediction_drawn(tmp_path):
    def residual(f):
        if f.n > 50:  # fine on the problem's probe, broken on a figure's batch
            raise RuntimeError("the coefficient table ends at 50 points")
        return -f.laplacian("u")

    problem = Problem(name="fragile", domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}), residual=residual,
                      conditions=[Dirichlet("boundary", 0.0)])
    with pytest.warns(FigureWarning, match="residual.png was not drawn: .*the coefficient table ends at 50 points"):
        outcomes = write_figures(_solution(problem, FormulaModel(_sin_sin)), tmp_path)
    assert outcomes["solution.png"] == "written" and outcomes["residual.png"].startswith("failed: ")
    assert "the coefficient table ends at 50 points" in outcomes["residual.png"]
    assert (tmp_path / "solution.png").stat().st_size > 20_000


def test_without_a_reference_the_prediction_and_residual_are_drawn(tmp_path):
    outcomes = write_figures(_solution(BALL, FormulaModel(lambda p: p[:, 0] * p[:, 2])), tmp_path)
    assert outcomes == {"solution.png": "written", "residual.png": "written"}  # no history: no loss figure
    for name in outcomes:
        assert (tmp_path / name).stat().st_size > 20_000


def test_jets_give_the_residual_of_autograd_and_a_module_they_cannot_run_falls_back():
    from pinnkan import KANSpec

    torch.manual_seed(0)
    net = KANSpec(hidden=(5,), grid_size=4).build(2, 1, ([0.0, 0.0], [1.0, 1.0]), dtype=torch.float64)
    jets = model_fields(POISSON, net, points_per_axis=15, engine=Jets(), batch=100)
    autograd = model_fields(POISSON, net, points_per_axis=15, engine=Autograd())
    r = autograd.fields["|residual pde|"]
    assert np.nanmax(r) > 1.0  # an untrained network: far from the solution
    np.testing.assert_allclose(jets.fields["|residual pde|"], r, rtol=1e-9, atol=1e-9 * np.nanmax(r))
    # Jets() cannot run a formula module: autograd takes over, with the closed-form residual
    fallback = model_fields(POISSON, FormulaModel(_sin_sin), points_per_axis=9, engine=Jets())
    assert np.nanmax(fallback.fields["|residual pde|"]) < 1e-11


def test_extra_fields_are_drawn_beside_the_prediction_or_in_a_figure_of_their_own(tmp_path, monkeypatch):
    from pinnkan import plotting
    from pinnkan.compare import compare
    from pinnkan.reference.grid import GridSolution

    drawn = {}
    real = plotting.plot_fields

    def spy(fields, path, **options):
        drawn[path.name] = (fields.names, options["title"])
        return real(fields, path, **options)

    monkeypatch.setattr(plotting, "plot_fields", spy)
    model = FormulaModel(_sin_sin)
    extra = {"estimated error": (lambda p: 0.1 * np.abs(p[:, 0]), "magnitude")}
    outcomes = write_figures(_solution(POISSON, model), tmp_path, extra=extra)
    assert outcomes == {"solution.png": "written", "residual.png": "written"}
    assert drawn == {
        "solution.png": (("u", "estimated error"), "poisson: prediction and estimated error (no reference to compare with)"),
        "residual.png": (("|residual pde|",), "poisson: size of the PDE residual"),
    }
    x = np.linspace(0, 1, 11)
    grid = GridSolution.from_function(lambda p: np.sin(PI * p[:, 0]) * np.sin(PI * p[:, 1]), ("x", "y"), (x, x))
    solution = _solution(POISSON, model)
    solution.comparison = compare(model, grid, time_axis=None)
    drawn.clear()
    outcomes = write_figures(solution, tmp_path, extra=extra)
    assert outcomes == {"solution.png": "written", "residual.png": "written", "error_estimate.png": "written"}
    assert drawn["error_estimate.png"] == (("estimated error",), "poisson: estimated error") and "solution.png" not in drawn
