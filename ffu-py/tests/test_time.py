"""Time (DESIGN §10) at the Python boundary: `Step.estimate_s`, `Plan.estimate()` and
`Journal.recovery_plan()`; the figures themselves are tested in Rust (tests/time.rs,
tests/recovery.rs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import ffu


def test_every_step_has_an_estimate_and_the_estimate_adds_up() -> None:
    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "queens")
    assert all(isinstance(step.estimate_s, int) for step in plan)
    assert all(step["estimate_s"] >= 0 for step in plan.to_dict()["steps"])
    time = plan.estimate()
    assert set(time) == {"total_s", "control_plane_downtime_s", "downtime_s", "hops", "figures"}
    assert time["total_s"] == sum(hop["estimate_s"] for hop in time["hops"])
    assert [hop["from"] for hop in time["hops"]] == ["newton", "ocata", "pike"]
    assert 0 < time["downtime_s"]["nova"] <= time["control_plane_downtime_s"] <= time["total_s"]
    assert time["figures"]["default"] > 0
    assert all(entry["source"] for entry in time["figures"]["defaults_used"])
    # A plan read from its document gives the same estimate with the catalog named.
    again = ffu.Plan.from_json(plan.to_json())
    assert again.estimate(cat) == time


def _run_until_contract(journal: ffu.Journal, plan: ffu.Plan) -> str:
    contract = next(step.id for step in plan if step.hop == 1 and step.kind == "contract")
    while True:
        step = journal.next()
        assert step is not None
        if step == contract:
            journal.fail(step)
            return step
        journal.done(step)


def test_journal_recovery_plan_restores_the_backup_and_passes_verify(tmp_path: Path) -> None:
    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "pike", services=["keystone", "glance"])
    journal = ffu.Journal(str(tmp_path / "journal.db"), plan)
    failed = _run_until_contract(journal, plan)
    recovery = journal.recovery_plan(cat)
    assert isinstance(recovery, ffu.Plan)
    assert recovery.recovery
    document = recovery.to_dict()
    assert document["recovery"] is True
    (changed,) = document["recovers"]["changed"]
    assert changed["service"] == "keystone"
    assert changed["backup"] == "h1.backup.keystone"
    assert failed in changed["steps"]
    restore = next(step for step in recovery if step.kind == "restore")
    assert restore.restores == "h1.backup.keystone"
    assert restore.command == "mysql -e 'DROP DATABASE IF EXISTS keystone' && mysql < keystone-ocata.sql"
    assert {step.release for step in recovery if step.kind == "start"} == {"ocata"}
    assert cat.verify(recovery) == []
    # A recovery plan without its restore breaks V16.
    document["steps"] = [step for step in document["steps"] if step["kind"] != "restore"]
    assert [v.rule for v in cat.verify(document)] == ["V16"]


def test_recovery_with_a_restore_command_and_over_a_dbapi_connection() -> None:
    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "pike", services=["keystone"])
    journal = ffu.Journal(sqlite3.connect(":memory:"), plan)
    _run_until_contract(journal, plan)
    recovery = journal.recovery_plan(restore_command="restore {service} {release}")
    restore = next(step for step in recovery if step.kind == "restore")
    assert restore.command == "restore keystone ocata"


def test_a_recovery_that_cannot_restore_is_an_ffu_error(tmp_path: Path) -> None:
    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "pike", services=["keystone"], backup_command="snapshot {service}")
    journal = ffu.Journal(str(tmp_path / "j.db"), plan)
    _run_until_contract(journal, plan)
    try:
        journal.recovery_plan(cat)
    except ffu.FfuError as err:
        assert "h1.backup.keystone" in str(err)
    else:
        raise AssertionError("no error")


def test_recovery_and_windowed_plans_pass_the_plan_schema(tmp_path: Path) -> None:
    import json

    import pytest
    from conftest import run_ffu

    jsonschema = pytest.importorskip("jsonschema")
    result = run_ffu("schema", "plan")
    assert result.returncode == 0, result.stderr
    check = jsonschema.Draft202012Validator(json.loads(result.stdout))
    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "pike", services=["keystone", "glance"])
    journal = ffu.Journal(str(tmp_path / "journal.db"), plan)
    _run_until_contract(journal, plan)
    recovery = json.loads(journal.recovery_plan(cat).to_json())
    assert [e.message for e in check.iter_errors(recovery)] == []
    windowed = run_ffu("plan", "--from", "newton", "--to", "pike", "--window", "30h", "--format", "json")
    assert windowed.returncode == 0, windowed.stderr
    document = json.loads(windowed.stdout)
    assert document["windows"][0]["index"] == 0
    assert [e.message for e in check.iter_errors(document)] == []
    # Read back by ffu, the same document.
    assert json.loads(ffu.Plan.from_json(windowed.stdout).to_json()) == document


def test_with_windows_splits_where_the_cloud_serves_or_raises_no_path() -> None:
    import pytest

    cat = ffu.Catalog.openstack()
    plan = cat.plan("newton", "pike")
    assert plan.windows == []
    windowed = plan.with_windows("30h")
    (window,) = windowed.windows
    assert window["first_step"] == plan[0].id and window["last_step"] == plan[-1].id
    assert window["state"].startswith("serving: ")
    assert windowed.to_dict()["window_s"] == 108000
    assert plan.with_windows(108000) == windowed
    assert cat.verify(windowed) == []
    with pytest.raises(ffu.NoPathError, match=r"needs 4h 03m \(14585 s\), more than the window of 4h 00m"):
        plan.with_windows("4h")
    with pytest.raises(ffu.ArgumentError) as bad:
        plan.with_windows("4 hours")
    assert bad.value.argument == "window"
    with pytest.raises(ffu.ArgumentTypeError):
        plan.with_windows(4.5)  # type: ignore[arg-type]
