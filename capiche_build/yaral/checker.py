"""`check_yaral`: syntax plus the semantic rules Google's compiler enforces (as documented).

What is checked, beyond the parser's syntax errors:
- variables: every event variable, placeholder and outcome variable used is defined; placeholders
  are bound to an event field; match variables are placeholders; names are not keywords;
- the condition: uses every event variable, no match variables, no `or` between different event
  variables, `!$e` only with a match window and at least one event that must exist;
- joins: all event variables are connected through equalities or shared placeholders;
- multi-event rules have a `match:` section; windows lie between 1m and 48h;
- outcome: aggregated in rules with `match:`, defined before use, at most 20 variables;
- UDM: field paths exist in the bundled schema, enum values are valid, literals fit field types;
- regular expressions use RE2 syntax (no lookaround or backreferences);
- reference-list limits, options, duplicate rule names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from capiche_build.diagnostics import Diagnostic, Severity
from capiche_build.yaral import nodes as n
from capiche_build.yaral.parser import KEYWORDS, parse_lenient
from capiche_build.yaral.udm_schema import UdmSchema, load_udm_schema

ENGINE = "yara-l"
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 48 * 3600
MAX_OUTCOMES = 20
LIST_LIMITS = {None: 7, "regex": 4, "cidr": 2}  # `in` statements per rule (None = all of them)
AGGREGATES = frozenset(
    {
        "max", "min", "sum", "count", "count_distinct", "array", "array_distinct", "earliest",
        "latest", "period_start_for_max", "period_start_for_min",
    }
)  # fmt: skip
REGEX_FUNCTIONS = frozenset({"re.regex", "re.capture", "re.replace"})
NUMERIC_TYPES = frozenset({"int", "float"})
OPTIONS = {"allow_zero_values": "bool", "suppression_window": "duration"}


def check_yaral(text: str, origin: str = "") -> list[Diagnostic]:
    """Every problem found in `text` (one or more rules), sorted by position."""
    rule_file, errors = parse_lenient(text)
    diags = [e.diagnostic(origin) for e in errors]
    schema = load_udm_schema()
    first_seen: dict[str, n.Rule] = {}
    for rule in rule_file.rules:
        if rule.name in first_seen:
            diags.append(
                _diag(
                    origin,
                    rule,
                    f"duplicate rule name `{rule.name}` (first defined at line "
                    f"{first_seen[rule.name].line})",
                    "rule names must be unique within a file",
                )
            )
        else:
            first_seen[rule.name] = rule
        diags.extend(RuleChecker(rule, schema, origin).run())
    unique = dict.fromkeys(diags)  # the same problem can be reached twice; keep the first
    return sorted(unique, key=lambda d: (d.line or 0, d.column or 0, d.message))


def _diag(
    origin: str, node: n.Node, message: str, hint: str = "", severity: Severity = "error"
) -> Diagnostic:
    return Diagnostic(
        file=origin,
        line=node.line,
        column=node.column,
        message=message,
        engine=ENGINE,
        severity=severity,
        hint=hint,
    )


def _walk_all(exprs: Iterable[n.Node]) -> Iterator[n.Node]:
    for expr in exprs:
        yield from n.walk(expr)


@dataclass
class _Scope:
    """Names the events section defines, each with the node where it first appears."""

    events: dict[str, n.Node] = field(default_factory=dict)
    placeholders: dict[str, n.Node] = field(default_factory=dict)
    outcomes: dict[str, n.OutcomeAssign] = field(default_factory=dict)
    bound_by: dict[str, set[str]] = field(default_factory=dict)  # placeholder -> event vars


class RuleChecker:
    def __init__(self, rule: n.Rule, schema: UdmSchema, origin: str):
        self.rule = rule
        self.schema = schema
        self.origin = origin
        self.diags: list[Diagnostic] = []
        self.scope = _Scope()
        self.match_vars = {v.name for v in rule.match.variables} if rule.match else set()

    def report(
        self, node: n.Node, message: str, hint: str = "", severity: Severity = "error"
    ) -> None:
        self.diags.append(_diag(self.origin, node, message, hint, severity))

    def run(self) -> list[Diagnostic]:
        self.collect_events()
        self.check_variable_names()
        self.check_fields()
        self.check_events()
        self.check_joins()
        self.check_match()
        self.check_outcome()
        self.check_condition()
        self.check_options()
        return self.diags

    # -- scope ----------------------------------------------------------------------------------
    def collect_events(self) -> None:
        scope = self.scope
        for node in _walk_all(self.rule.events):
            if isinstance(node, n.FieldRef):
                scope.events.setdefault(node.var, node)
        for node in _walk_all(self.rule.events):
            if isinstance(node, n.VarRef):
                if node.name in scope.events:
                    self.report(
                        node,
                        f"`${node.name}` is an event variable; compare one of its fields",
                        f"for example `${node.name}.principal.user.userid`",
                    )
                else:
                    scope.placeholders.setdefault(node.name, node)
        self.bind_placeholders()
        for name, node in scope.placeholders.items():
            if name not in scope.bound_by:
                self.report(
                    node,
                    f"placeholder `${name}` is never assigned an event field",
                    f"assign it in `events:`, for example `${name} = $e.principal.user.userid`",
                )
        for assign in self.rule.outcome:
            if assign.var in scope.outcomes:
                self.report(assign, f"outcome variable `${assign.var}` is assigned twice")
            elif assign.var in scope.events or assign.var in scope.placeholders:
                self.report(
                    assign,
                    f"`${assign.var}` is already a variable of `events:`",
                    "give the outcome variable another name",
                )
            else:
                scope.outcomes[assign.var] = assign

    def bind_placeholders(self) -> None:
        """A placeholder is bound when `=` ties it to an event field or a bound placeholder."""
        equalities = [
            node
            for node in _walk_all(self.rule.events)
            if isinstance(node, n.Compare) and node.op == "="
        ]
        changed = True
        while changed:
            changed = False
            for cmp in equalities:
                for side, other in ((cmp.left, cmp.right), (cmp.right, cmp.left)):
                    if not isinstance(side, n.VarRef) or side.name in self.scope.events:
                        continue
                    sources = self.event_sources(other)
                    if sources and not sources <= self.scope.bound_by.get(side.name, set()):
                        self.scope.bound_by.setdefault(side.name, set()).update(sources)
                        changed = True

    def event_sources(self, expr: n.Node) -> set[str]:
        """Event variables an expression reads, directly or through bound placeholders."""
        out: set[str] = set()
        for node in n.walk(expr):
            if isinstance(node, n.FieldRef):
                out.add(node.var)
            elif isinstance(node, n.VarRef):
                out |= self.scope.bound_by.get(node.name, set())
        return out

    def check_variable_names(self) -> None:
        seen: set[str] = set()
        names = [*self.scope.events.items(), *self.scope.placeholders.items()]
        names += list(self.scope.outcomes.items())
        for name, node in names:
            if name.lower() in KEYWORDS and name not in seen:
                seen.add(name)
                self.report(node, f"`${name}` is a keyword and cannot name a variable")

    # -- UDM fields -----------------------------------------------------------------------------
    def check_fields(self) -> None:
        sections = [*self.rule.events, *(a.expr for a in self.rule.outcome)]
        for node in _walk_all(sections):
            if not isinstance(node, n.FieldRef):
                continue
            if node.var not in self.scope.events:
                self.report(
                    node,
                    f"event variable `${node.var}` is not defined in `events:`",
                    "an event variable is defined by using its fields in `events:`",
                )
                continue
            res = self.schema.resolve(node.path)
            if res.error:
                hint = f"did you mean `{res.suggestion}`?" if res.suggestion else ""
                self.report(
                    node,
                    f"`${node.var}.{node.dotted}` is not a UDM field: {res.error}",
                    hint or 'see the UDM field list; map fields are written `labels["key"]`',
                )

    def field_type(self, expr: n.Node) -> str | None:
        if not isinstance(expr, n.FieldRef) or expr.var not in self.scope.events:
            return None
        return self.schema.resolve(expr.path).type

    # -- events ---------------------------------------------------------------------------------
    def check_events(self) -> None:
        if not self.rule.events and self.rule.section("events"):
            self.report(self.rule.section("events"), "`events:` is empty")  # type: ignore[arg-type]
        lists: dict[str | None, int] = {None: 0, "regex": 0, "cidr": 0}
        for node in _walk_all(self.rule.events):
            if isinstance(node, n.Compare):
                self.check_comparison(node)
            elif isinstance(node, n.InList):
                lists[None] += 1
                if node.mode:
                    lists[node.mode] += 1
                if node.mode == "cidr" and node.nocase:
                    self.report(node, "`nocase` does not apply to `in cidr` lists")
            elif isinstance(node, n.Call):
                if node.name in AGGREGATES or node.name.startswith("window."):
                    self.report(
                        node,
                        f"`{node.name}()` aggregates and can only be used in `outcome:`",
                    )
                self.check_regex_call(node)
            elif isinstance(node, n.RegexLit):
                self.check_regex(node, node.pattern)
            elif isinstance(node, n.CountRef):
                self.report(node, f"`#{node.name}` can only be used in `condition:`")
        first = self.rule.events[0] if self.rule.events else self.rule
        for mode, limit in LIST_LIMITS.items():
            if lists[mode] > limit:
                kind = f"`in {mode}`" if mode else "`in`"
                self.report(
                    first,
                    f"{lists[mode]} {kind} reference-list statements; Google allows {limit}",
                )

    def check_comparison(self, cmp: n.Compare) -> None:
        literals = (n.StringLit, n.NumberLit, n.BoolLit, n.RegexLit)
        if isinstance(cmp.left, literals) and isinstance(cmp.right, literals):
            self.report(cmp, "a comparison needs a field, variable or function on one side")
            return
        for side, other in ((cmp.left, cmp.right), (cmp.right, cmp.left)):
            ftype = self.field_type(side)
            if ftype is None:
                continue
            path = f"${side.var}.{side.dotted}"  # type: ignore[union-attr]
            enum = ftype[len("enum:") :] if ftype.startswith("enum:") else None
            if enum and cmp.nocase:
                self.report(cmp, f"`nocase` cannot be used with the enum field `{path}`")
            if enum and isinstance(other, n.StringLit) and cmp.op in ("=", "!="):
                values = self.schema.enums.get(enum, ())
                if values and other.value not in values:
                    close = difflib.get_close_matches(other.value, values, n=1)
                    self.report(
                        other,
                        f'"{other.value}" is not a value of `{path}` ({enum})',
                        f'did you mean "{close[0]}"?' if close else "see the UDM enum list",
                    )
            if ftype in NUMERIC_TYPES and isinstance(other, (n.StringLit, n.RegexLit)):
                self.report(other, f"`{path}` is a number; compare it with a number")
            elif ftype in ("string", "bytes") and isinstance(other, n.NumberLit):
                self.report(other, f'`{path}` is a string; quote the value: "{other.value}"')
            elif ftype in self.schema.types and isinstance(other, literals):
                self.report(
                    side,
                    f"`{path}` is a message ({ftype}), not a value",
                    "compare one of its fields",
                )

    def check_regex_call(self, call: n.Call) -> None:
        if call.name in REGEX_FUNCTIONS and len(call.args) >= 2:
            pattern = call.args[1]
            if isinstance(pattern, n.StringLit):
                self.check_regex(pattern, pattern.value)

    def check_regex(self, node: n.Node, pattern: str) -> None:
        construct = _re2_unsupported(pattern)
        if construct:
            self.report(
                node,
                f"regular expression /{pattern}/ uses {construct}",
                "YARA-L uses RE2, which has no lookaround and no backreferences",
            )
            return
        try:
            re.compile(pattern)
        except re.error as exc:
            self.report(
                node,
                f"regular expression /{pattern}/ does not compile: {exc}",
                "check it against RE2 syntax",
                severity="warning",
            )

    def check_joins(self) -> None:
        """Every event variable must be joined to every other (Google: "not joined")."""
        names = list(self.scope.events)
        if len(names) < 2:
            return
        parent = {name: name for name in [*names, *self.scope.placeholders]}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for node in _walk_all(self.rule.events):
            if not isinstance(node, n.Compare) or node.op != "=":
                continue
            sides = [self.join_nodes(node.left), self.join_nodes(node.right)]
            if not sides[0] or not sides[1]:
                continue
            members = [*sides[0], *sides[1]]
            for other in members[1:]:
                parent[find(other)] = find(members[0])
        root = find(names[0])
        for name in names[1:]:
            if find(name) != root:
                self.report(
                    self.scope.events[name],
                    f"event variable `${name}` is not joined with `${names[0]}`",
                    f"join them through a placeholder, for example `${names[0]}.principal.user."
                    f"userid = $user` and `${name}.principal.user.userid = $user`",
                )

    def join_nodes(self, expr: n.Node) -> list[str]:
        if any(isinstance(node, n.Arith) for node in n.walk(expr)):
            return []  # Google: arithmetic never joins
        out: list[str] = []
        for node in n.walk(expr):
            if isinstance(node, n.FieldRef) and node.var in self.scope.events:
                out.append(node.var)
            elif isinstance(node, n.VarRef) and node.name in self.scope.placeholders:
                out.append(node.name)
        return out

    # -- match ----------------------------------------------------------------------------------
    def check_match(self) -> None:
        match = self.rule.match
        if match is None:
            if len(self.scope.events) > 1:
                names = ", ".join(f"`${v}`" for v in self.scope.events)
                self.report(
                    self.rule,
                    f"rule `{self.rule.name}` uses several event variables ({names}) but has "
                    "no `match:` section",
                    "group the events by a shared placeholder, for example `$user over 1h`",
                )
            return
        seen: set[str] = set()
        for var in match.variables:
            if var.name in seen:
                self.report(var, f"`${var.name}` is listed twice in `match:`")
            seen.add(var.name)
            if var.name in self.scope.events:
                self.report(
                    var,
                    f"`${var.name}` is an event variable; match variables must be placeholders",
                    f"assign a field in `events:`, for example `$user = ${var.name}.principal."
                    "user.userid`, and match on `$user`",
                )
            elif var.name not in self.scope.placeholders:
                self.report(
                    var,
                    f"match variable `${var.name}` is not defined in `events:`",
                    f"assign it in `events:`, for example `$e.principal.user.userid = ${var.name}`",
                )
        seconds = match.window.seconds
        if seconds < MIN_WINDOW_SECONDS or seconds > MAX_WINDOW_SECONDS:
            self.report(
                match.window,
                f"match window `{match.window}` is outside the allowed range",
                "windows run from 1m to 48h",
            )
        if match.pivot is not None and match.pivot.name not in self.scope.events:
            self.report(
                match.pivot,
                f"`{match.anchor} ${match.pivot.name}` must name an event variable of `events:`",
            )

    # -- outcome --------------------------------------------------------------------------------
    def check_outcome(self) -> None:
        if len(self.rule.outcome) > MAX_OUTCOMES:
            self.report(
                self.rule.outcome[MAX_OUTCOMES],
                f"{len(self.rule.outcome)} outcome variables; Google allows {MAX_OUTCOMES}",
            )
        defined: set[str] = set()
        for assign in self.rule.outcome:
            for node in n.walk(assign.expr):
                if isinstance(node, n.VarRef):
                    self.check_outcome_reference(node, defined)
                elif isinstance(node, n.CountRef):
                    self.report(node, f"`#{node.name}` can only be used in `condition:`")
                elif isinstance(node, n.RegexLit):
                    self.check_regex(node, node.pattern)
                elif isinstance(node, n.Call):
                    self.check_regex_call(node)
                    if _is_aggregate(node):
                        self.check_no_reaggregation(node)
            if self.rule.match is not None:
                self.check_aggregated(assign)
            defined.add(assign.var)

    def check_outcome_reference(self, ref: n.VarRef, defined: set[str]) -> None:
        name = ref.name
        if name in self.scope.placeholders or name in defined:
            return
        if name in self.scope.events:
            self.report(ref, f"`${name}` is an event variable; use one of its fields")
        elif name in self.scope.outcomes:
            self.report(
                ref,
                f"outcome variable `${name}` is used before it is defined",
                "define outcome variables before referring to them",
            )
        else:
            self.report(
                ref,
                f"`${name}` is not defined",
                "outcome expressions may use placeholders from `events:` and earlier outcomes",
            )

    def check_no_reaggregation(self, call: n.Call) -> None:
        for node in n.walk(call):
            if isinstance(node, n.VarRef) and node.name in self.scope.outcomes:
                self.report(
                    node,
                    f"outcome variable `${node.name}` is already aggregated",
                    f"use `${node.name}` directly instead of inside `{call.name}()`",
                )

    def check_aggregated(self, assign: n.OutcomeAssign) -> None:
        """With `match:`, event fields and placeholders only exist per group: aggregate them."""
        for bare in self.unaggregated(assign.expr):
            if isinstance(bare, n.FieldRef):
                what = f"`${bare.var}.{bare.dotted}`"
            else:
                what = f"`${bare.name}`"
            self.report(
                bare,
                f"{what} must be aggregated in a rule with `match:`",
                "wrap it in an aggregation such as `array_distinct(...)`, `max(...)` or "
                "`count_distinct(...)`",
            )

    def unaggregated(self, root: n.Node) -> Iterator[n.FieldRef | n.VarRef]:
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, n.Call) and _is_aggregate(node):
                continue
            if isinstance(node, n.FieldRef) or (
                isinstance(node, n.VarRef)
                and node.name in self.scope.placeholders
                and node.name not in self.match_vars
            ):
                yield node
            stack.extend(reversed(list(n.children(node))))

    # -- condition ------------------------------------------------------------------------------
    def check_condition(self) -> None:
        cond = self.rule.condition
        if cond is None:
            return
        scope = self.scope
        used: set[str] = set()
        for node in n.walk(cond):
            if isinstance(node, (n.VarRef, n.CountRef)):
                sigil = "$" if isinstance(node, n.VarRef) else "#"
                name = node.name
                used.add(name)
                if name in self.match_vars and name in scope.placeholders:
                    self.report(
                        node,
                        f"match variable `${name}` cannot be used in `condition:`",
                        "events are already grouped by it; test an event variable instead",
                    )
                elif (
                    name not in scope.events
                    and name not in scope.placeholders
                    and (name not in scope.outcomes)
                ):
                    self.report(
                        node,
                        f"`{sigil}{name}` is not defined",
                        "the condition uses event variables and placeholders from `events:` "
                        "and outcome variables from `outcome:`",
                    )
            elif isinstance(node, n.FieldRef):
                self.report(
                    node,
                    "event fields cannot be used in `condition:`",
                    "compare the field in `events:`, or compute an outcome variable",
                )
            elif isinstance(node, n.Not):
                self.check_negation(node)
            elif isinstance(node, n.Or):
                self.check_condition_or(node)
        self.check_all_events_used(cond, used)
        self.check_existence(cond)

    def is_event_term(self, name: str) -> bool:
        return name in self.scope.events or name in self.scope.placeholders

    def check_negation(self, node: n.Not) -> None:
        names = [
            x.name
            for x in n.walk(node.operand)
            if isinstance(x, (n.VarRef, n.CountRef)) and self.is_event_term(x.name)
        ]
        if node.bang:
            if not isinstance(node.operand, n.VarRef):
                self.report(node, "`!` applies to an event variable, as in `!$e`")
        elif names:
            self.report(
                node,
                "`not` cannot negate event or placeholder conditions",
                f"write `!${names[0]}` for an event that must not occur",
            )

    def check_condition_or(self, node: n.Or) -> None:
        involved = {
            x.name
            for x in n.walk(node)
            if isinstance(x, (n.VarRef, n.CountRef)) and self.is_event_term(x.name)
        }
        if len(self.scope.events) > 1 and involved:
            self.report(
                node,
                "`or` between event conditions is only allowed when the rule has a single "
                "event variable",
                "put both alternatives in one event variable (an or-group in `events:`), or "
                "write one rule per alternative",
            )
        elif any(self.bounded(x) is False for x in _condition_atoms(node)):
            self.report(node, "`or` cannot combine conditions that allow an event to be absent")

    def check_all_events_used(self, cond: n.Expr, used: set[str]) -> None:
        covered = set(used) & set(self.scope.events)
        for name in used:
            covered |= self.scope.bound_by.get(name, set())
        for name in self.scope.events:
            if name not in covered:
                self.report(
                    cond,
                    f"event variable `${name}` is not used in `condition:`",
                    f"add `${name}` (must exist) or `!${name}` (must not exist)",
                )

    def bounded(self, atom: n.Node) -> bool | None:
        """True if the atom forces its event to exist, False if it allows absence, else None."""
        if isinstance(atom, n.VarRef) and self.is_event_term(atom.name):
            return True
        if isinstance(atom, n.Not) and atom.bang and isinstance(atom.operand, n.VarRef):
            return False if self.is_event_term(atom.operand.name) else None
        if (
            isinstance(atom, n.Compare)
            and isinstance(atom.left, n.CountRef)
            and self.is_event_term(atom.left.name)
            and isinstance(atom.right, n.NumberLit)
        ):
            k = atom.right.value
            return (
                (atom.op == ">" and k >= 0)
                or (atom.op == ">=" and k > 0)
                or (atom.op == "=" and k > 0)
            )
        return None

    def check_existence(self, cond: n.Expr) -> None:
        atoms = list(_condition_atoms(cond))
        kinds = [self.bounded(a) for a in atoms]
        if False in kinds and self.rule.match is None:
            self.report(
                cond,
                "a condition that lets an event be absent (`!$e`, `#e = 0`) needs a `match:` "
                "window",
                "add `match:` with the placeholder the events share, for example `$user over 1h`",
            )
        if any(k is not None for k in kinds) and True not in kinds:
            self.report(
                cond,
                "at least one event variable must be required to exist",
                "for example `$a and !$b`",
            )
        match = self.rule.match
        if match is not None and match.pivot is not None:
            pivot = match.pivot.name
            names = {_atom_name(a) for a, k in zip(atoms, kinds, strict=True) if k is True}
            if pivot in self.scope.events and pivot not in names:
                self.report(
                    match.pivot,
                    f"the sliding-window pivot `${pivot}` must be required to exist in the "
                    "condition",
                )

    # -- options --------------------------------------------------------------------------------
    def check_options(self) -> None:
        for entry in self.rule.options:
            kind = OPTIONS.get(entry.key)
            if kind is None:
                self.report(
                    entry,
                    f"unknown option `{entry.key}`",
                    "options are " + ", ".join(f"`{k}`" for k in OPTIONS),
                )
            elif kind == "bool" and not isinstance(entry.value, n.BoolLit):
                self.report(entry, f"`{entry.key}` takes `true` or `false`")
            elif kind == "duration" and not isinstance(entry.value, n.Duration):
                self.report(entry, f"`{entry.key}` takes a duration such as `5m`")
            elif entry.key == "suppression_window" and self.rule.match is not None:
                self.report(entry, "`suppression_window` only works in rules without `match:`")


def _re2_unsupported(pattern: str) -> str | None:
    """Name the first construct RE2 rejects but Python accepts (lookaround, backreference)."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if not in_class and pattern[i + 1 : i + 2] in set("123456789"):
                return f"the backreference `{pattern[i : i + 2]}`"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # `[]...]`: a literal `]` first
                i += 1
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            return "lookaround"
        i += 1
    return None


def _is_aggregate(call: n.Call) -> bool:
    return call.name in AGGREGATES or call.name.startswith("window.")


def _condition_atoms(expr: n.Node) -> Iterator[n.Node]:
    """The leaves of and/or in a condition (`$e`, `!$e`, `#e > 1`, `$risk > 3`)."""
    if isinstance(expr, (n.And, n.Or)):
        for operand in expr.operands:
            yield from _condition_atoms(operand)
    else:
        yield expr


def _atom_name(atom: n.Node) -> str | None:
    if isinstance(atom, n.VarRef):
        return atom.name
    if isinstance(atom, n.Compare) and isinstance(atom.left, n.CountRef):
        return atom.left.name
    return None
