from pinnkan import Interval, Problem

build = {"rate": 1.0}
problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + f.u)
