"""Setup: the engine and compile options, checked where they enter."""

import pytest

from pinnkan import Auto, Autograd, Jets, Setup


def test_the_default_engine_is_auto_and_engines_are_objects():
    assert Setup().engine == Auto()
    assert Setup(engine="auto").engine == Auto()
    assert Setup(engine=Jets(max_order=2)).engine == Jets(max_order=2)
    described = Setup(engine=Autograd(), compile=True).describe()
    assert described["engine"] == "autograd" and described["compile"] is True


@pytest.mark.parametrize("options, error, message", [
    ({"engine": "jets"}, TypeError, r"Setup.engine must be 'auto' or an Engine such as Jets\(\) or Autograd\(\)"),
    ({"engine": None}, TypeError, "Setup.engine must be 'auto'"),
    ({"compile": "yes"}, TypeError, "Setup.compile must be True or False"),
])
def test_bad_engine_options_name_the_fix(options, error, message):
    with pytest.raises(error, match=message):
        Setup(**options)


@pytest.mark.parametrize("options, error, message", [
    ({"tolerance": 0.0}, ValueError, r"Setup.tolerance is a relative L2 error to reach, a number in \(0, 1\)"),
    ({"tolerance": "small"}, ValueError, "Setup.tolerance is a relative L2 error"),
    ({"budget": "five minutes"}, ValueError, "cannot read the budget 'five minutes'; give seconds or a duration such as"),
    ({"budget": -3}, ValueError, "the budget must be a positive, finite time"),
    ({"hard": "initial"}, TypeError, None),
    ({"hard": (1, 2)}, TypeError, "Setup.hard must be True, False or a tuple of condition names"),
    ({"decay": 1}, TypeError, "Setup.decay must be True or False"),
])
def test_bad_refinement_and_constraint_options_name_the_fix(options, error, message):
    if message is None:  # one name alone is accepted as a tuple of one
        assert Setup(**options).hard == ("initial",)
        return
    with pytest.raises(error, match=message):
        Setup(**options)


def test_automatic_stages_refine_to_the_default_tolerance_and_given_ones_only_when_asked():
    import math

    import torch

    from pinnkan import Adam, Dirichlet, Interval, Problem
    from pinnkan.run.setup import DEFAULT_BUDGET, DEFAULT_TOLERANCE, parse_budget, resolve

    problem = Problem(name="p", domain=Interval(0.0, 1.0), residual=lambda f: f.u_xx + torch.sin(math.pi * f.x),
                      conditions=[Dirichlet("boundary", 0.0)])
    automatic = resolve(Setup(), problem)
    assert (automatic.tolerance, automatic.budget) == (DEFAULT_TOLERANCE, DEFAULT_BUDGET)
    assert automatic.refinement().tolerance == 1e-3
    given = resolve(Setup(stages=(Adam(steps=5),)), problem)
    assert given.tolerance is None and given.refinement() is None
    asked = resolve(Setup(stages=(Adam(steps=5),), tolerance=1e-4, budget="2m"), problem)
    assert asked.refinement().budget == 120.0
    assert [parse_budget(t) for t in ("90", "90s", "1.5m", "2h", 7)] == [90.0, 90.0, 90.0, 7200.0, 7.0]


def test_the_default_grid_resolves_the_data_the_network_must_reproduce():
    import math

    import torch

    from pinnkan import Box, Dirichlet, Initial, Problem, SpaceTime
    from pinnkan.run.setup import data_grid

    domain = SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}), (0.0, 1.0))
    problem = Problem(name="p", domain=domain, residual=lambda f: f.u_t - f.u_xx - f.u_yy,
                      conditions=[Initial(0.0), Dirichlet("boundary", 0.0)])
    waves = lambda c: torch.sin(4 * math.pi * c["x"])  # noqa: E731  (4 pi radians per unit length)
    # 4 pi / (384 * 1e-3)^(1/4) = 15.96...: 16 intervals (the slope is measured on 512 sampled points)
    assert abs(data_grid(problem, [("initial", waves)], 1e-3) - 16) <= 1
    assert abs(data_grid(problem, [("initial", waves)], 1e-5) - 4 * math.pi / (384e-5) ** 0.25) <= 1.5
    assert data_grid(problem, [("x_max", lambda c: 1 + 0 * c["y"]), ("initial", 0.0)], 1e-3) == 5  # constants need nothing
    assert data_grid(problem, [("initial", lambda c: torch.sin(60 * math.pi * c["x"]))], 1e-3) == 64  # at most 64


def test_points_given_without_a_count_of_pde_points_keep_the_default_for_the_dimension():
    from pinnkan import Box, Dirichlet, Interval, Points, Problem, SpaceTime
    from pinnkan.run.setup import resolve

    def problem(domain):
        return Problem(name="p", domain=domain, residual=lambda f: f.laplacian("u") + 1.0,
                       conditions=[Dirichlet("boundary", 0.0)])

    square = problem(Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}))
    cube_in_time = problem(SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)}), (0.0, 1.0)))
    # boundary points alone: the PDE points stay what the automatic setup chooses
    assert resolve(Setup(points=Points(boundary=400)), square).points == Points(interior=1000, boundary=400)
    assert resolve(Setup(), square).points == Points(interior=1000, boundary=200)
    assert resolve(Setup(points=Points(boundary=50)), cube_in_time).points.interior == 4000
    assert resolve(Setup(points=Points(interior=64)), problem(Interval(0.0, 1.0))).points.interior == 64
    assert Points().interior_for(3) == 2000
    with pytest.raises(ValueError, match="Points.interior must be a positive int, got 0"):
        Points(interior=0)
