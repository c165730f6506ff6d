"""-Laplace(u) = f on [0, 2] x [0, 1] with u = sin(pi x) sin(pi y) + x y / 2 (manufactured), Dirichlet data from u.

A problem file as a new user writes it: no setup, so pinnkan chooses every setting.
"""

import math

import torch

from pinnkan import Box, Dirichlet, Problem


def exact(c):
    return torch.sin(math.pi * c["x"]) * torch.sin(math.pi * c["y"]) + 0.5 * c["x"] * c["y"]


problem = Problem(
    name="poisson_rectangle",
    domain=Box({"x": (0.0, 2.0), "y": (0.0, 1.0)}),
    residual=lambda f: -f.laplacian("u") - 2 * math.pi**2 * torch.sin(math.pi * f.x) * torch.sin(math.pi * f.y),
    conditions=[Dirichlet("boundary", exact)],
    exact=exact,
)
