from pinnkan import Interval, Problem

# A residual typed with the partial-derivative sign, as in a paper.
problem = Problem(name="decay", domain=Interval(0.0, 1.0, name="t"), residual=lambda f: ∂u/∂t + f.u)
