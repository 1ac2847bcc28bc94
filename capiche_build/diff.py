"""`capiche diff`: rebuild in memory and compare with the committed build/ tree."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from capiche_build.build import MANIFEST


@dataclass
class Drift:
    added: list[str] = field(default_factory=list)  # files
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    api_changes: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    patches: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _rules(manifest: bytes | None) -> dict[str, dict[str, Any]]:
    if not manifest:
        return {}
    try:
        return {r["name"]: r for r in json.loads(manifest).get("rules", [])}
    except (ValueError, AttributeError, KeyError):
        return {}


def compare(committed: dict[str, bytes], fresh: dict[str, bytes]) -> Drift:
    drift = Drift()
    for path in sorted(set(committed) | set(fresh)):
        old, new = committed.get(path), fresh.get(path)
        if old == new:
            continue
        if old is None:
            drift.added.append(path)
        elif new is None:
            drift.removed.append(path)
        else:
            drift.changed.append(path)
        old_lines = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new_lines = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        drift.patches.append(
            "".join(
                difflib.unified_diff(old_lines, new_lines, f"a/build/{path}", f"b/build/{path}")
            )
        )
    before, after = _rules(committed.get(MANIFEST)), _rules(fresh.get(MANIFEST))
    drift.rules_added = sorted(set(after) - set(before))
    drift.rules_removed = sorted(set(before) - set(after))
    for name in sorted(set(before) & set(after)):
        if before[name] != after[name]:
            drift.rules_changed.append(name)
        old_groups, new_groups = before[name].get("groups", {}), after[name].get("groups", {})
        for group in sorted(set(old_groups) | set(new_groups)):
            old_apis, new_apis = set(old_groups.get(group, [])), set(new_groups.get(group, []))
            if old_apis != new_apis:
                drift.api_changes.append(
                    (name, group, sorted(new_apis - old_apis), sorted(old_apis - new_apis))
                )
    return drift


def report(drift: Drift, patches: bool = True) -> str:
    if drift.clean:
        return "build/ matches rules_src/: no drift"
    lines: list[str] = []
    if patches:
        lines += drift.patches
    lines.append(
        f"drift: {len(drift.added)} file(s) added, {len(drift.removed)} removed, {len(drift.changed)} changed"
    )
    for label, names in (
        ("rules added", drift.rules_added),
        ("rules removed", drift.rules_removed),
        ("rules changed", drift.rules_changed),
    ):
        if names:
            lines.append(f"{label}: {', '.join(names)}")
    for rule, group, gained, lost in drift.api_changes:
        parts = []
        if gained:
            parts.append(f"gained {', '.join(gained)}")
        if lost:
            parts.append(f"lost {', '.join(lost)}")
        lines.append(f"  {rule} / {group}: {'; '.join(parts)}")
    lines.append("run `capiche build` and commit build/ with its sources")
    return "\n".join(lines)
