"""Run the YARA-L our generator emits on CloudTrail records, so rules can be tested offline.

Each record becomes flat UDM fields through `capiche_build.udm.cloudtrail_to_udm` (the same table
the generator uses), with `eventTime` as the event timestamp. A missing field reads as "" (the
UDM zero value).

Supported: field comparisons (`=`, `!=`, `<`, ... , `/regex/`, `nocase`), `and`/`or`/`not`,
`in [regex|cidr] %list` (lists passed in), a few functions (`re.regex`, `re.capture`,
`re.replace`, `strings.to_lower`/`to_upper`/`concat`, `net.ip_in_range_cidr`), placeholders,
joins between event variables through shared match placeholders, and conditions over `$e`,
`!$e`, `#e <op> N` and placeholders with `and`/`or`/`not`. The outcome section is not evaluated.
Anything else raises `UnsupportedRuleError` rather than giving a silently different answer.

Window semantics (`match: $k over D`): events are grouped by the values of the match variables
(placeholders bound to "" are dropped unless `allow_zero_values = true`, as Google does). A group
fires when some closed time window of length D contains events whose counts per event variable
satisfy the condition; counts include every event of the group inside the window, so `!$b`
means no `$b` event anywhere in that window. This is Google's hop window with an infinitely
fine hop. Counts only change when a window edge crosses an event, so it suffices to test windows
starting at each event time, ending at each event time, and the gaps between those. With
`before`/`after $pivot` only the windows ending/starting at each pivot event are tested; with
`by D` the fixed buckets [kD, (k+1)D). The evaluator reports one `Detection` per group that
fires, listing every record that lies in at least one satisfying window.
"""

from __future__ import annotations

import ipaddress
import itertools
import operator
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.udm import cloudtrail_to_udm
from capiche_build.yaral import nodes as n
from capiche_build.yaral.parser import parse_yaral

Value = Any  # str, float, bool or a compiled pattern


@dataclass(frozen=True)
class Detection:
    """One firing of a rule: the match-variable values and the records that took part."""

    rule: str
    match: tuple[tuple[str, str], ...]  # (("principal", "arn:aws:iam::1:user/x"),)
    record_indices: tuple[int, ...]
    events: tuple[tuple[str, tuple[int, ...]], ...]  # per event variable, in rule order
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class UnsupportedRuleError(CapicheError):
    """The rule uses YARA-L the evaluator does not implement (or cannot run at all)."""

    def __init__(self, message: str, node: n.Node | None = None):
        super().__init__(
            Diagnostic(
                line=node.line if node else None,
                column=node.column if node else None,
                message=message,
                engine="yara-l-evaluator",
                hint="the evaluator covers the subset capiche-build generates",
            )
        )


def evaluate(
    rule_text: str,
    records: Sequence[Mapping[str, Any]],
    *,
    reference_lists: Mapping[str, Sequence[str]] | None = None,
) -> list[Detection]:
    """Detections of every rule in `rule_text` over CloudTrail `records` (list of dicts)."""
    rules = [
        _CompiledRule.build(rule, reference_lists or {}) for rule in parse_yaral(rule_text).rules
    ]
    events = [_Event.from_record(i, record) for i, record in enumerate(records)]
    out: list[Detection] = []
    for rule in rules:
        out.extend(rule.run(events))
    return out


# -- records -------------------------------------------------------------------------------------


def parse_event_time(text: str) -> datetime:
    """CloudTrail `eventTime` (`2023-07-10T13:51:21Z`) as an aware datetime."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Event:
    index: int
    fields: Mapping[str, str]
    time: datetime | None

    @classmethod
    def from_record(cls, index: int, record: Mapping[str, Any]) -> _Event:
        fields = dict(cloudtrail_to_udm(record))
        time = None
        raw = record.get("eventTime")
        if isinstance(raw, str):
            try:
                time = parse_event_time(raw)
            except ValueError:
                time = None
        if time is not None:
            fields["metadata.event_timestamp.seconds"] = str(int(time.timestamp()))
            fields["metadata.event_timestamp.nanos"] = str(time.microsecond * 1000)
        return cls(index, fields, time)

    @property
    def seconds(self) -> float:
        if self.time is None:
            raise CapicheError(f"record {self.index} has no valid eventTime")
        return self.time.timestamp()


# -- expressions ---------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _regex(pattern: str, nocase: bool) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if nocase else 0)
    except re.error as exc:
        raise UnsupportedRuleError(
            f"regular expression /{pattern}/ does not compile: {exc}"
        ) from exc


def _as_number(value: Value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _as_text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _in_cidr(ip: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _capture(text: str, pattern: str) -> str:
    found = _regex(pattern, False).search(text)
    if not found:
        return ""
    return found.group(1) if found.re.groups else found.group(0)


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "re.regex": lambda text, pattern, nocase=False: bool(
        _regex(_as_text(pattern), nocase).search(_as_text(text))
    ),
    "re.capture": lambda text, pattern: _capture(_as_text(text), _as_text(pattern)),
    "re.replace": lambda text, pattern, repl: _regex(_as_text(pattern), False).sub(
        _as_text(repl), _as_text(text)
    ),
    "strings.to_lower": lambda text: _as_text(text).lower(),
    "strings.to_upper": lambda text: _as_text(text).upper(),
    "strings.concat": lambda *parts: "".join(_as_text(p) for p in parts),
    "net.ip_in_range_cidr": lambda ip, cidr: _in_cidr(_as_text(ip), _as_text(cidr)),
}


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}


@dataclass(frozen=True)
class _Context:
    fields: Mapping[str, str]
    env: Mapping[str, str]  # placeholder values
    lists: Mapping[str, Sequence[str]]


def _field_key(ref: n.FieldRef) -> str:
    path = list(ref.path)
    if path and path[0] == "udm":
        path = path[1:]
    return n.render_path(path)


def _eval(expr: n.Node, ctx: _Context) -> Value:
    if isinstance(expr, n.FieldRef):
        return ctx.fields.get(_field_key(expr), "")
    if isinstance(expr, n.VarRef):
        return ctx.env.get(expr.name, "")
    if isinstance(expr, (n.StringLit, n.NumberLit, n.BoolLit)):
        return expr.value
    if isinstance(expr, n.RegexLit):
        return expr
    if isinstance(expr, n.Compare):
        return _compare(expr, ctx)
    if isinstance(expr, n.And):
        return all(_truthy(_eval(op, ctx)) for op in expr.operands)
    if isinstance(expr, n.Or):
        return any(_truthy(_eval(op, ctx)) for op in expr.operands)
    if isinstance(expr, n.Not):
        return not _truthy(_eval(expr.operand, ctx))
    if isinstance(expr, n.InList):
        return _in_list(expr, ctx)
    if isinstance(expr, n.Call):
        args = [_eval(arg, ctx) for arg in expr.args]
        args = [a.pattern if isinstance(a, n.RegexLit) else a for a in args]
        if expr.name == "re.regex":
            return FUNCTIONS["re.regex"](*args, nocase=expr.nocase)
        return FUNCTIONS[expr.name](*args)
    if isinstance(expr, n.Arith):
        left, right = _as_number(_eval(expr.left, ctx)), _as_number(_eval(expr.right, ctx))
        if left is None or right is None:
            return 0.0
        if expr.op in ("/", "%") and right == 0:
            return 0.0
        return ARITHMETIC[expr.op](left, right)
    raise UnsupportedRuleError(f"cannot evaluate {type(expr).__name__} here", expr)


def _truthy(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    return value not in ("", 0, 0.0, None)


def _compare(cmp: n.Compare, ctx: _Context) -> bool:
    left, right = _eval(cmp.left, ctx), _eval(cmp.right, ctx)
    if isinstance(left, n.RegexLit):
        left, right = right, left
    if isinstance(right, n.RegexLit):
        found = bool(_regex(right.pattern, cmp.nocase).search(_as_text(left)))
        return found if cmp.op == "=" else not found if cmp.op == "!=" else False
    if isinstance(left, (int, float)) or isinstance(right, (int, float)):
        a, b = _as_number(left), _as_number(right)
        if a is None or b is None:
            return cmp.op == "!="
    else:
        a, b = _as_text(left), _as_text(right)
        if cmp.nocase:
            a, b = a.casefold(), b.casefold()
    return COMPARISONS[cmp.op](a, b)


def _in_list(expr: n.InList, ctx: _Context) -> bool:
    value = _as_text(_eval(expr.value, ctx))
    entries = ctx.lists[expr.list.name]
    if expr.mode == "cidr":
        return any(_in_cidr(value, entry) for entry in entries)
    if expr.mode == "regex":
        return any(_regex(entry, expr.nocase).search(value) for entry in entries)
    if expr.nocase:
        return value.casefold() in {entry.casefold() for entry in entries}
    return value in entries


# -- conditions ----------------------------------------------------------------------------------


@dataclass
class _Counts:
    events: Counter[str] = field(default_factory=Counter)  # event variable -> events in window
    values: dict[str, Counter[str]] = field(default_factory=dict)  # placeholder -> values

    def add(self, var: str, env: Mapping[str, str], step: int) -> None:
        self.events[var] += step
        for ph, value in env.items():
            if value:
                self.values.setdefault(ph, Counter())[value] += step

    def count(self, name: str) -> int:
        if name in self.values:
            return sum(1 for c in self.values[name].values() if c > 0)
        return self.events[name]


def _condition(expr: n.Node, counts: _Counts) -> bool:
    if isinstance(expr, n.VarRef):
        return counts.count(expr.name) > 0
    if isinstance(expr, n.Not):
        return not _condition(expr.operand, counts)
    if isinstance(expr, n.And):
        return all(_condition(op, counts) for op in expr.operands)
    if isinstance(expr, n.Or):
        return any(_condition(op, counts) for op in expr.operands)
    if (
        isinstance(expr, n.Compare)
        and isinstance(expr.left, n.CountRef)
        and isinstance(expr.right, n.NumberLit)
    ):
        return COMPARISONS[expr.op](counts.count(expr.left.name), expr.right.value)
    raise UnsupportedRuleError("unsupported condition", expr)  # pragma: no cover


# -- compiling a rule ----------------------------------------------------------------------------


@dataclass
class _VarPlan:
    """How to test one event variable against one record."""

    name: str
    bindings: list[tuple[str, n.Expr]] = field(default_factory=list)  # placeholder, value
    filters: list[n.Expr] = field(default_factory=list)

    def bound(self) -> set[str]:
        return {ph for ph, _ in self.bindings}


def _conjuncts(exprs: Sequence[n.Expr]) -> list[n.Expr]:
    out: list[n.Expr] = []
    for expr in exprs:
        out.extend(_conjuncts(expr.operands) if isinstance(expr, n.And) else [expr])
    return out


def _event_vars(expr: n.Node) -> set[str]:
    return {x.var for x in n.walk(expr) if isinstance(x, n.FieldRef)}


def _placeholders(expr: n.Node) -> set[str]:
    return {x.name for x in n.walk(expr) if isinstance(x, n.VarRef)}


@dataclass
class _CompiledRule:
    rule: n.Rule
    plans: dict[str, _VarPlan]
    lists: Mapping[str, Sequence[str]]
    match_vars: tuple[str, ...]
    allow_zero: bool

    @classmethod
    def build(cls, rule: n.Rule, lists: Mapping[str, Sequence[str]]) -> _CompiledRule:
        if rule.condition is None:
            raise UnsupportedRuleError(f"rule `{rule.name}` has no condition", rule)
        plans: dict[str, _VarPlan] = {}
        for expr in rule.events:
            for node in n.walk(expr):
                if isinstance(node, n.FieldRef):
                    plans.setdefault(node.var, _VarPlan(node.var))
        _check_supported(rule, lists)
        predicates = _conjuncts(rule.events)
        rest: list[n.Expr] = []
        for pred in predicates:  # first pass: placeholder assignments
            binding = _as_binding(pred)
            if binding and binding[1] not in plans[binding[0]].bound():
                var, ph, value = binding
                plans[var].bindings.append((ph, value))
            else:
                rest.append(pred)
        for pred in rest:
            cls._place(pred, plans)
        match_vars = tuple(v.name for v in rule.match.variables) if rule.match else ()
        cls._check_joins(rule, plans, match_vars)
        allow_zero = any(
            o.key == "allow_zero_values" and isinstance(o.value, n.BoolLit) and o.value.value
            for o in rule.options
        )
        return cls(rule, plans, lists, match_vars, allow_zero)

    @staticmethod
    def _place(pred: n.Expr, plans: dict[str, _VarPlan]) -> None:
        vars_ = _event_vars(pred)
        phs = _placeholders(pred)
        if len(vars_) > 1:
            raise UnsupportedRuleError(
                "comparisons between fields of different event variables are not supported; "
                "join them through a placeholder",
                pred,
            )
        targets = (
            [plans[v] for v in vars_]
            if vars_
            else [plan for plan in plans.values() if phs and phs <= plan.bound()]
        )
        if not targets or any(not phs <= plan.bound() for plan in targets):
            raise UnsupportedRuleError(
                "a placeholder here is not assigned by the event variable it is tested with",
                pred,
            )
        for plan in targets:
            plan.filters.append(pred)

    @staticmethod
    def _check_joins(rule: n.Rule, plans: dict[str, _VarPlan], match_vars: tuple[str, ...]) -> None:
        if rule.match is None:
            if len(plans) > 1:
                raise UnsupportedRuleError("several event variables need a `match:` section", rule)
            return
        for plan in plans.values():
            missing = [m for m in match_vars if m not in plan.bound()]
            if missing:
                raise UnsupportedRuleError(
                    f"event variable `${plan.name}` does not assign match variable `${missing[0]}`",
                    rule.match,
                )
        shared = Counter(ph for plan in plans.values() for ph in plan.bound())
        for ph, count in shared.items():
            if count > 1 and ph not in match_vars:
                raise UnsupportedRuleError(
                    f"placeholder `${ph}` joins event variables but is not a match variable",
                    rule.match,
                )

    # -- running --------------------------------------------------------------------------------
    def candidates(self, events: Sequence[_Event]) -> list[tuple[str, _Event, dict[str, str]]]:
        """(variable, event, placeholder values) for every event that passes a variable's tests."""
        out = []
        for plan in self.plans.values():
            for event in events:
                env: dict[str, str] = {}
                ctx = _Context(event.fields, env, self.lists)
                for ph, value in plan.bindings:
                    env[ph] = _as_text(_eval(value, ctx))
                if all(_truthy(_eval(f, ctx)) for f in plan.filters):
                    out.append((plan.name, event, env))
        return out

    def run(self, events: Sequence[_Event]) -> list[Detection]:
        cond = self.rule.condition
        assert cond is not None
        found = self.candidates(events)
        if self.rule.match is None:
            detections = []
            for var, event, env in sorted(found, key=lambda c: c[1].index):
                counts = _Counts(
                    Counter({var: 1}), {ph: Counter([v]) for ph, v in env.items() if v}
                )
                if _condition(cond, counts):
                    detections.append(self.detection((), [(var, event)]))
            return detections
        groups: dict[tuple[str, ...], list[tuple[str, _Event, dict[str, str]]]] = {}
        for var, event, env in found:
            key = tuple(env[m] for m in self.match_vars)
            if "" in key and not self.allow_zero:
                continue
            groups.setdefault(key, []).append((var, event, env))
        detections = []
        for key in sorted(groups):
            members = sorted(groups[key], key=lambda c: (c[1].seconds, c[1].index, c[0]))
            taking_part = self.fire(members)
            if taking_part:
                detections.append(self.detection(key, taking_part))
        return detections

    def fire(self, members: list[tuple[str, _Event, dict[str, str]]]) -> list[tuple[str, _Event]]:
        """Members lying in at least one window where the condition holds."""
        match, cond = self.rule.match, self.rule.condition
        assert match is not None and cond is not None
        times = [m[1].seconds for m in members]
        span = float(match.window.seconds)
        windows: list[tuple[float, float]]
        if match.kind == "by":
            starts = {t - (t % span) for t in times}
            windows = [(s, s + span - 1e-6) for s in starts]  # [kD, (k+1)D)
        elif match.anchor is not None and match.pivot is not None:
            pivots = [m[1].seconds for m in members if m[0] == match.pivot.name]
            windows = [(t, t + span) if match.anchor == "after" else (t - span, t) for t in pivots]
        else:
            edges = sorted({*times, *(t - span for t in times)})
            gaps = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
            windows = [(s, s + span) for s in {*edges, *gaps}]
        # All windows have the same length, so sorted by start both edges only move forward.
        counts = _Counts()
        marks = [0] * (len(members) + 1)
        lo = hi = 0
        for lo_t, hi_t in sorted(windows):
            while hi < len(members) and times[hi] <= hi_t:
                counts.add(members[hi][0], members[hi][2], 1)
                hi += 1
            while lo < hi and times[lo] < lo_t:
                counts.add(members[lo][0], members[lo][2], -1)
                lo += 1
            if lo < hi and _condition(cond, counts):
                marks[lo] += 1
                marks[hi] -= 1
        out, running = [], 0
        for member, mark in zip(members, marks, strict=False):
            running += mark
            if running > 0:
                out.append((member[0], member[1]))
        return out

    def detection(self, key: tuple[str, ...], members: list[tuple[str, _Event]]) -> Detection:
        per_var = {
            name: tuple(sorted({e.index for v, e in members if v == name})) for name in self.plans
        }
        stamps = [e.time for _, e in members if e.time is not None]
        return Detection(
            rule=self.rule.name,
            match=tuple(zip(self.match_vars, key, strict=True)),
            record_indices=tuple(sorted({e.index for _, e in members})),
            events=tuple((name, idx) for name, idx in per_var.items() if idx),
            first_seen=min(stamps) if stamps else None,
            last_seen=max(stamps) if stamps else None,
        )


def _as_binding(pred: n.Expr) -> tuple[str, str, n.Expr] | None:
    """`$ph = <expression of one event variable>` (either way round) -> (var, ph, expr)."""
    if not isinstance(pred, n.Compare) or pred.op != "=" or pred.nocase:
        return None
    for side, other in ((pred.left, pred.right), (pred.right, pred.left)):
        if isinstance(side, n.VarRef) and not isinstance(other, n.VarRef):
            vars_ = _event_vars(other)
            if len(vars_) == 1 and not _placeholders(other):
                return vars_.pop(), side.name, other
    return None


def _check_supported(rule: n.Rule, lists: Mapping[str, Sequence[str]]) -> None:
    for node in (x for expr in rule.events for x in n.walk(expr)):
        if isinstance(node, n.Call) and node.name not in FUNCTIONS:
            raise UnsupportedRuleError(f"function `{node.name}` is not supported", node)
        if isinstance(node, n.InList) and node.list.name not in lists:
            raise UnsupportedRuleError(
                f"reference list `%{node.list.name}` was not given (reference_lists=...)", node
            )
        if isinstance(node, (n.CountRef, n.ListLit)):
            raise UnsupportedRuleError(f"{type(node).__name__} is not supported in events", node)
    cond = rule.condition
    if cond is None:
        return
    outcomes = {a.var for a in rule.outcome}
    for node in n.walk(cond):
        if isinstance(node, (n.VarRef, n.CountRef)) and node.name in outcomes:
            raise UnsupportedRuleError(
                f"conditions on outcome variables (`${node.name}`) are not supported", node
            )
        ok = isinstance(node, (n.VarRef, n.CountRef, n.Not, n.And, n.Or, n.NumberLit))
        if isinstance(node, n.Compare):
            ok = isinstance(node.left, n.CountRef) and isinstance(node.right, n.NumberLit)
        if not ok:
            raise UnsupportedRuleError("unsupported condition", node)
