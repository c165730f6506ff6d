"""Viscous Burgers: u_t + u u_x = (0.01 / pi) u_xx on [-1, 1] x [0, 1], u(x, 0) = -sin(pi x), u(+-1, t) = 0.

A steep front (width ~ 0.003) forms at x = 0 after t = 1 / pi. Reference: the method-of-lines
finite-difference solver on 8,001 x 101 points (4.9e-6 relative L2 from the Hopf-Cole solution),
compared on every fourth x point. The initial value and the zero ends are built into the output.

The setup uses an MLP: B-spline KANs on a uniform grid cannot form the front (measured, float32,
seed 0, Adam 2000 + BFGS 1500: KAN[2,32,1] G=10 2.1e-1, KAN[2,16,16,1] G=5 1.1e-1, KAN[2,16,1]
G=40 2.9e-1, against 1.9e-2 for this MLP on 4,000 points); grids that follow the front are future
work. In float64 on 8,000 points with 6,000 BFGS steps the MLP reaches 5.0e-4 (seed 0): the loss
falls steadily through BFGS (1.4e-2 after Adam, 3.5e-4 after 1,000 BFGS steps, 2.5e-6 at the end).
"""

import math

import torch

from pinnkan import (
    BFGS,
    Adam,
    Dirichlet,
    GridSolution,
    Initial,
    Interval,
    MLPSpec,
    Points,
    Problem,
    Setup,
    SpaceTime,
)
from pinnkan.reference import solve_burgers_1d

NU = 0.01 / math.pi


def reference(nu: float) -> GridSolution:
    """The finite-difference solution, every fourth x point of its 8,001."""
    fine = solve_burgers_1d(nu=nu, nx=8001, nt=101)
    return GridSolution(fine.axes, (fine.coords[0][::4], fine.coords[1]), fine.values[::4], "fd")


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
        reference=lambda: reference(nu),
        reference_error=4.9e-6,
    )


problem = build()

setup = Setup(
    model=MLPSpec(hidden=(32, 32, 32)),
    points=Points(interior=8000, boundary=200),
    stages=(Adam(steps=2000, lr=1e-2, final_lr=1e-3), BFGS(steps=6000)),
    dtype="float64",
)
