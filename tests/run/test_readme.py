"""The README's own-PDE example runs and solves its problem."""

import re
from dataclasses import replace
from pathlib import Path

from pinnkan import load_problem, solve

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_problem_file_solves_its_pde(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "problem = Problem(" in b)
    path = tmp_path / "my_problem.py"
    path.write_text(example)
    spec = load_problem(path)
    assert spec.problem.name == "cooling_rod"
    setup = spec.setup.with_steps([300, 100])
    solution = solve(spec.problem, replace(setup, points=replace(setup.points, interior=300, boundary=50)),
                     dtype="float64", progress=False)
    assert solution.train.success
    assert solution.comparison.rel_l2 < 1e-2
