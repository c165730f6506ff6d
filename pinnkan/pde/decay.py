"""The decay rate of a built-in initial value, fitted to the PDE at the initial time.

A solution that decays by orders of magnitude over its time interval (heat flow,
damped waves) is poorly served by an output that keeps the initial value at full
amplitude and asks the network to cancel it: the network's absolute error then
stays while the solution vanishes, and a fine initial pattern must be resolved by
the network just to be cancelled. :func:`fit_decay` finds ``lambda`` for which the
built-in output ``G = G_s + exp(-lambda (t - t0)) (g_0 - G_s|t0)`` satisfies the PDE
best at ``t = t0`` (a one-mode Galerkin fit in time),

    lambda = argmin || R(G_lambda) ||^2   over points of the initial slice,

and keeps it when the exponential explains the initial rate of change (the residual
falls below ``EXPLAINED`` of its value without decay) and the solution decays at
least tenfold over the interval. For ``u_t = alpha u_xx`` with ``u_0 = sin(pi x)`` it
is ``alpha pi^2``, and the built-in output is then the exact solution.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .auto_constraint import auto_constraint
from .conditions import Dirichlet
from .fields import coordinate_dict
from .geometry import SpaceTime
from .problem import Problem

__all__ = ["fit_decay", "EXPLAINED", "FOLDS"]

# The fitted decay is kept when the residual at t0 falls to this share of its value without decay ...
EXPLAINED = 0.1
# ... and the solution decays at least this many times over the time interval.
FOLDS = 10.0
_POINTS = 512


def fit_decay(problem: Problem) -> dict[str, float]:
    """Decay rates of the built-in initial values, by output (empty when none fits).

    Only single-output problems on a :class:`SpaceTime` with an initial value that
    can be built in, and without coefficients to learn, are fitted.
    """
    domain = problem.domain
    if not isinstance(domain, SpaceTime) or len(problem.outputs) != 1 or problem.trainable_coefficients:
        return {}
    initial = {c.name for c in problem.conditions if isinstance(c, Dirichlet) and c.location.part == "initial"}  # type: ignore[attr-defined]
    if not initial & set(auto_constraint(domain, problem.conditions, problem.outputs).built):
        return {}
    output = problem.outputs[0]
    rng = np.random.default_rng(0)
    space = domain.space.sample_interior(_POINTS, rng=rng)
    t0, t1 = domain.time_range
    points = torch.as_tensor(np.column_stack([space, np.full(len(space), t0)]))
    coefficients = {n: float(c.initial) for n, c in problem.coefficients.items()}  # type: ignore[union-attr]

    def misfit(rate: float) -> float:
        plan = auto_constraint(domain, problem.conditions, problem.outputs, decay={output: rate})
        constraint = plan.constraint
        if constraint is None:
            return math.inf

        def candidate(x: torch.Tensor) -> torch.Tensor:
            return constraint.particular(coordinate_dict(x, problem.coordinates)).reshape(-1, 1)

        field = problem.field(candidate, points, coefficients=coefficients)
        residuals = problem.residuals(field)
        return float(sum(torch.mean(r.detach() ** 2) for r in residuals.values()))

    span = t1 - t0
    base = misfit(0.0)
    if not math.isfinite(base) or base == 0.0:
        return {}
    # Rates from 0.01 to 10^4 per time interval, then golden-section refinement around the best.
    grid = [0.0] + [10.0**k / span for k in np.linspace(-2.0, 4.0, 49)]
    values = [misfit(rate) for rate in grid]
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    rate = _golden(misfit, lo, hi)
    if not (misfit(rate) <= EXPLAINED * base and rate * span >= math.log(FOLDS)):
        return {}
    return {output: float(rate)}


def _golden(function, lo: float, hi: float, steps: int = 60) -> float:  # noqa: ANN001
    """The minimiser of a unimodal ``function`` on ``[lo, hi]`` by golden-section search."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = function(c), function(d)
    for _ in range(steps):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = function(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = function(d)
        if b - a <= 1e-12 * max(abs(b), 1.0):
            break
    return (a + b) / 2.0
