"""``ffu.Journal`` for real runners (DESIGN §9): the journal keeps its plan (a runner needs
only the database), ``next(n=N)`` claims up to N steps of one batch under one lock and gives
the plan's steps themselves, and an operator's controls (``skip``, ``reset``,
``done(force=True)``, ``unlock(force=True)``, ``fail(error=...)``/``errors``).

Tests that take ``database`` run on SQLite, PostgreSQL and MySQL/MariaDB through DB-API
connections (conftest.py); a server that is not available skips its run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import SMALL, SMALL_INVENTORY, Database, run_ffu, run_sql

import ffu



@pytest.fixture(scope="module")
def rolling() -> ffu.Plan:
    """A rolling plan of the small catalog on 2 controllers and 5 computes, computes 2 at a
    time: batches 1, 2 and 3."""
    small = ffu.Catalog.from_file(str(SMALL))
    inventory = ffu.Inventory.from_yaml(small, SMALL_INVENTORY, file="inventory.yaml")
    plan = small.plan_inventory(inventory, "r2", mode="rolling", max_unavailable="2")
    assert {s.batch for s in plan if s.batch is not None} == {1, 2, 3}
    return plan


def test_journal_keeps_its_plan(database: Database, rolling: ffu.Plan) -> None:
    made = ffu.Journal(database.connect(), rolling)
    # A runner with only the database: the same journal, the same plan.
    runner = ffu.Journal(database.connect())
    assert runner.checksum == made.checksum
    assert runner.plan().to_json() == rolling.to_json()
    assert made.plan().to_json() == rolling.to_json()
    first = runner.next(owner="r")
    assert first == rolling.steps[0].id
    runner.done(first)
    assert runner.status()["done"] == 1


def test_journal_without_a_plan_needs_one_made(database: Database) -> None:
    with pytest.raises(ffu.JournalError, match="holds no journal") as caught:
        ffu.Journal(database.connect())
    assert caught.value.target


def test_journal_made_before_it_kept_its_plan(tmp_path: Path, rolling: ffu.Plan) -> None:
    path = tmp_path / "j.db"
    ffu.Journal(str(path), rolling)
    conn = sqlite3.connect(path)
    run_sql(conn, "DROP TABLE ffu_plan")
    conn.commit()
    conn.close()
    # It opens, and runs one step at a time; what needs the plan says what is missing.
    old = ffu.Journal(str(path))
    step = old.next(owner="r")
    assert step == rolling.steps[0].id
    with pytest.raises(ffu.JournalError, match="made before journals kept their plan"):
        old.plan()
    with pytest.raises(ffu.JournalError, match="--plan"):
        old.next(owner="r", n=5)
    # Opened once with the plan, it keeps it.
    ffu.Journal(str(path), rolling)
    assert ffu.Journal(str(path)).plan().to_json() == rolling.to_json()


def test_next_n_claims_one_batch_and_gives_the_steps(database: Database, rolling: ffu.Plan) -> None:
    journal = ffu.Journal(database.connect(), rolling)
    steps = rolling.steps
    claimed: list[list[ffu.Step]] = []
    done: set[str] = set()
    while batch := journal.next(owner="r", n=50):
        claimed.append(batch)
        assert all(isinstance(step, ffu.Step) for step in batch)
        first = batch[0]
        # One claim: steps that may run at once, of one batch (hop, service, number), each
        # with every step it requires done.
        assert len(batch) == 1 or all(
            (s.batch, s.hop, s.service) == (first.batch, first.hop, first.service) for s in batch
        )
        for step in batch:
            assert set(step.requires) <= done, step.id
        assert journal.status()["running"] == len(batch)
        for step in batch:
            journal.done(step)
            done.add(step.id)
    given = [step for batch in claimed for step in batch]
    assert given == steps
    assert journal.next(owner="r", n=3) == []
    assert journal.status()["done"] == len(steps)
    # The hosts of a batch of computes (2 hosts, each a few steps in a row) are one claim
    # per step: both hosts' stops, then both hosts' installs, ...
    sizes = [len(b) for b in claimed if b[0].batch is not None]
    assert sizes and max(sizes) == 2 and sizes.count(2) > len(sizes) / 2
    in_batches = [s for s in steps if s.batch is not None]
    assert sum(sizes) == len(in_batches)
    # The step carries what a runner needs.
    agent = next(b for b in claimed if b[0].batch is not None)[0]
    assert agent.host is not None and agent.kind in ("stop", "install", "config", "start", "precheck", "postcheck")


def test_next_n_of_one_and_a_bad_n(tmp_path: Path, rolling: ffu.Plan) -> None:
    journal = ffu.Journal(str(tmp_path / "j.db"), rolling)
    assert [s.id for s in journal.next(owner="r", n=1)] == [rolling.steps[0].id]
    journal.done(rolling.steps[0])
    # next(n), as DESIGN §9 names it: the owner is "ffu".
    assert [s.id for s in journal.next(1)] == [rolling.steps[1].id]
    assert journal.unlock() == "ffu"  # next(n) claimed as "ffu"
    for bad in (0, -1, 2**70, "2"):
        with pytest.raises(ValueError, match="n must be"):
            journal.next(owner="r", n=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        journal.next(owner="r", n=True)
    with pytest.raises(TypeError, match="owner is a str"):
        journal.next(2.5)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="once"):
        journal.next(3, n=3)  # type: ignore[call-overload]


def test_operator_controls(database: Database, rolling: ffu.Plan) -> None:
    journal = ffu.Journal(database.connect(), rolling)
    first, second, third = (s.id for s in rolling.steps[:3])
    assert journal.next(owner="deploy") == first
    journal.fail(first, error="exit 3: disk full")
    assert journal.errors() == {first: "exit 3: disk full"}
    assert journal.status()["failed"] == 1
    # The lock went with the failed step.
    assert journal.unlock("someone", force=False) is None
    assert journal.reset(first) == "failed"
    assert journal.errors() == {}
    assert journal.steps()[0]["attempts"] == 0
    assert journal.skip(second) == "pending"
    assert journal.next(owner="deploy") == first
    # Another owner's lock: refused unless forced, which names the holder.
    with pytest.raises(ffu.JournalError, match='"deploy"') as refused:
        journal.unlock("other")
    assert refused.value.owner == "deploy"
    assert journal.unlock(force=True) == "deploy"
    assert journal.unlock(force=True) is None
    journal.done(first, force=True)
    assert journal.next(owner="other") == third
    states = {row["id"]: row["state"] for row in journal.steps()}
    assert (states[first], states[second], states[third]) == ("done", "done", "running")
    with pytest.raises(ffu.JournalError, match="no such step") as unknown:
        journal.skip("no-such-step")
    assert unknown.value.step == "no-such-step"
    with pytest.raises(TypeError, match="step"):
        journal.skip(3)  # type: ignore[arg-type]


def test_cli_runs_on_the_database_alone(tmp_path: Path, rolling: ffu.Plan) -> None:
    (tmp_path / "plan.json").write_text(rolling.to_json())
    db = f"sqlite:{tmp_path / 'j.db'}"
    missing = run_ffu("journal", "next", "--db", db)
    assert missing.returncode == 2 and "no such journal" in missing.stderr and "Traceback" not in missing.stderr
    init = run_ffu("journal", "init", "--db", db, "--plan", str(tmp_path / "plan.json"))
    assert init.returncode == 0, init.stderr
    claimed = []
    while True:
        result = run_ffu("journal", "next", "--db", db, "--owner", "r", "--max", "50", "--format", "json")
        assert result.returncode == 0, result.stderr
        batch = json.loads(result.stdout)
        if not batch:
            break
        claimed.append(batch)
        journal = ffu.Journal(str(tmp_path / "j.db"))  # the same journal, without its plan
        for step in batch:
            assert {"id", "kind", "hop", "attempt"} <= set(step) and step["attempt"] == 1
            journal.done(step["id"])
    assert [s["id"] for b in claimed for s in b] == [s.id for s in rolling.steps]
    assert max(len(b) for b in claimed) > 1
    done = run_ffu("journal", "status", "--db", db)
    assert done.returncode == 0 and done.stdout.startswith(f"{len(rolling)} steps: {len(rolling)} done"), done.stdout
