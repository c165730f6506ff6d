"""Geometry: domains, their boundary parts and normals, and samplers of their points.

A domain has named coordinates, a bounding box, a closed interior and named
parts of its boundary; it samples points uniformly on each by mapping a
sampler's unit-cube points, so random, Latin hypercube, Sobol, Halton and grid
points all work everywhere. Primitives (:class:`Box`, :class:`Interval`,
:class:`Ball`, :class:`Disk`, :class:`Polygon`) combine by ``|``, ``-`` and ``&``
(:class:`Union`, :class:`Difference`, :class:`Intersection`); :class:`SpaceTime`
adds a time interval to any of them. :class:`Where` selects a piece of a
boundary part by a predicate on the coordinates.

Examples
--------
>>> import numpy as np
>>> l_shape = Box({"x": (-1, 1), "y": (-1, 1)}) - Box({"x": (0, 1), "y": (0, 1)})
>>> points, normals = l_shape.sample_boundary("boundary", 8, sampler=Sobol(), rng=np.random.default_rng(0))
>>> bool(l_shape.on_boundary(points).all())
True
"""

from .ball import Ball, Disk
from .base import Domain
from .box import Box, Interval
from .csg import Difference, Intersection, Union
from .parts import INTERIOR, Where
from .polygon import Polygon
from .samplers import Halton, LatinHypercube, Lattice, Sampler, Sobol, UniformRandom
from .spacetime import SpaceTime

__all__ = [
    "INTERIOR",
    "Ball",
    "Box",
    "Difference",
    "Disk",
    "Domain",
    "Halton",
    "Intersection",
    "Interval",
    "LatinHypercube",
    "Lattice",
    "Polygon",
    "Sampler",
    "Sobol",
    "SpaceTime",
    "UniformRandom",
    "Union",
    "Where",
]
