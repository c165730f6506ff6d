"""keep_freed_memory: the page faults of repeated large allocations, counted by the operating system."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from pinnkan.run import memory

# Twenty 2 MiB tensors filled and freed ten times, the page faults counted by the
# kernel (ru_minflt) before and after keep_freed_memory, in one fresh process.
FAULTS = """
import resource, torch
from pinnkan.run.memory import keep_freed_memory

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def cycles():
    def cycle():
        held = [torch.ones(1 << 19) for _ in range(20)]
        del held
    cycle()
    start = faults()
    for _ in range(10):
        cycle()
    return faults() - start

before = cycles()
applied = keep_freed_memory()
print(applied, before, cycles())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_memory_is_reused_without_page_faults() -> None:
    out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True).stdout.split()
    applied, before, after = out[0] == "True", int(out[1]), int(out[2])
    assert applied
    # 400 MiB written in 4 KiB pages: glibc's defaults give back and fault in a share of
    # them every cycle (about 10,000 faults measured); kept, they are reused.
    assert before > 2000
    assert after < before / 5


def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert memory.keep_freed_memory() is False
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False
