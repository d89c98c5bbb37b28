"""``python -m ffu`` and the ``ffu`` console script: the commands of the Rust ``ffu`` CLI.

Same commands, output and exit status: 0 success; 1 no plan possible or violations found;
2 bad input or usage. Errors go to stderr as one sentence, never as a traceback (``-v``
adds the traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, NoReturn

from ffu import Catalog, FfuError, Inventory, Plan, __version__


class _Failure(Exception):
    """A command failed with this message and exit status (already explained)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error prefix; usage errors still exit 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


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
            metavar="FILE",
            help="catalog file (YAML, or JSON when it ends in .json); the embedded OpenStack catalog without it",
        )

    plan = commands.add_parser("plan", help="plan an upgrade from one release to another")
    start = plan.add_mutually_exclusive_group(required=True)
    start.add_argument("--from", dest="from_", metavar="RELEASE", help="the release the cloud runs now")
    start.add_argument(
        "--inventory", metavar="FILE", help="plan per host for the cloud this inventory (ffu-inventory/1) describes"
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
    plan.add_argument("-o", "--output", metavar="FILE", help="write the plan to FILE (atomically)")

    verify = commands.add_parser("verify", help="check a plan against the safety rules V1-V11")
    verify.add_argument("plan", metavar="PLAN", help='the plan, as ffu-plan/1 JSON ("-" for stdin)')
    catalog_arg(verify)
    verify.add_argument("--format", choices=["text", "json"], default="text", help="output format of the report")

    catalog = commands.add_parser("catalog", help="validate or show a catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND", parser_class=_Parser)
    validate = catalog_commands.add_parser("validate", help="load a catalog and report the first problem, or how big it is")
    validate.add_argument("file", metavar="FILE", help="the catalog file")
    show = catalog_commands.add_parser("show", help="print a catalog (its fragments merged) as YAML or JSON")
    show.add_argument("file", metavar="FILE", nargs="?", help="the catalog file; the embedded OpenStack catalog without it")
    show.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format")

    releases = commands.add_parser("releases", help="list the releases of a catalog, in upgrade order")
    catalog_arg(releases)

    extensions = commands.add_parser(
        "extensions", help="what each service may advertise now, given where its servers stand"
    )
    extensions.add_argument("--inventory", required=True, metavar="FILE", help="the inventory (ffu-inventory/1, YAML or JSON)")
    catalog_arg(extensions)
    extensions.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help='text explains what is withheld and why; json is {"SERVICE": ["ext", ...]}',
    )
    return parser


def _load_catalog(path: str | None) -> Catalog:
    return Catalog.openstack() if path is None else Catalog.from_file(path)


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _write_file(path: str, text: str) -> None:
    """Writes through a temporary file renamed into place: a failed run leaves no half file."""
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, f".{os.path.basename(path)}.ffu-tmp-{os.getpid()}")
    try:
        with open(temp, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as err:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise _Failure(f"error: cannot write {path}: {_os_error(err)}", 2) from err


def _plan(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    services = None if args.services is None else [name for value in args.services for name in value.split(",")]
    if args.inventory is not None:
        plan = catalog.plan_inventory(
            Inventory.from_file(catalog, args.inventory),
            args.to,
            mode=args.mode,
            skip_level=args.skip_level,
            services=services,
            max_unavailable=args.max_unavailable,
        )
    else:
        plan = catalog.plan(
            args.from_,
            args.to,
            mode=args.mode,
            skip_level=args.skip_level,
            services=services,
            max_unavailable=args.max_unavailable,
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


def _read_input(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as source:
            return source.read()
    except (OSError, UnicodeDecodeError) as err:
        reason = _os_error(err) if isinstance(err, OSError) else "stream did not contain valid UTF-8"
        raise _Failure(f"error: {path}: cannot read file: {reason}", 2) from err


def _verify(args: argparse.Namespace) -> None:
    catalog = _load_catalog(args.catalog)
    plan = Plan.from_json(_read_input(args.plan), file=args.plan)
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
        raise _Failure(f"error: the plan breaks the safety rules ({len(violations)} violations)", 1)


def _validate(args: argparse.Namespace) -> None:
    catalog = Catalog.from_file(args.file)
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


_COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "plan": _plan,
    "verify": _verify,
    "validate": _validate,
    "show": _show,
    "releases": _releases,
    "extensions": _extensions,
}


def _init_logging(verbose: int, stream: IO[str]) -> None:
    if verbose <= 0:
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.addLevelName(5, "TRACE")  # tracing's TRACE events arrive at level 5
    logger = logging.getLogger("ffu")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose == 1 else 5)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI with ``argv`` (the process's arguments by default); returns the exit status."""
    args = _parser().parse_args(argv)
    _init_logging(args.verbose, sys.stderr)
    command = args.catalog_command if args.command == "catalog" else args.command
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
