"""Long calls release the GIL: other Python threads run while the core plans or loads."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

import ffu

KINDS = ["expand", "migrate", "data", "contract"]


def synthetic_catalog(releases: int, services: int, per: int) -> dict[str, Any]:
    """A catalog big enough that planning takes a while: `per` migrations per service and
    release, each requiring the one before it, every service `after` the previous one."""
    return {
        "format": "ffu-catalog/1",
        "name": "synthetic",
        "releases": [{"name": f"r{r:03}"} for r in range(releases)],
        "services": [
            {
                "name": f"s{s:03}",
                "after": [f"s{s - 1:03}"] if s else [],
                "components": [{"name": f"s{s:03}-api", "role": "control"}],
            }
            for s in range(services)
        ],
        "migrations": [
            {
                "id": f"s{s:03}.r{r:03}.m{m}",
                "service": f"s{s:03}",
                "release": f"r{r:03}",
                "kind": KINDS[m * len(KINDS) // per],
                "command": f"s{s:03}-manage db sync",
                "requires": [f"s{s:03}.r{r:03}.m{m - 1}"] if m else [],
            }
            for r in range(1, releases)
            for s in range(services)
            for m in range(per)
        ],
    }


def other_thread_ran_during(call: Callable[[], object]) -> bool:
    """Runs `call` in a worker thread while this thread keeps taking timestamps; true when a
    timestamp falls inside the call.

    With a switch interval of minutes, the interpreter never takes the GIL from the worker
    while it runs Python code: this thread can only take a timestamp (Python code, which
    needs the GIL) while the worker has released the GIL itself, that is inside the call.
    """
    window: list[float] = []
    done = threading.Event()

    def worker() -> None:
        window.append(time.perf_counter())
        call()
        window.append(time.perf_counter())
        done.set()

    samples: list[float] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(600)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        while not done.is_set():
            samples.append(time.perf_counter())
            time.sleep(0)  # let the worker take the GIL when it wants it
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    start, end = window
    return any(start < sample < end for sample in samples)


def test_the_check_sees_a_call_that_holds_the_gil() -> None:
    # sum() over a range runs in C without releasing the GIL.
    assert not other_thread_ran_during(lambda: sum(range(3_000_000)))


def test_plan_and_load_release_the_gil() -> None:
    catalog_dict = synthetic_catalog(releases=25, services=60, per=8)
    catalog = ffu.Catalog.from_dict(catalog_dict)
    text = catalog.to_json()
    # A busy machine may not schedule this thread within one call: a few tries.
    assert any(other_thread_ran_during(lambda: catalog.plan("r000", "r024")) for _ in range(5))
    assert any(other_thread_ran_during(lambda: ffu.Catalog.from_json(text)) for _ in range(5))
    plan = catalog.plan("r000", "r024")
    assert any(other_thread_ran_during(lambda: catalog.verify(plan)) for _ in range(5))
    # A plan's migration steps are built the first time they are asked for, without the GIL.
    fresh = [catalog.plan("r000", "r024") for _ in range(5)]
    assert any(other_thread_ran_during(lambda plan=plan: plan[0]) for plan in fresh)
