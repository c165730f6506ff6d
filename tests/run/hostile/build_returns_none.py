from pinnkan import Interval, Problem


def build(*, rate: float = 1.0) -> Problem:
    Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + rate * f.u)


problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + f.u)
