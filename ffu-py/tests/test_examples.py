"""The examples of a deployment tool embedding ffu: a plan as Ansible tasks, one block per hop;
a runner of its own that runs what may run at once, through the journal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import ffu

EXAMPLE = ROOT / "ffu-py" / "examples" / "ansible_tasks.py"
MODULES = {
    "ansible.builtin.service",
    "ansible.builtin.command",
    "ansible.builtin.shell",
    "ansible.builtin.include_tasks",
}


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "args",
    [("--from", "newton", "--to", "queens"), ("--from", "2023.1", "--to", "2025.1", "--skip-level")],
)
def test_ansible_tasks_are_valid_yaml_grouped_by_hop(args: tuple[str, ...]) -> None:
    yaml = pytest.importorskip("yaml")
    result = run_example(*args)
    assert result.returncode == 0, result.stderr
    blocks = yaml.safe_load(result.stdout)
    plan = ffu.Catalog.openstack().plan(args[1], args[3], skip_level="--skip-level" in args)
    assert isinstance(blocks, list) and len(blocks) == len(plan.hops)
    tasks = [task for block in blocks for task in block["block"]]
    assert len(tasks) == len(plan)
    for number, (block, hop) in enumerate(zip(blocks, plan.hops), start=1):
        assert block["name"].startswith(f"Hop {number} of {len(plan.hops)}: {hop.from_} -> {hop.to}")
        assert block["tags"] == [f"ffu-hop-{number}"]
    for task, step in zip(tasks, plan):
        assert task["name"] == f"{step.kind}: {step.id}"
        modules = MODULES & set(task)
        assert len(modules) == 1, task
        module = modules.pop()
        assert task["tags"][0] == step.kind
        if step.kind in ("stop", "start"):
            assert task[module] == {"name": step.component, "state": "stopped" if step.kind == "stop" else "started"}
        elif step.command is not None:
            assert task[module] == {"cmd": step.command}
            assert module == ("ansible.builtin.shell" if ">" in step.command else module)
        else:
            assert module == "ansible.builtin.include_tasks"
            assert task["vars"]["ffu_step"] == step.id


def test_ansible_tasks_quote_awkward_strings() -> None:
    yaml = pytest.importorskip("yaml")
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import ansible_tasks
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    for text in ['a: b', "quote \" and \\ back", "#not a comment", "- dash", "yes", "tab\there", "naïve €", "{x}"]:
        assert yaml.safe_load(ansible_tasks.quote(text)) == text


def test_ansible_tasks_errors() -> None:
    result = run_example("--from", "queens", "--to", "newton")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot plan from queens to newton")


RUNNER = ROOT / "ffu-py" / "examples" / "parallel_runner.py"


def run_runner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    journal, log = tmp_path / "run.db", tmp_path / "run.log"
    return subprocess.run(
        [sys.executable, str(RUNNER), "--journal", str(journal), "--log", str(log), *args],
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_a_parallel_runner_keeps_every_requirement_and_runs_batches_side_by_side(tmp_path: Path) -> None:
    # A failure partway: the runner stops, and started again it goes on.
    fail_once = f"test {{step}} != h0.install.nova@cmp-003 || test -e {tmp_path}/failed || (touch {tmp_path}/failed; exit 3)"
    first = run_runner(tmp_path, "--command", f"sleep 0.02; {fail_once}")
    assert first.returncode == 1
    assert first.stderr.startswith("error: step h0.install.nova@cmp-003 on cmp-003: exit 3")
    second = run_runner(tmp_path, "--command", "sleep 0.02")
    assert second.returncode == 0, second.stderr
    plan = ffu.Journal(str(tmp_path / "run.db")).plan()
    assert second.stdout == f"ok: {len(plan)} steps done\n"
    runs: dict[str, list[tuple[float, float]]] = {}
    for line in (tmp_path / "run.log").read_text().splitlines():
        step_id, _host, started, ended = line.split()
        runs.setdefault(step_id, []).append((float(started), float(ended)))
    by_id = {step.id: step for step in plan}
    assert set(runs) == set(by_id)
    # Every step ran once, but the one that failed (twice) and those claimed with it that
    # were running when the run stopped (none: a claim is finished before the runner stops).
    assert {step_id for step_id, times in runs.items() if len(times) > 1} == {"h0.install.nova@cmp-003"}
    # Each step started after every step it requires had ended (its last run).
    for step in plan:
        start = runs[step.id][-1][0]
        for required in step.requires:
            assert runs[required][-1][1] <= start, f"{step.id} started before {required} ended"
    # Steps ran side by side: the hosts of a batch overlap in time.
    spans = sorted(times[-1] for times in runs.values())
    overlapping = sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
    assert overlapping > len(plan) / 4
