"""Poisson on the unit square: -Laplace(u) = f with u = sin(pi x) sin(m pi y) + q x^2 y, Dirichlet sides.

A manufactured solution (m = 2, q = 1 by default): f = (1 + m^2) pi^2 sin(pi x) sin(m pi y) - 2 q y, and
the sides carry u's values (x^2 y is not zero on them); q = 0 leaves a product of sines with zero sides. The target is 1e-5, so the setup trains in float64
and the Dirichlet data are built into the output. Reference: the 5-point stencil on 201 x 201 points,
Richardson-extrapolated with the 401 x 401 solve (fourth order), 6.6e-10 relative L2 from the exact
solution (m = 2).
"""

import math

import numpy as np
import torch

from pinnkan import BFGS, Adam, Box, Dirichlet, KANSpec, Points, Problem, Setup
from pinnkan.reference import solve_poisson_2d


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else np


def exact(x, y, m, q=1.0):
    """u = sin(pi x) sin(m pi y) + q x^2 y, for tensors and numpy arrays alike."""
    xp = _lib(x)
    return xp.sin(math.pi * x) * xp.sin(m * math.pi * y) + q * x**2 * y


def source(x, y, m, q=1.0):
    """f = -Laplace(u)."""
    xp = _lib(x)
    return (1 + m**2) * math.pi**2 * xp.sin(math.pi * x) * xp.sin(m * math.pi * y) - 2 * q * y


def build(*, m: float = 2.0, q: float = 1.0) -> Problem:
    """The problem with ``m`` half-waves in y and ``q`` times x^2 y added."""
    if not m > 0:
        raise ValueError(f"m must be > 0 (half-waves in y), got {m}")
    if not math.isfinite(q):
        raise ValueError(f"q must be a finite number (the weight of x^2 y), got {q}")
    return Problem(
        name="poisson2d",
        description=f"-Laplace u = f on [0,1]^2, manufactured u = sin(pi x) sin({m:g} pi y) + {q:g} x^2 y, Dirichlet",
        domain=Box({"x": (0.0, 1.0), "y": (0.0, 1.0)}),
        residual=lambda f: -f.laplacian("u") - source(f.x, f.y, m, q),
        conditions=[Dirichlet("boundary", lambda c: exact(c["x"], c["y"], m, q))],
        exact=lambda c: exact(c["x"], c["y"], m, q),
        reference=lambda: solve_poisson_2d(
            source=lambda x, y: source(x, y, m, q),
            boundary=lambda x, y: exact(x, y, m, q),
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
        ),
        reference_error=6.6e-10 if (m, q) == (2.0, 1.0) else None,
    )


problem = build()

setup = Setup(
    model=KANSpec(hidden=(16,), grid_size=8),
    points=Points(interior=1500, boundary=200),
    stages=(Adam(steps=500, lr=1e-2, final_lr=1e-3), BFGS(steps=2500, update="ssbroyden")),
    dtype="float64",
)
