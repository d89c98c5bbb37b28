"""Every exception class, what raises it, and its structured attributes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from conftest import TINY, TINY_HEAD

import ffu


def test_hierarchy() -> None:
    assert issubclass(ffu.FfuError, Exception)
    for cls in (ffu.CatalogError, ffu.NoPathError, ffu.PlanError):
        assert issubclass(cls, ffu.FfuError)
        assert cls.__module__ == "ffu"
    assert issubclass(ffu.CatalogError, ValueError)
    assert not issubclass(ffu.NoPathError, ValueError)
    assert not issubclass(ffu.PlanError, ValueError)


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


def test_unknown_service_in_policy(tiny: ffu.Catalog) -> None:
    with pytest.raises(ffu.PlanError, match='unknown service "gamma"') as info:
        tiny.plan("a", "c", services=["gamma"])
    assert info.value.service == "gamma"


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


def test_errors_pickle_with_their_attributes() -> None:
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Catalog.from_yaml(TINY_HEAD + "  - {id: x\n", file="p.yaml")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ffu.CatalogError
    assert str(copy) == str(info.value)
    assert (copy.file, copy.line, copy.column) == (info.value.file, info.value.line, info.value.column)
