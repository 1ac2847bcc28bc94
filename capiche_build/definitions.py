"""Read API-group definitions (`rules_src/**/*.yml`) into schema-checked RuleSource objects."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capiche_build.condition import _KEYWORDS as CONDITION_KEYWORDS
from capiche_build.condition import ConditionError, names, parse_condition, to_dnf
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import (
    CODE_FORMS,
    FORMATS,
    LEVELS,
    STATUSES,
    CodeOptions,
    GroupSpec,
    LogOptions,
    RuleSource,
    RuleTests,
    TestCase,
)
from capiche_build.targets.escaping import YARA_KEYWORDS
from capiche_build.udm import CLOUDTRAIL_TO_UDM
from capiche_build.yamlsrc import LineList, LineMap, load_yaml

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
GROUP_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
TAG_RE = re.compile(r"^[a-z0-9_-]+\.[a-z0-9._-]+$")
WINDOW_RE = re.compile(r"^([1-9]\d{0,3})([smhd])$")
# A rule name is also a YARA and a YARA-L rule identifier; a group name is a condition operand and,
# in multi-event YARA-L, an event variable (`$count` is refused there). Keywords cannot be either.
# YARAL_KEYWORDS mirrors capiche_build.yaral.parser.KEYWORDS (kept here so reading definitions does
# not import the YARA-L checker; tests/test_definitions.py checks that the two agree).
YARAL_KEYWORDS = frozenset(
    {
        "rule", "meta", "match", "over", "events", "condition", "outcome", "options", "and",
        "or", "not", "nocase", "in", "regex", "cidr", "before", "after", "all", "any", "if",
        "max", "min", "sum", "array", "array_distinct", "count", "count_distinct", "is", "null",
    }
)  # fmt: skip
RESERVED_RULE_NAMES = YARA_KEYWORDS | YARAL_KEYWORDS
RESERVED_GROUPS = (
    {"header", "shared", "selection", "filter", "principal", "e"}
    | CONDITION_KEYWORDS
    | YARAL_KEYWORDS
)
YARA_MODIFIERS = {"ascii", "wide", "nocase", "fullword", "private"}
DORK_OPERATORS = {"intext", "allintext", "intitle", "inurl", "site", "filetype", "ext"}
MAX_TEST_BYTES = 50 * 1024 * 1024

TOP_KEYS = {
    "id": "a UUID that never changes",
    "name": "identifier naming the output files",
    "title": "",
    "description": "",
    "author": "",
    "date": "YYYY-MM-DD",
    "modified": "YYYY-MM-DD",
    "status": "",
    "level": "",
    "tags": "",
    "references": "",
    "falsepositives": "",
    "groups": "",
    "condition": "",
    "formats": "",
    "logs": "user_agent, window, group_by",
    "code": "header, yara_modifiers, dork_operator",
    "tests": "cloudtrail and code cases",
}
REQUIRED = ("id", "name", "title", "description", "author", "date", "status", "level", "groups")
GROUP_KEYS = {
    "apis",
    "name",
    "description",
    "services",
    "exclude",
    "exclude_name",
    "forms",
    "include_deprecated",
}


@dataclass
class _Reader:
    """Collects every problem of one file instead of stopping at the first."""

    path: str
    problems: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, line: int | None = None, hint: str = "") -> None:
        self.problems.append(Diagnostic(file=self.path, line=line, message=message, hint=hint))

    def text(self, mapping: LineMap, key: str, *, required: bool = False) -> str:
        value = mapping.get(key)
        if value is None:
            if required:
                self.error(f"missing required field `{key}`", mapping.line, f"add `{key}: ...`")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(f"`{key}` must be text", mapping.lines.get(key))
            return ""
        text = str(value)
        if required and not text.strip():
            self.error(f"`{key}` is empty", mapping.lines.get(key))
        return text

    def text_list(self, mapping: LineMap, key: str) -> tuple[str, ...]:
        """A string or a list of strings."""
        value = mapping.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.error(f"`{key}` must be a string or a list of strings", mapping.lines.get(key))
        return ()

    def section(
        self, spec: Any, line: int | None, name: str, keys: Iterable[str], shape: str = "a mapping"
    ) -> LineMap | None:
        """An optional mapping section with known keys; None when absent or not a mapping."""
        if spec is None:
            return None
        if not isinstance(spec, LineMap):
            self.error(f"`{name}` must be {shape}", line)
            return None
        self.unknown_keys(spec, keys, name)
        return spec

    def unknown_keys(self, mapping: LineMap, allowed: Iterable[str], where: str) -> None:
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = (
                    f"did you mean `{close[0]}`?"
                    if close
                    else f"allowed: {', '.join(sorted(allowed))}"
                )
                self.error(f"unknown field `{key}` in {where}", mapping.lines.get(key), hint)


def _parse_group(reader: _Reader, name: str, spec: Any, line: int | None) -> GroupSpec | None:
    if not GROUP_RE.match(str(name)):
        reader.error(
            f"group name {name!r} is not a lower-case identifier",
            line,
            "use letters, digits and underscores, starting with a letter",
        )
        return None
    if name in RESERVED_GROUPS:
        reader.error(
            f"group name {name!r} is reserved (it names a YARA-L event variable or a rule part)",
            line,
            "choose another name",
        )
        return None
    if isinstance(spec, list):  # shorthand: a bare list of APIs
        spec_map = LineMap({"apis": spec})
        spec_map.line, spec_map.lines = line or 0, {"apis": line or 0}
        spec = spec_map
    if not isinstance(spec, LineMap):
        reader.error(f"group `{name}` must be a mapping of selectors", line)
        return None
    reader.unknown_keys(spec, GROUP_KEYS, f"group `{name}`")
    forms = reader.text_list(spec, "forms") or CODE_FORMS
    bad = [f for f in forms if f not in CODE_FORMS]
    if bad:
        reader.error(
            f"group `{name}`: unknown form(s) {', '.join(bad)}",
            spec.lines.get("forms"),
            f"choose from {', '.join(CODE_FORMS)}",
        )
    include_deprecated = spec.get("include_deprecated", True)
    if not isinstance(include_deprecated, bool):
        reader.error(
            "`include_deprecated` must be true or false", spec.lines.get("include_deprecated")
        )
        include_deprecated = True
    group = GroupSpec(
        value_lines=_value_lines(spec, line),
        name=name,
        apis=reader.text_list(spec, "apis"),
        name_regex=reader.text_list(spec, "name"),
        description_regex=reader.text_list(spec, "description"),
        services=reader.text_list(spec, "services"),
        exclude=reader.text_list(spec, "exclude"),
        exclude_name=reader.text_list(spec, "exclude_name"),
        forms=tuple(dict.fromkeys(forms)),
        include_deprecated=include_deprecated,
        line=line,
    )
    if not (group.apis or group.name_regex or group.description_regex):
        reader.error(
            f"group `{name}` selects nothing",
            line,
            "give `apis`, a `name` regex or a `description` regex",
        )
    return group


SELECTOR_KEYS = ("apis", "name", "description", "services", "exclude", "exclude_name")


def _value_lines(spec: LineMap, group_line: int | None) -> tuple[tuple[str, str, int], ...]:
    """Where each selector value was written, so errors can point at the exact line."""
    out: list[tuple[str, str, int]] = []
    for key in SELECTOR_KEYS:
        value = spec.get(key)
        key_line = spec.lines.get(key) or group_line or 0
        if isinstance(value, str):
            out.append((key, value, key_line))
        elif isinstance(value, LineList):
            out += [(key, str(v), n) for v, n in zip(value, value.lines, strict=True)]
    return tuple(out)


def _read_records(reader: _Reader, base: Path, ref: str, line: int | None) -> list[dict[str, Any]]:
    path = (base / ref).resolve()
    try:
        if path.stat().st_size > MAX_TEST_BYTES:
            reader.error(f"test file {ref} is larger than {MAX_TEST_BYTES} bytes", line)
            return []
        raw = path.read_bytes()
    except OSError as err:
        reader.error(
            f"cannot read test file {ref}: {err.strerror}",
            line,
            "paths are relative to the definition",
        )
        return []
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
        records = data["Records"] if isinstance(data, dict) and "Records" in data else data
        if isinstance(records, dict):
            records = [records]
    except json.JSONDecodeError:
        records = []
        for number, row in enumerate(text.splitlines(), 1):
            if not row.strip():
                continue
            try:
                records.append(json.loads(row))
            except json.JSONDecodeError as err:
                reader.error(f"{ref}:{number}: not JSON: {err.msg}", line)
                return []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        reader.error(f"{ref} must hold CloudTrail records (objects)", line)
        return []
    return records


def _parse_tests(reader: _Reader, base: Path, spec: Any, line: int | None) -> RuleTests:
    spec = reader.section(
        spec, line, "tests", {"cloudtrail", "code"}, "a mapping with `cloudtrail` and/or `code`"
    )
    if spec is None:
        return RuleTests()
    cases: dict[str, tuple[TestCase, ...]] = {}
    for kind in ("cloudtrail", "code"):
        section = spec.get(kind)
        if section is None:
            continue
        if not isinstance(section, LineMap):
            reader.error(
                f"`tests.{kind}` must be a mapping with `match` / `no_match`", spec.lines.get(kind)
            )
            continue
        reader.unknown_keys(section, {"match", "no_match"}, f"tests.{kind}")
        for outcome in ("match", "no_match"):
            items = section.get(outcome)
            if items is None:
                continue
            if not isinstance(items, LineList):
                reader.error(f"`tests.{kind}.{outcome}` must be a list", section.lines.get(outcome))
                continue
            built: list[TestCase] = []
            for index, (item, item_line) in enumerate(zip(items, items.lines, strict=True)):
                label = f"tests.{kind}.{outcome}[{index}]"
                if kind == "cloudtrail":
                    if isinstance(item, str):
                        before = len(reader.problems)
                        records = _read_records(reader, base, item, item_line)
                        label += f" ({item})"
                        if len(reader.problems) > before:
                            continue
                    elif isinstance(item, dict):
                        records = [_plain(item)]
                    elif isinstance(item, list) and all(isinstance(r, dict) for r in item):
                        records = [_plain(r) for r in item]
                    else:
                        reader.error(
                            f"{label}: a record, a list of records or a file path", item_line
                        )
                        continue
                    if not records:
                        reader.error(f"{label}: no records", item_line)
                        continue
                    built.append(TestCase(label, records=tuple(records), line=item_line))
                else:
                    if isinstance(item, str):
                        built.append(TestCase(label, text=item, line=item_line))
                    elif isinstance(item, dict) and set(item) == {"file"}:
                        path = base / str(item["file"])
                        try:
                            text = path.read_text(encoding="utf-8", errors="replace")
                        except OSError as err:
                            reader.error(
                                f"{label}: cannot read {item['file']}: {err.strerror}", item_line
                            )
                            continue
                        built.append(
                            TestCase(f"{label} ({item['file']})", text=text, line=item_line)
                        )
                    else:
                        reader.error(f"{label}: a code snippet or {{file: path}}", item_line)
            cases[f"{kind}_{outcome}"] = tuple(built)
    return RuleTests(**cases)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# What each SDK puts in CloudTrail's userAgent (matched with `contains`, case-insensitive).
SDK_USER_AGENTS = {"boto3": "Boto3", "awscli": "aws-cli"}


def _parse_logs(
    reader: _Reader, spec: Any, line: int | None, groups: Sequence[GroupSpec] = ()
) -> LogOptions:
    spec = reader.section(spec, line, "logs", {"user_agent", "window", "group_by"})
    if spec is None:
        return LogOptions()
    window = reader.text(spec, "window") or "1h"
    if not WINDOW_RE.match(window):
        reader.error(f"window {window!r} is not like 30m, 1h or 2d", spec.lines.get("window"))
    group_by = reader.text(spec, "group_by") or "userIdentity.arn"
    if group_by not in CLOUDTRAIL_TO_UDM:
        reader.error(
            f"group_by {group_by!r} has no UDM field for YARA-L",
            spec.lines.get("group_by"),
            f"choose from {', '.join(sorted(CLOUDTRAIL_TO_UDM))}",
        )
    agents = reader.text_list(spec, "user_agent")
    if agents == ("auto",):
        # The clients the groups' code forms name: boto3 -> Boto3, awscli -> aws-cli.
        forms = dict.fromkeys(f for g in groups for f in g.forms)
        agents = tuple(SDK_USER_AGENTS[f] for f in forms)
    for agent in agents:
        if not agent.strip() or any(ord(c) < 32 for c in agent):
            reader.error(
                f"user_agent {agent!r} is empty or has control characters",
                spec.lines.get("user_agent"),
            )
    return LogOptions(user_agent=tuple(dict.fromkeys(agents)), window=window, group_by=group_by)


def _parse_code(reader: _Reader, spec: Any, line: int | None) -> CodeOptions:
    spec = reader.section(spec, line, "code", {"header", "yara_modifiers", "dork_operator"})
    if spec is None:
        return CodeOptions()
    header = reader.text_list(spec, "header")
    for text in header:
        if len(text.encode()) < 3:
            reader.error(
                f"header string {text!r} is too short to search for", spec.lines.get("header")
            )
    modifiers = reader.text_list(spec, "yara_modifiers") or ("ascii", "wide")
    bad = sorted(set(modifiers) - YARA_MODIFIERS)
    if bad:
        reader.error(
            f"unknown YARA modifier(s) {', '.join(bad)}",
            spec.lines.get("yara_modifiers"),
            f"choose from {', '.join(sorted(YARA_MODIFIERS))}",
        )
    operator = reader.text(spec, "dork_operator") or "intext"
    if operator not in DORK_OPERATORS:
        reader.error(
            f"unknown dork operator {operator!r}",
            spec.lines.get("dork_operator"),
            f"choose from {', '.join(sorted(DORK_OPERATORS))}",
        )
    return CodeOptions(
        header=tuple(dict.fromkeys(header)),
        yara_modifiers=tuple(dict.fromkeys(modifiers)),
        dork_operator=operator,
    )


def parse_definition(text: str, path: str, base: Path | None = None) -> RuleSource:
    """Schema-check one definition; raises CapicheError listing every problem found."""
    data = load_yaml(text, path)
    reader = _Reader(path)
    if not isinstance(data, LineMap):
        raise CapicheError(
            Diagnostic(
                file=path,
                line=1,
                message="a definition must be a YAML mapping",
                hint="see `capiche new`",
            )
        )
    reader.unknown_keys(data, TOP_KEYS, "the definition")
    for key in REQUIRED:
        if key not in data:
            reader.error(f"missing required field `{key}`", data.line, f"add `{key}: ...`")
    lines = data.lines

    rule_id = reader.text(data, "id")
    if rule_id:
        try:
            if str(uuid.UUID(rule_id)) != rule_id.lower():
                raise ValueError
        except ValueError:
            reader.error(
                f"id {rule_id!r} is not a UUID", lines.get("id"), "`capiche new` writes one"
            )
    name = reader.text(data, "name")
    if name and not NAME_RE.match(name):
        reader.error(
            f"name {name!r} is not a lower-case identifier",
            lines.get("name"),
            "use a-z, 0-9 and _, starting with a letter (it names files: no `/`, `.` or spaces)",
        )
    elif name in RESERVED_RULE_NAMES:
        reader.error(
            f"name {name!r} is a YARA or YARA-L keyword",
            lines.get("name"),
            "choose a longer name, e.g. prefix it with the service: `iam_...`",
        )
    for key in ("date", "modified"):
        value = reader.text(data, key)
        if value and not DATE_RE.match(value):
            reader.error(f"`{key}` {value!r} is not YYYY-MM-DD", lines.get(key), "e.g. 2026-12-04")
    status = reader.text(data, "status")
    if status and status not in STATUSES:
        reader.error(
            f"unknown status {status!r}", lines.get("status"), f"choose from {', '.join(STATUSES)}"
        )
    level = reader.text(data, "level")
    if level and level not in LEVELS:
        reader.error(
            f"unknown level {level!r}", lines.get("level"), f"choose from {', '.join(LEVELS)}"
        )
    tags = reader.text_list(data, "tags")
    for tag in tags:
        if not TAG_RE.match(tag):
            reader.error(
                f"tag {tag!r} is not like attack.persistence or attack.t1098.001", lines.get("tags")
            )
    for key in ("title", "description", "author"):
        # A missing required key is already reported above; here only an empty one is.
        value = reader.text(data, key, required=key in REQUIRED and key in data)
        if any(ord(c) < 32 and c not in "\t" for c in value) and key == "title":
            reader.error(f"`{key}` must be one line", lines.get(key))
    formats = reader.text_list(data, "formats") or FORMATS
    bad_formats = [f for f in formats if f not in FORMATS]
    if bad_formats:
        reader.error(
            f"unknown format(s) {', '.join(bad_formats)}",
            lines.get("formats"),
            f"choose from {', '.join(FORMATS)}",
        )

    groups: list[GroupSpec] = []
    raw_groups = data.get("groups")
    if raw_groups is not None:
        if not isinstance(raw_groups, LineMap) or not raw_groups:
            reader.error(
                "`groups` must be a non-empty mapping of group name to selectors",
                lines.get("groups"),
            )
        else:
            for gname, spec in raw_groups.items():
                group = _parse_group(reader, str(gname), spec, raw_groups.lines.get(gname))
                if group:
                    groups.append(group)
    group_names = [g.name for g in groups]
    for a in [*group_names, "header", "shared"]:
        for b in group_names:
            if a != b and b.startswith(a + "_"):
                reader.error(
                    f"group names `{a}` and `{b}` collide in YARA's `${a}_*` wildcard",
                    raw_groups.lines.get(b) if isinstance(raw_groups, LineMap) else None,
                    f"rename `{b}`",
                )

    condition_text = reader.text(data, "condition")
    if not condition_text:
        if len(group_names) == 1:
            condition_text = group_names[0]
        elif group_names:
            reader.error(
                "several groups need a `condition`",
                data.line,
                f"e.g. `condition: {' and '.join(group_names[:2])}`",
            )
    condition = conjunctions = None
    if condition_text:
        try:
            condition = parse_condition(condition_text)
            conjunctions = to_dnf(condition)
        except ConditionError as err:
            reader.error(
                f"condition: {err} (column {err.position + 1})", lines.get("condition"), err.hint
            )
        else:
            used = names(condition)
            # A group refused above (bad name, bad selectors) has its own error already.
            written = [str(k) for k in raw_groups] if isinstance(raw_groups, LineMap) else []
            for missing in [n for n in used if n not in group_names and n not in written]:
                import difflib

                close = difflib.get_close_matches(missing, group_names, n=1)
                reader.error(
                    f"condition names group `{missing}`, which is not defined",
                    lines.get("condition"),
                    f"did you mean `{close[0]}`?" if close else f"groups: {', '.join(group_names)}",
                )
            for unused in [n for n in group_names if n not in used]:
                reader.error(
                    f"group `{unused}` is not used in the condition",
                    raw_groups.lines.get(unused) if isinstance(raw_groups, LineMap) else None,
                    "use it in `condition` or remove it",
                )

    logs = _parse_logs(reader, data.get("logs"), lines.get("logs"), groups)
    code = _parse_code(reader, data.get("code"), lines.get("code"))
    tests = _parse_tests(reader, base or Path(path).parent, data.get("tests"), lines.get("tests"))

    if reader.problems:
        raise CapicheError(reader.problems)
    assert condition is not None and conjunctions is not None
    return RuleSource(
        path=path,
        id=rule_id.lower(),
        name=name,
        title=reader.text(data, "title").strip(),
        description=" ".join(reader.text(data, "description").split()),
        author=reader.text(data, "author").strip(),
        date=reader.text(data, "date"),
        status=status,
        level=level,
        groups=tuple(groups),
        condition_text=" ".join(condition_text.split()),
        condition=condition,
        conjunctions=conjunctions,
        modified=reader.text(data, "modified"),
        tags=tuple(dict.fromkeys(tags)),
        references=tuple(dict.fromkeys(reader.text_list(data, "references"))),
        falsepositives=tuple(dict.fromkeys(reader.text_list(data, "falsepositives"))),
        formats=tuple(f for f in FORMATS if f in formats),
        logs=logs,
        code=code,
        tests=tests,
        lines=tuple(sorted((str(k), v) for k, v in lines.items())),
    )


def find_definitions(paths: Sequence[str | Path]) -> list[Path]:
    """Definition files under the given files/folders, sorted for a stable order."""
    found: set[Path] = set()
    for entry in paths:
        p = Path(entry)
        if p.is_dir():
            found.update(q for q in p.rglob("*.yml") if "fixtures" not in q.relative_to(p).parts)
            found.update(q for q in p.rglob("*.yaml") if "fixtures" not in q.relative_to(p).parts)
        elif p.exists():
            found.add(p)
        else:
            raise CapicheError(Diagnostic(file=str(p), message="no such file or folder"))
    return sorted(found, key=lambda q: q.as_posix())


def load_definitions(paths: Sequence[str | Path], root: Path | None = None) -> list[RuleSource]:
    """Read and check every definition; all problems of all files are reported together."""
    sources: list[RuleSource] = []
    problems: list[Diagnostic] = []
    for path in find_definitions(paths):
        shown = _display(path, root)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Diagnostic(file=shown, message=f"cannot read: {err}"))
            continue
        try:
            sources.append(parse_definition(text, shown, path.parent))
        except CapicheError as err:
            problems.extend(err.diagnostics)
    problems += duplicate_problems(
        [(src.path, src.id, src.name, src.line_of("id"), src.line_of("name")) for src in sources]
    )
    if problems:
        raise CapicheError(problems)
    return sorted(sources, key=lambda s: s.name)


def duplicate_problems(
    items: Sequence[tuple[str, str, str, int | None, int | None]],
) -> list[Diagnostic]:
    """Duplicate ids and names across definitions, from (path, id, name, id line, name line)."""
    problems: list[Diagnostic] = []
    for index, key in ((1, "id"), (2, "name")):
        seen: dict[str, str] = {}
        for item in items:
            value, path = item[index], item[0]
            if value in seen:
                problems.append(
                    Diagnostic(
                        file=path,
                        line=item[index + 2],
                        message=f"duplicate {key} {value!r}, also in {seen[value]}",
                        hint="ids and names must be unique across rules_src/",
                    )
                )
            else:
                seen[value] = path
    return problems


def display_path(path: Path, root: Path | None = None) -> str:
    return _display(path, root)


def _display(path: Path, root: Path | None) -> str:
    base = root or Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
