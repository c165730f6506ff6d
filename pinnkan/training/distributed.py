"""The processes that train one model together: sums over them, agreement, one writer.

A :class:`Group` of one process (:data:`ALONE`) makes every collective the
identity, so the loss and the trainer run one code path alone or in many
processes. :class:`ProcessGroup` is torch.distributed's default process group
(gloo on CPUs, NCCL on GPUs, as ``torchrun`` starts it): each process holds a
shard of every loss term's points, the loss and its gradient are summed over
the processes, so every process sees the global loss and takes the same step,
and only process 0 writes files.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import InputValueError

__all__ = ["Group", "ProcessGroup", "ALONE", "shard", "share"]


class Group:
    """One process alone: sums and maxima are the values themselves."""

    rank = 0
    size = 1

    @property
    def writer(self) -> bool:
        """Whether this process writes the run folder and checkpoints (process 0)."""
        return self.rank == 0

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (in place; returned)."""
        return tensor

    def max(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor``'s elementwise maximum over the processes (in place; returned)."""
        return tensor

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` holds in any process (every process gets the same answer)."""
        return flag

    def broadcast(self, module: nn.Module) -> None:
        """Give every process process 0's parameters and buffers of ``module``."""

    def rng(self, seed: int) -> np.random.Generator:
        """This process's stream of the run's ``seed``: ``default_rng(seed)`` alone, distinct streams in a group."""
        return np.random.default_rng(seed)

    def sum_gradients(self, parameters: list[torch.Tensor]) -> None:
        """Sum the ``.grad`` of ``parameters`` over the processes (a missing one counts as zeros)."""

    def gather(self, value: object) -> list[object] | None:
        """Every process's ``value`` in rank order, in the writer (process 0); None elsewhere."""
        return [value]


ALONE = Group()


class ProcessGroup(Group):
    """torch.distributed's default process group, which must be initialised (``torchrun`` and
    ``torch.distributed.init_process_group``).

    Tensors travel on the CPU with gloo and on the current CUDA device with NCCL.
    """

    def __init__(self) -> None:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            raise InputValueError(
                "distributed training needs torch.distributed initialised: launch with torchrun "
                "(torchrun --nproc_per_node=2 -m pinnkan solve NAME --distributed)"
            )
        self._dist = dist
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        backend = dist.get_backend()
        self._device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return self._reduce(tensor, self._dist.ReduceOp.SUM)

    def max(self, tensor: torch.Tensor) -> torch.Tensor:
        return self._reduce(tensor, self._dist.ReduceOp.MAX)

    def any(self, flag: bool) -> bool:
        return bool(self.max(torch.tensor([float(flag)])).item())

    def broadcast(self, module: nn.Module) -> None:
        for tensor in [*module.parameters(), *module.buffers()]:
            moved = tensor.data.to(self._device)
            self._dist.broadcast(moved, src=0)
            tensor.data.copy_(moved)

    def rng(self, seed: int) -> np.random.Generator:
        if self.size == 1:
            return super().rng(seed)
        return np.random.default_rng(np.random.SeedSequence(seed).spawn(self.size)[self.rank])

    def sum_gradients(self, parameters: list[torch.Tensor]) -> None:
        # One all-reduce: the gradients, then one flag per parameter saying whether a process has its gradient.
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        has = grads[0].new_tensor([float(p.grad is not None) for p in parameters])
        flat = self.sum(torch.cat([*(g.reshape(-1) for g in grads), has]))
        anywhere = flat[-len(parameters) :].tolist()  # (one copy from the device)
        start = 0
        for p, held in zip(parameters, anywhere):
            if held:  # a parameter no process has a gradient of keeps none
                p.grad = flat[start : start + p.numel()].view_as(p).clone()
            start += p.numel()

    def gather(self, value: object) -> list[object] | None:
        values: list[object] | None = [None] * self.size if self.writer else None
        self._dist.gather_object(value, values, dst=0)
        return values

    def _reduce(self, tensor: torch.Tensor, op: object) -> torch.Tensor:
        moved = tensor.to(self._device)
        self._dist.all_reduce(moved, op=op)
        if moved is not tensor:
            tensor.copy_(moved)
        return tensor


def shard(n: int, group: Group) -> tuple[int, int]:
    """The rows ``[start, stop)`` of ``n`` that process ``group.rank`` holds (contiguous, sizes within one)."""
    base, extra = divmod(n, group.size)
    start = group.rank * base + min(group.rank, extra)
    return start, start + base + (group.rank < extra)


def share(n: int, group: Group) -> int:
    """How many of ``n`` rows process ``group.rank`` holds (see :func:`shard`)."""
    start, stop = shard(n, group)
    return stop - start
