"""YARA-L 2.0 for Google SecOps, in the form of Google's own CloudTrail rules.

Same reading of the condition as the Sigma target: single-event alternatives share one rule with
one event variable; an alternative with several positive groups becomes a multi-event rule joined
on the principal with `match: $principal over <window>`.
"""

from __future__ import annotations

import re

from capiche_build.model import ResolvedRule
from capiche_build.targets.escaping import yaral_string
from capiche_build.targets.logs import LEVEL_TO_SEVERITY, by_event_source
from capiche_build.targets.yara import meta_lines
from capiche_build.udm import CLOUDTRAIL_TO_UDM, PRODUCT_NAME, VENDOR_NAME

EVENT_NAME = CLOUDTRAIL_TO_UDM["eventName"]
EVENT_SOURCE = CLOUDTRAIL_TO_UDM["eventSource"]
USER_AGENT = CLOUDTRAIL_TO_UDM["userAgent"]
INDENT = "    "


def _regex_literal(pattern: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/"


def _or(items: list[str], indent: str) -> str:
    if len(items) == 1:
        return items[0]
    return (
        "(\n"
        + "".join(f"{indent}{INDENT}{'or ' if i else ''}{item}\n" for i, item in enumerate(items))
        + f"{indent})"
    )


def group_predicate(rule: ResolvedRule, group: str, var: str, indent: str) -> str:
    """One boolean expression: the event is one of the group's API calls."""
    per_source = []
    for sel in by_event_source(rule.group(group).operations):
        names = [f'${var}.{EVENT_NAME} = "{yaral_string(n)}"' for n in sel.exact]
        names += [f"${var}.{EVENT_NAME} = {_regex_literal('^' + re.escape(n))}" for n in sel.prefix]
        names += [f"${var}.{EVENT_NAME} = {_regex_literal(r)}" for r in sel.regex]
        name_expr = names[0] if len(names) == 1 else "(" + " or ".join(names) + ")"
        per_source.append(
            f'(${var}.{EVENT_SOURCE} = "{yaral_string(sel.event_source)}" and {name_expr})'
        )
    return _or(per_source, indent)


def _event_lines(
    rule: ResolvedRule, var: str, alternatives: list[tuple[str, tuple[str, ...]]]
) -> list[str]:
    """Event predicates for one variable: any alternative (a group minus its negated groups)."""
    ind = INDENT * 2
    lines = [
        f'{ind}${var}.metadata.vendor_name = "{VENDOR_NAME}"',
        f'{ind}${var}.metadata.product_name = "{PRODUCT_NAME}"',
    ]
    if len(alternatives) == 1:
        positive, negative = alternatives[0]
        lines.append(f"{ind}{group_predicate(rule, positive, var, ind)}")
        lines += [f"{ind}not {group_predicate(rule, neg, var, ind)}" for neg in negative]
    else:
        inner = ind + INDENT
        parts = []
        for positive, negative in alternatives:
            expr = group_predicate(rule, positive, var, inner)
            if negative:
                nots = " and ".join(f"not {group_predicate(rule, n, var, inner)}" for n in negative)
                expr = f"({expr} and {nots})"
            parts.append(expr)
        lines.append(f"{ind}{_or(parts, ind)}")
    agents = rule.source.logs.user_agent
    if agents:
        tests = [f"${var}.{USER_AGENT} = {_regex_literal(re.escape(a))} nocase" for a in agents]
        lines.append(f"{ind}{tests[0] if len(tests) == 1 else '(' + ' or '.join(tests) + ')'}")
    return lines


def _meta(rule: ResolvedRule) -> list[str]:
    meta = [(k, v) for k, v in meta_lines(rule) if k != "level"]
    meta.append(("severity", LEVEL_TO_SEVERITY[rule.source.level]))
    return [f'{INDENT * 2}{key} = "{yaral_string(value)}"' for key, value in meta]


def _rule(
    name: str, meta: list[str], events: list[str], match: str, outcome: list[str], condition: str
) -> str:
    lines = [f"rule {name} {{", f"{INDENT}meta:", *meta, f"{INDENT}events:", *events]
    if match:
        lines += [f"{INDENT}match:", f"{INDENT * 2}{match}"]
    if outcome:
        lines += [f"{INDENT}outcome:", *outcome]
    lines += [f"{INDENT}condition:", f"{INDENT * 2}{condition}", "}", ""]
    return "\n".join(lines)


def rules(rule: ResolvedRule) -> list[tuple[str, str]]:
    """(rule name, text) for each YARA-L rule of the definition."""
    src = rule.source
    single = [c for c in src.conjunctions if len(c.positive) == 1]
    multi = [c for c in src.conjunctions if len(c.positive) > 1]
    out: list[tuple[str, str]] = []
    meta = _meta(rule)
    principal_field = CLOUDTRAIL_TO_UDM[src.logs.group_by]
    if single:
        events = _event_lines(rule, "e", [(c.positive[0], c.negative) for c in single])
        name = src.name if not multi else f"{src.name}_single"
        outcome = [
            f"{INDENT * 2}$principal = $e.{principal_field}",
            f"{INDENT * 2}$event_name = $e.{EVENT_NAME}",
        ]
        out.append((name, _rule(name, meta, events, "", outcome, "$e")))
    for index, conj in enumerate(multi, 1):
        events: list[str] = []
        for group in conj.positive:
            events += _event_lines(rule, group, [(group, conj.negative)])
            events.append(f"{INDENT * 2}${group}.{principal_field} = $principal")
        name = src.name if len(multi) == 1 and not single else f"{src.name}_{index}"
        outcome = [
            f"{INDENT * 2}$event_names = array_distinct(${conj.positive[0]}.{EVENT_NAME})",
        ]
        condition = " and ".join(f"${g}" for g in conj.positive)
        out.append(
            (
                name,
                _rule(name, meta, events, f"$principal over {src.logs.window}", outcome, condition),
            )
        )
    return out


def render(rule: ResolvedRule) -> str:
    return "\n".join(text for _, text in rules(rule))
