from pinnkan import Dirichlet, Interval, Problem

SOURCES = {}


def residual(f):
    return f.u_t + f.u - SOURCES["heating"]


problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=residual,
    conditions=[Dirichlet("t_min", 1.0)],
)
