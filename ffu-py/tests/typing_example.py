"""A small program using ffu as a typed library; checked with ``mypy --strict``.

It also runs as a test (tests/test_api.py), so that the example stays true.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import ffu


def migrations_per_hop(plan: ffu.Plan) -> dict[str, int]:
    """How many migration steps each hop of the plan runs, by `from -> to`."""
    counts: Counter[str] = Counter()
    for step in plan:
        if step.migration is not None:
            hop: ffu.Hop = plan.hops[step.hop]
            counts[f"{hop.from_} -> {hop.to}"] += 1
    return dict(counts)


def explain(err: ffu.FfuError) -> str:
    """One line for an operator, from the structured attributes of each error class."""
    if isinstance(err, ffu.CatalogError):
        where = f"{err.file}:{err.line}" if err.line is not None else str(err.file)
        return f"bad catalog at {where}: {err}"
    if isinstance(err, ffu.NoPathError):
        return f"no path from {err.from_} to {err.to}: {err}"
    if isinstance(err, ffu.PlanError) and err.cycle is not None:
        return "ordering cycle: " + " -> ".join(err.cycle)
    return str(err)


def slurp_releases(catalog: ffu.Catalog) -> list[ffu.ReleaseDetails]:
    """The catalog's SLURP releases, annotated with ffu's public TypedDict."""
    return [release for release in catalog.release_details if release["slurp"]]


def progress(journal: ffu.Journal) -> str:
    """A journal's progress, from its typed counts and steps."""
    counts: ffu.JournalCounts = journal.status()
    steps: list[ffu.JournalStep] = journal.steps()
    return f"{counts['done']}/{len(steps)} done, first step {steps[0]['state']}"


def run_batches(journal: ffu.Journal) -> int:
    """A runner with only the database: claims of one batch, as the plan's steps."""
    plan: ffu.Plan = journal.plan()
    ran = 0
    while batch := journal.next(owner="typed", n=50):
        for step in batch:
            host: str | None = step.host
            command: str | None = step.command
            assert host is None or command is None or command
            journal.done(step)
            ran += 1
    first: str | None = journal.next(owner="typed")
    none_left: list[ffu.Step] = journal.next(1)
    assert first is None and none_left == [] and ran == len(plan)
    before: str = journal.reset(plan.steps[0].id)
    assert before == "done" and journal.skip(plan.steps[0]) == "pending"
    holder: str | None = journal.unlock(force=True)
    errors: dict[str, str] = journal.errors()
    assert holder is None and errors == {}
    return ran


def step_action(step: ffu.Step) -> str:
    """A deployment tool's action for a step, from its typed procedure fields (DESIGN §8)."""
    phase: ffu.Phase | None = step.phase
    code: ffu.CodeSide | None = step.code
    databases: list[str] | None = step.databases
    batch: int | None = step.batch
    edit: ffu.ConfigEdit | None = step.config
    extras: dict[str, Any] | None = step.x
    unit = step.unit or step.component
    if step.kind == "backup" and databases is not None:
        return f"backup {' '.join(databases)}"
    if step.kind in ("stop", "start") and unit is not None:
        verb = "disable --now" if step.disable else "enable --now" if step.enable else step.kind
        return f"systemctl {verb} {unit}" + (f" (batch {batch})" if batch is not None else "")
    if edit is not None:
        value: str | None = edit["value"]
        return f"crudini --set {edit['file']} {edit['section']} {edit['option']} {value or ''}"
    if step.kind == "install" and step.version is not None:
        return f"install {step.service} {step.version}"
    if step.kind == "task" and step.task is not None:
        return f"task {step.task} with {code or 'target'} code ({step.code_release})"
    hook = extras.get("x-hook") if extras is not None else None
    return f"{phase or '-'} {step.kind}" + (f" hook {hook}" if hook is not None else "")


def units(catalog: ffu.Catalog, service: str) -> dict[str, str]:
    """Component to unit, from the typed service facts (the component's name where the
    catalog gives no unit)."""
    info: ffu.ServiceInfo = catalog.service_info(service)
    components: list[ffu.ComponentInfo] = info["components"]
    databases: list[ffu.DatabaseInfo] = info["databases"]
    skew: int | str = info["max_skew"]
    assert databases and skew in (1, 2, "slurp")
    return {c["name"]: c["unit"] or c["name"] for c in components if c["role"] in ("control", "agent")}


def converge_tasks(catalog: ffu.Catalog) -> list[str]:
    """The ids of the catalog tasks that run once every service runs the target."""
    tasks: list[ffu.TaskInfo] = catalog.tasks
    phase: ffu.TaskPhase = "converge"
    return [task["id"] for task in tasks if task["phase"] == phase]


def main() -> None:
    catalog = ffu.Catalog.openstack()
    plan: ffu.Plan = catalog.plan("newton", "queens", mode="offline", skip_level=False, services=None)
    first: ffu.Step = plan[0]
    last_two: list[ffu.Step] = plan[-2:]
    assert first.kind in ("stop", "precheck", "task") and len(last_two) == 2
    assert sum(migrations_per_hop(plan).values()) == sum(1 for s in plan.steps if s.migration)
    document: dict[str, Any] = plan.to_dict()
    violations: list[ffu.Violation] = catalog.verify(document)
    assert [v.rule for v in violations] == []
    try:
        catalog.plan("queens", "newton")
    except ffu.FfuError as err:
        assert explain(err).startswith("no path from queens to newton")
        assert err.no_plan
    else:
        raise AssertionError("a downgrade has no plan")
    inventory: ffu.Inventory = ffu.Inventory.from_yaml(
        catalog, "format: ffu-inventory/1\nhosts:\n  - {name: 'ctl-[1:2]', components: {neutron-server: pike}}\n"
    )
    hosts: list[str] = inventory.hosts
    assert len(inventory) == len(hosts) == 2
    advertised: dict[str, list[str]] = catalog.negotiate(inventory)
    details: ffu.NegotiatedExtensions = catalog.negotiate_details(inventory)["neutron"]
    withheld: dict[str, str] = details["withheld"]
    assert advertised["neutron"] and withheld == {}
    rolling: ffu.Plan = catalog.plan_inventory(inventory, "queens", mode="rolling", max_unavailable=1)
    assert catalog.verify(rolling) == []
    assert [release["name"] for release in slurp_releases(catalog)][:1] == ["2023.1"]
    templated: ffu.Plan = catalog.plan(
        "newton", "pike", repo_command="repos {release}", backup_command="dump {databases}", backup_dir="/b"
    )
    assert templated.policy["backup_dir"] == "/b"
    actions = [step_action(step) for step in templated]
    assert any(action.startswith("backup ") or "backup" in action for action in actions)
    assert units(catalog, "nova")["nova-compute"] and isinstance(converge_tasks(catalog), list)
    connection = sqlite3.connect(":memory:")
    try:
        assert progress(ffu.Journal(connection, plan)) == f"0/{len(plan)} done, first step pending"
        assert run_batches(ffu.Journal(connection)) == len(plan)
    finally:
        connection.close()


if __name__ == "__main__":
    main()
