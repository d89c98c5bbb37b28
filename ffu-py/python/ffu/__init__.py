"""ffu: plans fast-forward upgrades of multi-service clouds (OpenStack first).

Operators must move a cloud from release N to N+k, but each project only supports N to N+1.
ffu models releases, services, components and migrations as a catalog, computes a safe,
ordered, explained plan, and checks any plan against the safety rules::

    import ffu

    catalog = ffu.Catalog.openstack()
    plan = catalog.plan("newton", "queens")
    for step in plan:
        print(step.kind, step.id, step.command or "")
    assert catalog.verify(plan) == []

Databases: :func:`discover` reads where a database stands (alembic and
sqlalchemy-migrate versions), ``Catalog.plan(..., state=...)`` plans only what remains, and
:class:`Journal` records a run's progress so that it resumes after a crash; both take any
DB-API 2.0 connection (sqlite3, psycopg, PyMySQL) or a SQLite path. :func:`import_alembic`
reads a project's alembic revision scripts into catalog migrations.

Every error ffu raises is an :class:`FfuError`: :class:`CatalogError` (also a
``ValueError``), :class:`NoPathError`, :class:`PlanError`, :class:`DatabaseError`,
:class:`JournalError`, and for a bad argument :class:`ArgumentError` (also a
``ValueError``) or :class:`ArgumentTypeError` (also a ``TypeError``), with the evidence as
attributes. The core's log events go to the standard :mod:`logging` logger ``"ffu"``.

For annotations, the dicts ffu returns have TypedDicts: :class:`ReleaseDetails`
(``Catalog.release_details``), :class:`NegotiatedExtensions` (``negotiate_details``),
:class:`ServiceState` (:func:`discover`), :class:`JournalStep` and :class:`JournalCounts`
(:class:`Journal`), :class:`ConfigEdit` (``Step.config``), :class:`TaskInfo`
(``Catalog.tasks``) and :class:`ServiceInfo` with :class:`ComponentInfo` and
:class:`DatabaseInfo` (``Catalog.service_info``); the ``Literal`` aliases :data:`StepKind`,
:data:`Phase`, :data:`CodeSide`, :data:`TaskPhase` and :data:`Role` name the values of
those fields.

``python -m ffu`` (and the ``ffu`` console script) is the ``ffu`` command line itself: the
Rust CLI, run in this process (``ffu.__main__``).
"""

from ffu._native import (
    AlembicImport,
    ArgumentError,
    ArgumentTypeError,
    Catalog,
    CatalogError,
    DatabaseError,
    FfuError,
    Hop,
    Inventory,
    Journal,
    JournalError,
    NoPathError,
    Plan,
    PlanError,
    PlanIterator,
    Step,
    Violation,
    __version__,
    discover,
    discovery_sql,
    import_alembic,
)
from ffu._types import (
    CodeSide,
    ComponentInfo,
    ConfigEdit,
    DatabaseInfo,
    JournalCounts,
    JournalStep,
    NegotiatedExtensions,
    Phase,
    ReleaseDetails,
    Role,
    ServiceInfo,
    ServiceState,
    StepKind,
    TaskInfo,
    TaskPhase,
)

__all__ = [
    "AlembicImport",
    "ArgumentError",
    "ArgumentTypeError",
    "Catalog",
    "CatalogError",
    "CodeSide",
    "ComponentInfo",
    "ConfigEdit",
    "DatabaseError",
    "DatabaseInfo",
    "FfuError",
    "Hop",
    "Inventory",
    "Journal",
    "JournalCounts",
    "JournalError",
    "JournalStep",
    "NegotiatedExtensions",
    "NoPathError",
    "Phase",
    "Plan",
    "PlanError",
    "PlanIterator",
    "ReleaseDetails",
    "Role",
    "ServiceInfo",
    "ServiceState",
    "Step",
    "StepKind",
    "TaskInfo",
    "TaskPhase",
    "Violation",
    "__version__",
    "discover",
    "discovery_sql",
    "import_alembic",
]
