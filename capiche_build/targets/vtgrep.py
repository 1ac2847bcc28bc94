"""VirusTotal content search: `content:"..."` terms with AND / OR / NOT."""

from __future__ import annotations

from capiche_build.condition import render as render_condition
from capiche_build.model import ResolvedGroup, ResolvedRule
from capiche_build.targets.escaping import vtgrep_term


def group_query(group: ResolvedGroup) -> str:
    terms = [vtgrep_term(text) for text, _ in group.code_strings()]
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def render(rule: ResolvedRule) -> str:
    groups = {g.name: group_query(g) for g in rule.groups}
    query = render_condition(
        rule.source.condition,
        groups.__getitem__,
        and_=" AND ",
        or_=" OR ",
        not_=lambda s: f"NOT {s}",
    )
    # Several header strings are alternatives, as in YARA's `any of ($header_*)`.
    terms = [vtgrep_term(h) for h in rule.source.code.header]
    header = [terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"] if terms else []
    if header:
        body = (
            query
            if query.startswith("(") and query.endswith(")") and len(rule.groups) == 1
            else f"({query})"
        )
        query = " AND ".join([*header, body])
    return query + "\n"
