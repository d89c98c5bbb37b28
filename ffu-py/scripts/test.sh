#!/usr/bin/env bash
# Builds the ffu wheel into a fresh virtual environment and checks the Python package:
# pytest (ffu-py/tests), mypy.stubtest against the built module, mypy --strict on the typed
# example and the two Ansible examples.
#
# Needs only Rust and python3 (3.9 or later, with venv); maturin, pytest, mypy, PyYAML, psycopg, PyMySQL, alembic and
# ansible-core come from PyPI into the environment (pip's cache makes later runs quick). Works from any directory; exits non-zero on any
# failure.
#
# Environment:
#   FFU_PY_VENV   where to create the environment (default: target/py-venv in the workspace;
#                 it is deleted and made anew on every run, so nothing stale hides a problem)
#   PYTHON        the interpreter to build the environment from (default: python3)
#   FFU_PY_SKIP_RUST_CLI=1   do not build the Rust binary (tests/test_cli.py then compares
#                 `python -m ffu` with the console script only, not with the binary)
#   FFU_TEST_POSTGRES, FFU_TEST_MYSQL   the PostgreSQL and MySQL/MariaDB servers of
#                 tests/test_db.py (formats: scripts/db-servers.sh); when unset, that script
#                 starts private ones and sets them (the tests that need one skip without it)
#   FFU_DB_SERVERS=0   do not run scripts/db-servers.sh
#   FFU_REQUIRE_DB_SERVERS=1   fail (not skip) when a server cannot start; the default
#                 when CI=true
#   FFU_REQUIRE_RENDERER=1   fail (not skip) the PNG tests of tests/test_timeline.py when
#                 rsvg-convert is missing (scripts/svg-renderer.sh installs it); the default
#                 when CI=true
#   FFU_HARNESS=0        skip tests/test_openstack_harness.py (real OpenStack services from
#                 PyPI, one venv per release cached under target/harness/, ~1 GB each)
#   FFU_HARNESS_FULL=1   run its whole matrix (every service, release pair and backend)
# Servers that this script starts are stopped when it exits, also on failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venv="${FFU_PY_VENV:-$root/target/py-venv}"
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }

step "fresh virtual environment in $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
vpy="$venv/bin/python"
"$vpy" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$vpy" -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2"

step "build the wheel (release)"
wheels="$venv/wheels"
"$venv/bin/maturin" build --release --quiet -m ffu-py/Cargo.toml --interpreter "$vpy" --out "$wheels"
wheel="$(ls "$wheels"/ffu-*.whl)"
# The `test` extra (pyproject.toml) brings pytest, mypy, PyYAML, the DB-API drivers and alembic.
"$vpy" -m pip install --quiet --disable-pip-version-check "$wheel[test]"

if [[ "${FFU_PY_SKIP_RUST_CLI:-0}" != 1 ]]; then
    step "build the Rust binary, to check that python -m ffu runs the same command line"
    cargo build --release --quiet --bin ffu
    export FFU_RUST_CLI="$root/target/release/ffu"
fi

if [[ "${FFU_DB_SERVERS:-1}" != 0 && ( -z "${FFU_TEST_POSTGRES:-}" || -z "${FFU_TEST_MYSQL:-}" ) ]]; then
    step "database servers for tests/test_db.py (scripts/db-servers.sh)"
    # The servers this run starts are stopped when it ends, tests failed or not; servers
    # that were running already (a developer's, between runs) are left running.
    if ! bash scripts/db-servers.sh status | grep -q "not running"; then
        echo "db-servers: both were running already; they stay running"
    else
        trap 'bash "$root/scripts/db-servers.sh" stop' EXIT
    fi
    bash scripts/db-servers.sh
    # In CI (CI=true, or FFU_REQUIRE_DB_SERVERS=1) a server that cannot start is a failure:
    # its tests would skip, which once hid a broken machine.
    require="${FFU_REQUIRE_DB_SERVERS:-${CI:-0}}"
    if [[ "$require" == 1 || "$require" == true ]]; then
        for key in FFU_TEST_POSTGRES FFU_TEST_MYSQL; do
            if [[ -z "${!key:-}" ]] && ! grep -q "^$key=" target/db/env; then
                echo "error: $key is not set: a database server could not start (see the db-servers lines above), and CI requires both" >&2
                exit 1
            fi
        done
    fi
    # KEY=VALUE lines, values unquoted to the end of the line; a variable the caller set
    # already (a server of its own) wins.
    while IFS='=' read -r key value; do
        [[ "$key" =~ ^FFU_TEST_[A-Z]+$ && -z "${!key:-}" ]] || continue
        export "$key=$value"
    done <target/db/env
fi

step "rsvg-convert for tests/test_timeline.py (scripts/svg-renderer.sh)"
bash scripts/svg-renderer.sh

# Run the checks outside the source tree, so that they import the installed wheel, not
# ffu-py/python.
cd "$venv"

step "pytest"
"$vpy" -m pytest -c "$root/ffu-py/pyproject.toml" --rootdir "$root/ffu-py" "$root/ffu-py/tests"

step "stubtest"
# The allowlist names stubtest's false reports (each with the reason); a mypy that no longer
# makes one leaves its line unused, which is no failure.
"$vpy" -m mypy.stubtest ffu --allowlist "$root/ffu-py/stubtest-allowlist.txt" --ignore-unused-allowlist

step "mypy --strict (typing example, the examples, the package)"
"$vpy" -m mypy --strict --config-file "$root/ffu-py/pyproject.toml" \
    "$root/ffu-py/tests/typing_example.py" "$root/ffu-py/examples/ansible_tasks.py" \
    "$root/ffu-py/examples/ansible_export.py" "$root/ffu-py/examples/parallel_runner.py"
"$vpy" -m mypy --strict --config-file "$root/ffu-py/pyproject.toml" -p ffu

step "ok: ffu-py checked in $((SECONDS - started)) s"
