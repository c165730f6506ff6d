import torch

from pinnkan import Adam, Dirichlet, Interval, KANSpec, Points, Problem, Setup

problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=lambda f: (f.u_t + f.u)[:4],
    conditions=[Dirichlet("t_min", 1.0)],
    
)
setup = Setup(model=KANSpec(hidden=(4,)), points=Points(interior=32, boundary=1), stages=(Adam(steps=1),))
