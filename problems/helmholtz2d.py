"""Helmholtz on [-1, 1]^2: Laplace(u) + k^2 u = q with u = sin(pi x) sin(4 pi y), u = 0 on the sides.

q = (k^2 - 17 pi^2) sin(pi x) sin(4 pi y), k = 1 by default. The solution oscillates four times
faster in y than in x, the classic case where an unbalanced boundary loss stalls (Wang, Teng &
Perdikaris 2021). Reference: the 5-point stencil on 201 x 201 points, Richardson-extrapolated with the
401 x 401 solve, 2.3e-7 relative L2 from the exact solution (k = 1).
"""

import math

import numpy as np
import torch

from pinnkan import BFGS, Adam, Box, Dirichlet, ExtendGrid, KANSpec, Points, Problem, Setup
from pinnkan.reference import solve_helmholtz_2d


def solution(x, y):
    """u = sin(pi x) sin(4 pi y), for tensors and numpy arrays alike."""
    sin = torch.sin if isinstance(x, torch.Tensor) else np.sin
    return sin(math.pi * x) * sin(4 * math.pi * y)


def exact(c):
    return solution(c["x"], c["y"])


def build(*, k: float = 1.0) -> Problem:
    """The problem for wave number ``k`` (the exact solution stays the same; q follows k)."""
    if not k >= 0:
        raise ValueError(f"k must be >= 0 (only k^2 enters), got {k}")
    return Problem(
        name="helmholtz2d",
        description=f"Laplace u + k^2 u = q, k = {k:g}, on [-1,1]^2, u = sin(pi x) sin(4 pi y), zero Dirichlet",
        domain=Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}),
        residual=lambda f: f.laplacian("u") + k**2 * f.u - (k**2 - 17 * math.pi**2) * exact({"x": f.x, "y": f.y}),
        conditions=[Dirichlet("boundary", 0.0)],
        exact=exact,
        reference=lambda: solve_helmholtz_2d(
            k=k,
            source=lambda x, y: (k**2 - 17 * math.pi**2) * solution(x, y),
            x_range=(-1.0, 1.0),
            y_range=(-1.0, 1.0),
        ),
        reference_error=2.3e-7,
    )


problem = build()

# Measured (float32, seed 0, one thread beside other jobs; Adam 1000 + BFGS 3000, boundary built in):
# KAN[2,32,1] G=10 on 2,000 points 4.4e-3 (6.0e-3 in float64: not a precision limit); 6,000 points
# 3.7e-3; G=16 on 4,000 points 1.3e-3; G=24 on 4,000 points 2.0e-3; G=16 on 6,000 1.1e-3. The error is
# a smooth low-frequency bump the residual hardly sees (a low mode costs (k^2 - pi^2 / 2) times its
# size in the residual, the oscillation 17 pi^2).
# In scripts/benchmark_problems.py (two threads) G=16 with BFGS 3000 gave 1.51e-3 in 287 s; then
# ExtendGrid(24) + BFGS 2000 1.01e-3 (376 s), and with BFGS 3500 9.5e-4 in 449 s.
# With SSBroyden in both BFGS stages (December 2026, alone on the machine): float32 1.21e-4 in 183 s
# (5,000 steps in the last stage: 1.35e-4, the update stopping after 4,466 of them); float64 (this
# setup) 9.9e-5 in 331 s.
setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=16),
    points=Points(interior=6000, boundary=400),
    stages=(
        Adam(steps=1000, lr=1e-2, final_lr=1e-3),
        BFGS(steps=3000, update="ssbroyden"),
        ExtendGrid(grid_size=24),
        BFGS(steps=3500, update="ssbroyden"),
    ),
    dtype="float64",
)
