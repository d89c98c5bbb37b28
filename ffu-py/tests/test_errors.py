"""Every exception class, what raises it, and its structured attributes."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY, TINY_HEAD

import ffu


def test_hierarchy() -> None:
    assert issubclass(ffu.FfuError, Exception)
    for cls in (ffu.CatalogError, ffu.NoPathError, ffu.PlanError, ffu.ArgumentError, ffu.ArgumentTypeError):
        assert issubclass(cls, ffu.FfuError)
        assert cls.__module__ == "ffu"
    assert issubclass(ffu.CatalogError, ValueError)
    assert not issubclass(ffu.NoPathError, ValueError)
    assert not issubclass(ffu.PlanError, ValueError)
    assert issubclass(ffu.ArgumentError, ValueError) and not issubclass(ffu.ArgumentError, TypeError)
    assert issubclass(ffu.ArgumentTypeError, TypeError) and not issubclass(ffu.ArgumentTypeError, ValueError)


def test_bad_yaml_gives_file_and_line() -> None:
    text = TINY_HEAD + "  - {id: x, service: alpha\n"
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Catalog.from_yaml(text, file="broken.yaml")
    err = info.value
    assert err.file == "broken.yaml"
    assert err.line == 11 and isinstance(err.column, int)
    assert str(err).startswith(f"broken.yaml:{err.line}:{err.column}: ")
    assert err.item is None and err.cycle is None
    assert err.no_plan is False
    assert isinstance(err, ValueError)  # `except ValueError` catches bad catalogs too


def test_unknown_field_is_an_error() -> None:
    text = TINY.replace("name: tiny\n", "name: tiny\nsurprise: 1\n")
    with pytest.raises(ffu.CatalogError, match="unknown field `surprise`") as info:
        ffu.Catalog.from_yaml(text, file="typo.yaml")
    assert (info.value.file, info.value.line) == ("typo.yaml", 3)


def test_invalid_item_is_named() -> None:
    text = TINY_HEAD + '  - {id: a.b.sync, service: gamma, release: b, kind: migrate, command: "x"}\n'
    with pytest.raises(ffu.CatalogError, match='unknown service "gamma"') as info:
        ffu.Catalog.from_yaml(text, file="ref.yaml")
    err = info.value
    assert err.item == "migration a.b.sync"
    assert err.file == "ref.yaml" and err.line == 11


def test_requires_cycle_gives_the_cycle() -> None:
    text = TINY_HEAD + (
        '  - {id: a, service: alpha, release: b, kind: migrate, command: "x", requires: [b]}\n'
        '  - {id: b, service: alpha, release: b, kind: migrate, command: "x", requires: [a]}\n'
    )
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Catalog.from_yaml(text, file="cycle.yaml")
    err = info.value
    assert err.cycle == ["a", "b", "a"]
    assert err.file == "cycle.yaml"
    assert err.item == "migrations (requires)"
    assert "cycle: a -> b -> a" in str(err)


def test_json_errors_are_catalog_errors() -> None:
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Catalog.from_json('{"format": "ffu-catalog/1", "name": ', file="cut.json")
    assert info.value.file == "cut.json" and info.value.line == 1


def test_missing_file_keeps_the_os_error_as_cause(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ffu.CatalogError, match="cannot read file") as info:
        ffu.Catalog.from_file(missing)
    assert info.value.file == str(missing)
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_unknown_release(tiny: ffu.Catalog, openstack: ffu.Catalog) -> None:
    with pytest.raises(ffu.NoPathError, match='unknown release "newtn"; did you mean newton') as info:
        openstack.plan("newtn", "queens")
    err = info.value
    assert (err.from_, err.to) == ("newtn", "queens")
    assert err.release == "newtn"
    assert err.suggestions == ["newton"]
    assert err.no_plan is True
    with pytest.raises(ffu.NoPathError) as info:
        tiny.plan("a", "zzz")
    assert info.value.release == "zzz" and info.value.suggestions == []


def test_downgrade(openstack: ffu.Catalog) -> None:
    with pytest.raises(ffu.NoPathError, match="downgrades are not supported") as info:
        openstack.plan("queens", "newton")
    err = info.value
    assert (err.from_, err.to) == ("queens", "newton")
    assert err.no_plan is True
    # Aliases are reported by their canonical names.
    with pytest.raises(ffu.NoPathError) as info:
        openstack.plan("caracal", "antelope")
    assert (info.value.from_, info.value.to) == ("2024.1", "2023.1")


def test_ordering_cycle_gives_the_cycle_and_facts() -> None:
    # alpha's migration requires beta's, but beta is `after` alpha: no order satisfies both.
    text = TINY_HEAD + (
        '  - {id: alpha.b.m, service: alpha, release: b, kind: migrate, command: "x", requires: [beta.b.m]}\n'
        '  - {id: beta.b.m, service: beta, release: b, kind: migrate, command: "y"}\n'
    )
    catalog = ffu.Catalog.from_yaml(text, file="order.yaml")
    with pytest.raises(ffu.PlanError) as info:
        catalog.plan("a", "c")
    err = info.value
    assert err.no_plan is True
    assert err.hop == "a -> b"
    assert err.cycle is not None and err.cycle[0] == err.cycle[-1]
    assert set(err.cycle) == {"alpha.b.m", "beta.b.m"}
    assert err.facts is not None and len(err.facts) == len(err.cycle) - 1
    assert all(set(fact) == {"before", "after", "because"} for fact in err.facts)
    assert any("service order" in fact["because"] for fact in err.facts)
    assert str(err).startswith("no order satisfies hop a -> b: cycle: " + " -> ".join(err.cycle))


def test_excluded_dependency() -> None:
    text = TINY_HEAD + (
        '  - {id: beta.b.m, service: beta, release: b, kind: migrate, command: "y", requires: [alpha.b.m]}\n'
        '  - {id: alpha.b.m, service: alpha, release: b, kind: migrate, command: "x"}\n'
    )
    catalog = ffu.Catalog.from_yaml(text)
    with pytest.raises(ffu.PlanError, match="which the policy excludes") as info:
        catalog.plan("a", "c", services=["beta"])
    err = info.value
    assert (err.migration, err.needs, err.service) == ("beta.b.m", "migration alpha.b.m", "alpha")
    assert err.no_plan is True


def test_unknown_service_is_bad_input_wherever_it_is_named(tiny: ffu.Catalog, tmp_path: Path) -> None:
    """In a policy and in discovery alike: a PlanError with ``service``, not "no plan"
    (the CLIs exit 2). In a policy it was ``no_plan`` True (exit 1) before."""
    with pytest.raises(ffu.PlanError, match='^unknown service "gamma": the catalog has no such service$') as in_policy:
        tiny.plan("a", "c", services=["alpha", "gamma"])
    with pytest.raises(ffu.PlanError) as in_discovery:
        ffu.discover(tmp_path / "none.db", tiny, ["gamma"])
    for err in (in_policy.value, in_discovery.value):
        assert type(err) is ffu.PlanError
        assert err.service == "gamma"
        assert err.no_plan is False
        assert str(err) == str(in_policy.value)
        assert (err.hop, err.cycle, err.facts, err.migration, err.needs, err.file) == (None,) * 6


def test_bad_max_unavailable_is_a_plan_error(tiny: ffu.Catalog) -> None:
    with pytest.raises(ffu.PlanError, match="bad policy: max_unavailable") as info:
        tiny.plan("a", "b", mode="rolling", max_unavailable="0%")
    assert info.value.no_plan is False


def test_rolling_plans_take_max_unavailable_as_int_or_str(tiny: ffu.Catalog) -> None:
    by_int = tiny.plan("a", "b", mode="rolling", max_unavailable=2)
    by_str = tiny.plan("a", "b", mode="rolling", max_unavailable="2")
    assert by_int.to_json() == by_str.to_json()
    assert by_int.policy["max_unavailable"] == "2"
    assert tiny.verify(by_int) == []


def test_bad_plan_documents(tiny: ffu.Catalog) -> None:
    with pytest.raises(ffu.PlanError, match="not a valid ffu-plan/1 document") as info:
        ffu.Plan.from_json("{}", file="plan.json")
    assert info.value.file == "plan.json"
    assert info.value.no_plan is False
    document = tiny.plan("a", "c").to_dict()
    document["format"] = "ffu-plan/9"
    with pytest.raises(ffu.PlanError, match="expected \"ffu-plan/1\""):
        tiny.verify(document)
    document = tiny.plan("a", "c").to_dict()
    document["catalog"] = "other"
    with pytest.raises(ffu.PlanError, match="made for catalog"):
        tiny.verify(document)
    document = tiny.plan("a", "c").to_dict()
    document["steps"][0]["surprise"] = True
    with pytest.raises(ffu.PlanError, match="unknown field"):
        ffu.Plan.from_dict(document)


def test_verify_names_the_plan_document(tiny: ffu.Catalog) -> None:
    """An unusable plan is named by its file, `<dict>` or `<plan>` (it was the word "plan")."""
    document = tiny.plan("a", "c").to_dict()
    document["steps"].append(document["steps"][0])
    with pytest.raises(ffu.PlanError, match="appears more than once") as info:
        tiny.verify(document)
    assert info.value.file == "<dict>"
    assert str(info.value).startswith("<dict>: not a valid ffu-plan/1 document: step id")
    read = ffu.Plan.from_json(json.dumps(document), file="p.json")
    with pytest.raises(ffu.PlanError) as info:
        tiny.verify(read)
    assert info.value.file == "p.json"
    document = tiny.plan("a", "c").to_dict()
    document["policy"]["services"] = ["nope"]
    with pytest.raises(ffu.PlanError, match='policy names unknown service "nope"') as info:
        tiny.verify(document)
    assert info.value.file == "<dict>"


def test_long_values_are_cut_in_messages(tiny: ffu.Catalog) -> None:
    """A megabyte-long bad value is cut to its start and its length in the message."""
    with pytest.raises(ffu.NoPathError) as info:
        tiny.plan("x" * 1_000_000, "c")
    assert len(str(info.value)) < 300, str(info.value)[:300]
    assert "(1000002 characters)" in str(info.value)
    assert info.value.release == "x" * 1_000_000


def test_errors_pickle_with_their_attributes() -> None:
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Catalog.from_yaml(TINY_HEAD + "  - {id: x\n", file="p.yaml")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ffu.CatalogError
    assert str(copy) == str(info.value)
    assert (copy.file, copy.line, copy.column) == (info.value.file, info.value.line, info.value.column)


# --- Arguments: every bad one is an FfuError, and also the builtin class Python uses ---------


def nested_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def endless_names() -> Iterator[str]:
    while True:
        yield "nova"


def bad_arguments(tmp_path: Path) -> list[tuple[str, Callable[[], object], type[Exception], str]]:
    """(what, call, builtin class, argument): each call gets a bad argument."""
    openstack = ffu.Catalog.openstack()
    inventory = ffu.Inventory.from_file(openstack, Path(__file__).resolve().parents[2] / "tests" / "data" / "inventory-pike.yaml")
    other = ffu.Catalog.openstack()
    plan = openstack.plan("newton", "ocata", services=["keystone"])
    journal = ffu.Journal(tmp_path / "journal.db", plan)
    document = plan.to_dict()
    document["steps"][0]["id"] = {1, 2}
    return [
        ("mode", lambda: openstack.plan("newton", "ocata", mode="online"), ValueError, "mode"),  # type: ignore[arg-type]
        ("mode, inventory", lambda: openstack.plan_inventory(inventory, "queens", mode="x"), ValueError, "mode"),  # type: ignore[arg-type]
        ("services str", lambda: openstack.plan("newton", "ocata", services="nova"), TypeError, "services"),
        ("services int", lambda: openstack.plan("newton", "ocata", services=5), TypeError, "services"),  # type: ignore[arg-type]
        ("services items", lambda: openstack.plan("newton", "ocata", services=[b"nova"]), TypeError, "services"),  # type: ignore[list-item]
        ("services endless", lambda: openstack.plan("newton", "ocata", services=endless_names()), ValueError, "services"),
        ("max_unavailable list", lambda: openstack.plan("newton", "ocata", max_unavailable=[1]), TypeError, "max_unavailable"),  # type: ignore[arg-type]
        ("max_unavailable bool", lambda: openstack.plan("newton", "ocata", max_unavailable=True), TypeError, "max_unavailable"),
        ("max_unavailable huge", lambda: openstack.plan("newton", "ocata", max_unavailable=10**30), ValueError, "max_unavailable"),
        ("repo_command int", lambda: openstack.plan("newton", "ocata", repo_command=1), TypeError, "repo_command"),  # type: ignore[arg-type]
        ("backup_command bytes", lambda: openstack.plan("newton", "ocata", backup_command=b"x"), TypeError, "backup_command"),  # type: ignore[arg-type]
        ("backup_dir path", lambda: openstack.plan_inventory(inventory, "queens", backup_dir=tmp_path), TypeError, "backup_dir"),  # type: ignore[arg-type]
        ("service_info", lambda: openstack.service_info("novaa"), ValueError, "name"),
        ("service_info int", lambda: openstack.service_info(1), TypeError, "name"),  # type: ignore[arg-type]
        ("state list", lambda: openstack.plan("newton", "ocata", state=["x"]), TypeError, "state"),  # type: ignore[arg-type]
        ("state key", lambda: openstack.plan("newton", "ocata", state={1: []}), TypeError, "state"),  # type: ignore[dict-item]
        ("state no applied", lambda: openstack.plan("newton", "ocata", state={"nova": {}}), ValueError, "state"),
        ("state applied str", lambda: openstack.plan("newton", "ocata", state={"nova": "x"}), TypeError, "state"),
        ("no from_, no state", lambda: openstack.plan(None, "ocata"), TypeError, "from_"),
        ("other catalog", lambda: other.plan_inventory(inventory, "queens"), ValueError, "inventory"),
        ("other catalog, negotiate", lambda: other.negotiate(inventory), ValueError, "inventory"),
        ("verify str", lambda: openstack.verify("{}"), TypeError, "plan"),  # type: ignore[arg-type]
        ("verify set", lambda: openstack.verify(document), TypeError, "plan"),
        ("journal plan", lambda: ffu.Journal(tmp_path / "other.db", 5), TypeError, "plan"),  # type: ignore[arg-type]
        ("journal backend", lambda: ffu.Journal(object(), plan), TypeError, "conn"),
        ("journal backend name", lambda: ffu.Journal(object(), plan, backend="oracle"), ValueError, "backend"),  # type: ignore[arg-type]
        ("lock_ttl", lambda: journal.next(lock_ttl=float("nan")), ValueError, "lock_ttl"),
        ("discover services", lambda: ffu.discover(tmp_path / "db.db", openstack, "nova"), TypeError, "services"),  # type: ignore[arg-type]
        ("discovery_sql", lambda: ffu.discovery_sql("oracle"), ValueError, "backend"),  # type: ignore[arg-type]
        ("index", lambda: plan["0"], TypeError, "index"),  # type: ignore[call-overload]
        ("from_dict object", lambda: ffu.Catalog.from_dict({"name": object()}), TypeError, "data"),
        ("from_dict nan", lambda: ffu.Plan.from_dict({"x": [float("nan")]}), ValueError, "data"),
        ("from_dict key", lambda: ffu.Catalog.from_dict({"x": {(1, 2): 1}}), TypeError, "data"),
        ("from_dict huge int", lambda: ffu.Catalog.from_dict({"x": 10**5000}), ValueError, "data"),
        ("inventory from_dict", lambda: ffu.Inventory.from_dict(openstack, "hosts"), TypeError, "data"),  # type: ignore[arg-type]
    ]


def test_every_bad_argument_is_an_ffu_error(tmp_path: Path) -> None:
    for what, call, builtin, argument in bad_arguments(tmp_path):
        with pytest.raises(ffu.FfuError) as info:
            call()
        err = info.value
        assert isinstance(err, builtin), (what, err)
        expected = ffu.ArgumentError if builtin is ValueError else ffu.ArgumentTypeError
        assert type(err) is expected, (what, err)
        assert err.argument == argument, (what, err)
        assert err.no_plan is False


def test_argument_messages_name_the_item(openstack: ffu.Catalog) -> None:
    with pytest.raises(ffu.ArgumentTypeError, match=r"^services\[1\] must be a str, not int$"):
        openstack.plan("newton", "ocata", services=["nova", 1])  # type: ignore[list-item]
    with pytest.raises(ffu.ArgumentTypeError, match=r"^state\[\"nova\"\]\[\"applied\"\]\[0\] must be a str, not int$"):
        openstack.plan("newton", "ocata", state={"nova": {"applied": [1]}})  # type: ignore[list-item]
    with pytest.raises(ffu.ArgumentError, match=r"^services has more than 1000000 items, the most ffu reads$"):
        openstack.plan("newton", "ocata", services=endless_names())
    with pytest.raises(ffu.ArgumentTypeError, match=r"^<dict>: steps\[0\]\.id: set values cannot be written as JSON$"):
        ffu.Plan.from_dict({"steps": [{"id": {1}}]})
    with pytest.raises(ffu.ArgumentTypeError, match=r"^<dict>: name: object values cannot be written as JSON$"):
        ffu.Catalog.from_dict({"name": object()})


#: Arguments that announce a length of 10**12 (PyO3's list conversion reserved room for
#: that many items and aborted the interpreter: "memory allocation of 24000000000000 bytes
#: failed"), given to each function that takes a list.
HUGE_ARGUMENTS = {
    "plan services": 'cat.plan("newton", "queens", services=range(10**12))',
    "plan_inventory services": 'cat.plan_inventory(inv, "queens", services=range(10**12))',
    "plan state list": 'cat.plan("newton", "queens", state={"nova": range(10**12)})',
    "plan state applied": 'cat.plan("newton", "queens", state={"nova": {"applied": range(10**12)}})',
    "plan_inventory state": 'cat.plan_inventory(inv, "queens", state={"nova": range(10**12)})',
    "discover services": 'ffu.discover(path, cat, range(10**12))',
    "plan state mapping": 'cat.plan("newton", "queens", state=Huge())',
    "inventory components": 'ffu.Inventory.from_dict(cat, {"format": "ffu-inventory/1", "hosts": [{"name": "a", "components": Huge()}]})',
}


@pytest.mark.parametrize("call", list(HUGE_ARGUMENTS.values()), ids=list(HUGE_ARGUMENTS))
def test_huge_arguments_raise_instead_of_aborting(tmp_path: Path, call: str) -> None:
    inventory = Path(__file__).resolve().parents[2] / "tests" / "data" / "inventory-pike.yaml"
    script = f"""
import collections.abc, sys
import ffu

class Huge(collections.abc.Mapping):
    # A mapping that says it holds 10**12 items and holds endless ones.
    def __len__(self): return 10**12
    def __getitem__(self, key): return "pike"
    def __iter__(self):
        n = 0
        while True:
            n += 1
            yield f"key-{{n}}"

cat = ffu.Catalog.openstack()
inv = ffu.Inventory.from_file(cat, {str(inventory)!r})
path = {str(tmp_path / "db.db")!r}
try:
    {call}
except ffu.FfuError as err:
    print(type(err).__name__, isinstance(err, (TypeError, ValueError)), err)
    sys.exit(0)
print("no error")
sys.exit(3)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    # A signal (SIGABRT) gives a negative status; the exception exits normally.
    assert result.returncode == 0, (result.returncode, result.stderr)
    name, builtin, message = result.stdout.split(" ", 2)
    assert name in {"ArgumentError", "ArgumentTypeError", "CatalogError"} and builtin == "True", result.stdout
    assert message.startswith(("services", "state", "hosts[0].components has more than 1000000 items")), result.stdout


# --- Documents nested too deeply: the documented error, never a RecursionError --------------


def test_deep_documents_are_documented_errors(tmp_path: Path, openstack: ffu.Catalog) -> None:
    deep = nested_dict(2000)
    with pytest.raises(ffu.CatalogError, match=r"^<dict>: a\.a\.a\.a\.a\.a\.a\.a\.\.\.: nested more than 128 levels deep") as catalog_error:
        ffu.Catalog.from_dict(deep)
    assert catalog_error.value.item == "a.a.a.a.a.a.a.a..." and catalog_error.value.file == "<dict>"
    with pytest.raises(ffu.CatalogError, match=r"^cloud\.yaml: releases\[0\]"):
        ffu.Catalog.from_dict({"releases": [nested_list(2000)]}, file="cloud.yaml")
    for call in (
        lambda: ffu.Plan.from_dict(deep),
        lambda: openstack.verify(deep),
        lambda: ffu.Journal(tmp_path / "journal.db", deep),
    ):
        with pytest.raises(ffu.PlanError, match="nested more than 128 levels deep") as plan_error:
            call()
        assert plan_error.value.file == "<dict>"
    # A reference cycle is as deep as it gets.
    cycle: dict[str, Any] = {}
    cycle["steps"] = [cycle]
    with pytest.raises(ffu.PlanError, match="nested more than 128 levels deep"):
        ffu.Plan.from_dict(cycle)
    with pytest.raises(ffu.ArgumentTypeError, match="^max_unavailable must be a count of hosts") as argument_error:
        openstack.plan("queens", "rocky", mode="rolling", max_unavailable=nested_list(2000))  # type: ignore[arg-type]
    assert argument_error.value.argument == "max_unavailable"
    # 128 levels (the dict and 127 lists) are read; 129 are not.
    with pytest.raises(ffu.PlanError, match="not a valid ffu-plan/1 document") as fine:
        ffu.Plan.from_dict({"x": nested_list(126)})
    assert "nested" not in str(fine.value)
    with pytest.raises(ffu.PlanError, match="nested more than 128 levels deep"):
        ffu.Plan.from_dict({"x": nested_list(127)})


def test_documents_that_would_write_gigabytes_are_refused() -> None:
    # A thousand references to one list of a thousand references to one long str: small in
    # memory, a gigabyte of JSON.
    shared = ["x" * 1000] * 1000
    with pytest.raises(ffu.CatalogError, match=r"^<dict>: the document is larger than 256 MiB as JSON, the most ffu reads$"):
        ffu.Catalog.from_dict({"releases": [shared] * 1000})


# --- Rolling SLURP upgrades: the control plane still goes release by release -------------


def test_skip_level_in_rolling_mode_keeps_every_release(openstack: ffu.Catalog) -> None:
    assert openstack.plan("2023.1", "2024.1", mode="rolling", skip_level=True).path == ["2023.1", "2023.2", "2024.1"]
    # Offline, the SLURP edge is taken; rolling without skip_level goes release by release.
    assert openstack.plan("2023.1", "2024.1", skip_level=True).path == ["2023.1", "2024.1"]
    assert openstack.plan("2023.1", "2024.1", mode="rolling").path == ["2023.1", "2023.2", "2024.1"]


# --- Attributes: each class has only those that apply ------------------------------------


#: Per class: the attributes some of its errors have, None until the error says.
OPTIONAL: dict[type[ffu.FfuError], set[str]] = {
    ffu.CatalogError: {"line", "column", "item", "cycle"},
    ffu.NoPathError: {"from_", "to", "release", "suggestions", "furthest", "migration", "inventory"},
    ffu.PlanError: {"file", "hop", "cycle", "facts", "migration", "needs", "service"},
    ffu.DatabaseError: set(),
    ffu.JournalError: {"journal_checksum", "plan_checksum", "owner", "expires_in_s", "step"},
    ffu.ArgumentError: set(),
    ffu.ArgumentTypeError: set(),
}


def class_attributes(cls: type) -> set[str]:
    """The public attributes the class bodies from ``cls`` up to FfuError set, but ``no_plan``."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, ffu.FfuError):
            names |= {name for name in vars(klass) if not name.startswith("_")}
    return names - {"no_plan"}


def test_classes_declare_only_the_attributes_that_apply() -> None:
    assert class_attributes(ffu.FfuError) == set()
    for cls, optional in OPTIONAL.items():
        assert class_attributes(cls) == optional, cls
        assert all(getattr(cls, name) is None for name in optional), cls


def test_attributes_every_error_of_a_class_has_are_set(tmp_path: Path, tiny: ffu.Catalog) -> None:
    """``file`` of a CatalogError, ``target`` of a DatabaseError or JournalError,
    ``argument`` of an ArgumentError: always there, never None."""
    with pytest.raises(ffu.CatalogError) as catalog_error:
        ffu.Catalog.from_yaml("format: [", file="x.yaml")
    assert catalog_error.value.file == "x.yaml"
    with pytest.raises(ffu.DatabaseError) as database_error:
        ffu.Journal(tmp_path, tiny.plan("a", "b"))  # a directory
    assert database_error.value.target == str(tmp_path)
    journal = tmp_path / "journal.db"
    ffu.Journal(journal, tiny.plan("a", "c")).status()
    with pytest.raises(ffu.JournalError) as journal_error:
        ffu.Journal(journal, tiny.plan("a", "b")).status()
    err = journal_error.value
    assert err.target == str(journal)
    assert err.journal_checksum is not None and err.plan_checksum is not None
    assert (err.owner, err.expires_in_s, err.step) == (None, None, None)
    with pytest.raises(ffu.ArgumentError) as argument_error:
        tiny.plan("a", "b", mode="online")  # type: ignore[arg-type]
    assert argument_error.value.argument == "mode"


def test_an_inventory_with_nothing_to_upgrade(openstack: ffu.Catalog) -> None:
    """Only data plane components run: no release to start from. The inventory is named
    (it was a made-up release name, ``<no upgraded component in ...>``, before)."""
    yaml = "format: ffu-inventory/1\nhosts:\n  - {name: cmp-1, components: {ovs-vswitchd: pike}}\n"
    inventory = ffu.Inventory.from_yaml(openstack, yaml, file="dataplane.yaml")
    with pytest.raises(ffu.NoPathError, match="^nothing to upgrade: no host of dataplane.yaml runs a component") as info:
        openstack.plan_inventory(inventory, "queens")
    err = info.value
    assert err.inventory == "dataplane.yaml"
    assert err.no_plan is True
    assert (err.release, err.suggestions, err.from_, err.furthest, err.migration) == (None,) * 5


def test_an_inventory_past_the_target_is_a_downgrade(openstack: ffu.Catalog) -> None:
    """A component already past the target: named with its host, the release and the
    target as data."""
    yaml = (
        "format: ffu-inventory/1\nhosts:\n"
        "  - {name: ctl-1, components: {nova-api: pike}}\n"
        "  - {name: ctl-2, components: {nova-api: rocky}}\n"
    )
    inventory = ffu.Inventory.from_yaml(openstack, yaml, file="ahead.yaml")
    message = "^nova-api on ctl-2 \\(ahead.yaml\\) already runs rocky, after the target queens: downgrades are not supported$"
    with pytest.raises(ffu.NoPathError, match=message) as info:
        openstack.plan_inventory(inventory, "queens")
    err = info.value
    assert (err.inventory, err.release, err.to, err.no_plan) == ("ahead.yaml", "rocky", "queens", True)


def test_unknown_release_without_from_has_no_from(tiny: ffu.Catalog) -> None:
    """A plan that starts where the databases stand has no ``from_``: None, not ``""``."""
    with pytest.raises(ffu.NoPathError) as info:
        tiny.plan(None, "zzz", state={"alpha": {"applied": ["alpha.b.sync"]}})
    assert (info.value.from_, info.value.to, info.value.release) == (None, "zzz", "zzz")


def test_database_error_has_the_driver_exception_as_cause(tmp_path: Path, tiny: ffu.Catalog) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database " * 100)
    conn = sqlite3.connect(garbage)
    try:
        with pytest.raises(ffu.DatabaseError) as info:
            ffu.discover(conn, tiny, ["alpha"])
    finally:
        conn.close()
    err = info.value
    assert err.target == "sqlite3 connection (sqlite)"
    assert isinstance(err.__cause__, sqlite3.DatabaseError)
    assert str(err) == f"sqlite3 connection (sqlite): database error: DatabaseError: {err.__cause__}"
    # Through the embedded SQLite the driver is Rust's: its text is in the message only.
    with pytest.raises(ffu.DatabaseError) as embedded:
        ffu.discover(garbage, tiny, ["alpha"])
    assert embedded.value.target == str(garbage)
    assert str(embedded.value) == f"{garbage}: database error: file is not a database"
    assert embedded.value.__cause__ is None


def test_an_unreadable_include_has_the_os_error_as_cause(tmp_path: Path) -> None:
    root = tmp_path / "root.yaml"
    root.write_text("format: ffu-catalog/1\nname: t\nreleases: [{name: a}]\ninclude: [missing.yaml]\nservices: []\n")
    with pytest.raises(ffu.CatalogError, match="cannot read") as info:
        ffu.Catalog.from_file(root)
    assert info.value.item == 'include "missing.yaml"'
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_errors_without_their_optional_attributes_pickle() -> None:
    """Attributes set on the instance pickle with it; defaults stay on the class."""
    with pytest.raises(ffu.PlanError) as info:
        ffu.Plan.from_json("{}", file="p.json")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.file, copy.no_plan, copy.hop) == ("p.json", False, None)
    assert "hop" not in vars(copy)
