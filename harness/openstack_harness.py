#!/usr/bin/env python3
"""Runs the database work of an ffu plan with each release's real OpenStack services.

One virtual environment per release holds that release's services from PyPI, installed with
the release's upper-constraints file (``harness/constraints/<release>.txt``, committed with
its source ref). The harness then

1. deploys a cloud's databases at the plan's ``from`` release with that release's own code,
   as a deployment tool leaves them (db syncs, cells v2 mappings for nova);
2. runs the plan through ``ffu journal`` (init, next, done): every step whose command touches
   a database or reads the configuration runs, with the code of the release the step names
   (``code_release``) and the configuration files the harness wrote; steps that need a
   running service or a host (stop, start, install, backup, ...) are recorded as skipped;
3. writes a report (``report.jsonl`` in the run directory, one line per command) of what
   ran, what was skipped and why, each command's exit status, output and time.

The judges (``alembic_version`` against the target release's own alembic heads) are
:func:`judge`; ``ffu-py/tests/test_openstack_harness.py`` drives all of it.

Usage::

    harness/openstack_harness.py venv RELEASE...
    harness/openstack_harness.py run --from R --to R [--skip-level] [--services a,b]
                                 [--backend sqlite|mysql|postgres] [--plan PLAN] --dir DIR
                                 [--fresh] [--judge]
    harness/openstack_harness.py run --dir DIR        (resumes the run in DIR)
    harness/openstack_harness.py judge --dir DIR
    harness/openstack_harness.py figures DIR...   (each database step's seconds, JSON lines)

Exit status: 0 done (and judged right); 1 a command failed or a judge found a problem;
2 bad input. Environment: FFU (how to run ffu), FFU_HARNESS_HOME (where the venvs live),
FFU_TEST_MYSQL and FFU_TEST_POSTGRES (the servers, as scripts/db-servers.sh writes them).

Standard library only: it runs under any Python 3.9+, the services run in their own venvs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "harness" / "constraints"
#: Where the virtual environments live (``FFU_HARNESS_HOME`` moves it).
HOME = Path(os.environ.get("FFU_HARNESS_HOME", str(ROOT / "target" / "harness")))


class HarnessError(Exception):
    """Something the harness cannot do; the message says what (exit status 2 or 1)."""


@dataclass(frozen=True)
class Service:
    """What the harness needs to know to install and configure one OpenStack service."""

    name: str
    #: The PyPI project.
    pypi: str
    #: The configuration file the plan's commands name (under /etc/), and the harness writes.
    config: str
    #: Executables that take ``--config-file`` (the harness adds the file it wrote).
    tools: tuple[str, ...]
    #: Databases, as in the catalog.
    databases: tuple[str, ...]
    #: Whether its migrations run on SQLite (neutron's and ironic's alter constraints,
    #: which SQLite cannot: "No support for ALTER of constraints in SQLite dialect").
    sqlite: bool = True
    #: Package-relative directories of alembic histories, per database.
    alembic: Dict[str, str] = field(default_factory=dict)


SERVICES: Dict[str, Service] = {
    s.name: s
    for s in [
        Service(
            "keystone", "keystone", "keystone/keystone.conf",
            ("keystone-manage", "keystone-status"), ("keystone",),
            alembic={"keystone": "keystone/common/sql/migrations"},
        ),
        Service(
            "glance", "glance", "glance/glance-api.conf",
            ("glance-manage", "glance-status"), ("glance",),
            alembic={"glance": "glance/db/sqlalchemy/alembic_migrations"},
        ),
        Service(
            "cinder", "cinder", "cinder/cinder.conf",
            ("cinder-manage", "cinder-status"), ("cinder",),
            alembic={"cinder": "cinder/db/migrations"},
        ),
        Service(
            "placement", "openstack-placement", "placement/placement.conf",
            ("placement-manage", "placement-status"), ("placement",),
            alembic={"placement": "placement/db/sqlalchemy/alembic"},
        ),
        Service(
            "nova", "nova", "nova/nova.conf",
            ("nova-manage", "nova-status"), ("nova_api", "nova", "nova_cell0"),
            alembic={
                "nova_api": "nova/db/api/migrations",
                "nova": "nova/db/main/migrations",
                "nova_cell0": "nova/db/main/migrations",
            },
        ),
        Service(
            "heat", "openstack-heat", "heat/heat.conf",
            ("heat-manage", "heat-status"), ("heat",),
            alembic={"heat": "heat/db/migrations"},
        ),
        Service(
            "neutron", "neutron", "neutron/neutron.conf",
            ("neutron-db-manage", "neutron-status"), ("neutron",), sqlite=False,
            alembic={"neutron": "neutron/db/migration/alembic_migrations"},
        ),
        Service(
            "ironic", "ironic", "ironic/ironic.conf",
            ("ironic-dbsync", "ironic-status"), ("ironic",), sqlite=False,
            alembic={"ironic": "ironic/db/sqlalchemy/alembic"},
        ),
    ]
}

def releases() -> List[str]:
    """The releases the harness installs: those with a constraints file."""
    return sorted(p.stem for p in CONSTRAINTS.glob("*.txt"))


def say(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Virtual environments
# ---------------------------------------------------------------------------------------


def series_versions(ffu: List[str]) -> Dict[str, Dict[str, str]]:
    """Each service's version per release, from ffu's embedded catalog (``versions``)."""
    out = subprocess.run([*ffu, "catalog", "show", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return {s["name"]: s.get("versions") or {} for s in json.loads(out)["services"]}


def requirements(release: str, versions: Dict[str, Dict[str, str]]) -> List[str]:
    """The pip requirements of a release: every service in its series (X.Y.*, the newest
    fix of the catalog's version: stable branches' fixes match their constraints) and the
    database drivers."""
    reqs = []
    for service in SERVICES.values():
        version = versions.get(service.name, {}).get(release)
        if version is None:
            raise HarnessError(f"the catalog has no version of {service.name} at {release}")
        major_minor = ".".join(version.split(".")[:2])
        reqs.append(f"{service.pypi}=={major_minor}.*")
    return reqs + ["PyMySQL", "psycopg2-binary"]


def venv_path(release: str, reqs: List[str]) -> Path:
    """The venv of a release, keyed by the hash of its constraints file and requirements."""
    path = CONSTRAINTS / f"{release}.txt"
    if not path.is_file():
        raise HarnessError(f"no constraints file for release {release!r} (have: {', '.join(releases())})")
    digest = hashlib.sha256(path.read_bytes() + "\n".join(reqs).encode()).hexdigest()[:12]
    return HOME / "venvs" / f"{release}-{digest}"


def build_venv(release: str, ffu: List[str], python: str = sys.executable) -> Path:
    """Builds (once) the venv of a release; returns its path. A finished venv holds
    ``.complete``; a half-built one is made anew."""
    reqs = requirements(release, series_versions(ffu))
    venv = venv_path(release, reqs)
    if (venv / ".complete").is_file():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    say(f"building the {release} environment in {venv} ({' '.join(reqs[:-2])})")
    started = time.monotonic()
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    result = subprocess.run([*pip, "-c", str(CONSTRAINTS / f"{release}.txt"), *reqs],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"the {release} services do not install: {result.stderr.strip()[-2000:]}")
    (venv / ".complete").write_text(" ".join(reqs) + "\n")
    say(f"built the {release} environment in {time.monotonic() - started:.0f} s")
    return venv


def ffu_command() -> List[str]:
    """How to run ffu: ``FFU`` (a command line), else ``python -m ffu`` when this
    interpreter has the package, else the workspace's release binary."""
    if os.environ.get("FFU"):
        return shlex.split(os.environ["FFU"])
    try:
        import ffu  # noqa: F401  (only whether it is there)

        return [sys.executable, "-m", "ffu"]
    except ImportError:
        binary = ROOT / "target" / "release" / "ffu"
        if binary.is_file():
            return [str(binary)]
    raise HarnessError("no ffu: install the ffu package, build target/release/ffu, or set FFU")


# ---------------------------------------------------------------------------------------
# Databases and configuration
# ---------------------------------------------------------------------------------------

BACKENDS = ("sqlite", "mysql", "postgres")


def server_url(backend: str) -> str:
    """The SQLAlchemy URL (without database) of the test server of ``backend``, from the
    variables scripts/db-servers.sh writes (FFU_TEST_MYSQL, FFU_TEST_POSTGRES)."""
    if backend == "mysql":
        value = os.environ.get("FFU_TEST_MYSQL")
        if not value:
            raise HarnessError("FFU_TEST_MYSQL is not set: start a server with scripts/db-servers.sh")
        host, port, _db, user, password = value.split(":", 4)
        return f"mysql+pymysql://{user}:{password}@{host}:{port}"
    value = os.environ.get("FFU_TEST_POSTGRES")
    if not value:
        raise HarnessError("FFU_TEST_POSTGRES is not set: start a server with scripts/db-servers.sh")
    conninfo = dict(part.split("=", 1) for part in value.split())
    return (f"postgresql+psycopg2://{conninfo['user']}:{conninfo['password']}"
            f"@{conninfo['host']}:{conninfo['port']}")


def database_urls(backend: str, services: List[str], directory: Path, prefix: str) -> Dict[str, str]:
    """One URL per database of the services: files under DIRECTORY/db on SQLite; databases
    named t_PREFIX_NAME on a server (the test user may create t_... databases)."""
    names = [db for s in services for db in SERVICES[s].databases]
    if backend == "sqlite":
        (directory / "db").mkdir(parents=True, exist_ok=True)
        return {db: f"sqlite:///{directory / 'db' / db}.sqlite" for db in names}
    base = server_url(backend)
    suffix = "?charset=utf8" if backend == "mysql" else ""
    return {db: f"{base}/t_{prefix}_{db}{suffix}" for db in names}


def config_sections(service: str, urls: Dict[str, str], etc: Path) -> Dict[str, Dict[str, str]]:
    """The minimal configuration of a service for its manage commands."""
    sections: Dict[str, Dict[str, str]] = {"oslo_concurrency": {"lock_path": str(etc.parent / "lock")}}
    if service == "placement":
        sections["placement_database"] = {"connection": urls["placement"]}
    elif service == "nova":
        # The cells v2 commands store transport_url in the cell mappings; none dials it.
        sections["DEFAULT"] = {"transport_url": "rabbit://guest:guest@127.0.0.1:5672/"}
        sections["api_database"] = {"connection": urls["nova_api"]}
        sections["database"] = {"connection": urls["nova"]}
    else:
        sections["database"] = {"connection": urls[service]}
    if service == "keystone":
        sections["fernet_tokens"] = {"key_repository": str(etc / "keystone" / "fernet-keys")}
        sections["credential"] = {"key_repository": str(etc / "keystone" / "credential-keys")}
    if service == "neutron":
        sections["DEFAULT"] = {"core_plugin": "ml2"}
    return sections


def write_configs(services: List[str], urls: Dict[str, str], etc: Path) -> None:
    """Writes ETC/<service>/<file>.conf for every service (the plan's /etc/ paths, moved)."""
    for name in services:
        path = etc / SERVICES[name].config
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for section, options in config_sections(name, urls, etc).items():
            lines.append(f"[{section}]")
            lines.extend(f"{key} = {value}" for key, value in options.items())
            lines.append("")
        path.write_text("\n".join(lines))


def localize(command: str, etc: Path) -> str:
    """A plan's command as the harness runs it: /etc/ paths moved under ETC, and every
    service tool given the configuration file the harness wrote (``--config-file``)."""
    command = re.sub(r"(?<![\w/.])/etc/", f"{etc}/", command)
    for service in SERVICES.values():
        for tool in service.tools:
            config = shlex.quote(str(etc / service.config))
            command = re.sub(rf"(?<![\w./-]){re.escape(tool)}(?![\w-])", f"{tool} --config-file {config}", command)
    return command


# ---------------------------------------------------------------------------------------
# Running commands with a release's code
# ---------------------------------------------------------------------------------------

IN_VENV = ROOT / "harness" / "in_venv.py"


@dataclass
class Run:
    """One harness run: its directory, backend, services, and how to reach ffu."""

    directory: Path
    backend: str
    services: List[str]
    ffu: List[str]
    urls: Dict[str, str] = field(default_factory=dict)

    @property
    def etc(self) -> Path:
        return self.directory / "etc"

    def venv(self, release: str) -> Path:
        return build_venv(release, self.ffu)

    def shell(self, release: str, command: str) -> Dict[str, Any]:
        """Runs a command (bash) with RELEASE's code; returns what the report keeps."""
        venv = self.venv(release)
        env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                   VIRTUAL_ENV=str(venv))
        work = self.directory / "work"
        work.mkdir(exist_ok=True)
        started = time.monotonic()
        result = subprocess.run(["bash", "-c", localize(command, self.etc)], cwd=work, env=env,
                                capture_output=True, text=True)
        return {"code_release": release, "command": command, "returncode": result.returncode,
                "seconds": round(time.monotonic() - started, 2),
                "output": (result.stdout + result.stderr)[-4000:]}

    def in_venv(self, release: str, *args: str, payload: Any = None) -> Any:
        """Runs harness/in_venv.py with RELEASE's Python (SQLAlchemy, alembic, drivers)."""
        python = self.venv(release) / "bin" / "python"
        result = subprocess.run([str(python), str(IN_VENV), *args], input=json.dumps(payload),
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise HarnessError(f"in_venv.py {' '.join(args)} failed with {release}'s code: {result.stderr.strip()[-2000:]}")
        return json.loads(result.stdout)

    def heads(self, release: str, dirs: Dict[str, str]) -> Dict[str, List[str]]:
        """The alembic heads of RELEASE's histories (in_venv.py heads), cached in its venv:
        they are a property of the installed packages, and reading them imports each
        project (about a minute for all eight on a busy machine)."""
        key = hashlib.sha256(json.dumps(dirs, sort_keys=True).encode()).hexdigest()[:12]
        cache = self.venv(release) / f".heads-{key}.json"
        if not cache.is_file():
            cache.write_text(json.dumps(self.in_venv(release, "heads", payload=dirs)))
        result: Dict[str, List[str]] = json.loads(cache.read_text())
        return result

    def call_ffu(self, *args: str) -> str:
        result = subprocess.run([*self.ffu, *args], capture_output=True, text=True)
        if result.returncode != 0:
            # ffu's exit status 2 is bad input (an unknown release, a malformed plan): so is ours.
            raise HarnessError(f"ffu {' '.join(args)} failed: {result.stderr.strip()}", 2 if result.returncode == 2 else 1)
        return result.stdout


# ---------------------------------------------------------------------------------------
# A cloud as a deployment leaves it
# ---------------------------------------------------------------------------------------

#: What a deployment tool runs to create each service's databases (kolla-ansible's and
#: openstack-ansible's bootstrap tasks); ``{nova_cell0}`` is cell0's URL.
DEPLOY: Dict[str, List[str]] = {
    "keystone": [
        "keystone-manage db_sync",
        "keystone-manage fernet_setup --keystone-user {user} --keystone-group {group}",
        "keystone-manage credential_setup --keystone-user {user} --keystone-group {group}",
    ],
    "glance": ["glance-manage db sync"],
    "cinder": ["cinder-manage db sync"],
    "placement": ["placement-manage db sync"],
    "nova": [
        "nova-manage api_db sync",
        "nova-manage cell_v2 map_cell0 --database_connection {nova_cell0}",
        "nova-manage cell_v2 create_cell --name cell1 --verbose",
        "nova-manage db sync",
        "nova-manage db online_data_migrations",
    ],
    "heat": ["heat-manage db_sync"],
    "neutron": ["neutron-db-manage upgrade heads"],
    "ironic": ["ironic-dbsync upgrade"],
}


def deploy(run: Run, release: str) -> List[Dict[str, Any]]:
    """Creates the run's databases at RELEASE with RELEASE's own code; returns the commands'
    records. Server databases are dropped and made anew first."""
    if run.backend != "sqlite":
        run.in_venv(release, "create", payload=list(run.urls.values()))
    write_configs(run.services, run.urls, run.etc)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
    records = []
    for service in run.services:
        for template in DEPLOY[service]:
            command = template.format(user=user, group=group,
                                      nova_cell0=shlex.quote(run.urls.get("nova_cell0", "")))
            record = run.shell(release, command)
            records.append(record)
            if record["returncode"] != 0:
                raise HarnessError(f"deploying {service} at {release} failed: {command}: {record['output'][-1500:]}")
    return records


# ---------------------------------------------------------------------------------------
# Executing a plan through ffu's journal
# ---------------------------------------------------------------------------------------

#: Step kinds that act on hosts or running services, never on a database's schema.
HOST_KINDS = {"stop", "start", "install", "backup", "repos", "postcheck", "finalize"}


def skip_reason(step: Dict[str, Any]) -> Optional[str]:
    """Why the harness does not run a step, or None when it runs it."""
    command = step.get("command")
    if step["kind"] in HOST_KINDS:
        return f"kind {step['kind']}: acts on hosts or running services, not on a database"
    if not command:
        return "no command: an action on hosts (configuration, service manager)"
    if re.match(r"\s*(mysql|mysqldump|psql|pg_dump)\b", command):
        return "a command for the database server's administrator (the harness makes the databases itself)"
    if re.search(r"(^|[\s(|;&$])openstack\s", command):
        return "asks a running service's API (the openstack client)"
    if re.search(r"\b[a-z]+-status upgrade check\b", command):
        return ("a readiness check that gates the new release's start; some need the running cloud "
                "(nova-status asks the placement API), so none is run")
    if not step.get("code_release"):
        return "names no code_release"
    return None


def execute(run: Run, plan_path: Path, report: Path) -> None:
    """Runs PLAN_PATH's steps in the journal's order; resumes a journal that exists.
    Appends one JSON line per step to REPORT; raises HarnessError on a failed command
    (the journal then holds the step as failed)."""
    steps = {s["id"]: s for s in json.loads(plan_path.read_text())["steps"]}
    journal = ["--db", f"sqlite:{run.directory / 'journal.sqlite'}", "--plan", str(plan_path)]
    run.call_ffu("journal", "init", *journal)
    while True:
        step_id = run.call_ffu("journal", "next", *journal).strip()
        if not step_id:
            return
        step = steps[step_id]
        reason = skip_reason(step)
        if reason is not None:
            record: Dict[str, Any] = {"step": step_id, "status": "skipped", "reason": reason}
        else:
            record = {"step": step_id, "status": "ran", **run.shell(step["code_release"], step["command"])}
        with report.open("a") as out:
            out.write(json.dumps(record) + "\n")
        if record.get("returncode", 0) != 0:
            run.call_ffu("journal", "fail", *journal, step_id)
            raise HarnessError(f"step {step_id} failed with {step['code_release']}'s code: "
                               f"{step['command']}\n{record['output'][-1500:]}")
        run.call_ffu("journal", "done", *journal, step_id)


# ---------------------------------------------------------------------------------------
# A run: state, judges, command line
# ---------------------------------------------------------------------------------------


#: Marks a directory as a harness run's, which --fresh may delete.
MARKER = ".ffu-harness-run"


def start(args: argparse.Namespace, ffu: List[str]) -> Run:
    """A run's state: read back when DIR holds one (resume), else made fresh: databases
    deployed at --from, and the plan (``ffu plan``, or --plan) saved as DIR/plan.json."""
    directory = Path(args.dir).resolve()
    state_file = directory / "state.json"
    if state_file.is_file() and not args.fresh:
        state = json.loads(state_file.read_text())
        say(f"resuming the run in {directory} ({state['from']} to {state['to']})")
        return Run(directory, state["backend"], state["services"], ffu, state["urls"])
    if not args.plan and not (getattr(args, "from") and args.to):
        raise HarnessError(f"{directory} holds no run to resume: give --from and --to, or --plan", 2)
    plan = json.loads(Path(args.plan).read_text()) if args.plan else None
    services = chosen_services(args, plan)
    clear(directory)
    prefix = "h" + hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    run = Run(directory, args.backend, services, ffu, database_urls(args.backend, services, directory, prefix))
    if plan is None:
        command = ["plan", "--from", getattr(args, "from"), "--to", args.to, "--services", ",".join(services),
                   "--format", "json"] + (["--skip-level"] if args.skip_level else [])
        plan = json.loads(run.call_ffu(*command))
    (directory / "plan.json").write_text(json.dumps(plan, indent=1))
    records = deploy(run, plan["from"])
    with (directory / "report.jsonl").open("w") as out:
        out.writelines(json.dumps({"status": "deploy", **r}) + "\n" for r in records)
    state = {"from": plan["from"], "to": plan["to"], "backend": run.backend,
             "services": services, "prefix": prefix, "urls": run.urls}
    state_file.write_text(json.dumps(state, indent=1))
    return run


def chosen_services(args: argparse.Namespace, plan: Optional[Dict[str, Any]]) -> List[str]:
    """--services; else the services of --plan; else every one the backend can migrate."""
    services: List[str]
    if args.services:
        services = str(args.services).split(",")
    elif plan is not None:
        services = [s for s in SERVICES if any(step.get("service") == s for step in plan["steps"])]
    else:
        services = [s.name for s in SERVICES.values() if s.sqlite or args.backend != "sqlite"]
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise HarnessError(f"unknown service {unknown[0]!r} (known: {', '.join(SERVICES)})", 2)
    if args.backend == "sqlite" and any(not SERVICES[s].sqlite for s in services):
        raise HarnessError("neutron's and ironic's migrations alter constraints, which SQLite cannot: "
                           "use --backend mysql or postgres", 2)
    return services


def clear(directory: Path) -> None:
    """Makes DIRECTORY an empty run directory; refuses to delete one the harness did not make."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).is_file():
            raise HarnessError(f"{directory} is not empty and holds no harness run: give a new directory", 2)
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("a run of harness/openstack_harness.py; --fresh deletes it\n")


def judge(run: Run) -> Dict[str, Any]:
    """Judges a finished run from outside ffu: each database's alembic_version against the
    heads of the target release's own alembic histories (alembic's ScriptDirectory on the
    installed packages), and against a database that the target's own deployment commands
    made from nothing (glance keeps only its contract head: that comparison is its judge).
    Returns {"databases": {NAME: {...}}, "problems": [...]}."""
    state = json.loads((run.directory / "state.json").read_text())
    target = state["to"]
    dirs = {db: SERVICES[s].alembic[db] for s in run.services for db in SERVICES[s].databases}
    heads = run.heads(target, dirs)
    applied = run.in_venv(target, "versions", payload=run.urls)
    fresh = fresh_versions(run, target, state["prefix"])
    problems, databases = [], {}
    for db in dirs:
        databases[db] = {"applied": applied[db], "heads": heads[db], "fresh": fresh[db]}
        if applied[db] != fresh[db]:
            problems.append(f"{db}: alembic_version {applied[db]} differs from a fresh {target} sync {fresh[db]}")
        if db != "glance" and applied[db] != heads[db]:
            problems.append(f"{db}: alembic_version {applied[db]} is not the {target} heads {heads[db]}")
        if db == "glance" and not (applied[db] and set(applied[db]) <= set(heads[db])):
            problems.append(f"glance: alembic_version {applied[db]} is not among the {target} heads {heads[db]}")
    return {"release": target, "databases": databases, "problems": problems}


def fresh_versions(run: Run, release: str, prefix: str) -> Dict[str, List[str]]:
    """The alembic_version rows that RELEASE's own deployment commands leave in new
    databases of the run's services on its backend (deployed beside the run, under
    reference/). Cached per service in the release's venv, as a property of its packages."""
    venv = run.venv(release)

    def cache(service: str) -> Path:
        key = hashlib.sha256(json.dumps(DEPLOY[service]).encode()).hexdigest()[:12]
        return venv / f".fresh-{run.backend}-{service}-{key}.json"

    missing = [s for s in run.services if not cache(s).is_file()]
    if missing:
        directory = run.directory / "reference"
        reference = Run(directory, run.backend, missing, run.ffu,
                        database_urls(run.backend, missing, directory, prefix + "r"))
        deploy(reference, release)
        rows = run.in_venv(release, "versions", payload=reference.urls)
        for service in missing:
            cache(service).write_text(json.dumps({db: rows[db] for db in SERVICES[service].databases}))
    out: Dict[str, List[str]] = {}
    for service in run.services:
        out.update(json.loads(cache(service).read_text()))
    return out


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="openstack_harness.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    venv = sub.add_parser("venv", help="build the virtual environments of releases")
    venv.add_argument("releases", nargs="+", metavar="RELEASE")
    run = sub.add_parser("run", help="deploy at --from and run the plan's database steps (resumes DIR's run)")
    run.add_argument("--from", required=False)
    run.add_argument("--to", required=False)
    run.add_argument("--skip-level", action="store_true")
    run.add_argument("--services", help="comma-separated (default: all that the backend can migrate)")
    run.add_argument("--backend", choices=BACKENDS, default="sqlite")
    run.add_argument("--plan", help="run this ffu-plan/1 JSON instead of `ffu plan`'s")
    run.add_argument("--dir", required=True, help="the run's directory (databases, configuration, journal, report)")
    run.add_argument("--fresh", action="store_true", help="start anew even when DIR holds a run")
    run.add_argument("--judge", action="store_true", help="judge the databases at the end")
    judge_cmd = sub.add_parser("judge", help="judge a finished run's databases")
    judge_cmd.add_argument("--dir", required=True)
    figures_cmd = sub.add_parser("figures", help="how long each database step of finished runs took "
                                 "(report.jsonl), as JSON lines")
    figures_cmd.add_argument("dirs", nargs="+", metavar="DIR")
    args = parser.parse_args(argv)
    if args.command == "run" and args.fresh and not args.plan and not (getattr(args, "from") and args.to):
        parser.error("run --fresh needs --from and --to, or --plan")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "figures":
            for directory in args.dirs:
                for row in figures(Path(directory)):
                    print(json.dumps(row))
            return 0
        ffu = ffu_command()
        if args.command == "venv":
            for release in args.releases:
                print(build_venv(release, ffu))
            return 0
        if args.command == "run":
            run = start(args, ffu)
            execute(run, run.directory / "plan.json", run.directory / "report.jsonl")
            summarize(run.directory / "report.jsonl")
            if not args.judge:
                return 0
        else:
            state = json.loads((Path(args.dir) / "state.json").read_text())
            run = Run(Path(args.dir).resolve(), state["backend"], state["services"], ffu, state["urls"])
        verdict = judge(run)
        print(json.dumps(verdict, indent=1))
        return 1 if verdict["problems"] else 0
    except HarnessError as err:
        print(f"harness: error: {err.args[0]}", file=sys.stderr)
        return err.args[1] if len(err.args) > 1 else 1
    except (OSError, ValueError) as err:
        # A missing or unreadable --plan or --dir, a plan that is not JSON.
        print(f"harness: error: {err}", file=sys.stderr)
        return 2


def figures(directory: Path) -> List[Dict[str, Any]]:
    """The seconds of every step of DIRECTORY's run that ran (the wall time of its command,
    Python start-up included), with the step's service, release, kind and migration or task,
    from its plan.json, state.json and report.jsonl."""
    state = json.loads((directory / "state.json").read_text())
    plan = json.loads((directory / "plan.json").read_text())
    steps = {s["id"]: s for s in plan["steps"]}
    rows = []
    for line in (directory / "report.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["status"] != "ran":
            continue
        step = steps[record["step"]]
        rows.append({"backend": state["backend"], "from": state["from"], "to": state["to"],
                     "skip_level": bool((plan.get("policy") or {}).get("skip_level")),
                     "step": step["id"], "service": step.get("service"), "release": step.get("release"),
                     "kind": step["kind"], "migration": step.get("migration"),
                     "seconds": record["seconds"], "returncode": record["returncode"]})
    return rows


def summarize(report: Path) -> None:
    """Prints what ran and what was skipped (and why) to stderr."""
    records = [json.loads(line) for line in report.read_text().splitlines()]
    ran = [r for r in records if r["status"] == "ran"]
    skipped = [r for r in records if r["status"] == "skipped"]
    say(f"{len(ran)} steps ran ({sum(r['seconds'] for r in ran):.1f} s), {len(skipped)} skipped:")
    for record in skipped:
        say(f"  skipped {record['step']}: {record['reason']}")


if __name__ == "__main__":
    sys.exit(main())
