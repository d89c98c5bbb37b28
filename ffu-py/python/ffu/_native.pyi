"""Type stubs of the native module ``ffu._native`` (checked by ``mypy.stubtest``)."""

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal, SupportsIndex, final, overload

from ffu._types import (
    CodeSide,
    ConfigEdit,
    JournalCounts,
    JournalStep,
    NegotiatedExtensions,
    Phase,
    ReleaseDetails,
    ServiceInfo,
    ServiceState,
    StepKind,
    TaskInfo,
)

__all__ = [
    "__version__",
    "Catalog",
    "Inventory",
    "Plan",
    "PlanIterator",
    "Hop",
    "Step",
    "Violation",
    "FfuError",
    "CatalogError",
    "NoPathError",
    "PlanError",
    "DatabaseError",
    "JournalError",
    "ArgumentError",
    "ArgumentTypeError",
    "Journal",
    "discover",
    "discovery_sql",
    "import_alembic",
    "AlembicImport",
    "main",
    "_test_panic",
]

__version__: Final[str]

_Mode = Literal["offline", "rolling"]
_Backend = Literal["sqlite", "postgres", "mysql"]
_State = Mapping[str, Mapping[str, Any] | Iterable[str]]

# The TypedDicts are public in `ffu` (ffu/_types.py); the private names are the ones these
# stubs gave them before, kept for annotations that imported them from here.
_Negotiated = NegotiatedExtensions
_ServiceState = ServiceState
_JournalStep = JournalStep
_JournalCounts = JournalCounts
_ReleaseDetails = ReleaseDetails
_StepKind = StepKind

@final
class Catalog:
    """A validated catalog of releases, services, components and migrations."""

    @staticmethod
    def openstack() -> Catalog: ...
    @staticmethod
    def openstack_with_config() -> Catalog: ...
    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> Catalog: ...
    @staticmethod
    def from_yaml(text: str, *, file: str = "<string>") -> Catalog: ...
    @staticmethod
    def from_json(text: str, *, file: str = "<string>") -> Catalog: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any], *, file: str = "<dict>") -> Catalog: ...
    @property
    def name(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def releases(self) -> list[str]: ...
    @property
    def services(self) -> list[str]: ...
    @property
    def release_details(self) -> list[ReleaseDetails]: ...
    @property
    def tasks(self) -> list[TaskInfo]: ...
    def service_info(self, name: str) -> ServiceInfo: ...
    def stats(self) -> dict[str, int]: ...
    def plan(
        self,
        from_: str | None,
        to: str,
        *,
        mode: _Mode = "offline",
        skip_level: bool = False,
        keep_dataplane: bool = True,
        services: Iterable[str] | None = None,
        max_unavailable: str | int | None = None,
        state: _State | None = None,
        repo_command: str | None = None,
        backup_command: str | None = None,
        backup_dir: str | None = None,
    ) -> Plan: ...
    def plan_inventory(
        self,
        inventory: Inventory,
        to: str,
        *,
        mode: _Mode = "offline",
        skip_level: bool = False,
        keep_dataplane: bool = True,
        services: Iterable[str] | None = None,
        max_unavailable: str | int | None = None,
        state: _State | None = None,
        repo_command: str | None = None,
        backup_command: str | None = None,
        backup_dir: str | None = None,
    ) -> Plan: ...
    def negotiate(self, inventory: Inventory) -> dict[str, list[str]]: ...
    def negotiate_details(self, inventory: Inventory) -> dict[str, NegotiatedExtensions]: ...
    def verify(self, plan: Plan | Mapping[str, Any]) -> list[Violation]: ...
    def config_diff(self, service: str, from_: str, to: str) -> dict[str, Any]: ...
    def migrate_config(
        self, text: str, service: str, from_: str, to: str, *, file: str = "<string>"
    ) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_yaml(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Inventory:
    """A validated inventory (``ffu-inventory/1``): hosts and the release each component runs."""

    @staticmethod
    def from_file(catalog: Catalog, path: str | os.PathLike[str]) -> Inventory: ...
    @staticmethod
    def from_yaml(catalog: Catalog, text: str, *, file: str = "<string>") -> Inventory: ...
    @staticmethod
    def from_json(catalog: Catalog, text: str, *, file: str = "<string>") -> Inventory: ...
    @staticmethod
    def from_dict(catalog: Catalog, data: Mapping[str, Any], *, file: str = "<dict>") -> Inventory: ...
    @property
    def hosts(self) -> list[str]: ...
    @property
    def file(self) -> str: ...
    def __len__(self) -> int: ...

@final
class Plan:
    """An upgrade plan (``ffu-plan/1``): a sequence of its steps."""

    @staticmethod
    def from_json(text: str, *, file: str = "<string>") -> Plan: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any], *, file: str = "<dict>") -> Plan: ...
    @property
    def format(self) -> str: ...
    @property
    def catalog(self) -> str: ...
    @property
    def from_(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def policy(self) -> dict[str, Any]: ...
    @property
    def path(self) -> list[str]: ...
    @property
    def hops(self) -> list[Hop]: ...
    @property
    def applied(self) -> list[str]: ...
    @property
    def applied_revisions(self) -> list[str]: ...
    @property
    def recovery(self) -> bool: ...
    @property
    def steps(self) -> list[Step]: ...
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: SupportsIndex, /) -> Step: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Step]: ...
    def __iter__(self) -> PlanIterator: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_text(self, catalog: Catalog | None = None) -> str: ...
    def to_dot(self) -> str: ...
    def to_svg(self, catalog: Catalog | None = None) -> str: ...
    def estimate(self, catalog: Catalog | None = None) -> dict[str, Any]: ...
    def with_windows(
        self,
        window: str | int,
        max_hosts_per_window: int | None = None,
        catalog: Catalog | None = None,
    ) -> Plan: ...
    @property
    def windows(self) -> list[dict[str, Any]]: ...
    def to_ansible(
        self,
        inventory: Inventory | None = None,
        journal: str | None = None,
        commands: Mapping[str, str] | None = None,
        ffu: str | None = None,
    ) -> dict[str, str]: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class PlanIterator(Iterator[Step]):
    def __iter__(self) -> PlanIterator: ...
    def __next__(self) -> Step: ...

@final
class Hop:
    """One hop of a plan's path."""

    @property
    def from_(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def skip(self) -> bool: ...
    @property
    def releases(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Step:
    """One step of a plan, with the fields of the plan document as attributes."""

    @property
    def id(self) -> str: ...
    @property
    def hop(self) -> int: ...
    @property
    def kind(self) -> StepKind: ...
    @property
    def service(self) -> str | None: ...
    @property
    def component(self) -> str | None: ...
    @property
    def release(self) -> str | None: ...
    @property
    def migration(self) -> str | None: ...
    @property
    def command(self) -> str | None: ...
    @property
    def requires(self) -> list[str]: ...
    @property
    def reason(self) -> str: ...
    @property
    def rollback_point(self) -> bool: ...
    @property
    def host(self) -> str | None: ...
    @property
    def advertised(self) -> dict[str, list[str]] | None: ...
    @property
    def phase(self) -> Phase | None: ...
    @property
    def code(self) -> CodeSide | None: ...
    @property
    def code_release(self) -> str | None: ...
    @property
    def revisions(self) -> list[str]: ...
    @property
    def task(self) -> str | None: ...
    @property
    def disable(self) -> bool: ...
    @property
    def enable(self) -> bool: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...
    @property
    def databases(self) -> list[str] | None: ...
    @property
    def batch(self) -> int | None: ...
    @property
    def estimate_s(self) -> int | None: ...
    @property
    def restores(self) -> str | None: ...
    @property
    def config(self) -> ConfigEdit | None: ...
    @property
    def x(self) -> dict[str, Any] | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Violation:
    """One broken safety rule."""

    @property
    def rule(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def steps(self) -> list[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

class FfuError(Exception):
    """Base class of every error ffu raises."""

    no_plan: bool

class CatalogError(FfuError, ValueError):
    """A catalog (or inventory, or alembic script) cannot be read, or breaks a rule."""

    file: str
    line: int | None
    column: int | None
    item: str | None
    cycle: list[str] | None

class NoPathError(FfuError):
    """No upgrade path: an unknown release, a downgrade, no chain of edges, nothing to upgrade."""

    from_: str | None
    to: str | None
    release: str | None
    suggestions: list[str] | None
    furthest: str | None
    migration: str | None
    inventory: str | None

class PlanError(FfuError):
    """No safe plan can be made, or a plan document or request cannot be used."""

    file: str | None
    hop: str | None
    cycle: list[str] | None
    facts: list[dict[str, str]] | None
    migration: str | None
    needs: str | None
    service: str | None

class DatabaseError(FfuError):
    """A database cannot be read or written (discovery, the journal)."""

    target: str

class JournalError(FfuError):
    """The journal refuses a transition: another plan, a held lock, a step not running."""

    target: str
    journal_checksum: str | None
    plan_checksum: str | None
    owner: str | None
    expires_in_s: int | None
    step: str | None

class ArgumentError(FfuError, ValueError):
    """An argument has a value ffu cannot use (also a ``ValueError``)."""

    argument: str

class ArgumentTypeError(FfuError, TypeError):
    """An argument has a type ffu does not take (also a ``TypeError``)."""

    argument: str

def discover(
    conn: Any,
    catalog: Catalog,
    services: Iterable[str],
    *,
    backend: _Backend | None = None,
) -> dict[str, ServiceState]: ...

@final
class Journal:
    """The journal of an upgrade run, on a SQLite file or any DB-API 2.0 connection."""

    def __new__(
        cls,
        conn: Any,
        plan: Plan | Mapping[str, Any] | None = None,
        *,
        backend: _Backend | None = None,
    ) -> Journal: ...
    @property
    def checksum(self) -> str: ...
    def plan(self) -> Plan: ...
    @overload
    def next(self, owner: str = "ffu", lock_ttl: float = 3600.0, *, n: None = None) -> str | None: ...
    @overload
    def next(self, owner: str = "ffu", lock_ttl: float = 3600.0, *, n: int) -> list[Step]: ...
    # ``next(n)``: a number first is the number of steps (the owner is "ffu").
    @overload
    def next(self, owner: int, lock_ttl: float = 3600.0) -> list[Step]: ...
    def done(self, step: str | Step, *, force: bool = False) -> None: ...
    def fail(self, step: str | Step, *, error: str | None = None) -> None: ...
    def skip(self, step: str | Step) -> Literal["pending", "running", "done", "failed"]: ...
    def reset(self, step: str | Step) -> Literal["pending", "running", "done", "failed"]: ...
    def unlock(self, owner: str = "ffu", *, force: bool = False) -> str | None: ...
    def errors(self) -> dict[str, str]: ...
    def status(self) -> JournalCounts: ...
    def steps(self) -> list[JournalStep]: ...
    def recovery_plan(
        self, catalog: Catalog | None = None, restore_command: str | None = None
    ) -> Plan: ...

def discovery_sql(backend: Literal["sqlite", "postgres", "postgresql", "mysql", "mariadb"]) -> list[str]: ...

@final
class AlembicImport:
    """Migrations read from alembic revision scripts: a catalog fragment for ``include:``."""

    @property
    def order(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    def to_yaml(self) -> str: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...

def import_alembic(
    directory: str | os.PathLike[str], service: str, *, release: str | None = None
) -> AlembicImport: ...
def main(argv: list[str]) -> int:
    """Runs the ``ffu`` command line (the Rust CLI itself) with ``argv``, the arguments after
    the program name; returns its exit status (0 success, 1 no plan possible or violations
    found, 2 bad input or usage).

    The command writes to file descriptors 1 and 2 and reads ``-`` from descriptor 0, as the
    ``ffu`` binary does (``sys.stdout`` and ``sys.stderr`` are flushed first); the GIL is
    released while it runs. Its log events go through the logger ``ffu``, shown on
    ``sys.stderr`` while it runs (warnings, or everything from debug with ``-v``).
    """

def _test_panic() -> None: ...
