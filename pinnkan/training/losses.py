"""The physics-informed loss: terms that own their points, combined by weighting schemes.

``L = sum_i lambda_i * mean_j(w_ij r_ij^2)`` over the loss terms ``i``: the PDE
residual on interior points (one term per named residual of a system) and each
condition's residuals on its own points (sampled on a boundary part, paired
across periodic faces, or fixed observations). Term weights ``lambda`` and point
weights ``w`` come from :mod:`pinnkan.training.weighting` (one by default);
:mod:`pinnkan.training.adaptive` moves the points during training. An optional
:class:`~pinnkan.kan_tools.regularization.Regularization` adds KAN penalties as
terms ``reg_*``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import InputTypeError, InputValueError, check_whole, whole
from ..kan_tools.regularization import Regularization
from ..models.kan import KANLayer
from ..models.kernel_build import active_build
from ..pde.conditions import Batch, Condition
from ..pde.engines import Auto, Autograd, Engine, Jets, JetsUnavailable, Request
from ..pde.fields import Field
from ..pde.geometry import Sampler, Sobol, UniformRandom
from ..pde.pinn import PINN
from ..pde.problem import PDE_TERM, Problem
from .adaptive import Resampling
from .compiled import Compiled
from .distributed import ALONE, Group, shard, share
from .memory import FAST_CHUNK, free_memory, graph_bytes, rows_per_chunk
from .objective import Objective
from .points import AtLocation, Interior, PointSource
from .weighting import TermInfo, Weighting, check_weightings

__all__ = ["Points", "PINNLoss"]

Evaluate = Callable[[Field, Batch], Mapping[str, torch.Tensor]]


@dataclass(frozen=True, kw_only=True)
class Points:
    """How many points each loss term draws, and how.

    Parameters
    ----------
    interior : int, optional
        Points of the PDE residual; by default 1,000 for up to two coordinates, 2,000
        for three and 4,000 for more (see :meth:`interior_for`).
    boundary : int
        Points of each condition on a boundary part (and pairs of each periodic condition).
    sampler : Sampler
        Unit-cube point generator (scrambled Sobol by default).
    """

    interior: int | None = None
    boundary: int = 200
    sampler: Sampler = Sobol()

    def __post_init__(self) -> None:
        for name in ("interior", "boundary"):
            value = getattr(self, name)
            if value is None and name == "interior":
                continue
            check_whole(f"Points.{name}", value)

    def interior_for(self, dim: int) -> int:
        """PDE points for a domain of ``dim`` coordinates: ``interior``, or the default for ``dim``."""
        if self.interior is not None:
            return self.interior
        return 1000 if dim <= 2 else 2000 if dim == 3 else 4000
        if not isinstance(self.sampler, Sampler):
            raise InputTypeError(f"Points.sampler must be a Sampler such as Sobol(), got {type(self.sampler).__name__}")


# Points of the probing call that learns which derivatives a term asks for.
_PROBE_POINTS = 8
# PDE rows whose graph is measured to choose the chunk size automatically.
_MEMORY_PROBE_ROWS = 256


@dataclass
class _Term:
    """A loss term group: one point source and the residuals evaluated on it.

    ``engine`` and ``needs`` (the derivatives its residuals ask for) are found by
    probing at the first evaluation.
    """

    label: str
    source: PointSource
    evaluate: Evaluate
    pde: bool
    engine: Engine | None = None
    needs: frozenset[Request] | None = None


class PINNLoss(Objective):
    """The loss of a problem, with its terms' points, weighting and resampling.

    Parameters
    ----------
    problem : Problem
    conditions : sequence of Condition
        The conditions enforced through the loss (those not built into the model).
    points : Points
        Point counts and sampler.
    rng : numpy.random.Generator
        Draws the initial points and all later resampling (seed it for reproducible runs).
    dtype, device
        Where the points live.
    engine : Engine, optional
        Derivative engine; :class:`~pinnkan.pde.engines.Auto` (jets where they can
        run, autograd elsewhere) by default. The first evaluation probes each term
        on a few points to learn the derivatives it needs (and, with ``Auto``, falls
        back to autograd for a term that jets cannot run, with a warning).
    weighting : Weighting or sequence of them, optional
        Loss-balancing schemes; every weight is one without them.
    resampling : Resampling, optional
        Moves the points every so many first-order steps.
    regularization : Regularization, optional
        KAN penalties added as terms ``reg_*`` on the PDE points.
    max_order : int, optional
        Highest derivative order the model supports (see :class:`~pinnkan.pde.fields.Field`).
    compile : bool
        Run the residuals of the terms on jets (forward and backward) through
        ``torch.compile``; where compilation is unavailable, a warning and the eager
        code. Terms on autograd stay eager: nested autograd inside compiled code is
        not traced faithfully.
    chunk_size : int or "auto", optional
        Evaluate a term of more rows than this piece by piece in training steps
        (:meth:`loss_and_gradient`): each piece's gradient is added to the parameters'
        ``.grad`` and its graph freed, so a step's memory follows ``chunk_size``, not the
        number of points. ``"auto"`` measures the graph of a few PDE rows at the first
        step and chunks if every term at once would take more than a quarter of the
        device's free memory (:mod:`pinnkan.training.memory`), and on the CPU into
        pieces of at most :data:`~pinnkan.training.memory.FAST_CHUNK` rows, which are
        faster there, unless a piece would cost more (point weights, compilation).
        Point weights that depend on every residual (causal, residual attention) are
        found first from a pass without graphs, which costs about a third of a step
        more; KAN penalties are then taken on the first ``chunk_size`` PDE points.
        Weighting by gradients (``GradNorm``, ``NTK``) differentiates whole terms and
        cannot be chunked (an error for a given size, a warning and no chunks for
        ``"auto"``). None (the default) evaluates every term at once.
    group : Group, optional
        The processes that train together (:mod:`pinnkan.training.distributed`): each
        holds its shard of every term's points (sampled ones drawn from ``rng``, which
        should be the process's own stream; observations split in contiguous blocks),
        and the loss and gradient of :meth:`loss_and_gradient` are those of all the
        points together, the same in every process. KAN penalties are averaged over
        the processes' PDE points.
    """

    def __init__(
        self,
        problem: Problem,
        conditions: Sequence[Condition],
        points: Points,
        *,
        rng: np.random.Generator,
        dtype: torch.dtype,
        device: torch.device | str | None = None,
        engine: Engine | None = None,
        weighting: Weighting | Sequence[Weighting] | None = None,
        resampling: Resampling | None = None,
        regularization: Regularization | None = None,
        max_order: int | None = None,
        compile: bool = False,
        chunk_size: int | str | None = None,
        group: Group = ALONE,
    ) -> None:
        if regularization is not None and not isinstance(regularization, Regularization):
            raise InputTypeError(f"regularization must be a Regularization, got {type(regularization).__name__}")
        if resampling is not None and not isinstance(resampling, Resampling):
            raise InputTypeError(f"resampling must be a Resampling such as RAD(), RAR() or Resample(every=...), got {type(resampling).__name__}")
        if engine is not None and not isinstance(engine, Engine):
            raise InputTypeError(f"engine must be an Engine such as Auto(), Jets() or Autograd(), got {type(engine).__name__}")
        if not isinstance(compile, bool):
            raise InputTypeError(f"compile must be True or False, got {compile!r}")
        self.problem = problem
        self.points = points
        self.rng = rng
        self.engine = engine or Auto()
        self.engine_notes: list[str] = []
        self._prepared_for: nn.Module | None = None
        self._compiled = Compiled(self._residuals_of) if compile else None
        self.resampling = resampling
        self.regularization = regularization
        self.max_order = max_order
        self.weighting = check_weightings(weighting)
        if chunk_size is not None:
            if chunk_size != "auto" and not whole(chunk_size, 1):
                raise InputValueError(f"chunk_size must be a positive int, 'auto' or None, got {chunk_size!r}")
            graphs = [type(s).__name__ for s in self.weighting if s.uses_gradients]
            if graphs and chunk_size != "auto":
                raise InputValueError(f"{', '.join(graphs)} weighting differentiates whole loss terms and cannot run "
                                      f"on chunks; drop chunk_size or use ResidualAttention/Causal/Fixed weighting")
        self.chunk_size = chunk_size
        self._rows_per_chunk: int | None = None if chunk_size == "auto" else chunk_size
        self._chunk_measured = chunk_size != "auto"
        if not isinstance(group, Group):
            raise InputTypeError(f"group must be a pinnkan Group (ALONE or ProcessGroup()), got {type(group).__name__}")
        self.group = group
        interior = Interior(problem.domain, share(points.interior_for(problem.domain.dim), group), points.sampler,
                            dtype=dtype, device=device)
        self._terms = [_Term(PDE_TERM, interior, lambda field, batch: problem.residuals(field), True)]
        for condition in conditions:
            source = AtLocation(condition.location, problem.domain, share(points.boundary, group), points.sampler,
                                dtype=dtype, device=device)
            self._terms.append(_Term(condition.name, source, condition.residuals, False))
        for term in self._terms:
            term.source.draw(rng)
            if not term.source.resamplable and group.size > 1:  # observations: a block of them each
                term.source.keep(*shard(term.source.rows, group))
        self._global_rows: dict[str, int] | None = None
        names = [name for term in self._terms for name in self._keys(term)]
        pde_names = self._keys(self._terms[0])
        time_axis = problem.coordinates.index(problem.time) if problem.time is not None else None
        time_range = problem.domain.time_range if problem.time is not None else None  # type: ignore[attr-defined]
        self.info = TermInfo(tuple(names), tuple(pde_names), time_axis, time_range, group)
        for scheme in self.weighting:
            scheme.bind(self.info)
        self._due: list[Weighting] = []
        self._last_coefficients: dict[str, torch.Tensor] = {}

    @property
    def term_names(self) -> tuple[str, ...]:
        """Every loss term, PDE terms first (regularisation terms not included)."""
        return self.info.names

    def _keys(self, term: _Term) -> tuple[str, ...]:
        return self.problem.term_groups[term.label]

    def residuals(self, model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Per-point residuals of every term, and the points they belong to: name -> (N,), name -> (N, d)."""
        coefficients = self._coefficients(model)
        self._prepare(model, coefficients)
        on_jets = tuple(t for t in self._terms if isinstance(t.engine, Jets))
        others = tuple(t for t in self._terms if not isinstance(t.engine, Jets))
        found = self._residuals_of(model, coefficients, others) if others else {}
        if on_jets:
            found.update((self._compiled or self._residuals_of)(model, coefficients, on_jets))
        residuals = {name: found[name] for term in self._terms for name in self._keys(term)}
        where: dict[str, torch.Tensor] = {}
        for term in self._terms:
            points = term.source.batch.points
            for name in self._keys(term):
                where[name] = points[: residuals[name].shape[0]]
        return residuals, where

    def _residuals_of(
        self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float], terms: tuple[_Term, ...]
    ) -> dict[str, torch.Tensor]:
        residuals: dict[str, torch.Tensor] = {}
        for term in terms:
            residuals.update(self._evaluate(model, coefficients, term, term.source.batch))
        return residuals

    def _evaluate(
        self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float], term: _Term, batch: Batch
    ) -> dict[str, torch.Tensor]:
        """The residuals of one term on ``batch``, by loss-term name."""
        field = self.problem.field(
            model, batch.points, engine=term.engine, coefficients=coefficients, max_order=self.max_order, needs=term.needs
        )
        return {term.label if key == "" else key: r for key, r in term.evaluate(field, batch).items()}

    def engine_report(self) -> dict[str, object]:
        """Which engine ran: as configured, per term group (after the first evaluation), why any fell back, compilation.

        For a B-spline KAN, ``spline_kernels`` says whether its sparse spline products ran on
        the fused C kernels (``"native"``) or, and why not, on PyTorch operators.
        """
        report: dict[str, object] = {
            "setup": self.engine.describe(),
            "terms": {term.label: term.engine.describe() for term in self._terms if term.engine is not None},
            "notes": list(self.engine_notes),
            "compile": self._compiled is not None and self._compiles_any(),
            "chunk_size": self._rows_per_chunk,
            "processes": self.group.size,
        }
        if self._compiled is not None and self._compiled.failure is not None:
            report["compile_failure"] = self._compiled.failure
        model = self._prepared_for
        if model is not None and any(isinstance(m, KANLayer) for m in model.modules()):
            device = next(model.parameters()).device
            report["spline_kernels"] = (
                active_build().status() if device.type == "cpu" else f"CPU only: PyTorch operators on {device.type}"
            )
        return report

    def _compiles_any(self) -> bool:
        """Whether a compiled loss has terms to compile (those on jets; autograd ones stay eager)."""
        return any(isinstance(t.engine, Jets) for t in self._terms)

    def _prepare(self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float]) -> None:
        """Choose each term's engine and learn its derivatives by probing a few of its points."""
        if self._prepared_for is model:
            return
        engine, note = self.engine.choose(model)
        notes = [note] if note else []
        for term in self._terms:
            term.engine, term.needs, note = self._probe(term, model, coefficients, engine)
            if note:
                notes.append(note)
        if self._compiled is not None and not self._compiles_any():
            notes.append("compile=True has no effect: every loss term runs on autograd, and only terms on jets are compiled")
        for note in notes:
            if note not in self.engine_notes:
                warnings.warn(f"derivative engine: {note}", stacklevel=3)
                self.engine_notes.append(note)
        self._prepared_for = model

    def _probe(
        self, term: _Term, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float], engine: Engine
    ) -> tuple[Engine, frozenset[Request], str]:
        """The engine a term runs on, the derivatives it asks for, and a note if it fell back."""
        full = term.source.batch
        batch = full.slice(0, _PROBE_POINTS)

        def needs(candidate: Engine) -> frozenset[Request]:
            field = self.problem.field(model, batch.points, engine=candidate, coefficients=coefficients, max_order=self.max_order)
            term.evaluate(field, batch)
            return frozenset(field.requested)

        try:
            return engine, needs(engine), ""
        except (JetsUnavailable, RuntimeError) as err:
            if isinstance(engine, Autograd):
                raise
            reason = str(err).splitlines()[0]
            fallback = self.engine.fallback
            found = needs(fallback or Autograd())  # a residual broken on autograd too raises here
            if fallback is None:
                raise InputValueError(
                    f"loss term {term.label!r} cannot run on {engine!r} ({reason}); use engine='auto' "
                    f"(autograd where jets cannot run) or Autograd()"
                ) from None
            return fallback, found, f"loss term {term.label!r} runs on {fallback.describe()} ({reason})"

    def _coefficients(self, model: nn.Module) -> dict[str, torch.Tensor | float]:
        """The model's coefficients; a bare network gets the problem's initial values."""
        if isinstance(model, PINN):
            values = model.coefficient_values()
            self._last_coefficients = values
            return values  # type: ignore[return-value]
        return {name: c.initial for name, c in self.problem.coefficients.items()}  # type: ignore[union-attr]

    def __call__(self, model: nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and the unweighted mean squares of every term."""
        residuals, where = self.residuals(model)
        values: dict[str, torch.Tensor] = {}
        plain: dict[str, torch.Tensor] = {}
        # In a group, each process's share of a term: its sum divided by the term's points in all processes.
        rows = self.rows() if self.group.size > 1 else None

        def mean(values: torch.Tensor, name: str) -> torch.Tensor:
            return torch.mean(values) if rows is None else values.sum() / rows[name]

        for name, r in residuals.items():
            squares = r**2
            plain[name] = mean(squares, name)
            weights = self._point_weights(name, r, where[name])
            values[name] = plain[name] if weights is None else mean(weights * squares, name)
        if self._due:
            parameters = [p for p in model.parameters() if p.requires_grad]
            for scheme in self._due:
                scheme.update(residuals, values, parameters)
            self._due = []
        total = sum(self._term_weight(n) * v for n, v in values.items())
        if self.regularization is not None and self.regularization.active:
            terms = self.regularization.terms(model, self.pde_points_tensor())
            penalties = {k: v / self.group.size for k, v in terms.items()}  # (a mean over the processes)
            total = total + sum(self.regularization.weights[k] * v for k, v in penalties.items())
            plain.update(penalties)
        return total, plain  # type: ignore[return-value]

    def rows(self) -> dict[str, int]:
        """Residual rows of every term over all the processes."""
        if self._global_rows is None:
            names = [(name, term) for term in self._terms for name in self._keys(term)]
            local = torch.tensor([float(term.source.rows) for _, term in names], dtype=torch.float64)
            counts = self.group.sum(local)
            self._global_rows = {name: int(n) for (name, _), n in zip(names, counts.tolist())}
        return self._global_rows

    def _point_weights(self, name: str, residual: torch.Tensor, points: torch.Tensor) -> torch.Tensor | None:
        """The product of every scheme's point weights for term ``name``, or None when none has any."""
        weights = None
        for scheme in self.weighting:
            w = scheme.point_weights(name, residual, points)
            if w is not None:
                weights = w if weights is None else weights * w
        return weights

    def _term_weight(self, name: str) -> float:
        """The product of every scheme's weight of term ``name``."""
        return math.prod(s.term_weight(name) for s in self.weighting)

    @property
    def sum_of_squares(self) -> bool:
        """Whether the loss is a sum of squares (no KAN penalty active), as Gauss-Newton stages need."""
        return self.regularization is None or not self.regularization.active

    def residual_chunks(self, model: nn.Module, size: int) -> Iterator[torch.Tensor]:
        """The weighted residuals ``F`` with ``sum(F**2) = total``, piece by piece: ``F_ij = sqrt(lambda_i w_ij / N_i) r_ij``.

        Each piece comes from one forward pass over at most ``size`` rows of one term, so
        that the graphs behind a piece stay small (a Gauss-Newton stage differentiates each
        row). Term weights ``lambda`` and point weights ``w`` are those of the current
        points, taken as constants.
        """
        if not self.sum_of_squares:
            raise InputValueError("the loss has KAN penalties (regularization), which are not a sum of squares; "
                                  "a Gauss-Newton stage needs them off (Regularization(...) only in earlier stages)")
        coefficients = self._coefficients(model)
        self._prepare(model, coefficients)
        whole = self._chunk_rows(model, coefficients) or max(term.source.rows for term in self._terms)
        residuals, where = self._detached_residuals(model, coefficients, whole)  # (for the weights: in big pieces)
        scales, rows_of = {}, self.rows()
        for name, r in residuals.items():
            weights = self._point_weights(name, r, where[name])
            weights = torch.ones_like(r) if weights is None else weights.detach()
            scales[name] = torch.sqrt(weights * (float(self._term_weight(name)) / rows_of[name]))
        del residuals, where
        for term in self._terms:
            rows = term.source.rows
            for start in range(0, rows, size):
                stop = min(start + size, rows)
                part = self._evaluate(model, coefficients, term, term.source.part(start, stop))
                yield torch.cat([(r * scales[name][start:stop]).reshape(-1) for name, r in part.items()])

    def loss_and_gradient(self, model: nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`__call__` with the total's gradient added to ``.grad``: in pieces of ``chunk_size`` rows if set."""
        coefficients = self._coefficients(model)
        self._prepare(model, coefficients)
        size = self._chunk_rows(model, coefficients)
        if size is None or all(term.source.rows <= size for term in self._terms):
            total, plain = super().loss_and_gradient(model)
        else:
            total, plain = self._chunked(model, coefficients, size)
        if self.group.size == 1:
            return total, plain  # type: ignore[return-value]
        # This process's shares of the loss and gradient: summed, they are the loss of every point.
        names = list(plain)
        summed = self.group.sum(torch.stack([total.to(torch.float64), *(plain[n].to(torch.float64) for n in names)]))
        self.group.sum_gradients([p for p in model.parameters() if p.requires_grad])
        return summed[0].to(total.dtype), {n: summed[i + 1].to(plain[n].dtype) for i, n in enumerate(names)}

    def _chunked(
        self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float], size: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """This process's share of the loss and its terms, gradient added to ``.grad``, ``size`` rows at a time."""
        weights: dict[str, torch.Tensor | None] = {}
        if self._due or any(scheme.has_point_weights for scheme in self.weighting):
            # Point weights and weight updates see every residual: a pass without graphs first.
            residuals, where = self._detached_residuals(model, coefficients, size)
            weights = {name: self._point_weights(name, r, where[name]) for name, r in residuals.items()}
            for scheme in self._due:  # none differentiates (refused in __init__)
                scheme.update(residuals, {n: torch.mean(r**2) for n, r in residuals.items()}, [])
            self._due = []
            del residuals, where
        squares: dict[str, torch.Tensor] = {}  # sums of r^2 and of w r^2, without graphs
        weighted: dict[str, torch.Tensor] = {}
        rows_of = self.rows()
        for term in self._terms:
            rows = term.source.rows
            for start in range(0, rows, size):
                stop = min(start + size, rows)
                part = self._evaluate(model, coefficients, term, term.source.part(start, stop))
                piece: torch.Tensor | float = 0.0
                for name, r in part.items():
                    w = weights.get(name)
                    sums = r**2 if w is None else w[start:stop] * r**2
                    piece = piece + self._term_weight(name) / rows_of[name] * sums.sum()
                    squares[name] = squares.get(name, 0.0) + (r.detach() ** 2).sum()  # type: ignore[assignment]
                    weighted[name] = weighted.get(name, 0.0) + sums.detach().sum()  # type: ignore[assignment]
                if isinstance(piece, torch.Tensor) and piece.requires_grad:
                    piece.backward()
        plain = {name: squares[name] / rows_of[name] for name in squares}
        total = sum(self._term_weight(n) * weighted[n] / rows_of[n] for n in weighted)
        if self.regularization is not None and self.regularization.active:
            penalties = {k: v / self.group.size for k, v in
                         self.regularization.terms(model, self.pde_points_tensor()[:size]).items()}
            penalty = sum(self.regularization.weights[k] * v for k, v in penalties.items())
            if penalty.requires_grad:  # type: ignore[union-attr]
                penalty.backward()  # type: ignore[union-attr]
            total = total + penalty.detach()  # type: ignore[union-attr]
            plain.update({k: v.detach() for k, v in penalties.items()})
        return torch.as_tensor(total), plain

    def _chunk_rows(self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float]) -> int | None:
        """Rows per chunk: as given, or for ``"auto"`` measured on the PDE term at the first call."""
        if not self._chunk_measured:
            pde = self._terms[0]
            probe = min(_MEMORY_PROBE_ROWS, pde.source.rows)

            def forward() -> torch.Tensor:
                part = self._evaluate(model, coefficients, pde, pde.source.part(0, probe))
                return sum(torch.sum(r**2) for r in part.values())  # type: ignore[return-value]

            per_row = graph_bytes(forward) / probe
            rows = max(term.source.rows for term in self._terms)
            size = rows_per_chunk(per_row, free_memory(pde.source.batch.points.device), rows)
            graphs = [type(s).__name__ for s in self.weighting if s.uses_gradients]
            if size is not None and graphs:
                note = (f"chunk_size='auto' would evaluate {size} rows at a time to stay within memory, but "
                        f"{', '.join(graphs)} weighting differentiates whole terms: every term is evaluated at once")
                warnings.warn(note, stacklevel=3)
                self.engine_notes.append(note)
                size = None
            # On the CPU, pieces of FAST_CHUNK rows are also faster than a whole term of many more (fresh
            # pages for large graphs each step); not where a piece costs a pass or compilation more.
            single_pass = not graphs and not any(s.has_point_weights for s in self.weighting)
            if single_pass and self._compiled is None and pde.source.batch.points.device.type == "cpu" \
                    and rows > FAST_CHUNK:
                size = FAST_CHUNK if size is None else min(size, FAST_CHUNK)
            self._rows_per_chunk, self._chunk_measured = size, True
        return self._rows_per_chunk

    def _detached_residuals(
        self, model: nn.Module, coefficients: Mapping[str, torch.Tensor | float], size: int
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Every term's residuals without graphs, evaluated ``size`` rows at a time, and their points."""
        residuals: dict[str, list[torch.Tensor]] = {}
        for term in self._terms:
            rows = term.source.rows
            for start in range(0, rows, size):
                part = self._evaluate(model, coefficients, term, term.source.part(start, min(start + size, rows)))
                for name, r in part.items():
                    residuals.setdefault(name, []).append(r.detach())
        names = [(name, term) for term in self._terms for name in self._keys(term)]
        joined = {name: torch.cat(residuals[name]) for name, _ in names}
        where = {name: term.source.batch.points[: term.source.rows] for name, term in names}
        return joined, where

    # Hooks called by the trainer.

    def before_step(self, step: int, adaptive: bool) -> None:
        for scheme in self.weighting:
            scheme.frozen = not adaptive
        self._due = [s for s in self.weighting if adaptive and s.due(step)]

    def after_step(self, step: int, model: nn.Module, adaptive: bool) -> str | None:
        if self.resampling is None or not adaptive or not self.resampling.due(step):
            return None
        return self.resampling.apply(self, model, self.rng)

    def extras(self) -> dict[str, float]:
        report = {f"coef/{name}": float(v.detach()) for name, v in self._last_coefficients.items()
                  if self.problem.coefficients[name].trainable}  # type: ignore[union-attr]
        for scheme in self.weighting:
            report.update(scheme.report())
        return report

    def samples(self) -> torch.Tensor:
        return self.pde_points_tensor()

    def state_dict(self) -> dict[str, object]:
        return {
            "sources": [term.source.state_dict() for term in self._terms],
            "weighting": [scheme.state_dict() for scheme in self.weighting],
            "rng": self.rng.bit_generator.state,
        }

    def resharded(self, shards: Sequence[Mapping[str, object]]) -> dict[str, object]:
        """This process's state from those of another number of processes (a checkpoint's ``shards``): every
        term's points and per-point weights joined in their order and shared out again; the random stream
        stays this process's own."""
        sources, blocks = [], {}
        for index, term in enumerate(self._terms):
            saved = [shard_["sources"][index] for shard_ in shards]  # type: ignore[index]
            union = term.source.join([Batch(s["points"], s["normals"], s["data"]) for s in saved])
            start, stop = shard(term.source.rows_in(union), self.group)
            mine = term.source.part_in(union, start, stop)
            sources.append({"points": mine.points, "normals": mine.normals, "data": mine.data})
            blocks.update({name: (start, stop) for name in self._keys(term)})
        schemes = [scheme.resharded([shard_["weighting"][i] for shard_ in shards], blocks)  # type: ignore[index]
                   for i, scheme in enumerate(self.weighting)]
        return {"sources": sources, "weighting": schemes, "rng": None}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        sources, schemes = state["sources"], state["weighting"]
        if len(sources) != len(self._terms) or len(schemes) != len(self.weighting):  # type: ignore[arg-type]
            raise InputValueError("the checkpoint was written for other loss terms or weighting; resume with the same problem and setup")
        for term, saved in zip(self._terms, sources):  # type: ignore[call-overload]
            term.source.load_state_dict(saved)
        self._global_rows = None
        for scheme, saved in zip(self.weighting, schemes):  # type: ignore[call-overload]
            scheme.load_state_dict(saved)
        if state["rng"] is not None:  # (None: resharded, the stream stays this process's own)
            self.rng.bit_generator.state = state["rng"]

    # What resampling strategies use.

    def pde_points_tensor(self) -> torch.Tensor:
        """The PDE residual's current points (N, d)."""
        return self._terms[0].source.batch.points

    def pde_points(self) -> np.ndarray:
        """The PDE residual's current points as float64 numpy (N, d)."""
        return self.pde_points_tensor().detach().cpu().double().numpy()

    def sample_interior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` uniform random points of the domain (candidates for adaptive sampling)."""
        return self.problem.domain.sample_interior(n, sampler=UniformRandom(), rng=rng)

    def set_pde_points(self, points: np.ndarray) -> None:
        """Train the PDE residual on ``points`` (N, d) from now on."""
        self._terms[0].source.replace(points)
        self._global_rows = None
        for name in self.info.pde:
            for scheme in self.weighting:
                scheme.points_changed(name)

    def redraw(self, rng: np.random.Generator) -> int:
        """Fresh points for every sampled term; returns how many terms were redrawn."""
        count = 0
        for term in self._terms:
            if term.source.resamplable:
                term.source.draw(rng)
                self._global_rows = None
                count += 1
                for name in self._keys(term):
                    for scheme in self.weighting:
                        scheme.points_changed(name)
        return count

    def residual_size(self, model: nn.Module, points: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
        """``sqrt(sum_k r_k^2)`` of the PDE residuals at numpy points (N, d), float64 (N,)."""
        coefficients = self._coefficients(model)
        self._prepare(model, coefficients)
        pde = self._terms[0]
        like = self.pde_points_tensor()
        sizes = []
        for start in range(0, points.shape[0], chunk):
            x = torch.as_tensor(points[start : start + chunk], dtype=like.dtype, device=like.device)
            field = self.problem.field(
                model, x, engine=pde.engine, coefficients=coefficients, max_order=self.max_order, needs=pde.needs
            )
            terms = self.problem.residuals(field)
            total = sum(r.detach() ** 2 for r in terms.values())
            sizes.append(torch.sqrt(total).double().cpu().numpy())  # type: ignore[union-attr]
        return np.concatenate(sizes)
