"""The example of a deployment tool embedding ffu: a plan as Ansible tasks, one block per hop."""

from __future__ import annotations

import subprocess
import sys

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
