"""Round trips through dicts and JSON, determinism, and plans from several threads at once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import ffu

REQUESTS = [
    ("newton", "queens", False),
    ("newton", "2026.2", False),
    ("2023.1", "2026.1", True),
    ("rocky", "zed", False),
]


@pytest.mark.parametrize(("from_", "to", "skip_level"), REQUESTS)
def test_plan_to_dict_verifies(openstack: ffu.Catalog, from_: str, to: str, skip_level: bool) -> None:
    plan = openstack.plan(from_, to, skip_level=skip_level)
    assert openstack.verify(plan) == []
    assert openstack.verify(plan.to_dict()) == []
    assert openstack.verify(json.loads(plan.to_json())) == []
    assert ffu.Plan.from_dict(plan.to_dict()) == plan
    assert ffu.Plan.from_json(plan.to_json()).to_json() == plan.to_json()


@pytest.mark.parametrize(("from_", "to", "skip_level"), REQUESTS)
def test_a_made_plan_is_its_document_whatever_is_asked_first(
    openstack: ffu.Catalog, from_: str, to: str, skip_level: bool
) -> None:
    # Catalog.plan keeps its migration steps unbuilt until they are wanted; a plan read
    # from its document has them all. Each question, asked first of a fresh plan, must
    # get the answer the read plan gives.
    read = ffu.Plan.from_json(openstack.plan(from_, to, skip_level=skip_level).to_json())
    questions = {
        "len": len,
        "repr": repr,
        "steps": lambda plan: [step.to_dict() for step in plan.steps],
        "iteration": lambda plan: [step.id for step in plan],
        "index": lambda plan: (plan[0].to_dict(), plan[-1].to_dict(), [s.id for s in plan[::7]]),
        "to_dict": lambda plan: plan.to_dict(),
        "to_text": lambda plan: plan.to_text(openstack),
        "to_dot": lambda plan: plan.to_dot(),
        "hops": lambda plan: [hop.to_dict() for hop in plan.hops],
        "equality": lambda plan: (plan == read, plan != read),
    }
    for name, question in questions.items():
        made = openstack.plan(from_, to, skip_level=skip_level)
        assert question(made) == question(read), name
        assert made.to_json() == read.to_json(), name


def test_a_made_plan_builds_its_steps_once_for_many_threads(openstack: ffu.Catalog) -> None:
    plan = openstack.plan("newton", "2026.2")
    expected = [step.to_dict() for step in ffu.Plan.from_json(plan.to_json())]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: [step.to_dict() for step in plan.steps], range(8)))
    assert all(result == expected for result in results)


def test_tiny_catalog_round_trip(tiny: ffu.Catalog) -> None:
    plan = tiny.plan("a", "c")
    assert plan.path == ["a", "b", "c"]
    assert tiny.verify(plan.to_dict()) == []
    migrations = [step.migration for step in plan if step.migration]
    # Service order: alpha's migrations come before beta's in each hop.
    assert migrations == ["alpha.b.sync", "beta.b.sync", "alpha.c.sync", "beta.c.sync"]


def test_broken_dict_is_caught_by_verify(openstack: ffu.Catalog) -> None:
    document = openstack.plan("newton", "queens").to_dict()
    steps = document["steps"]
    # Move the first migration that requires another before what it requires.
    index = next(i for i, step in enumerate(steps) if step["requires"])
    required = next(i for i, step in enumerate(steps) if step["id"] == steps[index]["requires"][0])
    steps.insert(required, steps.pop(index))
    rules = {violation.rule for violation in openstack.verify(document)}
    assert "V3" in rules


def test_same_request_gives_the_same_bytes(openstack: ffu.Catalog) -> None:
    first = openstack.plan("newton", "2026.2").to_json()
    second = openstack.plan("newton", "2026.2").to_json()
    assert first == second
    reloaded = ffu.Catalog.from_json(openstack.to_json())
    assert reloaded.plan("newton", "2026.2").to_json() == first


def test_plans_from_eight_threads_at_once(openstack: ffu.Catalog) -> None:
    expected = {request: openstack.plan(request[0], request[1], skip_level=request[2]).to_json() for request in REQUESTS}
    jobs = [REQUESTS[n % len(REQUESTS)] for n in range(32)]

    def plan(request: tuple[str, str, bool]) -> tuple[tuple[str, str, bool], str]:
        made = openstack.plan(request[0], request[1], skip_level=request[2])
        assert openstack.verify(made) == []
        return request, made.to_json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(plan, jobs))
    assert len(results) == len(jobs)
    for request, text in results:
        assert text == expected[request]


def test_catalogs_load_in_threads_too() -> None:
    text = ffu.Catalog.openstack().to_json()
    with ThreadPoolExecutor(max_workers=8) as pool:
        catalogs = list(pool.map(lambda _: ffu.Catalog.from_json(text), range(8)))
    plans = {catalog.plan("newton", "ocata").to_json() for catalog in catalogs}
    assert len(plans) == 1
