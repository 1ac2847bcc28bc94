"""`capiche hunt logs|code`: thin layer over capiche_build.hunt.logs and capiche_build.hunt.code."""

from __future__ import annotations

import argparse
from typing import Any

from capiche_build.cli import _EXTENSIONS, command


@command("hunt")
def _hunt(args: argparse.Namespace) -> int:
    if args.hunt_command == "logs":
        from capiche_build.hunt.logs import run_logs_command

        return run_logs_command(args)
    from capiche_build.hunt.code import run_code_command

    return run_code_command(args)


def _register(sub: Any) -> None:
    p = sub.add_parser("hunt", help="run the built rules over CloudTrail logs or source code")
    hsub = p.add_subparsers(dest="hunt_command", metavar="WHAT")
    hsub.required = True

    logs = hsub.add_parser("logs", help="run the Sigma rules over CloudTrail files and folders")
    logs.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files or folders (S3 export layout, .json(.gz), .jsonl(.gz))",
    )
    logs.add_argument(
        "--rules",
        action="append",
        metavar="PATH",
        help="Sigma rule files or folders (default: build/sigma)",
    )
    logs.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    logs.add_argument(
        "--master",
        help="Spark master URL for --engine spark (default: $SPARK_MASTER, else local[*])",
    )
    logs.add_argument(
        "--since", metavar="TIME", help="ISO date or time; records before it are skipped"
    )
    logs.add_argument(
        "--until", metavar="TIME", help="ISO date or time; records at or after it are skipped"
    )
    logs.add_argument("--account", action="append", help="recipientAccountId to keep (repeatable)")
    logs.add_argument("--region", action="append", help="awsRegion to keep (repeatable)")
    logs.add_argument("--format", choices=["table", "json", "csv"], default="table")

    code = hsub.add_parser("code", help="scan files, folders and archives with the YARA rules")
    code.add_argument(
        "paths", nargs="+", metavar="PATH", help="files, folders, .zip or .tar.gz archives"
    )
    code.add_argument(
        "--rules",
        action="append",
        metavar="PATH",
        help="YARA rule files or folders (default: build/yara)",
    )
    code.add_argument(
        "--max-size", default="20MB", help="skip files larger than this (default 20MB)"
    )
    code.add_argument("--format", choices=["table", "json", "csv"], default="table")


_EXTENSIONS.append(_register)
