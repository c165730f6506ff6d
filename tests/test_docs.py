"""Every code block of the README and the documentation runs: python blocks execute, shell commands parse.

The python blocks of one page run in order in one namespace, in a fresh working
directory; a block that is not meant to run is fenced as ``text``. Every
``pinnkan ...`` line of a ``bash`` block must be a command the command line accepts.
"""

import re
import shlex
from pathlib import Path

import matplotlib
import pytest

from pinnkan.run.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```(\w[\w-]*)\n(.*?)^```", flags=re.S | re.M)


def _blocks(page: Path, language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(page.read_text()) if lang == language]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "python")], ids=_name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for k, code in enumerate(_blocks(page, "python")):
        try:
            exec(compile(code, f"{_name(page)} block {k + 1}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"{_name(page)}, python block {k + 1} failed: {type(err).__name__}: {err}") from err


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "bash")], ids=_name)
def test_shell_commands_parse(page):
    parser = _parser()
    commands = [line.split("#")[0].strip() for code in _blocks(page, "bash") for line in code.splitlines()]
    for command in (c for c in commands if c.startswith("pinnkan ")):
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit as err:
            raise AssertionError(f"{_name(page)}: `{command}` is not a valid command") from err


def test_the_docs_have_no_placeholder_pages():
    thin = [_name(p) for p in PAGES if len(p.read_text().split()) < 40 and "api" not in p.parts]
    assert not thin, f"pages without content: {thin}"


def test_the_docs_show_the_studies_latest_figures():
    figures = sorted((ROOT / "benchmarks").glob("*.png"))
    assert figures
    for figure in figures:
        shown = ROOT / "docs" / "benchmarks" / figure.name
        assert shown.is_file() and shown.read_bytes() == figure.read_bytes(), (
            f"docs/benchmarks/{figure.name} is not benchmarks/{figure.name}: run python scripts/gallery.py"
        )
