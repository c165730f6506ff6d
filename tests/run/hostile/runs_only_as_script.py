"""Loads fine: the script part must not run when pinnkan imports the file (the solve then fails on --steps)."""

import sys

from pinnkan import Dirichlet, Interval, Problem

problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=lambda f: f.u_t + f.u,
    conditions=[Dirichlet("t_min", 1.0)],
)

if __name__ == "__main__":
    print("script part ran")
    sys.exit(3)
