"""``python -m ffu`` and the ``ffu`` console script: the commands of the Rust ``ffu`` CLI.

Same commands, output and exit status: 0 success; 1 no plan possible or violations found;
2 bad input or usage. Errors go to stderr as one sentence, never as a traceback (``-v``
adds the traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import codecs
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any, BinaryIO, NoReturn

from ffu import (
    Catalog,
    FfuError,
    Inventory,
    Journal,
    Plan,
    __version__,
    discover,
    discovery_sql,
    import_alembic,
)


class _Failure(Exception):
    """A command failed with this message and exit status (already explained)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


#: The largest document ffu reads (the core's MAX_DOCUMENT_BYTES): ``/dev/zero`` or a
#: runaway pipe given as a plan is refused after that much, in bounded memory.
_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

#: A token that argparse would take as a negative number, and so as an option's value
#: (``--from -1``); clap, in the Rust CLI, takes it for an unknown short option.
_NEGATIVE_NUMBER = re.compile(r"-\.?[0-9]")


class _Parser(argparse.ArgumentParser):
    """argparse with the Rust CLI's usage errors (clap's): exit 2, the error sentence first,
    a token such as ``-1`` never an option's value, an empty path refused."""

    _has_commands = False

    def add_subparsers(self, **kwargs: Any) -> Any:
        self._has_commands = True
        return super().add_subparsers(**kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # Only a command's own parser (one without subcommands) looks, so that the usage
        # shown is the command's. A value that starts with a dash can still be given as
        # `--from=-1`, or after `--`, as in clap.
        if not self._has_commands and args is not None:
            for arg in args:
                if arg == "--":
                    break
                if _NEGATIVE_NUMBER.match(arg):
                    self.error(f"unexpected argument '{arg[:2]}' found")
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n\n{self.format_usage()}\nFor more information, try '--help'.\n")


class _Path(argparse.Action):
    """A file path argument: an empty one is a usage error, as clap makes it in the Rust
    CLI (the empty path names no file; as ``-o`` it would be "cannot write : Is a directory")."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values == "":
            if self.option_strings:
                name = f"{max(self.option_strings, key=len)} <{self.metavar}>"
            elif self.nargs == "?":
                name = f"[{self.metavar}]"
            else:
                name = f"<{self.metavar}>"
            parser.error(f"a value is required for '{name}' but none was supplied")
        setattr(namespace, self.dest, values)


def _os_error(err: OSError) -> str:
    """An OS error as Rust's std::io::Error prints it, as the Rust CLI does."""
    if err.strerror and err.errno is not None:
        return f"{err.strerror} (os error {err.errno})"
    return str(err)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ffu",
        description="Plans fast-forward upgrades of multi-service clouds (OpenStack first).",
    )
    parser.add_argument("-V", "--version", action="version", version=f"ffu {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show what ffu does (-v: debug, -vv: trace), on stderr",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def catalog_arg(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--catalog",
            action=_Path,
            metavar="FILE",
            help='catalog file (YAML, or JSON when it ends in .json; "-" for stdin); the embedded OpenStack catalog without it',
        )

    plan = commands.add_parser("plan", help="plan an upgrade from one release to another")
    start = plan.add_mutually_exclusive_group()
    start.add_argument("--from", dest="from_", metavar="RELEASE", help="the release the cloud runs now")
    start.add_argument(
        "--inventory",
        action=_Path,
        metavar="FILE",
        help="plan per host for the cloud this inventory (ffu-inventory/1) describes",
    )
    plan.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="sqlite:PATH",
        help="plan from where this database stands (repeat for several): its migrations are left out",
    )
    plan.add_argument("--to", required=True, metavar="RELEASE", help="the release to upgrade to")
    catalog_arg(plan)
    plan.add_argument("--mode", choices=["offline", "rolling"], default="offline", help="offline or rolling")
    plan.add_argument("--skip-level", action="store_true", help="allow skip-level edges (SLURP to SLURP, declared edges)")
    plan.add_argument(
        "--max-unavailable", metavar="N|P%", help="rolling mode: how many agent hosts may be down at once"
    )
    plan.add_argument(
        "--services", action="append", metavar="A,B", help="only upgrade these services (comma-separated)"
    )
    plan.add_argument("--format", choices=["text", "json", "dot"], default="text", help="output format")
    plan.add_argument("-o", "--output", action=_Path, metavar="FILE", help="write the plan to FILE (atomically)")

    verify = commands.add_parser("verify", help="check a plan against the safety rules V1-V11")
    verify.add_argument("plan", action=_Path, metavar="PLAN", help='the plan, as ffu-plan/1 JSON ("-" for stdin)')
    catalog_arg(verify)
    verify.add_argument("--format", choices=["text", "json"], default="text", help="output format of the report")

    catalog = commands.add_parser("catalog", help="validate or show a catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND", parser_class=_Parser)
    validate = catalog_commands.add_parser("validate", help="load a catalog and report the first problem, or how big it is")
    validate.add_argument("file", action=_Path, metavar="FILE", help='the catalog file ("-" for stdin)')
    show = catalog_commands.add_parser("show", help="print a catalog (its fragments merged) as YAML or JSON")
    show.add_argument(
        "file", action=_Path, metavar="FILE", nargs="?", help="the catalog file; the embedded OpenStack catalog without it"
    )
    show.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format")

    releases = commands.add_parser("releases", help="list the releases of a catalog, in upgrade order")
    catalog_arg(releases)

    extensions = commands.add_parser(
        "extensions", help="what each service may advertise now, given where its servers stand"
    )
    extensions.add_argument(
        "--inventory", action=_Path, required=True, metavar="FILE", help="the inventory (ffu-inventory/1, YAML or JSON)"
    )
    catalog_arg(extensions)
    extensions.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help='text explains what is withheld and why; json is {"SERVICE": ["ext", ...]}',
    )

    imports = commands.add_parser("import", help="import migrations from other tools' histories")
    import_commands = imports.add_subparsers(dest="import_command", required=True, metavar="COMMAND", parser_class=_Parser)
    alembic = import_commands.add_parser(
        "alembic", help="read alembic revision scripts (as text, never run) into a catalog fragment"
    )
    alembic.add_argument("dir", action=_Path, metavar="DIR", help="the directory of revision scripts")
    alembic.add_argument("--service", required=True, metavar="NAME", help="the service the migrations belong to")
    alembic.add_argument(
        "--release", metavar="RELEASE", help="every script is a migrate of this release (no release directories)"
    )
    alembic.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format")

    discover_command = commands.add_parser(
        "discover", help="where a database stands: applied and pending migrations per service"
    )
    discover_command.add_argument("--db", metavar="sqlite:PATH", help="the database, as sqlite:PATH (required unless --sql)")
    discover_command.add_argument(
        "--service", dest="services", action="append", default=[], metavar="NAME", help="a service to report on (repeat)"
    )
    catalog_arg(discover_command)
    discover_command.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    discover_command.add_argument(
        "--sql", action="store_true", help="print the discovery statements for --backend instead of running them"
    )
    discover_command.add_argument(
        "--backend", choices=["sqlite", "postgres", "mysql"], default="sqlite", help="the database flavour of --sql"
    )

    journal = commands.add_parser("journal", help="the journal of an upgrade run")
    journal_commands = journal.add_subparsers(dest="journal_command", required=True, metavar="COMMAND", parser_class=_Parser)

    def journal_args(command: argparse.ArgumentParser) -> None:
        command.add_argument("--db", required=True, metavar="sqlite:PATH", help="the journal's database")
        command.add_argument("--plan", action=_Path, required=True, metavar="PLAN.json", help='the plan ("-" for stdin)')

    journal_args(journal_commands.add_parser("init", help="create the journal for a plan"))
    status = journal_commands.add_parser("status", help="how many steps are pending, running, done and failed")
    journal_args(status)
    status.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    next_command = journal_commands.add_parser("next", help="take the next step (print its id)")
    journal_args(next_command)
    next_command.add_argument("--owner", default="ffu", metavar="NAME", help="who runs the steps; holds the lock")
    next_command.add_argument(
        "--lock-ttl", type=int, default=3600, metavar="SECONDS", help="seconds after which the lock may be taken over"
    )
    for verb, text in (("done", "mark a running step done"), ("fail", "mark a running step failed")):
        command = journal_commands.add_parser(verb, help=text)
        journal_args(command)
        command.add_argument("step", metavar="STEP", help="the step id")
    return parser


def _sqlite_path(db: str) -> str:
    """The path of a ``sqlite:PATH`` argument, as the Rust CLI reads it."""
    path = db[len("sqlite:") :] if db.startswith("sqlite:") else ""
    if not path:
        raise _Failure(f"error: unsupported database {json.dumps(db)}: give sqlite:PATH", 2)
    return path[2:] if path.startswith("//") else path


def _load_catalog(path: str | None) -> Catalog:
    """The catalog at ``path``, on stdin for ``-`` (JSON when it starts with ``{``, else
    YAML), or the embedded OpenStack catalog for ``None``."""
    if path is None:
        return Catalog.openstack()
    if path != "-":
        return Catalog.from_file(path)
    text = _read_input(path)
    if text.lstrip().startswith("{"):
        return Catalog.from_json(text, file="<stdin>")
    return Catalog.from_yaml(text, file="<stdin>")


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _write_file(path: str, text: str) -> None:
    """Writes through a temporary file renamed into place: a failed run leaves no half file.

    Through a symbolic link, the file it points to is replaced (or created) and the link
    kept. Anything else that exists (`/dev/null`, `/dev/stdout`, a named pipe) is written to
    as it is: renaming over it would replace the device or pipe with a regular file.
    """
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError as err:
            raise _Failure(f"error: cannot write {path}: {_os_error(err)}", 2) from err
        return
    # Through links, also one to a file not there yet: the file is replaced, the link kept.
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or "."
    temp = os.path.join(directory, f".{os.path.basename(target)}.ffu-tmp-{os.getpid()}")
    try:
        # Said apart: `-o /proc/version` fails to create the temporary file, not to find
        # the file it names.
        created = open(temp, "w", encoding="utf-8", newline="\n")
    except OSError as err:
        raise _Failure(
            f"error: cannot write {path}: cannot create a temporary file in {directory} to replace it: {_os_error(err)}", 2
        ) from err
    try:
        with created as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except OSError as err:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise _Failure(f"error: cannot write {path}: {_os_error(err)}", 2) from err


def _plan(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    services = None if args.services is None else [name for value in args.services for name in value.split(",")]
    if args.inventory is None and args.from_ is None and not args.db:
        raise _Failure("error: give --from RELEASE, --inventory FILE or --db sqlite:PATH", 2)
    state: dict[str, list[str]] | None = None
    if args.db:
        names = services if services is not None else catalog.services
        merged: dict[str, set[str]] = {}
        for db in args.db:
            for service, found in discover(_sqlite_path(db), catalog, names).items():
                merged.setdefault(service, set()).update(found["applied"])
        state = {service: sorted(applied) for service, applied in merged.items()}
    if args.inventory is not None:
        plan = catalog.plan_inventory(
            Inventory.from_file(catalog, args.inventory),
            args.to,
            mode=args.mode,
            skip_level=args.skip_level,
            services=services,
            max_unavailable=args.max_unavailable,
            state=state,
        )
    else:
        plan = catalog.plan(
            args.from_,
            args.to,
            mode=args.mode,
            skip_level=args.skip_level,
            services=services,
            max_unavailable=args.max_unavailable,
            state=state,
        )
    if args.format == "json":
        text = plan.to_json() + "\n"
    elif args.format == "dot":
        text = plan.to_dot()
    else:
        text = plan.to_text(catalog)
    if args.output is None:
        _write_stdout(text)
    else:
        _write_file(args.output, text)


def _input_name(path: str) -> str:
    """The name errors give an input document: ``<stdin>`` for ``-``, as in the Rust CLI."""
    return "<stdin>" if path == "-" else path


def _read_bounded(source: BinaryIO, path: str) -> str:
    """At most ``_MAX_DOCUMENT_BYTES`` of UTF-8 text from ``source``, read a chunk at a time:
    memory stays bounded whatever the source (``/dev/zero``, ``/dev/urandom``, a pipe that
    never ends), and bytes that are not UTF-8 stop the reading at once. The messages are
    those of the Rust CLI (``ffu_core::read_document``)."""
    name = _input_name(path)
    try:
        size = os.fstat(source.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        size = 0  # not a file with a size (a pipe, a test's stream): the reading counts
    if size > _MAX_DOCUMENT_BYTES:
        raise _Failure(f"error: {name}: file is {size} bytes, more than the limit of {_MAX_DOCUMENT_BYTES}", 2)
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts = []
    total = 0
    while True:
        chunk = source.read(min(1 << 20, _MAX_DOCUMENT_BYTES + 1 - total))
        if not chunk:
            break
        if total + len(chunk) > _MAX_DOCUMENT_BYTES:
            raise _Failure(
                f"error: {name}: more than 256 MiB: larger than any document ffu reads (stopped reading there)", 2
            )
        try:
            parts.append(decoder.decode(chunk))
        except UnicodeDecodeError as err:
            raise _Failure(f"error: {name}: not UTF-8 text (invalid byte at offset {total + err.start})", 2) from err
        total += len(chunk)
    try:
        parts.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError as err:
        raise _Failure(f"error: {name}: not UTF-8 text (invalid byte at offset {total + err.start})", 2) from err
    return "".join(parts)


def _read_input(path: str) -> str:
    """The text of the file at ``path``, or of stdin for ``-``, at most 256 MiB of UTF-8."""
    try:
        if path != "-":
            with open(path, "rb") as source:
                return _read_bounded(source, path)
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # a text stream put in place of stdin (tests): characters, not bytes
            text = sys.stdin.read(_MAX_DOCUMENT_BYTES + 1)
            if len(text) > _MAX_DOCUMENT_BYTES:
                raise _Failure(
                    "error: <stdin>: more than 256 MiB: larger than any document ffu reads (stopped reading there)", 2
                )
            return text
        return _read_bounded(stdin, path)
    except OSError as err:
        raise _Failure(f"error: {_input_name(path)}: cannot read file: {_os_error(err)}", 2) from err


def _verify(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    plan = Plan.from_json(_read_input(args.plan), file=_input_name(args.plan))
    violations = catalog.verify(plan)
    if args.format == "json":
        report = [{"message": v.message, "rule": v.rule, "steps": v.steps} for v in violations]
        _write_stdout(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    elif not violations:
        _write_stdout(f"ok: {len(plan)} steps, {len(plan.hops)} hops, no violation of V1-V11\n")
    else:
        lines = []
        for violation in violations:
            lines.append(f"{violation.rule}: {violation.message}\n")
            if violation.steps:
                lines.append(f"    steps: {', '.join(violation.steps)}\n")
        _write_stdout("".join(lines))
    if violations:
        raise _Failure(
            f"error: {_input_name(args.plan)}: the plan breaks the safety rules ({len(violations)} violations)", 1
        )


def _validate(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.file)
    stats = catalog.stats()
    summary = ", ".join(
        f"{stats[key]} {key.replace('_', ' ')}"
        for key in ("releases", "services", "components", "migrations", "extensions", "config_changes")
    )
    _write_stdout(f"ok: catalog {catalog.name}: {summary}\n")


def _show(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.file)
    text = catalog.to_json() if args.format == "json" else catalog.to_yaml()
    _write_stdout(text if text.endswith("\n") else text + "\n")


def _releases(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    lines = []
    for release in catalog.release_details:
        line = release["name"]
        if release["aliases"]:
            line += f" ({', '.join(release['aliases'])})"
        if release["date"] is not None:
            line = f"{line:<24} {release['date']}"
        if release["slurp"]:
            line += "  SLURP"
        lines.append(line.rstrip() + "\n")
    _write_stdout("".join(lines))


def _extensions(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    inventory = Inventory.from_file(catalog, args.inventory)
    negotiated = catalog.negotiate_details(inventory)
    if args.format == "json":
        report = {service: details["advertised"] for service, details in negotiated.items()}
        _write_stdout(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return
    lines = []
    for service, details in negotiated.items():
        lines.append(f"{service}: {', '.join(details['advertised'])}\n")
        for extension, why in details["withheld"].items():
            lines.append(f"  withheld {extension}: {why}\n")
    _write_stdout("".join(lines))


def _import_alembic(args: argparse.Namespace) -> None:
    imported = import_alembic(args.dir, args.service, release=args.release)
    for warning in imported.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _write_stdout(imported.to_json() if args.format == "json" else imported.to_yaml())


def _discover(args: argparse.Namespace) -> None:
    if args.sql:
        _write_stdout("".join(f"{statement};\n" for statement in discovery_sql(args.backend)))
        return
    if args.db is None or not args.services:
        raise _Failure("error: give --db sqlite:PATH and --service NAME (or --sql)", 2)
    path = _sqlite_path(args.db)
    catalog = _load_catalog(args.catalog)
    state = discover(path, catalog, args.services)
    if args.format == "json":
        report = {}
        for service, found in sorted(state.items()):
            entry: dict[str, object] = {
                "release": found["release"],
                "applied": found["applied"],
                "pending": found["pending"],
            }
            if found["legacy_version"] is not None:
                entry["legacy_version"] = found["legacy_version"]
            report[service] = entry
        _write_stdout(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return
    lines = []
    for service, found in sorted(state.items()):
        release = found["release"] or "none"
        lines.append(f"{service}: release {release}, {len(found['applied'])} applied, {len(found['pending'])} pending\n")
        if found["legacy_version"] is not None:
            lines.append(f"  sqlalchemy-migrate version {found['legacy_version']}\n")
        lines.extend(f"  pending {migration}\n" for migration in found["pending"])
    _write_stdout("".join(lines))


def _journal(args: argparse.Namespace) -> None:
    path = _sqlite_path(args.db)
    plan = Plan.from_json(_read_input(args.plan), file=_input_name(args.plan))
    journal = Journal(path, plan)
    command = args.journal_command
    if command == "init":
        counts = journal.status()
        total = counts["pending"] + counts["running"] + counts["done"] + counts["failed"]
        _write_stdout(f"ok: journal for plan {journal.checksum}: {total} steps, {counts['done']} done\n")
    elif command == "status":
        if args.format == "json":
            steps = [
                {
                    "id": step["id"],
                    "state": step["state"],
                    "attempts": step["attempts"],
                    "host": step["host"],
                    "started_at": step["started_at"],
                    "finished_at": step["finished_at"],
                }
                for step in journal.steps()
            ]
            report = {"checksum": journal.checksum, "steps": steps}
            _write_stdout(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        else:
            counts = journal.status()
            total = counts["pending"] + counts["running"] + counts["done"] + counts["failed"]
            _write_stdout(
                f"{total} steps: {counts['done']} done, {counts['running']} running, "
                f"{counts['failed']} failed, {counts['pending']} pending\n"
            )
    elif command == "next":
        step = journal.next(args.owner, float(args.lock_ttl))
        if step is not None:
            _write_stdout(f"{step}\n")
    elif command == "done":
        journal.done(args.step)
    else:
        journal.fail(args.step)


_COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "plan": _plan,
    "verify": _verify,
    "validate": _validate,
    "show": _show,
    "releases": _releases,
    "extensions": _extensions,
    "alembic": _import_alembic,
    "discover": _discover,
    "journal": _journal,
}


def _lower_level_name(record: logging.LogRecord) -> bool:
    """Adds ``levelname_lower`` (``warning`` or ``error``) for the plain format."""
    setattr(record, "levelname_lower", "error" if record.levelno >= logging.ERROR else "warning")  # noqa: B010
    return True


def _init_logging(verbose: int, stream: IO[str]) -> None:
    handler = logging.StreamHandler(stream)
    if verbose <= 0:
        # Warnings are for the operator (a stale journal lock taken over, a database that
        # holds nothing of a service), as plain lines like the Rust CLI's.
        handler.setFormatter(logging.Formatter("%(levelname_lower)s: %(message)s"))
        handler.addFilter(_lower_level_name)
        logger = logging.getLogger("ffu")
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        return
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.addLevelName(5, "TRACE")  # tracing's TRACE events arrive at level 5
    logger = logging.getLogger("ffu")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose == 1 else 5)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI with ``argv`` (the process's arguments by default); returns the exit status."""
    args = _parser().parse_args(argv)
    _init_logging(args.verbose, sys.stderr)
    command: str = args.command
    if command == "catalog":
        command = args.catalog_command
    elif command == "import":
        command = args.import_command
    try:
        _COMMANDS[command](args)
    except FfuError as err:
        prefix = "error: no plan possible: " if err.no_plan else "error: "
        print(f"{prefix}{err}", file=sys.stderr)
        return 1 if err.no_plan else 2
    except _Failure as failure:
        print(failure, file=sys.stderr)
        return failure.status
    except BrokenPipeError:
        # A closed pipe (`ffu plan ... | head`) is the reader's choice, not an error; point
        # stdout at devnull so that the interpreter's final flush does not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as err:
        print(f"error: cannot write output: {_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - the CLI promises one sentence, never a traceback
        print(f"error: internal error ({type(err).__name__}): {err}", file=sys.stderr)
        if args.verbose:
            logging.getLogger("ffu").exception("traceback of the internal error")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
