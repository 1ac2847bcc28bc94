"""Resolve API groups against the catalog: a sorted, de-duplicated list of operations."""

from __future__ import annotations

from capiche_build.catalog import Catalog, Operation, sort_operations
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import GroupSpec, ResolvedGroup, ResolvedRule, RuleSource
from capiche_build.regex_safety import compile_user_regex
from capiche_build.search import search


def resolve_group(catalog: Catalog, group: GroupSpec, where: str = "") -> ResolvedGroup:
    """Explicit APIs, plus operations matching the regex selectors (AND-ed), minus excludes.

    Every selector must contribute: an unknown API, a regex that matches nothing or a group that
    ends up empty is an error with a hint, never an empty rule.
    """
    problems: list[Diagnostic] = []
    line = group.line
    label = f"group `{group.name}`"

    def fail(message: str, hint: str, at: int | None = None) -> None:
        problems.append(
            Diagnostic(file=where, line=at or line, message=f"{label}: {message}", hint=hint)
        )

    def relabel(err: CapicheError, at: int | None, prefix: str = "") -> None:
        problems.extend(
            Diagnostic(file=where, line=at, message=f"{label}: {prefix}{d.message}", hint=d.hint)
            for d in err.diagnostics
        )

    for service in group.services:
        if service not in catalog.services:
            import difflib

            close = difflib.get_close_matches(service, list(catalog.services), n=3)
            fail(
                f"unknown service {service!r}",
                f"did you mean {', '.join(close)}?" if close else "see `capiche catalog info`",
                group.line_of("services", service),
            )

    chosen: dict[str, Operation] = {}
    for api in group.apis:
        try:
            op = catalog.get(api, where)
        except CapicheError as err:
            relabel(err, group.line_of("apis", api))
            continue
        chosen[op.api] = op

    if group.name_regex or group.description_regex:
        pool: list[Operation] | None = None
        desc_pool: list[Operation] | None = None
        for key, patterns in (("name", group.name_regex), ("description", group.description_regex)):
            for pattern in patterns:
                at = group.line_of(key, pattern)
                try:
                    if key == "name":
                        hits = search(catalog, name=pattern, where=where)
                    else:
                        hits = search(catalog, description=pattern, where=where)
                except CapicheError as err:
                    relabel(err, at)
                    hits = []
                else:
                    if group.services:
                        hits = [op for op in hits if op.service in group.services]
                    if not hits:
                        hint = (
                            _hint_for(catalog, pattern) if key == "name" else "try a shorter phrase"
                        )
                        fail(f"{key} regex {pattern!r} matches no operation", hint, at)
                if key == "name":
                    pool = hits if pool is None else _union(pool, hits)
                else:
                    desc_pool = hits if desc_pool is None else _union(desc_pool, hits)
        if pool is not None and desc_pool is not None:
            keep = {op.api for op in desc_pool}
            pool = [op for op in pool if op.api in keep]
            if not pool and not problems:
                fail(
                    "its name and description regexes match no operation together",
                    "loosen one of them",
                )
        selected = pool if pool is not None else desc_pool or []
        if not group.include_deprecated:
            selected = [op for op in selected if not op.deprecated]
        for op in selected:
            chosen[op.api] = op

    excluded: set[str] = set()
    for api in group.exclude:
        try:
            excluded.add(catalog.get(api, where).api)
        except CapicheError as err:
            relabel(err, group.line_of("exclude", api), "exclude: ")
    for pattern in group.exclude_name:
        at = group.line_of("exclude_name", pattern)
        try:
            regex = compile_user_regex(pattern, where=where, line=at)
        except CapicheError as err:
            relabel(err, at)
            continue
        hits = [api for api in chosen if regex.search(api)]
        if not hits:
            fail(f"exclude_name {pattern!r} removes nothing", "drop it, or fix the pattern", at)
        excluded.update(hits)
    for api in excluded:
        chosen.pop(api, None)
    if not problems and not chosen:
        fail("selects no operation after excludes", "loosen the selectors or drop an exclude")
    if problems:
        raise CapicheError(problems)
    return ResolvedGroup(group.name, tuple(sort_operations(chosen.values())), group.forms)


def _union(a: list[Operation], b: list[Operation]) -> list[Operation]:
    return sort_operations([*a, *b])


def _hint_for(catalog: Catalog, pattern: str) -> str:
    if ":" not in pattern:
        return "patterns run over `service:Name`, e.g. `^iam:Create`"
    service = pattern.lstrip("^").partition(":")[0].lower()
    if service.isidentifier() and service not in catalog.services:
        return f"there is no service {service!r}; see `capiche search --service ...`"
    return "check the spelling with `capiche search PATTERN`"


def resolve_rule(catalog: Catalog, source: RuleSource) -> ResolvedRule:
    problems: list[Diagnostic] = []
    groups: list[ResolvedGroup] = []
    for spec in source.groups:
        try:
            groups.append(resolve_group(catalog, spec, source.path))
        except CapicheError as err:
            problems.extend(err.diagnostics)
    if problems:
        raise CapicheError(problems)
    for group in groups:
        if not group.code_strings() and any(
            f in source.formats for f in ("yara", "vtgrep", "dork")
        ):
            raise CapicheError(
                Diagnostic(
                    file=source.path,
                    line=next(g.line for g in source.groups if g.name == group.name),
                    message=f"group `{group.name}`: none of its operations has a {'/'.join(group.forms)} form",
                    hint="add the other form, or limit `formats` to the log formats",
                )
            )
    return ResolvedRule(source, tuple(groups), catalog.version)
