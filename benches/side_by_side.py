#!/usr/bin/env python3
"""Two ffu binaries side by side: the same plans, and how long each takes.

A change that is not meant to change plans, or that must keep its speed within a budget,
is measured against the binary before it (built from a worktree of the previous commit:
``git worktree add ../before HEAD~1 && (cd ../before && cargo build --release --bin ffu)``).
This machine's speed drifts by a third over minutes, so only runs that take turns compare.

Usage: python3 benches/side_by_side.py NEW_FFU OLD_FFU [RUNS]   (from the repository root)

1. Same plans: every command of SAME runs with both binaries; stdout, stderr and the exit
   status must be equal (differences are listed; the exit status is 1 when there are any).
2. Speed: every case of TIMED runs RUNS times (default 21) with each binary, taking turns,
   output to /dev/null; the median wall time of each and their ratio are printed.

The medium catalog (93,600 migrations) is target/bench-data/medium.json, which
benches/cli_speed.sh makes; a 10,000-host inventory is written beside it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path("target/bench-data")
MEDIUM = DATA / "medium.json"
FLEET = DATA / "fleet-10k.yaml"

FLEET_YAML = """format: ffu-inventory/1
hosts:
  - name: "ctl-[1:3]"
    components: {keystone-api: pike, nova-api: pike, nova-conductor: pike, neutron-server: pike, glance-api: pike, cinder-api: pike}
  - name: "net-[1:3]"
    components: {neutron-l3-agent: pike, neutron-dhcp-agent: pike}
  - name: "cmp-[00001:10000]"
    components: {nova-compute: pike, neutron-openvswitch-agent: pike}
"""

SAME = [
    "plan --from newton --to queens",
    "plan --from newton --to queens --format json",
    "plan --from newton --to queens --format dot",
    "plan --from newton --to 2026.2 --format json",
    "plan --from 2023.1 --to 2025.1 --skip-level --format json",
    "plan --from queens --to train --mode rolling --format json",
    "plan --from newton --to queens --services nova,keystone,glance --format json",
    "plan --inventory tests/data/inventory-mixed.yaml --to rocky --format json",
    "plan --inventory tests/data/inventory-mixed.yaml --to rocky --mode rolling --format json",
    "plan --inventory tests/data/inventory-pike.yaml --to 2024.1 --mode rolling --max-unavailable 50% --format json",
    "plan --inventory tests/data/inventory-pike.yaml --to 2024.1",
    f"plan --inventory {FLEET} --to ussuri --format json",
    f"plan --inventory {FLEET} --to queens --mode rolling --format json",
    f"plan --catalog {MEDIUM} --from r000 --to r039 --format json",
    f"plan --catalog {MEDIUM} --from r005 --to r020 --format json",
    f"plan --catalog {MEDIUM} --from r000 --to r039 --mode rolling --format json",
    "plan --catalog tests/data/small.yaml --from r1 --to r3 --format json",
    "plan --from queens --to newton",
    "plan --from nope --to queens",
    "plan --from 2023.1 --to 2025.1 --skip-level --mode rolling",
    "plan --from newton --to queens --max-unavailable ten",
]

TIMED = {
    "medium, JSON": f"plan --catalog {MEDIUM} --from r000 --to r039 --format json",
    "medium, text": f"plan --catalog {MEDIUM} --from r000 --to r039",
    "10k hosts, offline": f"plan --inventory {FLEET} --to ussuri --format json",
    "10k hosts, rolling": f"plan --inventory {FLEET} --to queens --mode rolling --format json",
    "openstack newton->2026.2": "plan --from newton --to 2026.2 --format json",
}


def run(binary: str, command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([binary, *command.split()], capture_output=True, check=False)


def same_plans(new: str, old: str) -> int:
    differences = 0
    for command in SAME:
        mine, theirs = run(new, command), run(old, command)
        same = (mine.stdout, mine.stderr, mine.returncode) == (
            theirs.stdout,
            theirs.stderr,
            theirs.returncode,
        )
        print(f"{'same' if same else 'DIFFERENT'} ({len(mine.stdout)} bytes): ffu {command}")
        if not same:
            differences += 1
            print(f"  new: exit {mine.returncode}, {mine.stderr.decode(errors='replace')[:300]!r}")
            print(f"  old: exit {theirs.returncode}, {theirs.stderr.decode(errors='replace')[:300]!r}")
    return differences


def speed(new: str, old: str, runs: int) -> None:
    print(f"\nmedian wall time of {runs} runs each, taking turns")
    for name, command in TIMED.items():
        times: dict[str, list[float]] = {new: [], old: []}
        for turn in range(runs):
            for binary in (new, old) if turn % 2 == 0 else (old, new):
                start = time.perf_counter()
                subprocess.run([binary, *command.split()], stdout=subprocess.DEVNULL, check=True)
                times[binary].append(time.perf_counter() - start)
        after, before = statistics.median(times[new]), statistics.median(times[old])
        print(f"{name:26} before {before * 1000:8.1f} ms  after {after * 1000:8.1f} ms  ratio {after / before:.3f}")


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    new, old = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 21
    if not MEDIUM.exists():
        print(f"error: {MEDIUM} is missing: run benches/cli_speed.sh once to make it", file=sys.stderr)
        return 2
    FLEET.write_text(FLEET_YAML)
    differences = same_plans(new, old)
    speed(new, old, runs)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
