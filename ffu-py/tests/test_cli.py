"""`python -m ffu`: the CLI's commands, output and exit status (0 ok, 1 no plan, 2 bad input)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TINY, TINY_HEAD, run_ffu, rust_cli

import ffu
from ffu.__main__ import main


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
    for args in ((), ("plan", "--from", "newton"), ("plan", "--from", "a", "--to", "b", "--mode", "x"), ("nope",)):
        result = run_ffu(*args)
        assert result.returncode == 2, args
        assert "error:" in result.stderr
        assert "Traceback" not in result.stderr


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
    assert verified.stdout.startswith("ok: ") and "no violation of V1-V11" in verified.stdout
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
    document = ffu.Catalog.openstack().plan("newton", "pike").to_dict()
    document["steps"] = [step for step in document["steps"] if step["kind"] != "backup"]
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


def test_main_is_callable_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--from", "newton", "--to", "ocata", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "ffu newton -> ocata" {')
    assert main(["plan", "--from", "ocata", "--to", "newton"]) == 1
    assert capsys.readouterr().err.startswith("error: no plan possible: ")


def test_verbose_logs_to_stderr() -> None:
    result = run_ffu("-v", "plan", "--from", "newton", "--to", "ocata", "--format", "json")
    assert result.returncode == 0
    assert "DEBUG ffu: plan{from=newton to=ocata}: " in result.stderr


# The same commands through the Rust CLI give the same bytes and exit status. scripts/test.sh
# builds the Rust CLI from the same sources and sets FFU_RUST_CLI.
PARITY = [
    ("plan", "--from", "newton", "--to", "queens"),
    ("plan", "--from", "newton", "--to", "2026.2", "--format", "json"),
    ("plan", "--from", "antelope", "--to", "2025.1", "--skip-level", "--format", "json"),
    ("plan", "--from", "newton", "--to", "pike", "--services", "keystone,glance", "--format", "dot"),
    ("plan", "--from", "queens", "--to", "newton"),
    ("plan", "--from", "newtn", "--to", "queens"),
    ("plan", "--from", "newton", "--to", "queens", "--mode", "rolling"),
    ("plan", "--from", "2023.1", "--to", "2024.1", "--mode", "rolling", "--skip-level"),
    ("plan", "--inventory", "{mixed}", "--to", "queens", "--mode", "rolling", "--skip-level"),
    ("plan", "--from=-1", "--to", "queens"),
    ("releases",),
    ("catalog", "show"),
    ("catalog", "show", "--format", "json"),
    ("catalog", "validate", "{tiny}"),
    ("catalog", "validate", "{broken}"),
    ("catalog", "validate", "{missing}"),
    ("verify", "{plan}"),
    ("verify", "{plan}", "--format", "json"),
    ("verify", "{nobackup}"),
    ("verify", "{nobackup}", "--format", "json"),
    ("verify", "{tiny}"),
    ("verify", "{missing}"),
    ("extensions", "--inventory", "{mixed}"),
    ("extensions", "--inventory", "{mixed}", "--format", "json"),
    ("plan", "--inventory", "{mixed}", "--to", "queens", "--mode", "rolling", "--format", "json"),
    ("import", "alembic", "{generated}", "--service", "app", "--release", "b"),
    ("import", "alembic", "{neutron}", "--service", "neutron", "--format", "json"),
    ("import", "alembic", "{missing}", "--service", "neutron"),
    ("discover", "--db", "sqlite:{state}", "--service", "net", "--service", "img", "--catalog", "{alembic}"),
    ("discover", "--db", "sqlite:{state}", "--service", "net", "--catalog", "{alembic}", "--format", "json"),
    ("discover", "--db", "sqlite:{state}", "--service", "nope", "--catalog", "{alembic}"),
    ("discover", "--sql", "--backend", "postgres"),
    ("plan", "--db", "sqlite:{state}", "--to", "r3", "--catalog", "{alembic}"),
    ("plan", "--db", "sqlite:{state}", "--to", "r3", "--catalog", "{alembic}", "--services", "net", "--format", "json"),
    ("plan", "--db", "sqlite:{state}", "--from", "r1", "--to", "r2", "--catalog", "{alembic}"),
    ("plan", "--db", "postgres://x", "--to", "r3", "--catalog", "{alembic}"),
    # Creating the temporary file beside it fails, not finding it.
    ("plan", "--from", "newton", "--to", "ocata", "-o", "/proc/version"),
    # Input without an end: refused at the limit, in bounded memory.
    ("verify", "/dev/zero"),
    ("catalog", "validate", "/dev/zero"),
    # Errors about an unusable plan name its file; long values are cut.
    ("verify", "{duplicate}"),
    ("plan", "--from", "newton", "--to", "q" * 5000),
    # A host with neutron-server and its agents: one install, and the plan verifies.
    ("plan", "--inventory", "{network}", "--to", "queens", "--format", "json"),
]

#: The shared alembic-style test catalog (also tests/discover.rs); a database at STATE_HEADS is
#: in the middle of r3 (expand applied, contract not).
ALEMBIC_CATALOG = (ROOT / "tests" / "data" / "alembic-test.yaml").read_text(encoding="utf-8")
STATE_HEADS = ("ddd", "ccc")


def write_state(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [(head,) for head in STATE_HEADS])
    conn.close()


@pytest.mark.parametrize("args", PARITY, ids=[" ".join(args) for args in PARITY])
def test_same_output_as_the_rust_cli(tmp_path: Path, args: tuple[str, ...]) -> None:
    binary = rust_cli()
    if binary is None:
        pytest.skip("set FFU_RUST_CLI to the Rust ffu binary to compare (scripts/test.sh does)")
    files = {
        "tiny": tmp_path / "tiny.yaml",
        "broken": tmp_path / "broken.yaml",
        "missing": tmp_path / "missing.yaml",
        "plan": tmp_path / "plan.json",
        "nobackup": tmp_path / "nobackup.json",
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
    argv = [arg.format(**{name: str(path) for name, path in files.items()}) for arg in args]
    rust = subprocess.run([str(binary), *argv], capture_output=True, text=True, timeout=120, check=False)
    python = run_ffu(*argv)
    assert python.returncode == rust.returncode
    assert python.stdout == rust.stdout
    assert python.stderr == rust.stderr


def test_journal_commands_match_the_rust_cli(tmp_path: Path) -> None:
    """A whole run through the journal, command by command, in both CLIs on their own
    journals: the same output and exit status at every step (timestamps aside)."""
    binary = rust_cli()
    if binary is None:
        pytest.skip("set FFU_RUST_CLI to the Rust ffu binary to compare (scripts/test.sh does)")
    plan_path = tmp_path / "plan.json"
    plan = ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"])
    plan_path.write_text(plan.to_json(), encoding="utf-8")

    def both(*args: str) -> str:
        outputs = []
        for name, command in (("rust", [str(binary)]), ("python", None)):
            journal = ["--db", f"sqlite:{tmp_path / name}.db", "--plan", str(plan_path)]
            argv = [args[0], args[1], *journal, *args[2:]]
            if command is None:
                result = run_ffu(*argv)
            else:
                result = subprocess.run([*command, *argv], capture_output=True, text=True, timeout=60, check=False)
            outputs.append((result.returncode, result.stdout, result.stderr.replace(f"{tmp_path / name}.db", "DB")))
        assert outputs[0] == outputs[1], args
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


def test_catalog_from_stdin_matches_the_rust_cli() -> None:
    """`-` reads the catalog from stdin (YAML, or JSON when it starts with `{`), in both CLIs."""
    cases = [
        (("catalog", "validate", "-"), TINY),
        (("catalog", "validate", "-"), TINY_HEAD + "  - {id: x\n"),
        (("plan", "--catalog", "-", "--from", "a", "--to", "c", "--format", "json"), ffu.Catalog.from_yaml(TINY).to_json()),
    ]
    binary = rust_cli()
    for args, text in cases:
        python = run_ffu(*args, stdin=text)
        assert "Traceback" not in python.stderr
        if binary is not None:
            rust = subprocess.run([str(binary), *args], input=text, capture_output=True, text=True, timeout=60, check=False)
            assert (python.returncode, python.stdout, python.stderr) == (rust.returncode, rust.stdout, rust.stderr)
    assert run_ffu("catalog", "validate", "-", stdin=TINY).stdout.startswith("ok: catalog tiny: 3 releases")
    broken = run_ffu("catalog", "validate", "-", stdin=TINY_HEAD + "  - {id: x\n")
    assert broken.returncode == 2 and broken.stderr.startswith("error: <stdin>:")


def test_rolling_skip_level_is_refused() -> None:
    result = run_ffu("plan", "--from", "2023.1", "--to", "2024.1", "--mode", "rolling", "--skip-level")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: unsupported: skip_level in rolling mode: rolling SLURP upgrades are not supported yet; "
        "skip_level needs offline mode\n"
    )


#: Usage errors of clap in the Rust CLI, and the error sentence each gives (first line of
#: stderr; the usage that follows is each parser's own). A token such as -1 is never an
#: option's value (give --from=-1, or -- -1); an empty path names no file.
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
def test_usage_errors_match_the_rust_cli(tmp_path: Path, args: tuple[str, ...], sentence: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"]).to_json(), encoding="utf-8")
    argv = [arg.format(db=tmp_path / "journal.db", plan=plan) for arg in args]
    python = run_ffu(*argv, cwd=tmp_path)
    assert (python.returncode, python.stdout) == (2, "")
    assert python.stderr.splitlines()[0] == sentence
    assert "Traceback" not in python.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # nothing written, no journal made
    binary = rust_cli()
    if binary is not None:
        rust = subprocess.run([str(binary), *argv], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
        assert (rust.returncode, rust.stdout, rust.stderr.splitlines()[0]) == (2, "", sentence)


def test_values_that_start_with_a_dash_after_equals_or_double_dash(tmp_path: Path) -> None:
    assert run_ffu("plan", "--from=-1", "--to", "queens").stderr == 'error: no plan possible: unknown release "-1"\n'
    plan = tmp_path / "plan.json"
    plan.write_text(ffu.Catalog.openstack().plan("newton", "ocata", services=["keystone"]).to_json(), encoding="utf-8")
    result = run_ffu("journal", "done", "--db", f"sqlite:{tmp_path / 'j.db'}", "--plan", str(plan), "--", "-1")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and 'step "-1"' in result.stderr


#: The address space a CLI run below may use: reading a whole /dev/zero would pass it
#: (a MemoryError) instead of filling the machine.
ADDRESS_SPACE = 2 << 30


def run_bounded(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ffu ARGS`` in an interpreter limited to ADDRESS_SPACE, stdin from a file."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
        "from ffu.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    with open(stdin or os.devnull, "rb") as source:
        return subprocess.run(
            [sys.executable, "-c", code, *args], stdin=source, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.mark.skipif(not os.path.exists("/dev/zero") or sys.platform == "darwin", reason="needs /dev/zero and RLIMIT_AS")
def test_endless_inputs_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    too_large = "more than 256 MiB: larger than any document ffu reads (stopped reading there)\n"
    not_utf8 = r"not UTF-8 text \(invalid byte at offset \d+\)\n"
    db = f"sqlite:{tmp_path / 'journal.db'}"
    for args, stdin, message in (
        (("verify", "/dev/zero"), None, re.escape("error: /dev/zero: " + too_large)),
        (("verify", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("journal", "init", "--db", db, "--plan", "/dev/zero"), None, re.escape("error: /dev/zero: " + too_large)),
        (("journal", "status", "--db", db, "--plan", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("catalog", "validate", "-"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("plan", "--catalog", "-", "--from", "a", "--to", "b"), "/dev/zero", re.escape("error: <stdin>: " + too_large)),
        (("verify", "/dev/urandom"), None, "error: /dev/urandom: " + not_utf8),
        (("verify", "-"), "/dev/urandom", "error: <stdin>: " + not_utf8),
    ):
        result = run_bounded(*args, stdin=stdin)
        assert (result.returncode, result.stdout) == (2, ""), args
        assert re.fullmatch(message, result.stderr), (args, result.stderr)
    assert not (tmp_path / "journal.db").exists()


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
