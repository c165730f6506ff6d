import math

import numpy as np
import torch

from pinnkan import Dirichlet, Initial, Interval, Observations, Problem, SpaceTime

problem = Problem(
    name="heat",
    domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
    residual=lambda f: (f.u_t - f.u_xx)[:2],
    conditions=[Dirichlet("boundary", 0.0)],
)
