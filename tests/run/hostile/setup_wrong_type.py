from pinnkan import Adam, Dirichlet, Interval, KANSpec, Points, Problem, Setup

problem = Problem(
    name="decay",
    domain=Interval(0.0, 1.0, name="t"),
    residual=lambda f: f.u_t + f.u,
    conditions=[Dirichlet("t_min", 1.0)],
)
setup = {"steps": 10}
