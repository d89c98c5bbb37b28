"""A runner of a deployment tool's own, driven by ffu's journal: it claims what may run at
once (``journal.next(n)``: steps whose ``requires`` are all done, such as the hosts of one
agent batch), runs them side by side in a thread pool, and records each outcome, so that a
run stopped anywhere goes on from where it stood when started again.

What a step does is the tool's business; here each step runs ``--command`` (a template with
ffu's placeholders ``{step}``, ``{host}``, ``{kind}``, ``{service}``, ``{component}``), by
default ``echo``. Every step run is logged as ``STEP HOST START END`` (monotonic seconds).

Usage::

    python examples/parallel_runner.py --journal upgrade.db [--to queens] [--computes 8]
        [--max-unavailable 4] [--workers 8] [--command 'ssh {host} ...'] [--log run.log]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ffu


def fleet(release: str, computes: int) -> dict[str, object]:
    """The tool's own host table, as an ``ffu-inventory/1`` document."""
    control = ["keystone-api", "glance-api", "nova-api", "nova-conductor", "nova-scheduler", "neutron-server"]
    agents = ["nova-compute", "neutron-openvswitch-agent"]
    return {
        "format": "ffu-inventory/1",
        "hosts": [
            {"name": "ctl-[1:2]", "components": {name: release for name in control}},
            {"name": f"cmp-[001:{computes:03d}]", "components": {name: release for name in agents}},
        ],
    }


def run_step(step: ffu.Step, template: str, log: Path, lock: threading.Lock) -> str | None:
    """Runs one step; the error text when it failed."""
    command = template.format(
        step=step.id, host=step.host or "", kind=step.kind, service=step.service or "",
        component=step.component or "",
    )
    started = time.monotonic()
    result = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    with lock, log.open("a") as out:
        out.write(f"{step.id} {step.host or '-'} {started:.6f} {time.monotonic():.6f}\n")
    if result.returncode != 0:
        return f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-2000:]}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journal", required=True, help="the journal's SQLite file")
    parser.add_argument("--to", default="queens")
    parser.add_argument("--computes", type=int, default=8)
    parser.add_argument("--max-unavailable", default="4")
    parser.add_argument("--workers", type=int, default=8, help="steps run at once, at most")
    parser.add_argument("--command", default="echo {kind} {step}")
    parser.add_argument("--log", default="run.log")
    args = parser.parse_args(argv)

    catalog = ffu.Catalog.openstack()
    journal_path = Path(args.journal)
    if journal_path.exists():
        # A run started again: the journal keeps its plan.
        journal = ffu.Journal(str(journal_path))
    else:
        inventory = ffu.Inventory.from_dict(catalog, fleet("pike", args.computes), file="fleet")
        plan = catalog.plan_inventory(inventory, args.to, mode="rolling", max_unavailable=args.max_unavailable)
        journal = ffu.Journal(str(journal_path), plan)
    log, lock = Path(args.log), threading.Lock()
    owner = f"parallel-runner-{journal_path.name}"
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        while claim := journal.next(owner=owner, n=args.workers):
            outcomes = pool.map(lambda step: (step, run_step(step, args.command, log, lock)), claim)
            failed = False
            for step, error in outcomes:
                if error is None:
                    journal.done(step)
                else:
                    journal.fail(step, error=error)
                    print(f"error: step {step.id} on {step.host}: {error}", file=sys.stderr)
                    failed = True
            if failed:
                return 1
    counts = journal.status()
    print(f"ok: {counts['done']} steps done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
