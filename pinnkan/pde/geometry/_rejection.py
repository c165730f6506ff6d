"""Drawing points through a unit-cube map that may reject some of them.

Every domain samples by mapping unit-cube points onto its interior or a boundary
part. Some maps cover a larger set and keep only part of it (a CSG result inside
its bounding box, a :class:`Where` part inside its named part); these helpers
draw until enough points are kept and estimate how many are.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.stats import qmc

from ...errors import InputValueError
from .samplers import Sampler

# A map takes unit points (m, k) to (points (m, dim), normals (m, dim) or None,
# kept (m,) bool or None for "all kept").
UnitMap = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]

PILOT_POINTS = 4096
_MAX_BATCH = 2**20
_MAX_ROUNDS = 64
_GIVE_UP = 2**16  # candidates drawn with none kept before a map counts as empty


def pilot_acceptance(k: int, unit_map: UnitMap, points: int = PILOT_POINTS) -> float:
    """Fraction of scrambled Sobol points (fixed local seed) the map keeps; 1.0 if it keeps all."""
    if k == 0:
        unit = np.empty((points, 0))
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            unit = qmc.Sobol(d=k, scramble=True, rng=np.random.default_rng(0)).random(points)
    _, _, kept = unit_map(unit)
    return 1.0 if kept is None else float(np.mean(kept))


def collect(
    n: int,
    k: int,
    unit_map: UnitMap,
    sampler: Sampler,
    rng: np.random.Generator,
    *,
    acceptance: float,
    failure: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Draw unit points of dimension ``k`` through ``unit_map`` until ``n`` are kept.

    Parameters
    ----------
    acceptance : float
        Expected fraction kept (sizes the batches; 1.0 when the map keeps all).
    failure : str
        Message of the ValueError raised when the map keeps nothing.

    Returns
    -------
    points : numpy.ndarray, shape (n, dim)
        Exactly ``n`` rows for samplers with ``exact_count``; otherwise the kept
        points of one draw of about ``n / acceptance`` candidates.
    normals : numpy.ndarray, shape (n, dim), or None
    """
    if not sampler.exact_count:
        if acceptance <= 0.0:
            raise InputValueError(failure)
        points, normals = _kept(unit_map(sampler.unit(math.ceil(n / acceptance), k, rng)))
        if points.shape[0] == 0:
            raise InputValueError(failure)
        return points, normals
    rate = max(acceptance, 0.5 / PILOT_POINTS)
    chunks: list[tuple[np.ndarray, np.ndarray | None]] = []
    have = drawn = 0
    for _ in range(_MAX_ROUNDS):
        need = n - have
        m = need if rate >= 1.0 else min(math.ceil(1.1 * need / rate) + 16, _MAX_BATCH)
        points, normals = _kept(unit_map(sampler.unit(m, k, rng)))
        chunks.append((points, normals))
        have += points.shape[0]
        drawn += m
        if have >= n:
            break
        if have == 0 and drawn >= _GIVE_UP:
            raise InputValueError(failure)
        rate = max(have / drawn, 0.5 / drawn)
    else:
        raise InputValueError(failure)
    points = np.concatenate([c[0] for c in chunks])[:n]
    if chunks[0][1] is None:
        return points, None
    return points, np.concatenate([c[1] for c in chunks])[:n]  # type: ignore[misc]


def _kept(
    mapped: tuple[np.ndarray, np.ndarray | None, np.ndarray | None],
) -> tuple[np.ndarray, np.ndarray | None]:
    points, normals, kept = mapped
    if kept is None:
        return points, normals
    return points[kept], None if normals is None else normals[kept]


def pick(u: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choose piece ``j`` with probability ``weights[j] / sum`` from u (m,) in [0, 1).

    Returns the piece index (m,) and u stretched back to [0, 1) within its piece,
    so it can serve as that piece's first unit coordinate (measure preserving).
    """
    edges = np.concatenate([[0.0], np.cumsum(weights) / np.sum(weights)])
    which = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(weights) - 1)
    width = edges[which + 1] - edges[which]
    stretched = np.where(width > 0, (u - edges[which]) / np.where(width > 0, width, 1.0), 0.0)
    return which, np.clip(stretched, 0.0, np.nextafter(1.0, 0.0))
