"""Viscous Burgers: u_t + u u_x = (0.01 / pi) u_xx on [-1, 1] x [0, 1], u(x, 0) = -sin(pi x), u(+-1, t) = 0.

A steep front (width ~ 0.003) forms at x = 0 after t = 1 / pi. Reference: the exact Hopf-Cole
solution by Gauss-Hermite quadrature on 2,001 x 101 points (1.2e-15 relative L2 from the same with
600 nodes instead of 144; the quadrature is calibrated to 1e-12 for nu in [1e-4, 1], the figure
stated). The
method-of-lines finite-difference solver on 8,001 points, the reference until December 2026, is
4.9e-6 from it (tests/reference/test_burgers.py) -- too coarse for a 1e-4 target. The initial value
and the zero ends are built into the output.

The setup uses an MLP: B-spline KANs on a uniform grid cannot form the front (measured, float32,
seed 0, Adam 2000 + BFGS 1500: KAN[2,32,1] G=10 2.1e-1, KAN[2,16,16,1] G=5 1.1e-1, KAN[2,16,1]
G=40 2.9e-1, against 1.9e-2 for this MLP on 4,000 points); grids that follow the front are future
work. In float64 on 8,000 points the MLP's error falls through BFGS and then levels off (seed 0,
on jets, the error after 1,000 / 2,000 / 3,000 / 4,000 / 6,000 BFGS steps: 9.1e-3, 1.8e-3,
1.2e-3, 7.6e-4, 6.2e-4); 4,000 keep the run within its 10 minutes (with 6,000 it took 524-677 s).
For this MLP nested autograd is faster than jets (float64, 8,000 points, seconds per BFGS step:
0.104 against 0.132): this setup took 593 s on jets (7.6e-4) and 354-483 s on autograd (7.8e-4).
"""

import math

import torch

from pinnkan import (
    BFGS,
    Adam,
    Autograd,
    Dirichlet,
    Initial,
    Interval,
    MLPSpec,
    Points,
    Problem,
    Setup,
    SpaceTime,
)
from pinnkan.reference import burgers_exact_grid

NU = 0.01 / math.pi


def build(*, nu: float = NU) -> Problem:
    """The problem for viscosity ``nu`` (the front's width scales with ``nu``)."""
    if not nu > 0:
        raise ValueError(f"nu must be > 0 (a viscosity), got {nu}")
    return Problem(
        name="burgers1d",
        description=f"u_t + u u_x = {nu:.4g} u_xx, x in [-1,1], t in [0,1], u0 = -sin(pi x), zero ends",
        domain=SpaceTime(Interval(-1.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t + f.u * f.u_x - nu * f.u_xx,
        conditions=[Initial(lambda c: -torch.sin(math.pi * c["x"])), Dirichlet("boundary", 0.0)],
        reference=lambda: burgers_exact_grid(nu=nu, nx=2001, nt=101),
        reference_error=1e-12,
    )


problem = build()

setup = Setup(
    model=MLPSpec(hidden=(32, 32, 32)),
    points=Points(interior=8000, boundary=200),
    stages=(Adam(steps=2000, lr=1e-2, final_lr=1e-3), BFGS(steps=4000, update="ssbroyden")),
    engine=Autograd(),
    dtype="float64",
)
