"""`ffu schema catalog|inventory|plan`, judged by the `jsonschema` package: the repository's
real catalogs, inventories and plans pass, and documents ffu refuses (a misspelt field, an
unknown kind, a missing field) fail the schema too."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TINY, run_ffu

import ffu

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

DATA = ROOT / "tests" / "data"
CATALOGS = [ROOT / "ffu-core" / "catalog" / "openstack.yaml", DATA / "small.yaml", DATA / "alembic-test.yaml",
            DATA / "rolling-tasks.yaml"]
INVENTORIES = [DATA / "inventory-pike.yaml", DATA / "inventory-mixed.yaml",
               *sorted((ROOT / "fuzz" / "corpus" / "inventory").glob("seed-*.yaml"))]


class _Loader(yaml.SafeLoader):
    """YAML as ffu reads it (YAML 1.2): `2016-10-06` is a string, not a date, and `on:` (a
    task's hosts) a string, not a boolean; only true and false are booleans."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader


def validator(document: str) -> Any:
    result = run_ffu("schema", document)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(check: Any, document: Any) -> list[str]:
    return [error.message for error in check.iter_errors(document)]


def test_the_repositorys_catalogs_pass_and_bad_ones_fail() -> None:
    check = validator("catalog")
    for path in CATALOGS:
        assert errors(check, load(path)) == [], path
    assert errors(check, yaml.safe_load(TINY)) == []
    good = load(DATA / "small.yaml")
    bad_documents = []
    misspelt = copy.deepcopy(good)
    misspelt["services"][0]["componets"] = misspelt["services"][0].pop("components")
    bad_documents.append(misspelt)
    kind = copy.deepcopy(good)
    kind["migrations"][0]["kind"] = "mgirate"
    bad_documents.append(kind)
    missing = copy.deepcopy(good)
    del missing["migrations"][0]["command"]
    bad_documents.append(missing)
    role = copy.deepcopy(good)
    role["services"][0]["components"][0]["role"] = "controller"
    bad_documents.append(role)
    for bad in bad_documents:
        assert errors(check, bad), bad
        with pytest.raises(ffu.CatalogError):  # and ffu refuses it as well
            ffu.Catalog.from_dict(bad)
    extras = copy.deepcopy(good)
    extras["services"][0]["x-deploy"] = {"group": "identity"}
    assert errors(check, extras) == []


def test_inventories_pass_and_a_misspelt_field_fails() -> None:
    check = validator("inventory")
    assert INVENTORIES[2:], "the fuzz corpus's seed inventories"
    for path in INVENTORIES:
        assert errors(check, load(path)) == [], path
    bad = load(DATA / "inventory-pike.yaml")
    bad["hosts"][0]["component"] = bad["hosts"][0].pop("components")
    assert errors(check, bad)
    with pytest.raises(ffu.CatalogError):
        ffu.Inventory.from_dict(ffu.Catalog.openstack(), bad)


def test_real_plans_pass_and_bad_ones_fail(openstack: ffu.Catalog) -> None:
    check = validator("plan")
    inventory = ffu.Inventory.from_file(openstack, DATA / "inventory-pike.yaml")
    small = ffu.Catalog.from_file(DATA / "small.yaml")
    plans = [
        openstack.plan("newton", "queens"),
        openstack.plan("2023.1", "2025.1", skip_level=True, repo_command="tripleo-repos -b {release} current"),
        openstack.plan_inventory(inventory, "queens"),
        openstack.plan_inventory(inventory, "queens", mode="rolling", max_unavailable="25%"),
        small.plan("r1", "r4"),
    ]
    for plan in plans:
        assert errors(check, json.loads(plan.to_json())) == [], plan
    good = json.loads(plans[0].to_json())
    for change in ({"stepz": []}, {"format": "ffu-plan/2"}):
        assert errors(check, {**good, **change})
    bad_step = copy.deepcopy(good)
    bad_step["steps"][0]["kind"] = "teleport"
    assert errors(check, bad_step)
    with pytest.raises(ffu.PlanError):
        ffu.Plan.from_dict(bad_step)
