"""Helmholtz on [-1, 1]^2: Laplace(u) + k^2 u = q with u = sin(pi x) sin(4 pi y), u = 0 on the sides.

q = (k^2 - 17 pi^2) sin(pi x) sin(4 pi y), k = 1 by default. The solution oscillates four times faster
in y than in x, the classic case where an unbalanced boundary loss stalls (Wang, Teng & Perdikaris 2021).
"""

import math

import torch

from pinnkan import BFGS, Adam, Box, Dirichlet, KANSpec, Points, Problem, Setup


def exact(c):
    return torch.sin(math.pi * c["x"]) * torch.sin(4 * math.pi * c["y"])


def build(*, k: float = 1.0) -> Problem:
    """The problem for wave number ``k`` (the exact solution stays the same; q follows k)."""
    return Problem(
        name="helmholtz2d",
        description=f"Laplace u + {k:g}^2 u = q on [-1,1]^2, u = sin(pi x) sin(4 pi y), zero Dirichlet",
        domain=Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}),
        residual=lambda f: f.laplacian("u") + k**2 * f.u - (k**2 - 17 * math.pi**2) * exact({"x": f.x, "y": f.y}),
        conditions=[Dirichlet("boundary", 0.0)],
        exact=exact,
    )


problem = build()

setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=10),
    points=Points(interior=2000, boundary=400),
    stages=(Adam(steps=1000, lr=1e-2, final_lr=1e-3), BFGS(steps=3000)),
)
