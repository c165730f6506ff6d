"""Multi-scale heat flow (PINNacle "Heat2d-MS"): u_t = u_xx / (500 pi)^2 + u_yy / pi^2 on [0, 1]^2, t in [0, 5].

u(x, y, 0) = sin(20 pi x) sin(pi y), u = 0 on the sides. The exact solution is
sin(20 pi x) sin(pi y) exp(-(1 + 1/625) t): ten waves across x that barely diffuse, and one across y
that decays by e^5 = 148 over the interval. The initial value and the sides are built into the
output; the initial value's decay rate is fitted to the PDE at t = 0 (pinnkan.pde.decay), so that the
output follows the solution's decay and the network needs no grid fine enough for the ten waves.
"""

import math

import torch

from pinnkan import BFGS, Adam, Box, Dirichlet, Initial, KANSpec, Points, Problem, Setup, SpaceTime

RATE = 1.0 + 1.0 / 625.0


def exact(c):
    return torch.sin(20 * math.pi * c["x"]) * torch.sin(math.pi * c["y"]) * torch.exp(-RATE * c["t"])


problem = Problem(
    name="heat_multiscale",
    description="u_t = u_xx/(500 pi)^2 + u_yy/pi^2 on [0,1]^2, t in [0,5], u0 = sin(20 pi x) sin(pi y) (PINNacle Heat2d-MS)",
    domain=SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}), (0.0, 5.0)),
    residual=lambda f: f.u_t - f.u_xx / (500 * math.pi) ** 2 - f.u_yy / math.pi**2,
    conditions=[
        Initial(lambda c: torch.sin(20 * math.pi * c["x"]) * torch.sin(math.pi * c["y"])),
        Dirichlet("boundary", 0.0),
    ],
    exact=exact,
    reference_points=201,
)

setup = Setup(
    model=KANSpec(hidden=(16,), grid_size=5),
    points=Points(interior=2000, boundary=200),
    stages=(Adam(steps=300, lr=1e-2, final_lr=1e-3), BFGS(steps=1000)),
    dtype="float64",
)
