"""pinnkan: physics-informed Kolmogorov-Arnold networks, checked against finite differences."""

__version__ = "0.1.0"

from .approximators import MLP, ChebyKAN, ChebyKANSpec, MLPSpec, ModelSpec
from .catalog import ProblemFile, list_problems, load_problem
from .compare import Comparison, compare
from .conditions import ConstrainedModel, Dirichlet, HardConstraint, Initial, Neumann
from .fields import Field
from .geometry import Box, Interval, LatinHypercube, Sobol, SpaceTime, UniformRandom
from .fit import FitResult, fit
from .formula import auto_symbolic, formula, lock_edge, suggest_edge
from .kan import KAN, ExtendGrid, KANLayer, KANSpec, UpdateGrid
from .losses import CompositeLoss, Points
from .problem import Problem
from .pruning import PruneResult, edge_scores, node_scores, prune
from .regularization import Regularization
from .reference import GridSolution
from .solve import Setup, Solution, solve
from .symbolic import LIBRARY, SymbolicFit, evaluate_formula, fit_function, suggest, to_sympy
from .train import BFGS, LBFGS, Adam, History, ModelChange, Trainer, TrainResult

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
