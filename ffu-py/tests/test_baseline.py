"""The networkx planner of benches/compare.py, (c) of issue 3's speed comparison, orders
the migrations as ffu does (it predates the real-procedure steps around them, DESIGN §8).

The comparison times ffu against that planner on the same work; these tests keep the two
from drifting apart, and give ffu's offline planner a second, independent implementation
to agree with: the real OpenStack catalog between every two of its releases, and random
catalogs with the features the synthetic benchmark catalog lacks.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import networkx  # noqa: F401  (the test extra has it; the baseline needs it)
import pytest
from conftest import ROOT

import ffu

KINDS = ("expand", "migrate", "data", "contract")


def load_baseline() -> ModuleType:
    path = ROOT / "ffu-py" / "benches" / "compare.py"
    spec = importlib.util.spec_from_file_location("ffu_compare_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def migration_order(document: str) -> tuple[list[str], list[str]]:
    """The migration steps of a plan in order, as (those of the hops, those of converge),
    leaving out the starting release's own (run with the current code, DESIGN §8).

    The baseline implements the planner's ordering of migrations, not the real-procedure
    steps around them (phases, tasks, converge): what the two must agree on is the order of
    the migrations; ffu moves the target's data migrations to converge, so the baseline's
    order without them must be ffu's hops' order.
    """
    steps = [s for s in json.loads(document)["steps"] if s["kind"] in KINDS and s.get("code") != "current"]
    hops = [s["id"] for s in steps if s.get("phase", "migrations") != "converge"]
    converge = [s["id"] for s in steps if s.get("phase") == "converge"]
    return hops, converge


def agree(written: str, planned: str) -> bool:
    """Whether the baseline's plan `written` orders the migrations as ffu's `planned` does."""
    ours, converge = migration_order(planned)
    theirs, _ = migration_order(written)
    return [id for id in theirs if id not in converge] == ours and set(converge) <= set(theirs)


@pytest.fixture(scope="module")
def baseline() -> ModuleType:
    return load_baseline()


def test_the_openstack_catalog_between_every_two_releases(baseline: ModuleType, tmp_path: Path) -> None:
    catalog = ffu.Catalog.openstack()
    path = tmp_path / "openstack.json"
    # The per-revision migrations fold into the catalog's own steps (DESIGN §12), which the
    # baseline does not do: it plans the steps without them (their order is the same).
    document = json.loads(catalog.to_json())
    document["migrations"] = [m for m in document["migrations"] if "revision" not in m]
    path.write_text(json.dumps(document), encoding="utf-8")
    releases = [release["name"] for release in json.loads(path.read_text(encoding="utf-8"))["releases"]]
    pairs = [(a, b) for n, a in enumerate(releases) for b in releases[n + 1 :]]
    assert len(pairs) >= 100
    for first, last in pairs:
        assert agree(baseline.networkx_plan(path, first, last), catalog.plan(first, last).to_json()), (first, last)


def random_catalog(seed: int) -> dict[str, Any]:
    """A valid catalog with lifetimes, aliases, service order, temporary starts,
    irreversible and non-blocking migrations, readiness checks and configuration changes."""
    rng = random.Random(seed)
    count = rng.randint(3, 7)
    releases: list[dict[str, Any]] = [{"name": f"r{n}"} for n in range(count)]
    for release in releases[1:]:
        if rng.random() < 0.3:
            release["aliases"] = [f"alias-{release['name']}"]
    name_of = [release.get("aliases", [release["name"]])[0] for release in releases]
    index_of = {name: n for n, name in enumerate(name_of)}
    services: list[dict[str, Any]] = []
    lifetimes: list[tuple[int, int]] = []
    for n in range(rng.randint(2, 6)):
        since = rng.choice([0, 0, 0, rng.randrange(count)])
        until = rng.choice([count - 1, count - 1, rng.randrange(since, count)])
        service: dict[str, Any] = {"name": f"s{n}", "components": []}
        if since > 0:
            service["since"] = name_of[since]
        if until < count - 1:
            service["until"] = name_of[until]
        earlier = [s["name"] for s in services]
        if earlier:
            service["after"] = rng.sample(earlier, rng.randint(0, len(earlier)))
        for c in range(rng.randint(1, 3)):
            component: dict[str, Any] = {"name": f"s{n}-c{c}", "role": rng.choice(["control", "agent", "dataplane"])}
            if rng.random() < 0.2:
                component["since"] = name_of[rng.randint(since, until)]
            service["components"].append(component)
        if rng.random() < 0.7:
            databases: list[Any] = [f"s{n}db{d}" for d in range(rng.randint(1, 2))]
            # Sometimes a database that a later release brings (as nova_cell0 came with
            # ocata), or one that a release drops.
            if rng.random() < 0.4:
                lifetime: dict[str, Any] = {"name": f"s{n}db-late"}
                lifetime[rng.choice(["since", "until"])] = name_of[rng.randint(since, until)]
                databases.append(lifetime)
            service["databases"] = databases
        if rng.random() < 0.6:
            service["upgrade_check"] = f"s{n}-status upgrade check"
            if rng.random() < 0.4:
                service["upgrade_check_since"] = name_of[rng.randrange(count)]
        if rng.random() < 0.7:
            service["versions"] = {
                name_of[r]: f"{10 + r}.{rng.randint(0, 3)}.0" for r in range(since, until + 1) if rng.random() < 0.8
            }
        services.append(service)
        lifetimes.append((since, until))

    def exists(item: dict[str, Any], lifetime: tuple[int, int], release: int) -> bool:
        since = index_of[item["since"]] if "since" in item else lifetime[0]
        return lifetime[0] <= release <= lifetime[1] and since <= release

    migrations: list[dict[str, Any]] = []
    made: list[tuple[int, int, int, str]] = []  # (service, release, phase, id)
    for release in range(count):
        for n, service in enumerate(services):
            if not lifetimes[n][0] <= release <= lifetimes[n][1]:
                continue
            for m in range(rng.randint(0, 4)):
                kind = rng.choice(KINDS)
                phase = KINDS.index(kind)
                migration: dict[str, Any] = {
                    "id": f"{service['name']}.r{release}.m{m}",
                    "service": service["name"],
                    "release": name_of[release],
                    "kind": kind,
                    "command": f"{service['name']}-manage db {kind}",
                }
                # Requirements that can hold: earlier releases of any service, earlier
                # phases of the same service and release, or a service this one comes after.
                allowed = [
                    other_id
                    for (other_service, other_release, other_phase, other_id) in made
                    if other_release < release
                    or (other_service == n and other_release == release and other_phase <= phase)
                    or (other_release == release and services[other_service]["name"] in service.get("after", []))
                ]
                if allowed and rng.random() < 0.6:
                    migration["requires"] = rng.sample(allowed, rng.randint(1, min(3, len(allowed))))
                running = [
                    component["name"]
                    for other, other_service in enumerate(services)
                    if other != n
                    for component in other_service["components"]
                    if component["role"] != "dataplane" and exists(component, lifetimes[other], release)
                ]
                if running and rng.random() < 0.3:
                    migration["needs_running"] = rng.sample(running, rng.randint(1, min(2, len(running))))
                if rng.random() < 0.4:
                    migration["reversible"] = True
                if kind == "data" and rng.random() < 0.4:
                    migration["blocking"] = False
                migrations.append(migration)
                made.append((n, release, phase, migration["id"]))
    config_changes = []
    for _ in range(rng.randint(0, 4)):
        n = rng.randrange(len(services))
        action = rng.choice(["rename", "remove", "default"])
        change: dict[str, Any] = {
            "service": services[n]["name"],
            "release": name_of[rng.randint(*lifetimes[n])],
            "action": action,
            "from": "DEFAULT.option",
        }
        if action == "rename":
            change["to"] = "section.option"
        if action == "default":
            change["value"] = "true"
        config_changes.append(change)
    return {
        "format": "ffu-catalog/1",
        "name": f"random-{seed}",
        "releases": releases,
        "services": services,
        "migrations": migrations,
        "config_changes": config_changes,
    }


@pytest.mark.parametrize("seed", range(40))
def test_random_catalogs(baseline: ModuleType, tmp_path: Path, seed: int) -> None:
    document = random_catalog(seed)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    catalog = ffu.Catalog.from_file(path)
    names = [release["name"] for release in document["releases"]]
    rng = random.Random(seed)
    first = rng.randrange(len(names) - 1)
    for last in range(first + 1, len(names)):
        written = baseline.networkx_plan(path, names[first], names[last])
        assert agree(written, catalog.plan(names[first], names[last]).to_json()), (names[first], names[last])
