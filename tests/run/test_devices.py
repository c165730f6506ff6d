"""Choosing a device: ``auto`` takes a GPU where there is one, the CPU here."""

import pytest
import torch

from pinnkan import Adam, Points, Setup, load_problem, solve
from pinnkan.run import cli
from pinnkan.run.solve import best_device, check_device


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert best_device() == torch.device(expected)
    assert check_device("auto") == torch.device(expected)


def test_auto_trains_on_what_this_machine_has():
    spec = load_problem("heat1d")
    setup = Setup(points=Points(interior=64, boundary=16), stages=(Adam(steps=3),))
    solution = solve(spec.problem, setup, device="auto", progress=False)
    assert next(solution.model.parameters()).device == best_device()
    assert cli._device("auto") == "auto"
