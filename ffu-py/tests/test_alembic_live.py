"""ffu against the real alembic, at test time: alembic (installed from PyPI with the `test`
extra) writes a project's revision scripts, with a branch and a merge, and upgrades a real
SQLite database; ffu imports the scripts and reads where the database stands.

The committed fixtures under tests/data/alembic were made by alembic too
(scripts/alembic-fixtures.sh); this test makes its own, so a change in what alembic writes
shows up here.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

import ffu

# Revision ids fixed with --rev-id, so the expected states can be written out.
BASE, LEFT, RIGHT, MERGE, TOP = "a0000001", "b0000002", "c0000003", "d0000004", "e0000005"


def run_alembic(project: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An alembic project: BASE <- LEFT, BASE <- RIGHT (a second branch), MERGE of both, TOP."""
    root = tmp_path_factory.mktemp("alembic-project")
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "migrations"], cwd=root, check=True, capture_output=True
    )
    ini = root / "alembic.ini"
    database = root / "app.db"
    ini.write_text(
        "\n".join(
            f"sqlalchemy.url = sqlite:///{database}" if line.startswith("sqlalchemy.url") else line
            for line in ini.read_text(encoding="utf-8").splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    run_alembic(root, "revision", "-m", "base", "--rev-id", BASE)
    run_alembic(root, "revision", "-m", "left", "--rev-id", LEFT)
    run_alembic(root, "revision", "-m", "right", "--rev-id", RIGHT, "--head", BASE, "--splice")
    run_alembic(root, "merge", "-m", "merge", "--rev-id", MERGE, "heads")
    run_alembic(root, "revision", "-m", "top", "--rev-id", TOP)
    return root


@pytest.fixture(scope="module")
def imported(project: Path) -> ffu.AlembicImport:
    return ffu.import_alembic(project / "migrations" / "versions", "app", release="r2")


@pytest.fixture(scope="module")
def catalog(project: Path, imported: ffu.AlembicImport) -> ffu.Catalog:
    (project / "fragment.yaml").write_text(imported.to_yaml(), encoding="utf-8")
    (project / "catalog.yaml").write_text(
        "format: ffu-catalog/1\nname: live\ninclude: [fragment.yaml]\n"
        "releases: [{name: r1}, {name: r2}]\n"
        "services:\n  - name: app\n    components: [{name: app-api, role: control}]\n",
        encoding="utf-8",
    )
    return ffu.Catalog.from_file(project / "catalog.yaml")


def alembic_revisions(project: Path) -> dict[str, tuple[str, ...]]:
    """Each revision and its down revisions, as alembic's own ScriptDirectory reads them."""
    scripts = ScriptDirectory.from_config(Config(str(project / "alembic.ini")))
    revisions = {}
    for script in scripts.walk_revisions():
        down = script.down_revision
        revisions[script.revision] = () if down is None else (down,) if isinstance(down, str) else tuple(down)
    return revisions


def migration(revision: str) -> str:
    return f"app.alembic.{revision}"


def test_import_follows_alembics_revision_map(project: Path, imported: ffu.AlembicImport) -> None:
    revisions = alembic_revisions(project)
    assert sorted(imported.order) == sorted(revisions)
    position = {revision: index for index, revision in enumerate(imported.order)}
    for revision, downs in revisions.items():
        for down in downs:
            assert position[down] < position[revision], f"{revision} before its down revision {down}"
    requires = {m["id"]: sorted(m.get("requires", [])) for m in imported.to_dict()["migrations"]}
    assert requires[migration(MERGE)] == sorted([migration(LEFT), migration(RIGHT)])
    assert requires[migration(BASE)] == []
    assert imported.warnings == []


@pytest.mark.parametrize(
    ("target", "applied"),
    [
        (BASE, [BASE]),
        (LEFT, [BASE, LEFT]),
        (MERGE, [BASE, LEFT, RIGHT, MERGE]),
        ("heads", [BASE, LEFT, RIGHT, MERGE, TOP]),
    ],
    ids=["base", "one-branch", "merged", "everything"],
)
def test_discover_what_alembic_applied(
    project: Path, imported: ffu.AlembicImport, catalog: ffu.Catalog, target: str, applied: list[str]
) -> None:
    database = project / "app.db"
    database.unlink(missing_ok=True)
    run_alembic(project, "upgrade", target)
    with sqlite3.connect(database) as conn:
        state = ffu.discover(conn, catalog, ["app"])["app"]
    expected_applied = {migration(r) for r in applied}
    assert set(state["applied"]) == expected_applied
    assert set(state["pending"]) == {migration(r) for r in imported.order} - expected_applied
    # A plan from that state runs exactly what is pending, in an order alembic accepts.
    if not state["pending"]:
        assert state["release"] == "r2"
        return
    plan = catalog.plan(None, "r2", state={"app": state})
    planned = [step.migration for step in plan if step.migration is not None]
    assert set(planned) == set(state["pending"])
    assert catalog.verify(plan) == []
