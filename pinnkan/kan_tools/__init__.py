"""What makes KANs worth using: regularisation, pruning, symbolic fits and formulas."""

from .formula import auto_symbolic, formula, lock_edge, suggest_edge
from .pruning import PruneResult, edge_scores, node_scores, prune
from .regularization import Regularization
from .symbolic import SymbolicFit, evaluate_formula, fit_function, suggest, to_sympy

__all__ = [
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
]
