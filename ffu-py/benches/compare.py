"""How fast is ffu from Python? Issue 3, item 7.

Times, on a big synthetic catalog (by default the 93,600-migration one: 40 releases x 200
services x 12 migrations, written by ``cargo run --release --example gen_catalog``), an
offline plan from the first release to the last, as JSON:

(a) the Rust CLI: ``ffu plan --catalog FILE --from FIRST --to LAST --format json > /dev/null``,
    the whole process, best of ``--runs``;
(b) the Python bindings: ``ffu.Catalog.from_file(FILE).plan(FIRST, LAST).to_json()`` in this
    process, best of ``--runs``;
(c) a straightforward pure-Python planner with networkx (below): load the JSON, build each
    hop's graph of migrations with ``networkx.DiGraph`` (``requires`` edges, each service's
    release and kind order, the service order from ``after``), order it with
    ``networkx.lexicographical_topological_sort`` keyed by (service rank, release index,
    kind phase expand < migrate < data < contract, catalog index), surround the migrations
    with stop/backup/install/start/postcheck steps and write ``ffu-plan/1`` JSON; best of
    ``--nx-runs``.

The three take turns (a, b, a, b, c, ...; (c)'s runs spread over the rounds), so that the
VM's drift in speed, which is large, falls on all of them alike. It prints the three
figures (best and median), the ratios of the best, whether the targets hold ((b) within
1.3 times (a), (b) at least 30 times faster than (c)), and checks that (b) and (c) run
the migrations in the same order, so that the comparison is between equal work.

Usage (from anywhere; needs the ffu package installed, and networkx)::

    python ffu-py/benches/compare.py [CATALOG.json] [--runs 5] [--nx-runs 3]

Without a catalog it generates the default one into target/bench-data/medium.json (as
benches/cli_speed.sh does). The Rust CLI is built with ``cargo build --release`` unless
``--ffu PATH`` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import ffu

ROOT = Path(__file__).resolve().parents[2]
KIND_PHASE = {"expand": 0, "migrate": 1, "data": 2, "contract": 3}
DEFAULT_SIZES = ("40", "200", "12")


class Timer:
    """The wall times of one piece of work, run a few times."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.work = work
        self.times: list[float] = []

    def run(self) -> None:
        start = time.perf_counter()
        self.work()
        self.times.append(time.perf_counter() - start)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        ordered = sorted(self.times)
        return ordered[len(ordered) // 2]


def interleaved(runs: int, nx_runs: int, cli: Timer, bindings: Timer, nx: Timer) -> None:
    """Runs (a) and (b) `runs` times and (c) `nx_runs` times, taking turns.

    The VM's speed drifts by up to a third within minutes; timing the three one after the
    other would compare a quiet minute with a busy one. Taking turns, with (c)'s runs
    spread evenly over the rounds, lets every figure see the same spells.
    """
    for round_ in range(runs):
        cli.run()
        bindings.run()
        if (round_ * nx_runs) // runs != ((round_ + 1) * nx_runs) // runs:
            nx.run()


def default_catalog() -> Path:
    data = ROOT / "target" / "bench-data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / "medium.json"
    if not path.is_file() or path.stat().st_size == 0:
        releases, services, migrations = DEFAULT_SIZES
        print(f"generating {path} ({releases} releases x {services} services x {migrations} migrations)...")
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "gen_catalog", "--",
             "--releases", releases, "--services", services, "--migrations", migrations, "--out", str(path)],
            cwd=ROOT,
            check=True,
        )
    return path


def rust_cli(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    subprocess.run(["cargo", "build", "--quiet", "--release", "--bin", "ffu"], cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "ffu"


# --- (c) the straightforward Python planner --------------------------------------------


def service_order(services: list[dict[str, Any]]) -> list[str]:
    """Services in a topological order of `after`, ties broken by catalog order."""
    import networkx as nx

    graph = nx.DiGraph()
    index = {service["name"]: n for n, service in enumerate(services)}
    graph.add_nodes_from(index)
    for service in services:
        for earlier in service.get("after", []):
            graph.add_edge(earlier, service["name"])
    return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))


def order_hop(
    migrations: list[dict[str, Any]],
    rank: dict[str, int],
    release_index: dict[str, int],
    catalog_index: dict[str, int],
    after: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """One hop's migrations in their safe order, by networkx."""
    import networkx as nx

    graph = nx.DiGraph()
    by_id = {m["id"]: m for m in migrations}
    graph.add_nodes_from(by_id)
    # Requires edges, within the hop.
    for migration in migrations:
        for required in migration.get("requires", []):
            if required in by_id:
                graph.add_edge(required, migration["id"])
    # Each service's release and kind order: every migration of a (release, phase) group
    # before every migration of the service's next group.
    groups: dict[str, dict[tuple[int, int], list[str]]] = {}
    for migration in migrations:
        key = (release_index[migration["release"]], KIND_PHASE[migration["kind"]])
        groups.setdefault(migration["service"], {}).setdefault(key, []).append(migration["id"])
    first_group: dict[str, list[str]] = {}
    last_group: dict[str, list[str]] = {}
    for service, by_group in groups.items():
        ordered = [by_group[key] for key in sorted(by_group)]
        for earlier, later in zip(ordered, ordered[1:]):
            graph.add_edges_from((a, b) for a in earlier for b in later)
        first_group[service], last_group[service] = ordered[0], ordered[-1]
    # Service order: all of an earlier service's migrations before any of a later one's
    # (through its last and the later service's first group, the groups being chained).
    for service in groups:
        for earlier in after.get(service, []):
            if earlier in groups:
                graph.add_edges_from((a, b) for a in last_group[earlier] for b in first_group[service])

    def key(node: str) -> tuple[int, int, int, int]:
        m = by_id[node]
        return (rank[m["service"]], release_index[m["release"]], KIND_PHASE[m["kind"]], catalog_index[node])

    return [by_id[node] for node in nx.lexicographical_topological_sort(graph, key=key)]


def step(hop: int, kind: str, step_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": step_id, "hop": hop, "kind": kind, "service": None, "component": None,
        "release": None, "migration": None, "command": None, "requires": [], "reason": "",
        "rollback_point": False,
    }
    base.update(fields)
    return base


def networkx_plan(path: Path, first: str, last: str) -> str:
    """The offline plan from `first` to `last` as ffu-plan/1 JSON, in pure Python."""
    catalog = json.loads(path.read_text(encoding="utf-8"))
    releases = [release["name"] for release in catalog["releases"]]
    release_index = {name: n for n, name in enumerate(releases)}
    start, end = release_index[first], release_index[last]
    hops = [(releases[n], releases[n + 1]) for n in range(start, end)]
    order = service_order(catalog["services"])
    rank = {name: n for n, name in enumerate(order)}
    after = {service["name"]: service.get("after", []) for service in catalog["services"]}
    components = {service["name"]: service.get("components", []) for service in catalog["services"]}
    catalog_index = {m["id"]: n for n, m in enumerate(catalog["migrations"])}
    per_hop: list[list[dict[str, Any]]] = [[] for _ in hops]
    for migration in catalog["migrations"]:
        index = release_index[migration["release"]]
        if start < index <= end:
            per_hop[index - start - 1].append(migration)

    steps: list[dict[str, Any]] = []
    for service in reversed(order):
        for component in components[service]:
            if component["role"] != "dataplane":
                steps.append(step(0, "stop", f"h0.stop.{component['name']}", service=service,
                                  component=component["name"], release=first,
                                  reason=f"stop {component['name']} before the offline upgrade"))
    for hop, ((hop_from, hop_to), migrations) in enumerate(zip(hops, per_hop)):
        taking_part = sorted({m["service"] for m in migrations}, key=rank.__getitem__)
        for service in taking_part:
            steps.append(step(hop, "backup", f"h{hop}.backup.{service}", service=service, release=hop_from,
                              rollback_point=True, reason=f"rollback point: back up {service} at {hop_from}"))
        for service in taking_part:
            steps.append(step(hop, "install", f"h{hop}.install.{service}", service=service, release=hop_to,
                              reason=f"install {service} ({hop_to}) code to run its migrations"))
        ordered = order_hop(migrations, rank, release_index, catalog_index, after)
        in_hop = {m["id"] for m in migrations}
        for migration in ordered:
            requires = [f"h{hop}.{r}" for r in migration.get("requires", []) if r in in_hop]
            steps.append(step(hop, migration["kind"], f"h{hop}.{migration['id']}", service=migration["service"],
                              release=migration["release"], migration=migration["id"],
                              command=migration["command"], requires=requires,
                              reason=f"{migration['service']} {migration['kind']} for {migration['release']}"))
    last_hop = len(hops) - 1
    for service in order:
        for component in components[service]:
            if component["role"] != "dataplane":
                steps.append(step(last_hop, "start", f"h{last_hop}.start.{component['name']}", service=service,
                                  component=component["name"], release=last,
                                  reason=f"start {component['name']} at the target release {last}"))
        steps.append(step(last_hop, "postcheck", f"h{last_hop}.postcheck.{service}", service=service, release=last,
                          reason=f"confirm every {service} component runs {last}"))
    plan = {
        "format": "ffu-plan/1", "catalog": catalog["name"], "from": first, "to": last,
        "policy": {"mode": "offline", "skip_level": False, "keep_dataplane": True, "services": None},
        "path": releases[start:end + 1],
        "hops": [{"from": a, "to": b, "skip": False, "releases": [b]} for a, b in hops],
        "steps": steps,
    }
    # Compact, as ffu writes it (the same work; indent=2 would cost only about 1% more).
    return json.dumps(plan, separators=(",", ":"))


# --- the comparison ----------------------------------------------------------------------


def migration_order(plan_json: str) -> list[str]:
    return [s["migration"] for s in json.loads(plan_json)["steps"] if s["migration"] is not None]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("catalog", nargs="?", help="catalog JSON (default: generate the 93,600-migration one)")
    parser.add_argument("--runs", type=int, default=5, help="runs of (a) and (b); the best counts")
    parser.add_argument("--nx-runs", type=int, default=3, help="runs of (c); the best counts")
    parser.add_argument("--ffu", metavar="PATH", help="the Rust ffu binary (default: build target/release/ffu)")
    args = parser.parse_args()

    path = Path(args.catalog).resolve() if args.catalog else default_catalog()
    binary = rust_cli(args.ffu)
    with path.open(encoding="utf-8") as source:
        document = json.load(source)
    first, last = document["releases"][0]["name"], document["releases"][-1]["name"]
    del document
    print(f"catalog {path} ({path.stat().st_size / 1e6:.1f} MB): plan {first} -> {last}, offline, JSON")

    command = [str(binary), "plan", "--catalog", str(path), "--from", first, "--to", last, "--format", "json"]

    def run_cli() -> None:
        with open(os.devnull, "wb") as devnull:
            subprocess.run(command, stdout=devnull, check=True)

    def run_bindings() -> str:
        return ffu.Catalog.from_file(path).plan(first, last).to_json()

    timers = Timer(run_cli), Timer(run_bindings), Timer(lambda: networkx_plan(path, first, last))
    interleaved(args.runs, min(args.nx_runs, args.runs), *timers)
    cli, bindings, nx_time = (timer.best for timer in timers)
    medians = [timer.median * 1000 for timer in timers]

    from_bindings = run_bindings()
    from_networkx = networkx_plan(path, first, last)
    rust_order, nx_order = migration_order(from_bindings), migration_order(from_networkx)
    same = rust_order == nx_order
    steps_b, steps_c = len(json.loads(from_bindings)["steps"]), len(json.loads(from_networkx)["steps"])

    runs = (args.runs, args.runs, len(timers[2].times))
    print(f"(a) Rust CLI, whole process        {cli * 1000:9.1f} ms  (best of {runs[0]}; median {medians[0]:.1f})")
    print(f"(b) Python bindings, in process    {bindings * 1000:9.1f} ms  (best of {runs[1]}; median {medians[1]:.1f};"
          f" {steps_b} steps)")
    print(f"(c) pure Python with networkx      {nx_time * 1000:9.1f} ms  (best of {runs[2]}; median {medians[2]:.1f};"
          f" {steps_c} steps)")
    print(f"(b) / (a) = {bindings / cli:.2f}   target <= 1.3: {'met' if bindings <= 1.3 * cli else 'MISSED'}")
    print(f"(c) / (b) = {nx_time / bindings:.1f}   target >= 30: {'met' if nx_time >= 30 * bindings else 'MISSED'}")
    print(f"same migration order in (b) and (c): {'yes' if same else 'NO'} ({len(rust_order)} migrations)")
    if not same:
        first_difference = next((n for n, (x, y) in enumerate(zip(rust_order, nx_order)) if x != y), None)
        print(f"  first difference at migration {first_difference}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
