"""Approximators and their spline maths: B-spline KAN, Chebyshev KAN, MLP and their specs."""

from .base import SMOOTH, ModelSpec, Network
from .chebykan import ChebyKAN, ChebyKANLayer, ChebyKANSpec
from .functions import LIBRARY, SymbolicFunction
from .kan import KAN, KANLayer, KANSpec
from .mlp import MLP, MLPSpec

__all__ = [
    "SMOOTH",
    "ModelSpec",
    "Network",
    "KAN",
    "KANLayer",
    "KANSpec",
    "ChebyKAN",
    "ChebyKANLayer",
    "ChebyKANSpec",
    "MLP",
    "MLPSpec",
    "LIBRARY",
    "SymbolicFunction",
]
