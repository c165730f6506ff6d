import torch

from pinnkan import Dirichlet, Interval, Problem

problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=lambda f: f.u_t + f.u,
    conditions=[Dirichlet("t_min", 1.0)],
    exact=lambda c: torch.exp(-c["t"]) * (1.0 / (len(c) - 1)),
)
