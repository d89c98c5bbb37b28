"""The shapes of the dicts ffu returns, for annotations.

Re-exported from :mod:`ffu`: annotate with ``ffu.ServiceState``, ``ffu.JournalStep`` and so
on. They describe plain ``dict`` objects (``isinstance`` checks against them are not
possible).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, TypedDict, Union

# Optional rather than `X | None`: the annotations are evaluated at run time, also on
# Python 3.9 (by typing.get_type_hints, or a library that reads them).

#: What a plan step does (``Step.kind``).
StepKind = Literal[
    "precheck",
    "stop",
    "backup",
    "repos",
    "install",
    "config",
    "expand",
    "migrate",
    "contract",
    "data",
    "task",
    "start",
    "postcheck",
    "finalize",
    "restore",
]

#: The phases of a hop, in the order they run (``Step.phase``); ``finalize`` closes a
#: rolling hop.
Phase = Literal[
    "precheck",
    "prepare",
    "stop",
    "backup",
    "repos",
    "install",
    "config",
    "migrations",
    "start",
    "converge",
    "finalize",
    "restore",
]

#: Whose code runs a step or task: the release the hop starts from, or the one it goes to.
CodeSide = Literal["current", "target"]

#: When within a hop a catalog task runs (``TaskInfo["phase"]``); each lands in the plan
#: phase of the same name (``after_stop`` in ``stop``, ``before_migrations`` and
#: ``after_migrations`` in ``migrations``, ``before_start`` in ``start``,
#: ``precheck_start`` in ``precheck``).
TaskPhase = Literal[
    "precheck_start",
    "prepare",
    "after_stop",
    "before_migrations",
    "after_migrations",
    "before_start",
    "converge",
]

#: What a component does during an upgrade.
Role = Literal["control", "agent", "dataplane", "infra"]


class ConfigEdit(TypedDict):
    """A configuration edit, in ``Step.config`` and ``TaskInfo["config"]``."""

    #: The file, such as ``/etc/nova/nova.conf``.
    file: str
    #: The section, such as ``workarounds``.
    section: str
    #: The option within the section.
    option: str
    #: What to do: ``set`` ``value``, ``unset`` a temporary setting, ``rename`` to ``to``,
    #: ``remove`` an option the release no longer reads, or note the release's new
    #: ``default`` (``value``).
    action: Literal["set", "unset", "rename", "remove", "default"]
    #: The value, for ``set`` and ``default``; None otherwise.
    value: Optional[str]
    #: The new ``SECTION.name``, for ``rename``; None otherwise.
    to: Optional[str]
    #: Whether it is a setting for the duration of the upgrade only (unset in converge).
    temporary: bool


class TaskInfo(TypedDict):
    """A catalog task (an upgrade action that is not a migration), in ``Catalog.tasks``."""

    #: Unique id among tasks and migrations, such as ``nova.ocata.create-cell0-db``.
    id: str
    #: The service it belongs to.
    service: str
    #: The release whose hop runs it; None: every hop whose end lies within ``since`` and
    #: ``until``.
    release: Optional[str]
    #: For a task without a release: the first release at which it applies.
    since: Optional[str]
    #: For a task without a release: the last release at which it applies.
    until: Optional[str]
    #: When within the hop it runs.
    phase: TaskPhase
    #: Whose code runs it.
    code: CodeSide
    #: Where it runs: once on the service's bootstrap host, or on every host of the service.
    on: Literal["bootstrap", "all"]
    #: The command, if it runs one.
    command: Optional[str]
    #: The configuration edit it makes, if it is one.
    config: Optional[ConfigEdit]
    #: Ids of the migrations and tasks that must run first.
    requires: list[str]
    #: In which upgrades it runs.
    mode: Literal["any", "offline", "rolling"]
    #: Why it is there, citing the upstream fact.
    reason: str
    #: Estimated duration in seconds, if the catalog gives one.
    duration_s: Optional[float]
    #: The tool's own ``x-...`` fields (empty when there are none).
    x: dict[str, Any]


class ComponentInfo(TypedDict):
    """A component of a service, in ``ServiceInfo["components"]``."""

    #: Unique name across the catalog, such as ``nova-conductor``.
    name: str
    #: What it does during an upgrade.
    role: Role
    #: The service manager's name (a systemd unit), if the catalog gives one.
    unit: Optional[str]
    #: First release that has it, if later than its service's.
    since: Optional[str]
    #: Last release that has it, if it was removed.
    until: Optional[str]
    #: What a cloud running it must change before upgrading past ``until``, if anything.
    removal_needs: Optional[str]
    #: The tool's own ``x-...`` fields (empty when there are none).
    x: dict[str, Any]


class DatabaseInfo(TypedDict):
    """A database of a service, in ``ServiceInfo["databases"]``."""

    #: Its name, as a backup command names it.
    name: str
    #: First release that has it, if later than its service.
    since: Optional[str]
    #: Last release that has it, if it was dropped.
    until: Optional[str]


class ServiceInfo(TypedDict):
    """What a catalog knows of a service, from ``Catalog.service_info``."""

    #: Its name.
    name: str
    #: First release that has it, if not the catalog's first.
    since: Optional[str]
    #: Last release that has it, if it was retired.
    until: Optional[str]
    #: Services whose steps come first within a hop.
    after: list[str]
    #: Its version per release (release name to version), where the catalog gives one.
    versions: dict[str, str]
    #: Its readiness check command, such as ``nova-status upgrade check``.
    upgrade_check: Optional[str]
    #: Its databases, for backups.
    databases: list[DatabaseInfo]
    #: Its components, in catalog order.
    components: list[ComponentInfo]
    #: How far its agents may lag its control plane: a number of releases, or ``"slurp"``
    #: (back to the previous SLURP release).
    max_skew: Union[int, Literal["slurp"]]
    #: The order its control components restart in a rolling upgrade (component names);
    #: empty: catalog order.
    restart_order: list[str]
    #: The tool's own ``x-...`` fields (empty when there are none).
    x: dict[str, Any]


class ReleaseDetails(TypedDict):
    """A release of a catalog, in ``Catalog.release_details``."""

    #: The release's name (``"2023.1"``).
    name: str
    #: Its other names (``["antelope"]``).
    aliases: list[str]
    #: Its release date as the catalog gives it (``"2023-03-22"``), or None.
    date: Optional[str]
    #: Whether it is a SLURP release (skip-level upgrades start and end at one).
    slurp: bool


class NegotiatedExtensions(TypedDict):
    """What a service may advertise, in ``Catalog.negotiate_details``."""

    #: The API extensions every running server of the service supports (closed under
    #: ``requires``), sorted.
    advertised: list[str]
    #: Extensions some server supports that are not advertised, each with the reason.
    withheld: dict[str, str]


class ServiceState(TypedDict):
    """Where a service's databases stand, in the result of ``ffu.discover``."""

    #: The newest release all of whose migrations of the service (and of every release
    #: before it) are applied; None when not even the first release's are.
    release: Optional[str]
    #: The applied migrations (catalog ids), in catalog order: the alembic heads and
    #: everything they require within the service.
    applied: list[str]
    #: The catalog migrations still to run, in catalog order.
    pending: list[str]
    #: The sqlalchemy-migrate version recorded in ``migrate_version``, if any.
    legacy_version: Optional[int]
    #: With a per-revision history (DESIGN §12): the newest release whose schema is the same
    #: as ``release``'s, when newer (the releases between bring no revision; ``release`` is
    #: the oldest); else None.
    same_schema_until: Optional[str]
    #: Revisions already applied of pending migrations: a database stopped partway through.
    applied_revisions: list[str]
    #: The revisions of the pending migrations still to apply, in catalog order.
    pending_revisions: list[str]


class JournalStep(TypedDict):
    """One step of a journal, in ``Journal.steps()``."""

    #: The plan step's id.
    id: str
    #: Its position in the plan, from 0.
    position: int
    #: Where it stands.
    state: Literal["pending", "running", "done", "failed"]
    #: How many times ``Journal.next`` has given it.
    attempts: int
    #: The host it runs on, for plans per host.
    host: Optional[str]
    #: When its last attempt started (Unix milliseconds).
    started_at: Optional[int]
    #: When it finished (Unix milliseconds).
    finished_at: Optional[int]


class JournalCounts(TypedDict):
    """How many steps of a journal are in each state, from ``Journal.status()``."""

    pending: int
    running: int
    done: int
    failed: int


__all__ = [
    "CodeSide",
    "ComponentInfo",
    "ConfigEdit",
    "DatabaseInfo",
    "JournalCounts",
    "JournalStep",
    "NegotiatedExtensions",
    "Phase",
    "ReleaseDetails",
    "Role",
    "ServiceInfo",
    "ServiceState",
    "StepKind",
    "TaskInfo",
    "TaskPhase",
]
