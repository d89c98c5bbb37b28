#!/usr/bin/env bash
# Runs every test of ffu: the Rust workspace (unit, integration, property and doc tests)
# and the Python package (built into a fresh virtual environment, then pytest, stubtest and
# mypy --strict). Needs a Rust toolchain and python3; everything else it installs itself.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests"
# ffu-py is a Python extension module: its symbols come from the interpreter, so it is
# tested through Python below rather than linked into a Rust test binary.
cargo test --workspace --exclude ffu-py

echo "== Python tests"
bash ffu-py/scripts/test.sh
