"""Inverse heat problem: learn the diffusivity alpha of u_t = alpha u_xx from 200 noisy observations.

The data are the exact solution u = exp(-alpha pi^2 t) sin(pi x) with alpha = 0.4 at 200 points of
[0, 1] x [0, 1], plus Gaussian noise of 1% of their root-mean-square value (a fixed seed). The initial
value and the zero ends are known and built into the output; alpha starts at 1 and must end within
1% of 0.4.
"""

import math

import numpy as np
import torch

from pinnkan import (
    BFGS,
    Adam,
    Coefficient,
    Dirichlet,
    GradNorm,
    Initial,
    Interval,
    KANSpec,
    Observations,
    Points,
    Problem,
    Setup,
    SpaceTime,
)

ALPHA = 0.4  # the truth the observations come from


def exact(c):
    return torch.exp(-ALPHA * math.pi**2 * c["t"]) * torch.sin(math.pi * c["x"])


def observations(n: int = 200, noise: float = 0.01, seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the domain and the exact solution there with relative noise ``noise`` (of the RMS)."""
    rng = np.random.default_rng(seed)
    points = rng.random((n, 2))
    clean = np.exp(-ALPHA * np.pi**2 * points[:, 1]) * np.sin(np.pi * points[:, 0])
    return points, clean + noise * np.sqrt(np.mean(clean**2)) * rng.standard_normal(n)


points, values = observations()

problem = Problem(
    name="heat1d_inverse",
    description="learn alpha in u_t = alpha u_xx from 200 observations with 1% noise (truth 0.4)",
    domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
    residual=lambda f: f.u_t - f.alpha * f.u_xx,
    coefficients={"alpha": Coefficient(1.0, positive=True)},
    conditions=[
        Initial(lambda c: torch.sin(math.pi * c["x"])),
        Dirichlet("boundary", 0.0),
        Observations(points, values),
    ],
    exact=exact,
)

setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=5),
    points=Points(interior=1000, boundary=100),
    stages=(Adam(steps=1000, lr=1e-2, final_lr=1e-3), BFGS(steps=2000)),
    # tuned with gradient-norm balancing (the default for soft conditions before NTK)
    weighting=GradNorm(every=100),
)
