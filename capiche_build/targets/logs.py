"""What the log formats share: operations grouped by eventSource, and the principal join."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from capiche_build.catalog import Operation


@dataclass(frozen=True)
class SourceSelection:
    """The eventNames of one eventSource a group selects, split by how they must match."""

    event_source: str
    exact: tuple[str, ...]
    prefix: tuple[str, ...]  # unambiguous prefixes: `|startswith` is precise
    regex: tuple[str, ...]  # anchored regexes for prefixes another name starts with

    @property
    def slug(self) -> str:
        host = self.event_source.removesuffix(".amazonaws.com")
        return "".join(c if c.isalnum() else "_" for c in host)


def by_event_source(ops: Iterable[Operation]) -> tuple[SourceSelection, ...]:
    grouped: dict[str, dict[str, set[str]]] = {}
    for op in ops:
        slot = grouped.setdefault(
            op.event_source, {"exact": set(), "prefix": set(), "regex": set()}
        )
        if op.event_name_match == "exact":
            slot["exact"].add(op.event_name)
        elif op.prefix_ambiguous:
            slot["regex"].add(op.event_name_regex)
        else:
            slot["prefix"].add(op.event_name)
    return tuple(
        SourceSelection(
            src, tuple(sorted(s["exact"])), tuple(sorted(s["prefix"])), tuple(sorted(s["regex"]))
        )
        for src, s in sorted(grouped.items())
    )


LEVEL_TO_SEVERITY = {
    "informational": "INFORMATIONAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "critical": "CRITICAL",
}
