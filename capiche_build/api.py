"""The modern Python API: search, translate, and render rules without a definition file.

>>> from capiche_build.api import load_catalog, search, translate, rule_from_groups, render
>>> catalog = load_catalog()
>>> keys = search(catalog, name=r"^iam:CreateAccessKey$")
>>> translate(keys, "boto3")
['create_access_key']
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from capiche_build.catalog import Catalog, Operation, load_catalog
from capiche_build.condition import ConditionError, names, parse_condition, to_dnf
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.forms import translate
from capiche_build.model import (
    CODE_FORMS,
    FORMATS,
    CodeOptions,
    GroupSpec,
    LogOptions,
    ResolvedRule,
    RuleSource,
)
from capiche_build.search import search
from capiche_build.selectors import resolve_rule
from capiche_build.targets import targets

__all__ = [
    "load_catalog",
    "quick_rule",
    "render",
    "rule_from_groups",
    "search",
    "translate",
]

# A fixed namespace keeps ids of ad-hoc rules stable for the same name.
_ADHOC_NAMESPACE = uuid.UUID("6f1d8f4e-0c3b-5a55-9c3e-6b1f9a0c2d7e")


def _source(
    name: str,
    specs: Sequence[GroupSpec],
    condition: str | None,
    *,
    title: str = "",
    description: str = "",
    author: str = "capiche-build",
    date: str = "2026-01-01",
    level: str = "medium",
    status: str = "experimental",
    tags: Sequence[str] = (),
    references: Sequence[str] = (),
    header: Sequence[str] = (),
    yara_modifiers: Sequence[str] = ("ascii", "wide"),
    user_agent: Sequence[str] = (),
    window: str = "1h",
) -> RuleSource:
    from capiche_build.definitions import GROUP_RE, NAME_RE, RESERVED_GROUPS, RESERVED_RULE_NAMES

    if not NAME_RE.match(name) or name in RESERVED_RULE_NAMES:
        raise CapicheError(f"rule name {name!r} must be a lower-case identifier and not a keyword")
    group_names = [s.name for s in specs]
    for gname in group_names:
        if not GROUP_RE.match(gname) or gname in RESERVED_GROUPS:
            raise CapicheError(
                f"group name {gname!r} must be a lower-case identifier and not reserved"
            )
    clashes = [(a, b) for a in group_names for b in group_names if b.startswith(a + "_")]
    if clashes:
        a, b = clashes[0]
        raise CapicheError(f"group names `{a}` and `{b}` collide in YARA's `${a}_*` wildcard")
    condition = condition or " and ".join(group_names)
    try:
        cond = parse_condition(condition)
    except ConditionError as err:
        raise CapicheError(
            Diagnostic(
                message=f"condition {condition!r}: {err} (column {err.position + 1})", hint=err.hint
            )
        ) from err
    unknown = [n for n in names(cond) if n not in group_names]
    if unknown:
        raise CapicheError(f"condition names unknown group(s): {', '.join(unknown)}")
    return RuleSource(
        path=f"<{name}>",
        id=str(uuid.uuid5(_ADHOC_NAMESPACE, name)),
        name=name,
        title=title or name.replace("_", " ").title(),
        description=description
        or f"Detects use of the AWS APIs grouped as {', '.join(group_names)}.",
        author=author,
        date=date,
        status=status,
        level=level,
        groups=tuple(specs),
        condition_text=condition,
        condition=cond,
        conjunctions=to_dnf(cond),
        tags=tuple(tags),
        references=tuple(references),
        formats=FORMATS,
        logs=LogOptions(user_agent=tuple(user_agent), window=window),
        code=CodeOptions(header=tuple(header), yara_modifiers=tuple(yara_modifiers)),
    )


def rule_from_groups(
    name: str,
    groups: Mapping[str, Iterable[Operation | str]],
    condition: str | None = None,
    *,
    forms: Mapping[str, Sequence[str]] | None = None,
    catalog: Catalog | None = None,
    **meta: Any,
) -> ResolvedRule:
    """A resolved rule from groups of operations (or `service:Name` strings).

    `meta` takes title, description, author, date, level, status, tags, references, header,
    yara_modifiers, user_agent and window.
    """
    catalog = catalog or load_catalog()
    specs: list[GroupSpec] = []
    for gname, members in groups.items():
        apis = tuple(m.api if isinstance(m, Operation) else str(m) for m in members)
        if not apis:
            raise CapicheError(
                Diagnostic(message=f"group `{gname}` is empty", hint="give it at least one API")
            )
        specs.append(
            GroupSpec(name=gname, apis=apis, forms=tuple((forms or {}).get(gname, CODE_FORMS)))
        )
    return resolve_rule(catalog, _source(name, specs, condition, **meta))


def quick_rule(
    name: str,
    apis: Sequence[str] = (),
    searches: Sequence[str] = (),
    forms: Sequence[str] = CODE_FORMS,
    header: Sequence[str] = (),
    catalog_path: str | None = None,
) -> ResolvedRule:
    """One group from explicit APIs and name regexes: what the one-liner commands build."""
    if not apis and not searches:
        raise CapicheError("give at least one --api or --search")
    spec = GroupSpec(name="apis", apis=tuple(apis), name_regex=tuple(searches), forms=tuple(forms))
    return resolve_rule(load_catalog(catalog_path), _source(name, [spec], None, header=header))


def render(rule: ResolvedRule, fmt: str) -> str:
    """The text of one rule in one format (yara, yaral, sigma, vtgrep, dork)."""
    available = targets()
    if fmt not in available:
        raise CapicheError(f"unknown format {fmt!r}; choose from {', '.join(available)}")
    return available[fmt].render(rule)
