import sys

from pinnkan import Interval, Problem

problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: f.u_t + f.u)
sys.exit(0)
