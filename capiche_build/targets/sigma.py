"""Sigma for AWS CloudTrail, emitted with a YAML library.

The condition is read in disjunctive normal form. Alternatives with one positive group are
single-event detections and share one rule; an alternative with several positive groups becomes a
temporal correlation (same principal, within the window) over one base rule per group. A negated
group removes its APIs from the events of the alternative (see docs/decisions.md).
"""

from __future__ import annotations

import uuid
from typing import Any

import yaml

from capiche_build.condition import Conjunction
from capiche_build.model import ResolvedRule
from capiche_build.targets.logs import by_event_source

LOGSOURCE = {"product": "aws", "service": "cloudtrail"}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as SigmaHQ rules are written.
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_representer)


def _dump(doc: dict[str, Any]) -> str:
    return yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
        indent=4,
    )


def sub_id(rule: ResolvedRule, label: str) -> str:
    """A stable id for a generated sub-rule, derived from the definition's id."""
    return str(uuid.uuid5(uuid.UUID(rule.source.id), label))


def _selections(rule: ResolvedRule, group: str, prefix: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for sel in by_event_source(rule.group(group).operations):
        base = f"{prefix}_{group}_{sel.slug}"
        if sel.exact:
            out[base] = {"eventSource": sel.event_source, "eventName": list(sel.exact)}
        if sel.prefix:
            out[f"{base}_versioned"] = {
                "eventSource": sel.event_source,
                "eventName|startswith": list(sel.prefix),
            }
        if sel.regex:
            out[f"{base}_regex"] = {
                "eventSource": sel.event_source,
                "eventName|re": sel.regex[0] if len(sel.regex) == 1 else "|".join(sel.regex),
            }
    for block in out.values():  # a one-item list reads better as a scalar
        for key, value in list(block.items()):
            if isinstance(value, list) and len(value) == 1:
                block[key] = value[0]
    return out


def _conjunct_detection(
    rule: ResolvedRule, conj: Conjunction, positive: str
) -> tuple[dict[str, Any], str]:
    detection = _selections(rule, positive, "selection")
    clause = f"1 of selection_{positive}_*"
    for neg in conj.negative:
        detection.update(_selections(rule, neg, "filter"))
        clause += f" and not 1 of filter_{neg}_*"
    return detection, clause


def _user_agent(rule: ResolvedRule, detection: dict[str, Any]) -> str:
    agents = list(rule.source.logs.user_agent)
    if not agents:
        return ""
    detection["selection_useragent"] = {
        "userAgent|contains": agents[0] if len(agents) == 1 else agents
    }
    return " and selection_useragent"


def _header(rule: ResolvedRule, title: str, rule_id: str, description: str) -> dict[str, Any]:
    src = rule.source
    doc: dict[str, Any] = {
        "title": title,
        "id": rule_id,
        "status": src.status,
        "description": description,
    }
    if src.references:
        doc["references"] = list(src.references)
    doc["author"] = src.author
    doc["date"] = src.date
    if src.modified:
        doc["modified"] = src.modified
    if src.tags:
        doc["tags"] = list(src.tags)
    return doc


def _footer(rule: ResolvedRule, doc: dict[str, Any]) -> dict[str, Any]:
    src = rule.source
    doc["falsepositives"] = list(src.falsepositives) or ["Unknown"]
    doc["level"] = src.level
    return doc


def documents(rule: ResolvedRule) -> list[dict[str, Any]]:
    """The Sigma documents of one definition: rules first, then correlations."""
    src = rule.source
    single = [c for c in src.conjunctions if len(c.positive) == 1]
    multi = [c for c in src.conjunctions if len(c.positive) > 1]
    docs: list[dict[str, Any]] = []
    if single:
        detection: dict[str, Any] = {}
        clauses = []
        for conj in single:
            part, clause = _conjunct_detection(rule, conj, conj.positive[0])
            detection.update(part)
            clauses.append(clause)
        condition = clauses[0] if len(clauses) == 1 else " or ".join(f"({c})" for c in clauses)
        ua = _user_agent(rule, detection)
        if ua:
            condition = f"({condition}){ua}" if len(clauses) > 1 else condition + ua
        detection["condition"] = condition
        doc = _header(
            rule, src.title, src.id if not multi else sub_id(rule, "single"), src.description
        )
        if multi:
            doc["name"] = f"{src.name}_single"
        doc["logsource"] = dict(LOGSOURCE)
        doc["detection"] = detection
        docs.append(_footer(rule, doc))
    for index, conj in enumerate(multi, 1):
        suffix = f"_{index}" if len(multi) > 1 else ""
        names: list[str] = []
        for group in conj.positive:
            detection, clause = _conjunct_detection(rule, conj, group)
            ua = _user_agent(rule, detection)
            detection["condition"] = clause + ua
            name = f"{src.name}{suffix}_{group}"
            names.append(name)
            base = _header(
                rule,
                f"{src.title} - {group.replace('_', ' ').title()}{' ' + str(index) if suffix else ''}",
                sub_id(rule, name),
                f"Part of {src.title}: the `{group}` API group.",
            )
            base["name"] = name
            base["logsource"] = dict(LOGSOURCE)
            base["detection"] = detection
            base["falsepositives"] = list(src.falsepositives) or ["Unknown"]
            base["level"] = "informational"
            docs.append(base)
        title = src.title if len(multi) == 1 and not single else f"{src.title} {index}"
        corr = _header(
            rule,
            title,
            src.id if len(multi) == 1 and not single else sub_id(rule, f"corr{index}"),
            src.description,
        )
        corr["correlation"] = {
            "type": "temporal",
            "rules": names,
            "group-by": [src.logs.group_by],
            "timespan": src.logs.window,
        }
        docs.append(_footer(rule, corr))
    return docs


def filename(rule: ResolvedRule) -> str:
    """SigmaHQ's convention: `aws_cloudtrail_` for rules, `correlation_` for files with one."""
    has_correlation = any(len(c.positive) > 1 for c in rule.source.conjunctions)
    return f"{'correlation_' if has_correlation else ''}aws_cloudtrail_{rule.name}.yml"


def render(rule: ResolvedRule) -> str:
    return "---\n".join(_dump(doc) for doc in documents(rule))
