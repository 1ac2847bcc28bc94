"""The rule model: definitions as written, and rules resolved against the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from capiche_build.catalog import Operation
from capiche_build.condition import Cond, Conjunction

CODE_FORMS = ("boto3", "awscli")
FORMATS = ("yara", "yaral", "sigma", "vtgrep", "dork")
LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")


@dataclass(frozen=True)
class GroupSpec:
    """One named API group as written: selectors that resolve to catalog operations."""

    name: str
    apis: tuple[str, ...] = ()
    name_regex: tuple[str, ...] = ()
    description_regex: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_name: tuple[str, ...] = ()
    forms: tuple[str, ...] = CODE_FORMS
    include_deprecated: bool = True
    line: int | None = None
    value_lines: tuple[tuple[str, str, int], ...] = ()  # (selector key, value, line)

    def line_of(self, key: str, value: str) -> int | None:
        """The line of one selector value, else the group's line."""
        return next((n for k, v, n in self.value_lines if k == key and v == value), self.line)


@dataclass(frozen=True)
class LogOptions:
    """Options shared by the log formats (Sigma and YARA-L), so both detect the same thing."""

    user_agent: tuple[str, ...] = ()  # `userAgent|contains` any of these; empty: any client
    window: str = "1h"
    group_by: str = "userIdentity.arn"


@dataclass(frozen=True)
class CodeOptions:
    header: tuple[str, ...] = ()  # e.g. "import boto3": must also be present
    yara_modifiers: tuple[str, ...] = ("ascii", "wide")
    dork_operator: str = "intext"


@dataclass(frozen=True)
class TestCase:
    """A named test input: CloudTrail records (one case may be a sequence) or code text."""

    label: str
    records: tuple[dict[str, Any], ...] = ()
    text: str = ""
    line: int | None = None


@dataclass(frozen=True)
class RuleTests:
    cloudtrail_match: tuple[TestCase, ...] = ()
    cloudtrail_no_match: tuple[TestCase, ...] = ()
    code_match: tuple[TestCase, ...] = ()
    code_no_match: tuple[TestCase, ...] = ()


@dataclass(frozen=True)
class RuleSource:
    """A schema-checked definition file."""

    path: str
    id: str
    name: str
    title: str
    description: str
    author: str
    date: str
    status: str
    level: str
    groups: tuple[GroupSpec, ...]
    condition_text: str
    condition: Cond
    conjunctions: tuple[Conjunction, ...]
    modified: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    formats: tuple[str, ...] = FORMATS
    logs: LogOptions = field(default_factory=LogOptions)
    code: CodeOptions = field(default_factory=CodeOptions)
    tests: RuleTests = field(default_factory=RuleTests)
    lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int | None:
        return dict(self.lines).get(key)


@dataclass(frozen=True)
class ResolvedGroup:
    name: str
    operations: tuple[Operation, ...]
    forms: tuple[str, ...]

    def code_strings(self) -> tuple[tuple[str, tuple[Operation, ...]], ...]:
        """Distinct code-search strings of the group with the operations behind each, sorted."""
        owners: dict[str, list[Operation]] = {}
        for op in self.operations:
            texts = []
            if "boto3" in self.forms:
                texts.append(op.boto3)
            if "awscli" in self.forms:
                texts.extend(op.cli_commands)
            for text in texts:
                owners.setdefault(text, []).append(op)
        return tuple((text, tuple(owners[text])) for text in sorted(owners))


@dataclass(frozen=True)
class ResolvedRule:
    source: RuleSource
    groups: tuple[ResolvedGroup, ...]
    catalog_version: str

    @property
    def name(self) -> str:
        return self.source.name

    def group(self, name: str) -> ResolvedGroup:
        return next(g for g in self.groups if g.name == name)

    @property
    def apis(self) -> tuple[str, ...]:
        return tuple(sorted({op.api for g in self.groups for op in g.operations}))
