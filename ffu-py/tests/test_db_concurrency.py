"""Two runners on one journal at once, each with its own connection, on SQLite, PostgreSQL
and MySQL/MariaDB: the journal's lock and its per-transition transactions (BEGIN IMMEDIATE
on SQLite, the run row locked FOR UPDATE elsewhere) let exactly one runner take each step,
never both, and the loser of a race is told the lock is held, not given a database error.
"""

from __future__ import annotations

import threading
import time

import pytest
from conftest import Database

import ffu


def test_two_runners_take_every_step_exactly_once(database: Database, openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "pike", services=["keystone", "glance"])
    # First, for certain: while a holds a step, b is turned away with the lock's owner.
    a, b = ffu.Journal(database.connect(), plan), ffu.Journal(database.connect(), plan)
    first = a.next(owner="a", lock_ttl=60.0)
    assert first == plan[0].id
    with pytest.raises(ffu.JournalError) as turned_away:
        b.next(owner="b", lock_ttl=60.0)
    assert turned_away.value.owner == "a"
    a.done(first)
    # Then both race through the rest.
    taken: list[tuple[str, str]] = []
    locked = {"a": 0, "b": 0}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def runner(owner: str) -> None:
        try:
            journal = ffu.Journal(database.connect(), plan)
            start.wait()
            while True:
                try:
                    step = journal.next(owner=owner, lock_ttl=60.0)
                except ffu.JournalError as err:
                    # The other runner holds the lock during its step: wait and ask again.
                    assert err.owner == ("b" if owner == "a" else "a"), err
                    locked[owner] += 1
                    time.sleep(0.001)
                    continue
                if step is None:
                    return
                taken.append((owner, step))
                journal.done(step)
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=runner, args=(owner,)) for owner in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted([first] + [step for _, step in taken]) == sorted(step.id for step in plan)
    assert len(taken) == len(plan) - 1
    final = ffu.Journal(database.connect(), plan)
    assert final.status() == {"pending": 0, "running": 0, "done": len(plan), "failed": 0}
    assert {step["attempts"] for step in final.steps()} == {1}
