"""The boolean condition over group names: parse, normalise, render.

Grammar (case-insensitive keywords):
    expr    := or
    or      := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | atom
    atom    := NAME | "(" expr ")" | (INT | "any" | "all") "of" "(" NAME ("," NAME)* ")"
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_CONJUNCTIONS = 32
GRAMMAR_HINT = "use group names, and, or, not, parentheses and `N of (a, b)`"


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Not:
    item: Cond


@dataclass(frozen=True)
class And:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AtLeast:
    count: int
    items: tuple[Cond, ...]


Cond = Ref | Not | And | Or | AtLeast


class ConditionError(ValueError):
    def __init__(self, message: str, position: int, hint: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.hint = hint


_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<sym>[(),]))")
_KEYWORDS = {"and", "or", "not", "of", "any", "all"}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            start = len(text) - len(text[pos:].lstrip())
            raise ConditionError(
                f"unexpected character {text[start]!r} at column {start + 1}",
                start,
                GRAMMAR_HINT,
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        start = m.start(kind)
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        out.append((kind, value, start))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self, kind: str, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            got = tok[1] or "end of condition"
            raise ConditionError(f"expected {want!r} but found {got!r}", tok[2], GRAMMAR_HINT)
        self.i += 1
        return tok

    def parse(self) -> Cond:
        node = self.or_()
        tok = self.peek()
        if tok[0] != "end":
            raise ConditionError(f"unexpected {tok[1]!r}", tok[2], "join groups with and / or")
        return node

    def or_(self) -> Cond:
        items = [self.and_()]
        while self.peek()[:2] == ("kw", "or"):
            self.i += 1
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Cond:
        items = [self.unary()]
        while self.peek()[:2] == ("kw", "and"):
            self.i += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Cond:
        if self.peek()[:2] == ("kw", "not"):
            self.i += 1
            return Not(self.unary())
        return self.atom()

    def atom(self) -> Cond:
        kind, value, pos = self.peek()
        if kind == "sym" and value == "(":
            self.i += 1
            node = self.or_()
            self.take("sym", ")")
            return node
        if kind == "name":
            self.i += 1
            return Ref(value)
        if kind == "num" or (kind == "kw" and value in {"any", "all"}):
            self.i += 1
            self.take("kw", "of")
            self.take("sym", "(")
            names = [Ref(self.take("name")[1])]
            while self.peek()[:2] == ("sym", ","):
                self.i += 1
                names.append(Ref(self.take("name")[1]))
            self.take("sym", ")")
            count = 1 if value == "any" else len(names) if value == "all" else int(value)
            if not 1 <= count <= len(names):
                raise ConditionError(
                    f"`{value} of` needs between 1 and {len(names)} groups",
                    pos,
                    "e.g. `2 of (a, b, c)`: the count is at most the number of groups",
                )
            if count == 1:
                return names[0] if len(names) == 1 else Or(tuple(names))
            if count == len(names):
                return And(tuple(names))
            return AtLeast(count, tuple(names))
        got = value or "end of condition"
        raise ConditionError(f"expected a group name but found {got!r}", pos, GRAMMAR_HINT)


def parse_condition(text: str) -> Cond:
    """Parse a condition; raises ConditionError with the 0-based position of the problem."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("the condition is empty", 0, "e.g. `keys and policy`")
    return _Parser(text).parse()


def names(cond: Cond) -> list[str]:
    """Group names in order of first appearance."""
    seen: dict[str, None] = {}

    def visit(node: Cond) -> None:
        if isinstance(node, Ref):
            seen.setdefault(node.name, None)
        elif isinstance(node, Not):
            visit(node.item)
        else:
            for item in node.items:
                visit(item)

    visit(cond)
    return list(seen)


def expand_at_least(cond: Cond) -> Cond:
    """Rewrite `N of (...)` as an OR of ANDs, for formats without a counting operator."""
    if isinstance(cond, Ref):
        return cond
    if isinstance(cond, Not):
        return Not(expand_at_least(cond.item))
    items = tuple(expand_at_least(i) for i in cond.items)
    if isinstance(cond, AtLeast):
        return Or(tuple(And(combo) for combo in itertools.combinations(items, cond.count)))
    return type(cond)(items)


@dataclass(frozen=True)
class Conjunction:
    """One alternative of the condition: groups that must all occur, groups that must not."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]


def to_dnf(cond: Cond) -> tuple[Conjunction, ...]:
    """Disjunctive normal form, de-duplicated; raises ConditionError when it is unusable.

    Every alternative needs at least one positive group: `not a` alone selects nothing.
    """

    def dnf(node: Cond, negate: bool) -> list[tuple[frozenset[str], frozenset[str]]]:
        if isinstance(node, Ref):
            pair = (
                (frozenset(), frozenset({node.name}))
                if negate
                else (
                    frozenset({node.name}),
                    frozenset(),
                )
            )
            return [pair]
        if isinstance(node, Not):
            return dnf(node.item, not negate)
        if isinstance(node, AtLeast):
            return dnf(expand_at_least(node), negate)
        is_and = isinstance(node, And) != negate  # De Morgan
        parts = [dnf(item, negate) for item in node.items]
        if not is_and:
            return [c for part in parts for c in part]
        result: list[tuple[frozenset[str], frozenset[str]]] = [(frozenset(), frozenset())]
        for part in parts:
            result = [(a[0] | b[0], a[1] | b[1]) for a in result for b in part]
            if len(result) > MAX_CONJUNCTIONS * 4:
                break
        return result

    out: dict[tuple[tuple[str, ...], tuple[str, ...]], None] = {}
    for pos, neg in dnf(cond, False):
        if pos & neg:
            continue  # `a and not a` can never hold
        if not pos:
            raise ConditionError(
                "an alternative of the condition has only negated groups",
                0,
                "each `or` branch needs a group that must occur, e.g. `keys and not admin`",
            )
        out[(tuple(sorted(pos)), tuple(sorted(neg)))] = None
    if not out:
        raise ConditionError(
            "the condition can never be true", 0, "remove the `x and not x` contradiction"
        )
    if len(out) > MAX_CONJUNCTIONS:
        raise ConditionError(
            f"the condition expands to {len(out)} alternatives (limit {MAX_CONJUNCTIONS})",
            0,
            "simplify it or split the definition",
        )
    return tuple(Conjunction(p, n) for p, n in out)


def render(
    cond: Cond,
    ref: Callable[[str], str],
    *,
    and_: str = " and ",
    or_: str = " or ",
    not_: Callable[[str], str] = lambda s: f"not {s}",
    at_least: Callable[[int, Iterable[str]], str] | None = None,
) -> str:
    """Render a condition with the format's own operators, parenthesising every compound."""

    def go(node: Cond, top: bool) -> str:
        if isinstance(node, Ref):
            return ref(node.name)
        if isinstance(node, Not):
            return not_(go(node.item, False))
        if isinstance(node, AtLeast):
            if at_least is None:
                return go(expand_at_least(node), top)
            return at_least(node.count, [go(i, False) for i in node.items])
        joiner = and_ if isinstance(node, And) else or_
        text = joiner.join(go(i, False) for i in node.items)
        return text if top else f"({text})"

    return go(cond, True)
