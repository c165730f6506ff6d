"""Finite-difference reference solvers (numpy and scipy only, no torch)."""

from .grid import GridSolution
from .heat import DirichletEnd, NeumannEnd, solve_heat_1d

__all__ = ["GridSolution", "DirichletEnd", "NeumannEnd", "solve_heat_1d"]
