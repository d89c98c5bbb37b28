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

Errors are :class:`FfuError` subclasses: :class:`CatalogError` (also a ``ValueError``),
:class:`NoPathError` and :class:`PlanError`, with the evidence as attributes. The core's log
events go to the standard :mod:`logging` logger ``"ffu"``.
"""

from ffu._native import (
    Catalog,
    CatalogError,
    FfuError,
    Hop,
    Inventory,
    NoPathError,
    Plan,
    PlanError,
    PlanIterator,
    Step,
    Violation,
    __version__,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "FfuError",
    "Hop",
    "Inventory",
    "NoPathError",
    "Plan",
    "PlanError",
    "PlanIterator",
    "Step",
    "Violation",
    "__version__",
]
