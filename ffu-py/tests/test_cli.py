"""The ``ffu`` command line from Python: ``python -m ffu``, the ``ffu`` console script and
``ffu._native.main`` run the Rust CLI itself (the root crate's ``ffu::run``), so they give
the binary's output and exit status (0 ok, 1 no plan, 2 bad input or usage) byte for byte.

The behaviour is checked through ``python -m ffu``; the tables below run every entry point
on the same commands and compare. scripts/test.sh builds the Rust binary from the same
sources as the wheel and sets FFU_RUST_CLI; the console script is the one the wheel
installed beside this interpreter.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TINY, TINY_HEAD, run_ffu, rust_cli, without_kind

import ffu
import ffu.__main__


#: The shared alembic-style test catalog (also tests/discover.rs); a database at STATE_HEADS is
#: in the middle of r3 (expand applied, contract not).
ALEMBIC_CATALOG = (ROOT / "tests" / "data" / "alembic-test.yaml").read_text(encoding="utf-8")
STATE_HEADS = ("ddd", "ccc")


def write_state(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [(head,) for head in STATE_HEADS])
    conn.close()


def test_plan_newton_to_queens() -> None:
    result = run_ffu("plan", "--from", "newton", "--to", "queens")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Plan newton -> queens (offline, catalog openstack): 3 hops, ")
    assert result.stderr == ""


def test_plan_json_is_the_api_json() -> None:
    result = run_ffu("plan", "--from", "newton", "--to", "queens", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ffu.Catalog.openstack().plan("newton", "queens").to_json() + "\n"


def test_downgrade_exits_1() -> None:
    result = run_ffu("plan", "--from", "queens", "--to", "newton")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no plan possible: cannot plan from queens to newton")
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_catalog_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TINY_HEAD + "  - {id: x\n", encoding="utf-8")
    for args in (
        ("plan", "--catalog", str(broken), "--from", "a", "--to", "c"),
        ("catalog", "validate", str(broken)),
        ("releases", "--catalog", str(broken)),
        ("catalog", "validate", str(tmp_path / "missing.yaml")),
    ):
        result = run_ffu(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith(f"error: {args[-1] if args[0] == 'catalog' else broken}")
        assert "Traceback" not in result.stderr


def test_bad_usage_exits_2() -> None:
    for args in (("plan", "--from", "newton"), ("plan", "--from", "a", "--to", "b", "--mode", "x"), ("nope",)):
        result = run_ffu(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: "), args
        assert "Traceback" not in result.stderr
    # No command at all: the help, on stderr.
    result = run_ffu()
    assert (result.returncode, result.stdout) == (2, "")
    assert "Usage: ffu [OPTIONS] <COMMAND>" in result.stderr


def test_version() -> None:
    result = run_ffu("--version")
    assert (result.returncode, result.stdout) == (0, f"ffu {ffu.__version__}\n")


def test_rolling_mode_plans_and_verifies(tmp_path: Path) -> None:
    output = tmp_path / "rolling.json"
    result = run_ffu("plan", "--from", "queens", "--to", "rocky", "--mode", "rolling", "--format", "json", "-o", str(output))
    assert (result.returncode, result.stderr) == (0, "")
    verified = run_ffu("verify", str(output))
    assert verified.returncode == 0, verified.stdout


def test_bad_max_unavailable_exits_2() -> None:
    result = run_ffu("plan", "--from", "queens", "--to", "rocky", "--mode", "rolling", "--max-unavailable", "ten")
    assert result.returncode == 2
    assert result.stderr == 'error: bad policy: max_unavailable "ten" is not a positive count or a percentage from 1% to 100%\n'


def test_plan_output_file_and_verify(tmp_path: Path) -> None:
    output = tmp_path / "plan.json"
    result = run_ffu("plan", "--from", "newton", "--to", "pike", "--format", "json", "-o", str(output))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left
    verified = run_ffu("verify", str(output))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: ") and "no violation of V1-V15" in verified.stdout
    from_stdin = run_ffu("verify", "-", "--format", "json", stdin=output.read_text(encoding="utf-8"))
    assert (from_stdin.returncode, json.loads(from_stdin.stdout)) == (0, [])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pipe opened both ways does not wait on Linux")
def test_output_into_a_pipe_or_through_a_link_keeps_the_pipe_and_the_link(tmp_path: Path) -> None:
    # Renaming a finished temporary file over a named pipe (or /dev/null, as root) would
    # replace it with a regular file: `-o` writes into anything that is not a regular file.
    args = ("plan", "--from", "newton", "--to", "ocata", "--services", "keystone", "--format", "json")
    expected = run_ffu(*args).stdout
    assert 0 < len(expected) < 16 * 1024  # fits in the pipe's buffer: ffu never waits for us
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    end = os.open(pipe, os.O_RDWR)  # no wait for a writer, and ffu's open does not wait
    try:
        result = run_ffu(*args, "-o", str(pipe))
        assert (result.returncode, result.stderr) == (0, "")
        assert stat.S_ISFIFO(os.lstat(pipe).st_mode)  # before reading: else nothing comes
        written = b""
        while len(written) < len(expected):
            written += os.read(end, len(expected) - len(written))
        assert written.decode() == expected
    finally:
        os.close(end)
    target = tmp_path / "target.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run_ffu(*args, "-o", str(link))
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == expected
    # A relative link to a file not there yet, in another directory: the file is created.
    (tmp_path / "plans").mkdir()
    dangling = tmp_path / "next.json"
    dangling.symlink_to("plans/next.json")
    result = run_ffu(*args, "-o", str(dangling))
    assert (result.returncode, result.stderr) == (0, "")
    assert dangling.is_symlink()
    assert (tmp_path / "plans" / "next.json").read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "next.json", "pipe", "plans", "target.json"]
    assert [p.name for p in (tmp_path / "plans").iterdir()] == ["next.json"]


def test_verify_reports_violations_and_exits_1(tmp_path: Path) -> None:
    document = without_kind(ffu.Catalog.openstack().plan("newton", "pike").to_dict(), "backup")
    path = tmp_path / "nobackup.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run_ffu("verify", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith("V9: ")
    assert "    steps: " in result.stdout
    assert result.stderr.startswith(f"error: {path}: the plan breaks the safety rules (")
    as_json = run_ffu("verify", str(path), "--format", "json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report and all(set(item) == {"rule", "message", "steps"} for item in report)


def test_verify_bad_input_exits_2(tmp_path: Path) -> None:
    missing = run_ffu("verify", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    assert missing.stderr == f"error: {tmp_path / 'none.json'}: cannot read file: No such file or directory (os error 2)\n"
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    result = run_ffu("verify", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}: not a valid ffu-plan/1 document")


def test_catalog_commands(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = run_ffu("catalog", "validate", str(path))
    assert (result.returncode, result.stdout) == (
        0,
        "ok: catalog tiny: 3 releases, 2 services, 2 components, 4 migrations, 0 extensions, 0 config changes\n",
    )
    shown = run_ffu("catalog", "show", str(path), "--format", "json")
    assert shown.returncode == 0
    assert ffu.Catalog.from_json(shown.stdout).to_dict() == ffu.Catalog.from_yaml(TINY).to_dict()
    embedded = run_ffu("catalog", "show")
    assert embedded.returncode == 0 and embedded.stdout.startswith("format: ffu-catalog/1")


def test_releases() -> None:
    result = run_ffu("releases")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["newton", "2016-10-06"]
    assert "2023.1 (antelope)        2023-03-22  SLURP" in lines


def test_verbose_logs_to_stderr() -> None:
    """``-v`` shows the core's debug events through Python's logging (logger ``ffu``), one
    ``LEVEL ffu: MESSAGE`` line each; without it, nothing but the command's own output."""
    args = ("plan", "--from", "newton", "--to", "ocata", "--format", "json")
    result = run_ffu("-v", *args)
    assert result.returncode == 0
    assert "DEBUG ffu: plan{from=newton to=ocata}: " in result.stderr
    assert all(line.startswith("DEBUG ffu: ") for line in result.stderr.splitlines()), result.stderr
    assert result.stdout == run_ffu(*args).stdout
    assert run_ffu(*args).stderr == ""


def test_warnings_are_plain_lines(tmp_path: Path) -> None:
    """Without ``-v``, a warning is a ``warning: ...`` line on stderr, as the binary prints it."""
    catalog, state = tmp_path / "alembic.yaml", tmp_path / "state.db"
    catalog.write_text(ALEMBIC_CATALOG, encoding="utf-8")
    write_state(state)
    result = run_ffu("plan", "--db", f"sqlite:{state}", "--to", "r3", "--catalog", str(catalog))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "warning: the databases hold no migration of img: planned as if at r2 already\n"


# --- In process: ffu._native.main ---------------------------------------------------------


def test_native_main_runs_in_process(capfd: pytest.CaptureFixture[str]) -> None:
    """The command writes to the file descriptors; what Python buffered comes first."""
    assert ffu._native.main(["plan", "--from", "newton", "--to", "ocata", "--format", "dot"]) == 0
    assert capfd.readouterr().out.startswith('digraph "ffu newton -> ocata" {')
    assert ffu._native.main(["plan", "--from", "ocata", "--to", "newton"]) == 1
    assert capfd.readouterr().err.startswith("error: no plan possible: ")
    print("first ", end="")
    print("then ", end="", file=sys.stderr)
    # --help, --version and usage errors return their status: nothing ends the interpreter.
    assert ffu._native.main(["--version"]) == 0
    assert ffu._native.main(["plan", "--from", "newton"]) == 2
    out, err = capfd.readouterr()
    assert out == f"first ffu {ffu.__version__}\n"
    assert err.startswith("then error: the following required arguments were not provided:")
    assert ffu._native.main(["--help"]) == 0
    assert "Usage: ffu [OPTIONS] <COMMAND>" in capfd.readouterr().out


def test_native_main_takes_a_list_of_str() -> None:
    with pytest.raises(ffu.ArgumentTypeError, match=r"^argv must be a list of str, not a str") as info:
        ffu._native.main("releases")  # type: ignore[arg-type]
    assert info.value.argument == "argv"
    with pytest.raises(ffu.ArgumentTypeError, match=r"^argv\[1\] must be a str, not int$"):
        ffu._native.main(["plan", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        ffu._native.main()  # type: ignore[call-arg]


def test_in_process_runs_leave_logging_as_it_was(capfd: pytest.CaptureFixture[str]) -> None:
    """``-v`` shows the events on sys.stderr while the command runs; afterwards the ``ffu``
    logger has the handlers and level it had."""
    logger = logging.getLogger("ffu")
    handlers, level = list(logger.handlers), logger.level
    assert ffu._native.main(["-v", "plan", "--from", "newton", "--to", "ocata", "-o", os.devnull]) == 0
    assert "DEBUG ffu: plan{from=newton to=ocata}: " in capfd.readouterr().err
    assert (logger.handlers, logger.level) == (handlers, level)
    # And the next call, without -v, shows nothing of them.
    assert ffu._native.main(["plan", "--from", "newton", "--to", "ocata", "-o", os.devnull]) == 0
    assert capfd.readouterr() == ("", "")
    assert (logger.handlers, logger.level) == (handlers, level)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident size from /proc")
def test_in_process_runs_free_what_they_use() -> None:
    """The binary leaves a large catalog and plan to the operating system when it exits; a
    call in process frees them, so that calls in a loop do not grow the process."""
    code = (
        "import os, ffu\n"
        "def resident():\n"
        "    with open('/proc/self/statm') as f:\n"
        "        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "commands = [['plan', '--from', 'newton', '--to', '2026.2', '-o', os.devnull, *extra]\n"
        "            for extra in ([], ['--format', 'json'], ['--mode', 'rolling'])]\n"
        "def run(times):\n"
        "    for _ in range(times):\n"
        "        for command in commands:\n"
        "            assert ffu._native.main(command) == 0\n"
        "run(3)\n"
        "before = resident()\n"
        "run(40)\n"
        "print(resident() - before)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    # Leaked, the catalogs and plans of these 120 calls would take hundreds of megabytes.
    assert int(result.stdout) < 32 << 20


# --- The entry points run the same code ---------------------------------------------------


def test_main_module_only_hands_the_arguments_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ffu.__main__`` parses nothing: it passes ``sys.argv[1:]`` to ``ffu._native.main``
    as they are and returns its status."""
    source = Path(ffu.__main__.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert imports <= {"__future__.annotations", "signal", "sys", "ffu._native"}, imports
    definitions = [
        node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    assert definitions == ["main"]
    assert "argparse" not in source and "getopt" not in source
    calls: list[list[str]] = []

    def native_main(argv: list[str]) -> int:
        calls.append(argv)
        return 7

    odd = ["plan", "--from", "-1", "", "--help", "-vv", "--", "two words", "\udcff"]
    monkeypatch.setattr(ffu._native, "main", native_main)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # leave pytest's Ctrl-C alone
    monkeypatch.setattr(sys, "argv", ["ffu", *odd])
    assert ffu.__main__.main() == 7
    assert calls == [odd]


def console_script() -> Path | None:
    """The ``ffu`` console script ([project.scripts]) installed beside this interpreter."""
    script = Path(sys.executable).with_name("ffu.exe" if os.name == "nt" else "ffu")
    return script if script.is_file() else None


def entry_points() -> dict[str, list[str]]:
    """The commands that run the command line: ``python -m ffu`` always, the console script
    and the Rust binary when they are there."""
    entries = {"python -m ffu": [sys.executable, "-m", "ffu"]}
    script = console_script()
    if script is not None:
        entries["console script"] = [str(script)]
    binary = rust_cli()
    if binary is not None:
        entries["binary"] = [str(binary)]
    return entries


def run_entry(
    command: list[str], args: list[str], stdin: str | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    result = subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def same_everywhere(args: list[str], stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    """Runs ``args`` through every entry point; asserts the same status, stdout and stderr
    (clap's usage lines say ``ffu`` in all of them); returns them."""
    entries = entry_points()
    if len(entries) == 1:
        pytest.skip("set FFU_RUST_CLI to the Rust ffu binary to compare (scripts/test.sh does)")
    results = {name: run_entry(command, args, stdin, cwd) for name, command in entries.items()}
    expected = results.pop("python -m ffu")
    for name, result in results.items():
        assert result == expected, (name, args)
    return expected


#: Commands and the status all the entry points exit with.
SAME = [
    (("plan", "--from", "newton", "--to", "queens"), 0),
    (("plan", "--from", "newton", "--to", "2026.2", "--format", "json"), 0),
    (("plan", "--from", "antelope", "--to", "2025.1", "--skip-level", "--format", "json"), 0),
    (("plan", "--from", "newton", "--to", "pike", "--services", "keystone,glance", "--format", "dot"), 0),
    (("plan", "--from", "queens", "--to", "newton"), 1),
    (("plan", "--from", "newtn", "--to", "queens"), 1),
    (("plan", "--from", "newton", "--to", "queens", "--mode", "rolling"), 0),
    (("plan", "--from", "2023.1", "--to", "2024.1", "--mode", "rolling", "--skip-level"), 0),
    (("plan", "--inventory", "{mixed}", "--to", "queens", "--mode", "rolling", "--skip-level"), 0),
    (("plan", "--inventory", "{mixed}", "--to", "queens", "--mode", "rolling", "--format", "json"), 0),
    (("plan", "--from=-1", "--to", "queens"), 1),
    (("plan", "--from", "newton", "--to", "q" * 5000), 1),
    # A host with neutron-server and its agents: one install, and the plan verifies.
    (("plan", "--inventory", "{network}", "--to", "queens", "--format", "json"), 0),
    (("releases",), 0),
    (("releases", "--catalog", "{tiny}"), 0),
    (("catalog", "show"), 0),
    (("catalog", "show", "--format", "json"), 0),
    (("catalog", "validate", "{tiny}"), 0),
    (("catalog", "validate", "{broken}"), 2),
    (("verify", "{plan}"), 0),
    (("verify", "{plan}", "--format", "json"), 0),
    (("verify", "{nobackup}"), 1),
    (("verify", "{nobackup}", "--format", "json"), 1),
    (("verify", "{tiny}"), 2),
    # Errors about an unusable plan name its file; long values are cut.
    (("verify", "{duplicate}"), 2),
    (("extensions", "--inventory", "{mixed}"), 0),
    (("extensions", "--inventory", "{mixed}", "--format", "json"), 0),
    (("import", "alembic", "{generated}", "--service", "app", "--release", "b"), 0),
    (("import", "alembic", "{neutron}", "--service", "neutron", "--format", "json"), 0),
    (("discover", "--db", "sqlite:{state}", "--service", "net", "--service", "img", "--catalog", "{alembic}"), 0),
    (("discover", "--db", "sqlite:{state}", "--service", "net", "--catalog", "{alembic}", "--format", "json"), 0),
    (("discover", "--db", "sqlite:{state}", "--service", "nope", "--catalog", "{alembic}"), 2),
    (("discover", "--sql", "--backend", "postgres"), 0),
    # With a warning on stderr (img: nothing in the database).
    (("plan", "--db", "sqlite:{state}", "--to", "r3", "--catalog", "{alembic}"), 0),
    (("plan", "--db", "sqlite:{state}", "--to", "r3", "--catalog", "{alembic}", "--services", "net", "--format", "json"), 0),
    (("plan", "--db", "sqlite:{state}", "--from", "r1", "--to", "r2", "--catalog", "{alembic}"), 1),
    (("plan", "--db", "postgres://x", "--to", "r3", "--catalog", "{alembic}"), 2),
    # Missing files.
    (("catalog", "validate", "{missing}"), 2),
    (("catalog", "show", "{missing}"), 2),
    (("releases", "--catalog", "{missing}"), 2),
    (("plan", "--catalog", "{missing}", "--from", "a", "--to", "b"), 2),
    (("plan", "--inventory", "{missing}", "--to", "queens"), 2),
    (("verify", "{missing}"), 2),
    (("extensions", "--inventory", "{missing}"), 2),
    (("import", "alembic", "{missing}", "--service", "neutron"), 2),
    (("journal", "status", "--db", "sqlite:{journal}", "--plan", "{missing}"), 2),
    # Creating the temporary file beside it fails, not finding it.
    (("plan", "--from", "newton", "--to", "ocata", "-o", "/proc/version"), 2),
    # Input without an end: refused at the limit, in bounded memory.
    (("verify", "/dev/zero"), 2),
    (("catalog", "validate", "/dev/zero"), 2),
    # Usage: clap's messages, help and version, the program name `ffu` in each.
    ((), 2),
    (("nope",), 2),
    (("--help",), 0),
    (("-h",), 0),
    (("plan", "--help"), 0),
    (("journal", "--help"), 0),
    (("--version",), 0),
    (("-V",), 0),
    (("plan", "--from", "newton"), 2),
    (("plan", "--to", "queens"), 2),
    (("plan", "--from", "pike", "--inventory", "{mixed}", "--to", "queens"), 2),
    (("plan", "--from", "a", "--to", "b", "--mode", "x"), 2),
    (("plan", "--from", "-1", "--to", "queens"), 2),
    (("plan", "--from", "newton", "--to", "queens", "-o", ""), 2),
    (("catalog",), 2),
    (("discover", "--backend", "mysql"), 2),
    (("journal", "next", "--db", "sqlite:{journal}"), 2),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The files the commands of SAME name, by their placeholders."""
    files = {
        "tiny": tmp_path / "tiny.yaml",
        "broken": tmp_path / "broken.yaml",
        "missing": tmp_path / "missing.yaml",
        "plan": tmp_path / "plan.json",
        "nobackup": tmp_path / "nobackup.json",
        "journal": tmp_path / "journal.db",
    }
    files["tiny"].write_text(TINY, encoding="utf-8")
    files["broken"].write_text(TINY_HEAD + "  - {id: x\n", encoding="utf-8")
    plan = ffu.Catalog.openstack().plan("newton", "pike")
    files["plan"].write_text(plan.to_json(), encoding="utf-8")
    document = plan.to_dict()
    document["steps"] = [step for step in document["steps"] if step["kind"] != "backup"]
    files["nobackup"].write_text(json.dumps(document), encoding="utf-8")
    files["mixed"] = ROOT / "tests" / "data" / "inventory-mixed.yaml"
    files["generated"] = ROOT / "tests" / "data" / "alembic" / "generated"
    files["neutron"] = ROOT / "tests" / "data" / "alembic" / "neutron"
    files["alembic"] = tmp_path / "alembic.yaml"
    files["alembic"].write_text(ALEMBIC_CATALOG, encoding="utf-8")
    files["state"] = tmp_path / "state.db"
    write_state(files["state"])
    document = plan.to_dict()
    document["steps"].append(document["steps"][0])
    files["duplicate"] = tmp_path / "duplicate.json"
    files["duplicate"].write_text(json.dumps(document), encoding="utf-8")
    files["network"] = tmp_path / "network.yaml"
    files["network"].write_text(
        "format: ffu-inventory/1\nhosts:\n  - name: net-1\n"
        "    components: {neutron-server: pike, neutron-l3-agent: pike}\n",
        encoding="utf-8",
    )
    return files


@pytest.mark.parametrize(("args", "status"), SAME, ids=[" ".join(args) or "(none)" for args, _ in SAME])
def test_every_entry_point_gives_the_same_output(
    files: dict[str, Path], tmp_path: Path, args: tuple[str, ...], status: int
) -> None:
    argv = [arg.format(**{name: str(path) for name, path in files.items()}) for arg in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = same_everywhere(argv, cwd=tmp_path)
    assert code == status, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no journal made
    # Every command here prints something: its result, or why it has none.
    assert out if code == 0 else err


def test_journal_commands_give_the_same_output(tmp_path: Path) -> None:
    """A whole run through the journal, command by command, in every entry point on its own
    journal: the same output and exit status at every step (timestamps aside)."""
    entries = entry_points()
    if len(entries) == 1:
        pytest.skip("set FFU_RUST_CLI to the Rust ffu binary to compare (scripts/test.sh does)")
    plan_path = tmp_path / "plan.json"
    plan = ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"])
    plan_path.write_text(plan.to_json(), encoding="utf-8")

    def both(*args: str) -> str:
        outputs = []
        for number, command in enumerate(entries.values()):
            db = f"{tmp_path / str(number)}.db"
            argv = [args[0], args[1], "--db", f"sqlite:{db}", "--plan", str(plan_path), *args[2:]]
            code, out, err = run_entry(command, argv)
            outputs.append((code, out, err.replace(db, "DB")))
        assert all(output == outputs[0] for output in outputs), (args, outputs)
        return outputs[0][1]

    assert both("journal", "init").startswith(f"ok: journal for plan {ffu.Journal(tmp_path / 'x.db', plan).checksum}: ")
    assert both("journal", "done", plan[0].id) == ""  # not running: exit 2, same message
    for step in plan:
        assert both("journal", "next", "--owner", "runner") == f"{step.id}\n"
        both("journal", "fail" if step.kind == "stop" else "done", step.id)
        if step.kind == "stop":
            assert both("journal", "next", "--owner", "runner") == f"{step.id}\n"
            both("journal", "done", step.id)
    assert both("journal", "next") == ""
    assert both("journal", "status") == f"{len(plan)} steps: {len(plan)} done, 0 running, 0 failed, 0 pending\n"


def test_catalog_from_stdin() -> None:
    """`-` reads the catalog from stdin (YAML, or JSON when it starts with `{`), through
    every entry point."""
    assert run_ffu("catalog", "validate", "-", stdin=TINY).stdout.startswith("ok: catalog tiny: 3 releases")
    broken = run_ffu("catalog", "validate", "-", stdin=TINY_HEAD + "  - {id: x\n")
    assert broken.returncode == 2 and broken.stderr.startswith("error: <stdin>:")
    for args, text in (
        (("catalog", "validate", "-"), TINY),
        (("catalog", "validate", "-"), TINY_HEAD + "  - {id: x\n"),
        (("plan", "--catalog", "-", "--from", "a", "--to", "c", "--format", "json"), ffu.Catalog.from_yaml(TINY).to_json()),
    ):
        code, _, err = same_everywhere(list(args), stdin=text)
        assert "Traceback" not in err


def wait_channel(pid: int) -> str:
    """Where process ``pid`` sleeps in the kernel (``pipe_read``), or ``""``."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text(encoding="utf-8")
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process's state from /proc")
def test_ctrl_c_ends_the_command_at_once() -> None:
    """Ctrl-C (SIGINT) ends ``python -m ffu`` while the Rust code runs, as it ends the
    binary: no wait for the command to return, no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ffu", "verify", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until it sleeps reading the pipe, which only the command does (where the
        # kernel does not say, the wait runs out: by then it reads too).
        deadline = time.monotonic() + 20
        while "pipe" not in wait_channel(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGINT
    assert err == ""


def test_rolling_skip_level_steps_the_control_plane_through_every_release() -> None:
    result = run_ffu("plan", "--from", "2023.1", "--to", "2024.1", "--mode", "rolling", "--skip-level", "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    plan = json.loads(result.stdout)
    assert plan["path"] == ["2023.1", "2023.2", "2024.1"]
    assert not any(hop["skip"] for hop in plan["hops"])


#: Usage errors of clap, and the error sentence each gives (first line of stderr). A token
#: such as -1 is never an option's value (give --from=-1, or -- -1); an empty path names no
#: file.
USAGE_ERRORS = [
    (("plan", "--from", "-1", "--to", "queens"), "error: unexpected argument '-1' found"),
    (("plan", "--from", "newton", "--to", "-1"), "error: unexpected argument '-1' found"),
    (("plan", "--from", "queens", "--to", "rocky", "--max-unavailable", "-1"), "error: unexpected argument '-1' found"),
    (("plan", "--from", "queens", "--to", "rocky", "--max-unavailable", "-10%"), "error: unexpected argument '-1' found"),
    (("plan", "--from", "newton", "--to", "queens", "--services", "-2,3"), "error: unexpected argument '-2' found"),
    (("plan", "--from", "-.5", "--to", "queens"), "error: unexpected argument '-.' found"),
    (("journal", "next", "--db", "sqlite:{db}", "--plan", "{plan}", "--lock-ttl", "-5"), "error: unexpected argument '-5' found"),
    (("journal", "done", "--db", "sqlite:{db}", "--plan", "{plan}", "-1"), "error: unexpected argument '-1' found"),
    (("plan", "--from", "newton", "--to", "queens", "-o", ""), "error: a value is required for '--output <FILE>' but none was supplied"),
    (("plan", "--from", "newton", "--to", "queens", "--output="), "error: a value is required for '--output <FILE>' but none was supplied"),
    (("plan", "--from", "newton", "--to", "queens", "--catalog", ""), "error: a value is required for '--catalog <FILE>' but none was supplied"),
    (("plan", "--inventory", "", "--to", "queens"), "error: a value is required for '--inventory <FILE>' but none was supplied"),
    (("verify", ""), "error: a value is required for '<PLAN>' but none was supplied"),
    (("catalog", "validate", ""), "error: a value is required for '<FILE>' but none was supplied"),
    (("catalog", "show", ""), "error: a value is required for '[FILE]' but none was supplied"),
    (("releases", "--catalog", ""), "error: a value is required for '--catalog <FILE>' but none was supplied"),
    (("extensions", "--inventory", ""), "error: a value is required for '--inventory <FILE>' but none was supplied"),
    (("import", "alembic", "", "--service", "x"), "error: a value is required for '<DIR>' but none was supplied"),
    (("journal", "init", "--db", "sqlite:{db}", "--plan", ""), "error: a value is required for '--plan <PLAN.json>' but none was supplied"),
]


@pytest.mark.parametrize(("args", "sentence"), USAGE_ERRORS, ids=[" ".join(args) for args, _ in USAGE_ERRORS])
def test_usage_errors(tmp_path: Path, args: tuple[str, ...], sentence: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"]).to_json(), encoding="utf-8")
    argv = [arg.format(db=tmp_path / "journal.db", plan=plan) for arg in args]
    python = run_ffu(*argv, cwd=tmp_path)
    assert (python.returncode, python.stdout) == (2, "")
    assert python.stderr.splitlines()[0] == sentence
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # nothing written, no journal made
    if len(entry_points()) > 1:
        assert same_everywhere(argv, cwd=tmp_path) == (python.returncode, python.stdout, python.stderr)


def test_values_that_start_with_a_dash_after_equals_or_double_dash(tmp_path: Path) -> None:
    assert run_ffu("plan", "--from=-1", "--to", "queens").stderr == 'error: no plan possible: unknown release "-1"\n'
    plan = tmp_path / "plan.json"
    plan.write_text(ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"]).to_json(), encoding="utf-8")
    result = run_ffu("journal", "done", "--db", f"sqlite:{tmp_path / 'j.db'}", "--plan", str(plan), "--", "-1")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and 'step "-1"' in result.stderr


#: The address space a CLI run below may use: reading a whole /dev/zero would pass it
#: instead of filling the machine.
ADDRESS_SPACE = 2 << 30


def run_bounded(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ffu ARGS`` in an interpreter limited to ADDRESS_SPACE, stdin from a file."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
        "from ffu.__main__ import main\n"
        "sys.exit(main())\n"
    )
    with open(stdin or os.devnull, "rb") as source:
        return subprocess.run(
            [sys.executable, "-c", code, *args], stdin=source, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.mark.skipif(not os.path.exists("/dev/zero") or sys.platform == "darwin", reason="needs /dev/zero and RLIMIT_AS")
def test_endless_inputs_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    too_large = "more than 256 MiB: larger than any document ffu reads (stopped reading there)\n"
    not_utf8 = "not UTF-8 text (invalid byte at offset 3)\n"
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"a\xff": 1}')
    db = f"sqlite:{tmp_path / 'journal.db'}"
    for args, stdin, message in (
        (("verify", "/dev/zero"), None, re.escape("error: /dev/zero: " + too_large)),
        (("verify", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("journal", "init", "--db", db, "--plan", "/dev/zero"), None, re.escape("error: /dev/zero: " + too_large)),
        (("journal", "status", "--db", db, "--plan", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("catalog", "validate", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("plan", "--catalog", "-", "--from", "a", "--to", "b"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        # Random bytes without an end: the limit comes first (the text is checked once read).
        (("verify", "/dev/urandom"), None, re.escape("error: /dev/urandom: " + too_large)),
        (("verify", "-"), "/dev/urandom", re.escape("error: <stdin>: " + too_large)),
        (("verify", str(binary)), None, re.escape(f"error: {binary}: " + not_utf8)),
        (("verify", "-"), str(binary), re.escape("error: <stdin>: " + not_utf8)),
    ):
        result = run_bounded(*args, stdin=stdin)
        assert (result.returncode, result.stdout) == (2, ""), args
        assert re.fullmatch(message, result.stderr), (args, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.json"]  # no journal made


def test_large_regular_files_are_refused_before_reading(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.json"
    with open(sparse, "wb") as out:
        out.truncate((256 << 20) + 1)  # a hole: no disk space, no reading needed to refuse it
    result = run_ffu("verify", str(sparse))
    assert (result.returncode, result.stderr) == (
        2,
        f"error: {sparse}: file is {(256 << 20) + 1} bytes, more than the limit of {256 << 20}\n",
    )
    # Just under the limit is read (and is not a plan).
    with open(sparse, "r+b") as out:
        out.truncate(16)
    result = run_ffu("verify", str(sparse))
    assert result.returncode == 2 and "not a valid ffu-plan/1 document" in result.stderr
