"""Dense BFGS with a strong-Wolfe line search, for models with a few thousand parameters.

KAN-PINNs are small enough that the full ``P x P`` inverse-Hessian estimate fits
in memory, and on PINN losses full BFGS keeps improving where L-BFGS stalls.
Formulas follow Nocedal & Wright, *Numerical Optimization* (2nd ed.):
the inverse update (6.17), the initial scaling (6.20), and the line search of
Algorithms 3.5 and 3.6 with safeguarded cubic interpolation (3.59).

Besides BFGS, two self-scaled members of the Broyden family (Al-Baali 1998; on PINNs,
Urbán, Stefanou & Pons, JCP 2025, and Kiyani et al. 2025) update the estimate as

    H+ = (H - H y y^T H / y^T H y + phi (y^T H y) v v^T) / tau + s s^T / y^T s,
    v = s / y^T s - H y / y^T H y,

which keeps the secant equation ``H+ y = s`` for every ``phi`` and ``tau``: SSBFGS
(``phi = 1``, ``tau = min(1, 1 / b)``) and SSBroyden (``phi`` and ``tau`` chosen from
``b = s^T B s / y^T s`` and ``h = y^T H y / y^T s`` by the rules of Urbán et al.).
``tau`` shrinks or grows the whole estimate towards the loss's current curvature,
which plain BFGS only learns one rank-two correction at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..errors import InputValueError

__all__ = ["DenseBFGS", "UPDATES", "strong_wolfe", "flat_parameters", "set_flat_parameters"]

#: The inverse-Hessian updates DenseBFGS offers.
UPDATES = ("bfgs", "ssbfgs", "ssbroyden")

LineFunction = Callable[[float], tuple[float, float]]


def strong_wolfe(
    phi: LineFunction,
    f0: float,
    slope0: float,
    *,
    step: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
) -> tuple[float, float, float, int]:
    """Find a step ``a`` meeting the strong Wolfe conditions along a descent direction.

    ``phi(a) = f(x + a d)`` and its slope ``phi'(a)``; the conditions are
    ``phi(a) <= f0 + c1 a slope0`` and ``|phi'(a)| <= c2 |slope0|``.

    Parameters
    ----------
    phi : callable
        ``a -> (phi(a), phi'(a))``.
    f0, slope0 : float
        ``phi(0)`` and ``phi'(0) < 0``.
    step : float
        First trial step.
    c1, c2 : float
        Wolfe constants, ``0 < c1 < c2 < 1``.
    max_evals : int
        Evaluations of ``phi`` allowed.

    Returns
    -------
    (a, phi(a), phi'(a), evaluations)
        ``a = 0`` when no trial point decreased the function. When the evaluations
        run out, the best point seen is returned, which need not be the last one
        evaluated.
    """
    a_prev, f_prev, s_prev = 0.0, f0, slope0
    a = step
    evals = 0
    while evals < max_evals:
        f, s = phi(a)
        evals += 1
        if not math.isfinite(f) or f > f0 + c1 * a * slope0 or (evals > 1 and f >= f_prev):
            return _zoom(phi, f0, slope0, (a_prev, f_prev, s_prev), (a, f, s), c1, c2, evals, max_evals)
        if abs(s) <= -c2 * slope0:
            return a, f, s, evals
        if s >= 0:
            return _zoom(phi, f0, slope0, (a, f, s), (a_prev, f_prev, s_prev), c1, c2, evals, max_evals)
        a_prev, f_prev, s_prev = a, f, s
        a *= 2.0
    return a_prev, f_prev, s_prev, evals


Point = tuple[float, float, float]  # (step, value, slope)


def _zoom(
    phi: LineFunction,
    f0: float,
    slope0: float,
    lo: Point,
    hi: Point,
    c1: float,
    c2: float,
    evals: int,
    max_evals: int,
) -> tuple[float, float, float, int]:
    """Algorithm 3.6: shrink ``[lo, hi]`` (``lo`` has the lower value) to a Wolfe point."""
    while evals < max_evals:
        a = _cubic_minimiser(lo, hi)
        width = hi[0] - lo[0]
        if abs(width) < 1e-14 * max(1.0, abs(lo[0])):
            break
        low, high = sorted((lo[0], hi[0]))
        a = min(max(a, low + 0.1 * abs(width)), high - 0.1 * abs(width))
        f, s = phi(a)
        evals += 1
        if not math.isfinite(f) or f > f0 + c1 * a * slope0 or f >= lo[1]:
            hi = (a, f, s)
        else:
            if abs(s) <= -c2 * slope0:
                return a, f, s, evals
            if s * (hi[0] - lo[0]) >= 0:
                hi = lo
            lo = (a, f, s)
    return lo[0], lo[1], lo[2], evals


def _cubic_minimiser(p: Point, q: Point) -> float:
    """Minimiser of the cubic matching values and slopes at two steps (N&W 3.59)."""
    (a1, f1, s1), (a2, f2, s2) = p, q
    if a1 == a2 or not all(map(math.isfinite, (f1, f2, s1, s2))):
        return 0.5 * (a1 + a2)
    d1 = s1 + s2 - 3.0 * (f1 - f2) / (a1 - a2)
    disc = d1 * d1 - s1 * s2
    if disc < 0:
        return 0.5 * (a1 + a2)
    d2 = math.copysign(math.sqrt(disc), a2 - a1)
    den = s2 - s1 + 2.0 * d2
    if den == 0:
        return 0.5 * (a1 + a2)
    return a2 - (a2 - a1) * (s2 + d2 - d1) / den


def flat_parameters(params: list[torch.Tensor]) -> torch.Tensor:
    """The parameters' values side by side in one vector (detached)."""
    return torch.cat([p.detach().reshape(-1) for p in params])


def set_flat_parameters(params: list[torch.Tensor], flat: torch.Tensor) -> None:
    """Write a vector laid out as :func:`flat_parameters` back into the parameters."""
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(flat[offset : offset + n].view_as(p))
            offset += n


def _broyden_parameters(update: str, b: float, h: float, first: bool, n: int) -> tuple[float, float]:
    """``(phi, tau)`` of the update for ``b = s^T B s / y^T s``, ``h = y^T H y / y^T s`` and ``n`` unknowns.

    BFGS: (1, 1). SSBFGS: ``phi = 1``, ``tau = h`` on the first update (the initial scaling),
    else ``min(1, 1 / b)``. SSBroyden: ``theta`` between the bounds that keep the estimate
    positive definite and well conditioned, ``phi = (1 - theta) / (1 + a theta)`` with
    ``a = b h - 1``, and ``tau`` as Urbán, Stefanou & Pons (2025) give it. Where the
    rules break down (``a`` at rounding level, a non-finite value), the update falls back
    to SSBFGS's.
    """
    if update == "bfgs":
        return 1.0, 1.0
    a = b * h - 1.0  # >= 0 by Cauchy-Schwarz, up to rounding
    theta = 0.0
    if update == "ssbroyden" and a > 1e-12:
        c = math.sqrt(a / (1.0 + a))
        rho_minus = min(1.0, h * (1.0 - c))
        theta_minus, theta_plus = (rho_minus - 1.0) / a, 1.0 / rho_minus if rho_minus > 0 else math.inf
        theta = max(theta_minus, min(theta_plus, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    phi = (1.0 - theta) / sigma
    if first:
        tau = h / sigma
    else:
        rho = min(1.0, 1.0 / b)
        root = abs(sigma) ** (1.0 / (1.0 - n)) if n > 1 else 1.0
        tau = min(rho * root, sigma) if theta <= 0 else rho * min(root, 1.0 / theta)
    if not (math.isfinite(phi) and math.isfinite(tau) and tau > 0 and sigma > 0):
        return 1.0, (h if first else min(1.0, 1.0 / b))
    return phi, tau


def _update(h: torch.Tensor, hg: torch.Tensor, g: torch.Tensor, s: torch.Tensor, hy: torch.Tensor, ys: float,
            yhy: float, phi: float, tau: float) -> torch.Tensor:
    """Update ``h`` in place to ``(H - Hy Hy^T / yHy + phi yHy v v^T) / tau + s s^T / ys`` and return the new
    ``H g`` from ``hg = H g`` (the old estimate times the new gradient), without a second pass over H.

    Expanded, the update is ``H / tau + U M U^T`` with ``U = [s, H y]`` and
    ``M = [[phi yHy / ys^2 / tau + 1 / ys, -phi / ys / tau], [-phi / ys / tau, (phi - 1) / yHy / tau]]``.
    """
    rho = 1.0 / ys
    off = -phi * rho / tau
    # (rho rho yHy first: with phi = tau = 1 the same rounding as the plain BFGS update has always had)
    m = torch.tensor([[phi * (rho * rho * yhy) / tau + rho, off], [off, (phi - 1.0) / (yhy * tau)]],
                     dtype=h.dtype, device=h.device)
    u = torch.stack([s, hy], dim=1)  # (P, 2)
    um = u @ m
    if tau != 1.0:
        h.mul_(1.0 / tau)
    h.addmm_(um, u.T)
    return hg / tau + um @ (u.T @ g)


class DenseBFGS(torch.optim.Optimizer):
    """BFGS on all parameters with a dense inverse-Hessian estimate.

    One call of :meth:`step` is one iteration: direction ``d = -H g``, a strong-Wolfe
    line search, then the update ``H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T``
    with ``rho = 1 / y^T s`` (skipped when ``y^T s`` is not positive). The loss and
    gradient at the accepted point are kept for the next iteration, so an iteration
    usually costs one evaluation of the closure, and the closure's last evaluation
    in a step is always at the accepted point.

    Parameters
    ----------
    params : iterable of tensors
        Parameters to optimise (one group).
    max_eval : int
        Closure evaluations allowed per line search.
    tolerance_change : float
        The state's ``converged`` flag is set when the step or the loss change is below this.
    update : {"bfgs", "ssbfgs", "ssbroyden"}
        The inverse-Hessian update (see the module docstring).
    """

    def __init__(self, params, *, max_eval: int = 25, tolerance_change: float = 1e-14, update: str = "bfgs") -> None:
        if update not in UPDATES:
            raise InputValueError(f"DenseBFGS update must be one of {UPDATES}, got {update!r}")
        super().__init__(params, {"max_eval": max_eval, "tolerance_change": tolerance_change, "update": update})
        if len(self.param_groups) != 1:
            raise InputValueError("DenseBFGS takes a single parameter group")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> torch.Tensor:
        return torch.cat(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self._params]
        )

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        """One BFGS iteration; ``closure`` zeroes gradients, returns the loss and backpropagates."""
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        evaluate = torch.enable_grad()(closure)
        if "g" not in state:
            loss = float(evaluate())
            state["f"], state["g"] = loss, self._flat_grad()
            state["converged"] = False
        f, g = state["f"], state["g"]
        if not bool(torch.any(g != 0)):  # at a stationary point: nothing to do
            state["converged"] = True
            return torch.tensor(f)
        h = state.get("H")
        if h is not None and state.get("Hg") is None:  # a state saved before H g was kept
            state["Hg"] = h @ g
        direction = -g if h is None else -state["Hg"]
        slope = float(direction @ g)
        if slope >= 0:  # lost descent (rounding): restart from steepest descent
            h = None
            direction = -g
            slope = float(direction @ g)
        x0 = flat_parameters(self._params)
        first_step = min(1.0, 1.0 / float(g.abs().sum())) if h is None else 1.0

        evaluated: list[tuple[float, torch.Tensor]] = []

        def phi(a: float) -> tuple[float, float]:
            set_flat_parameters(self._params, x0 + a * direction)
            value = float(evaluate())
            grad = self._flat_grad()
            evaluated.append((a, grad))
            return value, float(grad @ direction)

        a, f_new, _, _ = strong_wolfe(phi, f, slope, step=first_step, max_evals=group["max_eval"])
        if a == 0.0:
            set_flat_parameters(self._params, x0)
            state["converged"] = True
            return torch.tensor(f)
        if evaluated[-1][0] != a:
            phi(a)  # leave the parameters, and the closure's last evaluation, at the accepted point
        g_new = evaluated[-1][1]
        s = a * direction
        y = g_new - g
        ys = float(y @ s)
        hg_new = None if h is None else h @ g_new  # the one product with H per iteration
        if ys > 1e-12 * float(y @ y) ** 0.5 * float(s @ s) ** 0.5:
            first = h is None
            if first:
                if group["update"] == "bfgs":  # N&W (6.20): H0 = (y^T s / y^T y) I before the first update
                    scale = ys / float(y @ y)
                else:  # H0 = I; the first tau does the scaling
                    scale = 1.0
                h = torch.eye(len(g), dtype=g.dtype, device=g.device) * scale
                hy, hg_new = scale * y, scale * g_new
            else:
                hy = hg_new + direction  # H y = H g_new - H g, and the direction is -H g
            # b = s^T B s / y^T s with B s = -a g (B = H^-1, s = -a H g; s = -a g on the first step)
            b = -a * a * slope / ys
            phi, tau = _broyden_parameters(group["update"], b, float(y @ hy) / ys, first, len(g))
            hg_new = _update(h, hg_new, g_new, s, hy, ys, float(y @ hy), phi, tau)
        state["H"], state["Hg"] = h, hg_new
        tol = group["tolerance_change"]
        state["converged"] = float(s.abs().max()) <= tol or abs(f_new - f) <= tol
        state["f"], state["g"] = f_new, g_new
        return torch.tensor(f_new)
