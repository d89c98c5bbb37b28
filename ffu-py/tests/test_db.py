"""The database API on real databases: ``ffu.discover`` (where a database stands, read from
alembic's ``alembic_version`` and sqlalchemy-migrate's ``migrate_version``), plans from that
state, and the resumable ``ffu.Journal`` (tables ``ffu_run``, ``ffu_step``, ``ffu_lock``).

Tests that take ``database`` or ``db_conn`` run on SQLite, PostgreSQL and MySQL/MariaDB
through DB-API connections (sqlite3, psycopg, PyMySQL); each starts from an empty database
(conftest.py). The servers come from scripts/db-servers.sh; without them those runs skip.
Expected values are computed here independently of ffu: from the catalog text, from the
alembic scripts of a real neutron release, and FNV-1a 64 for the plan checksum.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Database, run_sql, table_names

import ffu

# --- A small alembic-style catalog ----------------------------------------------------------
#
# net has two alembic branches: expand (aaa -> bbb -> ddd) and contract (aaa -> ccc -> eee,
# eee also after ddd); img has one migration. The ids are what `ffu import alembic` gives:
# SERVICE.alembic.REVISION. The file is shared with tests/discover.rs.
CATALOG = (ROOT / "tests" / "data" / "alembic-test.yaml").read_text(encoding="utf-8")

RELEASES = ["r1", "r2", "r3"]
#: revision -> (release, revisions it requires), as in CATALOG.
NET = {
    "aaa": ("r1", []),
    "bbb": ("r2", ["aaa"]),
    "ccc": ("r2", ["aaa"]),
    "ddd": ("r3", ["bbb"]),
    "eee": ("r3", ["ccc", "ddd"]),
}
ALL_NET = [f"net.alembic.{rev}" for rev in NET]


@pytest.fixture(scope="module")
def catalog() -> ffu.Catalog:
    return ffu.Catalog.from_yaml(CATALOG, file="alembic-test.yaml")


def fnv1a64(data: bytes) -> str:
    """FNV-1a 64 as 16 hex digits: the journal's plan checksum, computed here on its own."""
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def write_heads(conn: Any, heads: Iterable[str]) -> None:
    """alembic_version as alembic makes it: one row per branch head."""
    run_sql(conn, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    for head in heads:
        run_sql(conn, "INSERT INTO alembic_version (version_num) VALUES (?)", (head,))
    conn.commit()


def write_legacy(conn: Any, rows: Iterable[tuple[str, str, int]]) -> None:
    """migrate_version as sqlalchemy-migrate makes it: one row per repository."""
    run_sql(
        conn,
        "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, "
        "repository_path TEXT, version INTEGER)",
    )
    for row in rows:
        run_sql(conn, "INSERT INTO migrate_version (repository_id, repository_path, version) VALUES (?, ?, ?)", row)
    conn.commit()


def closure(heads: Iterable[str], requires: dict[str, list[str]]) -> set[str]:
    """The revisions applied when `heads` are: the heads and everything they require."""
    seen: set[str] = set()
    stack = list(heads)
    while stack:
        rev = stack.pop()
        if rev not in seen:
            seen.add(rev)
            stack.extend(requires[rev])
    return seen


def plan_migrations(plan: ffu.Plan) -> list[str]:
    return [step.migration for step in plan if step.migration is not None]


def state_of(release: str | None, applied: list[str], pending: list[str], legacy: int | None = None,
             pending_revisions: list[str] | None = None) -> dict[str, Any]:
    return {"release": release, "applied": applied, "pending": pending, "legacy_version": legacy,
            "same_schema_until": None, "applied_revisions": [], "pending_revisions": pending_revisions or []}


# --- Discovery --------------------------------------------------------------------------------


def test_exception_classes() -> None:
    for cls in (ffu.DatabaseError, ffu.JournalError):
        assert issubclass(cls, ffu.FfuError)
        assert cls.__module__ == "ffu"


def test_discover_empty_database(db_conn: Any, database: Database, catalog: ffu.Catalog) -> None:
    state = ffu.discover(db_conn, catalog, ["net", "img"])
    assert state == {
        "net": state_of(None, [], ALL_NET),
        "img": state_of(None, [], ["img.alembic.x1"]),
    }
    assert ffu.discover(db_conn, catalog, ["net", "img"], backend=database.backend) == state
    # Missing tables are "nothing recorded", and discovery creates none; the caller's
    # connection is still usable afterwards (on PostgreSQL a failed statement would have
    # aborted the whole transaction).
    assert run_sql(db_conn, "SELECT 1") == [(1,)]
    assert table_names(db_conn) == set()


@pytest.mark.parametrize(
    ("heads", "expected"),
    [
        # Both r2 heads: r2 complete, r3 still to do.
        (["bbb", "ccc"], state_of("r2", ALL_NET[:3], ALL_NET[3:])),
        # In the middle of r3: its expand head applied, its contract not.
        (["ddd", "ccc"], state_of("r2", ALL_NET[:4], ALL_NET[4:])),
        # In the middle of r2: only the expand branch moved on.
        (["bbb"], state_of("r1", ALL_NET[:2], ALL_NET[2:])),
        # Everything.
        (["eee"], state_of("r3", ALL_NET, [])),
    ],
    ids=["r2-complete", "r3-expand-only", "r2-expand-only", "r3-complete"],
)
def test_discover_alembic_heads(
    db_conn: Any, database: Database, catalog: ffu.Catalog, heads: list[str], expected: dict[str, Any]
) -> None:
    write_heads(db_conn, heads)
    assert ffu.discover(db_conn, catalog, ["net"]) == {"net": expected}
    assert ffu.discover(db_conn, catalog, ["net"], backend=database.backend) == {"net": expected}


def test_discover_heads_of_two_services_in_one_database(db_conn: Any, catalog: ffu.Catalog) -> None:
    write_heads(db_conn, ["ddd", "ccc", "x1"])
    assert ffu.discover(db_conn, catalog, ["img", "net"]) == {
        "net": state_of("r2", ALL_NET[:4], ALL_NET[4:]),
        "img": state_of("r1", ["img.alembic.x1"], []),
    }
    # A head of a service not asked about is left alone.
    assert ffu.discover(db_conn, catalog, ["img"]) == {"img": state_of("r1", ["img.alembic.x1"], [])}


def test_discover_legacy_migrate_version(db_conn: Any, catalog: ffu.Catalog) -> None:
    write_legacy(db_conn, [("img", "/usr/lib/python3/dist-packages/img/db/migrate_repo", 42), ("other", "/x", 7)])
    assert ffu.discover(db_conn, catalog, ["net", "img"]) == {
        "net": state_of(None, [], ALL_NET),
        "img": state_of(None, [], ["img.alembic.x1"], legacy=42),
    }
    # Both tables: a service moved to alembic after sqlalchemy-migrate.
    write_heads(db_conn, ["bbb", "ccc"])
    assert ffu.discover(db_conn, catalog, ["net", "img"]) == {
        "net": state_of("r2", ALL_NET[:3], ALL_NET[3:]),
        "img": state_of(None, [], ["img.alembic.x1"], legacy=42),
    }


def test_discover_unknown_service(sqlite_conn: Any, catalog: ffu.Catalog) -> None:
    with pytest.raises(ffu.FfuError, match='"nope"'):
        ffu.discover(sqlite_conn, catalog, ["nope"])


def test_discover_unreadable_table_is_a_database_error(db_conn: Any, catalog: ffu.Catalog) -> None:
    run_sql(db_conn, "CREATE TABLE alembic_version (something_else INTEGER)")
    db_conn.commit()
    with pytest.raises(ffu.DatabaseError):
        ffu.discover(db_conn, catalog, ["net"])


# --- Plans from a discovered state ----------------------------------------------------------


@pytest.mark.parametrize(
    "heads",
    [["bbb", "ccc"], ["ddd", "ccc"], ["bbb"], ["aaa"], ["eee"]],
    ids=["r2-complete", "r3-expand-only", "r2-expand-only", "r1-complete", "r3-complete"],
)
def test_plan_from_state_leaves_out_exactly_the_applied(db_conn: Any, catalog: ffu.Catalog, heads: list[str]) -> None:
    write_heads(db_conn, [*heads, "x1"])
    state = ffu.discover(db_conn, catalog, ["net", "img"])
    applied = closure(heads, {rev: req for rev, (_, req) in NET.items()})
    # From r1 to r3: the migrations of r2 and r3, less those applied.
    expected = {f"net.alembic.{rev}" for rev, (release, _) in NET.items() if release != "r1" and rev not in applied}
    plan = catalog.plan("r1", "r3", state=state)
    migrations = plan_migrations(plan)
    assert len(migrations) == len(set(migrations))
    assert set(migrations) == expected
    assert expected <= set(state["net"]["pending"])
    # The plan without the state has them all; the state takes away exactly the applied.
    full = set(plan_migrations(catalog.plan("r1", "r3")))
    assert full - set(migrations) == {f"net.alembic.{rev}" for rev in applied if NET[rev][0] != "r1"}


@pytest.mark.parametrize(
    ("heads", "from_", "migrations"),
    [
        (["ddd", "ccc"], "r2", ["net.alembic.eee"]),
        (["bbb", "ccc"], "r2", ["net.alembic.ddd", "net.alembic.eee"]),
        (["bbb"], "r1", ["net.alembic.ccc", "net.alembic.ddd", "net.alembic.eee"]),
    ],
    ids=["r3-expand-only", "r2-complete", "r2-expand-only"],
)
def test_plan_infers_from_release_from_state(
    db_conn: Any, catalog: ffu.Catalog, heads: list[str], from_: str, migrations: list[str]
) -> None:
    write_heads(db_conn, heads)
    state = ffu.discover(db_conn, catalog, ["net"])
    plan = catalog.plan(None, "r3", services=["net"], state=state)
    assert plan.from_ == from_
    assert plan.path == RELEASES[RELEASES.index(from_) :]
    assert sorted(plan_migrations(plan)) == migrations


# --- The alembic history of a real neutron release (tests/data/alembic/neutron) --------------

NEUTRON_DIR = ROOT / "tests" / "data" / "alembic" / "neutron"
#: The release directories of neutron 25.0.0's migrations, oldest first.
NEUTRON_RELEASES = [
    "liberty", "mitaka", "newton", "ocata", "pike", "queens", "rocky", "stein", "train", "ussuri",
    "victoria", "wallaby", "xena", "yoga", "zed", "2023.1", "2023.2", "2024.1", "2024.2",
]  # fmt: skip


def _assignment(text: str, name: str) -> list[str]:
    """The revision ids named by the module-level `name = ...` of an alembic script (a
    string, a tuple of strings, None or nothing)."""
    match = re.search(rf"^{name}\s*(?::[^=]*)?=\s*(.*)$", text, re.MULTILINE)
    if match is None:
        return []
    return [a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", match.group(1))]


class Neutron:
    """neutron's revisions read straight from its scripts: release from the directory,
    kind from the branch directory (the initial `kilo` revision, outside that layout, is
    liberty's expand base), requires = down_revision + depends_on."""

    def __init__(self) -> None:
        order = (NEUTRON_DIR / "ORDER.txt").read_text().split()
        self.release: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.down: dict[str, list[str]] = {}
        self.requires: dict[str, list[str]] = {}
        for script in NEUTRON_DIR.rglob("*.py"):
            text = script.read_text()
            (rev,) = _assignment(text, "revision")
            parts = script.relative_to(NEUTRON_DIR).parts
            self.release[rev], self.kind[rev] = (parts[0], parts[1]) if len(parts) == 3 else ("liberty", "expand")
            self.down[rev] = _assignment(text, "down_revision")
            self.requires[rev] = self.down[rev] + _assignment(text, "depends_on")
        assert sorted(order) == sorted(self.release) and len(order) == 138
        #: alembic's own order, base first: the catalog's order.
        self.order = order

    def catalog(self) -> ffu.Catalog:
        lines = ["format: ffu-catalog/1", "name: neutron-history", "releases:"]
        lines += [f'  - {{name: "{r}"}}' for r in NEUTRON_RELEASES]
        lines += ["services:", "  - name: neutron", "    components:", "      - {name: neutron-server, role: control}"]
        lines += ["migrations:"]
        for rev in self.order:
            requires = ", ".join(f"neutron.alembic.{r}" for r in self.requires[rev])
            lines.append(
                f'  - {{id: neutron.alembic.{rev}, service: neutron, release: "{self.release[rev]}", '
                f'kind: {self.kind[rev]}, command: "neutron-db-manage upgrade {rev}", requires: [{requires}]}}'
            )
        return ffu.Catalog.from_yaml("\n".join(lines) + "\n", file="neutron-history.yaml")

    def heads(self, applied: set[str]) -> list[str]:
        """What alembic_version holds when exactly `applied` is: the applied revisions no
        applied revision names as its down_revision."""
        below = {down for rev in applied for down in self.down[rev]}
        return sorted(applied - below)


@pytest.fixture(scope="module")
def neutron() -> Neutron:
    return Neutron()


@pytest.mark.parametrize("partial", [0, 3], ids=["2023.1-complete", "2023.2-three-applied"])
def test_neutron_history(db_conn: Any, neutron: Neutron, partial: int) -> None:
    catalog = neutron.catalog()
    upto = NEUTRON_RELEASES.index("2023.1")
    applied = {rev for rev in neutron.order if NEUTRON_RELEASES.index(neutron.release[rev]) <= upto}
    # The first `partial` revisions of 2023.2 (one expand chain, in alembic's order).
    applied |= set([rev for rev in neutron.order if neutron.release[rev] == "2023.2"][:partial])
    heads = neutron.heads(applied)
    assert len(heads) == 2  # the expand head and the contract head (which ends at newton)
    write_heads(db_conn, heads)
    state = ffu.discover(db_conn, catalog, ["neutron"])
    applied_ids = [f"neutron.alembic.{rev}" for rev in neutron.order if rev in applied]
    pending_ids = [f"neutron.alembic.{rev}" for rev in neutron.order if rev not in applied]
    assert state == {"neutron": state_of("2023.1", applied_ids, pending_ids)}
    plan = catalog.plan(None, "2024.2", state=state)
    assert plan.from_ == "2023.1"
    assert plan.path == ["2023.1", "2023.2", "2024.1", "2024.2"]
    assert plan_migrations(plan) == pending_ids


# --- The journal ------------------------------------------------------------------------------

STEP_FIELDS = {"id", "position", "state", "attempts", "host", "started_at", "finished_at"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def counts(pending: int = 0, running: int = 0, done: int = 0, failed: int = 0) -> dict[str, int]:
    return {"pending": pending, "running": running, "done": done, "failed": failed}


def records(journal: ffu.Journal) -> dict[str, Any]:
    return {row["id"]: row for row in journal.steps()}


@pytest.fixture(scope="module")
def plan_ac(tiny: ffu.Catalog) -> ffu.Plan:
    plan = tiny.plan("a", "c")
    assert len(plan) == 18
    return plan


def test_journal_full_run(database: Database, plan_ac: ffu.Plan) -> None:
    ids = [step.id for step in plan_ac]
    journal = ffu.Journal(database.connect(), plan_ac)
    assert re.fullmatch(r"[0-9a-f]{16}", journal.checksum)
    assert journal.checksum == fnv1a64(plan_ac.to_json().encode())
    assert journal.status() == counts(pending=18)
    start = now_ms()
    given = []
    while (step := journal.next(owner="runner-1")) is not None:
        given.append(step)
        assert journal.status() == counts(pending=18 - len(given), running=1, done=len(given) - 1)
        journal.done(step)
    end = now_ms()
    assert given == ids
    assert journal.next(owner="runner-1") is None
    assert journal.status() == counts(done=18)
    rows = journal.steps()
    assert [set(row) for row in rows] == [STEP_FIELDS] * 18
    assert [(r["id"], r["position"], r["state"], r["attempts"], r["host"]) for r in rows] == [
        (step, i, "done", 1, None) for i, step in enumerate(ids)
    ]
    for row in rows:
        assert type(row["started_at"]) is int and type(row["finished_at"]) is int
        assert start <= row["started_at"] <= row["finished_at"] <= end
    assert table_names(database.connect()) == {"ffu_run", "ffu_step", "ffu_lock", "ffu_step_error", "ffu_plan"}


def test_journal_resumes_after_a_crash(database: Database, plan_ac: ffu.Plan) -> None:
    first, second, third = (step.id for step in plan_ac[:3])
    conn = database.connect()
    journal = ffu.Journal(conn, plan_ac)
    assert journal.next(owner="runner-1") == first
    journal.done(first)
    assert journal.next(owner="runner-1") == second
    # The runner dies while `second` runs: its connection goes, nothing else happens.
    del journal
    conn.close()

    again = ffu.Journal(database.connect(), plan_ac)
    assert again.status() == counts(pending=16, running=1, done=1)
    assert again.next(owner="runner-1") == second
    rows = records(again)
    assert (rows[first]["state"], rows[first]["attempts"]) == ("done", 1)
    assert (rows[second]["state"], rows[second]["attempts"]) == ("running", 2)
    assert rows[second]["finished_at"] is None
    again.done(second)
    assert again.next(owner="runner-1") == third
    assert records(again)[third]["attempts"] == 1


def test_journal_rejects_another_plan(database: Database, tiny: ffu.Catalog, plan_ac: ffu.Plan) -> None:
    plan_ab = tiny.plan("a", "b")
    ffu.Journal(database.connect(), plan_ac).status()
    with pytest.raises(ffu.JournalError) as info:
        ffu.Journal(database.connect(), plan_ab).next(owner="runner-1")
    message = str(info.value)
    assert fnv1a64(plan_ac.to_json().encode()) in message
    assert fnv1a64(plan_ab.to_json().encode()) in message
    # The journal is as it was.
    assert ffu.Journal(database.connect(), plan_ac).status() == counts(pending=18)


def test_journal_lock_held_by_another_owner(database: Database, plan_ac: ffu.Plan) -> None:
    first, second = (step.id for step in plan_ac[:2])
    mine = ffu.Journal(database.connect(), plan_ac)
    theirs = ffu.Journal(database.connect(), plan_ac)
    assert mine.next(owner="runner-a", lock_ttl=3600.0) == first
    with pytest.raises(ffu.JournalError, match="runner-a"):
        theirs.next(owner="runner-b", lock_ttl=3600.0)
    assert theirs.status() == counts(pending=17, running=1)
    assert records(theirs)[first]["attempts"] == 1
    # Once the holder finishes its step, the lock is free.
    mine.done(first)
    assert theirs.next(owner="runner-b", lock_ttl=3600.0) == second


def test_journal_expired_lock_is_taken_over(database: Database, plan_ac: ffu.Plan) -> None:
    first = plan_ac[0].id
    gone = ffu.Journal(database.connect(), plan_ac)
    assert gone.next(owner="runner-a", lock_ttl=0.001) == first
    time.sleep(0.05)
    heir = ffu.Journal(database.connect(), plan_ac)
    assert heir.next(owner="runner-b", lock_ttl=3600.0) == first
    assert (records(heir)[first]["state"], records(heir)[first]["attempts"]) == ("running", 2)
    assert heir.status() == counts(pending=17, running=1)


def test_journal_done_or_fail_needs_a_running_step(database: Database, plan_ac: ffu.Plan) -> None:
    first, second = (step.id for step in plan_ac[:2])
    journal = ffu.Journal(database.connect(), plan_ac)
    with pytest.raises(ffu.JournalError, match=re.escape(second)):
        journal.done(second)  # pending
    with pytest.raises(ffu.JournalError, match="no-such-step"):
        journal.fail("no-such-step")
    assert journal.next(owner="runner-1") == first
    journal.done(first)
    # Done again changes nothing (a runner killed right after `done` may repeat it) ...
    journal.done(first)
    # ... but a done step cannot fail.
    with pytest.raises(ffu.JournalError, match=re.escape(first)):
        journal.fail(first)
    assert journal.status() == counts(pending=17, done=1)


def test_journal_failed_step_is_given_again(database: Database, plan_ac: ffu.Plan) -> None:
    first = plan_ac[0].id
    journal = ffu.Journal(database.connect(), plan_ac)
    assert journal.next(owner="runner-1") == first
    journal.fail(first)
    assert journal.status() == counts(pending=17, failed=1)
    row = records(journal)[first]
    assert (row["state"], row["attempts"], type(row["finished_at"])) == ("failed", 1, int)
    assert journal.next(owner="runner-1") == first
    row = records(journal)[first]
    assert (row["state"], row["attempts"], row["finished_at"]) == ("running", 2, None)


def hand_plan(tiny: ffu.Catalog, steps: list[tuple[str, str | None]]) -> ffu.Plan:
    """A plan of precheck steps with these ids and hosts (as a hand-written plan may have)."""
    data = tiny.plan("a", "b").to_dict()
    data["steps"] = [
        {"id": id_, "hop": 0, "kind": "precheck", "reason": "", **({"host": host} if host is not None else {})}
        for id_, host in steps
    ]
    return ffu.Plan.from_dict(data)


HOSTILE = [
    ("it's", "ctl-1"),
    ('say "hi"', "host'with'quotes"),
    ("back\\slash\\", 'host"dq"'),
    ("'; DROP TABLE ffu_step; --", "h\\\\x"),
    ('"; DROP TABLE ffu_run; --', "'; DROP TABLE ffu_lock; --"),
    ("`ffu_lock`; DELETE FROM ffu_step", None),
    ("%s %(id)s ? :1 $1 {0}", "%s"),
    ("ünïcödé — 日本語 — ✓", "hôte-é.exemple"),
    ("rocket 🚀 (4 bytes in UTF-8)", "🚀.example"),
    ("tab\tand\nnewline", "cr\rhost"),
]


def run_all(journal: ffu.Journal, owner: str) -> list[str]:
    given = []
    while (step := journal.next(owner=owner)) is not None:
        given.append(step)
        journal.done(step)
    return given


def test_journal_hostile_ids_and_hosts_round_trip(database: Database, tiny: ffu.Catalog) -> None:
    plan = hand_plan(tiny, HOSTILE)
    owner = "runner '; DROP TABLE ffu_lock; -- ✓"
    journal = ffu.Journal(database.connect(), plan)
    assert run_all(journal, owner) == [id_ for id_, _ in HOSTILE]
    assert [(r["id"], r["host"], r["state"], r["attempts"]) for r in journal.steps()] == [
        (id_, host, "done", 1) for id_, host in HOSTILE
    ]
    assert table_names(database.connect()) == {"ffu_run", "ffu_step", "ffu_lock", "ffu_step_error", "ffu_plan"}


def test_journal_step_ids_compare_byte_for_byte(database: Database, tiny: ffu.Catalog) -> None:
    """Ids that differ only in case, accents or trailing spaces are different steps.

    MySQL/MariaDB compare strings by the column's collation: case- and accent-insensitive by
    default, and blind to trailing spaces (PAD SPACE) even in utf8mb4_bin; the journal must
    compare step ids exactly on every backend."""
    steps: list[tuple[str, str | None]] = [
        ("Step", None), ("step", None), ("STEP", None), ("résumé", None), ("resume", None),
        ("a", None), ("a ", None), ("ß", None), ("ss", None),
    ]  # fmt: skip
    plan = hand_plan(tiny, steps)
    journal = ffu.Journal(database.connect(), plan)
    assert journal.next(owner="runner-1") == "Step"
    journal.done("Step")
    assert records(journal)["step"]["state"] == "pending"
    with pytest.raises(ffu.JournalError):
        journal.done("step")  # pending, whatever "Step" is
    assert run_all(journal, "runner-1") == [id_ for id_, _ in steps[1:]]
    assert [(r["id"], r["attempts"]) for r in journal.steps()] == [(id_, 1) for id_, _ in steps]


def test_journal_on_a_sqlite_path(tmp_path: Path, plan_ac: ffu.Plan) -> None:
    first = plan_ac[0].id
    path = tmp_path / "journal.db"
    journal = ffu.Journal(path, plan_ac)  # PathLike: the Rust core opens the file itself
    assert journal.checksum == fnv1a64(plan_ac.to_json().encode())
    assert journal.next(owner="runner-1") == first
    del journal
    # The same file through a str path, then through a sqlite3 connection: one format.
    assert ffu.Journal(str(path), plan_ac).status() == counts(pending=17, running=1)
    conn = sqlite3.connect(path)
    try:
        assert table_names(conn) == {"ffu_run", "ffu_step", "ffu_lock", "ffu_step_error", "ffu_plan"}
        via_dbapi = ffu.Journal(conn, plan_ac)
        assert via_dbapi.next(owner="runner-1") == first
        assert records(via_dbapi)[first]["attempts"] == 2
        via_dbapi.done(first)
    finally:
        conn.close()
    assert records(ffu.Journal(path, plan_ac))[first]["state"] == "done"


def test_journal_unusable_path_is_a_database_error(tmp_path: Path, plan_ac: ffu.Plan) -> None:
    with pytest.raises(ffu.DatabaseError):
        ffu.Journal(tmp_path, plan_ac)  # a directory
