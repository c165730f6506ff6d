"""Approximators and their spline maths: B-spline KAN, Chebyshev KAN, MLP and their specs."""

from .base import SMOOTH, ModelSpec, Network
from .chebykan import ChebyKAN, ChebyKANLayer, ChebyKANSpec
from .expression import Expression
from .functions import LIBRARY, SymbolicFunction
from .kan import KAN, KANLayer, KANSpec
from .kernel_build import KernelBuild
from .mlp import MLP, MLPSpec

#: Every approximator's spec by its ``kind``: the one registry the command line and run folders use.
SPECS: dict[str, type[ModelSpec]] = {spec.kind: spec for spec in (KANSpec, ChebyKANSpec, MLPSpec)}

__all__ = [
    "SMOOTH",
    "SPECS",
    "ModelSpec",
    "Network",
    "KAN",
    "KANLayer",
    "KANSpec",
    "KernelBuild",
    "ChebyKAN",
    "ChebyKANLayer",
    "ChebyKANSpec",
    "MLP",
    "MLPSpec",
    "Expression",
    "LIBRARY",
    "SymbolicFunction",
]
