"""YARA: one rule per definition over the SDK spellings of each group, for code search."""

from __future__ import annotations

from capiche_build.condition import render as render_condition
from capiche_build.model import ResolvedGroup, ResolvedRule
from capiche_build.targets.escaping import yara_string

MAX_COMMENT_APIS = 3


def _ascii(text: str) -> str:
    # Comments are free text but must stay on one line and in ASCII for both engines' readers.
    return " ".join(text.encode("ascii", "backslashreplace").decode("ascii").split())


def _comment(group: ResolvedGroup, owners: tuple) -> str:
    shown = owners[:MAX_COMMENT_APIS]
    parts = [f"{op.api}: {op.description}" if op.description else op.api for op in shown]
    if len(owners) > MAX_COMMENT_APIS:
        parts.append(f"+{len(owners) - MAX_COMMENT_APIS} more")
    return _ascii("; ".join(parts))


def meta_lines(rule: ResolvedRule) -> list[tuple[str, str]]:
    src = rule.source
    meta = [
        ("id", src.id),
        ("title", src.title),
        ("description", src.description),
        ("author", src.author),
        ("date", src.date),
    ]
    if src.modified:
        meta.append(("modified", src.modified))
    meta += [("status", src.status), ("level", src.level)]
    if src.tags:
        meta.append(("tags", ", ".join(src.tags)))
    meta += [("reference", ref) for ref in src.references]
    meta.append(("catalog", rule.catalog_version))
    return meta


def strings_block(rule: ResolvedRule) -> tuple[list[str], dict[str, str]]:
    """String lines and, per group, the `$prefix` its condition refers to."""
    modifiers = " ".join(rule.source.code.yara_modifiers)
    lines: list[str] = []
    refs: dict[str, str] = {}
    if rule.source.code.header:
        lines.append("        // header: must also be present")
        for i, text in enumerate(rule.source.code.header, 1):
            lines.append(f'        $header_{i:02d} = "{yara_string(text)}" {modifiers}')
    for group in rule.groups:
        strings = group.code_strings()
        width = max(2, len(str(len(strings))))
        for i, (text, owners) in enumerate(strings, 1):
            lines.append(f"        // {_comment(group, owners)}")
            lines.append(f'        ${group.name}_{i:0{width}d} = "{yara_string(text)}" {modifiers}')
        refs[group.name] = f"any of (${group.name}_*)"
    return lines, refs


def render(rule: ResolvedRule) -> str:
    lines, refs = strings_block(rule)
    condition = render_condition(rule.source.condition, refs.__getitem__)
    if rule.source.code.header:
        condition = f"any of ($header_*) and ({condition})"
    meta = [f'        {key} = "{yara_string(value)}"' for key, value in meta_lines(rule)]
    return "\n".join(
        [
            f"rule {rule.name}",
            "{",
            "    meta:",
            *meta,
            "    strings:",
            *lines,
            "    condition:",
            f"        {condition}",
            "}",
            "",
        ]
    )
