from pinnkan import Box, Dirichlet, Problem, Where

problem = Problem(
    name="plate",
    domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    residual=lambda f: f.u_xx + f.u_yy,
    conditions=[Dirichlet(Where(lambda c: c["z"] < 0.5, name="left_half"), 0.0)],
)
