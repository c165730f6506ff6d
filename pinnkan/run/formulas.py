"""Formulas of PDE solutions, found from the PDE alone: sparsify, prune, snap, refine, rank.

:func:`find_formula` fits small KANs (with multiplication nodes, no squashing of
hidden values; shaped by the separations the solution shows, and a few general
ones) to a model trained on the problem, with sparsity penalties, prunes them, locks
every remaining edge to a library function one by one and composes the network into
a SymPy expression, through the problem's hard constraint when the candidate uses it
(``u = particular + distance * N``, read from its functions by
:func:`~pinnkan.pde.trace.trace`). Each expression's numbers are then refined by the
PDE loss itself (residual and conditions on collocation points; the reference is
never seen) and snapped to exact numbers (``0``, ``1/2``, ``pi``...) where the loss
stays as low. Candidates are ranked by loss, and among the nearly best (within
:data:`LOSS_TIE`) the simplest wins.

A formula is only as good as its residual: the best candidate's error is estimated
without a reference (:func:`pinnkan.estimate.estimate_error`), and above
``tolerance`` the result says that no clean formula was found instead of offering
a misleading one.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy
import torch

from ..errors import InputTypeError, InputValueError, whole
from ..estimate import ErrorEstimate, estimate_error
from ..kan_tools.formula import formula as compose_formula
from ..kan_tools.formula import lock_edge, suggest_edge
from ..kan_tools.pruning import prune
from ..kan_tools.regularization import Regularization
from ..kan_tools.symbolic import LIBRARY, SymbolicFit, to_sympy
from ..models.expression import Expression, nice_numbers
from ..models.kan import KAN, KANSpec
from ..pde.coefficients import CoefficientSet
from ..pde.engines import Autograd
from ..pde.pinn import PINN
from ..pde.problem import Problem
from ..pde.trace import trace
from ..pde.transforms import HardConstraint
from ..training.losses import PINNLoss, Points
from ..training.stages import BFGS, Adam
from ..training.trainer import Trainer

__all__ = ["FormulaSearch", "FormulaCandidate", "FormulaResult", "find_formula", "architectures"]

# Candidates whose loss is within this factor of the best count as equally good; the simplest wins.
LOSS_TIE = 2.0
# A snapped number is kept when the refined loss stays within this factor of the loss before, or
# below SNAP_FLOOR times the loss of u = 0 (a relative error of about 1e-7: rounding noise).
SNAP_SLACK = 1.5
SNAP_FLOOR = 1e-14
# Only candidates whose loss is below this fraction of the loss of u = 0 (errors of about 1e-3 and less) are snapped.
SNAP_GATE = 1e-6
# A candidate below this fraction of the loss of u = 0 (an error of about 1e-6) ends the search of networks.
EXACT = 1e-12
# A solution whose separation test (see _separable_networks) leaves less than this is separable.
SEPARABLE = 1e-4
# The library functions tried on every edge by default (cos is a shifted sin).
DEFAULT_LIBRARY = ("x", "x^2", "x^3", "sin", "exp", "tanh", "gaussian", "log", "sqrt")


@dataclass(frozen=True, kw_only=True)
class FormulaSearch:
    """How :func:`find_formula` looks for a formula.

    Parameters
    ----------
    architectures : tuple of KANSpec, optional
        The networks to train; by default :func:`architectures` of the problem's
        number of coordinates (products, sums, a sum of products, a product of a
        composition).
    hard : bool, optional
        Train with the problem's hard constraint (True), without it (False), or
        both when the problem has one (None, the default).
    samples : int
        Points of the domain where each network is fitted to the solution.
    restarts : int
        Starts of each network (the best fit after Adam goes on).
    adam_steps, bfgs_steps : int
        Fit of each network: Adam from every start, then quasi-Newton (SSBroyden).
    regularization : Regularization
        Sparsity penalties of the fit.
    points : Points
        Collocation points of the PDE loss that refines and ranks the formulas.
    threshold : float
        Pruning threshold of edge and node scores.
    library : tuple of str
        Library functions tried on every edge.
    fits_per_edge : int
        How many of each edge's best fits are combined.
    combinations : int
        Most edge-fit combinations refined per network (the likeliest first).
    refine_steps : int
        Quasi-Newton steps refining the numbers of each combination by the PDE loss.
    snap_top : int
        How many of the best candidates get their numbers snapped.
    tolerance : float
        Largest estimated relative error of a clean formula.
    """

    architectures: tuple[KANSpec, ...] | None = None
    hard: bool | None = None
    samples: int = 2000
    restarts: int = 3
    adam_steps: int = 300
    bfgs_steps: int = 300
    regularization: Regularization = Regularization(l1=1e-4, entropy=1e-4)
    points: Points = Points(interior=1000, boundary=100)
    threshold: float = 0.05
    library: tuple[str, ...] = DEFAULT_LIBRARY
    fits_per_edge: int = 2
    combinations: int = 8
    refine_steps: int = 300
    snap_top: int = 3
    tolerance: float = 1e-3

    def __post_init__(self) -> None:
        if self.architectures is not None:
            if not self.architectures or not all(isinstance(a, KANSpec) for a in self.architectures):
                raise InputTypeError("architectures must be a non-empty tuple of KANSpec (or None for the defaults)")
            if any(a.squash_hidden for a in self.architectures):
                raise InputValueError("formula networks need squash_hidden=False: tanh between layers is not a formula")
        if self.hard not in (None, True, False):
            raise InputTypeError(f"hard must be True, False or None, got {self.hard!r}")
        if not isinstance(self.points, Points):
            raise InputTypeError(f"points must be Points(...), got {type(self.points).__name__}")
        if not isinstance(self.regularization, Regularization):
            raise InputTypeError(f"regularization must be Regularization(...), got {type(self.regularization).__name__}")
        for name in ("adam_steps", "bfgs_steps", "refine_steps"):
            if not whole(getattr(self, name), 0):
                raise InputValueError(f"{name} must be an int >= 0, got {getattr(self, name)!r}")
        for name in ("samples", "restarts", "fits_per_edge", "combinations", "snap_top"):
            if not whole(getattr(self, name), 1):
                raise InputValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if not 0.0 < self.threshold < 1.0:
            raise InputValueError(f"threshold must be in (0, 1), e.g. 0.05; got {self.threshold!r}")
        unknown = sorted(set(self.library) - set(LIBRARY))
        if unknown or not self.library:
            raise InputValueError(f"library names functions of {sorted(LIBRARY)}; unknown or empty: {unknown}")
        if not (isinstance(self.tolerance, (int, float)) and self.tolerance > 0):
            raise InputValueError(f"tolerance must be a number > 0, got {self.tolerance!r}")


def architectures(dim: int) -> tuple[KANSpec, ...]:
    """The default formula networks for ``dim`` coordinates.

    The output node is fed by: a sum node and a product node (a product of two
    functions, with a sum beside it that makes the product easier to fit and is
    pruned when it is not needed), two sum nodes, a sum and two products, and a
    product of two functions of sums (``f(a x + b t) g(t)``). Three or more
    coordinates add a product of three factors.
    """
    if not whole(dim, 1):
        raise InputValueError(f"dim must be an int >= 1, got {dim!r}")
    plain = {"squash_hidden": False, "grid_size": 5, "spline_order": 3}
    specs = [
        KANSpec(hidden=(2,), mult=(1,), **plain),
        KANSpec(hidden=(2,), mult=(0,), **plain),
        KANSpec(hidden=(3,), mult=(2,), **plain),
        KANSpec(hidden=(2, 1), mult=(0, 1), **plain),
    ]
    if dim >= 3:
        specs.append(KANSpec(hidden=(2, 1), mult=(1, 1), **plain))
    return tuple(specs)


@dataclass(frozen=True)
class FormulaCandidate:
    """One formula of the solution and how well it solves the problem.

    Attributes
    ----------
    expressions : tuple of sympy.Expr
        One per output, in the coordinates' symbols.
    loss : float
        The problem's loss (residual and conditions) of the refined formula.
    complexity : int
        Nodes of the expression trees.
    network : KAN
        The pruned network whose locked edges gave the formula.
    architecture : str
        The network it came from, e.g. ``KAN[2,1(1×),1] G=5 k=3``.
    hard : bool
        Composed through the problem's hard constraint.
    model : PINN
        The formula as a trainable model (an :class:`~pinnkan.models.expression.Expression`).
    """

    expressions: tuple[sympy.Expr, ...]
    loss: float
    complexity: int
    network: KAN
    architecture: str
    hard: bool
    model: PINN = field(repr=False)


@dataclass(frozen=True)
class FormulaResult:
    """What :func:`find_formula` found.

    Attributes
    ----------
    best : FormulaCandidate
        The chosen formula.
    candidates : list of FormulaCandidate
        Every refined candidate, by loss.
    estimate : ErrorEstimate
        The best formula's error, estimated without a reference.
    clean : bool
        Whether the estimate is within the search's tolerance.
    outputs, coordinates : tuple of str
    """

    best: FormulaCandidate
    candidates: list[FormulaCandidate]
    estimate: ErrorEstimate
    clean: bool
    outputs: tuple[str, ...]
    coordinates: tuple[str, ...]
    tolerance: float

    def text(self, digits: int = 6) -> list[str]:
        """``"u(x, t) = ..."`` per output, numbers rounded to ``digits`` significant digits."""
        args = ", ".join(self.coordinates)
        return [f"{name}({args}) = {_rounded(e, digits)}" for name, e in zip(self.outputs, self.best.expressions)]

    @property
    def message(self) -> str:
        """One line on what was found."""
        if self.clean:
            return f"formula found: estimated relative L2 error {self.estimate.rel_l2:.2g}"
        return (
            f"no clean formula: the best candidate's estimated relative L2 error is {self.estimate.rel_l2:.2g}, "
            f"above the tolerance {self.tolerance:g}"
        )


def find_formula(
    problem: Problem,
    solution: torch.nn.Module,
    search: FormulaSearch | None = None,
    *,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> FormulaResult:
    """Look for a closed-form solution of ``problem``, starting from a trained model of it.

    The small formula networks are fitted to ``solution`` (a PINN trained on the
    problem's equations, e.g. ``pinnkan.solve(...).model``), pruned and snapped; the
    formulas' numbers are then refined by the problem's loss alone.

    Parameters
    ----------
    problem : Problem
    solution : torch.nn.Module
        The trained model, mapping points (N, d) to outputs (N, m).
    search : FormulaSearch, optional
        Networks, fits, library and tolerance (the defaults when None).
    seed : int
        Fixes the networks' starts and the points.
    log : callable, optional
        Called with a line of text as each network is done.

    Returns
    -------
    FormulaResult
    """
    if not isinstance(problem, Problem):
        raise InputTypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if not isinstance(solution, torch.nn.Module):
        raise InputTypeError(f"solution must be the trained model (a torch.nn.Module), got {type(solution).__name__}")
    search = FormulaSearch() if search is None else search
    if not isinstance(search, FormulaSearch):
        raise InputTypeError(f"search must be a FormulaSearch, got {type(search).__name__}")
    if not whole(seed, 0):
        raise InputValueError(f"seed must be an int >= 0, got {seed!r}")
    say = log or (lambda line: None)
    data = _solution_samples(problem, solution, search.samples, seed=seed)
    # the coefficients the solution was trained with (learned ones of an inverse problem too)
    coefficients = solution.coefficients if isinstance(solution, PINN) else CoefficientSet(
        problem.coefficients, dtype=torch.float64, device=data[0].device)
    # a separation of u says nothing about the network inside a hard constraint: those go without one
    networks = [(name, build, (False,)) for name, build in _separable_networks(problem, solution, data[0])
                if search.architectures is None and search.hard is not True]
    networks += [(spec_name(spec), _builder(problem, spec, data[0]), _hard_options(problem, search.hard))
                 for spec in search.architectures or architectures(problem.domain.dim)]
    # the loss of u = 0 sets the scale of the losses
    zero = PINN(Expression([sympy.Integer(0)] * len(problem.outputs), problem.coordinates, dtype=torch.float64,
                           device=data[0].device), copy.deepcopy(coefficients).to(torch.float64))
    scale = _train_numbers(problem, zero, search, seed=seed, steps=0)[1]  # type: ignore[index]
    candidates: list[FormulaCandidate] = []
    for name, build, hard_options in networks:
        if any(c.loss <= EXACT * scale for c in candidates):
            say(f"{name}: not tried, a formula solves the problem to about 1e-6 already")
            continue
        for hard in hard_options:
            found = _candidates_of(problem, search, build, hard, data, coefficients, seed=seed)
            candidates.extend(found)
            best = min((c.loss for c in found), default=math.inf)
            say(f"{name}{' through the hard constraint' if hard else ''}: {len(found)} candidates, lowest loss {best:.3g}")
    if not candidates:
        raise InputValueError("no network gave a formula; widen the search (architectures, library)")
    candidates.sort(key=lambda c: c.loss)
    worth = [c for c in candidates[: search.snap_top] if c.loss <= SNAP_GATE * scale]
    snapped = [_snap(problem, c, search, seed=seed, floor=SNAP_FLOOR * scale) for c in worth]
    ranked = sorted(snapped + candidates[len(worth) :], key=lambda c: c.loss)
    best = _choose(ranked)
    estimate = estimate_error(problem, best.model, rng=np.random.default_rng(seed + 2))
    return FormulaResult(
        best=best,
        candidates=ranked,
        estimate=estimate,
        clean=bool(estimate.rel_l2 <= search.tolerance),
        outputs=tuple(problem.outputs),
        coordinates=tuple(problem.coordinates),
        tolerance=search.tolerance,
    )


def _solution_samples(
    problem: Problem, solution: torch.nn.Module, n: int, *, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points of the domain (float64, on the solution's device) and the solution's values there."""
    parameter = next(solution.parameters(), None)
    device = None if parameter is None else parameter.device
    points = problem.domain.sample_interior(n, rng=np.random.default_rng(seed + 3))
    x = torch.as_tensor(points, dtype=torch.float64, device=device)
    with torch.no_grad():
        dtype = torch.float64 if parameter is None else parameter.dtype
        values = solution(x.to(dtype)).to(torch.float64)
    if not bool(torch.isfinite(values).all()):
        raise InputValueError("the solution has non-finite values in the domain; train it again before a formula")
    return x, values


def spec_name(spec: KANSpec) -> str:
    """Short name of a formula network, e.g. ``[2,1(1×),1]`` for inputs and outputs left open."""
    mult = spec.mult or (0,) * len(spec.hidden)
    widths = [f"{w}({m}×)" if m else str(w) for w, m in zip(spec.hidden, mult)]
    return f"KAN[*,{','.join(widths)},*]"


def _builder(problem: Problem, spec: KANSpec, points: torch.Tensor) -> Callable[[int], KAN]:
    """Builds a fresh network of ``spec`` for the problem (the seed is set by the caller).

    The edges from a product node to the outputs are locked to straight lines: a
    curved edge after a product can take up any power of it (``psi(f g) = (f g)^p``
    with the factors bent to match), and the factors would not be the solution's.
    """
    lo, hi = problem.domain.bounds()

    def build(start: int) -> KAN:
        net = spec.build(problem.domain.dim, len(problem.outputs), (lo.tolist(), hi.tolist()), dtype=points.dtype,
                         device=points.device)
        last = net.layers[-1]
        for node, columns in enumerate(net.node_columns(len(net.widths) - 2)):
            if len(columns) == 2:
                for output in range(last.out_features):
                    last.lock_symbolic(node, output, "x", (1.0, 1.0, 0.0, 0.0))
        return net

    return build


def _separable_networks(
    problem: Problem, solution: torch.nn.Module, points: torch.Tensor
) -> list[tuple[str, Callable[[int], KAN]]]:
    """Networks shaped by the separations the solution shows on a box domain.

    For each coordinate ``i``, the solution's values on a tensor grid of ``x_i``
    against points of the other coordinates form a matrix ``U``. When its second
    singular value is below :data:`SEPARABLE` of the first, ``u = f(x_i) g(rest)``:
    a network of one product node whose first factor sees only ``x_i`` and whose second
    sees only the rest. When ``U`` minus its row and column means is as small,
    ``u = f(x_i) + g(rest)``: one sum node whose edges keep the two apart. The output
    edge of either is locked to a linear function, so the factors (or terms) are the
    solution's own and not a transform of them.
    """
    if len(problem.outputs) != 1 or problem.domain.dim < 2:
        return []
    lo, hi = (v.tolist() for v in problem.domain.bounds())
    dim, n = problem.domain.dim, 33
    rng = np.random.default_rng(0)
    found: list[tuple[str, Callable[[int], KAN]]] = []
    for axis in range(dim if dim > 2 else 1):
        line = np.linspace(lo[axis], hi[axis], n)
        rest = lo + rng.random((n, dim)) * (np.asarray(hi) - np.asarray(lo))
        grid = np.repeat(rest[None, :, :], n, axis=0)
        grid[:, :, axis] = line[:, None]
        flat = grid.reshape(-1, dim)
        if not bool(np.all(problem.domain.inside(flat))):
            return []  # not a box: values outside the domain say nothing
        with torch.no_grad():
            x = torch.as_tensor(flat, dtype=_dtype_of(solution), device=points.device)
            values = solution(x).double().reshape(n, n).cpu().numpy()
        sigma = np.linalg.svd(values, compute_uv=False)
        centred = values - values.mean(0) - values.mean(1)[:, None] + values.mean()
        name = problem.coordinates[axis]
        if sigma[0] > 0 and sigma[1] <= SEPARABLE * sigma[0]:
            found.append((f"u = f({name}) * g(rest)", _split_builder(problem, axis, points, product=True)))
        if np.linalg.norm(centred) <= SEPARABLE * np.linalg.norm(values - values.mean()):
            found.append((f"u = f({name}) + g(rest)", _split_builder(problem, axis, points, product=False)))
    return found


def _split_builder(problem: Problem, axis: int, points: torch.Tensor, *, product: bool) -> Callable[[int], KAN]:
    """Builds a KAN of one product (or sum) node with ``axis`` apart from the other coordinates, linear output."""
    lo, hi = problem.domain.bounds()
    dim = problem.domain.dim

    def build(start: int) -> KAN:
        net = KAN((dim, 1, 1), mult=(1,) if product else (0,), squash_hidden=False,
                  input_bounds=(lo.tolist(), hi.tolist()), dtype=points.dtype, device=points.device)
        first = net.layers[0]
        cut = torch.zeros_like(first.edge_mask, dtype=torch.bool)
        if product:  # factor 0 sees x_axis only, factor 1 the rest only
            cut[axis, 1] = True
            cut[[i for i in range(dim) if i != axis], 0] = True
            first.mask_edges(cut)
        net.layers[1].lock_symbolic(0, 0, "x", (1.0, 1.0, 0.0, 0.0))
        return net

    return build


def _dtype_of(module: torch.nn.Module) -> torch.dtype:
    tensor = next(itertools.chain(module.parameters(), module.buffers()), None)
    return torch.float64 if tensor is None or not tensor.is_floating_point() else tensor.dtype


def _hard_options(problem: Problem, hard: bool | None) -> tuple[bool, ...]:
    """Which of (without, with) the hard constraint to try."""
    constraint = problem.hard_constraint
    traceable = isinstance(constraint, HardConstraint) and all(
        trace(f, problem.coordinates) is not None for f in (constraint.particular, constraint.distance)
    )
    if hard is True and not traceable:
        raise InputValueError(
            "hard=True needs the problem's hard constraint as HardConstraint(particular=, distance=) written with "
            "elementwise torch functions of the coordinates, so that it can be read as a formula"
        )
    if hard is None:
        return (False, True) if traceable else (False,)
    return (hard,)


def _candidates_of(
    problem: Problem,
    search: FormulaSearch,
    build: Callable[[int], KAN],
    hard: bool,
    data: tuple[torch.Tensor, torch.Tensor],
    coefficients: CoefficientSet,
    *,
    seed: int,
) -> list[FormulaCandidate]:
    """Distil one network from the solution, prune it, snap its edges one by one, refine the formulas.

    Edges are locked to library functions one at a time, the surest fit (highest
    ``R^2``) first, and the rest of the network is fitted to the solution again after
    each lock, so that later edges take up what the locked ones leave (a network can
    share a function between an edge and the edges after it in many ways; locking
    settles it). Besides this sequence of choices, each edge's runner-up fit in place
    of its choice makes one more candidate.
    """
    points, values = data
    transform = problem.hard_constraint if hard else None
    fitted = _distilled(problem, search, build, transform, points, values, seed=seed)
    pruned = prune(fitted, points, threshold=search.threshold).model
    model = _wrapped(problem, pruned, transform)
    choices: list[tuple[tuple[int, int, int], list[SymbolicFit]]] = []
    while True:
        open_edges = [(level, i, j) for level, layer in enumerate(pruned.layers)
                      for i, j in torch.nonzero(layer.numeric_mask()).tolist()]
        if not open_edges:
            break
        fits = {e: _edge_fits(pruned, points, e, search) for e in open_edges}
        edge = min(open_edges, key=lambda e: (1.0 - fits[e][0].r2, fits[e][0].complexity))
        lock_edge(pruned, *edge, fits[edge][0])
        choices.append((edge, fits[edge]))
        if search.bfgs_steps:
            Trainer(model, _data_loss(points, values), [BFGS(steps=search.bfgs_steps // 3 or 1, update="ssbroyden")],
                    progress=False).run()
    variants = [pruned]
    for edge, fits in choices:
        if all(f.name != "x" for f in fits) and "x" in search.library:  # a straight edge is always worth a try
            fits = [*fits, *suggest_edge(pruned, points, *edge, library=("x",), top=1)]
        for runner_up in fits[1:]:
            network = copy.deepcopy(pruned)
            lock_edge(network, *edge, runner_up)
            variants.append(network)
    outer = None
    if hard:
        constraint = problem.hard_constraint
        outer = (trace(constraint.particular, problem.coordinates), trace(constraint.distance, problem.coordinates))  # type: ignore[union-attr]
    found = []
    for network in variants[: search.combinations]:
        expressions = [to_sympy(text) for text in compose_formula(network, variables=problem.coordinates, precision=17)]
        if outer is not None:
            particular, distance = outer
            expressions = [particular + distance * e for e in expressions]
        refined = _refined(problem, expressions, coefficients, search, seed=seed, steps=search.refine_steps)
        if refined is not None:
            formulas, loss, formula_model = refined
            found.append(FormulaCandidate(formulas, loss, formula_model.net.complexity(), network,  # type: ignore[operator]
                                          network.describe(), hard, formula_model))
    return found


def _edge_fits(network: KAN, points: torch.Tensor, edge: tuple[int, int, int], search: FormulaSearch) -> list[SymbolicFit]:
    """The edge's best ``fits_per_edge`` fits (simplest of the equally good first), and the closest fit of all.

    The closest fit matters when a simpler function imitates the edge on its range
    (a parabola for a slow exponential): the PDE loss tells them apart afterwards.
    """
    fits = suggest_edge(network, points, *edge, library=search.library, top=len(search.library))
    chosen = fits[: search.fits_per_edge]
    closest = max(fits, key=lambda f: f.r2)
    return chosen if closest in chosen else [*chosen, closest]


def _wrapped(problem: Problem, net: KAN, transform: HardConstraint | None) -> torch.nn.Module:
    """``net`` inside ``transform`` (the network itself without one)."""
    from ..pde.transforms import ConstrainedModel

    return net if transform is None else ConstrainedModel(net, transform, problem.coordinates)


def _data_loss(points: torch.Tensor, values: torch.Tensor, regularization: Regularization | None = None):  # type: ignore[no-untyped-def]
    """The mean-square misfit to ``values`` relative to their mean square, plus weighted KAN penalties."""
    scale = torch.mean(values**2).clamp(min=torch.finfo(values.dtype).tiny)

    def loss(model: torch.nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        terms = {"data": torch.mean((model(points) - values) ** 2) / scale}
        if regularization is not None and regularization.active:
            penalties = regularization.terms(model, points)
            terms.update({k: regularization.weights[k] * v for k, v in penalties.items()})
        return sum(terms.values()), terms  # type: ignore[return-value]

    return loss


def _distilled(
    problem: Problem,
    search: FormulaSearch,
    build: Callable[[int], KAN],
    transform: HardConstraint | None,
    points: torch.Tensor,
    values: torch.Tensor,
    *,
    seed: int,
) -> KAN:
    """The network ``build(seed)`` makes (inside ``transform``) fitted to the solution's ``values`` with sparsity penalties.

    Products of sums have saddles that a start can get stuck in: ``search.restarts``
    starts are trained for ``search.adam_steps`` Adam steps and the one closest to the
    values goes on with ``search.bfgs_steps`` quasi-Newton steps.
    """
    loss = _data_loss(points, values, search.regularization)
    best: tuple[float, torch.nn.Module, KAN] | None = None
    for start in range(search.restarts):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed * 1009 + start)
            net = build(start)
        model = _wrapped(problem, net, transform)
        if search.adam_steps:
            Trainer(model, loss, [Adam(steps=search.adam_steps, lr=1e-2, final_lr=1e-3)], progress=False).run()
        data = float(loss(model)[1]["data"].detach())
        if math.isfinite(data) and (best is None or data < best[0]):
            best = (data, model, net)
    if best is None:
        raise InputValueError(f"no start of {build(0).describe()} could be fitted to the solution (non-finite losses)")
    _, model, net = best
    if search.bfgs_steps:
        Trainer(model, loss, [BFGS(steps=search.bfgs_steps, update="ssbroyden")], progress=False).run()
    return net


def _refined(
    problem: Problem,
    expressions: Sequence[sympy.Expr],
    coefficients: CoefficientSet,
    search: FormulaSearch,
    *,
    seed: int,
    steps: int,
) -> tuple[tuple[sympy.Expr, ...], float, PINN] | None:
    """The expressions with their numbers refined by the PDE loss, its final loss and the model; None if it fails."""
    try:
        net = Expression(expressions, problem.coordinates, dtype=torch.float64, device=_device_of(coefficients))
    except InputValueError:
        return None
    model = PINN(net, copy.deepcopy(coefficients).to(torch.float64))
    return _train_numbers(problem, model, search, seed=seed, steps=steps)


def _train_numbers(
    problem: Problem, model: PINN, search: FormulaSearch, *, seed: int, steps: int
) -> tuple[tuple[sympy.Expr, ...], float, PINN] | None:
    """Refine the numbers of ``model`` by the problem's loss; (expressions, loss, model), None when not finite."""
    parameter = model.net.constants
    loss = PINNLoss(problem, problem.conditions, search.points, rng=np.random.default_rng(seed + 1),
                    dtype=parameter.dtype, device=parameter.device, engine=Autograd())
    # (derivatives by autograd: not under no_grad)
    if not math.isfinite(float(loss(model)[0].detach())):
        return None
    if steps and any(p.numel() for p in model.parameters()):
        Trainer(model, loss, [BFGS(steps=steps, update="ssbroyden")], progress=False).run()
    value = float(loss(model)[0].detach())
    if not math.isfinite(value):
        return None
    return tuple(model.net.expressions()), value, model


def _snap(
    problem: Problem, candidate: FormulaCandidate, search: FormulaSearch, *, seed: int, floor: float
) -> FormulaCandidate:
    """Replace numbers by nearby exact ones (0, p/q, p/q pi) while the refined loss stays as low (or below ``floor``)."""
    current, loss = candidate.model, candidate.loss
    tried: set[str] = set()
    while True:
        net: Expression = current.net  # type: ignore[assignment]
        options = []
        for index, value in enumerate(net.constants.detach().cpu().tolist()):
            for nice in nice_numbers(value)[:2]:
                key = f"{value:.6g}->{nice}"
                if key not in tried:
                    options.append((abs(float(nice) - value) / max(abs(value), 1e-12), index, nice, key))
        if not options:
            break
        accepted = False
        for _, index, nice, key in sorted(options, key=lambda o: o[0]):
            tried.add(key)
            trial = PINN(net.snap(index, nice), copy.deepcopy(current.coefficients))
            result = _train_numbers(problem, trial, search, seed=seed, steps=max(50, search.refine_steps // 3))
            if result is not None and result[1] <= max(SNAP_SLACK * loss, floor):
                current, loss, accepted = result[2], result[1], True
                tried.clear()  # with this number exact, snaps that failed before may hold now
                break
        if not accepted:
            break
    net = current.net  # type: ignore[assignment]
    return FormulaCandidate(tuple(net.expressions()), loss, net.complexity(), candidate.network,
                            candidate.architecture, candidate.hard, current)


def _choose(ranked: list[FormulaCandidate]) -> FormulaCandidate:
    """The simplest of the candidates whose loss is within :data:`LOSS_TIE` of the lowest."""
    lowest = ranked[0].loss
    tied = [c for c in ranked if c.loss <= LOSS_TIE * lowest]
    return min(tied, key=lambda c: (c.complexity, c.loss))


def _device_of(module: torch.nn.Module) -> torch.device | None:
    tensor = next(itertools.chain(module.parameters(), module.buffers()), None)
    return None if tensor is None else tensor.device


def _rounded(expr: sympy.Expr, digits: int) -> sympy.Expr:
    return expr.xreplace({f: sympy.Float(f, digits) for f in expr.atoms(sympy.Float)})
