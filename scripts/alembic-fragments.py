#!/usr/bin/env python3
"""Generates the embedded catalog's per-revision migrations from the projects' own histories.

For each service (keystone, glance, cinder, placement, nova, neutron, heat, ironic) and each
release of the embedded catalog from --since (default 2023.1) on that names the service's
version, the newest wheel of that series on PyPI is downloaded (``pip download --no-deps``,
cached under target/alembic-wheels), its alembic script directories are unpacked and read by
``ffu import alembic`` (as text, never run), and every revision is written as a migration of
``ffu-core/catalog/revisions/SERVICE.json`` (DESIGN §12) with:

- its release: the first release whose wheel contains it (so the revisions that the first
  wheel read already has, the whole history before it, belong to that first release);
- its kind: expand or contract from the directory it sits in for keystone and neutron
  (``<release>/<expand|contract>/``; the initial revisions outside that layout run with the
  expand branch), migrate for the others, whose ``db sync`` applies everything at once;
- its requires: ``down_revision`` and ``depends_on``;
- the command of the catalog's own step it folds into (``keystone-manage db_sync --expand``,
  ``nova-manage api_db sync``, ...), and where the project's command can stop at a revision,
  ``command_to_revision``.

A ``histories`` entry names the span of releases read and the wheels. Rerun it to refresh the
fragments:

    cargo build --release --bin ffu && python3 scripts/alembic-fragments.py [SERVICE ...]

Needs python3 with pip, and PyPI. Only the standard library is used.

What is covered: the alembic histories only. nova's API and main databases moved from
sqlalchemy-migrate to alembic in Wallaby and Xena, cinder in Xena, heat in 2023.1, keystone
in Yoga, glance in Ocata, neutron, ironic and placement were alembic from the start; the
older sqlalchemy-migrate histories are not read (``ffu discover`` reports their
``migrate_version`` as ``legacy_version``). Releases before --since keep the catalog's
hand-written steps only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "ffu-core" / "catalog" / "revisions"

# The download and version helpers are those of the configuration generator.
_spec = importlib.util.spec_from_file_location("oslo_fragments", ROOT / "scripts" / "oslo-config-fragments.py")
assert _spec and _spec.loader
oslo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oslo)
oslo.CACHE = ROOT / "target" / "alembic-wheels"

#: Per service: its alembic script directories in the wheel, each with the catalog's command
#: per kind, the command that stops at a revision (or None), and whether its layout is
#: keystone's and neutron's ``<release>/<expand|contract>/`` directories.
HISTORIES: dict[str, list[dict]] = {
    "keystone": [{
        "dir": "keystone/common/sql/migrations/versions",
        "commands": {"expand": "keystone-manage db_sync --expand", "contract": "keystone-manage db_sync --contract"},
        "to_revision": None,
        "release_dirs": True,
    }],
    "glance": [{
        "dir": "glance/db/sqlalchemy/alembic_migrations/versions",
        "commands": {"migrate": "glance-manage db sync"},
        "to_revision": None,
        "release_dirs": False,
    }],
    "cinder": [{
        "dir": "cinder/db/migrations/versions",
        "commands": {"migrate": "cinder-manage db sync"},
        "to_revision": None,
        "release_dirs": False,
    }],
    "placement": [{
        "dir": "placement/db/sqlalchemy/alembic/versions",
        "commands": {"migrate": "placement-manage db sync"},
        "to_revision": None,
        "release_dirs": False,
    }],
    "nova": [
        {
            # nova/cmd/manage.py: `api_db sync [VERSION]`, an alembic revision unless digits.
            "dir": "nova/db/api/migrations/versions",
            "commands": {"migrate": "nova-manage api_db sync"},
            "to_revision": "nova-manage api_db sync {revision}",
            "release_dirs": False,
        },
        {
            "dir": "nova/db/main/migrations/versions",
            "commands": {"migrate": "nova-manage db sync"},
            "to_revision": "nova-manage db sync {revision}",
            "release_dirs": False,
        },
    ],
    "neutron": [{
        "dir": "neutron/db/migration/alembic_migrations/versions",
        "commands": {"expand": "neutron-db-manage upgrade --expand", "contract": "neutron-db-manage upgrade --contract"},
        # neutron/db/migration/cli.py: `upgrade REVISION` (DESIGN §12).
        "to_revision": "neutron-db-manage upgrade {revision}",
        "release_dirs": True,
    }],
    "heat": [{
        "dir": "heat/db/migrations/versions",
        "commands": {"migrate": "heat-manage db_sync"},
        "to_revision": None,
        "release_dirs": False,
    }],
    "ironic": [{
        "dir": "ironic/db/sqlalchemy/alembic/versions",
        "commands": {"migrate": "ironic-dbsync upgrade"},
        # ironic/cmd/dbsync.py: `upgrade --revision REVISION`.
        "to_revision": "ironic-dbsync upgrade --revision {revision}",
        "release_dirs": False,
    }],
}


def unpack(wheel: Path, directory: str, into: Path) -> Path | None:
    """Extracts the scripts under `directory` of `wheel` into `into`; None when it has none."""
    prefix = directory.rstrip("/") + "/"
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".py")]
        if not names:
            return None
        for name in names:
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
    return into / directory


def read(history: dict, service: str, release: str, scripts: Path) -> list[dict]:
    """The revisions of one script directory, in run order, via `ffu import alembic`."""
    args = ["import", "alembic", str(scripts), "--service", service, "--format", "json"]
    if not history["release_dirs"]:
        args += ["--release", release]
    run = oslo.ffu(*args)
    if run.returncode != 0:
        raise RuntimeError(run.stderr.strip())
    return json.loads(run.stdout)["migrations"]


def run_order(seen: list[str], first_seen: dict[str, tuple[str, dict, dict]]) -> list[str]:
    """The revisions in an order they can run: each after those it requires (Kahn's
    algorithm), ties broken by the order they were first read in."""
    position = {revision: index for index, revision in enumerate(seen)}
    by_id = {first_seen[r][1]["id"]: r for r in seen}
    needs = {r: {by_id[q] for q in first_seen[r][1].get("requires", []) if q in by_id} for r in seen}
    done: set[str] = set()
    out: list[str] = []
    while len(out) < len(seen):
        ready = [r for r in seen if r not in done and needs[r] <= done]
        if not ready:
            raise SystemExit("error: the revisions' requires form a cycle")
        step = min(ready, key=position.__getitem__)
        done.add(step)
        out.append(step)
    return out


def quoted(value: str) -> str:
    return json.dumps(value)


#: Release directories of neutron's layout older than the catalog's first release: their
#: revisions join that first release.
BEFORE_CATALOG = {"kilo", "liberty", "mitaka"}


def directory_release(name: str, catalog: dict) -> str | None:
    """The catalog release a ``<release>/`` directory of keystone's or neutron's layout
    names (by name or alias), the catalog's first release for the older ones, or None
    (keystone's ``2024.01``: the wheel decides)."""
    for release in catalog["releases"]:
        if name == release["name"] or name in release.get("aliases", []):
            return release["name"]
    return catalog["releases"][0]["name"] if name in BEFORE_CATALOG else None


def generate(service: str, catalog: dict, since: str) -> None:
    package = oslo.PACKAGES[service]
    spec = next(s for s in catalog["services"] if s["name"] == service)
    names = [r["name"] for r in catalog["releases"]]
    releases = names[names.index(since):]
    versions = oslo.available(package)
    # What each release's wheel gave, said on stderr (JSON has no comments; the fragment's
    # `histories` entry names the wheels read).
    notes: list[str] = []
    # revision -> (release, migration as imported); the order is that of the newest wheel.
    first_seen: dict[str, tuple[str, dict, dict]] = {}
    order: list[str] = []
    sources: list[str] = []
    read_releases: list[str] = []
    for release in releases:
        first = spec.get("versions", {}).get(release)
        if first is None:
            continue
        version = oslo.newest_of_series(first, versions)
        path = oslo.wheel(package, version) if version else None
        if path is None:
            notes.append(f"{release}: no wheel on PyPI for the {first} series")
            continue
        release_order: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            try:
                for history in HISTORIES[service]:
                    scripts = unpack(path, history["dir"], Path(tmp))
                    if scripts is None:
                        continue
                    for migration in read(history, service, release, scripts):
                        revision = migration["revision"]
                        release_order.append(revision)
                        first_seen.setdefault(revision, (release, migration, history))
            except RuntimeError as err:
                notes.append(f"{release}: {path.name} could not be read: {str(err).splitlines()[0]}")
                continue
        if not release_order:
            notes.append(f"{release}: {path.name} has no alembic history")
            continue
        notes.append(f"{release}: {path.name} ({len(release_order)} revisions)")
        sources.append(path.name)
        read_releases.append(release)
        order += [r for r in release_order if r not in set(order)]
    migrations = []
    releases_used = []
    groups_with_command: set[tuple[str, str, str]] = set()
    for revision in run_order(order, first_seen):
        release, migration, history = first_seen[revision]
        if history["release_dirs"] and service == "neutron":
            # The directory says the release that brought it, which may be older than the
            # first wheel read: neutron's whole history since kilo is in every wheel, and was
            # alembic all along. (keystone's `yoga/` holds the baseline its Zed code wrote
            # over sqlalchemy-migrate's history: the wheel's release is the truer one.)
            named = directory_release(migration["release"], catalog)
            if named is not None and names.index(named) < names.index(release):
                release = named
        releases_used.append(release)
        kind = migration["kind"]
        if kind not in history["commands"]:
            # The initial revisions outside keystone's and neutron's layout run with expand.
            kind = "expand" if "expand" in history["commands"] else "migrate"
        command = history["commands"][kind]
        out = {"id": migration["id"], "revision": revision, "service": service, "release": release,
               "kind": kind, "command": command}
        if migration.get("requires"):
            out["requires"] = migration["requires"]
        # Said once per step: the catalog folds a step's revisions together (DESIGN §12).
        if history["to_revision"] and (release, kind, command) not in groups_with_command:
            groups_with_command.add((release, kind, command))
            out["command_to_revision"] = history["to_revision"]
        migrations.append(out)
    # JSON, one migration a line: the embedded catalog parses it in a quarter of the time
    # the same fragment takes as YAML (`ffu plan --from newton --to 2026.2` must stay fast).
    lines = ['{"format": "ffu-catalog/1",']
    if read_releases:
        history = {
            "service": service,
            "from": min(releases_used, key=names.index) if releases_used else read_releases[0],
            "to": read_releases[-1],
            "sources": sources,
        }
        lines.append(' "histories": [' + json.dumps(history) + "],")
    lines.append(' "migrations": [')
    lines += ["  " + json.dumps(m) + ("," if i + 1 < len(migrations) else "") for i, m in enumerate(migrations)]
    lines.append(" ]}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{service}.json").write_text("\n".join(lines) + "\n")
    (OUT / f"{service}.yaml").unlink(missing_ok=True)
    print(f"{service}: {len(migrations)} revisions from {len(sources)} wheels", file=sys.stderr)
    for line in notes:
        print(f"  {line}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", nargs="*", default=list(HISTORIES))
    parser.add_argument("--since", default="2023.1", help="the first release read (default 2023.1)")
    options = parser.parse_args()
    unknown = [s for s in options.services if s not in HISTORIES]
    if unknown:
        sys.exit(f"error: unknown service(s) {', '.join(unknown)}: known are {', '.join(HISTORIES)}")
    oslo.CACHE.mkdir(parents=True, exist_ok=True)
    # The hand-written catalog alone, for the releases and each service's versions.
    root = ROOT / "ffu-core" / "catalog" / "openstack.yaml"
    shown = oslo.ffu("catalog", "show", "--format", "json", str(root))
    if shown.returncode != 0:
        sys.exit(f"error: cannot read {root}: {shown.stderr.strip()}")
    catalog = json.loads(shown.stdout)
    if options.since not in [r["name"] for r in catalog["releases"]]:
        sys.exit(f"error: --since {options.since}: not a release of the catalog")
    for service in options.services:
        generate(service, catalog, options.since)
    shutil.rmtree(oslo.CACHE / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
