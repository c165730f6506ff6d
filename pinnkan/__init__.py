"""pinnkan: physics-informed Kolmogorov-Arnold networks, checked against finite differences."""

__version__ = "0.1.0"

from .catalog import ProblemFile, list_problems, load_problem
from .compare import Comparison, compare
from .conditions import ConstrainedModel, Dirichlet, HardConstraint, Initial, Neumann
from .fields import Field
from .geometry import Box, Interval, LatinHypercube, Sobol, SpaceTime, UniformRandom
from .kan import KAN, KANLayer, KANSpec
from .losses import CompositeLoss, Points
from .problem import Problem
from .reference import GridSolution
from .solve import Setup, Solution, solve
from .train import BFGS, LBFGS, Adam, History, Trainer, TrainResult

__all__ = [
    "__version__",
    "KAN",
    "KANLayer",
    "KANSpec",
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
