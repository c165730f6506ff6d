"""Heat flow with a variable conductivity: u_t = div(k grad u) on the unit square, t in [0, 0.5].

k(x, y) = 1 + a sin(pi x) sin(pi y) (a = 0.5 by default), u = 0 on the sides, u(x, y, 0) =
sin(pi x) sin(pi y). There is no closed form: the conductivity couples the modes. Reference:
Chebyshev collocation on 32 x 32 points, exact in time (a matrix exponential), saved on
51 x 51 x 51; 1.4e-13 relative L2 from the same on 40 x 40 (a = 0.5). Crank-Nicolson in flux form
on 201 x 201 points and 1,000 steps, the reference until December 2026, is 4.3e-6 from it
(tests/reference/test_heat2d_spectral.py). The initial value and the sides are built into the output.
"""

import math

import numpy as np
import torch

from pinnkan import BFGS, Adam, Box, Causal, Dirichlet, Initial, KANSpec, Points, Problem, Setup, SpaceTime
from pinnkan.reference import solve_heat_2d_spectral


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else np


def conductivity(x, y, a):
    """k = 1 + a sin(pi x) sin(pi y)."""
    xp = _lib(x)
    return 1 + a * xp.sin(math.pi * x) * xp.sin(math.pi * y)


def initial(x, y):
    xp = _lib(x)
    return xp.sin(math.pi * x) * xp.sin(math.pi * y)


def _flux_divergence(f, a):
    """div(k grad u) = k Laplace(u) + k_x u_x + k_y u_y."""
    sx, cx = torch.sin(math.pi * f.x), torch.cos(math.pi * f.x)
    sy, cy = torch.sin(math.pi * f.y), torch.cos(math.pi * f.y)
    k = 1 + a * sx * sy
    return k * (f.u_xx + f.u_yy) + a * math.pi * (cx * sy * f.u_x + sx * cy * f.u_y)


def build(*, a: float = 0.5) -> Problem:
    """The problem with conductivity amplitude ``a`` (``|a| < 1`` keeps k positive)."""
    if not (isinstance(a, float) and abs(a) < 1):
        raise ValueError(f"a must be a float with |a| < 1 (k = 1 + a sin sin stays positive), got {a!r}")
    return Problem(
        name="heat2d_varcoef",
        description=f"u_t = div(k grad u), k = 1 + {a:g} sin(pi x) sin(pi y), unit square, t in [0, 0.5], zero sides",
        domain=SpaceTime(Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}), (0.0, 0.5)),
        residual=lambda f: f.u_t - _flux_divergence(f, a),
        conditions=[Initial(lambda c: initial(c["x"], c["y"])), Dirichlet("boundary", 0.0)],
        reference=lambda: solve_heat_2d_spectral(
            conductivity=lambda x, y: conductivity(x, y, a),
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
            t_range=(0.0, 0.5),
            initial=initial,
        ),
        reference_error=1.4e-13,
    )


problem = build()

# Measured (seed 0, one thread beside another job): float32 KAN[3,16,1] Adam 500 + BFGS 1500 on
# 3,000 points 1.7e-3; KAN[3,24,1] G=6 with BFGS 3000 2.1e-3; 4,000 points and causal weighting
# 1.5e-3 (BFGS stalls after 2,400 steps in float32); the same in float64 6.1e-4.
# In float64 with two threads (scripts/benchmark_problems.py, 4,000 points) BFGS stalls after about
# 2,700 steps at a PDE loss of 5e-4 (the small model's limit); a second BFGS stage, from a fresh
# inverse Hessian, runs about 700 more: 1.05e-3 -> 1.03e-3. Grid extension to G=10 (1.8e-3) and
# KAN[3,24,1] (1.5e-3) were worse. With 8,000 interior points instead of 4,000, BFGS
# goes on for longer before it stalls: 7.3e-4 after 2,500 BFGS steps, 4.7e-4 at the end (435 s
# eagerly). torch.compile takes 1.4x less time per step after about 20 s of compilation; compiled
# the rounding differs and the run ends at 5.0e-4 in 226-303 s (2.6e-4 in the last benchmark with plain BFGS).
# SSBroyden (BFGS(update="ssbroyden")) in both stages, seed 0, two threads: 4.9e-4 in 144 s (2.0e-4 in an earlier
# run beside another job), against plain BFGS's 2.6e-4. With SSBroyden and KAN[3,32,1]: 1.9e-4 on 8,000 points
# (227 s; the grid extended to G=10 for the second stage 6.7e-4 with KAN[3,16,1]), 5.3e-5 on 16,000 (409 s, the
# loss still falling; 442 s in scripts/benchmark_problems.py). With 3,000 steps in the second stage 5.95e-5 in
# 529 s: no better. On 20,000 points with 1,500 in the second stage (this setup) 4.74e-5 in 470 s.
setup = Setup(
    model=KANSpec(hidden=(32,), grid_size=5),
    points=Points(interior=20000, boundary=400),
    stages=(
        Adam(steps=500, lr=1e-2, final_lr=1e-3),
        BFGS(steps=3000, update="ssbroyden"),
        BFGS(steps=1500, update="ssbroyden"),
    ),
    weighting=Causal(epsilon=1.0, slabs=16),
    compile=True,
    dtype="float64",
)
