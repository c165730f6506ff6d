"""u_t = 0.1 (u_xx + u_yy) on the unit square for t in [0, 1], u = 0 on the sides, u(x, y, 0) = sin(pi x) sin(pi y).

Exact: u = exp(-0.2 pi^2 t) sin(pi x) sin(pi y). A problem file without a setup.
"""

import math

import torch

from pinnkan import Box, Dirichlet, Initial, Problem, SpaceTime

problem = Problem(
    name="heat2d",
    domain=SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}), (0.0, 1.0)),
    residual=lambda f: f.u_t - 0.1 * f.laplacian("u"),
    conditions=[
        Initial(lambda c: torch.sin(math.pi * c["x"]) * torch.sin(math.pi * c["y"])),
        Dirichlet("boundary", 0.0),
    ],
    exact=lambda c: torch.exp(-0.2 * math.pi**2 * c["t"]) * torch.sin(math.pi * c["x"]) * torch.sin(math.pi * c["y"]),
)
