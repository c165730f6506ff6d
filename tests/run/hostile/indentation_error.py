from pinnkan import Dirichlet, Interval, Problem

def residual(f):
return f.u_t + f.u

problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=residual)
