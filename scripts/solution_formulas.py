"""Formulas of PDE solutions found from the PDE alone: heat1d and other problems with closed forms.

For every problem and seed: solve it with its shipped setup (``pinnkan.solve``), then
look for a formula (``pinnkan.find_formula``: formula networks fitted to the trained
solution, pruned, snapped edge by edge, numbers refined by the PDE loss, ranked by
loss and simplicity), and measure the formula's relative L2 error against the
problem's reference. The formula is also matched against the closed form of the
solution with SymPy (after ``sympy.simplify``), and the matched numbers are compared
with the exact ones:

* heat1d: ``A*exp(-c*t)*sin(b*x)``, c = 0.4 pi^2, b = pi;
* advection_diffusion1d with one Fourier mode (a2 = 0): ``A*exp(-c*t)*sin(b*x + k*t + p)``,
  c = nu = 0.05, b = 1, k = -1 (speed 1);
* poisson2d with a product of sines (m = 1, q = 0): ``A*sin(b*x)*sin(e*y)``, b = e = pi;
* burgers1d: no closed form in these functions; the search must say so.

Writes ``benchmarks/formulas.json`` and prints a markdown table. Usage::

    python scripts/solution_formulas.py [--problems heat1d ...] [--seeds 0 1 2] [--out FILE]
    python scripts/solution_formulas.py --merge A.json B.json   # rows of runs made apart, e.g. one per core
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import sympy

from pinnkan import find_formula, load_problem, solve
from pinnkan.run.folder import versions
from pinnkan.run.formula_files import formula_report

OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "formulas.json"
x, y, t = sympy.symbols("x y t")


@dataclass(frozen=True)
class Case:
    """A problem of the study, the closed form its formula should take and the exact numbers in it."""

    name: str
    parameters: dict[str, float]
    form: sympy.Expr | None  # in the Wild symbols below; None: no closed form expected
    exact: dict[str, float]  # Wild name -> exact value (relative errors reported)
    seeds: tuple[int, ...] = (0, 1, 2)


A, B, C, E, K, P = (sympy.Wild(n, exclude=[x, y, t]) for n in "ABCEKP")
CASES = {
    "heat1d": Case("heat1d", {}, A * sympy.exp(-C * t) * sympy.sin(B * x),
                   {"C": 0.4 * math.pi**2, "B": math.pi}),
    "advection_diffusion1d": Case("advection_diffusion1d", {"a2": 0.0},
                                  A * sympy.exp(-C * t) * sympy.sin(B * x + K * t + P),
                                  {"C": 0.05, "B": 1.0, "K": -1.0}),
    "poisson2d": Case("poisson2d", {"m": 1.0, "q": 0.0}, A * sympy.sin(B * x) * sympy.sin(E * y),
                      {"B": math.pi, "E": math.pi}),
    "burgers1d": Case("burgers1d", {}, None, {}, seeds=(0,)),
}


def matched(expr: sympy.Expr, form: sympy.Expr) -> dict[str, float] | None:
    """The numbers of ``form`` that make it ``expr`` after ``sympy.simplify``, or None."""
    simplified = sympy.expand(sympy.simplify(expr), power_exp=True, mul=False, multinomial=False)
    found = simplified.match(form)
    if found is None:
        return None
    values = {w.name: float(v) for w, v in found.items()}
    return values if all(math.isfinite(v) for v in values.values()) else None


def run_case(case: Case, seed: int) -> dict[str, object]:
    """Solve one problem at one seed, find its formula and measure it."""
    spec = load_problem(case.name, **case.parameters)
    start = time.perf_counter()
    solution = solve(spec.problem, spec.setup, seed=seed, progress=False)
    solve_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = find_formula(spec.problem, solution.model, seed=seed)
    formula_seconds = time.perf_counter() - start
    fields = formula_report(spec.problem, result)
    expr = result.best.expressions[0]
    numbers = matched(expr, case.form) if case.form is not None else None
    errors = None
    if numbers is not None:
        errors = {k: abs(abs(numbers[k]) - abs(v)) / abs(v) for k, v in case.exact.items()}
    return {
        "problem": case.name,
        "parameters": case.parameters,
        "seed": seed,
        "solution_rel_l2": None if solution.comparison is None else solution.comparison.rel_l2,
        "formula": [str(e) for e in result.best.expressions],
        "formula_text": result.text(),
        "clean": result.clean,
        "message": result.message,
        "estimated_rel_l2": result.estimate.rel_l2,
        "formula_rel_l2": fields["formula_rel_l2"],
        "loss": result.best.loss,
        "complexity": result.best.complexity,
        "network": result.best.architecture,
        "hard_constraint": result.best.hard,
        "form": None if case.form is None else str(case.form),
        "matched": numbers,
        "relative_errors": errors,
        "solve_seconds": solve_seconds,
        "formula_seconds": formula_seconds,
    }


def table(rows: list[dict[str, object]]) -> str:
    """Markdown table of the rows."""
    lines = [
        "| problem | seed | formula | clean | estimated | rel L2 vs reference | matches the closed form | numbers off by | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        errors = r["relative_errors"]
        off = "" if not errors else ", ".join(f"{k} {v:.1e}" for k, v in errors.items())  # type: ignore[union-attr]
        params = ",".join(f"{k}={v:g}" for k, v in r["parameters"].items())  # type: ignore[union-attr]
        name = f"{r['problem']}" + (f" ({params})" if params else "")
        formula = "; ".join(r["formula_text"])  # type: ignore[arg-type]
        lines.append(
            f"| {name} | {r['seed']} | `{formula}` | {'yes' if r['clean'] else 'no'} | {r['estimated_rel_l2']:.2g} | "
            f"{r['formula_rel_l2']:.2g} | {'yes' if r['matched'] else ('n/a' if r['form'] is None else 'no')} | "
            f"{off} | {r['solve_seconds'] + r['formula_seconds']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, help="seeds (default: each case's own, 0 1 2 or 0)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--merge", nargs="+", type=Path, help="merge the rows of these files into --out, then print")
    args = parser.parse_args()
    if args.merge:
        rows = [r for path in args.merge for r in json.loads(path.read_text())["rows"]]
        if args.out.exists():
            new = {(r["problem"], r["seed"]) for r in rows}
            rows += [r for r in json.loads(args.out.read_text())["rows"] if (r["problem"], r["seed"]) not in new]
    else:
        rows = []
        for name in args.problems:
            case = CASES[name]
            for seed in args.seeds or case.seeds:
                row = run_case(case, seed)
                print(f"{name} seed {seed}: {'; '.join(row['formula_text'])}  rel_l2 {row['formula_rel_l2']:.2g}",
                      flush=True)
                rows.append(row)
    rows.sort(key=lambda r: (r["problem"], r["seed"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"date": time.strftime("%Y-%m-%d"), "versions": versions(), "rows": rows}
    args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
