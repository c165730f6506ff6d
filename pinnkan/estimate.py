"""An error estimate without a reference: the linearised error equation, solved in a finer spline space.

The error ``e = u* - u`` of a trained model ``u`` solves, to first order, the
problem's own equations linearised about ``u``:

    L_u e = -r(u)   in the domain,        B_u e = -r_c(u)   where each condition holds,

with ``r`` the PDE residual and ``r_c`` each condition's residual (zero for the
conditions built into the output, so that ``e`` vanishes there). Every residual is a
function of named derivatives of ``u`` at a point, so its linearisation is
``sum_alpha (dR / dD^alpha u) D^alpha e``: the sensitivities ``dR / dD^alpha u`` come
from one backward pass through the residual with the derivatives as leaves, and
``D^alpha e`` from a tensor-product B-spline basis. The correction

    delta = argmin_c || W (J c + r) ||,     J = sum_alpha diag(dR / dD^alpha u) D^alpha Phi,

is a least-squares collocation solve of the error equation (sparse normal
equations). It is solved on two spline spaces, the second 1.5 times finer per axis;
when the two corrections agree (within 30%) the estimate is *resolved*, otherwise
the difference is added to it and it says so. ``||delta|| / ||u||`` on fresh points
is the estimated relative L2 error, and ``delta`` itself shows where the error is.

Unknown coefficients of an inverse problem are unknowns of the linearised problem
too, and noise in the observations adds the variance it leaves in ``delta`` (the
noise level taken from the observations' residuals).

Examples
--------
>>> estimate = estimate_error(problem, solution.model)  # doctest: +SKIP
>>> estimate.rel_l2, estimate.resolved  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from scipy.interpolate import BSpline
from torch import nn

from .errors import InputTypeError, InputValueError, whole
from .pde.conditions import Batch
from .pde.engines import Auto, Derivatives, Engine, Request
from .pde.fields import Field
from .pde.geometry import Domain
from .pde.problem import Problem, condition_points
from .pde.user_code import kind_of

__all__ = ["ErrorEstimate", "estimate_error"]

# A finer level has this many times the basis functions per axis.
REFINE = 1.5
# Corrections of two levels that differ by less than this (relative) count as resolved.
AGREEMENT = 0.3
# Weights of the conditions' rows and of the observations' rows against the PDE's, after
# each term is normalised: the equations hold exactly, the data only up to their noise.
CONDITION_WEIGHT = 10.0
DATA_WEIGHT = 1e-2
# Starting number of basis functions per axis, by the number of coordinates.
_START = {1: 48, 2: 20, 3: 12, 4: 8}
_EVALUATION_POINTS = 8192
_DENSE_ROWS = 4096  # a residual that couples points is linearised row by row up to this size


@dataclass(frozen=True)
class ErrorEstimate:
    """The estimated error of a trained model, without a reference.

    Attributes
    ----------
    rel_l2 : float
        Estimated relative L2 error (the largest over the outputs).
    per_output : dict of str to float
        Estimated relative L2 error of each output.
    resolved : bool
        Whether the corrections on the last two spline spaces agreed; if not, the
        estimate includes their difference and is less certain.
    levels : list of dict
        Each spline space tried: ``basis`` (functions per axis), ``rel_l2`` and
        ``explained`` (the share of the weighted residual the correction removes).
    noise : float
        The part of ``rel_l2`` from noise in the observations (0 without data).
    correction : callable
        ``correction(points)`` -> (N, m): the correction ``delta`` at numpy points (N, d),
        what the model lacks (the solution is about ``model + delta``; the model's error is ``-delta``).
    """

    rel_l2: float
    per_output: dict[str, float]
    resolved: bool
    levels: list[dict[str, object]] = field(default_factory=list)
    noise: float = 0.0
    correction: Callable[[np.ndarray], np.ndarray] | None = None

    def metrics(self) -> dict[str, object]:
        """The figures as plain JSON-ready values."""
        return {
            "error_estimate": self.rel_l2,
            "error_estimate_per_output": dict(self.per_output),
            "error_estimate_resolved": self.resolved,
            "error_estimate_levels": [dict(level) for level in self.levels],
            "error_estimate_noise": self.noise,
        }


def estimate_error(
    problem: Problem,
    model: nn.Module,
    *,
    rng: np.random.Generator | None = None,
    max_unknowns: int = 8000,
    levels: int = 2,
) -> ErrorEstimate:
    """Estimate the relative L2 error of ``model`` for ``problem`` without a reference.

    Parameters
    ----------
    problem : Problem
    model : torch.nn.Module
        The trained model (a :class:`~pinnkan.pde.pinn.PINN`: network and coefficients).
    rng : numpy.random.Generator, optional
        Draws the collocation and evaluation points (seeded by default).
    max_unknowns : int
        Largest number of spline coefficients of a level (per output).
    levels : int
        How many spline spaces to solve on, each ``REFINE`` times finer, ``>= 2``.

    Returns
    -------
    ErrorEstimate
    """
    if not isinstance(problem, Problem):
        raise InputTypeError(f"problem must be a Problem, got {kind_of(problem)}")
    if not isinstance(model, nn.Module):
        raise InputTypeError(f"model must be the trained torch module, got {kind_of(model)}")
    if not whole(levels, 2):
        raise InputValueError(f"levels must be an int >= 2 (the estimate compares two spline spaces), got {levels!r}")
    rng = rng if rng is not None else np.random.default_rng(0)
    model64 = _float64(model)
    domain = problem.domain
    sizes, gradings = _resolution(problem, model64, rng)
    plan = [sizes]
    for _ in range(levels - 1):
        finer = tuple(max(n + 1, math.ceil(REFINE * n)) for n in plan[-1])
        if math.prod(finer) > max_unknowns:
            break
        plan.append(finer)
    if len(plan) < 2:  # the coarsest level alone fills the budget: halve it
        plan = [tuple(max(4, math.floor(n / REFINE)) for n in sizes), sizes]
    largest = math.prod(plan[-1])
    degree = max(3, _max_order(problem) + 1)
    terms = _linearise(problem, model64, domain, largest, rng)
    evaluation = domain.sample_interior(_EVALUATION_POINTS, rng=rng)
    values = _predict(model64, evaluation)
    norms = np.sqrt(np.mean(values**2, axis=0))
    coefficients = [n for n in problem.trainable_coefficients]
    results = []
    for basis in plan:
        splines = _Splines(*domain.bounds(), basis, degree, gradings)
        solve = _Solve(terms, splines, len(problem.outputs), coefficients)
        delta = splines.evaluate(evaluation, solve.coefficients)
        results.append((basis, splines, solve, delta))
    outputs = tuple(problem.outputs)
    _, splines, solve, delta = results[-1]
    _, _, _, coarse = results[-2]
    change = np.sqrt(np.mean((delta - coarse) ** 2, axis=0))
    size = np.sqrt(np.mean(delta**2, axis=0))
    resolved = bool(np.all(change <= AGREEMENT * np.maximum(size, 1e-300)))
    noise = solve.noise(splines, evaluation) if any(t.data for t in terms) else np.zeros(len(outputs))
    total = size if resolved else size + change
    total = np.sqrt(total**2 + noise**2)
    scale = np.where(norms > 0, norms, 1.0)
    per_output = {name: float(total[j] / scale[j]) for j, name in enumerate(outputs)}
    level_rows = [
        {
            "basis": list(basis),
            "rel_l2": float(np.max(np.sqrt(np.mean(d**2, axis=0)) / scale)),
            "explained": s.explained,
        }
        for basis, _, s, d in results
    ]
    final_splines, final_coefficients = splines, solve.coefficients
    return ErrorEstimate(
        rel_l2=max(per_output.values()),
        per_output=per_output,
        resolved=resolved,
        levels=level_rows,
        noise=float(np.max(noise / scale)),
        correction=lambda points: final_splines.evaluate(np.asarray(points, dtype=np.float64), final_coefficients),
    )


# ----------------------------------------------------------------- the linearised terms
@dataclass
class _Term:
    """One loss term linearised about the model at its points.

    ``sensitivities`` maps ``(output, axes)`` to the derivative of the residual with
    respect to that derivative of the output: (R,) when the residual is pointwise,
    else (R, N) (rows of residuals, columns of points).
    """

    name: str
    points: np.ndarray
    residual: np.ndarray
    sensitivities: dict[Request, np.ndarray]
    coefficients: dict[str, np.ndarray]
    condition: bool
    data: bool = False


class _Frozen(Engine):
    """An engine that serves given derivative values (leaves) instead of computing them."""

    name = "frozen"

    def __init__(self, values: Mapping[Request, torch.Tensor], points: torch.Tensor) -> None:
        self.values = values
        self.points = points

    def start(
        self, model: object, points: torch.Tensor, *, outputs: int, needs: Collection[Request] | None = None
    ) -> Derivatives:
        return _FrozenDerivatives(self.values, self.points)


class _FrozenDerivatives(Derivatives):
    def __init__(self, values: Mapping[Request, torch.Tensor], points: torch.Tensor) -> None:
        super().__init__()
        self._values = values
        self._points = points

    @property
    def points(self) -> torch.Tensor:
        return self._points

    def _get(self, output: int, axes: tuple[int, ...]) -> torch.Tensor:
        return self._values[(output, axes)]


Evaluate = Callable[[Field, Batch], Mapping[str, torch.Tensor]]


def _linearise(problem: Problem, model: nn.Module, domain: Domain, unknowns: int, rng: np.random.Generator) -> list[_Term]:
    """Every loss term's residual and sensitivities at collocation points sized for ``unknowns`` coefficients."""
    dim = domain.dim
    n_interior = max(4096, 3 * unknowns)
    n_boundary = max(512, 4 * math.ceil(unknowns ** ((dim - 1) / dim)))
    coefficients = model.coefficient_values() if hasattr(model, "coefficient_values") else {}
    points = _sobol_interior(domain, n_interior, rng)
    terms = _term_rows(problem, model, Batch(torch.as_tensor(points)), lambda f, b: problem.residuals(f), coefficients, condition=False)
    for condition in problem.conditions:
        data = not condition.location.resamplable  # observations: every point, as data
        n = len(condition.location.points) if data else n_boundary  # type: ignore[attr-defined]
        batch = condition_points(domain, condition, n, rng)
        rows = _term_rows(problem, model, batch, condition.residuals, coefficients, condition=True)
        for term in rows:
            term.data = data
        terms += rows
    return terms


def _sobol_interior(domain: Domain, n: int, rng: np.random.Generator) -> np.ndarray:
    from .pde.geometry import Sobol

    return domain.sample_interior(n, sampler=Sobol(), rng=rng)


def _term_rows(
    problem: Problem,
    model: nn.Module,
    batch: Batch,
    evaluate: Evaluate,
    coefficients: Mapping[str, torch.Tensor],
    *,
    condition: bool,
) -> list[_Term]:
    """Residuals and sensitivities of one group of terms (the PDE's, or one condition's) at a batch."""
    points = batch.points.to(torch.float64)
    batch = Batch(points, *(None if t is None else t.to(torch.float64) for t in (batch.normals, batch.data)))
    probe = Batch(*(None if t is None else t[:8] for t in (batch.points, batch.normals, batch.data)))
    if probe.points.shape[0] != points.shape[0] and _couples_points(evaluate, problem, model, probe, coefficients):
        probe = batch  # a residual that pairs points (periodicity) is probed on all of them
    field = problem.field(model, probe.points, coefficients=coefficients)
    evaluate(field, probe)
    needs = frozenset(field.requested)
    full = problem.field(model, points, engine=Auto(), coefficients=coefficients, needs=needs)
    values = {request: full.d(problem.outputs[request[0]], *(problem.coordinates[a] for a in request[1])).detach()
              for request in needs}
    leaves = {request: value.clone().requires_grad_(True) for request, value in values.items()}
    trainable = set(problem.trainable_coefficients)
    coefficient_leaves = {
        name: torch.full((points.shape[0],), float(torch.as_tensor(value).detach()), dtype=torch.float64,
                         requires_grad=name in trainable)
        for name, value in coefficients.items()
    }
    frozen = problem.field(None, points, engine=_Frozen(leaves, points), coefficients=coefficient_leaves)  # type: ignore[arg-type]
    residuals = evaluate(frozen, batch)
    terms = []
    for key, residual in residuals.items():
        name = key or "pde"
        order = list(leaves)
        learned = [coefficient_leaves[n] for n in coefficient_leaves if n in trainable]
        inputs = [leaves[r] for r in order] + learned
        pointwise = residual.shape[0] == points.shape[0]
        if pointwise:
            grads = torch.autograd.grad(residual.sum(), inputs, allow_unused=True, retain_graph=True)
            sens = [np.zeros(points.shape[0]) if g is None else g.detach().numpy() for g in grads]
            pointwise = _check_pointwise(evaluate, problem, points, batch, leaves, coefficient_leaves, key, residual, order, sens)
        if not pointwise:
            sens = _dense_sensitivities(residual, inputs)
        terms.append(
            _Term(
                name,
                points.numpy(),
                residual.detach().numpy(),
                dict(zip(order, sens[: len(order)])),
                {n: s for n, s in zip([n for n in coefficient_leaves if n in trainable], sens[len(order) :])},
                condition,
            )
        )
    return terms


def _couples_points(evaluate: Evaluate, problem: Problem, model: nn.Module, probe: Batch, coefficients: Mapping) -> bool:
    """Whether a residual returns fewer rows than points (it pairs them, like periodicity)."""
    field = problem.field(model, probe.points, coefficients=coefficients)
    return any(r.shape[0] != probe.points.shape[0] for r in evaluate(field, probe).values())


def _check_pointwise(
    evaluate: Evaluate,
    problem: Problem,
    points: torch.Tensor,
    batch: Batch,
    leaves: Mapping[Request, torch.Tensor],
    coefficient_leaves: Mapping[str, torch.Tensor],
    key: str,
    residual: torch.Tensor,
    order: list[Request],
    sens: list[np.ndarray],
) -> bool:
    """Whether the residual at a point depends on that point's derivatives only (one random directional test)."""
    generator = np.random.default_rng(1)
    directions = {r: torch.as_tensor(generator.standard_normal(points.shape[0])) for r in order}
    step = 1e-6
    changes = []
    for sign in (1.0, -1.0):
        moved = {r: (leaves[r] + sign * step * (1.0 + leaves[r].abs()) * directions[r]).detach() for r in order}
        field = problem.field(None, points, engine=_Frozen(moved, points), coefficients={n: v.detach() for n, v in coefficient_leaves.items()})  # type: ignore[arg-type]
        with torch.no_grad():
            changes.append(evaluate(field, batch)[key])
    scales = {r: (1.0 + leaves[r].detach().abs()) for r in order}
    predicted = sum(torch.as_tensor(s) * directions[r] * scales[r] for r, s in zip(order, sens))
    measured = (changes[0] - changes[1]) / (2 * step)
    if not isinstance(predicted, torch.Tensor):
        return True
    size = float(measured.abs().max()) + float(predicted.abs().max()) + 1e-300
    return float((measured - predicted).abs().max()) <= 1e-5 * size


def _dense_sensitivities(residual: torch.Tensor, inputs: list[torch.Tensor]) -> list[np.ndarray]:
    """Row-by-row sensitivities (R, N) of a residual that couples points."""
    rows = residual.shape[0]
    if rows > _DENSE_ROWS:
        raise InputValueError(
            f"a residual that couples {rows} points cannot be linearised row by row (at most {_DENSE_ROWS}); "
            f"use fewer points for it"
        )
    out = [np.zeros((rows, x.shape[0])) for x in inputs]
    for i in range(rows):
        grads = torch.autograd.grad(residual[i], inputs, allow_unused=True, retain_graph=True)
        for k, g in enumerate(grads):
            if g is not None:
                out[k][i] = g.detach().numpy()
    return out


# ----------------------------------------------------------------- the spline space
class _Splines:
    """Tensor-product clamped B-splines of ``degree`` on the box ``[lo, hi]``, ``sizes[a]`` functions per axis.

    ``gradings[a]``, when given, is a cumulative distribution (values at the edges of
    equal bins over the axis) whose quantiles place the axis's knots: denser where it
    rises fast.
    """

    def __init__(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        sizes: Sequence[int],
        degree: int,
        gradings: Sequence[np.ndarray | None] | None = None,
    ) -> None:
        self.sizes = tuple(int(n) for n in sizes)
        self.degree = degree
        self.knots = []
        for a, n in enumerate(self.sizes):
            grading = None if gradings is None else gradings[a]
            levels = np.linspace(0.0, 1.0, n - degree + 1)
            if grading is None:
                inner = lo[a] + levels * (hi[a] - lo[a])
            else:
                inner = np.interp(levels, grading, np.linspace(lo[a], hi[a], len(grading)))
                inner[0], inner[-1] = lo[a], hi[a]
            self.knots.append(np.concatenate([np.full(degree, lo[a]), inner, np.full(degree, hi[a])]))
        self.count = math.prod(self.sizes)

    def design(self, points: np.ndarray, axes: tuple[int, ...]) -> sp.csr_matrix:
        """``D^axes Phi`` at points (N, d): sparse (N, count)."""
        orders = [axes.count(a) for a in range(len(self.sizes))]
        factors = [_axis_design(points[:, a], self.knots[a], self.degree, q) for a, q in enumerate(orders)]
        return _rowwise_kron(factors, self.sizes)

    def evaluate(self, points: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
        """The spline functions with ``coefficients`` (count, m) at points (N, d): (N, m)."""
        return np.asarray(self.design(points, ()) @ coefficients)


def _axis_design(x: np.ndarray, knots: np.ndarray, degree: int, order: int) -> sp.csr_matrix:
    """The ``order``-th derivatives of the B-splines of one axis at ``x``: sparse (N, n)."""
    x = np.clip(x, knots[degree], knots[-degree - 1])
    if order > degree:
        n = len(knots) - degree - 1
        return sp.csr_matrix((len(x), n))
    result = BSpline.design_matrix(x, knots, degree - order).tocsr()
    for p in range(degree - order + 1, degree + 1):
        result = result @ _derivative_map(knots, p)
    return result.tocsr()


def _derivative_map(knots: np.ndarray, p: int) -> sp.csr_matrix:
    """``D`` with ``d/dx (B_p c) = B_{p-1} (D c)`` on one knot vector: sparse (n_p + 1, n_p)."""
    n = len(knots) - p - 1
    i = np.arange(n)
    left = knots[i + p] - knots[i]
    right = knots[i + p + 1] - knots[i + 1]
    a = np.divide(p, left, out=np.zeros(n), where=left > 0)
    b = np.divide(p, right, out=np.zeros(n), where=right > 0)
    return sp.csr_matrix(
        (np.concatenate([a, -b]), (np.concatenate([i, i + 1]), np.concatenate([i, i]))), shape=(n + 1, n)
    )


def _rowwise_kron(factors: list[sp.csr_matrix], sizes: tuple[int, ...]) -> sp.csr_matrix:
    """Row ``i`` of the result is the Kronecker product of row ``i`` of every factor (last axis fastest)."""
    rows = factors[0].shape[0]
    index = np.zeros((rows, 1), dtype=np.int64)
    value = np.ones((rows, 1))
    for factor, n in zip(factors, sizes):
        columns, entries = _padded(factor)
        index = (index[:, :, None] * n + columns[:, None, :]).reshape(rows, -1)
        value = (value[:, :, None] * entries[:, None, :]).reshape(rows, -1)
    width = index.shape[1]
    indptr = np.arange(0, rows * width + 1, width)
    matrix = sp.csr_matrix((value.ravel(), index.ravel(), indptr), shape=(rows, math.prod(sizes)))
    matrix.sum_duplicates()
    return matrix


def _padded(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """A CSR matrix's rows as fixed-width (columns, values), padded with zeros."""
    counts = np.diff(matrix.indptr)
    width = max(int(counts.max()) if counts.size else 0, 1)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    position = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
    columns = np.zeros((matrix.shape[0], width), dtype=np.int64)
    values = np.zeros((matrix.shape[0], width))
    columns[rows, position] = matrix.indices
    values[rows, position] = matrix.data
    return columns, values


# ----------------------------------------------------------------- the least-squares solve
class _Solve:
    """The weighted least-squares correction on one spline space."""

    def __init__(self, terms: list[_Term], splines: _Splines, outputs: int, coefficients: list[str]) -> None:
        self.outputs = outputs
        self.coefficient_names = coefficients
        blocks, rights, data_rows = [], [], []
        for term in terms:
            matrix = self._jacobian(term, splines)
            rms = math.sqrt(matrix.multiply(matrix).sum() / max(matrix.shape[0], 1))
            share = DATA_WEIGHT if term.data else CONDITION_WEIGHT if term.condition else 1.0
            weight = share / (max(rms, 1e-300) * math.sqrt(matrix.shape[0]))
            blocks.append(weight * matrix)
            rights.append(weight * term.residual)
            data_rows.append(np.full(matrix.shape[0], term.data))
        a = sp.vstack(blocks).tocsr()
        b = np.concatenate(rights)
        self.is_data = np.concatenate(data_rows)
        normal = (a.T @ a).tocsc()
        diagonal = normal.diagonal()
        ridge = 1e-10 * float(diagonal.max()) if diagonal.size else 0.0
        # Basis functions no collocation point sees (outside a disk, inside a hole) get ridge only: zero.
        normal = normal + sp.diags(np.where(diagonal > 0, ridge, 1.0))
        self.normal = normal
        self.a = a
        solution = spla.spsolve(normal, -(a.T @ b))
        residual = a @ solution + b
        self.explained = float(1.0 - np.linalg.norm(residual) / max(np.linalg.norm(b), 1e-300))
        count = splines.count
        self.coefficients = solution[: count * outputs].reshape(outputs, count).T
        self.rights = b

    def _jacobian(self, term: _Term, splines: _Splines) -> sp.csr_matrix:
        """``J`` of one term: columns of every output's spline coefficients, then the learned coefficients."""
        count = splines.count
        rows = len(term.residual)
        blocks = [sp.csr_matrix((rows, count)) for _ in range(self.outputs)]
        for (output, axes), s in term.sensitivities.items():
            design = splines.design(term.points, axes)
            if s.ndim == 1:
                blocks[output] = blocks[output] + sp.diags(s) @ design
            else:
                blocks[output] = blocks[output] + sp.csr_matrix(s) @ design
        extra = [term.coefficients.get(name, np.zeros(rows)) for name in self.coefficient_names]
        columns = blocks + ([sp.csr_matrix(np.column_stack(extra))] if extra else [])
        return sp.hstack(columns).tocsr()

    def noise(self, splines: _Splines, points: np.ndarray) -> np.ndarray:
        """RMS over ``points`` of the correction's standard deviation from noise in the data rows, per output.

        The noise level is the RMS of the (weighted) data residuals; ``Cov(c) = N^-1 A_d^T A_d N^-1 sigma^2``.
        """
        data = self.a[self.is_data]
        sigma = float(np.sqrt(np.mean(self.rights[self.is_data] ** 2)))
        count = splines.count
        size = self.normal.shape[0]
        if size > 3000:
            return np.zeros(self.outputs)
        inverse = np.linalg.inv(self.normal.toarray())
        cov = inverse @ (data.T @ data).toarray() @ inverse * sigma**2
        design = splines.design(points, ())
        result = np.zeros(self.outputs)
        for j in range(self.outputs):
            block = cov[j * count : (j + 1) * count, j * count : (j + 1) * count]
            variance = np.asarray((design @ sp.csr_matrix(block)).multiply(design).sum(axis=1)).ravel()
            result[j] = math.sqrt(max(float(np.mean(variance)), 0.0))
        return result


# ----------------------------------------------------------------- helpers
def _float64(model: nn.Module) -> nn.Module:
    copied = copy.deepcopy(model)
    return copied.to(torch.float64).eval()


def _predict(model: nn.Module, points: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(points, dtype=torch.float64)).numpy()


def _max_order(problem: Problem) -> int:
    """The highest derivative order the residual or a condition asks for (probed on a smooth stand-in)."""
    rng = np.random.default_rng(0)
    dim, width = problem.domain.dim, len(problem.outputs)
    weight = torch.linspace(0.3, 1.1, dim * width, dtype=torch.float64).reshape(dim, width)

    def stand_in(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x @ weight + 0.2)

    coefficients = {n: float(c.initial) for n, c in problem.coefficients.items()}  # type: ignore[union-attr]
    field = problem.field(stand_in, torch.as_tensor(problem.domain.sample_interior(4, rng=rng)), coefficients=coefficients)
    problem.residuals(field)
    orders = [len(axes) for _, axes in field.requested]
    for condition in problem.conditions:
        batch = condition_points(problem.domain, condition, 4, rng)
        field = problem.field(stand_in, batch.points, coefficients=coefficients)
        condition.residuals(field, batch)
        orders += [len(axes) for _, axes in field.requested]
    return max(orders, default=0)


def _resolution(problem: Problem, model: nn.Module, rng: np.random.Generator) -> tuple[tuple[int, ...], list[np.ndarray | None]]:
    """Basis functions per axis, and where to place their knots, from the model's own slopes.

    ``omega_a = ||du/dx_a|| / ||u - mean u||`` (radians per unit length) over the
    axis length ``L_a`` gives about ``omega_a L_a / pi`` half-waves; each gets three
    functions at least. Where the slope along an axis is concentrated (a layer or a
    front: its largest bin holds more than ``GRADED`` times the mean), half of the
    knots follow the slope's distribution along that axis and half stay uniform.
    """
    domain = problem.domain
    dim = domain.dim
    base = _START.get(dim, 6)
    lo, hi = domain.bounds()
    points = domain.sample_interior(8192, rng=rng)
    x = torch.as_tensor(points).requires_grad_(True)
    values = model(x)
    spread = (values - values.mean(dim=0)).detach().pow(2).mean(dim=0).sqrt()
    slopes = torch.zeros(dim, dtype=torch.float64)
    steepness = torch.zeros_like(x)
    for j in range(values.shape[1]):
        (grad,) = torch.autograd.grad(values[:, j].sum(), x, retain_graph=True)
        scale = torch.clamp(spread[j], min=1e-300)
        slopes = torch.maximum(slopes, grad.pow(2).mean(dim=0).sqrt() / scale)
        steepness = steepness + grad.abs().detach() / scale
    sizes, gradings = [], []
    for a in range(dim):
        waves = float(slopes[a]) * float(hi[a] - lo[a]) / math.pi
        sizes.append(int(min(max(base, math.ceil(3 * waves)), 4 * base)))
        gradings.append(_grading(points[:, a], steepness[:, a].numpy(), float(lo[a]), float(hi[a])))
    return tuple(sizes), gradings


# A slope whose densest bin along an axis holds this many times the mean grades that axis's knots.
GRADED = 4.0
_BINS = 64


def _grading(x: np.ndarray, weight: np.ndarray, lo: float, hi: float) -> np.ndarray | None:
    """The cumulative distribution of half uniform, half ``weight`` along ``x``; None when the weight is even."""
    mass, _ = np.histogram(x, bins=_BINS, range=(lo, hi), weights=weight)
    count, _ = np.histogram(x, bins=_BINS, range=(lo, hi))
    density = np.where(count > 0, mass / np.maximum(count, 1), 0.0)  # mean slope per bin (sampling-free)
    if not density.sum() > 0 or density.max() <= GRADED * density.mean():
        return None
    density = 0.5 / _BINS + 0.5 * density / density.sum()
    return np.concatenate([[0.0], np.cumsum(density)]) / density.sum()
