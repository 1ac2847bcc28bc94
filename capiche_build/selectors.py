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

    def fail(message: str, hint: str) -> None:
        problems.append(Diagnostic(file=where, line=line, message=f"{label}: {message}", hint=hint))

    for service in group.services:
        if service not in catalog.services:
            import difflib

            close = difflib.get_close_matches(service, list(catalog.services), n=3)
            fail(
                f"unknown service {service!r}",
                f"did you mean {', '.join(close)}?" if close else "see `capiche catalog info`",
            )

    chosen: dict[str, Operation] = {}
    try:
        for op in catalog.get_many(group.apis, where):
            chosen[op.api] = op
    except CapicheError as err:
        problems.extend(
            Diagnostic(file=where, line=line, message=f"{label}: {d.message}", hint=d.hint)
            for d in err.diagnostics
        )

    if group.name_regex or group.description_regex:
        pool: list[Operation] | None = None
        try:
            for pattern in group.name_regex:
                hits = search(catalog, name=pattern, where=where)
                if group.services:
                    hits = [op for op in hits if op.service in group.services]
                if not hits:
                    fail(
                        f"name regex {pattern!r} matches no operation", _hint_for(catalog, pattern)
                    )
                pool = hits if pool is None else _union(pool, hits)
            desc_pool: list[Operation] | None = None
            for pattern in group.description_regex:
                hits = search(catalog, description=pattern, where=where)
                if group.services:
                    hits = [op for op in hits if op.service in group.services]
                if not hits:
                    fail(
                        f"description regex {pattern!r} matches no operation",
                        "try a shorter phrase",
                    )
                desc_pool = hits if desc_pool is None else _union(desc_pool, hits)
        except CapicheError as err:
            problems.extend(
                Diagnostic(file=where, line=line, message=f"{label}: {d.message}", hint=d.hint)
                for d in err.diagnostics
            )
            pool = desc_pool = []
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
    try:
        excluded.update(op.api for op in catalog.get_many(group.exclude, where))
    except CapicheError as err:
        problems.extend(
            Diagnostic(file=where, line=line, message=f"{label}: exclude: {d.message}", hint=d.hint)
            for d in err.diagnostics
        )
    for pattern in group.exclude_name:
        try:
            regex = compile_user_regex(pattern, where=where, line=line)
        except CapicheError as err:
            problems.extend(err.diagnostics)
            continue
        hits = [api for api in chosen if regex.search(api)]
        if not hits:
            fail(f"exclude_name {pattern!r} removes nothing", "drop it, or fix the pattern")
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
