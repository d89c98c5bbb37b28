"""A deployment tool embedding ffu: plan the upgrade of the fleet it manages, export the plan as
a playbook that ansible-playbook runs, resumable through a journal, and (with ``--run``) run it.

The tool knows its hosts and what runs where (here a small table; a real tool reads its own
deployment state) and how it installs code and restarts services (the command templates). ffu
knows the order: the playbook runs every step of the plan on its host, agent batches with
``serial``, and records each step in the journal, so that running it again after an
interruption skips what is done.

Usage::

    python examples/ansible_export.py -o upgrade/ [--to queens] [--computes 20]
        [--max-unavailable 25%] [--journal upgrade.db] [--run]

then, if not run here: ``ansible-playbook -i upgrade/inventory.yml upgrade/site.yml``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import ffu

#: How this tool acts on a host, per step kind (placeholders: DESIGN section 9).
COMMANDS = {
    "install": "dnf -y install 'openstack-{service}' --releasever={release}",
    "stop": "systemctl disable --now {unit}",
    "start": "systemctl enable --now {unit}",
}


def fleet(release: str, computes: int) -> dict[str, Any]:
    """The tool's own host table, as an ``ffu-inventory/1`` document."""
    control = ["keystone-api", "glance-api", "nova-api", "nova-conductor", "nova-scheduler", "neutron-server"]
    agents = ["nova-compute", "neutron-openvswitch-agent", "libvirt-guests"]
    return {
        "format": "ffu-inventory/1",
        "hosts": [
            {"name": "ctl-[1:3]", "components": {name: release for name in control}},
            {"name": f"cmp-[001:{computes:03d}]", "components": {name: release for name in agents}},
        ],
    }


def write_playbook(files: dict[str, str], out: Path) -> None:
    """Writes the exported files into `out`, each through a temporary file renamed into place."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        temp = out / f".{name}.tmp"
        temp.write_text(text)
        os.replace(temp, out / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="DIR")
    parser.add_argument("--from", dest="from_", default="pike", metavar="RELEASE")
    parser.add_argument("--to", default="queens", metavar="RELEASE")
    parser.add_argument("--computes", type=int, default=20)
    parser.add_argument("--max-unavailable", default="25%", metavar="N|P%")
    parser.add_argument("--journal", type=Path, metavar="FILE", help="SQLite journal (default: DIR/journal.db)")
    parser.add_argument("--run", action="store_true", help="run ansible-playbook on the export")
    args = parser.parse_args(argv)
    try:
        catalog = ffu.Catalog.openstack()
        inventory = ffu.Inventory.from_dict(catalog, fleet(args.from_, args.computes), file="fleet")
        plan = catalog.plan_inventory(inventory, args.to, mode="rolling", max_unavailable=args.max_unavailable)
        journal = args.journal or args.output / "journal.db"
        args.output.mkdir(parents=True, exist_ok=True)
        files = plan.to_ansible(inventory=inventory, journal=f"sqlite:{journal.resolve()}", commands=COMMANDS)
    except ffu.FfuError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if err.no_plan else 2
    write_playbook(files, args.output)
    print(f"{len(plan)} steps on {len(inventory)} hosts: {args.output}/site.yml")
    if not args.run:
        return 0
    playbook = shutil.which("ansible-playbook")
    if playbook is None:
        print("error: ansible-playbook is not on PATH", file=sys.stderr)
        return 2
    command = [playbook, "-i", str(args.output / "inventory.yml"), str(args.output / "site.yml")]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
