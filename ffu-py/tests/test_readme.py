"""The README's Python example runs as written."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT

import ffu

README = ROOT / "README.md"


def python_examples(text: str) -> list[str]:
    """The ```python blocks of the section "## Python" (up to the next "## " heading)."""
    heading = re.search(r"^## Python[ \t]*$", text, flags=re.MULTILINE)
    if heading is None:
        return []
    section = text[heading.end() :]
    end = re.search(r"^## ", section, flags=re.MULTILINE)
    section = section if end is None else section[: end.start()]
    return re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", section, flags=re.MULTILINE | re.DOTALL)


def python_example(text: str) -> str | None:
    """The first ```python block after the heading "## Python", or None."""
    examples = python_examples(text)
    return examples[0] if examples else None


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


def test_readme_database_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second example (databases) runs as written, in a directory holding what it names:
    cloud.yaml, a catalog that includes neutron's real alembic history as `ffu import
    alembic` reads it, and neutron.db, a database at the end of 2023.1 (its two branch heads
    in alembic_version). The journal loop then takes every step of the plan exactly once."""
    examples = python_examples(README.read_text(encoding="utf-8"))
    assert len(examples) == 2, "README's ## Python has the API example and the database example"
    neutron = ffu.import_alembic(ROOT / "tests" / "data" / "alembic" / "neutron", "neutron")
    (tmp_path / "neutron-alembic.yaml").write_text(neutron.to_yaml(), encoding="utf-8")
    releases = sorted({m["release"] for m in neutron.to_dict()["migrations"]}, key=neutron_release_order)
    (tmp_path / "cloud.yaml").write_text(
        "format: ffu-catalog/1\nname: cloud\ninclude: [neutron-alembic.yaml]\n"
        + "releases:\n" + "".join(f'  - {{name: "{r}"}}\n' for r in releases)
        + "services:\n  - {name: neutron, components: [{name: neutron-server, role: control}]}\n",
        encoding="utf-8",
    )
    fragment = neutron.to_dict()["migrations"]
    upto = releases.index("2023.1")
    applied = {m["id"] for m in fragment if releases.index(m["release"]) <= upto}
    required = {r for m in fragment if m["id"] in applied for r in m.get("requires", [])}
    heads = sorted(m.split(".")[-1] for m in applied - required)
    with sqlite3.connect(tmp_path / "neutron.db") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [(head,) for head in heads])
    conn.close()
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {"__name__": "readme_database_example"}
    exec(compile(examples[1], f"{README}:## Python (databases)", "exec"), scope)
    plan = scope["plan"]
    assert isinstance(plan, ffu.Plan)
    assert plan.from_ == "2023.1" and plan.to == "2024.1"
    assert len(plan.applied) == 0  # nothing of 2023.2 or 2024.1 was applied yet
    journal = scope["journal"]
    assert isinstance(journal, ffu.Journal)
    assert journal.status() == {"pending": 0, "running": 0, "done": len(plan), "failed": 0}


def neutron_release_order(name: str) -> tuple[int, str]:
    """OpenStack's order: the named releases (liberty..zed) before the dated ones (2023.1..)."""
    return (1, name) if name[0].isdigit() else (0, str(NAMED_RELEASES.index(name)).zfill(2))


NAMED_RELEASES = [
    "liberty", "mitaka", "newton", "ocata", "pike", "queens", "rocky", "stein", "train", "ussuri",
    "victoria", "wallaby", "xena", "yoga", "zed",
]  # fmt: skip
