"""Point sources: where each loss term's points come from, and the points it holds now.

A source owns its current points (a torch tensor on the training device) and
knows how to draw fresh ones: sampled interior points, sampled points of a
boundary part with their outward normals, paired points of the two faces of a
periodic coordinate, or fixed observation points with their values. Resampling
replaces a source's points; its ``state_dict`` holds them, so a resumed run
continues on exactly the points it was interrupted on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch

from ..errors import InputTypeError
from ..pde.conditions import Batch, Location
from ..pde.geometry import Domain, Sampler

__all__ = ["PointSource", "Interior", "AtLocation"]

Device = torch.device | str | None


class PointSource(ABC):
    """The points of one loss term.

    Parameters
    ----------
    dtype, device
        Where the points live.
    """

    #: Whether :meth:`draw` gives new points (False for fixed observations).
    resamplable = True

    def __init__(self, *, dtype: torch.dtype, device: Device) -> None:
        self.dtype = dtype
        self.device = device
        self._batch: Batch | None = None

    @property
    def batch(self) -> Batch:
        """The current points (and normals or data)."""
        if self._batch is None:
            raise RuntimeError("the source has no points yet; call draw(rng) first")
        return self._batch

    @property
    def size(self) -> int:
        """Number of points in a batch (counting both faces of periodic pairs)."""
        return self.batch.points.shape[0]

    @property
    def rows(self) -> int:
        """Residual rows a term gives on the current points (one per point, one per periodic pair)."""
        return self.rows_in(self.batch)

    def part(self, start: int, stop: int) -> Batch:
        """The points of residual rows ``start`` to ``stop - 1`` (to evaluate a term piece by piece)."""
        return self.part_in(self.batch, start, stop)

    def rows_in(self, batch: Batch) -> int:
        """Residual rows a term gives on ``batch``."""
        return batch.points.shape[0]

    def part_in(self, batch: Batch, start: int, stop: int) -> Batch:
        """The points of ``batch`` for residual rows ``start`` to ``stop - 1``."""
        return batch.slice(start, stop)

    def join(self, batches: Sequence[Batch]) -> Batch:
        """The rows of ``batches`` (saved by several processes) as one batch, in order."""
        return Batch.joined(batches)

    def keep(self, start: int, stop: int) -> None:
        """Keep residual rows ``start`` to ``stop - 1`` only (a process's block of fixed points)."""
        self._batch = self.part(start, stop)

    @abstractmethod
    def draw(self, rng: np.random.Generator) -> None:
        """Replace the points by freshly sampled ones."""

    def replace(self, points: np.ndarray) -> None:
        """Use the given points (N, d) from now on (for adaptive sampling of interior points)."""
        raise InputTypeError(f"{type(self).__name__} points cannot be replaced; only interior points are adapted")

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        """The current points, for checkpoints."""
        batch = self.batch
        return {"points": batch.points.cpu(), "normals": _cpu(batch.normals), "data": _cpu(batch.data)}

    def load_state_dict(self, state: dict[str, torch.Tensor | None]) -> None:
        """Restore points saved by :meth:`state_dict`."""
        self._batch = Batch(self._tensor(state["points"]), self._tensor(state["normals"]), self._tensor(state["data"]))

    def _set(self, points: np.ndarray | torch.Tensor, normals: np.ndarray | torch.Tensor | None = None,
             data: np.ndarray | torch.Tensor | None = None) -> None:
        self._batch = Batch(self._tensor(points), self._tensor(normals), self._tensor(data))

    def _tensor(self, array: np.ndarray | torch.Tensor | None) -> torch.Tensor | None:
        if array is None:
            return None
        return torch.as_tensor(array, dtype=self.dtype, device=self.device)


class Interior(PointSource):
    """``n`` sampled points of the domain's interior (the PDE residual's points)."""

    def __init__(self, domain: Domain, n: int, sampler: Sampler, *, dtype: torch.dtype, device: Device) -> None:
        super().__init__(dtype=dtype, device=device)
        self.domain, self.n, self.sampler = domain, n, sampler

    def draw(self, rng: np.random.Generator) -> None:
        self._set(self.domain.sample_interior(self.n, sampler=self.sampler, rng=rng))

    def replace(self, points: np.ndarray) -> None:
        self._set(points)


class AtLocation(PointSource):
    """The points of a condition's location: ``n`` sampled points of a boundary part (with outward
    normals), ``n`` pairs of periodic faces, or every observation point with its values (never
    resampled)."""

    def __init__(self, location: Location, domain: Domain, n: int, sampler: Sampler, *, dtype: torch.dtype,
                 device: Device) -> None:
        super().__init__(dtype=dtype, device=device)
        if not isinstance(location, Location):
            raise InputTypeError(f"no point source for a {type(location).__name__}; conditions need a location")
        self.location, self.domain, self.sampler = location, domain, sampler
        self.n = n if location.resamplable else len(location.points)  # type: ignore[attr-defined]
        self.resamplable = location.resamplable

    def draw(self, rng: np.random.Generator) -> None:
        batch = self.location.sample(self.domain, self.n, rng, self.sampler)
        self._set(batch.points, batch.normals, batch.data)

    def rows_in(self, batch: Batch) -> int:
        return self.location.rows(batch)

    def part_in(self, batch: Batch, start: int, stop: int) -> Batch:
        return self.location.part_of(batch, start, stop)

    def join(self, batches: Sequence[Batch]) -> Batch:
        return self.location.join(batches)


def _cpu(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor.cpu()
