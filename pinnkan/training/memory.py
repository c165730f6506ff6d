"""How many residual rows a training step can evaluate at once: the automatic chunk size.

A step's memory is mostly the tensors its backward pass keeps (the jets of every
layer at every point). :func:`graph_bytes` measures them on a few rows through
``torch.autograd.graph.saved_tensors_hooks``, which sees what any engine and any
device saves; :func:`free_memory` asks the device how much is free; and
:func:`rows_per_chunk` fits a share of the free memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

__all__ = ["free_memory", "graph_bytes", "rows_per_chunk", "MEMORY_SHARE", "MIN_CHUNK", "FAST_CHUNK"]

#: Share of the free memory a step's graphs may take.
MEMORY_SHARE = 0.25
#: Rows of the smallest chunk chosen automatically (smaller pieces cost more than they save).
MIN_CHUNK = 1024
#: Rows of the largest chunk chosen automatically on the CPU, where a whole term of many more is slower: a
#: heat1d step (float32, one thread, another job on the other core) over 200,000 points took 1.13 s whole and
#: 0.79 s in pieces of 65,536 rows, over 10^6 points 15 s and 3.5 s (large graphs take fresh pages each step).
FAST_CHUNK = 65536


def free_memory(device: torch.device) -> int | None:
    """Bytes free on ``device`` (CUDA: ``mem_get_info``; the CPU: ``MemAvailable`` of ``/proc/meminfo`` or the
    free pages), or None where it cannot be asked."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type == "mps":
        try:  # recommended_max_memory is newer than the oldest torch pinnkan runs on
            return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
        except AttributeError:
            return None
    if device.type != "cpu":
        return None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no such name on this platform
        return None


def graph_bytes(forward: Callable[[], torch.Tensor]) -> int:
    """Bytes of the tensors that the graph of ``forward()`` keeps for its backward pass (each storage once)."""
    storages: dict[int, int] = {}

    def keep(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        result = forward()
    del result
    return sum(storages.values())


def rows_per_chunk(bytes_per_row: float, free: int | None, rows: int) -> int | None:
    """The rows a chunk may hold so that its graph takes at most :data:`MEMORY_SHARE` of ``free`` bytes
    (a multiple of :data:`MIN_CHUNK`, at least that), or None when all ``rows`` fit at once or ``free`` is unknown."""
    if free is None or bytes_per_row <= 0:
        return None
    fits = int(MEMORY_SHARE * free / bytes_per_row)
    if fits >= rows:
        return None
    return max(MIN_CHUNK, fits // MIN_CHUNK * MIN_CHUNK)
