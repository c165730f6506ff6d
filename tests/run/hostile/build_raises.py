from pinnkan import Interval, Problem

RATES = {"slow": 0.1, "fast": 10.0}


def build(*, speed: str = "slow") -> Problem:
    rate = RATES[speed]
    return Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + rate * f.u)


problem = build(speed="medium")
