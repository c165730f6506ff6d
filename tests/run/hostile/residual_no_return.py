from pinnkan import Dirichlet, Interval, Problem


def residual(f):
    f.u_t + f.u


problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=residual,
    conditions=[Dirichlet("t_min", 1.0)],
)
