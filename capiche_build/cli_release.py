"""Release subcommands (lock, bundle, verify, unpack) registered on the `capiche` parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from capiche_build.cli import _EXTENSIONS, _print_json, command
from capiche_build.diagnostics import CapicheError, Diagnostic


def _print_problems(problems: list[Diagnostic]) -> None:
    for d in problems:
        print(d.format(), file=sys.stderr)


@command("lock")
def _lock(args: argparse.Namespace) -> int:
    from capiche_build.build import resolve_all
    from capiche_build.catalog import load_catalog
    from capiche_build.lock import (
        default_lock_path,
        deprecation_date,
        lock_problems,
        read_lock,
        update_lock,
        write_lock,
    )

    sources = args.sources or ["rules_src"]
    path = Path(args.lock) if args.lock else default_lock_path(sources)
    rules = resolve_all(load_catalog(args.catalog), sources)
    if args.check:
        problems = lock_problems(rules, path, args.base)
        _print_problems(problems)
        print(f"{path}: {len(problems)} problem(s) for {len(rules)} rule(s)")
        return 1 if problems else 0
    if args.deprecate and not args.reason:
        raise CapicheError("--deprecate needs --reason: say why the rule was retired")
    deprecate = dict.fromkeys(args.deprecate or [], args.reason or "")
    lock, changes = update_lock(read_lock(path), rules, deprecate, args.date or deprecation_date())
    wrote = write_lock(path, lock)
    if args.json:
        _print_json({"lock": str(path), "written": wrote, "changes": [c.__dict__ for c in changes]})
        return 0
    for change in changes:
        print(change.describe())
    state = "updated" if wrote else "up to date"
    print(f"{path}: {state}, {len(lock.rules)} rule(s), {len(lock.deprecated)} deprecated")
    return 0


@command("bundle")
def _bundle(args: argparse.Namespace) -> int:
    from capiche_build.bundle import (
        check_version,
        make_bundles,
        read_build_tree,
        read_previous,
        source_date_epoch,
    )
    from capiche_build.lock import default_lock_path, read_lock

    check_version(args.version)
    sources = args.sources or ["rules_src"]
    lock_path = Path(args.lock) if args.lock else default_lock_path(sources)
    if not lock_path.exists():
        raise CapicheError(
            Diagnostic(file=str(lock_path), message="no rule lock", hint="run `capiche lock`")
        )
    build = Path(args.build)
    if args.fresh:
        from capiche_build.build import build_files, resolve_all
        from capiche_build.catalog import load_catalog

        catalog = load_catalog(args.catalog)
        files = build_files(resolve_all(catalog, sources), catalog).files
    else:
        files = read_build_tree(build)
    previous = read_previous(args.previous) if args.previous else None
    written = make_bundles(
        files, read_lock(lock_path), args.version, Path(args.out), source_date_epoch(), previous
    )
    for path in written:
        print(f"wrote {path}")
    return 0


@command("verify")
def _verify(args: argparse.Namespace) -> int:
    from capiche_build.bundle import failed, verify_bundle

    status = 0
    for path in args.bundles:
        bundle, problems = verify_bundle(path, engines=not args.no_engines)
        _print_problems(problems)
        if bundle is None or failed(problems):
            print(f"{path}: FAILED")
            status = 1
        else:
            print(f"{path}: ok ({len(bundle.files)} files)")
    return status


@command("unpack")
def _unpack(args: argparse.Namespace) -> int:
    from capiche_build.bundle import unpack_bundle

    try:
        written = unpack_bundle(args.bundle, Path(args.dir))
    except CapicheError as err:
        _print_problems(err.diagnostics)
        print(f"{args.bundle}: not unpacked")
        return 1
    print(f"unpacked {len(written)} file(s) into {args.dir}")
    return 0


def _register(sub: Any) -> None:
    p = sub.add_parser("lock", help="pin a version and content hash per rule in capiche.lock.json")
    p.add_argument("sources", nargs="*", help="definition files or folders (default: rules_src)")
    p.add_argument(
        "--lock", help="lock file (default: capiche.lock.json in the first source folder)"
    )
    p.add_argument(
        "--check", action="store_true", help="report problems, write nothing; exit 1 if any"
    )
    p.add_argument(
        "--base", metavar="LOCK", help="with --check: the released lock versions must move from"
    )
    p.add_argument(
        "--deprecate", action="append", metavar="NAME", help="retire a removed rule (repeatable)"
    )
    p.add_argument("--reason", help="why the --deprecate rules were retired")
    p.add_argument("--date", help="deprecation date (default: from SOURCE_DATE_EPOCH, else today)")
    p.add_argument("--json", action="store_true", help="print the changes as JSON")

    p = sub.add_parser("bundle", help="write reproducible release archives into dist/")
    p.add_argument("sources", nargs="*", help="definitions for --fresh (default: rules_src)")
    p.add_argument("--version", required=True, help="bundle version, e.g. 2026.12.0")
    p.add_argument("--previous", metavar="BUNDLE", help="earlier bundle for the changelog")
    p.add_argument("--out", default="dist", help="output folder (default: dist)")
    p.add_argument("--build", default="build", help="built tree to bundle (default: build)")
    p.add_argument(
        "--fresh", action="store_true", help="build in memory instead of reading --build"
    )
    p.add_argument(
        "--lock", help="lock file (default: capiche.lock.json in the first source folder)"
    )

    p = sub.add_parser("verify", help="check a bundle's hashes, manifest and every rule's engine")
    p.add_argument("bundles", nargs="+", metavar="BUNDLE")
    p.add_argument("--no-engines", action="store_true", help="hashes and listing only")

    p = sub.add_parser("unpack", help="verify a bundle, then extract it safely into DIR")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("dir", metavar="DIR")


_EXTENSIONS.append(_register)
