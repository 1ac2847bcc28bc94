"""Sigma rules -> SQL that DuckDB and Spark SQL both run, with the semantics of our reference.

pySigma parses the rules (selections, modifiers, `1 of x_*`, references between rules); we turn
its condition tree into a small expression tree and render that per dialect. Our own rendering
rather than a pySigma backend because no maintained DuckDB or Spark backend exists, and one
renderer for both engines is what keeps their results identical.

The reference is capiche_build.engines.sigma.evaluate_sigma (pySigma's SQLite backend):
  * field names ignore case; plain values match ignoring ASCII case (`COLLATE NOCASE`), and so do
    wildcards, startswith and contains (SQLite LIKE);
  * `|re` is a case-sensitive search, false (not NULL) when the field is absent;
  * a temporal correlation anchors a window [t - timespan, t] on each matching event of a group
    (group-by values compared lower-cased); a window holding enough of the rules qualifies, and
    every matching event inside a qualifying window is evidence. Events without a parsable
    eventTime or without a group-by value take no part.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capiche_build.diagnostics import CapicheError, Diagnostic

EVENTS = "events"
HITS = "hits"
# Columns of the staged event table besides the rule fields.
RID, FILE, REC, TS = "r", "f", "n", "t"
LIKE_ESCAPE = "!"  # not a backslash: DuckDB and Spark read backslashes in literals differently


# --------------------------------------------------------------------------- expression tree


@dataclass(frozen=True)
class Test:
    """One field test. op: eq|prefix|suffix|contains|like|regex|null|notnull; `cased`: keep case."""

    field: str  # dotted path, lower-cased
    op: str
    value: str = ""
    cased: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Test | And | Or | Not


@dataclass(frozen=True)
class Temporal:
    rules: tuple[str, ...]  # keys of the detection rules it joins
    group_by: tuple[str, ...]  # lower-cased paths
    timespan_ms: int
    op: str  # SQL comparison of the number of rules seen in a window with `count`
    count: int


@dataclass(frozen=True)
class Rule:
    key: str  # name, else id, else title (as evaluate_sigma keys them)
    title: str
    id: str
    level: str
    file: str
    top_level: bool  # not referenced by a correlation: its matches are reported
    predicate: Node | None = None
    temporal: Temporal | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    @property
    def detections(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.predicate is not None)

    @property
    def correlations(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.temporal is not None)

    def fields(self) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for rule in self.rules:
            if rule.predicate is not None:
                found.update(dict.fromkeys(_fields(rule.predicate)))
            if rule.temporal is not None:
                found.update(dict.fromkeys(rule.temporal.group_by))
        return tuple(found)


def _fields(node: Node) -> list[str]:
    if isinstance(node, Test):
        return [node.field]
    if isinstance(node, Not):
        return _fields(node.item)
    return [f for item in node.items for f in _fields(item)]


# --------------------------------------------------------------------------- loading rules


def rule_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Sigma files: given files, and the .yml/.yaml files of folders in sorted order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        elif path.is_file():
            found.append(path)
        else:
            raise CapicheError(Diagnostic(str(path), message="no such rule file or folder"))
    if not found:
        raise CapicheError(f"no Sigma rules in {', '.join(map(str, paths))}")
    return found


def load_rules(paths: Sequence[str | os.PathLike[str]]) -> RuleSet:
    """Parse and compile every rule; CapicheError names each file or feature we cannot run."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    parsed: list[Any] = []
    origin: dict[int, str] = {}
    problems: list[Diagnostic] = []
    for path in rule_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
            collection = SigmaCollection.from_yaml(
                text, collect_errors=True, resolve_references=False
            )
        except (OSError, UnicodeDecodeError, SigmaError, ValueError) as error:
            problems.append(Diagnostic(str(path), message=f"cannot read Sigma rules: {error}"))
            continue
        problems += [Diagnostic(str(path), message=str(e)) for e in collection.errors]
        for rule in collection.rules:
            origin[id(rule)] = str(path)
            parsed.append(rule)
    if problems:
        raise CapicheError(problems)
    collection = SigmaCollection(parsed, resolve_references=False)
    try:
        collection.resolve_rule_references()
    except SigmaError as error:
        raise CapicheError(f"Sigma rule references: {error}") from error
    return _compile(parsed, origin)


def _compile(rules: Sequence[Any], origin: Mapping[int, str]) -> RuleSet:
    from sigma.rule import SigmaRule

    from capiche_build.engines.sigma import rule_keys

    keys = rule_keys(rules)
    referenced = {id(ref.rule) for r in rules if not isinstance(r, SigmaRule) for ref in r.rules}
    compiled: list[Rule] = []
    problems: list[Diagnostic] = []
    for rule in rules:
        where = origin[id(rule)]
        common = {
            "key": keys[id(rule)],
            "title": str(rule.title),
            "id": str(rule.id or ""),
            "level": str(rule.level.name.lower() if rule.level else ""),
            "file": where,
            "top_level": id(rule) not in referenced,
        }
        try:
            if isinstance(rule, SigmaRule):
                compiled.append(Rule(**common, predicate=_detection(rule)))
            else:
                compiled.append(Rule(**common, temporal=_temporal(rule, keys)))
        except Unsupported as error:
            problems.append(
                Diagnostic(where, message=f"rule {rule.title!r}: {error}", engine="hunt")
            )
    if problems:
        raise CapicheError(problems)
    return RuleSet(tuple(compiled))


class Unsupported(Exception):
    """A Sigma feature outside the subset the hunt runs."""


def _detection(rule: Any) -> Node:
    conditions = [_node(c.parsed) for c in rule.detection.parsed_condition]
    return conditions[0] if len(conditions) == 1 else Or(tuple(conditions))


def _node(item: Any) -> Node:
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
    )

    if isinstance(item, ConditionAND):
        return And(tuple(_node(a) for a in item.args))
    if isinstance(item, ConditionOR):
        return Or(tuple(_node(a) for a in item.args))
    if isinstance(item, ConditionNOT):
        return Not(_node(item.args[0]))
    if isinstance(item, ConditionFieldEqualsValueExpression):
        return _test(item.field.lower(), item.value)
    raise Unsupported(f"{type(item).__name__} (keyword searches are not supported)")


def _test(field: str, value: Any) -> Test:
    from sigma.types import (
        SigmaBool,
        SigmaCasedString,
        SigmaExists,
        SigmaNull,
        SigmaNumber,
        SigmaRegularExpression,
        SigmaRegularExpressionFlag,
        SigmaString,
    )

    if isinstance(value, SigmaString):
        return _string_test(field, value, cased=isinstance(value, SigmaCasedString))
    if isinstance(value, SigmaRegularExpression):
        flags = {
            SigmaRegularExpressionFlag.IGNORECASE: "i",
            SigmaRegularExpressionFlag.MULTILINE: "m",
            SigmaRegularExpressionFlag.DOTALL: "s",
        }
        inline = "".join(sorted(flags[f] for f in value.flags))
        return Test(field, "regex", (f"(?{inline})" if inline else "") + str(value.regexp))
    if isinstance(value, SigmaNull):
        return Test(field, "null")
    if isinstance(value, SigmaExists):
        return Test(field, "notnull" if value.exists else "null")
    if isinstance(value, SigmaBool):
        return Test(field, "eq", "true" if value.boolean else "false")
    if isinstance(value, SigmaNumber):
        return Test(field, "eq", str(value.number))
    raise Unsupported(f"{type(value).__name__} values on {field} are not supported")


def _string_test(field: str, value: Any, cased: bool) -> Test:
    from sigma.types import SpecialChars

    parts = list(value.s)
    if any(not isinstance(p, (str, SpecialChars)) for p in parts):
        raise Unsupported(f"placeholder in the value of {field}")
    texts = [p for p in parts if isinstance(p, str)]
    multi = SpecialChars.WILDCARD_MULTI
    ends = (bool(parts) and parts[0] == multi, bool(parts) and parts[-1] == multi)
    inner = parts[ends[0] : len(parts) - ends[1]]
    if all(isinstance(p, str) for p in inner):
        # Plain, startswith, endswith, contains: simple string functions, no LIKE escaping.
        op = {(False, False): "eq", (False, True): "prefix", (True, False): "suffix"}
        return Test(field, op.get(ends, "contains"), "".join(texts), cased)
    pattern = "".join(
        p.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        if isinstance(p, str)
        else ("%" if p == multi else "_")
        for p in parts
    )
    return Test(field, "like", pattern, cased)


def _temporal(rule: Any, keys: Mapping[int, str]) -> Temporal:
    from sigma.correlations import SigmaCorrelationType
    from sigma.rule import SigmaRule

    if rule.type != SigmaCorrelationType.TEMPORAL:
        raise Unsupported(f"correlation type {rule.type.name.lower()} (only temporal)")
    if rule.aliases and rule.aliases.aliases:
        raise Unsupported("correlation field aliases")
    if any(not isinstance(ref.rule, SigmaRule) for ref in rule.rules):
        raise Unsupported("a correlation of correlations")
    ops = {"GTE": ">=", "GT": ">", "EQ": "=", "LTE": "<=", "LT": "<", "NEQ": "<>"}
    condition = rule.condition
    op = ops.get(condition.op.name) if condition else ">="
    if op is None:
        raise Unsupported(f"correlation condition {condition.op.name}")
    return Temporal(
        rules=tuple(keys[id(ref.rule)] for ref in rule.rules),
        group_by=tuple(f.lower() for f in rule.group_by or ()),
        timespan_ms=int(rule.timespan.seconds) * 1000,
        op=op,
        count=int(condition.count) if condition and condition.count else len(rule.rules),
    )


# --------------------------------------------------------------------------- SQL rendering


@dataclass(frozen=True)
class Dialect:
    name: str
    literal: Callable[[str], str]
    regex: Callable[[str, str], str]  # (column, pattern literal) -> boolean SQL, NULL if null
    bigint: Callable[[int], str]
    functions: Mapping[str, str]  # our op -> the dialect's function(string, part)


DUCKDB = Dialect(
    "duckdb",
    literal=lambda s: "'" + s.replace("'", "''") + "'",
    regex=lambda col, pattern: f"regexp_matches({col}, {pattern})",
    bigint=lambda n: f"CAST({n} AS BIGINT)",
    functions={"prefix": "starts_with", "suffix": "ends_with", "contains": "contains"},
)
SPARK = Dialect(
    "spark",
    # Spark reads backslash escapes in literals by default (spark.sql.parser.escapedStringLiterals).
    literal=lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'",
    regex=lambda col, pattern: f"({col} RLIKE {pattern})",
    bigint=lambda n: f"{n}L",
    functions={"prefix": "startswith", "suffix": "endswith", "contains": "contains"},
)


@dataclass(frozen=True)
class Plan:
    """The staged table's columns and the queries that run a RuleSet over it."""

    rules: RuleSet
    columns: Mapping[str, str]  # lower-cased path -> column name

    @classmethod
    def build(cls, rules: RuleSet, output_fields: Sequence[str]) -> Plan:
        paths = dict.fromkeys([*(f.lower() for f in output_fields), *rules.fields()])
        return cls(rules, {path: f"c{i}" for i, path in enumerate(paths)})

    def flag(self, rule: Rule) -> str:
        return f"b{self.rules.detections.index(rule)}"

    def predicate(self, node: Node, dialect: Dialect) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.predicate(i, dialect) for i in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.predicate(i, dialect) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.predicate(node.item, dialect)})"
        col = self.columns[node.field]
        if node.op == "null":
            return f"({col} IS NULL)"
        if node.op == "notnull":
            return f"({col} IS NOT NULL)"
        if node.op == "regex":
            return f"COALESCE({dialect.regex(col, dialect.literal(node.value))}, false)"
        # Lower-cased once per row in hits_sql: column l<n> for c<n>.
        subject, value = (col, node.value) if node.cased else ("l" + col[1:], node.value.lower())
        if node.op == "eq":
            return f"({subject} = {dialect.literal(value)})"
        if node.op in dialect.functions:
            return f"{dialect.functions[node.op]}({subject}, {dialect.literal(value)})"
        escape = dialect.literal(LIKE_ESCAPE)
        return f"({subject} LIKE {dialect.literal(value)} ESCAPE {escape})"

    def kept_columns(self, keep: Sequence[str]) -> list[str]:
        """Columns the hits table carries: the report's fields, then correlation group keys."""
        groups = [g for r in self.rules.correlations for g in r.temporal.group_by]  # type: ignore[union-attr]
        return list(dict.fromkeys(self.columns[k.lower()] for k in [*keep, *groups]))

    def hits_sql(self, source: str, dialect: Dialect, keep: Sequence[str]) -> str:
        """Every event some detection rule matches, with one boolean column per rule."""
        flags = [
            f"COALESCE({self.predicate(r.predicate, dialect)}, false) AS b{i}"  # type: ignore[arg-type]
            for i, r in enumerate(self.rules.detections)
        ]
        lowered = ", ".join(f"lower({c}) AS l{c[1:]}" for c in self.columns.values())
        select = ", ".join([RID, FILE, REC, TS, *self.kept_columns(keep), *flags])
        where = " OR ".join(f"b{i}" for i in range(len(flags))) or "false"
        return (
            f"SELECT * FROM (SELECT {select} FROM (SELECT *, {lowered} FROM {source}) s) x "
            f"WHERE {where}"
        )

    def correlations_sql(self, dialect: Dialect) -> str | None:
        """(correlation index, record id) of every piece of evidence, over the hits table.

        Correlations with the same timespan share one pair of window passes (partitioned by
        correlation and group): each window pass costs a shuffle in Spark.
        """
        spans: dict[int, list[int]] = {}
        for index, rule in enumerate(self.rules.correlations):
            spans.setdefault(rule.temporal.timespan_ms, []).append(index)  # type: ignore[union-attr]
        blocks = [self._temporal(span, indices, dialect) for span, indices in spans.items()]
        return " UNION ALL ".join(blocks) if blocks else None

    def _temporal(self, span_ms: int, indices: Sequence[int], dialect: Dialect) -> str:
        correlations = self.rules.correlations
        by_key = {r.key: r for r in self.rules.detections}
        width = max(len(correlations[i].temporal.group_by) for i in indices)  # type: ignore[union-attr]
        slots = max(len(correlations[i].temporal.rules) for i in indices)  # type: ignore[union-attr]
        matches: list[str] = []
        for index in indices:
            spec = correlations[index].temporal
            assert spec is not None
            groups = [self.columns[g] for g in spec.group_by]
            present = " AND ".join([f"{TS} IS NOT NULL", *(f"{g} IS NOT NULL" for g in groups)])
            # Group values compare lower-cased; '' pads correlations with fewer group-by fields.
            gsel = [f"lower({g})" for g in groups] + ["''"] * (width - len(groups))
            gsel_sql = "".join(f", {g} AS g{i}" for i, g in enumerate(gsel))
            matches += [
                f"SELECT {index} AS c, {RID}, {TS}{gsel_sql}, {slot} AS slot FROM {HITS} "
                f"WHERE {self.flag(by_key[key])} AND {present}"
                for slot, key in enumerate(spec.rules)
            ]
        gcols = "".join(f", g{i}" for i in range(width))
        part = f"PARTITION BY c{gcols}"
        span = dialect.bigint(span_ms)
        back = f"OVER ({part} ORDER BY {TS} RANGE BETWEEN {span} PRECEDING AND CURRENT ROW)"
        ahead = f"OVER ({part} ORDER BY {TS} RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING)"
        # A window [t - span, t] ending at each event qualifies when it holds enough rules...
        seen = "".join(
            f", MAX(CASE WHEN slot = {k} THEN 1 ELSE 0 END) {back} AS s{k}" for k in range(slots)
        )
        windows = f"SELECT c, {RID}, {TS}{gcols}{seen} FROM ({' UNION ALL '.join(matches)}) m"
        cases = " ".join(
            f"WHEN c = {i} THEN CASE WHEN ("
            + " + ".join(f"s{k}" for k in range(len(correlations[i].temporal.rules)))  # type: ignore[union-attr]
            + f") {correlations[i].temporal.op} {correlations[i].temporal.count} THEN 1 ELSE 0 END"  # type: ignore[union-attr]
            for i in indices
        )
        anchors = (
            f"SELECT c, {RID}, {TS}{gcols}, CASE {cases} ELSE 0 END AS anchor FROM ({windows}) w"
        )
        # ...and an event is evidence when a qualifying window ends within span after it.
        evidence = f"SELECT c, {RID}, MAX(anchor) {ahead} AS evidence FROM ({anchors}) q"
        return f"SELECT DISTINCT c, {RID} FROM ({evidence}) e WHERE evidence = 1"
