import torch

from pinnkan import Box, Dirichlet, Problem

problem = Problem(
    name="cauchy_riemann",
    domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    outputs=("u", "v"),
    residual=lambda f: torch.stack([f.u_x - f.v_y, f.u_y + f.v_x], dim=1),
    conditions=[Dirichlet("x_min", 0.0, output="u"), Dirichlet("x_min", 1.0, output="v", name="v_left")],
)
