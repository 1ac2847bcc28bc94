"""Rule-pipeline subcommands (build, new, one-liners, ...) registered on the `capiche` parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from capiche_build.cli import _EXTENSIONS, _print_json, command, format_table
from capiche_build.diagnostics import CapicheError
from capiche_build.model import FORMATS


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    """A one-line progress bar on stderr when it is a terminal and there is much to do."""
    if not enabled or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < 20:
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _formats(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    chosen = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise CapicheError(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    return chosen


@command("build")
def _build(args: argparse.Namespace) -> int:
    from capiche_build.build import DEFAULT_CACHE, run_build
    from capiche_build.catalog import load_catalog

    if args.formats and Path(args.out) == Path("build"):
        # build/ is the committed, complete tree: a partial build there would delete the rest.
        raise CapicheError(
            "--formats writes a partial tree; give it its own --out, e.g. --out dist/yara"
        )
    result = run_build(
        args.sources or ["rules_src"],
        args.out,
        _formats(args.formats),
        load_catalog(args.catalog),
        _progress(not args.json),
        None if args.no_cache else DEFAULT_CACHE,
    )
    if args.json:
        _print_json({"out": args.out, "rules": list(result.entries)})
        return 0
    rows = result.summary_rows()
    print(format_table(["rule", "groups (APIs)", "formats", "notes"], rows))
    files = len(result.files)
    cached = len(rows) - result.rebuilt
    print(f"\nbuilt {len(rows)} rule(s) into {args.out}/ ({files} files; {cached} from the cache)")
    return 0


NEW_TEMPLATE = """\
id: {id}
name: {name}
title: {title}
description: Describe what the APIs below reveal when an attacker calls them.
author: {author}
date: {date}
status: experimental
level: medium
tags:
    - attack.persistence
    - attack.privilege-escalation
    - attack.t1098.001
references:
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
falsepositives:
    - Administrators doing this on purpose
groups:
    keys:
        apis: [iam:CreateAccessKey]
condition: keys
tests:
    cloudtrail:
        match:
            - {{eventSource: iam.amazonaws.com, eventName: CreateAccessKey, eventTime: '2026-01-01T00:00:00Z'}}
        no_match:
            - {{eventSource: iam.amazonaws.com, eventName: ListUsers, eventTime: '2026-01-01T00:00:00Z'}}
    code:
        match:
            - "iam.create_access_key(UserName='x')"
        no_match:
            - "iam.list_users()"
"""


@command("new")
def _new(args: argparse.Namespace) -> int:
    import datetime
    import re
    import uuid

    from capiche_build.definitions import NAME_RE, RESERVED_RULE_NAMES

    if not NAME_RE.match(args.name) or args.name in RESERVED_RULE_NAMES:
        raise CapicheError(
            f"rule name {args.name!r} must be a lower-case identifier and not a YARA or YARA-L keyword, "
            "e.g. iam_access_key_created"
        )
    folder = Path(args.dir)
    path = folder / f"{args.name}.yml"
    if path.exists():
        raise CapicheError(f"{path} already exists; choose another name")
    title = re.sub(r"\s+", " ", args.name.replace("_", " ")).title()
    text = NEW_TEMPLATE.format(
        id=uuid.uuid4(),
        name=args.name,
        title=title,
        author=args.author,
        date=datetime.date.today().isoformat(),  # a new definition is dated the day it is written
    )
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


@command("coverage")
def _coverage(args: argparse.Namespace) -> int:
    from capiche_build.build import resolve_all
    from capiche_build.catalog import load_catalog
    from capiche_build.coverage import (
        COVERAGE_PAGE,
        DEFAULT_RECORDS,
        coverage_page,
        page_is_current,
    )

    catalog = load_catalog(args.catalog)
    rules = resolve_all(catalog, args.sources or ["rules_src"])
    page = coverage_page(rules, Path(args.records) if args.records else DEFAULT_RECORDS)
    out = Path(args.output) if args.output else COVERAGE_PAGE
    if args.check:
        if not page_is_current(page, out):
            print(f"{out} is out of date: run `capiche coverage`", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out} ({len(rules)} definitions)")
    return 0


@command("diff")
def _diff(args: argparse.Namespace) -> int:
    from capiche_build.build import DEFAULT_CACHE, build_cached, read_tree
    from capiche_build.catalog import load_catalog
    from capiche_build.diff import compare, report

    catalog = load_catalog(args.catalog)
    sources = args.sources or ["rules_src"]
    fresh = build_cached(sources, catalog, None, DEFAULT_CACHE)
    drift = compare(read_tree(Path(args.build)), fresh.files)
    print(report(drift, patches=not args.stat))
    stale_page = False
    if not args.no_coverage:
        from capiche_build.build import resolve_all
        from capiche_build.coverage import COVERAGE_PAGE, coverage_page, page_is_current

        stale_page = not page_is_current(coverage_page(resolve_all(catalog, sources)))
        if stale_page:
            print(f"{COVERAGE_PAGE} is out of date: run `capiche coverage`")
    return 0 if drift.clean and not stale_page else 1


@command("check")
def _check(args: argparse.Namespace) -> int:
    from capiche_build.catalog import load_catalog
    from capiche_build.check import (
        Policy,
        check_definitions,
        check_rule_files,
        print_github,
        split_paths,
    )

    definitions, rule_files = split_paths(args.paths or ["rules_src"])
    # The lock describes the whole library: check it only when the whole library is checked.
    lockfile = Path("rules_src/capiche.lock.json") if not args.paths else None
    report = (
        check_definitions(definitions, load_catalog(args.catalog), Policy.load(), lockfile)
        if definitions
        else None
    )
    if rule_files:
        extra = check_rule_files(rule_files)
        if report is None:
            report = extra
        else:
            report.rules += extra.rules
            report.diagnostics += extra.diagnostics
    assert report is not None
    if args.format == "json":
        _print_json(report.to_json())
    elif args.format == "github":
        print_github(report)
    else:
        rows = [
            [
                r.name,
                r.source,
                ",".join(r.engines),
                f"{r.tests_passed}/{r.tests_passed + r.tests_failed}",
                "ok" if r.ok else "FAIL",
            ]
            for r in report.rules
        ]
        if rows:
            print(format_table(["rule", "source", "engines", "tests", "result"], rows))
        for d in report.all_diagnostics:
            print(d.format(), file=sys.stderr)
        errors = sum(d.severity == "error" for d in report.all_diagnostics)
        print(f"\n{len(report.rules)} rule(s) checked, {errors} error(s)")
    return 0 if report.ok else 1


def _one_liner(fmt: str):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        from capiche_build.api import quick_rule, render

        rule = quick_rule(
            args.name,
            apis=args.api or [],
            searches=args.search or [],
            forms=(args.sdk,) if getattr(args, "sdk", None) else ("boto3", "awscli"),
            header=args.header or [],
            catalog_path=args.catalog,
        )
        sys.stdout.write(render(rule, fmt))
        return 0

    return run


for _fmt in FORMATS:
    command(_fmt)(_one_liner(_fmt))


def _register(sub: Any) -> None:
    p = sub.add_parser("build", help="build every definition into build/")
    p.add_argument("sources", nargs="*", help="definition files or folders (default: rules_src)")
    p.add_argument("--out", default="build", help="output folder (default: build)")
    p.add_argument(
        "--formats",
        help=f"comma-separated subset of {','.join(FORMATS)} (needs its own --out: the tree is replaced)",
    )
    p.add_argument("--json", action="store_true", help="print the manifest entries as JSON")
    p.add_argument(
        "--no-cache", action="store_true", help=f"render everything (ignore {'.capiche-cache'})"
    )

    p = sub.add_parser("coverage", help="write docs/coverage.md (ATT&CK, services, noise check)")
    p.add_argument("sources", nargs="*", help="definition files or folders (default: rules_src)")
    p.add_argument(
        "--records", help="CloudTrail JSONL(.gz) for the noise check (default: data/cloudtrail)"
    )
    p.add_argument("--output", help="where to write (default: docs/coverage.md)")
    p.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")

    p = sub.add_parser("diff", help="rebuild in memory and compare with the committed build/")
    p.add_argument("sources", nargs="*", help="definition files or folders (default: rules_src)")
    p.add_argument("--build", default="build", help="the committed build folder (default: build)")
    p.add_argument("--stat", action="store_true", help="summary only, no unified diff")
    p.add_argument("--no-coverage", action="store_true", help="do not compare docs/coverage.md")

    p = sub.add_parser(
        "check", help="validate every rule with its engine and run the definitions' tests"
    )
    p.add_argument(
        "paths", nargs="*", help="definitions, folders, or rule files (.yar, .yaral, Sigma .yml)"
    )
    p.add_argument("--format", choices=["table", "json", "github"], default="table")

    p = sub.add_parser("new", help="write a starter definition")
    p.add_argument("name", help="rule name (lower-case identifier)")
    p.add_argument("--dir", default="rules_src", help="folder (default: rules_src)")
    p.add_argument("--author", default="capiche-build")

    helps = {
        "yara": "print a YARA rule",
        "yaral": "print a YARA-L 2.0 rule",
        "sigma": "print a Sigma rule",
        "vtgrep": "print a VirusTotal content search",
        "dork": "print Google dorks",
    }
    for fmt in FORMATS:
        p = sub.add_parser(fmt, help=f"{helps[fmt]} for APIs, without a definition file")
        p.add_argument("--api", action="append", metavar="API", help="service:Name (repeatable)")
        p.add_argument(
            "--search",
            action="append",
            metavar="PATTERN",
            help="regex over service:Name (repeatable)",
        )
        p.add_argument("--name", default="capiche_rule", help="rule name")
        if fmt in {"yara", "vtgrep", "dork"}:
            p.add_argument("--sdk", choices=["boto3", "awscli"], help="code form (default: both)")
            p.add_argument(
                "--header", action="append", metavar="TEXT", help="string that must also be present"
            )
        else:
            p.set_defaults(header=None)


_EXTENSIONS.append(_register)
