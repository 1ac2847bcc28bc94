"""`capiche check`: prove every rule with its real engine and run each definition's tests.

Engines: yara-python and yara-x for YARA, pySigma with the SigmaHQ validators (offline) for
Sigma, our own checker for YARA-L. Tests: Sigma (sqlite) and YARA-L (our evaluator) on the
CloudTrail cases, which must agree; YARA on both engines, VTGrep and dork evaluators on the code
cases.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capiche_build.build import resolve_all
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import ResolvedRule, TestCase
from capiche_build.targets import Output, render_rule

LOG_FORMATS = ("sigma", "yaral")
CODE_FORMATS = ("yara", "vtgrep", "dork")
RULE_FILE_SUFFIXES = {".yar": "yara", ".yara": "yara", ".yaral": "yaral"}


@dataclass(frozen=True)
class Policy:
    """`[tool.capiche]` in pyproject.toml: what each definition must carry."""

    require_log_tests: bool = True
    require_code_tests: bool = True

    @classmethod
    def load(cls, start: Path | None = None) -> Policy:
        path = (start or Path.cwd()) / "pyproject.toml"
        if not path.exists():
            return cls()
        import tomllib

        data = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("capiche", {})
        known = {"require-log-tests", "require-code-tests"}
        unknown = sorted(set(data) - known - {"sources", "build"})
        if unknown:
            raise CapicheError(
                Diagnostic(
                    file=str(path),
                    message=f"unknown [tool.capiche] key(s): {', '.join(unknown)}",
                    hint=f"known: {', '.join(sorted(known))}",
                )
            )
        return cls(
            require_log_tests=bool(data.get("require-log-tests", True)),
            require_code_tests=bool(data.get("require-code-tests", True)),
        )


@dataclass
class RuleReport:
    name: str
    source: str
    engines: list[str] = field(default_factory=list)
    tests_passed: int = 0
    tests_failed: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


@dataclass
class CheckReport:
    rules: list[RuleReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # not tied to one rule

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        return self.diagnostics + [d for r in self.rules for d in r.diagnostics]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.all_diagnostics)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rules": [
                {
                    "name": r.name,
                    "source": r.source,
                    "ok": r.ok,
                    "engines": r.engines,
                    "tests_passed": r.tests_passed,
                    "tests_failed": r.tests_failed,
                }
                for r in self.rules
            ],
            "diagnostics": [
                {k: v for k, v in d.__dict__.items() if v not in (None, "")}
                for d in self.all_diagnostics
            ],
        }


# --- engines ------------------------------------------------------------------------------------


def validate_outputs(outputs: Sequence[Output], source: str = "") -> list[Diagnostic]:
    """Every output through its real engine; diagnostics point at the generated file."""
    from capiche_build.engines.sigma import validate_sigma
    from capiche_build.engines.yara import check_yara
    from capiche_build.yaral.checker import check_yaral

    found: list[Diagnostic] = []
    for out in outputs:
        origin = f"build/{out.path}"
        if out.format == "yara":
            found += check_yara(out.text, origin)
        elif out.format == "sigma":
            found += validate_sigma(out.text, origin, Path(out.path).name)
        elif out.format == "yaral":
            found += check_yaral(out.text, origin)
        elif out.format in ("vtgrep", "dork"):
            found += _check_query(out)
    if found and source:
        found.append(
            Diagnostic(
                file=source,
                message="a rule generated from this definition failed its engine (see above)",
                hint="usually the definition's tags, references or title break a SigmaHQ "
                "convention; if the message points at generated syntax, report it",
            )
        )
    return found


def _check_query(out: Output) -> list[Diagnostic]:
    from capiche_build.engines.query import (
        QuerySyntaxError,
        count_dork_words,
        parse_dork,
        parse_vtgrep,
    )

    found = []
    for number, line in enumerate(out.text.splitlines(), 1):
        try:
            if out.format == "vtgrep":
                parse_vtgrep(line)
            else:
                parse_dork(line)
                if count_dork_words(line) > 32:
                    found.append(
                        Diagnostic(
                            file=f"build/{out.path}",
                            line=number,
                            message="dork longer than 32 words",
                            engine="dork",
                        )
                    )
        except QuerySyntaxError as err:
            found.append(
                Diagnostic(
                    file=f"build/{out.path}", line=number, message=str(err), engine=out.format
                )
            )
    return found


# --- tests --------------------------------------------------------------------------------------


def _log_fired(outputs: dict[str, Output], case: TestCase) -> dict[str, bool]:
    from capiche_build.engines.sigma import evaluate_sigma
    from capiche_build.yaral.evaluator import evaluate

    fired: dict[str, bool] = {}
    records = list(case.records)
    if "sigma" in outputs:
        alerts = evaluate_sigma(outputs["sigma"].text, records).alerts()
        fired["sigma"] = any(alerts.values())
    if "yaral" in outputs:
        fired["yaral"] = bool(evaluate(outputs["yaral"].text, records))
    return fired


def _code_fired(rule: ResolvedRule, outputs: dict[str, Output], case: TestCase) -> dict[str, bool]:
    from capiche_build.engines.query import evaluate_dork, evaluate_vtgrep
    from capiche_build.engines.yara import scan_yara

    fired: dict[str, bool] = {}
    data = case.text.encode("utf-8")
    if "yara" in outputs:
        scan = scan_yara(outputs["yara"].text, data)
        fired["yara-python"] = rule.name in scan.yara_python
        fired["yara-x"] = rule.name in scan.yara_x
    if "vtgrep" in outputs:
        fired["vtgrep"] = evaluate_vtgrep(outputs["vtgrep"].text.strip(), data)
    if "dork" in outputs:
        fired["dork"] = any(evaluate_dork(q, case.text) for q in outputs["dork"].text.splitlines())
    return fired


def run_tests(rule: ResolvedRule, outputs: Sequence[Output], report: RuleReport) -> None:
    by_format = {o.format: o for o in outputs}
    tests = rule.source.tests
    plan = [
        ("cloudtrail", True, tests.cloudtrail_match),
        ("cloudtrail", False, tests.cloudtrail_no_match),
        ("code", True, tests.code_match),
        ("code", False, tests.code_no_match),
    ]
    for kind, expected, cases in plan:
        for case in cases:
            try:
                fired = (
                    _log_fired(by_format, case)
                    if kind == "cloudtrail"
                    else _code_fired(rule, by_format, case)
                )
            except CapicheError as err:
                report.tests_failed += 1
                report.diagnostics.extend(err.diagnostics)
                continue
            if not fired:
                continue
            wrong = sorted(engine for engine, hit in fired.items() if hit != expected)
            if not wrong:
                report.tests_passed += 1
                continue
            report.tests_failed += 1
            want = "match" if expected else "not match"
            agree = len(set(fired.values())) == 1
            detail = (
                f"every engine disagrees with the expectation ({', '.join(wrong)})"
                if agree
                else f"engines disagree: {', '.join(f'{e}={h}' for e, h in sorted(fired.items()))}"
            )
            report.diagnostics.append(
                Diagnostic(
                    file=rule.source.path,
                    line=case.line,
                    message=f"{case.label} should {want}: {detail}",
                    hint="fix the groups or the test case"
                    if agree
                    else "the formats detect differently: report it, it is a generator bug",
                )
            )


def _policy_problems(rule: ResolvedRule, policy: Policy) -> list[Diagnostic]:
    src = rule.source
    tests = src.tests
    missing = []
    if policy.require_log_tests and any(f in src.formats for f in LOG_FORMATS):
        if not tests.cloudtrail_match:
            missing.append("tests.cloudtrail.match")
        if not tests.cloudtrail_no_match:
            missing.append("tests.cloudtrail.no_match")
    if policy.require_code_tests and any(f in src.formats for f in CODE_FORMATS):
        if not tests.code_match:
            missing.append("tests.code.match")
        if not tests.code_no_match:
            missing.append("tests.code.no_match")
    return (
        [
            Diagnostic(
                file=src.path,
                line=src.line_of("tests"),
                message=f"missing test case(s): {', '.join(missing)}",
                hint="each definition needs a match and a no-match case for logs and for code "
                "([tool.capiche] require-log-tests / require-code-tests)",
            )
        ]
        if missing
        else []
    )


# --- entry points -------------------------------------------------------------------------------


def check_rules(rules: Sequence[ResolvedRule], policy: Policy | None = None) -> CheckReport:
    from capiche_build.engines.yara import check_yara_sources

    policy = policy or Policy()
    report = CheckReport()
    all_yara: list[tuple[str, str]] = []
    for rule in rules:
        item = RuleReport(rule.name, rule.source.path)
        try:
            outputs = render_rule(rule)
        except (CapicheError, ValueError) as err:
            item.diagnostics += (
                err.diagnostics
                if isinstance(err, CapicheError)
                else [Diagnostic(file=rule.source.path, message=str(err))]
            )
            report.rules.append(item)
            continue
        item.engines = [o.format for o in outputs]
        item.diagnostics += validate_outputs(outputs, rule.source.path)
        item.diagnostics += _policy_problems(rule, policy)
        if not item.diagnostics:
            run_tests(rule, outputs, item)
        all_yara += [(f"build/{o.path}", o.text) for o in outputs if o.format == "yara"]
        report.rules.append(item)
    if len(all_yara) > 1 and report.ok:
        report.diagnostics += check_yara_sources(all_yara)  # e.g. one rule name in two files
    return report


def check_definitions(
    paths: Sequence[str | Path],
    catalog: Catalog | None = None,
    policy: Policy | None = None,
    lockfile: Path | None = None,
) -> CheckReport:
    """Check definitions; with `lockfile` (only for the whole library) also the version lock."""
    catalog = catalog or load_catalog()
    try:
        rules = resolve_all(catalog, paths)
    except CapicheError as err:
        return CheckReport(diagnostics=err.diagnostics)
    report = check_rules(rules, policy)
    if lockfile is not None and lockfile.exists():
        from capiche_build.lock import lock_problems

        report.diagnostics += lock_problems(rules, lockfile)
    return report


def check_rule_files(paths: Sequence[Path]) -> CheckReport:
    """Rules written by hand: the same engines and checkers as generated ones."""
    from capiche_build.engines.sigma import validate_sigma
    from capiche_build.engines.yara import check_yara_files
    from capiche_build.yaral.checker import check_yaral

    report = CheckReport()
    yara_files = [p for p in paths if RULE_FILE_SUFFIXES.get(p.suffix) == "yara"]
    for path in paths:
        item = RuleReport(path.stem, str(path))
        text = path.read_text(encoding="utf-8", errors="replace")
        kind = RULE_FILE_SUFFIXES.get(path.suffix, "sigma")
        item.engines = ["yara-python", "yara-x"] if kind == "yara" else [kind]
        if kind == "yaral":
            item.diagnostics += check_yaral(text, str(path))
        elif kind == "sigma":
            item.diagnostics += validate_sigma(text, str(path), path.name)
        report.rules.append(item)
    found = check_yara_files(yara_files)
    for item in report.rules:
        item.diagnostics += [d for d in found if d.file == item.source]
    report.diagnostics += [d for d in found if d.file not in {i.source for i in report.rules}]
    return report


def split_paths(paths: Sequence[str]) -> tuple[list[str], list[Path]]:
    """Definition files/folders vs. rule files given directly (`.yar`, `.yaral`, Sigma `.yml`)."""
    from capiche_build.yamlsrc import load_yaml

    definitions: list[str] = []
    rule_files: list[Path] = []
    for entry in paths:
        p = Path(entry)
        if p.is_file() and p.suffix in RULE_FILE_SUFFIXES:
            rule_files.append(p)
        elif p.is_file() and p.suffix in {".yml", ".yaml"}:
            try:
                text = p.read_text(encoding="utf-8")
                head = load_yaml(text.split("\n---", 1)[0], str(p))
            except (OSError, UnicodeDecodeError, CapicheError):
                definitions.append(entry)
                continue
            is_sigma = isinstance(head, dict) and ("logsource" in head or "correlation" in head)
            (rule_files.append(p) if is_sigma else definitions.append(entry))
        else:
            definitions.append(entry)
    return definitions, rule_files


def print_github(report: CheckReport, stream: Any = None) -> None:
    """GitHub workflow commands, so problems show on the pull request's lines."""
    stream = stream or sys.stdout  # looked up now: sys.stdout may have been replaced
    for d in report.all_diagnostics:
        props = [f"file={d.file}"] if d.file else []
        if d.line is not None:
            props.append(f"line={d.line}")
        if d.column is not None:
            props.append(f"col={d.column}")
        title = f"capiche {d.engine}".strip()
        props.append(f"title={title}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        level = "error" if d.severity == "error" else "warning"
        stream.write(f"::{level} {','.join(props)}::{message}\n")
