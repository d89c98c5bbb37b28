"""`ffu export ansible` judged by the real engine: ansible-playbook runs exported plans against
several inventory hosts on this machine (`-c local`), with command templates that append
`step@host` to a log. Every step must run once, on its host, each host's steps in plan order,
agent batches of their size; a run killed with SIGKILL and started again must lose nothing
and repeat only the steps that were running when it died; a second run at once is refused.

ansible-playbook takes about a second to start and a little per task, so the plans here are
small and each test runs it only a few times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SMALL, SMALL_INVENTORY, run_ffu

import ffu

yaml = pytest.importorskip("yaml")

BIN = Path(sys.executable).parent
ANSIBLE = BIN / "ansible-playbook"
FFU = BIN / "ffu"
KINDS = (
    "precheck stop backup repos install config expand migrate contract data start postcheck finalize task".split()
)

pytestmark = pytest.mark.skipif(not ANSIBLE.exists(), reason="ansible-core is not installed (the test extra)")


def templates(log: Path, rounds: Path) -> dict[str, str]:
    """A template per kind that appends `step@host` to `log`; the data template first fails
    twice with exit 1 (rows migrated, more left, as `online_data_migrations` says), logging
    each round to `rounds`."""
    line = "echo '{step}@{host}'"
    commands = {kind: f"{line} >> {log}" for kind in KINDS}
    counter = rounds.with_suffix(".count")
    commands["data"] = (
        f"{line} >> {rounds}; n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; "
        f'if [ "$n" -ge 2 ]; then {line} >> {log}; else exit 1; fi'
    )
    return commands


def export(tmp: Path, plan: ffu.Plan, journal: bool = True) -> Path:
    """Exports `plan` (of the small catalog, on SMALL_INVENTORY) to tmp/out through the CLI."""
    (tmp / "plan.json").write_text(plan.to_json())
    (tmp / "inventory.yaml").write_text(SMALL_INVENTORY)
    args = ["export", "ansible", "--plan", str(tmp / "plan.json"), "--catalog", str(SMALL)]
    args += ["--inventory", str(tmp / "inventory.yaml"), "--ffu", str(FFU), "-o", str(tmp / "out")]
    if journal:
        args += ["--journal", f"sqlite:{tmp / 'journal.db'}"]
    for kind, template in templates(tmp / "log", tmp / "rounds").items():
        args += ["--command", f"{kind}={template}"]
    result = run_ffu(*args)
    assert result.returncode == 0, result.stderr
    return tmp / "out"


def playbook(out: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return [str(ANSIBLE), "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
            "-i", str(out / "inventory.yml"), str(out / "site.yml"), *extra], env


def run_playbook(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv, env = playbook(out, *extra)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def lines(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.rsplit("@", 1)) for line in path.read_text().splitlines()]  # type: ignore[misc]


def journal_steps(tmp: Path) -> list[dict[str, Any]]:
    result = run_ffu("journal", "status", "--db", f"sqlite:{tmp / 'journal.db'}",
                     "--plan", str(tmp / "out" / "plan.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    steps: list[dict[str, Any]] = json.loads(result.stdout)["steps"]
    return steps


def expected_host(step: ffu.Step) -> str:
    """The step's host; a step without one runs on its service's bootstrap host, the first
    host of the inventory that runs the service (ctl-1 runs both services)."""
    return step.host or "ctl-1"


def check_log(plan: ffu.Plan, log: list[tuple[str, str]]) -> None:
    """Every step once, on its host; each host's steps in plan order; batches whole."""
    ids = [step_id for step_id, _ in log]
    assert sorted(ids) == sorted(step.id for step in plan), "each step runs exactly once"
    by_id = {step.id: step for step in plan}
    for step_id, host in log:
        assert host == expected_host(by_id[step_id]), f"{step_id} ran on {host}"
    position = {step.id: i for i, step in enumerate(plan)}
    per_host: dict[str, list[int]] = defaultdict(list)
    for step_id, host in log:
        per_host[host].append(position[step_id])
    for host, seen in per_host.items():
        assert seen == sorted(seen), f"{host}'s steps out of plan order"
    # Batches (runs of consecutive steps of one hop, service and batch number): in the log,
    # they come one after the other, each on exactly the hosts the plan gives it.
    run_of: dict[str, int] = {}
    runs_planned = 0
    previous = None
    for step in plan:
        key = (step.hop, step.service, step.batch)
        if step.batch is not None:
            runs_planned += key != previous
            run_of[step.id] = runs_planned
        previous = key if step.batch is not None else None
    sequence = [(run_of[i], h) for i, h in log if i in run_of]
    order = [run for run, _ in sequence]
    runs = [run for i, run in enumerate(order) if i == 0 or order[i - 1] != run]
    assert runs == sorted(set(runs)), f"a batch's steps are interleaved with another's: {runs}"
    planned: dict[int, set[str]] = defaultdict(set)
    for step in plan:
        if step.id in run_of:
            planned[run_of[step.id]].add(expected_host(step))
    ran: dict[int, set[str]] = defaultdict(set)
    for run, host in sequence:
        ran[run].add(host)
    assert ran == planned


@pytest.fixture()
def small() -> ffu.Catalog:
    return ffu.Catalog.from_file(str(SMALL))


def test_rolling_plan_runs_once_in_order_in_batches_and_refuses_a_second_run(tmp_path: Path, small: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_yaml(small, SMALL_INVENTORY, file="inventory.yaml")
    plan = small.plan_inventory(inventory, "r2", mode="rolling", max_unavailable="2")
    assert {s.batch for s in plan if s.batch is not None} == {1, 2, 3}
    out = export(tmp_path, plan)
    site = yaml.safe_load((out / "site.yml").read_text())
    assert [p["serial"] for p in site if "serial" in p] == [[2, 2, 1]]
    argv, env = playbook(out)
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not lines(tmp_path / "log") and time.monotonic() < deadline:
        time.sleep(0.1)
    second = run_playbook(out)
    output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output[-3000:]
    assert second.returncode != 0
    refusal = second.stdout + second.stderr
    assert "the journal is locked by" in refusal and "another run is going on" in refusal, refusal[-3000:]
    check_log(plan, lines(tmp_path / "log"))
    # The data migration ran until it stopped saying "more to do": three rounds.
    data = [s.id for s in plan if s.kind == "data"]
    assert [i for i, _ in lines(tmp_path / "rounds")] == [data[0]] * 3
    steps = journal_steps(tmp_path)
    assert {s["state"] for s in steps} == {"done"}
    assert {s["id"]: s["host"] for s in steps} == {s.id: expected_host(s) for s in plan}
    assert all(s["attempts"] == 1 for s in steps)
    # Run again: everything is done, nothing runs twice.
    again = run_playbook(out)
    assert again.returncode == 0, again.stdout[-3000:]
    check_log(plan, lines(tmp_path / "log"))


def test_killed_runs_resume_with_nothing_lost_or_doubled(tmp_path: Path, small: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_yaml(small, SMALL_INVENTORY, file="inventory.yaml")
    plan = small.plan_inventory(inventory, "r2")
    out = export(tmp_path, plan)
    log = tmp_path / "log"
    may_repeat: set[str] = set()
    for kill_after in (2, 10, 20):
        argv, env = playbook(out)
        run = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        deadline = time.monotonic() + 300
        while len(lines(log)) < kill_after and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before it could be killed"
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        running = {s["id"] for s in journal_steps(tmp_path) if s["state"] == "running"}
        may_repeat |= running
    final = run_playbook(out)
    assert final.returncode == 0, final.stdout[-3000:]
    ran = lines(log)
    ids = [i for i, _ in ran]
    doubled = {i for i in ids if ids.count(i) > 1}
    assert doubled <= may_repeat, f"steps done twice that were not running at a kill: {doubled - may_repeat}"
    assert set(ids) == {s.id for s in plan}, "a step was lost"
    once = [(i, h) for n, (i, h) in enumerate(ran) if (i, h) not in ran[:n]]
    check_log(plan, once)
    assert {s["state"] for s in journal_steps(tmp_path)} == {"done"}


def test_openstack_export_passes_syntax_check(tmp_path: Path, openstack: ffu.Catalog) -> None:
    text = (ROOT / "tests" / "data" / "inventory-pike.yaml").read_text().replace(": pike", ": newton")
    inventory = ffu.Inventory.from_yaml(openstack, text, file="inventory-newton.yaml")
    plan = openstack.plan_inventory(inventory, "queens")
    files = plan.to_ansible(inventory=inventory, journal=f"sqlite:{tmp_path / 'j.db'}")
    out = tmp_path / "out"
    out.mkdir()
    for name, content in files.items():
        (out / name).write_text(content)
    result = run_playbook(out, "--syntax-check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    site = yaml.safe_load(files["site.yml"])
    names = {task["name"].replace("{{ inventory_hostname }}", host)
             for play in site for task in play["tasks"] for host in play["hosts"]}
    assert {step.id for step in plan} <= names
    for play in site:
        for task in play["tasks"]:
            if task["name"].startswith("h"):
                assert task["tags"][0].startswith("hop"), task["name"]


def test_python_export_is_the_cli_export(tmp_path: Path, small: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_yaml(small, SMALL_INVENTORY, file="inventory.yaml")
    plan = small.plan_inventory(inventory, "r2", mode="rolling", max_unavailable="2")
    commands = templates(tmp_path / "log", tmp_path / "rounds")
    files = plan.to_ansible(inventory=inventory, journal=f"sqlite:{tmp_path / 'journal.db'}",
                            commands=commands, ffu=str(FFU))
    out = export(tmp_path, plan)
    assert files == {name: (out / name).read_text() for name in ("inventory.yml", "site.yml", "plan.json")}


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, small: ffu.Catalog) -> None:
    inventory = ffu.Inventory.from_yaml(small, SMALL_INVENTORY, file="inventory.yaml")
    plan = small.plan_inventory(inventory, "r2")
    (tmp_path / "plan.json").write_text(plan.to_json())
    (tmp_path / "inv.yaml").write_text(SMALL_INVENTORY.replace("cmp-[1:5]", "cmp-[1:4]"))
    base = ["export", "ansible", "--plan", str(tmp_path / "plan.json"), "--catalog", str(SMALL)]
    out = tmp_path / "out"
    cases = [
        (["--inventory", str(tmp_path / "inv.yaml"), "-o", str(out)], "runs on host \"cmp-5\", which the inventory does not list"),
        (["--command", "stop=systemctl stop {unti}", "-o", str(out)], "unknown placeholder {unti}"),
        (["--command", "halt=x", "-o", str(out)], "unknown step kind \"halt\""),
        (["--journal", "postgres://x", "-o", str(out)], "give sqlite:PATH"),
    ]
    for extra, says in cases:
        result = run_ffu(*base, *extra)
        assert result.returncode == 2, (extra, result.stderr)
        assert says in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert not out.exists() and not list(tmp_path.glob(".out*"))
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    result = run_ffu(*base, "-o", str(a_file))
    assert result.returncode == 2 and "it is a file, not a directory" in result.stderr
    assert a_file.read_text() == "keep"
    with pytest.raises(ffu.PlanError, match="unknown placeholder"):
        plan.to_ansible(commands={"stop": "x {nope}"})
    other = ffu.Inventory.from_yaml(small, SMALL_INVENTORY.replace("cmp-[1:5]", "cmp-[1:4]"), file="inv.yaml")
    with pytest.raises(ffu.PlanError, match="cmp-5"):
        plan.to_ansible(inventory=other)


def test_steps_without_anything_to_run_are_listed(tmp_path: Path, small: ffu.Catalog) -> None:
    plan = small.plan("r1", "r2")
    (tmp_path / "plan.json").write_text(plan.to_json())
    result = run_ffu("export", "ansible", "--plan", str(tmp_path / "plan.json"), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    manual = [s.id for s in plan if s.command is None]
    assert manual and all(f"  {i}\n" in result.stderr for i in manual)
    site = yaml.safe_load((tmp_path / "out" / "site.yml").read_text())
    debug = [t["name"] for p in site for t in p["tasks"] if "ansible.builtin.debug" in t]
    assert debug == manual
    inventory = yaml.safe_load((tmp_path / "out" / "inventory.yml").read_text())
    groups = inventory["all"]["children"]
    assert set(groups["ffu_ident_bootstrap"]["hosts"]) == {"ident-bootstrap"}
    assert {p["hosts"][0] for p in site} <= {"ffu_ident_bootstrap", "ffu_compute_bootstrap"}


def test_deployment_tool_example_exports_a_playbook_ansible_accepts(tmp_path: Path) -> None:
    example = ROOT / "ffu-py" / "examples" / "ansible_export.py"
    out = tmp_path / "upgrade"
    result = subprocess.run([sys.executable, str(example), "-o", str(out), "--computes", "8"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    site = yaml.safe_load((out / "site.yml").read_text())
    serials = [p["serial"] for p in site if "serial" in p]
    # The agents (neutron's, then nova's computes) in batches of 2; a task on every host
    # (keystone's prechecks on the 3 controllers, nova's temporary setting on all 11 hosts)
    # runs on them all at once.
    assert [s for s in serials if len(s) > 1] == [[2, 2, 2, 2], [2, 2, 2, 2]]
    assert [s for s in serials if len(s) == 1] == [[3], [3], [11], [11]]
    commands = [t["block"][1]["ansible.builtin.shell"]["cmd"] for p in site for t in p["tasks"] if "block" in t
                and "ansible.builtin.shell" in t["block"][1]]
    assert "systemctl disable --now openstack-nova-compute" in commands
    checked = run_playbook(out, "--syntax-check")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]


def test_operator_controls_of_the_journal(tmp_path: Path, small: ffu.Catalog) -> None:
    plan = small.plan("r1", "r2")
    (tmp_path / "plan.json").write_text(plan.to_json())
    journal = ["--db", f"sqlite:{tmp_path / 'j.db'}", "--plan", str(tmp_path / "plan.json")]
    first, second = plan.steps[0].id, plan.steps[1].id

    def ffu_journal(*args: str) -> str:
        result = run_ffu("journal", *args[:1], *journal, *args[1:])
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert ffu_journal("start", "--runner", "deploy", "--host", "ctl-1", first) == "run\n"
    ffu_journal("fail", "--keep-lock", "--error", "exit 3: disk full", first)
    status = ffu_journal("status")
    assert f"failed {first} on ctl-1 (attempt 1): exit 3: disk full" in status
    assert "locked by deploy pid" in status
    # Another runner is kept out while "deploy" (this test's process) lives.
    other = run_ffu("journal", "start", *journal, "--runner", "other", first)
    assert other.returncode == 2 and 'is locked by "deploy pid' in other.stderr
    limited = run_ffu("journal", "start", *journal, "--runner", "deploy", "--max-attempts", "1", first)
    assert limited.returncode == 2 and "the limit is 1" in limited.stderr
    assert ffu_journal("reset", first) == f"ok: {first}: failed -> pending\n"
    assert ffu_journal("skip", second) == f"ok: {second}: pending -> done\n"
    assert ffu_journal("done", "--force", first) == f"ok: {first}: pending -> done\n"
    assert ffu_journal("start", "--runner", "deploy", second) == "done\n"
    assert ffu_journal("unlock", "--force").startswith("ok: broke the lock of deploy pid ")
    counts = json.loads(ffu_journal("status", "--format", "json"))
    assert counts["lock"] is None and [s["state"] for s in counts["steps"][:2]] == ["done", "done"]
