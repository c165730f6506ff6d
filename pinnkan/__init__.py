"""pinnkan: physics-informed Kolmogorov-Arnold networks, checked against finite differences.

The package is split by the layers of the data flow: ``models`` (approximators),
``kan_tools`` (pruning, symbolic formulas), ``pde`` (what a problem is), ``training``
(losses, stages, the trainer), ``reference`` (finite-difference solvers), ``compare``,
``run`` (solve, run folders, command line) and ``plotting`` (imported lazily).
"""

__version__ = "0.1.0"

from .compare import Comparison, compare
from .estimate import ErrorEstimate, estimate_error
from .grid_fields import GridFields
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
    Expression,
    KANLayer,
    KANSpec,
    KernelBuild,
    MLPSpec,
    ModelSpec,
)
from .pde.coefficients import Coefficient
from .pde.conditions import (
    Dirichlet,
    Initial,
    InitialVelocity,
    Neumann,
    Observations,
    Periodic,
    Robin,
)
from .pde.engines import Auto, Autograd, Jets
from .pde.fields import Field
from .pde.geometry import (
    Ball,
    Box,
    Difference,
    Disk,
    Halton,
    Intersection,
    Interval,
    LatinHypercube,
    Lattice,
    Polygon,
    Sobol,
    SpaceTime,
    UniformRandom,
    Union,
    Where,
)
from .pde.pinn import PINN
from .pde.problem import Problem
from .pde.transforms import ConstrainedModel, HardConstraint, OutputTransform
from .reference import GridSolution, ReferenceFile, ScatteredSolution, read_reference
from .run.catalog import ProblemFile, list_problems, load_problem
from .run.export import export_run
from .run.formula_files import formula_run
from .run.formulas import FormulaResult, FormulaSearch, find_formula
from .run.load import SavedRun, load_run
from .run.logs import TensorBoard
from .run.memory import keep_freed_memory
from .run.setup import Setup
from .run.solve import Solution, solve
from .training.adaptive import RAD, RAR, Resample
from .training.fit import FitResult, fit
from .training.grid_stages import ExtendGrid, UpdateGrid
from .training.losses import PINNLoss, Points
from .training.refinement import Refinement
from .training.stages import BFGS, LBFGS, Adam, GaussNewton, ModelChange, Plateau
from .training.trainer import History, Trainer, TrainResult
from .training.weighting import NTK, Causal, Fixed, GradNorm, ResidualAttention

__all__ = [
    "__version__",
    # models
    "KAN",
    "KANLayer",
    "KANSpec",
    "KernelBuild",
    "ModelSpec",
    "ChebyKAN",
    "ChebyKANSpec",
    "MLP",
    "MLPSpec",
    "LIBRARY",
    # kan_tools
    "Regularization",
    "prune",
    "PruneResult",
    "edge_scores",
    "node_scores",
    "SymbolicFit",
    "fit_function",
    "suggest",
    "evaluate_formula",
    "to_sympy",
    "suggest_edge",
    "lock_edge",
    "auto_symbolic",
    "formula",
    # pde
    "Field",
    "Autograd",
    "Jets",
    "Auto",
    "Interval",
    "Box",
    "Disk",
    "Ball",
    "Polygon",
    "Union",
    "Difference",
    "Intersection",
    "SpaceTime",
    "Where",
    "UniformRandom",
    "LatinHypercube",
    "Sobol",
    "Halton",
    "Lattice",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "Initial",
    "InitialVelocity",
    "Observations",
    "HardConstraint",
    "OutputTransform",
    "ConstrainedModel",
    "Coefficient",
    "Problem",
    "PINN",
    # training
    "Points",
    "PINNLoss",
    "Fixed",
    "GradNorm",
    "NTK",
    "ResidualAttention",
    "Causal",
    "Resample",
    "RAD",
    "RAR",
    "Adam",
    "Plateau",
    "LBFGS",
    "BFGS",
    "GaussNewton",
    "ModelChange",
    "ExtendGrid",
    "UpdateGrid",
    "Refinement",
    "Trainer",
    "TrainResult",
    "History",
    "fit",
    "FitResult",
    # reference, compare, run
    "GridSolution",
    "ReferenceFile",
    "ScatteredSolution",
    "read_reference",
    "GridFields",
    "Comparison",
    "compare",
    "ErrorEstimate",
    "estimate_error",
    "Setup",
    "Solution",
    "solve",
    "ProblemFile",
    "list_problems",
    "load_problem",
    "SavedRun",
    "load_run",
    "export_run",
    "find_formula",
    "Expression",
    "FormulaSearch",
    "FormulaResult",
    "formula_run",
    "TensorBoard",
    "keep_freed_memory",
]

# Names that moved: still found, with a warning that names the new one.
_RENAMED = {"Grid": "Lattice"}


def __getattr__(name: str) -> object:
    if name in _RENAMED:
        import warnings

        new = _RENAMED[name]
        warnings.warn(
            f"pinnkan.{name} is now pinnkan.{new} (a grid in pinnkan is a KAN's spline grid); {name} will be removed",
            FutureWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module 'pinnkan' has no attribute {name!r}")
