"""The harness's helpers that need a release's own libraries (SQLAlchemy, alembic, the
database drivers): run with the Python of a release's virtual environment, JSON on stdin
and stdout.

    in_venv.py create     stdin: [URL, ...]   drop and create each server database
    in_venv.py versions   stdin: {NAME: URL}  the rows of each database's alembic_version
    in_venv.py heads      stdin: {NAME: DIR}  the heads of the alembic histories in each
                                              package-relative DIR (alembic's ScriptDirectory)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List


def create(urls: List[str]) -> Dict[str, str]:
    """Drops and creates each database on its server (MySQL/MariaDB or PostgreSQL)."""
    import sqlalchemy

    for url in urls:
        parsed = sqlalchemy.engine.make_url(url)
        # The server's own test database: the user may log in there and create t_... ones.
        admin = parsed.set(database="ffu_test", query={})
        engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
        name = parsed.database
        quote = "`" if parsed.get_backend_name() == "mysql" else '"'
        charset = " CHARACTER SET utf8" if parsed.get_backend_name() == "mysql" else ""
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
            conn.execute(sqlalchemy.text(f"CREATE DATABASE {quote}{name}{quote}{charset}"))
        engine.dispose()
    return {"created": ", ".join(sqlalchemy.engine.make_url(u).database or "" for u in urls)}


def versions(urls: Dict[str, str]) -> Dict[str, List[str]]:
    """The rows of alembic_version per database (empty when the table is missing)."""
    import sqlalchemy

    out: Dict[str, List[str]] = {}
    for name, url in urls.items():
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            if not sqlalchemy.inspect(conn).has_table("alembic_version"):
                out[name] = []
                continue
            rows = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
            out[name] = sorted(row[0] for row in rows)
        engine.dispose()
    return out


def heads(dirs: Dict[str, str]) -> Dict[str, List[str]]:
    """The heads of each alembic history (:func:`heads_of`), each read in a process of its
    own: revision scripts import their project, and two projects in one process clash on
    oslo.config's global options (cinder and glance both register ``enabled_backends``)."""
    out = {}
    for name, relative in dirs.items():
        result = subprocess.run([sys.executable, __file__, "heads-of"], input=json.dumps(relative),
                                capture_output=True, text=True, check=True)
        out[name] = json.loads(result.stdout)
    return out


def heads_of(relative: str) -> List[str]:
    """The heads of the alembic history in a package-relative directory, read from the
    installed package's scripts with alembic's ScriptDirectory. Every directory under
    versions/ that holds revision scripts is a version location, as keystone's and
    neutron's own commands configure them (``<release>/<branch>/``)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import sqlalchemy

    # The venv's site-packages: where sqlalchemy, and every project, is installed.
    directory = Path(str(sqlalchemy.__file__)).resolve().parent.parent / relative
    locations = sorted({str(p.parent) for p in (directory / "versions").rglob("*.py")
                        if "__pycache__" not in p.parts and p.name != "__init__.py"})
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("version_locations", " ".join(locations))
    return sorted(ScriptDirectory.from_config(config).get_heads())


def main() -> int:
    commands: Dict[str, Any] = {"create": create, "versions": versions, "heads": heads, "heads-of": heads_of}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(f"usage: in_venv.py {'|'.join(commands)} < JSON", file=sys.stderr)
        return 2
    json.dump(commands[sys.argv[1]](json.load(sys.stdin)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
