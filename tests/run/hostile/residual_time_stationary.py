from pinnkan import Box, Dirichlet, Problem

problem = Problem(
    name="plate",
    domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
    residual=lambda f: f.u_t - f.u_xx - f.u_yy,
    conditions=[Dirichlet("boundary", 0.0)],
)
