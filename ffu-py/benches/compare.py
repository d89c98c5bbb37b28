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
    kind phase expand < migrate < data < contract, catalog index), and around the migrations
    put the stops, backups, installs, configuration changes, temporary starts, readiness
    checks, starts and postchecks of ffu's offline rules, each with ffu's reason; write
    ``ffu-plan/1`` JSON; best of ``--nx-runs``.

The three take turns (a, b, a, b, c, ...; (c)'s runs spread over the rounds), so that the
VM's drift in speed, which is large, falls on all of them alike. It prints the three
figures (best and median), the ratios of the best, whether the targets hold ((b) within
1.3 times (a), (b) at least 30 times faster than (c)), and checks that (b) and (c) write
the same plan, byte for byte, so that the comparison is between equal work (it exits 1 if
they differ).

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
#
# ffu's offline rules (ffu-core/src/planner/offline.rs) written the plain Python way, with
# networkx for the graphs: it writes the same ffu-plan/1 document as ffu, byte for byte,
# which main() checks, so that (b) and (c) are timed on exactly the same work.

KIND_WORDS = {
    "expand": " schema expand for ",
    "migrate": " schema for ",
    "contract": " schema contract for ",
    "data": " data migration for ",
}


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


def step(hop: int, kind: str, step_id: str, reason: str, **fields: Any) -> dict[str, Any]:
    """A step with ffu's fields in ffu's order."""
    base: dict[str, Any] = {
        "id": step_id, "hop": hop, "kind": kind, "service": None, "component": None,
        "release": None, "migration": None, "command": None, "requires": [], "reason": reason,
        "rollback_point": False,
    }
    base.update(fields)
    return base


def describe_config_change(change: dict[str, Any]) -> str:
    option = change.get("from") or "?"
    if change["action"] == "rename":
        return f"rename option {option} to {change.get('to') or '?'}"
    if change["action"] == "remove":
        return f"remove option {option}"
    return f"default of {option} becomes {change.get('value') or '?'}"


def networkx_plan(path: Path, first: str, last: str) -> str:
    """The offline plan from `first` to `last` as ffu-plan/1 JSON, in pure Python."""
    catalog = json.loads(path.read_text(encoding="utf-8"))
    releases = [release["name"] for release in catalog["releases"]]
    release_index = {name: n for n, name in enumerate(releases)}
    for n, release in enumerate(catalog["releases"]):
        release_index.update((alias, n) for alias in release.get("aliases", []))
    start, end = release_index[first], release_index[last]
    hops = [(releases[n], releases[n + 1]) for n in range(start, end)]
    services = {service["name"]: service for service in catalog["services"]}

    def exists(item: dict[str, Any], release: int) -> bool:
        """Whether a service or component exists at a release (`since` and `until`)."""
        since, until = item.get("since"), item.get("until")
        return (since is None or release_index[since] <= release) and (
            until is None or release <= release_index[until]
        )

    version_at = {
        name: {release_index[r]: v for r, v in service.get("versions", {}).items()}
        for name, service in services.items()
    }
    order = service_order(catalog["services"])
    rank = {name: n for n, name in enumerate(order)}
    after = {name: service.get("after", []) for name, service in services.items()}
    service_of_component = {c["name"]: s["name"] for s in catalog["services"] for c in s["components"]}
    catalog_index = {m["id"]: n for n, m in enumerate(catalog["migrations"])}
    per_hop: list[list[dict[str, Any]]] = [[] for _ in hops]
    hop_of: dict[str, int] = {}
    for migration in catalog["migrations"]:
        index = release_index[migration["release"]]
        if start < index <= end:
            per_hop[index - start - 1].append(migration)
            hop_of[migration["id"]] = index - start - 1

    def components(service: str, role: str, release: int) -> list[str]:
        return [c["name"] for c in services[service]["components"]
                if c["role"] == role and exists(c, release)]

    steps: list[dict[str, Any]] = []
    # Hop 0: stop agents and control planes, consumers first.
    for service in reversed(order):
        if not exists(services[service], start):
            continue
        for component in components(service, "agent", start):
            steps.append(step(0, "stop", f"h0.stop.{component}",
                              f"stop {component} ({service} agent) before the offline upgrade: agents come back at the target release, after the control plane",
                              service=service, component=component, release=first))
        for component in components(service, "control", start):
            steps.append(step(0, "stop", f"h0.stop.{component}",
                              f"stop {component} ({service} control plane) so that its schema migrations run offline; consumers stop first (reverse service order)",
                              service=service, component=component, release=first))

    for hop, ((hop_from, hop_to), migrations) in enumerate(zip(hops, per_hop)):
        end_index = start + hop + 1
        is_last = hop == len(hops) - 1
        with_migrations = {m["service"] for m in migrations}
        taking_part = [s for s in order if exists(services[s], end_index) or s in with_migrations]
        in_hop = set(taking_part)
        ordered = order_hop(migrations, rank, release_index, catalog_index, after)
        # A backup before any migration that cannot be undone.
        needs_backup = {m["service"] for m in migrations
                        if m["kind"] == "contract" or not m.get("reversible", False)}
        for service in taking_part:
            if service in needs_backup:
                # A database is a name, or {name, since, until}: only those that exist at
                # the release backed up.
                databases = [d if isinstance(d, str) else d["name"]
                             for d in services[service].get("databases", [])
                             if isinstance(d, str) or exists(d, end_index - 1)]
                command = (f"mysqldump --single-transaction --databases {' '.join(databases)} > {service}-{hop_from}.sql"
                           if databases else None)
                steps.append(step(hop, "backup", f"h{hop}.backup.{service}",
                                  f"rollback point: back up {service}'s databases at {hop_from}; its {hop_to} migrations cannot be undone (no database downgrade: restore from backup is the only way back)",
                                  service=service, release=hop_from, command=command, rollback_point=True))
        for service in taking_part:
            if not exists(services[service], end_index):
                continue
            version = f" {version_at[service][end_index]}" if end_index in version_at[service] else ""
            reason = (f"install {service}{version} ({hop_to}), the target release, on every host" if is_last
                      else f"install {service}{version} ({hop_to}) code to run its migrations; it is not started at this release")
            steps.append(step(hop, "install", f"h{hop}.install.{service}", reason, service=service, release=hop_to))
        count = 0
        for change in catalog.get("config_changes", []):
            if change["service"] in in_hop and start + hop < release_index[change["release"]] <= end_index:
                release = releases[release_index[change["release"]]]
                steps.append(step(hop, "config", f"h{hop}.config.{change['service']}.{count}",
                                  f"{change['service']} configuration for {release}: {describe_config_change(change)}",
                                  service=change["service"], release=release))
                count += 1
        # The migrations, each component a migration needs running started just before it
        # and stopped once the next migration no longer needs it.
        running: list[str] = []
        for position, migration in enumerate(ordered):
            mid, service = migration["id"], migration["service"]
            for component in migration.get("needs_running", []):
                if component not in running:
                    running.append(component)
                    steps.append(step(hop, "start", f"h{hop}.start.{component}.for.{mid}",
                                      f"start {component} at {hop_to} for a while: {mid} needs it running",
                                      service=service_of_component[component], component=component, release=hop_to))
            release = releases[release_index[migration["release"]]]  # the name, not an alias
            reason = f"{service}{KIND_WORDS[migration['kind']]}{release}"
            if migration["kind"] == "data" and migration.get("blocking", True):
                reason += f"; blocking: must finish before {service}'s later schema migrations"
            earlier = [s for s in after[service] if s in in_hop]
            if earlier:
                reason += f"; after {', '.join(earlier)} (service order)"
            required = migration.get("requires", [])
            requires = [f"h{hop_of[r]}.{r}" for r in required if r in hop_of]
            if requires:
                reason += f"; requires {', '.join(required)}"
            if migration.get("needs_running"):
                reason += f"; needs {', '.join(migration['needs_running'])} running"
            steps.append(step(hop, migration["kind"], f"h{hop}.{mid}", reason, service=service,
                              release=release, migration=mid, command=migration["command"],
                              requires=requires))
            next_needs = ordered[position + 1].get("needs_running", []) if position + 1 < len(ordered) else []
            index = 0
            while index < len(running):
                component = running[index]
                if component in next_needs:
                    index += 1
                    continue
                running[index] = running[-1]  # ffu's swap_remove, which fixes the stops' order
                running.pop()
                steps.append(step(hop, "stop", f"h{hop}.stop.{component}.after.{mid}",
                                  f"stop {component} again: the migrations that needed it running are done",
                                  service=service_of_component[component], component=component, release=hop_to))

    # The last hop: each service's readiness check and starts in service order, then the
    # checks that everything runs the target release.
    last_hop = len(hops) - 1
    for service in order:
        if not exists(services[service], end):
            continue
        check = services[service].get("upgrade_check")
        since = services[service].get("upgrade_check_since")
        if check is not None and (since is None or release_index[since] <= end):
            steps.append(step(last_hop, "precheck", f"h{last_hop}.precheck.{service}",
                              f"{service} readiness check at {last} before its services start",
                              service=service, release=last, command=check))
        note = f"; after {', '.join(after[service])} (service order)" if after[service] else ""
        for role, what in (("control", "control plane"), ("agent", "agent, after its control plane")):
            for component in components(service, role, end):
                steps.append(step(last_hop, "start", f"h{last_hop}.start.{component}",
                                  f"start {component} ({service} {what}) at the target release {last}{note}",
                                  service=service, component=component, release=last))
    for service in order:
        if exists(services[service], end):
            steps.append(step(last_hop, "postcheck", f"h{last_hop}.postcheck.{service}",
                              f"confirm every {service} component runs {last} and reports up",
                              service=service, release=last))
    plan = {
        "format": "ffu-plan/1", "catalog": catalog["name"], "from": first, "to": last,
        "policy": {"mode": "offline", "skip_level": False, "keep_dataplane": True, "services": None},
        "path": releases[start:end + 1],
        "hops": [{"from": a, "to": b, "skip": False, "releases": [b]} for a, b in hops],
        "steps": steps,
    }
    # Compact and unescaped, as ffu writes it.
    return json.dumps(plan, separators=(",", ":"), ensure_ascii=False)


# --- the comparison ----------------------------------------------------------------------


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
    same = from_bindings == from_networkx
    steps_b, steps_c = len(json.loads(from_bindings)["steps"]), len(json.loads(from_networkx)["steps"])

    runs = (args.runs, args.runs, len(timers[2].times))
    print(f"(a) Rust CLI, whole process        {cli * 1000:9.1f} ms  (best of {runs[0]}; median {medians[0]:.1f})")
    print(f"(b) Python bindings, in process    {bindings * 1000:9.1f} ms  (best of {runs[1]}; median {medians[1]:.1f};"
          f" {steps_b} steps)")
    print(f"(c) pure Python with networkx      {nx_time * 1000:9.1f} ms  (best of {runs[2]}; median {medians[2]:.1f};"
          f" {steps_c} steps)")
    print(f"(b) / (a) = {bindings / cli:.2f}   target <= 1.3: {'met' if bindings <= 1.3 * cli else 'MISSED'}")
    print(f"(c) / (b) = {nx_time / bindings:.1f}   target >= 30: {'met' if nx_time >= 30 * bindings else 'MISSED'}")
    print(f"(b) and (c) write the same plan, byte for byte: {'yes' if same else 'NO'}"
          f" ({len(from_bindings)} bytes)")
    if not same:
        pairs = zip(json.loads(from_bindings)["steps"], json.loads(from_networkx)["steps"])
        difference = next((n for n, (x, y) in enumerate(pairs) if x != y), min(steps_b, steps_c))
        print(f"  first difference at step {difference}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
