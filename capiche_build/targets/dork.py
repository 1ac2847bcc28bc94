"""Google dorks: `intext:"..."` terms; a query over Google's 32-word cap is split in several.

Splitting keeps the meaning: the condition is put in disjunctive normal form, and a query that is
still too long has its largest OR-group cut in halves, so the union of the queries' results is the
result of the whole condition.
"""

from __future__ import annotations

from functools import lru_cache

from capiche_build.condition import Conjunction
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.engines.query import count_dork_words
from capiche_build.model import ResolvedRule
from capiche_build.targets.escaping import dork_term

MAX_WORDS = 32


def _or(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def _query(header: list[str], positive: list[list[str]], negative: list[list[str]]) -> str:
    # Several header strings are alternatives, as in YARA's `any of ($header_*)`.
    parts = [_or(header)] if header else []
    parts += [*(_or(t) for t in positive), *(f"-{_or(t)}" for t in negative)]
    return " ".join(parts)


def _terms(rule: ResolvedRule) -> dict[str, list[str]]:
    op = rule.source.code.dork_operator
    return {g.name: [dork_term(text, op) for text, _ in g.code_strings()] for g in rule.groups}


@lru_cache(maxsize=65536)
def _term_words(term: str) -> int:
    return count_dork_words(term)


def _words(header: list[str], positive: list[list[str]], negative: list[list[str]]) -> int:
    """Words of `_query(...)` without re-parsing it: terms plus one per `OR` (what
    count_dork_words counts; parentheses and `-` are free)."""
    groups = ([header] if header else []) + positive + negative
    return sum(sum(_term_words(t) for t in g) + len(g) - 1 for g in groups)


def _split(
    rule: ResolvedRule, header: list[str], positive: list[list[str]], negative: list[list[str]]
) -> list[str]:
    if _words(header, positive, negative) <= MAX_WORDS:
        return [_query(header, positive, negative)]
    index = max(range(len(positive)), key=lambda i: len(positive[i]))
    largest = positive[index]
    if len(largest) == 1:
        raise CapicheError(
            Diagnostic(
                file=rule.source.path,
                message=f"a Google dork for `{rule.name}` cannot fit in {MAX_WORDS} words",
                hint="drop negated groups or header strings, or remove `dork` from `formats`",
            )
        )
    half = len(largest) // 2
    out: list[str] = []
    for part in (largest[:half], largest[half:]):
        out += _split(rule, header, [*positive[:index], part, *positive[index + 1 :]], negative)
    return out


def queries(rule: ResolvedRule) -> list[str]:
    terms = _terms(rule)
    header = [dork_term(h, rule.source.code.dork_operator) for h in rule.source.code.header]
    whole = _whole(rule, terms, header)
    if count_dork_words(whole) <= MAX_WORDS:
        return [whole]
    out: list[str] = []
    for conj in rule.source.conjunctions:
        out += _split(rule, header, *_parts(conj, terms))
    return list(dict.fromkeys(out))


def _parts(
    conj: Conjunction, terms: dict[str, list[str]]
) -> tuple[list[list[str]], list[list[str]]]:
    return [terms[g] for g in conj.positive], [terms[g] for g in conj.negative]


def _whole(rule: ResolvedRule, terms: dict[str, list[str]], header: list[str]) -> str:
    from capiche_build.condition import render as render_condition

    body = render_condition(
        rule.source.condition,
        lambda name: _or(terms[name]),
        and_=" ",
        or_=" OR ",
        not_=lambda s: f"-{s}",
    )
    head = [_or(header)] if header else []
    from capiche_build.condition import Or

    wrap = header and isinstance(
        rule.source.condition, Or
    )  # top-level OR needs its own parentheses
    return " ".join([*head, f"({body})" if wrap else body])


def render(rule: ResolvedRule) -> str:
    return "\n".join(queries(rule)) + "\n"


def notes(rule: ResolvedRule, text: str) -> tuple[str, ...]:
    count = len(text.splitlines())
    if count > 1:
        return (f"dork split into {count} queries to stay within Google's {MAX_WORDS}-word limit",)
    return ()
