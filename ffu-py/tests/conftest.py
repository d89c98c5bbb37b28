"""Shared fixtures: small catalogs written here, and a runner for ``python -m ffu``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ffu

#: The repository root (ffu-py/tests/conftest.py -> the workspace).
ROOT = Path(__file__).resolve().parents[2]

#: Two services over three releases; `beta` is `after` `alpha`. Tests append migrations.
TINY_HEAD = """\
format: ffu-catalog/1
name: tiny
releases: [{name: a}, {name: b}, {name: c}]
services:
  - name: alpha
    components: [{name: alpha-api, role: control}]
  - name: beta
    after: [alpha]
    components: [{name: beta-api, role: control}]
migrations:
"""

#: A valid tiny catalog: one migration per service and release.
TINY = TINY_HEAD + """\
  - {id: alpha.b.sync, service: alpha, release: b, kind: migrate, command: "alpha-manage db sync"}
  - {id: beta.b.sync, service: beta, release: b, kind: migrate, command: "beta-manage db sync"}
  - {id: alpha.c.sync, service: alpha, release: c, kind: migrate, command: "alpha-manage db sync"}
  - {id: beta.c.sync, service: beta, release: c, kind: migrate, command: "beta-manage db sync"}
"""


@pytest.fixture(scope="session")
def openstack() -> ffu.Catalog:
    return ffu.Catalog.openstack()


@pytest.fixture(scope="session")
def tiny() -> ffu.Catalog:
    return ffu.Catalog.from_yaml(TINY, file="tiny.yaml")


def run_ffu(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m ffu ARGS`` in a fresh interpreter, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "ffu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        timeout=120,
        check=False,
    )


def rust_cli() -> Path | None:
    """The Rust ``ffu`` binary to compare with, from $FFU_RUST_CLI (scripts/test.sh builds it
    from the same sources as the wheel; a binary left in target/ may be older, so it is not
    guessed)."""
    explicit = os.environ.get("FFU_RUST_CLI")
    return Path(explicit) if explicit else None
