"""Poisson on an L-shaped domain: -Laplace(u) = f on [-1, 1]^2 minus [0, 1]^2, Dirichlet data.

Manufactured solution u = sin(pi x) cos(pi y / 2) + x y, so f = (5 pi^2 / 4) sin(pi x) cos(pi y / 2)
and u is prescribed on the whole boundary (the two re-entrant edges included). The domain is one line
of constructive geometry; the boundary values are built into the output by transfinite interpolation
with the distance functions of its six edges.
"""

import math

import torch

from pinnkan import (
    BFGS,
    Adam,
    Box,
    Dirichlet,
    KANSpec,
    Points,
    Problem,
    Setup,
)


def exact(c):
    return torch.sin(math.pi * c["x"]) * torch.cos(0.5 * math.pi * c["y"]) + c["x"] * c["y"]


problem = Problem(
    name="poisson_lshape",
    description="-Laplace u = f on the L-shape [-1,1]^2 minus [0,1]^2, manufactured solution, Dirichlet",
    domain=Box({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}) - Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u")
    - 1.25 * math.pi**2 * torch.sin(math.pi * f.x) * torch.cos(0.5 * math.pi * f.y),
    conditions=[Dirichlet("boundary", exact)],
    exact=exact,
)

# Measured (float32, seed 0, scripts/benchmark_problems.py): with the condition in the loss, balanced by
# GradNorm (every 100), 1.34e-4 in 100 s; built in (this setup), 4.0e-5 in 11 s, BFGS stopping by itself.
setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=5),
    points=Points(interior=2000, boundary=400),
    stages=(Adam(steps=1000, lr=1e-2, final_lr=1e-3), BFGS(steps=3000, update="ssbroyden")),
)
