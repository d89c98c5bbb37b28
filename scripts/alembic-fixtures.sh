#!/usr/bin/env bash
# Regenerates the alembic test data under tests/data/alembic/ (run once; the output is committed):
#  - generated/: revision scripts written by the real alembic (from PyPI) in a temporary
#    project: a chain of 3 revisions, a branch off the second, and a merge of the two heads;
#    ORDER.txt is alembic's own order (ScriptDirectory.walk_revisions, base first).
#  - neutron/: the alembic revision scripts shipped in a real neutron wheel from PyPI, with
#    ORDER.txt from alembic's ScriptDirectory over the same files.
# Usage: scripts/alembic-fixtures.sh [NEUTRON_VERSION]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
neutron_version="${1:-25.0.0}"
venv="$root/target/alembic-venv"
out="$root/tests/data/alembic"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$venv/bin/alembic" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet alembic
fi
py="$venv/bin/python"
alembic="$venv/bin/alembic"
echo "alembic $("$py" -c 'import alembic; print(alembic.__version__)')"

# alembic's own order of a versions directory, base first. ScriptDirectory only needs the
# directory of scripts plus a script.py.mako; it never runs an env.py.
cat >"$tmp/order.py" <<'EOF'
import importlib.abc, importlib.machinery, os, shutil, sys, tempfile, types
from unittest import mock
from alembic.script import ScriptDirectory

# neutron's scripts import neutron, neutron_lib and oslo at module level; alembic must load
# them to read `revision` and `down_revision`. Modules that cannot be imported are stubbed
# (every attribute is a mock): only the revision identifiers matter here.
class Stub(types.ModuleType):
    __path__ = []
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return mock.MagicMock(name=f"{self.__name__}.{name}")
class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("neutron", "neutron_lib", "oslo_db", "oslo_utils", "oslo_config",
                   "oslo_log", "oslo_serialization", "oslo_concurrency", "oslo_i18n"):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None
    def create_module(self, spec):
        return Stub(spec.name)
    def exec_module(self, module):
        pass
sys.meta_path.append(StubFinder())
versions = os.path.abspath(sys.argv[1])
here = tempfile.mkdtemp()
open(os.path.join(here, "script.py.mako"), "w").close()
# recursive_version_locations reads neutron's <release>/<branch>/ subdirectories too.
script = ScriptDirectory(here, version_locations=[versions], recursive_version_locations=True)
revs = [s.revision for s in script.walk_revisions(base="base", head="heads")]
revs.reverse()
with open(sys.argv[2], "w") as f:
    f.write("\n".join(revs) + "\n")
shutil.rmtree(here)
print(f"{len(revs)} revisions in {sys.argv[1]}")
EOF

# 1. scripts made by the real alembic.
proj="$tmp/proj"
mkdir -p "$proj"
(
    cd "$proj"
    "$alembic" init --template generic migrations >/dev/null
    sed -i 's|^sqlalchemy.url = .*|sqlalchemy.url = sqlite:///x.db|' alembic.ini
    "$alembic" revision -m "create accounts" --rev-id 1a2b3c4d5e6f >/dev/null
    "$alembic" revision -m "add email" --rev-id 2b3c4d5e6f70 >/dev/null
    "$alembic" revision -m "add index" --rev-id 3c4d5e6f7081 >/dev/null
    # a branch off the second revision, then a merge of the two heads
    "$alembic" revision -m "audit table" --head 2b3c4d5e6f70 --splice --rev-id 4d5e6f708192 >/dev/null
    "$alembic" merge heads -m "merge audit" --rev-id 5e6f708192a3 >/dev/null
    # one more revision on top that also depends_on the branch revision
    "$alembic" revision -m "after merge" --depends-on 4d5e6f708192 --rev-id 6f708192a3b4 >/dev/null
    "$alembic" history >"$tmp/history.txt"
)
rm -rf "$out/generated"
mkdir -p "$out/generated"
cp "$proj"/migrations/versions/*.py "$out/generated/"
"$py" "$tmp/order.py" "$out/generated" "$out/generated/ORDER.txt"

# 2. neutron's migrations from a real wheel.
"$py" -m pip download --quiet --no-deps "neutron==$neutron_version" -d "$tmp/wheel"
wheel="$(ls "$tmp"/wheel/neutron-*.whl)"
(cd "$tmp" && "$py" -m zipfile -e "$wheel" unpacked >/dev/null)
src="$tmp/unpacked/neutron/db/migration/alembic_migrations/versions"
rm -rf "$out/neutron"
mkdir -p "$out/neutron"
(cd "$src" && find . -name '*.py' ! -name '__init__.py' -print0 | xargs -0 cp --parents -t "$out/neutron")
echo "neutron $neutron_version: $(find "$out/neutron" -name '*.py' | wc -l) scripts, $(du -sh "$out/neutron" | cut -f1)"
"$py" "$tmp/order.py" "$out/neutron" "$out/neutron/ORDER.txt"
