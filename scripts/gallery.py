"""The documentation's gallery: every built-in problem with the figure and figures of its benchmark run.

Reads the run folders that ``scripts/benchmark_problems.py`` writes
(``runs/benchmark/NAME``: ``report.json`` and ``solution.png``), copies each
``solution.png`` to ``docs/gallery/NAME.png`` and writes ``docs/gallery.md``: per
problem its description, its parameters, how the run went (error against the
reference, the estimated error, training time, steps, model) and its picture.
Problems without a run folder are listed as not run. It also copies the studies'
figures (``benchmarks/*.png``) to ``docs/benchmarks/``, where the documentation shows
them. Usage::

    python scripts/benchmark_problems.py          # the runs (about an hour on two cores)
    python scripts/gallery.py [--runs runs/benchmark] [--docs docs]
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
from pathlib import Path

from pinnkan import list_problems, load_problem


def entry(name: str, runs: Path, images: Path) -> list[str]:
    """The gallery's lines for one problem."""
    spec = load_problem(name)
    lines = [f"## {name}", "", spec.problem.description + ".", ""]
    if spec.parameters:
        lines += ["Parameters: " + ", ".join(f"`{k}={v!r}`" for k, v in spec.parameters.items()) + ".", ""]
    folder = runs / name
    report_path, picture = folder / "report.json", folder / "solution.png"
    if not report_path.is_file() or not picture.is_file():
        return [*lines, f"Not run yet: `python scripts/benchmark_problems.py {name}` makes its run folder.", ""]
    report = json.loads(report_path.read_text())
    day = datetime.datetime.fromtimestamp(report_path.stat().st_mtime, tz=datetime.timezone.utc).date()
    shutil.copyfile(picture, images / f"{name}.png")
    facts = [
        f"relative L2 error {report['rel_l2']:.2e} against the reference ({report['reference']})",
        f"estimated without it {report['error_estimate']:.2e}" if "error_estimate" in report else None,
        f"{report['train_seconds']:.0f} s of training, {report['steps']} steps",
        f"{report['model']}, {report['params']} parameters, {report['dtype']}, seed {report['seed']}",
    ]
    lines += ["Run of " + str(day) + ": " + "; ".join(f for f in facts if f) + ".", ""]
    return [*lines, f"![{name}: prediction, reference and error](gallery/{name}.png)", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/benchmark", help="the benchmark's run folders")
    parser.add_argument("--docs", default="docs", help="the documentation folder")
    args = parser.parse_args()
    docs, runs = Path(args.docs), Path(args.runs)
    images = docs / "gallery"
    images.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Gallery",
        "",
        "Every built-in problem as `pinnkan solve NAME` solves it with the setup its file ships, from the",
        "run folders of `python scripts/benchmark_problems.py` (one process, two threads, on the 2-core CPU",
        "these pages were measured on). Each picture shows the prediction, the reference and their difference;",
        "space-time problems have time across. The [benchmarks](benchmarks.md) page has the table of all of them.",
        "This page is written by `python scripts/gallery.py`.",
        "",
    ]
    for name in list_problems():
        lines += entry(name, runs, images)
    (docs / "gallery.md").write_text("\n".join(lines))
    print(docs / "gallery.md")
    (docs / "benchmarks").mkdir(exist_ok=True)
    for figure in sorted(Path("benchmarks").glob("*.png")):
        shutil.copyfile(figure, docs / "benchmarks" / figure.name)
        print(docs / "benchmarks" / figure.name)


if __name__ == "__main__":
    main()
