"""The core's tracing events reach Python's logging, under the logger "ffu"."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

import ffu


def ffu_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "ffu"]


def test_debug_events_are_forwarded(caplog: pytest.LogCaptureFixture, openstack: ffu.Catalog) -> None:
    with caplog.at_level(logging.DEBUG, logger="ffu"):
        openstack.plan("newton", "ocata")
    records = ffu_records(caplog)
    assert records, "the planner's debug events should reach logging"
    assert all(record.levelno == logging.DEBUG for record in records)
    messages = [record.getMessage() for record in records]
    # Each message carries its span and fields: "plan{from=newton to=ocata}: ... key=value".
    assert all(message.startswith("plan{from=newton to=ocata}: ") for message in messages), messages
    assert any("=" in message.split(": ", 1)[1] for message in messages)
    # The record points at the Rust source that logged.
    assert all(record.pathname.endswith(".rs") and record.lineno > 0 for record in records)


def test_nothing_is_forwarded_above_the_level(caplog: pytest.LogCaptureFixture, openstack: ffu.Catalog) -> None:
    with caplog.at_level(logging.INFO, logger="ffu"):
        openstack.plan("newton", "ocata")
    assert ffu_records(caplog) == []


def test_level_changes_apply_to_the_next_call(caplog: pytest.LogCaptureFixture, openstack: ffu.Catalog) -> None:
    with caplog.at_level(logging.WARNING, logger="ffu"):
        openstack.plan("newton", "ocata")
    assert ffu_records(caplog) == []
    with caplog.at_level(logging.DEBUG, logger="ffu"):
        openstack.verify(openstack.plan("newton", "ocata"))
    assert any(record.getMessage().startswith("plan{") for record in ffu_records(caplog))


def test_logging_disable_is_respected(caplog: pytest.LogCaptureFixture, openstack: ffu.Catalog) -> None:
    with caplog.at_level(logging.DEBUG, logger="ffu"):
        logging.disable(logging.CRITICAL)
        try:
            openstack.plan("newton", "ocata")
        finally:
            logging.disable(logging.NOTSET)
    assert ffu_records(caplog) == []


def test_events_from_worker_threads(caplog: pytest.LogCaptureFixture, openstack: ffu.Catalog) -> None:
    with caplog.at_level(logging.DEBUG, logger="ffu"):
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda to: openstack.plan("newton", to), ["ocata", "pike", "queens", "rocky"]))
    starts = {record.getMessage().split(":", 1)[0] for record in ffu_records(caplog)}
    assert starts == {f"plan{{from=newton to={to}}}" for to in ["ocata", "pike", "queens", "rocky"]}
