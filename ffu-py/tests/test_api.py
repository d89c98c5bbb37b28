"""The Python API (README, "Python"): classes, attributes, conversions, sequence behaviour."""

from __future__ import annotations

import json
import pickle
import sqlite3
import typing
from pathlib import Path

import pytest
from conftest import ROOT, TINY, without_kind

import ffu

STEP_FIELDS = {
    "id",
    "hop",
    "kind",
    "service",
    "component",
    "release",
    "migration",
    "command",
    "requires",
    "reason",
    "rollback_point",
}


def test_public_names_are_exported() -> None:
    assert set(ffu.__all__) == {
        "AlembicImport",
        "ArgumentError",
        "ArgumentTypeError",
        "Catalog",
        "CatalogError",
        "DatabaseError",
        "FfuError",
        "Hop",
        "Inventory",
        "Journal",
        "JournalError",
        "NoPathError",
        "Plan",
        "PlanError",
        "PlanIterator",
        "Step",
        "Violation",
        "__version__",
        "discover",
        "discovery_sql",
        "import_alembic",
        # The shapes of the dicts ffu returns, for annotations.
        "ComponentInfo",
        "ConfigEdit",
        "DatabaseInfo",
        "JournalCounts",
        "JournalStep",
        "NegotiatedExtensions",
        "ReleaseDetails",
        "ServiceInfo",
        "ServiceState",
        "TaskInfo",
        # The values of their fields, and of Step's, as Literal aliases.
        "CodeSide",
        "Phase",
        "Role",
        "StepKind",
        "TaskPhase",
    }
    for name in ffu.__all__:
        assert hasattr(ffu, name)
    assert isinstance(ffu.__version__, str) and ffu.__version__.count(".") == 2


def test_classes_live_in_ffu_and_are_frozen(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "ocata")
    for obj, attribute in ((openstack, "name"), (plan, "path"), (plan[0], "id"), (plan.hops[0], "to")):
        assert type(obj).__module__ == "ffu"
        with pytest.raises(AttributeError):
            setattr(obj, attribute, "changed")
        with pytest.raises(AttributeError):
            obj.extra = 1  # type: ignore[union-attr]
    with pytest.raises(TypeError):

        class Sub(ffu.Plan):  # type: ignore[misc]
            pass


def test_catalog_properties(openstack: ffu.Catalog, tiny: ffu.Catalog) -> None:
    assert openstack.name == "openstack"
    assert openstack.releases[:4] == ["newton", "ocata", "pike", "queens"]
    assert "nova" in openstack.services
    assert tiny.name == "tiny"
    assert tiny.file == "tiny.yaml"
    assert tiny.releases == ["a", "b", "c"]
    assert tiny.services == ["alpha", "beta"]
    assert repr(tiny) == "<ffu.Catalog tiny: 3 releases, 2 services, 4 migrations>"


def test_catalog_loaders_agree(tmp_path: Path, tiny: ffu.Catalog) -> None:
    document = tiny.to_dict()
    assert document["format"] == "ffu-catalog/1"
    as_json = ffu.Catalog.from_json(tiny.to_json())
    as_yaml = ffu.Catalog.from_yaml(tiny.to_yaml())
    as_dict = ffu.Catalog.from_dict(document)
    yaml_file = tmp_path / "tiny.yaml"
    yaml_file.write_text(TINY, encoding="utf-8")
    json_file = tmp_path / "tiny.json"
    json_file.write_text(tiny.to_json(), encoding="utf-8")
    from_str_path = ffu.Catalog.from_file(str(yaml_file))
    from_pathlike = ffu.Catalog.from_file(json_file)
    assert from_str_path.file == str(yaml_file)
    reference = tiny.plan("a", "c").to_json()
    for catalog in (as_json, as_yaml, as_dict, from_str_path, from_pathlike):
        assert catalog.to_dict() == document
        assert catalog.plan("a", "c").to_json() == reference


def test_from_dict_accepts_dates_as_yaml_loaders_give_them() -> None:
    import datetime

    document = json.loads(ffu.Catalog.from_yaml(TINY).to_json())
    document["releases"][0]["date"] = datetime.date(2016, 10, 6)
    catalog = ffu.Catalog.from_dict(document)
    assert catalog.to_dict()["releases"][0]["date"] == "2016-10-06"


def test_from_dict_rejects_what_json_cannot_hold() -> None:
    document = json.loads(ffu.Catalog.from_yaml(TINY).to_json())
    document["name"] = object()
    with pytest.raises(TypeError, match="object values cannot be written as JSON"):
        ffu.Catalog.from_dict(document)


def test_plan_sequence_protocol(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "queens")
    steps = plan.steps
    assert len(plan) == len(steps) > 0
    assert list(plan) == steps
    assert [step.id for step in plan] == [step["id"] for step in plan.to_dict()["steps"]]
    assert plan[0] == steps[0]
    assert plan[-1] == steps[-1]
    assert plan[-len(plan)] == steps[0]
    assert plan[1:4] == steps[1:4]
    assert plan[::-7] == steps[::-7]
    assert plan[len(plan) :] == []
    with pytest.raises(IndexError):
        plan[len(plan)]
    with pytest.raises(IndexError):
        plan[-len(plan) - 1]
    with pytest.raises(TypeError, match="integers or slices"):
        plan["0"]  # type: ignore[call-overload]
    iterator = iter(plan)
    assert iter(iterator) is iterator
    assert next(iterator) == steps[0]


def test_plan_attributes(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "queens")
    assert plan.format == "ffu-plan/1"
    assert plan.catalog == "openstack"
    assert plan.from_ == "newton"
    assert plan.to == "queens"
    assert plan.path == ["newton", "ocata", "pike", "queens"]
    assert plan.policy == {"mode": "offline", "skip_level": False, "keep_dataplane": True, "services": None}
    assert [(hop.from_, hop.to, hop.skip, hop.releases) for hop in plan.hops] == [
        ("newton", "ocata", False, ["ocata"]),
        ("ocata", "pike", False, ["pike"]),
        ("pike", "queens", False, ["queens"]),
    ]
    assert repr(plan) == f"<ffu.Plan newton -> queens: 3 hops, {len(plan)} steps>"
    assert repr(openstack.plan("newton", "ocata")).startswith("<ffu.Plan newton -> ocata: 1 hop, ")


def test_plan_policy_arguments(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("2023.1", "2025.1", skip_level=True, services=("keystone", "glance"))
    assert plan.policy == {
        "mode": "offline",
        "skip_level": True,
        "keep_dataplane": True,
        "services": ["keystone", "glance"],
    }
    assert plan.path == ["2023.1", "2024.1", "2025.1"]
    assert all(hop.skip for hop in plan.hops)
    assert repr(plan.hops[0]) == "<ffu.Hop 2023.1 -> 2024.1 (skip: applies 2023.2, 2024.1)>"
    assert {step.service for step in plan} <= {"keystone", "glance", None}
    # Aliases are accepted wherever a release name is; the plan uses canonical names.
    assert openstack.plan("antelope", "caracal", skip_level=True).path == ["2023.1", "2024.1"]


def test_plan_rejects_a_bad_mode(openstack: ffu.Catalog) -> None:
    with pytest.raises(ValueError, match='mode must be "offline" or "rolling"'):
        openstack.plan("newton", "ocata", mode="online")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        openstack.plan("newton", "ocata", services="nova")  # a str is not a list of names


def test_step_fields_match_the_document(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "queens")
    document = plan.to_dict()
    assert list(document) == ["format", "catalog", "from", "to", "policy", "path", "hops", "steps"]
    for step, raw in zip(plan, document["steps"]):
        assert STEP_FIELDS <= set(raw)
        assert step.to_dict() == raw
        assert step.id == raw["id"]
        assert step.hop == raw["hop"]
        assert step.kind == raw["kind"]
        assert step.service == raw["service"]
        assert step.component == raw["component"]
        assert step.release == raw["release"]
        assert step.migration == raw["migration"]
        assert step.command == raw["command"]
        assert step.requires == raw["requires"]
        assert step.reason == raw["reason"]
        assert step.rollback_point == raw["rollback_point"]
        assert step.host == raw.get("host")
        assert step.advertised == raw.get("advertised")
    for hop, raw in zip(plan.hops, document["hops"]):
        assert hop.to_dict() == raw
    kinds = {step.kind for step in plan}
    assert {"stop", "backup", "migrate", "start"} <= kinds
    migration = next(step for step in plan if step.kind == "migrate")
    assert repr(migration) == f"<ffu.Step {migration.id} (migrate)>"
    assert isinstance(migration.requires, list)


def test_equality_and_hashing(openstack: ffu.Catalog) -> None:
    first = openstack.plan("newton", "pike")
    second = openstack.plan("newton", "pike")
    assert first == second
    assert first != openstack.plan("newton", "queens")
    assert first != "a plan"
    assert first[0] == second[0] and first[0] != first[1]
    assert first.hops[0] == second.hops[0]
    for unhashable in (first, first[0], first.hops[0]):
        with pytest.raises(TypeError, match="unhashable"):
            hash(unhashable)


def test_renderings(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "ocata")
    text = plan.to_text()
    assert text.startswith("Plan newton -> ocata (offline, catalog openstack): 1 hop, ")
    assert "Stays up the whole time:" in text  # known from the catalog that made the plan
    parsed = ffu.Plan.from_json(plan.to_json())
    assert "Stays up the whole time:" not in parsed.to_text()
    assert parsed.to_text(openstack) == text
    dot = plan.to_dot()
    assert dot.startswith('digraph "ffu newton -> ocata" {') and dot.endswith("}\n")
    assert json.loads(plan.to_json()) == plan.to_dict()


def test_plan_parsing(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "pike")
    assert ffu.Plan.from_json(plan.to_json()) == plan
    assert ffu.Plan.from_dict(plan.to_dict()) == plan
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_violation_objects(openstack: ffu.Catalog) -> None:
    document = without_kind(openstack.plan("newton", "pike").to_dict(), "backup")
    violations = openstack.verify(document)
    assert violations
    first = violations[0]
    assert isinstance(first, ffu.Violation)
    assert first.rule == "V9"
    assert all(v.rule == "V9" for v in violations)
    assert first.message and isinstance(first.steps, list) and first.steps
    assert str(first) == f"V9: {first.message}"
    assert repr(first) == f"<ffu.Violation V9: {first.message}>"
    assert openstack.verify(document) == violations


def test_verify_rejects_other_types(openstack: ffu.Catalog) -> None:
    with pytest.raises(TypeError, match="verify\\(\\) takes a Plan or a plan dict, not str"):
        openstack.verify("{}")  # type: ignore[arg-type]


def test_typing_example_runs() -> None:
    example = Path(__file__).with_name("typing_example.py")
    namespace: dict[str, object] = {"__name__": "typing_example"}
    exec(compile(example.read_text(encoding="utf-8"), str(example), "exec"), namespace)
    main = namespace["main"]
    assert callable(main)
    main()


def test_panics_reach_python_as_ffu_error(capfd: pytest.CaptureFixture[str]) -> None:
    # The hook panics inside the same guard that wraps every call into the core.
    with pytest.raises(ffu.FfuError, match="internal error in ffu .*test panic") as info:
        ffu._native._test_panic()  # type: ignore[attr-defined]
    assert type(info.value) is ffu.FfuError
    assert info.value.no_plan is False
    capfd.readouterr()  # the panic hook's report on stderr is expected


def test_catalog_stats_and_release_details(openstack: ffu.Catalog, tiny: ffu.Catalog) -> None:
    assert tiny.stats() == {
        "releases": 3,
        "services": 2,
        "components": 2,
        "migrations": 4,
        "extensions": 0,
        "config_changes": 0,
    }
    assert tiny.release_details == [
        {"name": name, "aliases": [], "date": None, "slurp": False} for name in ("a", "b", "c")
    ]
    antelope = next(r for r in openstack.release_details if r["name"] == "2023.1")
    assert antelope == {"name": "2023.1", "aliases": ["antelope"], "date": "2023-03-22", "slurp": True}


def test_typed_dicts_describe_the_dicts_ffu_returns(tmp_path: Path, openstack: ffu.Catalog) -> None:
    """The public TypedDicts have exactly the keys of the dicts they annotate, and their
    hints resolve at run time (also on Python 3.9)."""
    for typed in (
        ffu.ReleaseDetails,
        ffu.NegotiatedExtensions,
        ffu.ServiceState,
        ffu.JournalStep,
        ffu.JournalCounts,
    ):
        assert typing.get_type_hints(typed), typed
    assert set(openstack.release_details[0]) == set(ffu.ReleaseDetails.__annotations__)
    inventory = ffu.Inventory.from_file(openstack, ROOT / "tests" / "data" / "inventory-mixed.yaml")
    assert set(openstack.negotiate_details(inventory)["neutron"]) == set(ffu.NegotiatedExtensions.__annotations__)
    database = tmp_path / "state.db"
    sqlite3.connect(database).close()
    state = ffu.discover(str(database), openstack, ["nova"])
    assert set(state["nova"]) == set(ffu.ServiceState.__annotations__)
    plan = openstack.plan("newton", "ocata", services=["keystone"])
    journal = ffu.Journal(str(tmp_path / "journal.db"), plan)
    assert set(journal.status()) == set(ffu.JournalCounts.__annotations__)
    steps = journal.steps()
    assert set(steps[0]) == set(ffu.JournalStep.__annotations__)
    states = typing.get_args(typing.get_type_hints(ffu.JournalStep)["state"])
    assert steps[0]["state"] in states and set(states) == {"pending", "running", "done", "failed"}
