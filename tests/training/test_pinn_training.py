"""Training a PINN with coefficients, weighting and resampling: resume is exact, coefficients are learned."""

import math

import numpy as np
import torch

from pinnkan import (
    BFGS,
    KAN,
    PINN,
    Adam,
    Coefficient,
    Dirichlet,
    GradNorm,
    Initial,
    Interval,
    Observations,
    Points,
    Problem,
    SpaceTime,
)
from pinnkan.pde.coefficients import CoefficientSet
from pinnkan.pde.transforms import ConstrainedModel, HardConstraint
from pinnkan.training.adaptive import RAR
from pinnkan.training.losses import PINNLoss
from pinnkan.training.trainer import Trainer

F64 = torch.float64
ALPHA = 0.4


def _exact(x, t):
    return np.exp(-ALPHA * np.pi**2 * t) * np.sin(np.pi * x)


def _problem(n_obs=100):
    rng = np.random.default_rng(5)
    points = rng.random((n_obs, 2))
    return Problem(
        name="inverse",
        domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - f.alpha * f.u_xx,
        coefficients={"alpha": Coefficient(1.0, positive=True)},
        conditions=[
            Initial(lambda c: torch.sin(math.pi * c["x"])),
            Dirichlet("boundary", 0.0),
            Observations(points, _exact(points[:, 0], points[:, 1])),
        ],
    )


def _parts(problem, seed=0, resampling=None, weighting=None):
    torch.manual_seed(seed)
    hard = HardConstraint(
        particular=lambda c: torch.sin(math.pi * c["x"]),
        distance=lambda c: c["t"] * c["x"] * (1 - c["x"]),
        parts=("initial", "boundary"),
    )
    net = KAN((2, 8, 1), input_bounds=((0.0, 0.0), (1.0, 1.0)), dtype=F64)
    model = PINN(ConstrainedModel(net, hard, problem.coordinates), CoefficientSet(problem.coefficients, dtype=F64))
    soft = [c for c in problem.conditions if not hard.covers(c)]
    loss = PINNLoss(problem, soft, Points(interior=256, boundary=32), rng=np.random.default_rng(seed), dtype=F64,
                    resampling=resampling, weighting=weighting, max_order=net.smoothness)
    return model, loss


def test_the_diffusivity_is_learned_from_observations():
    problem = _problem()
    model, loss = _parts(problem)
    result = Trainer(model, loss, [Adam(steps=300, lr=1e-2, final_lr=1e-3), BFGS(steps=300)], progress=False).run()
    alpha = model.coefficients.report()["alpha"]
    assert result.success
    assert abs(alpha - ALPHA) / ALPHA < 0.01, alpha
    history = result.history.column("coef/alpha")
    assert math.isclose(history[0], 1.0, rel_tol=0.02) and abs(history[-1] - alpha) < 1e-3
    assert "coef/alpha" not in result.history.term_names


def test_resume_with_resampling_and_weighting_repeats_the_run_exactly(tmp_path):
    stages = [Adam(steps=30, lr=1e-2), BFGS(steps=10)]

    def build(seed=0):
        return _parts(_problem(), seed=seed, resampling=RAR(every=10, add=16), weighting=GradNorm(every=5))

    model, loss = build()
    reference = Trainer(model, loss, stages, progress=False).run()
    expected = {k: v.clone() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}

    def interrupt(step, record):
        if step == 17:
            raise KeyboardInterrupt

    path = tmp_path / "checkpoint.pt"
    model, loss = build()
    stopped = Trainer(model, loss, stages, checkpoint=path, checkpoint_every=5, progress=False, callbacks=[interrupt]).run()
    assert not stopped.success
    model, loss = build(seed=99)  # other points and parameters: all must come from the checkpoint
    trainer = Trainer(model, loss, stages, checkpoint=path, checkpoint_every=5, progress=False)
    trainer.resume()
    resumed = trainer.run()
    assert resumed.success and resumed.steps == reference.steps
    for key, value in expected.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert loss.pde_points().shape[0] == 256 + 3 * 16  # RAR at steps 10, 20, 30
    assert resumed.history.column("weight/data")[-1] == reference.history.column("weight/data")[-1]
