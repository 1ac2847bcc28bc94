"""Local and CI entry points. Sessions only call the `capiche` command or pytest/ruff."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (real engines, offline)."""
    session.install("-e", ".[test,catalog,spark]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def build(session: nox.Session) -> None:
    """Build rules_src/ into build/ (all five formats)."""
    session.install("-e", ".")
    session.run("capiche", "build", *session.posargs)


@nox.session
def check(session: nox.Session) -> None:
    """Validate every rule with its real engine and run the definitions' tests."""
    session.install("-e", ".")
    session.run("capiche", "check", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """Fail when build/ does not match a fresh build of rules_src/."""
    session.install("-e", ".")
    session.run("capiche", "diff", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """Regenerate docs/coverage.md (ATT&CK, services, noise check)."""
    session.install("-e", ".")
    session.run("capiche", "coverage", *session.posargs)


@nox.session
def bundle(session: nox.Session) -> None:
    """Write reproducible release bundles into dist/ (pass --version V [--previous OLD])."""
    session.install("-e", ".")
    session.run("capiche", "bundle", *session.posargs)


@nox.session
def verify(session: nox.Session) -> None:
    """Verify bundles: sums, manifest, and every rule through its engine."""
    session.install("-e", ".")
    bundles = session.posargs or sorted(str(p) for p in Path("dist").glob("*.tar.gz"))
    session.run("capiche", "verify", *bundles)


@nox.session
def catalog(session: nox.Session) -> None:
    """Regenerate data/aws_api_catalog.json from the pinned botocore and awscli."""
    session.install("-e", ".[catalog]")
    session.run("capiche", "catalog", "generate")


@nox.session
def catalog_refresh(session: nox.Session) -> None:
    """Regenerate the catalog with the newest botocore/awscli and rebuild (weekly workflow)."""
    session.install("-e", ".", "botocore", "awscli")
    session.run("capiche", "catalog", "generate")
    # What each rule's selectors gain or lose with the new catalog, before rebuilding.
    session.run("capiche", "diff", "--stat", "--no-coverage", success_codes=[0, 1])
    session.run("capiche", "build")
    session.run("capiche", "coverage")
    session.run("capiche", "lock")


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Print the performance figures (ratios where machines differ)."""
    session.install("-e", ".[test]")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script))
