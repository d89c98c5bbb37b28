"""ffu's plans executed by the projects' own code (harness/openstack_harness.py).

Each release's real services come from PyPI into a virtual environment of their own (with the
release's upper-constraints, cached under target/harness/); the harness deploys the databases
at the plan's ``from`` release with that release's code, runs every database step of the plan
through ``ffu journal`` with the code of the release the step names, and judges the result
from outside ffu: each database's ``alembic_version`` against the heads of the target
release's alembic histories (alembic's ScriptDirectory on the installed packages) and against
a database the target's own commands made from nothing.

By default a bounded subset runs (keystone, glance, cinder, placement and nova on SQLite,
2024.1 to 2025.1 with --skip-level, killed partway and resumed, and step by step through
2024.2; keystone, nova and neutron on MariaDB with --skip-level; a plan that stops short,
which the judge fails; the wrong plans, which verify refuses): three release venvs (2024.1,
2024.2, 2025.1). The MariaDB run needs ``FFU_TEST_MYSQL`` (scripts/db-servers.sh): without
it, it skips, or fails when ``FFU_REQUIRE_DB_SERVERS=1`` (the default under ``CI=true``), as
ffu-py/scripts/test.sh does for tests/test_db.py. 2023.1 starts are in the full matrix only:
its venv compiles C extensions (over 20 minutes on the 2-core machine).
``FFU_HARNESS_FULL=1`` adds the whole matrix (heat and ironic, PostgreSQL, 2023.1 and 2024.2
starts); ``FFU_HARNESS=0`` skips the module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

HARNESS = ROOT / "harness" / "openstack_harness.py"
#: The services of the default subset: they migrate on SQLite.
SUBSET = "keystone,glance,cinder,placement,nova"
FULL = os.environ.get("FFU_HARNESS_FULL") == "1"
#: Seconds a harness run may take (venvs are built once and cached; a cold build is minutes).
TIMEOUT = 3600

pytestmark = pytest.mark.skipif(os.environ.get("FFU_HARNESS") == "0", reason="FFU_HARNESS=0")

#: Kinds of step that act on hosts or running services: the harness skips them.
HOST_KINDS = {"stop", "start", "install", "backup", "repos", "postcheck", "finalize"}
#: Kinds of step that change a database: the harness must run each of them.
DATABASE_KINDS = {"expand", "migrate", "contract", "data"}


def harness(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Runs the harness with this interpreter (so that it runs the ffu under test)."""
    return subprocess.run([sys.executable, str(HARNESS), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def ffu_json(*args: str) -> Any:
    result = subprocess.run([sys.executable, "-m", "ffu", *args], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def journal_states(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The journal's steps by id (state, attempts), read with ``ffu journal status``."""
    status = ffu_json("journal", "status", "--db", f"sqlite:{run_dir / 'journal.sqlite'}",
                      "--plan", str(run_dir / "plan.json"), "--format", "json")
    return {step["id"]: step for step in status["steps"]}


def report(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "report.jsonl").read_text().splitlines()]


@dataclass
class Finished:
    """A harness run that finished: its directory, plan and the judges' verdict."""

    directory: Path
    plan: dict[str, Any]
    verdict: dict[str, Any]
    #: The journal's states when the run was killed (None: it was not).
    killed_at: dict[str, dict[str, Any]] | None = None


def finish(run_dir: Path, killed_at: dict[str, dict[str, Any]] | None = None) -> Finished:
    """Runs (or resumes) the run in RUN_DIR to its end with --judge; fails on any error."""
    result = harness("run", "--dir", str(run_dir), "--judge")
    assert result.returncode == 0, f"harness failed ({result.returncode}):\n{result.stderr[-6000:]}\n{result.stdout[-3000:]}"
    plan = json.loads((run_dir / "plan.json").read_text())
    return Finished(run_dir, plan, json.loads(result.stdout), killed_at)


def start_args(run_dir: Path, source: str, target: str, services: str, *extra: str) -> list[str]:
    return ["run", "--fresh", "--from", source, "--to", target, "--services", services, "--dir", str(run_dir), *extra]


def schema_migration_running(run_dir: Path, states: dict[str, dict[str, Any]]) -> bool:
    kinds = {s["id"]: s["kind"] for s in json.loads((run_dir / "plan.json").read_text())["steps"]}
    return any(s["state"] == "running" and kinds[sid] in {"expand", "migrate", "contract"}
               for sid, s in states.items())


def run_killed_and_resumed(run_dir: Path, args: list[str]) -> Finished:
    """Starts a run, kills it (SIGKILL, its whole process group) once its first schema
    migration is running, and resumes it to the end."""
    log = run_dir.parent / f"{run_dir.name}.killed.log"
    with log.open("w") as err:  # a file, not a pipe: nobody reads a pipe while we poll
        proc = subprocess.Popen([sys.executable, str(HARNESS), *args], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + TIMEOUT
    states: dict[str, dict[str, Any]] = {}
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (run_dir / "journal.sqlite").is_file():
                states = journal_states(run_dir)
                if schema_migration_running(run_dir, states):
                    break
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed:\n{log.read_text()[-4000:]}"
    return finish(run_dir, states)


@pytest.fixture(scope="module")
def skip_level(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """2024.1 to 2025.1 in one SLURP hop, killed partway and resumed."""
    run_dir = tmp_path_factory.mktemp("harness") / "skip-level"
    return run_killed_and_resumed(run_dir, start_args(run_dir, "2024.1", "2025.1", SUBSET, "--skip-level"))


@pytest.fixture(scope="module")
def step_by_step(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """2024.1 to 2025.1 through 2024.2."""
    run_dir = tmp_path_factory.mktemp("harness") / "step-by-step"
    result = harness(*start_args(run_dir, "2024.1", "2025.1", SUBSET))
    assert result.returncode == 0, result.stderr[-6000:]
    return finish(run_dir)


#: The services of the default subset's MariaDB run: neutron's migrations alter
#: constraints, which SQLite cannot.
SERVER_SUBSET = "keystone,nova,neutron"


def server_or_skip(variable: str) -> None:
    """Skips the test when the database server of VARIABLE (scripts/db-servers.sh) is not
    set; fails instead when FFU_REQUIRE_DB_SERVERS=1 (the default under CI=true)."""
    if os.environ.get(variable):
        return
    require = os.environ.get("FFU_REQUIRE_DB_SERVERS", os.environ.get("CI", "0"))
    message = f"{variable} unset: no database server (scripts/db-servers.sh)"
    if require in {"1", "true"}:
        pytest.fail(f"{message}, and FFU_REQUIRE_DB_SERVERS/CI require one")
    pytest.skip(message)


@pytest.fixture(scope="module")
def mariadb_skip_level(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """keystone, nova and neutron from 2024.1 to 2025.1 in one SLURP hop on MariaDB."""
    server_or_skip("FFU_TEST_MYSQL")
    run_dir = tmp_path_factory.mktemp("harness") / "mariadb-skip-level"
    result = harness(*start_args(run_dir, "2024.1", "2025.1", SERVER_SUBSET, "--skip-level", "--backend", "mysql"))
    assert result.returncode == 0, result.stderr[-6000:]
    return finish(run_dir)


RUNS = ["skip_level", "step_by_step", "mariadb_skip_level"]
#: The databases each run ends with.
RUN_DATABASES = {
    "skip_level": {"keystone", "glance", "cinder", "placement", "nova_api", "nova", "nova_cell0"},
    "step_by_step": {"keystone", "glance", "cinder", "placement", "nova_api", "nova", "nova_cell0"},
    "mariadb_skip_level": {"keystone", "nova_api", "nova", "nova_cell0", "neutron"},
}


@pytest.mark.parametrize("run", RUNS)
def test_every_database_step_ran_with_its_release_code(run: str, request: pytest.FixtureRequest) -> None:
    finished: Finished = request.getfixturevalue(run)
    records = {r["step"]: r for r in report(finished.directory) if r["status"] != "deploy"}
    steps = finished.plan["steps"]
    assert set(records) == {s["id"] for s in steps}, "every step of the plan is in the report"
    for step in steps:
        record = records[step["id"]]
        if step["kind"] in DATABASE_KINDS or (step["kind"] == "task" and "-manage " in (step["command"] or "")):
            assert record["status"] == "ran", (step["id"], record)
        if record["status"] == "ran":
            assert record["returncode"] == 0, record
            assert record["code_release"] == step["code_release"]
            assert record["command"] == step["command"], "the plan's own command ran"
    hops = {s["hop"] for s in steps if s["kind"] in DATABASE_KINDS}
    assert hops == set(range(len(finished.plan["hops"])))


@pytest.mark.parametrize("run", RUNS)
def test_skipped_steps_are_host_steps_and_are_named(run: str, request: pytest.FixtureRequest) -> None:
    finished: Finished = request.getfixturevalue(run)
    steps = {s["id"]: s for s in finished.plan["steps"]}
    skipped = [r for r in report(finished.directory) if r["status"] == "skipped"]
    assert skipped, "a plan has stop, install and start steps"
    for record in skipped:
        step = steps[record["step"]]
        assert step["kind"] not in DATABASE_KINDS, record
        assert record["reason"]
    assert {"stop", "start", "install", "backup"} <= {steps[r["step"]]["kind"] for r in skipped}


@pytest.mark.parametrize("run", RUNS)
def test_databases_end_at_the_target_heads(run: str, request: pytest.FixtureRequest) -> None:
    finished: Finished = request.getfixturevalue(run)
    verdict = finished.verdict
    assert verdict["release"] == "2025.1"
    assert verdict["problems"] == []
    databases = verdict["databases"]
    assert set(databases) == RUN_DATABASES[run]
    for name, db in databases.items():
        assert db["applied"], f"{name} has an alembic_version"
        if name == "glance":
            # glance's db sync keeps only its contract head (its scripts have two heads).
            assert db["applied"] == db["fresh"] and set(db["applied"]) < set(db["heads"])
        else:
            assert db["applied"] == db["heads"] == db["fresh"]


def test_figures_give_the_seconds_of_every_step_that_ran(skip_level: Finished) -> None:
    """``figures DIR`` (the README's table of measured times) lists each step that ran, with
    its service, release, kind and catalog migration, and the seconds the report holds."""
    result = harness("figures", str(skip_level.directory))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    ran = {r["step"]: r for r in report(skip_level.directory) if r["status"] == "ran"}
    assert {row["step"] for row in rows} == set(ran)
    steps = {s["id"]: s for s in skip_level.plan["steps"]}
    for row in rows:
        step = steps[row["step"]]
        assert (row["service"], row["release"], row["kind"], row["migration"]) == (
            step.get("service"), step.get("release"), step["kind"], step.get("migration"))
        assert row["seconds"] == ran[row["step"]]["seconds"] and row["backend"] == "sqlite"
        assert row["skip_level"] is True
    assert {"expand", "contract", "migrate", "data"} <= {row["kind"] for row in rows}


def test_a_killed_run_resumes_where_it_stopped(skip_level: Finished) -> None:
    assert skip_level.killed_at is not None
    running = [sid for sid, s in skip_level.killed_at.items() if s["state"] == "running"]
    assert len(running) == 1, "killed while a step was running"
    assert any(s["state"] == "pending" for s in skip_level.killed_at.values())
    final = journal_states(skip_level.directory)
    assert all(s["state"] == "done" for s in final.values())
    assert final[running[0]]["attempts"] == 2, "the step the kill interrupted was given again"
    done_before = [sid for sid, s in skip_level.killed_at.items() if s["state"] == "done"]
    assert done_before and all(final[sid]["attempts"] == 1 for sid in done_before), "done steps did not run again"


def test_discover_names_the_target_release(skip_level: Finished) -> None:
    """``ffu discover`` on the upgraded databases, through the embedded catalog's per-revision
    histories (scripts/alembic-fragments.py): the target release lies within what it names
    (``release`` to ``same_schema_until``: releases that bring no revision share a schema;
    ``release`` is the oldest of them), and nothing of ``release`` or before is pending."""
    target = skip_level.plan["to"]
    catalog = ffu_json("catalog", "show", "--format", "json")
    order = [r["name"] for r in catalog["releases"]]
    release_of = {m["id"]: m["release"] for m in catalog["migrations"]}
    for service in ("keystone", "cinder", "placement"):
        state = ffu_json("discover", "--db", f"sqlite:{skip_level.directory / 'db' / service}.sqlite",
                         "--service", service, "--format", "json")[service]
        assert state["release"] is not None, f"{service}: {state}"
        until = state.get("same_schema_until") or state["release"]
        assert order.index(state["release"]) <= order.index(target) <= order.index(until), f"{service}: {state}"
        early = [m for m in state["pending"] if order.index(release_of[m]) <= order.index(state["release"])]
        assert not early, f"{service}: pending {early}"
        assert not state.get("applied_revisions"), f"{service}: stopped partway? {state}"


def venvs_ready(*releases: str) -> bool:
    """Whether the harness's venvs of RELEASES are built already (this test builds none)."""
    home = Path(os.environ.get("FFU_HARNESS_HOME", str(ROOT / "target" / "harness"))) / "venvs"
    return all(any((venv / ".complete").is_file() for venv in home.glob(f"{release}-*")) for release in releases)


def test_discover_names_a_database_stopped_partway(tmp_path: Path) -> None:
    """A nova database stopped partway through 2025.1's ``db sync``: the plan's step runs the
    catalog's ``command_to_revision`` up to the step's first revision only, with the real
    nova-manage; ``ffu discover`` over the API and main databases then reads release 2024.1
    (the last schema complete; 2024.2 brings nova no revision) with that revision applied
    and the others pending
    (DESIGN §12). It builds no venv: the tests above it in this module do (checked when it
    runs, not when the module is collected, which is before they have)."""
    if not venvs_ready("2024.1", "2025.1"):
        pytest.skip("needs the 2024.1 and 2025.1 venvs built (harness/openstack_harness.py venv 2024.1 2025.1)")
    plan = ffu_json("plan", "--from", "2024.1", "--to", "2025.1", "--services", "nova", "--format", "json")
    cut = next(n for n, s in enumerate(plan["steps"]) if s.get("migration") == "nova.2025.1.db-sync")
    step = plan["steps"][cut]
    first, rest = step["revisions"][0], step["revisions"][1:]
    assert rest, f"nova's 2025.1 db sync applies one revision only: {step}"
    step["command"] = f"nova-manage db sync {first}"  # the catalog's command_to_revision
    plan["steps"] = plan["steps"][: cut + 1]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    run_dir = tmp_path / "run"
    result = harness("run", "--fresh", "--plan", str(plan_file), "--dir", str(run_dir))
    assert result.returncode == 0, f"harness failed:\n{result.stderr[-4000:]}"
    db = run_dir / "db"
    state = ffu_json("discover", "--db", f"sqlite:{db / 'nova_api.sqlite'}", "--db", f"sqlite:{db / 'nova.sqlite'}",
                     "--service", "nova", "--format", "json")["nova"]
    assert state["release"] == "2024.1" and state["same_schema_until"] == "2024.2", state
    assert state["applied_revisions"] == [first], state
    assert state["pending_revisions"][: len(rest)] == rest, state


# --- Wrong plans: refused by `ffu verify` -----------------------------------------------------


def move_before(plan: dict[str, Any], moved: str, anchor: str) -> dict[str, Any]:
    steps = plan["steps"]
    step = next(s for s in steps if s["id"] == moved)
    steps.remove(step)
    steps.insert(next(i for i, s in enumerate(steps) if s["id"] == anchor), step)
    return plan


def plan_json(source: str, target: str, services: str, *extra: str) -> dict[str, Any]:
    plan: dict[str, Any] = ffu_json("plan", "--from", source, "--to", target, "--services", services,
                                    "--format", "json", *extra)
    return plan


def contract_before_expand() -> dict[str, Any]:
    plan = plan_json("2024.1", "2025.1", "keystone")
    return move_before(plan, "h0.keystone.2024.2.contract", "h0.keystone.2024.2.expand")


def db_sync_before_cell0_mapping() -> dict[str, Any]:
    # Ocata's nova needs the cells v2 mapping (simple_cell_setup maps cell0) before its syncs.
    plan = plan_json("newton", "ocata", "nova")
    return move_before(plan, "h0.nova.ocata.db-sync", "h0.nova.ocata.simple-cell-setup")


def skipped_hop_without_skip_level() -> dict[str, Any]:
    plan = plan_json("2024.1", "2025.1", "keystone,nova", "--skip-level")
    plan["policy"]["skip_level"] = False
    return plan


def skipped_release_dropped() -> dict[str, Any]:
    plan = plan_json("2024.1", "2025.1", "keystone,nova")
    plan["steps"] = [s for s in plan["steps"] if not (s["kind"] in DATABASE_KINDS and s.get("release") == "2024.2")]
    return plan


WRONG = {
    "contract-before-expand": (contract_before_expand, "V3"),
    "db-sync-before-cell0-mapping": (db_sync_before_cell0_mapping, "V3"),
    "skipped-hop-without-skip-level": (skipped_hop_without_skip_level, "V1"),
    "step-by-step-without-2024.2": (skipped_release_dropped, "V2"),
}


@pytest.mark.parametrize("name", WRONG)
def test_a_wrong_plan_is_refused_by_verify(name: str, tmp_path: Path) -> None:
    make, rule = WRONG[name]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(make()))
    result = subprocess.run([sys.executable, "-m", "ffu", "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert f"{rule}:" in result.stdout + result.stderr


def test_the_plans_the_harness_runs_pass_verify(tmp_path: Path) -> None:
    """The other side of the wrong plans: the plans the harness runs are accepted."""
    for extra in ([], ["--skip-level"]):
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(plan_json("2024.1", "2025.1", SUBSET, *extra)))
        result = subprocess.run([sys.executable, "-m", "ffu", "verify", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


# --- A judge that can fail -------------------------------------------------------------------


def test_the_judge_fails_an_upgrade_that_stops_short(tmp_path: Path) -> None:
    """A skip-level plan without its schema migrations (which `verify` refuses, V2) runs
    under the real code without an error, and the judge says the databases are not at the
    target: nova's main schema gains revisions after 2024.1."""
    plan = plan_json("2024.1", "2025.1", "nova", "--skip-level")
    plan["steps"] = [s for s in plan["steps"] if not (s["kind"] in DATABASE_KINDS and s["phase"] != "prepare")]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    verify = subprocess.run([sys.executable, "-m", "ffu", "verify", str(path)], capture_output=True, text=True)
    assert verify.returncode == 1 and "V2:" in verify.stdout + verify.stderr
    run_dir = tmp_path / "run"
    result = harness("run", "--plan", str(path), "--services", "nova", "--dir", str(run_dir), "--judge")
    assert result.returncode == 1, result.stderr[-4000:]
    verdict = json.loads(result.stdout)
    assert {p.split(":")[0] for p in verdict["problems"]} == {"nova", "nova_cell0"}, verdict["problems"]
    assert all(r.get("returncode", 0) == 0 for r in report(run_dir)), "every command it ran succeeded"


# --- The whole matrix (FFU_HARNESS_FULL=1) -----------------------------------------------------

ALL_SQLITE = "keystone,glance,cinder,placement,nova,heat"
ALL = ALL_SQLITE + ",neutron,ironic"
#: (from, to, backend, services, --skip-level): every pair of releases the venvs cover,
#: both ways over SLURP, and neutron and ironic on both servers.
MATRIX = [
    ("2024.2", "2025.1", "sqlite", ALL_SQLITE, False),
    ("2023.1", "2025.1", "sqlite", ALL_SQLITE, True),
    ("2023.1", "2025.1", "sqlite", ALL_SQLITE, False),
    ("2024.1", "2025.1", "mysql", ALL, True),
    ("2024.1", "2025.1", "mysql", ALL, False),
    ("2024.1", "2025.1", "postgres", ALL, True),
    ("2023.1", "2025.1", "mysql", "keystone,nova,neutron,ironic", True),
    ("2023.1", "2025.1", "postgres", "keystone,nova,neutron,ironic", False),
]


@pytest.mark.skipif(not FULL, reason="the whole matrix runs with FFU_HARNESS_FULL=1")
@pytest.mark.parametrize(("source", "target", "backend", "services", "skip"), MATRIX,
                         ids=[f"{m[0]}-{m[1]}-{m[2]}-{'slurp' if m[4] else 'steps'}" for m in MATRIX])
def test_matrix(source: str, target: str, backend: str, services: str, skip: bool, tmp_path: Path) -> None:
    server = {"mysql": "FFU_TEST_MYSQL", "postgres": "FFU_TEST_POSTGRES"}.get(backend)
    if server:
        server_or_skip(server)
    run_dir = tmp_path / "run"
    args = start_args(run_dir, source, target, services, "--backend", backend, *(["--skip-level"] if skip else []))
    result = harness(*args, "--judge")
    assert result.returncode == 0, f"{result.stderr[-6000:]}\n{result.stdout[-3000:]}"
    verdict = json.loads(result.stdout)
    assert verdict["problems"] == [] and verdict["release"] == target
    for name, db in verdict["databases"].items():
        assert db["applied"] == db["fresh"], name
        assert db["applied"] == db["heads"] or name == "glance", name
    records = [r for r in report(run_dir) if r["status"] == "ran"]
    assert records and all(r["returncode"] == 0 for r in records)
