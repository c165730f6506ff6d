import math

import numpy as np
import torch

from pinnkan import Dirichlet, HardConstraint, Initial, Interval, Problem, SpaceTime

problem = Problem(
    name="heat",
    domain=SpaceTime(Interval(0.0, 1.0), (0.0, 1.0)),
    residual=lambda f: f.u_t - f.u_xx,
    conditions=[Initial(lambda c: torch.sin(math.pi * c["x"])), Dirichlet("boundary", 0.0)],
    hard_constraint=HardConstraint(
        particular=lambda c: torch.sin(math.pi * c["x"]),
        distance=lambda c: c["t"],
        parts=("initial", "boundary"),
    ),
)
