"""Rule version lock: `rules_src/capiche.lock.json` pins a version and a content hash per rule id.

The hash covers what a rule detects and says (resolved APIs, condition, the metadata that reaches
the output), normalised so that reformatting a definition never bumps a version. A rule that
goes away must be deprecated explicitly; its record stays in the lock for good, so an id is never
silently reused or forgotten.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import ResolvedRule

LOCK_NAME = "capiche.lock.json"
LOCK_FORMAT = 1


# --- normalised content -------------------------------------------------------------------------


def _sorted_options(options: Any) -> dict[str, Any]:
    """Log/code options as a dict; their tuples are sets in effect, so order must not count."""
    return {
        key: sorted(value) if isinstance(value, tuple) else value
        for key, value in dataclasses.asdict(options).items()
    }


def normalised_content(rule: ResolvedRule) -> dict[str, Any]:
    """What the rule detects and the metadata that reaches its outputs, in a canonical shape.

    Not the generated text: a generator or formatting change alone never moves a version.
    """
    src = rule.source
    return {
        "name": src.name,
        "title": src.title,
        "description": src.description,
        "level": src.level,
        "status": src.status,
        "tags": sorted(src.tags),
        "references": sorted(src.references),
        "falsepositives": sorted(src.falsepositives),
        "formats": sorted(src.formats),
        "condition": src.condition_text,
        "groups": {
            g.name: {"apis": sorted(op.api for op in g.operations), "forms": sorted(g.forms)}
            for g in rule.groups
        },
        "logs": _sorted_options(src.logs),
        "code": _sorted_options(src.code),
    }


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(rule: ResolvedRule) -> str:
    return hashlib.sha256(canonical_json(normalised_content(rule))).hexdigest()


# --- the lock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: int
    sha256: str


@dataclass(frozen=True)
class Deprecation:
    name: str
    version: int  # the last version shipped
    sha256: str
    reason: str
    date: str


@dataclass(frozen=True)
class Lock:
    """Treated as immutable: functions return new locks instead of editing the dicts."""

    rules: Mapping[str, LockEntry] = field(default_factory=dict)
    deprecated: Mapping[str, Deprecation] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "format": LOCK_FORMAT,
            "rules": {rid: dataclasses.asdict(e) for rid, e in self.rules.items()},
            "deprecated": {rid: dataclasses.asdict(d) for rid, d in self.deprecated.items()},
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def default_lock_path(sources: Sequence[str | Path] = ("rules_src",)) -> Path:
    """The lock lives in the first definitions folder given; rules_src/ for single files."""
    first = Path(sources[0]) if sources else Path("rules_src")
    return (first if first.is_dir() else Path("rules_src")) / LOCK_NAME


def _pairs_keeping_duplicates(
    origin: str, problems: list[Diagnostic]
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A json object hook that reports a key given twice (json.loads would keep the last)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                problems.append(
                    Diagnostic(
                        file=origin,
                        message=f"duplicate key {key!r} in the lock",
                        hint="each rule id may appear once",
                    )
                )
            seen[key] = value
        return seen

    return hook


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_lock(text: str, origin: str = LOCK_NAME) -> tuple[Lock, list[Diagnostic]]:
    """The lock and every problem with its shape (duplicate ids included); never raises."""
    problems: list[Diagnostic] = []
    try:
        data = json.loads(text, object_pairs_hook=_pairs_keeping_duplicates(origin, problems))
    except json.JSONDecodeError as err:
        return Lock(), [Diagnostic(file=origin, line=err.lineno, message=f"not JSON: {err.msg}")]
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        return Lock(), [
            Diagnostic(file=origin, message=f"not a capiche lock (format {LOCK_FORMAT})")
        ]
    rules: dict[str, LockEntry] = {}
    deprecated: dict[str, Deprecation] = {}
    for section, target in (("rules", rules), ("deprecated", deprecated)):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            problems.append(
                Diagnostic(file=origin, message=f"{section!r} must be an object keyed by rule id")
            )
            continue
        for rid, entry in entries.items():
            try:
                if section == "rules":
                    target[rid] = LockEntry(entry["name"], entry["version"], entry["sha256"])
                else:
                    target[rid] = Deprecation(
                        entry["name"],
                        entry["version"],
                        entry["sha256"],
                        entry["reason"],
                        entry["date"],
                    )
            except (KeyError, TypeError) as err:
                problems.append(
                    Diagnostic(file=origin, message=f"{section} entry {rid}: missing {err}")
                )
                continue
            version = _int(target[rid].version)
            if version is None or version < 1:
                problems.append(
                    Diagnostic(
                        file=origin,
                        message=f"{section} entry {rid}: version must be an integer >= 1",
                    )
                )
    for rid in sorted(set(rules) & set(deprecated)):
        problems.append(
            Diagnostic(
                file=origin, message=f"rule id {rid} is listed both as a rule and as deprecated"
            )
        )
    return Lock(rules, deprecated), problems


def read_lock(path: Path) -> Lock:
    """The lock at `path` (empty when absent); a malformed lock is a CapicheError."""
    if not path.exists():
        return Lock()
    lock, problems = parse_lock(path.read_text(encoding="utf-8"), str(path))
    if problems:
        raise CapicheError(problems)
    return lock


def write_lock(path: Path, lock: Lock) -> bool:
    """Write atomically; False (and no write) when the file already holds exactly this lock."""
    text = lock.to_json()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


# --- updating -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # added | changed | deprecated
    id: str
    name: str
    old_version: int | None = None
    new_version: int | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.kind == "added":
            return f"added       {self.name} v{self.new_version}"
        if self.kind == "changed":
            return f"changed     {self.name} v{self.old_version} -> v{self.new_version}"
        return f"deprecated  {self.name} (last v{self.old_version}): {self.reason}"


def deprecation_date(env: Mapping[str, str] | None = None) -> str:
    """SOURCE_DATE_EPOCH's UTC date when set (reproducible), else today."""
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date().isoformat()
    return datetime.date.today().isoformat()


def update_lock(
    lock: Lock,
    rules: Sequence[ResolvedRule],
    deprecate: Mapping[str, str] | None = None,
    date: str = "",
) -> tuple[Lock, list[Change]]:
    """The lock after this set of rules: new rules at 1, changed ones +1, `deprecate` (name ->
    reason) moved to the deprecated list. A rule that disappeared without being named in
    `deprecate` is refused, as is deprecating a rule that is still defined."""
    deprecate = dict(deprecate or {})
    problems: list[Diagnostic] = []
    changes: list[Change] = []
    rules_out: dict[str, LockEntry] = {}
    current = {r.source.id: r for r in rules}
    current_names = {r.name for r in rules}
    for rid, rule in sorted(current.items(), key=lambda item: item[1].name):
        digest = content_hash(rule)
        old = lock.rules.get(rid)
        if rid in lock.deprecated:
            problems.append(
                Diagnostic(
                    file=rule.source.path,
                    line=rule.source.line_of("id"),
                    message=f"rule id {rid} was deprecated ({lock.deprecated[rid].reason}); ids are not reused",
                    hint="give the rule a new id (uuid4)",
                )
            )
        elif old is None:
            rules_out[rid] = LockEntry(rule.name, 1, digest)
            changes.append(Change("added", rid, rule.name, new_version=1))
        elif old.sha256 != digest:
            rules_out[rid] = LockEntry(rule.name, old.version + 1, digest)
            changes.append(Change("changed", rid, rule.name, old.version, old.version + 1))
        else:
            rules_out[rid] = old
    deprecated_out = dict(lock.deprecated)
    for rid, old in sorted(lock.rules.items(), key=lambda item: item[1].name):
        if rid in current:
            continue
        if old.name in deprecate:
            reason = deprecate.pop(old.name)
            deprecated_out[rid] = Deprecation(old.name, old.version, old.sha256, reason, date)
            changes.append(Change("deprecated", rid, old.name, old.version, reason=reason))
        else:
            problems.append(_disappeared(old.name, rid, old.version))
    for name in sorted(deprecate):
        why = (
            "is still defined; delete its definition first"
            if name in current_names
            else "is not in the lock"
        )
        problems.append(Diagnostic(message=f"cannot deprecate {name!r}: it {why}"))
    if problems:
        raise CapicheError(problems)
    return Lock(dict(sorted(rules_out.items())), dict(sorted(deprecated_out.items()))), changes


def _disappeared(name: str, rid: str, version: int, origin: str = "") -> Diagnostic:
    return Diagnostic(
        file=origin,
        message=f"rule {name} ({rid}, v{version}) disappeared without being deprecated",
        hint=f'restore its definition, or run `capiche lock --deprecate {name} --reason "..."`',
    )


# --- checking -----------------------------------------------------------------------------------


def _load(lockfile: Lock | str | Path) -> tuple[Lock, str, list[Diagnostic]]:
    if isinstance(lockfile, Lock):
        return lockfile, LOCK_NAME, []
    path = Path(lockfile)
    if not path.exists():
        return (
            Lock(),
            str(path),
            [
                Diagnostic(
                    file=str(path),
                    message="no rule lock",
                    hint="run `capiche lock` and commit the file",
                )
            ],
        )
    lock, problems = parse_lock(path.read_text(encoding="utf-8"), str(path))
    return lock, str(path), problems


def lock_problems(
    rules: Sequence[ResolvedRule],
    lockfile: Lock | str | Path,
    base: Lock | str | Path | None = None,
) -> list[Diagnostic]:
    """Everything wrong between the definitions and their lock.

    `base` is the lock as last released or merged (e.g. the main branch's); with it, versions
    must move by exactly one for changed content and stay put otherwise, and no record may vanish.
    """
    lock, origin, problems = _load(lockfile)
    seen: dict[str, ResolvedRule] = {}
    for rule in rules:
        src = rule.source
        if src.id in seen:
            problems.append(
                Diagnostic(
                    file=src.path,
                    line=src.line_of("id"),
                    message=f"duplicate id {src.id}, also in {seen[src.id].source.path}",
                    hint="ids must be unique; give one of them a new uuid4",
                )
            )
            continue
        seen[src.id] = rule
        problems.extend(_rule_problems(rule, lock, origin))
    for rid, entry in sorted(lock.rules.items()):
        if rid not in seen:
            problems.append(_disappeared(entry.name, rid, entry.version, origin))
    if base is not None:
        base_lock, _, base_problems = _load(base)
        problems.extend(base_problems)
        problems.extend(_version_moves(lock, base_lock, origin, seen))
    return problems


def _at(rule: ResolvedRule, message: str, hint: str) -> Diagnostic:
    return Diagnostic(
        file=rule.source.path, line=rule.source.line_of("id"), message=message, hint=hint
    )


def _rule_problems(rule: ResolvedRule, lock: Lock, origin: str) -> list[Diagnostic]:
    src = rule.source
    if src.id in lock.deprecated:
        hint = "ids are not reused: give the rule a new uuid4"
        return [_at(rule, f"rule {src.name} uses id {src.id}, deprecated in {origin}", hint)]
    entry = lock.rules.get(src.id)
    if entry is None:
        return [
            _at(rule, f"rule {src.name} ({src.id}) is missing from {origin}", "run `capiche lock`")
        ]
    if entry.sha256 != content_hash(rule):
        message = (
            f"rule {src.name} changed but {origin} still pins v{entry.version} to its old content"
        )
        return [_at(rule, message, f"run `capiche lock` to move it to v{entry.version + 1}")]
    return []


def _version_moves(
    lock: Lock, base: Lock, origin: str, current: Mapping[str, ResolvedRule]
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for rid, entry in sorted(lock.rules.items()):
        before = base.rules.get(rid)
        expected = 1 if before is None else before.version + (before.sha256 != entry.sha256)
        if entry.version != expected:
            what = (
                "a new rule starts at v1"
                if before is None
                else f"v{before.version} -> v{entry.version}"
            )
            rule = current.get(rid)
            problems.append(
                Diagnostic(
                    file=rule.source.path if rule else origin,
                    message=f"rule {entry.name}: version must be v{expected} ({what})",
                    hint="versions move by exactly one when the content changes; let `capiche lock` set them",
                )
            )
    for rid, before in sorted(base.rules.items()):
        if rid not in lock.rules and rid not in lock.deprecated:
            problems.append(_disappeared(before.name, rid, before.version, origin))
    for rid, record in sorted(base.deprecated.items()):
        if rid not in lock.deprecated:
            problems.append(
                Diagnostic(
                    file=origin,
                    message=f"deprecation record of {record.name} ({rid}) was dropped",
                    hint="deprecated rules stay listed",
                )
            )
    return problems
