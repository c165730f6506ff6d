"""Allen-Cahn: u_t = eps u_xx - 5 u^3 + 5 u on a periodic [-1, 1], t in [0, 1], u(x, 0) = x^2 cos(pi x).

eps = 1e-4 by default: the solution sharpens into flat states u = +-1 joined by thin interfaces,
the case where plain PINNs collapse to u = 0. The initial value is built into the output; periodicity
of the value is a loss term, and causal weighting makes later times wait for earlier ones. The slope
is not matched across the ends: u0 has u_x(-1) = 2 and u_x(1) = -2, so a matched slope contradicts
the built-in initial value near t = 0 (the true solution smooths that corner within a thin layer).
Reference: Crank-Nicolson with Newton's method on 2,001 points and 2,000 steps, periodic, 5.0e-6
relative L2 against a solve at four times the resolution (eps = 1e-4).
"""

import math

import numpy as np
import torch

from pinnkan import BFGS, Adam, Causal, ExtendGrid, Initial, Interval, KANSpec, Periodic, Points, Problem, Setup, SpaceTime
from pinnkan.reference import solve_reaction_diffusion_1d


def initial(x):
    cos = torch.cos if isinstance(x, torch.Tensor) else np.cos
    return x**2 * cos(math.pi * x)


def build(*, eps: float = 1e-4) -> Problem:
    """The problem with interface parameter ``eps`` (the diffusivity)."""
    if not eps > 0:
        raise ValueError(f"eps must be > 0 (the diffusivity), got {eps}")
    return Problem(
        name="allen_cahn1d",
        description=f"u_t = {eps:g} u_xx - 5u^3 + 5u, periodic x in [-1,1], t in [0,1], u0 = x^2 cos(pi x)",
        domain=SpaceTime(Interval(-1.0, 1.0), (0.0, 1.0)),
        residual=lambda f: f.u_t - eps * f.u_xx + 5 * f.u**3 - 5 * f.u,
        conditions=[Initial(lambda c: initial(c["x"])), Periodic("x", derivatives=0)],
        reference=lambda: solve_reaction_diffusion_1d(
            diffusion=eps,
            reaction=lambda u: 5 * u * (1 - u * u),
            reaction_derivative=lambda u: 5 - 15 * u * u,
            x_range=(-1.0, 1.0),
            t_range=(0.0, 1.0),
            initial=initial,
            periodic=True,
        ),
        reference_error=5.0e-6,
    )


problem = build()

# Measured (float32, seed 0, one thread beside other jobs), with value and slope matched: KAN[2,32,1]
# G=10, 4,000 points, Adam 2000 + BFGS 2000, causal (epsilon 1) 0.25 relative L2; this setup (grid
# extended to 20 and 40) 0.18; causal epsilon 100 1.06 (collapse). The error grew from the start,
# fastest around x = 0, where u stays near the unstable state 0 and residual errors grow like
# exp(5 t). Matching the value only: 2.4e-2 with this setup, 1.7e-2 in scripts/benchmark_problems.py
# (alone, two threads, 292 s; 2.1e-2 before grid refits used LAPACK's gelsd). The error that is left
# sits on the two interfaces at x = +-0.5 after t = 0.5 (and the dip at x = 0), whose width (~0.01)
# is below the knot spacing at G=40 (0.05). One more extension, to G=80 (spacing 0.025): with
# BFGS 1000 after it 1.08e-2, with BFGS 2000 8.4e-3 (one thread beside another job, 871 s). A later
# benchmark run (December 2026) measured 1.18e-2 for BFGS 2000, with the code of the earlier run as
# well: the environment, not pinnkan, moved it. BFGS 4000 at G=80: 9.7e-3 in 270 s; BFGS 6000 (this
# setup) 8.7e-3 in 330 s. With SSBroyden 1.23e-3 in 208 s (it stops after 1,986 of the last 6,000
# steps, when no step lowers the float32 loss); in float64 it uses every step and the PDE loss falls
# to 5e-10, but the error only to 1.15e-3: at G=80 the model has 8,097 parameters for 6,000 points,
# and the error sits between them. On 16,000 points (this setup, float32) 1.75e-4 in 484 s.
setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=10),
    points=Points(interior=16000, boundary=400),
    stages=(
        Adam(steps=1500, lr=1e-2, final_lr=1e-3),
        BFGS(steps=1000, update="ssbroyden"),
        ExtendGrid(grid_size=20),
        BFGS(steps=1000, update="ssbroyden"),
        ExtendGrid(grid_size=40),
        BFGS(steps=1000, update="ssbroyden"),
        ExtendGrid(grid_size=80),
        BFGS(steps=6000, update="ssbroyden"),
    ),
    weighting=Causal(epsilon=1.0, slabs=16),
)
