from pinnkan import Dirichlet, Interval, Problem

domain = Interval(0.0, 1.0, name="t")
problem = Problem(
    name="decay",
    domain=domian,
    residual=lambda f: f.u_t + f.u,
    conditions=[Dirichlet("t_min", 1.0)],
)
