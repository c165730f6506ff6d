from pinnkan import Dirichlet, Interval, Problem

problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=lambda f: f.u_t + f.u,
    conditions=[Dirichlet("t_min", 1.0)],
    hard_constraint=lambda c, raw: 1.0 + c["t"] * raw,
)
