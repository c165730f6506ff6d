"""pinnkan: physics-informed Kolmogorov-Arnold networks, checked against finite differences.

The package is split by the layers of the data flow: ``models`` (approximators),
``kan_tools`` (pruning, symbolic formulas), ``pde`` (what a problem is), ``training``
(losses, stages, the trainer), ``reference`` (finite-difference solvers), ``compare``,
``run`` (solve, run folders, command line) and ``plotting`` (imported lazily).
"""

__version__ = "0.1.0"

from .compare import Comparison, compare
from .kan_tools import (
    PruneResult,
    Regularization,
    SymbolicFit,
    auto_symbolic,
    edge_scores,
    evaluate_formula,
    fit_function,
    formula,
    lock_edge,
    node_scores,
    prune,
    suggest,
    suggest_edge,
    to_sympy,
)
from .models import (
    KAN,
    LIBRARY,
    MLP,
    ChebyKAN,
    ChebyKANSpec,
    KANLayer,
    KANSpec,
    MLPSpec,
    ModelSpec,
)
from .pde.conditions import (
    ConstrainedModel,
    Dirichlet,
    HardConstraint,
    Initial,
    Neumann,
)
from .pde.fields import Field
from .pde.geometry import Box, Interval, LatinHypercube, Sobol, SpaceTime, UniformRandom
from .pde.problem import Problem
from .reference import GridSolution
from .run.catalog import ProblemFile, list_problems, load_problem
from .run.solve import Setup, Solution, solve
from .training.fit import FitResult, fit
from .training.grid_stages import ExtendGrid, UpdateGrid
from .training.losses import CompositeLoss, Points
from .training.stages import BFGS, LBFGS, Adam, ModelChange
from .training.trainer import History, Trainer, TrainResult

__all__ = [
    "__version__",
    "KAN",
    "KANLayer",
    "KANSpec",
    "ExtendGrid",
    "UpdateGrid",
    "ModelSpec",
    "ChebyKAN",
    "ChebyKANSpec",
    "MLP",
    "MLPSpec",
    "Regularization",
    "prune",
    "PruneResult",
    "edge_scores",
    "node_scores",
    "LIBRARY",
    "SymbolicFit",
    "fit_function",
    "suggest",
    "evaluate_formula",
    "to_sympy",
    "suggest_edge",
    "lock_edge",
    "auto_symbolic",
    "formula",
    "fit",
    "FitResult",
    "Field",
    "Interval",
    "Box",
    "SpaceTime",
    "UniformRandom",
    "LatinHypercube",
    "Sobol",
    "Dirichlet",
    "Neumann",
    "Initial",
    "HardConstraint",
    "ConstrainedModel",
    "Problem",
    "Points",
    "CompositeLoss",
    "Adam",
    "LBFGS",
    "BFGS",
    "ModelChange",
    "Trainer",
    "TrainResult",
    "History",
    "GridSolution",
    "Comparison",
    "compare",
    "Setup",
    "Solution",
    "solve",
    "ProblemFile",
    "list_problems",
    "load_problem",
]
