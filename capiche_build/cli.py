"""The `capiche` command: thin argparse layer over library calls.

Exit status: 0 success, 1 a negative answer (no match, drift, a failing check), 2 bad input.
Heavy engines (yara, pySigma) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from capiche_build import __version__
from capiche_build.diagnostics import CapicheError

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = fn
        return fn

    return register


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    return "\n".join(lines)


# --- catalog commands -------------------------------------------------------------------------


@command("search")
def _search(args: argparse.Namespace) -> int:
    from capiche_build.catalog import load_catalog
    from capiche_build.search import search

    if not any([args.pattern, args.description, args.service, args.event_source]):
        raise CapicheError(
            "give a PATTERN or at least one of --description, --service, --event-source"
        )
    ops = search(
        load_catalog(args.catalog),
        name=args.pattern,
        description=args.description,
        service=args.service,
        event_source=args.event_source,
    )
    if args.json:
        _print_json([op.to_dict() for op in ops])
    elif ops:
        rows = [
            [
                op.api,
                op.boto3,
                " | ".join(f"{op.cli_service} {c}" for c in op.cli_commands) or "(not in CLI)",
                f"{op.event_source} {op.event_name}{'*' if op.event_name_match == 'prefix' else ''}",
            ]
            for op in ops
        ]
        print(format_table(["API", "boto3", "AWS CLI", "CloudTrail"], rows))
        print(f"\n{len(ops)} operation(s)")
    if not ops:
        print("no operation matches", file=sys.stderr)
        return 1
    return 0


@command("show")
def _show(args: argparse.Namespace) -> int:
    from capiche_build.catalog import load_catalog
    from capiche_build.forms import all_forms

    catalog = load_catalog(args.catalog)
    ops = catalog.get_many(args.apis)
    if args.json:
        _print_json([op.to_dict() | {"forms": all_forms(op)} for op in ops])
        return 0
    for i, op in enumerate(ops):
        if i:
            print()
        print(f"{op.api}  ({op.service_full_name})")
        print(f"  description   {op.description or '(none)'}")
        print(f"  boto3         {op.boto3}")
        cli = ", ".join(f"aws {op.cli_service} {c}" for c in op.cli_commands)
        print(f"  AWS CLI       {cli or '(removed from the CLI)'}")
        match = (
            " (recorded with an API-version suffix: match by prefix)"
            if op.event_name_match == "prefix"
            else ""
        )
        print(f"  CloudTrail    {op.event_source} {op.event_name}{match}")
        print(f"  IAM action    {op.iam_action} (heuristic)")
        forms = all_forms(op)
        print(f"  JS v3         {forms['js-v3'][0]}")
        print(f"  Go v2         {forms['go-v2'][0]}")
        print(f"  Java v2       {forms['java-v2'][0]} (heuristic)")
        flags = [
            n
            for n, on in (("deprecated", op.deprecated), ("hidden in CLI help", op.cli_hidden))
            if on
        ]
        if flags:
            print(f"  flags         {', '.join(flags)}")
    return 0


@command("catalog")
def _catalog(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.catalog_command == "generate":
        try:
            from capiche_build.catalog_gen import write_catalog
        except ImportError as err:  # pragma: no cover
            raise CapicheError(f"{err}; install the `catalog` extra") from err
        try:
            path = write_catalog(Path(args.output)) if args.output else write_catalog()
        except ModuleNotFoundError as err:
            raise CapicheError(
                f"catalog generation needs botocore and awscli ({err}); "
                "install them with `pip install -e .[catalog]`"
            ) from err
        print(f"wrote {path}")
        return 0
    from capiche_build.catalog import load_catalog

    catalog = load_catalog(args.catalog)
    info = {
        "path": str(catalog.path),
        "botocore": catalog.botocore_version,
        "awscli": catalog.awscli_version,
        "services": len(catalog.services),
        "operations": len(catalog),
    }
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:11} {value}")
    return 0


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capiche", description="Detection-as-code for cloud API hunting."
    )
    parser.add_argument("--version", action="version", version=f"capiche {__version__}")
    parser.add_argument("--catalog", help="catalog file (default: the shipped data/ catalog)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("search", help="search AWS operations by regex")
    p.add_argument("pattern", nargs="?", help="regex over service:Name (case-insensitive)")
    p.add_argument("--description", metavar="RE", help="regex over descriptions")
    p.add_argument("--service", metavar="RE", help="regex matching the whole boto3 service name")
    p.add_argument("--event-source", metavar="RE", help="regex matching the whole eventSource")
    p.add_argument("--json", action="store_true", help="print a JSON array of operations")

    p = sub.add_parser("show", help="print every form of the given APIs")
    p.add_argument("apis", nargs="+", metavar="API", help="service:Name, e.g. iam:CreateAccessKey")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("catalog", help="inspect or regenerate the API catalog")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    csub.required = True
    g = csub.add_parser("generate", help="regenerate data/ from the pinned botocore and awscli")
    g.add_argument("--output", help="where to write (default: data/aws_api_catalog.json)")
    i = csub.add_parser("info", help="versions and counts of the catalog")
    i.add_argument("--json", action="store_true")

    for extend in _EXTENSIONS:
        extend(sub)
    return parser


# Other modules register their subcommands here (kept out of this file to stay small).
_EXTENSIONS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    from capiche_build import cli_commands, cli_hunt, cli_release  # noqa: F401  (register commands)

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except CapicheError as err:
        for diag in err.diagnostics:
            print(diag.format(), file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. `capiche search x | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
