"""Seeded fuzzing of the Python boundary: odd Python values for every argument ffu converts.

The promise checked is only this: a call with any value either succeeds or raises
``ffu.FfuError``, ``TypeError`` or ``ValueError`` (``CatalogError`` is both); never
``RecursionError``, ``SystemError``, ``MemoryError``, a panic, an interpreter that aborts or
dies by a signal, or a hang. An exception that an odd object raises itself (``Boom``, from
its ``__len__`` or ``__str__``) is the caller's and may pass through.

The values: huge ranges (``range(10**12)``), sequences whose ``__len__`` lies, lists and
dicts nested 2000 deep, a list that contains itself, wrong types (None, bytes, floats, NaN,
complex, sets, generators, classes), negative and huge numbers, strings with NUL or a lone
surrogate, a megabyte string; put in place of a whole argument, or of one node of a real
catalog or plan document (from ``to_dict()``).

A value can abort the interpreter (an allocation of ``len()`` items), so the calls run in
child interpreters (``sys.executable``), a batch each: a child writes a line before and
after each call, and when it dies the case it was in is the culprit; a new child goes on
with the next case. Every case draws its values from its own seed, so one case can be
rerun alone:

- ``FFU_FUZZ_SEED=N`` seeds the run (default: fixed, so runs are stable);
- ``FFU_FUZZ_CASES=N`` cases per group (default: every odd value in every slot of the
  group, and ``RANDOM_CASES`` more);
- ``FFU_FUZZ_CASE=I`` runs case I only.
"""

from __future__ import annotations

import collections.abc
import copy
import datetime
import decimal
import functools
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ffu

#: The seed of a run without FFU_FUZZ_SEED.
DEFAULT_SEED = 0x0FF_2016

#: A child interpreter that runs longer is hung (the whole batch takes about a second).
HANG_S = 60

SEED = int(os.environ.get("FFU_FUZZ_SEED", str(DEFAULT_SEED)), 0)
CASES = int(os.environ["FFU_FUZZ_CASES"]) if "FFU_FUZZ_CASES" in os.environ else None
ONLY = os.environ.get("FFU_FUZZ_CASE")

#: What a call may raise: by the promise, and what the odd objects raise themselves.
ALLOWED: tuple[type[BaseException], ...] = (ffu.FfuError, TypeError, ValueError)

TINY = """\
format: ffu-catalog/1
name: tiny
releases: [{name: a}, {name: b}, {name: c}]
services:
  - name: alpha
    components: [{name: alpha-api, role: control}, {name: alpha-agent, role: agent}]
  - name: beta
    after: [alpha]
    components: [{name: beta-api, role: control}]
migrations:
  - {id: alpha.b.sync, service: alpha, release: b, kind: migrate, command: "alpha-manage db sync"}
  - {id: beta.b.sync, service: beta, release: b, kind: migrate, command: "beta-manage db sync"}
  - {id: alpha.c.data, service: alpha, release: c, kind: data, command: "alpha-manage online"}
  - {id: beta.c.sync, service: beta, release: c, kind: migrate, command: "beta-manage db sync"}
"""


class Boom(Exception):
    """Raised by the odd objects themselves: theirs to raise, not ffu's."""


class LyingSequence(collections.abc.Sequence[Any]):
    """A sequence whose ``__len__`` says `claimed` while it holds `items`."""

    def __init__(self, claimed: int, items: list[Any]) -> None:
        self.claimed = claimed
        self.items = items

    def __len__(self) -> int:
        return self.claimed

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]


class BoomSequence(collections.abc.Sequence[Any]):
    """A sequence whose ``__len__`` and items raise."""

    def __len__(self) -> int:
        raise Boom("len")

    def __getitem__(self, index: Any) -> Any:
        raise Boom("item")


class BoomStr:
    """An object that cannot be shown."""

    def __str__(self) -> str:
        raise Boom("str")

    __repr__ = __str__


class Name(str):
    """A str subclass, as some libraries hand out."""


def deep_list(depth: int = 2000) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def deep_dict(depth: int = 2000) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def self_containing() -> list[Any]:
    value: list[Any] = ["nova"]
    value.append(value)
    return value


#: Odd values by label, made fresh for each use (generators are used up, lists mutated).
ODD: list[tuple[str, Callable[[], Any]]] = [
    ("None", lambda: None),
    ("True", lambda: True),
    ("-1", lambda: -1),
    ("0", lambda: 0),
    ("10**30", lambda: 10**30),
    ("-(10**30)", lambda: -(10**30)),
    ("nan", lambda: math.nan),
    ("inf", lambda: math.inf),
    ("-0.0", lambda: -0.0),
    ("1.5", lambda: 1.5),
    ("1j", lambda: 1j),
    ("Decimal('1.5')", lambda: decimal.Decimal("1.5")),
    ("date", lambda: datetime.date(2020, 1, 1)),
    ("b'nova'", lambda: b"nova"),
    ("bytearray", lambda: bytearray(b"nova")),
    ("memoryview", lambda: memoryview(b"nova")),
    ("''", lambda: ""),
    ("'a\\x00b'", lambda: "a\x00b"),
    ("lone surrogate", lambda: "\udc80"),
    ("'🦀'", lambda: "🦀"),
    ("megabyte str", lambda: "x" * 1_000_000),
    ("str subclass", lambda: Name("nova")),
    ("object()", lambda: object()),
    ("the int class", lambda: int),
    ("a function", lambda: print),
    ("Ellipsis", lambda: ...),
    ("__str__ raises", lambda: BoomStr()),
    ("{'nova'}", lambda: {"nova"}),
    ("frozenset", lambda: frozenset({"nova"})),
    ("('nova',)", lambda: ("nova",)),
    ("['nova']", lambda: ["nova"]),
    ("['nova', None]", lambda: ["nova", None]),
    ("['nova'] * 10**5", lambda: ["nova"] * 100_000),
    ("{'nova': 1}", lambda: {"nova": 1}),
    ("{1: 2, None: 3}", lambda: {1: 2, None: 3}),
    ("generator", lambda: (name for name in ["nova", "glance"])),
    ("iterator", lambda: iter(["nova"])),
    ("range(3)", lambda: range(3)),
    # A conversion that reserves len() items first asks for 24 bytes each: 24 TB here (which
    # an overcommitting kernel may even grant), 24 PB, and more than a Vec can hold.
    ("range(10**12)", lambda: range(10**12)),
    ("range(10**15)", lambda: range(10**15)),
    ("range(10**18)", lambda: range(10**18)),
    ("len() lies: 10**12", lambda: LyingSequence(10**12, ["nova"])),
    ("len() lies: 10**15", lambda: LyingSequence(10**15, ["nova"])),
    ("len() lies: 0", lambda: LyingSequence(0, ["nova", "glance"])),
    ("len() lies: 5", lambda: LyingSequence(5, ["nova"])),
    ("len() raises", lambda: BoomSequence()),
    ("list nested 2000 deep", deep_list),
    ("dict nested 2000 deep", deep_dict),
    ("list that contains itself", self_containing),
]


def odd(rng: random.Random, case: int, slots: int) -> tuple[int, str, Any]:
    """An odd value and the slot (argument) to put it in: the first ``len(ODD) * slots``
    cases of a group try every value in every slot, the later ones draw both."""
    if case < len(ODD) * slots:
        slot, index = divmod(case, len(ODD))
    else:
        slot, index = rng.randrange(slots), rng.randrange(len(ODD))
    label, make = ODD[index]
    return slot, label, make()


# --- Documents and their mutation --------------------------------------------------------


def paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every node of a JSON-like tree, as a path of keys and indices."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*path, index))


def mutate(rng: random.Random, document: Any, label: str, value: Any) -> tuple[str, Any]:
    """A copy of `document` with one node replaced by `value`, dropped, or given `value` as
    an unknown sibling."""
    document = copy.deepcopy(document)
    path = rng.choice(list(paths(document)))
    where = "$" + "".join(f"[{step!r}]" for step in path)
    if not path:
        return f"the document replaced by {label}", value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    # Mostly the value put in (the sweep tries each value once per slot), now and then a
    # node dropped.
    action = rng.randrange(8)
    if action == 0:
        del parent[last]
        return f"{where} dropped", document
    if action in (1, 2) and isinstance(parent, dict):
        parent[rng.choice(["bogus", "x-vendor", "Name", 1, None])] = value
        return f"an unknown key with {label} beside {where}", document
    parent[last] = value
    return f"{where} = {label}", document


# --- The groups: what each case calls -------------------------------------------------------

#: Where each group puts its odd values; every value goes in every slot once (the sweep),
#: then cases draw both.
CATALOG_SLOTS = ["a node of a catalog document", "the text", "the file name", "the path"]
PLAN_SLOTS = [
    "services",
    "state",
    "max_unavailable",
    "from_",
    "to",
    "mode",
    "skip_level",
    "services in a list",
    "state of a service",
    "applied of a service",
    "repo_command",
    "backup_command",
    "backup_dir",
]
PLAN_DOCUMENT_SLOTS = ["a node of a plan document", "a node of another plan document"]
DISCOVER_SLOTS = ["services", "services in a list", "conn", "backend", "catalog"]
JOURNAL_SLOTS = ["a node of the plan", "plan", "conn", "backend", "next(owner)", "next(lock_ttl)", "done(step)"]

#: Random cases after the sweep.
RANDOM_CASES = 20


class Context:
    """What the cases of a child share: catalogs, plans and their documents (each made when
    first used: a child that dies is replaced, and a new one should start quickly), a
    directory."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.tiny = ffu.Catalog.from_yaml(TINY, file="tiny.yaml")
        self.tiny_dict = self.tiny.to_dict()
        self.tiny_plan = self.tiny.plan("a", "c")

    @functools.cached_property
    def openstack(self) -> ffu.Catalog:
        return ffu.Catalog.openstack()

    @functools.cached_property
    def plan_dicts(self) -> list[Any]:
        return [self.tiny_plan.to_dict(), self.openstack.plan("newton", "ocata").to_dict()]


def case_catalog(rng: random.Random, ctx: Context, case: int) -> tuple[str, Callable[[], Any]]:
    """Catalog.from_dict with a node of a real document odd; from_json, from_yaml and
    from_file with odd arguments."""
    slot, label, value = odd(rng, case, len(CATALOG_SLOTS))
    if slot == 0:
        document = ctx.tiny_dict if rng.random() < 0.8 else ctx.openstack.to_dict()
        what, data = mutate(rng, document, label, value)
        return f"Catalog.from_dict({what})", lambda: ffu.Catalog.from_dict(data)
    if slot == 1:
        method = rng.choice([ffu.Catalog.from_json, ffu.Catalog.from_yaml])
        return f"Catalog.{method.__name__}({label})", lambda: method(value)
    if slot == 2:
        return f"Catalog.from_yaml(TINY, file={label})", lambda: ffu.Catalog.from_yaml(TINY, file=value)
    # Paths: no device or pipe (the Rust fuzz test runs those under a memory limit).
    path_label, path = rng.choice(
        [
            (label, value),
            (label, value),
            ("''", ""),
            ("a missing file", str(ctx.tmp / "missing.yaml")),
            ("a directory", str(ctx.tmp)),
            ("a 5000-byte name", "a" * 5000),
        ]
    )
    return f"Catalog.from_file({path_label})", lambda: ffu.Catalog.from_file(path)


def case_plan(rng: random.Random, ctx: Context, case: int) -> tuple[str, Callable[[], Any]]:
    """Catalog.plan with odd arguments (the others valid): services, state, max_unavailable,
    the policy's templates and the releases; later cases put a second odd argument in another place."""
    catalog, names = rng.choice(
        [(ctx.tiny, ("a", "c", "alpha")), (ctx.openstack, ("newton", "pike", "nova"))]
    )
    slots = PLAN_SLOTS
    args: list[Any] = [names[0], names[1]]
    kwargs: dict[str, Any] = {}
    shown: list[str] = []
    draws = [odd(rng, case, len(slots))]
    if case >= len(ODD) * len(slots):
        draws.append(odd(rng, case, len(slots)))
    for slot, label, value in draws:
        parameter = slots[slot]
        if parameter == "from_":
            args[0] = value
        elif parameter == "to":
            args[1] = value
        elif parameter == "services in a list":
            kwargs["services"] = [names[2], value]
        elif parameter == "state of a service":
            kwargs["state"] = {names[2]: value}
        elif parameter == "applied of a service":
            kwargs["state"] = {names[2]: {"applied": value}}
        elif parameter == "max_unavailable":
            kwargs["mode"] = "rolling"
            kwargs["max_unavailable"] = value
        else:
            kwargs[parameter] = value
        shown.append(f"{parameter}: {label}")
    what = f"{catalog.name}.plan({names[0]!r}, {names[1]!r}; {'; '.join(shown)})"
    return what, lambda: catalog.plan(*args, **kwargs)


def case_plan_document(rng: random.Random, ctx: Context, case: int) -> tuple[str, Callable[[], Any]]:
    """Plan.from_dict and Catalog.verify with a node of a real plan odd; a plan read is
    written back and rendered."""
    _, label, value = odd(rng, case, len(PLAN_DOCUMENT_SLOTS))
    index = rng.randrange(len(ctx.plan_dicts))
    catalog = ctx.tiny if index == 0 else ctx.openstack
    what, data = mutate(rng, ctx.plan_dicts[index], label, value)
    direct = rng.random() < 0.3

    def call() -> Any:
        if direct:
            return catalog.verify(data)
        plan = ffu.Plan.from_dict(data)
        plan.to_json()
        plan.to_dict()
        plan.to_text(catalog)
        plan.to_dot()
        list(plan)
        return catalog.verify(plan)

    if direct:
        return f"{catalog.name}.verify({what})", call
    return f"Plan.from_dict({what}), then to_json, to_text, to_dot, verify", call


def case_discover(rng: random.Random, ctx: Context, case: int) -> tuple[str, Callable[[], Any]]:
    """ffu.discover with odd services, connection, backend or catalog."""
    slots = DISCOVER_SLOTS
    slot, label, value = odd(rng, case, len(slots))
    conn: Any = sqlite3.connect(":memory:")
    services: Any = ["alpha", "beta"]
    backend: Any = None
    catalog: Any = ctx.tiny
    parameter = slots[slot]
    if parameter == "services":
        services = value
    elif parameter == "services in a list":
        services = ["alpha", value]
    elif parameter == "conn":
        conn = value
    elif parameter == "backend":
        backend = value
    else:
        catalog = value
    return f"ffu.discover({parameter}: {label})", lambda: ffu.discover(conn, catalog, services, backend=backend)


def case_journal(rng: random.Random, ctx: Context, case: int) -> tuple[str, Callable[[], Any]]:
    """ffu.Journal with an odd plan (or a node of one), connection or backend, and its
    methods with odd arguments."""
    slots = JOURNAL_SLOTS
    slot, label, value = odd(rng, case, len(slots))
    parameter = slots[slot]
    plan: Any = ctx.tiny_plan
    # A connection of Python's sqlite3 (the DB-API path) mostly, a file now and then (the
    # path ffu opens itself).
    conn: Any = sqlite3.connect(":memory:") if rng.random() < 0.8 else str(ctx.tmp / f"journal-{case}.db")
    backend: Any = None
    what = f"Journal: {parameter}: {label}"
    if parameter == "a node of the plan":
        what, plan = mutate(rng, ctx.plan_dicts[0], label, value)
        what = f"Journal(plan: {what})"
    elif parameter == "plan":
        plan = value
    elif parameter == "conn":
        conn = value
    elif parameter == "backend":
        backend = value

    def call() -> Any:
        journal = ffu.Journal(conn, plan, backend=backend)
        if parameter == "next(owner)":
            return journal.next(value)
        if parameter == "next(lock_ttl)":
            return journal.next("fuzz", value)
        if parameter == "done(step)":
            journal.next("fuzz")
            journal.done(value)
        return journal.status()

    return what, call


GROUPS: dict[str, Callable[[random.Random, Context, int], tuple[str, Callable[[], Any]]]] = {
    "catalog": case_catalog,
    "plan": case_plan,
    "plan_document": case_plan_document,
    "discover": case_discover,
    "journal": case_journal,
}

SLOTS = {
    "catalog": CATALOG_SLOTS,
    "plan": PLAN_SLOTS,
    "plan_document": PLAN_DOCUMENT_SLOTS,
    "discover": DISCOVER_SLOTS,
    "journal": JOURNAL_SLOTS,
}


def case_count(group: str) -> int:
    """FFU_FUZZ_CASES, or the sweep of every odd value through every slot and some more."""
    if CASES is not None:
        return CASES
    return len(ODD) * len(SLOTS[group]) + RANDOM_CASES


def case_rng(group: str, case: int) -> random.Random:
    # A string seed is hashed with SHA-512: the same on every run and platform.
    return random.Random(f"{SEED}:{group}:{case}")


# --- The child: runs cases, says which one it is in -------------------------------------


def child(group: str, cases: list[int]) -> None:
    """Runs `cases` of `group`, writing a JSON line before and after each call."""
    sys.setrecursionlimit(1000)  # the default, whatever the parent had
    with tempfile.TemporaryDirectory(prefix="ffu-fuzz-") as tmp:
        # A str is a SQLite path to Journal and discover: odd strings ("nova", "🦀") become
        # files, here and not in the caller's directory.
        os.chdir(tmp)
        ctx = Context(Path(tmp))
        for case in cases:
            rng = case_rng(group, case)
            what, call = GROUPS[group](rng, ctx, case)
            print(json.dumps({"case": case, "start": what}), flush=True)
            try:
                call()
                outcome, detail = "ok", ""
            except ALLOWED + (Boom,) as err:
                outcome, detail = "allowed", type(err).__name__
            except BaseException as err:  # the promise is broken: report, do not stop
                try:
                    message = str(err)[:300]
                except BaseException:  # an error that cannot be shown
                    message = "(no message)"
                outcome, detail = "broken", f"{type(err).__module__}.{type(err).__qualname__}: {message}"
            print(json.dumps({"case": case, "outcome": outcome, "detail": detail}), flush=True)


def run_group(group: str) -> tuple[int, list[str]]:
    """Runs every case of `group` in child interpreters; returns how many ran and what broke."""
    pending = [int(ONLY)] if ONLY is not None else list(range(case_count(group)))
    broken: list[str] = []
    ran = 0
    here = Path(__file__).resolve().parent
    script = f"import sys; sys.path.insert(0, {str(here)!r}); import test_fuzz; test_fuzz.child(sys.argv[1], [int(c) for c in sys.argv[2:]])"
    while pending:
        try:
            result = subprocess.run(
                [sys.executable, "-c", script, group, *map(str, pending)],
                capture_output=True,
                text=True,
                timeout=HANG_S,
                check=False,
            )
            stdout, stderr, code = result.stdout, result.stderr, result.returncode
        except subprocess.TimeoutExpired as timeout:
            out = timeout.stdout or b""
            stdout = out.decode(errors="replace") if isinstance(out, bytes) else out
            stderr, code = "", None
        started: dict[int, str] = {}
        finished: set[int] = set()
        for line in stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:  # something the call printed itself
                continue
            case = event["case"]
            if "start" in event:
                started[case] = event["start"]
            else:
                finished.add(case)
                ran += 1
                if event["outcome"] == "broken":
                    broken.append(report(group, case, started[case], event["detail"]))
        unfinished = [case for case in pending if case in started and case not in finished]
        if code == 0 and not unfinished:
            break
        # The child died (or hung) in its last case: that case is the culprit; go on after it.
        culprit = unfinished[0] if unfinished else None
        if culprit is None:
            broken.append(f"[{group}] the child failed before its first case (exit {code}): {stderr[-2000:]}")
            break
        ran += 1
        if code is None:
            how = f"hangs (killed after {HANG_S} s)"
        elif code < 0:
            how = f"kills the interpreter by signal {-code}"
        else:
            how = f"ends the interpreter with exit status {code}"
        last_lines = " | ".join(stderr.strip().splitlines()[-3:])
        broken.append(report(group, culprit, started[culprit], f"{how}: {last_lines}"))
        pending = pending[pending.index(culprit) + 1 :]
    return ran, broken


#: The test of each group, to name in a reproducer.
TESTS = {
    "catalog": "test_catalog_arguments",
    "plan": "test_plan_arguments",
    "plan_document": "test_plan_documents",
    "discover": "test_discover_arguments",
    "journal": "test_journal_arguments",
}


def report(group: str, case: int, what: str, detail: str) -> str:
    return (
        f"[{group}] case {case}: {what}\n    -> {detail}\n"
        f"    again: FFU_FUZZ_SEED={SEED:#x} FFU_FUZZ_CASE={case} pytest ffu-py/tests/test_fuzz.py::{TESTS[group]}"
    )


def check_group(group: str) -> None:
    # pytest is imported here, not at the top: the children import this module, and pytest
    # would double their start-up time.
    import pytest

    started = time.monotonic()
    ran, broken = run_group(group)
    took = time.monotonic() - started
    summary = f"fuzz {group}: {ran} cases in {took:.1f} s (seed {SEED:#x}), {len(broken)} broken"
    print(summary, file=sys.stderr)
    if broken:
        pytest.fail(summary + "\n" + "\n".join(broken), pytrace=False)


def test_catalog_arguments() -> None:
    check_group("catalog")


def test_plan_arguments() -> None:
    check_group("plan")


def test_plan_documents() -> None:
    check_group("plan_document")


def test_discover_arguments() -> None:
    check_group("discover")


def test_journal_arguments() -> None:
    check_group("journal")
