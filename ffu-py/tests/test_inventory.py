"""`ffu.Inventory`, `Catalog.plan_inventory` and `Catalog.negotiate`."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_ffu

import ffu

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def catalog() -> ffu.Catalog:
    return ffu.Catalog.openstack()


def test_load_the_data_files(catalog: ffu.Catalog) -> None:
    pike = ffu.Inventory.from_file(catalog, DATA / "inventory-pike.yaml")
    mixed = ffu.Inventory.from_file(catalog, str(DATA / "inventory-mixed.yaml"))
    for inventory in (pike, mixed):
        assert len(inventory) == len(inventory.hosts) == 123
        assert inventory.hosts[:4] == ["ctl-1", "ctl-2", "ctl-3", "cmp-001"]
        assert inventory.hosts[-1] == "cmp-120"
    assert mixed.file == str(DATA / "inventory-mixed.yaml")
    assert repr(mixed) == f"<ffu.Inventory {DATA / 'inventory-mixed.yaml'}: 123 hosts>"


def test_from_yaml_and_json(catalog: ffu.Catalog) -> None:
    yaml = "format: ffu-inventory/1\nhosts:\n  - {name: 'ctl-[1:2]', components: {keystone-api: pike}}\n"
    inventory = ffu.Inventory.from_yaml(catalog, yaml)
    assert (inventory.hosts, inventory.file) == (["ctl-1", "ctl-2"], "<string>")
    document = {"format": "ffu-inventory/1", "hosts": [{"name": "ctl-1", "components": {"keystone-api": "pike"}}]}
    from_json = ffu.Inventory.from_json(catalog, json.dumps(document), file="inv.json")
    assert (from_json.hosts, from_json.file, len(from_json)) == (["ctl-1"], "inv.json", 1)


def test_negotiate_mixed(catalog: ffu.Catalog) -> None:
    mixed = ffu.Inventory.from_file(catalog, DATA / "inventory-mixed.yaml")
    negotiated = catalog.negotiate(mixed)
    assert list(negotiated) == ["neutron"]
    advertised = negotiated["neutron"]
    assert advertised == sorted(advertised)
    assert "binding" in advertised and "trunk" in advertised
    assert "binding-extended" not in advertised  # new in rocky: neither pike nor queens has it
    details = catalog.negotiate_details(mixed)
    assert details == {"neutron": {"advertised": advertised, "withheld": {}}}
    # The CLI's JSON is the same mapping.
    result = run_ffu("extensions", "--inventory", str(DATA / "inventory-mixed.yaml"), "--format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, negotiated)


def test_negotiate_withholds_what_an_old_server_lacks(catalog: ffu.Catalog) -> None:
    yaml = (
        "format: ffu-inventory/1\nhosts:\n"
        "  - {name: ctl-1, components: {neutron-server: rocky}}\n"
        "  - {name: ctl-2, components: {neutron-server: queens}}\n"
    )
    details = catalog.negotiate_details(ffu.Inventory.from_yaml(catalog, yaml))["neutron"]
    assert "binding-extended" not in details["advertised"]
    assert details["withheld"]["binding-extended"] == "a server runs queens, which does not support it"


def test_plan_inventory_rolling_verifies(catalog: ffu.Catalog) -> None:
    mixed = ffu.Inventory.from_file(catalog, DATA / "inventory-mixed.yaml")
    plan = catalog.plan_inventory(mixed, "queens", mode="rolling", max_unavailable="10%")
    assert (plan.from_, plan.to) == ("pike", "queens")
    assert any(step.host == "cmp-120" for step in plan)
    assert catalog.verify(plan) == []
    offline = catalog.plan_inventory(mixed, "queens")
    assert catalog.verify(offline) == []


def test_bad_inventory_is_a_catalog_error(catalog: ffu.Catalog) -> None:
    yaml = "format: ffu-inventory/1\nhosts:\n  - name: ctl-1\n    components: {keystone-apy: pike}\n"
    with pytest.raises(ffu.CatalogError) as raised:
        ffu.Inventory.from_yaml(catalog, yaml, file="bad.yaml")
    assert raised.value.file == "bad.yaml"
    assert raised.value.line is not None
    assert isinstance(raised.value, ValueError)


def test_inventory_of_another_catalog_is_refused(catalog: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_file(catalog, DATA / "inventory-pike.yaml")
    with pytest.raises(ValueError, match="another catalog") as info:
        ffu.Catalog.openstack().negotiate(inventory)
    assert isinstance(info.value, ffu.ArgumentError) and info.value.argument == "inventory"


def test_from_dict_is_the_document_as_data(catalog: ffu.Catalog) -> None:
    import yaml

    for name in ("inventory-pike.yaml", "inventory-mixed.yaml"):
        text = (DATA / name).read_text(encoding="utf-8")
        from_dict = ffu.Inventory.from_dict(catalog, yaml.safe_load(text))
        from_yaml = ffu.Inventory.from_yaml(catalog, text)
        assert (from_dict.hosts, from_dict.file, len(from_dict)) == (from_yaml.hosts, "<dict>", len(from_yaml))
        mixed_plan = catalog.plan_inventory(from_dict, "queens")
        assert mixed_plan == catalog.plan_inventory(from_yaml, "queens")
    # Any mapping and sequence; a spare host without components; the caller's name.
    hosts = ({"name": "ctl-[1:2]", "components": {"keystone-api": "pike"}}, {"name": "spare", "components": None})
    inventory = ffu.Inventory.from_dict(catalog, {"format": "ffu-inventory/1", "hosts": hosts}, file="cmdb")
    assert (inventory.hosts, inventory.file) == (["ctl-1", "ctl-2", "spare"], "cmdb")
    assert repr(inventory) == "<ffu.Inventory cmdb: 3 hosts>"


def host_table(*hosts: dict[str, object]) -> dict[str, object]:
    return {"format": "ffu-inventory/1", "hosts": list(hosts)}


FINE = {"name": "ctl-1", "components": {"keystone-api": "pike", "nova-api": "pike"}}

#: Documents and the item (and message) their error names: a path in the data, never a line
#: and column of JSON text.
BAD_DICTS = [
    (host_table(FINE, FINE | {"name": "ctl-2"}, {"name": "ctl-3"}, {"name": "ctl-4", "components": {"keystone-api": "pike", "nova-apy": "pike"}}),
     "hosts[3].components.nova-apy", 'unknown component "nova-apy"'),
    (host_table({"name": "ctl-1", "components": {"nova-api": "pikee"}}),
     "hosts[0].components.nova-api", 'unknown release "pikee" for component nova-api'),
    (host_table({"name": "ctl-1", "components": {"nova-api": 12}}),
     "hosts[0].components.nova-api", "expected a release name (str), not int"),
    (host_table({"name": "ctl-1", "components": ["nova-api"]}),
     "hosts[0].components", "expected a map from component names to release names, not list"),
    (host_table(FINE, {"nmae": "ctl-2"}), "hosts[1].nmae", "unknown field `nmae`, expected `name` or `components`"),
    (host_table(FINE, {"components": {}}), "hosts[1]", "missing field `name`"),
    (host_table(FINE, {"name": 2}), "hosts[1].name", "expected a host name (str), not int"),
    (host_table(FINE, "ctl-2"), "hosts[1]", "expected a host (a dict with name and components), not str"),
    (host_table(FINE, {"name": " "}), "hosts[1].name", "a host needs a name"),
    (host_table(FINE, {"name": "cmp-[1:"}), "hosts[1].name", 'malformed host name: "[" without a "]" after it'),
    (host_table(FINE, FINE), "hosts[1].name", "duplicate host name, given twice by ctl-1"),
    (host_table(FINE, {"name": "cmp-[0:999999]"}), "hosts[1].name", "the inventory expands to more than 1000000 hosts"),
    (host_table(), "hosts", "an inventory needs at least one host"),
    ({"hosts": [FINE]}, "format", "missing `format: ffu-inventory/1`"),
    ({"format": "ffu-inventory/2", "hosts": [FINE]}, "format", 'unsupported format "ffu-inventory/2"; expected "ffu-inventory/1"'),
    (host_table(FINE) | {"owner": "ops"}, "owner", "unknown field `owner`, expected `format` or `hosts`"),
    ({"format": "ffu-inventory/1", "hosts": {"ctl-1": {}}}, "hosts", "expected a list of hosts, not dict"),
]


@pytest.mark.parametrize(("document", "item", "message"), BAD_DICTS, ids=[f"{item}: {message}" for _, item, message in BAD_DICTS])
def test_from_dict_errors_name_the_item(catalog: ffu.Catalog, document: dict[str, object], item: str, message: str) -> None:
    with pytest.raises(ffu.CatalogError) as info:
        ffu.Inventory.from_dict(catalog, document)
    err = info.value
    assert str(err) == f"<dict>: {item}: {message}"
    assert (err.file, err.item, err.line, err.column) == ("<dict>", item, None, None)
    assert isinstance(err, ValueError)


def test_from_dict_takes_a_dict(catalog: ffu.Catalog) -> None:
    with pytest.raises(ffu.ArgumentTypeError, match=r"^Inventory.from_dict\(\) takes a dict \(an ffu-inventory/1 document\), not list$"):
        ffu.Inventory.from_dict(catalog, [FINE])  # type: ignore[arg-type]
    with pytest.raises(ffu.CatalogError, match="^hosts.yaml: hosts\\[0\\]"):
        ffu.Inventory.from_dict(catalog, host_table({"name": 1}), file="hosts.yaml")


def test_cli_plan_needs_from_or_inventory() -> None:
    both = run_ffu("plan", "--from", "pike", "--inventory", str(DATA / "inventory-pike.yaml"), "--to", "queens")
    assert both.returncode == 2 and "cannot be used with" in both.stderr
    neither = run_ffu("plan", "--to", "queens")
    assert neither.returncode == 2 and "error:" in neither.stderr


def test_plan_inventory_from_a_database_state(catalog: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_file(catalog, DATA / "inventory-pike.yaml")
    full = catalog.plan_inventory(inventory, "rocky")
    plan = catalog.plan_inventory(inventory, "rocky", state={"keystone": ["keystone.queens.expand"]})
    assert plan.applied == ["keystone.queens.expand"]
    expected = [s.migration for s in full if s.migration and s.migration != "keystone.queens.expand"]
    assert [s.migration for s in plan if s.migration] == expected
    assert catalog.verify(plan) == []
    assert catalog.verify(plan.to_dict()) == []
    with pytest.raises(ffu.NoPathError) as ahead:
        catalog.plan_inventory(inventory, "rocky", state={"keystone": {"applied": ["keystone.stein.expand"]}})
    assert (ahead.value.migration, ahead.value.release, ahead.value.to) == ("keystone.stein.expand", "stein", "rocky")
    with pytest.raises(ffu.PlanError, match=r"bad database state: keystone: applied migration \"nope\" is not in the catalog"):
        catalog.plan_inventory(inventory, "rocky", state={"keystone": ["nope"]})
    with pytest.raises(TypeError, match="state must be a dict"):
        catalog.plan_inventory(inventory, "rocky", state=["keystone.queens.expand"])  # type: ignore[arg-type]
