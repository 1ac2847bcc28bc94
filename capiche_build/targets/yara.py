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
    """String lines and, per group, the YARA string set its condition refers to.

    A text that several groups share is declared once as `$shared_NN` (both engines reject or warn
    on duplicate values, and yara-x warns when a wildcard set also covers a named member).
    """
    modifiers = " ".join(rule.source.code.yara_modifiers)
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    if rule.source.code.header:
        blocks.append(
            ("header", [(text, "header: must also be present") for text in rule.source.code.header])
        )
    for group in rule.groups:
        blocks.append(
            (group.name, [(text, _comment(group, owners)) for text, owners in group.code_strings()])
        )
    uses: dict[str, int] = {}
    for _, items in blocks:
        for text, _ in items:
            uses[text] = uses.get(text, 0) + 1
    shared: dict[str, str] = {}
    shared_lines: list[str] = []
    comments = {text: comment for _, items in blocks for text, comment in items}
    shared_texts = sorted(t for t, n in uses.items() if n > 1)
    width = max(2, len(str(len(shared_texts))))
    for i, text in enumerate(shared_texts, 1):
        shared[text] = f"$shared_{i:0{width}d}"
        shared_lines.append(f"        // {comments[text]} (in several groups)")
        shared_lines.append(f'        {shared[text]} = "{yara_string(text)}" {modifiers}')
    lines: list[str] = []
    sets: dict[str, str] = {}
    for name, items in blocks:
        own = [(text, comment) for text, comment in items if text not in shared]
        width = max(2, len(str(len(own))))
        for i, (text, comment) in enumerate(own, 1):
            lines.append(f"        // {comment}")
            lines.append(f'        ${name}_{i:0{width}d} = "{yara_string(text)}" {modifiers}')
        members = ([f"${name}_*"] if own else []) + [shared[t] for t, _ in items if t in shared]
        sets[name] = f"any of ({', '.join(members)})"
    return lines + shared_lines, sets


def render(rule: ResolvedRule) -> str:
    lines, refs = strings_block(rule)
    condition = render_condition(rule.source.condition, refs.__getitem__)
    if rule.source.code.header:
        condition = f"{refs['header']} and ({condition})"
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
