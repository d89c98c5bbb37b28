"""A deployment tool embedding ffu: turn an upgrade plan into Ansible tasks.

Prints a task list (YAML, for ``ansible.builtin.include_tasks`` or a play's ``tasks:``) with
one ``block`` per hop of the plan, the steps in execution order inside it:

- ``stop`` / ``start`` steps become ``ansible.builtin.service`` tasks on the component;
- steps with a command (migrations, backups, readiness checks) become
  ``ansible.builtin.command`` tasks, or ``ansible.builtin.shell`` when the command needs a
  shell (a redirection such as ``mysqldump ... > file.sql``, a pipe);
- steps that depend on how the tool deploys code (``install``, ``config``, ``postcheck``
  without a command, ...) include the tool's own task file ``ffu-KIND.yml``, with the
  service, release and step id as variables.

Every task is tagged with its step kind (and the block with its hop), so an operator can run
``ansible-playbook ... --tags backup`` or skip ``postcheck``. Rollback points are marked.

Usage::

    python examples/ansible_tasks.py --from newton --to queens [--catalog FILE]
        [--skip-level] [--services keystone,nova] > ffu-upgrade.yml

The YAML is written by hand (no PyYAML needed): every string is a double-quoted scalar
with JSON escapes, which YAML reads as the same string.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import ffu

#: Characters that make a command need a shell rather than ansible.builtin.command.
SHELL_SYNTAX = ("|", ">", "<", "&&", "||", ";", "$", "`", "*", "~")


def quote(text: str) -> str:
    """A YAML double-quoted scalar for `text` (JSON string escapes are valid YAML escapes)."""
    return json.dumps(text, ensure_ascii=True)


def flow_list(items: list[str]) -> str:
    return "[" + ", ".join(quote(item) for item in items) + "]"


def module_for(step: ffu.Step) -> tuple[str, dict[str, str]]:
    """The Ansible module and its arguments for one step."""
    if step.kind in ("stop", "start") and step.component is not None:
        return "ansible.builtin.service", {
            "name": step.component,
            "state": "stopped" if step.kind == "stop" else "started",
        }
    if step.command is not None:
        module = "ansible.builtin.shell" if any(s in step.command for s in SHELL_SYNTAX) else "ansible.builtin.command"
        return module, {"cmd": step.command}
    return "ansible.builtin.include_tasks", {"file": f"ffu-{step.kind}.yml"}


def task_lines(step: ffu.Step) -> Iterator[str]:
    """One task, as lines indented for a block's task list."""
    if step.rollback_point:
        yield "    # rollback point: from here on, the way back is to restore this backup"
    yield f"    - name: {quote(f'{step.kind}: {step.id}')}"
    module, args = module_for(step)
    yield f"      {module}:"
    for key, value in args.items():
        yield f"        {key}: {quote(value)}"
    if module == "ansible.builtin.include_tasks":
        yield "      vars:"
        yield f"        ffu_step: {quote(step.id)}"
        yield f"        ffu_service: {quote(step.service or '')}"
        yield f"        ffu_release: {quote(step.release or '')}"
    if module in ("ansible.builtin.command", "ansible.builtin.shell"):
        # Migrations and backups change state whenever they run.
        yield "      changed_when: true"
    if step.host is not None:
        yield f"      delegate_to: {quote(step.host)}"
    tags = [step.kind] + ([step.service] if step.service else [])
    yield f"      tags: {flow_list(tags)}"


def ansible_tasks(plan: ffu.Plan) -> str:
    """The plan as an Ansible task list: one block per hop."""
    lines = [
        f"# ffu plan {plan.from_} -> {plan.to} ({plan.policy['mode']}, catalog {plan.catalog}):"
        f" {len(plan.hops)} hops, {len(plan)} steps",
        f"# path: {' -> '.join(plan.path)}",
        "---",
    ]
    if len(plan) == 0:
        lines.append("[]")
    steps = plan.steps
    for index, hop in enumerate(plan.hops):
        skip = f" (skip-level: applies {', '.join(hop.releases)})" if hop.skip else ""
        lines.append(f"- name: {quote(f'Hop {index + 1} of {len(plan.hops)}: {hop.from_} -> {hop.to}{skip}')}")
        lines.append(f"  tags: {flow_list([f'ffu-hop-{index + 1}'])}")
        lines.append("  block:")
        hop_steps = [step for step in steps if step.hop == index]
        if not hop_steps:
            lines.append("    []")
        for step in hop_steps:
            lines.extend(task_lines(step))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--from", dest="from_", default="newton", metavar="RELEASE")
    parser.add_argument("--to", default="queens", metavar="RELEASE")
    parser.add_argument("--catalog", metavar="FILE", help="catalog file; the embedded OpenStack catalog without it")
    parser.add_argument("--skip-level", action="store_true")
    parser.add_argument("--services", metavar="A,B")
    args = parser.parse_args(argv)
    try:
        catalog = ffu.Catalog.openstack() if args.catalog is None else ffu.Catalog.from_file(args.catalog)
        services = args.services.split(",") if args.services else None
        plan = catalog.plan(args.from_, args.to, skip_level=args.skip_level, services=services)
    except ffu.FfuError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if err.no_plan else 2
    sys.stdout.write(ansible_tasks(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
