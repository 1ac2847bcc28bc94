"""The YARA-L 2.0 syntax tree: frozen dataclasses, each node with a 1-based line and column."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class MapKey:
    """`["key"]` on a label or struct field."""

    key: str


@dataclass(frozen=True)
class Index:
    """`[0]` on a repeated field."""

    value: int


PathPart = str | MapKey | Index


def render_path(parts: tuple[PathPart, ...] | list[PathPart]) -> str:
    """`additional.fields["x"]`: the spelling `capiche_build.udm` uses for flat UDM keys."""
    out = ""
    for part in parts:
        if isinstance(part, MapKey):
            out += f"[{json.dumps(part.key)}]"
        elif isinstance(part, Index):
            out += f"[{part.value}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, kw_only=True)
class Node:
    line: int
    column: int


# Expressions -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StringLit(Node):
    value: str
    backtick: bool = False


@dataclass(frozen=True, kw_only=True)
class RegexLit(Node):
    pattern: str


@dataclass(frozen=True, kw_only=True)
class NumberLit(Node):
    value: int | float


@dataclass(frozen=True, kw_only=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True, kw_only=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class FieldRef(Node):
    """`$e.principal.user.userid`; `quantifier` is `any`/`all` when written before it."""

    var: str
    path: tuple[PathPart, ...]
    quantifier: str | None = None

    @property
    def dotted(self) -> str:
        return render_path(self.path)


@dataclass(frozen=True, kw_only=True)
class VarRef(Node):
    """`$name` on its own: an event variable, placeholder or outcome variable."""

    name: str


@dataclass(frozen=True, kw_only=True)
class CountRef(Node):
    """`#name` in a condition."""

    name: str


@dataclass(frozen=True, kw_only=True)
class ListRef(Node):
    """`%name`: a reference list (or `%table.column`)."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    """`re.regex(...)`, `max(...)`, `if(...)`; `name` keeps the dotted spelling."""

    name: str
    args: tuple[Expr, ...]
    nocase: bool = False


@dataclass(frozen=True, kw_only=True)
class Arith(Node):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    op: str
    left: Expr
    right: Expr
    nocase: bool = False


@dataclass(frozen=True, kw_only=True)
class InList(Node):
    """`value in [regex|cidr] %list [nocase]`."""

    value: Expr
    list: ListRef
    mode: str | None = None
    nocase: bool = False


@dataclass(frozen=True, kw_only=True)
class Not(Node):
    operand: Expr
    bang: bool = False  # `!$e` rather than `not ...`


@dataclass(frozen=True, kw_only=True)
class And(Node):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Or(Node):
    operands: tuple[Expr, ...]


Expr = (
    StringLit
    | RegexLit
    | NumberLit
    | BoolLit
    | ListLit
    | FieldRef
    | VarRef
    | CountRef
    | ListRef
    | Call
    | Arith
    | Compare
    | InList
    | Not
    | And
    | Or
)


# Sections --------------------------------------------------------------------------------------

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, kw_only=True)
class Duration(Node):
    amount: int
    unit: str

    @property
    def seconds(self) -> int:
        return self.amount * UNIT_SECONDS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True, kw_only=True)
class MetaEntry(Node):
    key: str
    value: StringLit


@dataclass(frozen=True, kw_only=True)
class OutcomeAssign(Node):
    var: str
    expr: Expr


@dataclass(frozen=True, kw_only=True)
class MatchSection(Node):
    """`$a, $b over 1h [before|after $pivot]` (or `by 1h`, a tumbling window)."""

    variables: tuple[VarRef, ...]
    window: Duration
    kind: str = "over"
    anchor: str | None = None
    pivot: VarRef | None = None


@dataclass(frozen=True, kw_only=True)
class OptionEntry(Node):
    key: str
    value: Expr | Duration


@dataclass(frozen=True, kw_only=True)
class SectionHeader(Node):
    name: str


@dataclass(frozen=True, kw_only=True)
class Rule(Node):
    name: str
    meta: tuple[MetaEntry, ...] = ()
    events: tuple[Expr, ...] = ()
    match: MatchSection | None = None
    outcome: tuple[OutcomeAssign, ...] = ()
    condition: Expr | None = None
    options: tuple[OptionEntry, ...] = ()
    sections: tuple[SectionHeader, ...] = ()
    end_line: int = 0

    def section(self, name: str) -> SectionHeader | None:
        return next((s for s in self.sections if s.name == name), None)


@dataclass(frozen=True)
class RuleFile:
    rules: tuple[Rule, ...]


def children(node: Node) -> Iterator[Node]:
    """Direct sub-nodes, in source order."""
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, Node))


def walk(node: Node) -> Iterator[Node]:
    """The node and every node below it, depth first (iterative: `1+1+...` trees run deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
