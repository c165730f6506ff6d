"""Samplers: where in the unit cube ``[0, 1)^dim`` the points of a domain come from.

A domain maps unit-cube points onto its interior or onto a boundary part, so any
sampler works on any domain. Every sampler draws its randomness from the
``numpy.random.Generator`` it is given, never from numpy's global state.

Examples
--------
>>> import numpy as np
>>> Lattice().unit(9, 2, np.random.default_rng(0))[:3]
array([[0.16666667, 0.16666667],
       [0.16666667, 0.5       ],
       [0.16666667, 0.83333333]])
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod

import numpy as np
from scipy.stats import qmc

from ...errors import InputTypeError, InputValueError, whole

__all__ = ["Halton", "LatinHypercube", "Lattice", "Sampler", "Sobol", "UniformRandom"]


class Sampler(ABC):
    """Draws points in the unit cube ``[0, 1)^dim``.

    Subclasses implement :meth:`_unit`; :meth:`unit` checks the request first.

    Attributes
    ----------
    exact_count : bool
        True if ``unit(n, ...)`` returns exactly ``n`` points, so that a domain
        that rejects some points can draw more until it has ``n``.
    """

    exact_count: bool = True

    def unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """Return points of shape (n, dim) in ``[0, 1)^dim`` (about ``n`` if not :attr:`exact_count`).

        Parameters
        ----------
        n : int
            Number of points, ``>= 1``.
        dim : int
            Dimension of the cube, ``>= 0`` (``0`` gives an (n, 0) array).
        rng : numpy.random.Generator
            The only source of randomness.
        """
        if not whole(n, 1, numpy=True):
            raise InputValueError(f"number of points must be a positive int, got {n!r}")
        if not whole(dim, 0, numpy=True):
            raise InputValueError(f"dim must be an int >= 0, got {dim!r}")
        if not isinstance(rng, np.random.Generator):
            raise InputTypeError(
                f"rng must be a numpy.random.Generator such as np.random.default_rng(0), "
                f"got {type(rng).__name__}"
            )
        if dim == 0:
            return np.empty((int(n), 0))
        return self._unit(int(n), int(dim), rng)

    @abstractmethod
    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """Points (n, dim) in ``[0, 1)^dim`` for a checked request with ``dim >= 1``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class UniformRandom(Sampler):
    """Independent uniform random points."""

    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, dim))


class LatinHypercube(Sampler):
    """Latin hypercube points (``scipy.stats.qmc.LatinHypercube``): one point per row and column slab."""

    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        return qmc.LatinHypercube(d=dim, rng=rng).random(n)


class Sobol(Sampler):
    """Scrambled Sobol points (``scipy.stats.qmc.Sobol``).

    Parameters
    ----------
    scramble : bool
        Owen scrambling, seeded by the generator; keep it on unless you want the
        plain sequence (which starts at the origin).
    """

    def __init__(self, *, scramble: bool = True) -> None:
        self.scramble = bool(scramble)

    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        with warnings.catch_warnings():
            # Sobol's balance is best at powers of two; other counts are still valid.
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            return qmc.Sobol(d=dim, scramble=self.scramble, rng=rng).random(n)

    def __repr__(self) -> str:
        return f"Sobol(scramble={self.scramble})"


class Halton(Sampler):
    """Scrambled Halton points (``scipy.stats.qmc.Halton``); any count keeps its balance."""

    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        return qmc.Halton(d=dim, scramble=True, rng=rng).random(n)


class Lattice(Sampler):
    """Points on a regular cell-centred lattice (not to be confused with a KAN's spline grid): ``m`` per axis,
    ``x_i = (i + 1/2) / m``.

    ``m = max(1, round(n ** (1 / dim)))``, so it returns ``m ** dim`` points (about
    ``n``, not exactly: :attr:`exact_count` is False). Deterministic; ``rng`` is unused.
    """

    exact_count = False

    def _unit(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        m = max(1, round(n ** (1.0 / dim)))
        axis = (np.arange(m) + 0.5) / m
        mesh = np.meshgrid(*([axis] * dim), indexing="ij")
        return np.stack([g.reshape(-1) for g in mesh], axis=1)
