"""The shapes of the dicts ffu returns, for annotations.

Re-exported from :mod:`ffu`: annotate with ``ffu.ServiceState``, ``ffu.JournalStep`` and so
on. They describe plain ``dict`` objects (``isinstance`` checks against them are not
possible).
"""

from __future__ import annotations

from typing import Literal, Optional, TypedDict

# Optional rather than `X | None`: the annotations are evaluated at run time, also on
# Python 3.9 (by typing.get_type_hints, or a library that reads them).


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
    "JournalCounts",
    "JournalStep",
    "NegotiatedExtensions",
    "ReleaseDetails",
    "ServiceState",
]
