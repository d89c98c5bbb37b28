"""The README's Python example runs as written."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

README = ROOT / "README.md"


def python_example(text: str) -> str | None:
    """The first ```python block after the heading "## Python", or None."""
    heading = re.search(r"^## Python[ \t]*$", text, flags=re.MULTILINE)
    if heading is None:
        return None
    block = re.search(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text[heading.end() :], flags=re.MULTILINE | re.DOTALL)
    return None if block is None else block.group(1)


def test_python_example_extraction() -> None:
    text = "# x\n```python\nskipped = 1\n```\n## Python\n\nSome words.\n\n```python\nvalue = 2\n```\n"
    assert python_example(text) == "value = 2\n"
    assert python_example("# no python heading\n") is None


def test_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    if not README.is_file():
        pytest.skip(f"{README} does not exist yet")
    code = python_example(README.read_text(encoding="utf-8"))
    if code is None:
        pytest.skip('README.md has no ```python block under a "## Python" heading yet')
    exec(compile(code, f"{README}:## Python", "exec"), {"__name__": "readme_example"})
    capsys.readouterr()
