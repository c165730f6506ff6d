"""u_t = 0.1 u_xx + u (1 - u) ... a 1-D reaction-diffusion equation with time-dependent Dirichlet ends.

Manufactured: u = exp(-t) sin(pi x) + x (1 + t) / 2 on [0, 1] x [0, 1]; the source q makes it exact
for u_t = D u_xx - k u + q with D = 0.1, k = 1. A problem file without a setup.
"""

import math

import torch

from pinnkan import Dirichlet, Initial, Interval, Problem, SpaceTime

D, K = 0.1, 1.0


def exact(c):
    return torch.exp(-c["t"]) * torch.sin(math.pi * c["x"]) + 0.5 * c["x"] * (1 + c["t"])


def source(x, t):
    u = exact({"x": x, "t": t})
    u_t = -torch.exp(-t) * torch.sin(math.pi * x) + 0.5 * x
    u_xx = -(math.pi**2) * torch.exp(-t) * torch.sin(math.pi * x)
    return u_t - D * u_xx + K * u


problem = Problem(
    name="reaction_diffusion",
    domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
    residual=lambda f: f.u_t - D * f.u_xx + K * f.u - source(f.x, f.t),
    conditions=[
        Initial(lambda c: exact(c)),
        Dirichlet("x_min", lambda c: torch.zeros_like(c["t"])),
        Dirichlet("x_max", lambda c: 0.5 * (1 + c["t"])),
    ],
    exact=exact,
)
