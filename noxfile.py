"""Local and CI entry points. Sessions only call the `capiche` command or pytest/ruff."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11"]


def _capiche(session: nox.Session, command: str) -> None:
    """Install the project and run one `capiche` command with the session's arguments."""
    session.install("-e", ".")
    session.run("capiche", command, *session.posargs)


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
    _capiche(session, "build")


@nox.session
def check(session: nox.Session) -> None:
    """Validate every rule with its real engine and run the definitions' tests."""
    _capiche(session, "check")


@nox.session
def diff(session: nox.Session) -> None:
    """Fail when build/ does not match a fresh build of rules_src/."""
    _capiche(session, "diff")


@nox.session
def coverage(session: nox.Session) -> None:
    """Regenerate docs/coverage.md (ATT&CK, services, noise check)."""
    _capiche(session, "coverage")


@nox.session
def bundle(session: nox.Session) -> None:
    """Write reproducible release bundles into dist/ (pass --version V [--previous OLD])."""
    _capiche(session, "bundle")


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
