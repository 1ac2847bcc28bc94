"""A recursive-descent parser for YARA-L 2.0 rules.

Grammar, loosest binding first (keywords are case-insensitive, newlines are plain spaces):

    file      := rule*
    rule      := "rule" NAME "{" section* "}"
    section   := NAME ":" body            -- meta, events, match, outcome, condition, options
    expr      := and ("or" and)*
    and       := not ("and" not)*
    not       := ("not" | "!") not | compare
    compare   := arith [ (= | != | < | <= | > | >=) arith ["nocase"]
                       | "in" ["regex" | "cidr"] %list ["nocase"] | "nocase" ]
    arith     := term (("+" | "-") term)*
    term      := primary (("*" | "/" | "%") primary)*
    primary   := literal | [any|all] $var path | #var | %list | "(" expr ")" | "[" list "]"
                 | name ("." name)* "(" args ")"

The events section is a sequence of such expressions joined by an implicit `and`; because `or`
is consumed greedily, `a or b c` reads as `(a or b) and c`, which is what Google documents.
"""

from __future__ import annotations

from collections.abc import Callable

from capiche_build.yaral import nodes as n
from capiche_build.yaral.lexer import Token, YaralSyntaxError, tokenize

SECTION_ORDER = ("meta", "events", "match", "outcome", "condition", "options")
REQUIRED_SECTIONS = ("meta", "events", "condition")
# Common misspellings: reported, then parsed as the section they meant.
MISSPELLED_SECTIONS = {
    "conditions": "condition",
    "metadata": "meta",
    "event": "events",
    "matches": "match",
    "outcomes": "outcome",
    "option": "options",
}
COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")
MAX_NESTING = 64  # parentheses, calls and `not`s; keeps recursion far from Python's limit
KEYWORDS = frozenset(
    {
        "rule", "meta", "match", "over", "events", "condition", "outcome", "options", "and",
        "or", "not", "nocase", "in", "regex", "cidr", "before", "after", "all", "any", "if",
        "max", "min", "sum", "array", "array_distinct", "count", "count_distinct", "is", "null",
    }
)  # fmt: skip


def _describe(tok: Token) -> str:
    if tok.kind == "EOF":
        return "the end of the file"
    return f"`{tok.text}`"


class Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0
        self.errors: list[YaralSyntaxError] = []  # problems that do not stop parsing
        self.depth = 0

    # -- token helpers --------------------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def at_word(self, *words: str, offset: int = 0) -> bool:
        return self.peek(offset).word in words

    def accept_word(self, *words: str) -> Token | None:
        return self.advance() if self.at_word(*words) else None

    def expect(self, kind: str, what: str, hint: str = "") -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.error(f"expected {what}, found {_describe(tok)}", tok, hint)
        return self.advance()

    def error(self, message: str, tok: Token | n.Node, hint: str = "") -> YaralSyntaxError:
        return YaralSyntaxError(message, tok.line, tok.column, hint)

    def at_section_end(self) -> bool:
        tok = self.peek()
        return tok.kind in ("}", "EOF") or (tok.kind == "IDENT" and self.peek(1).kind == ":")

    # -- file and rule --------------------------------------------------------------------------
    def parse_file(self) -> n.RuleFile:
        rules: list[n.Rule] = []
        while self.peek().kind != "EOF":
            start = self.i
            try:
                if not self.at_word("rule"):
                    tok = self.peek()
                    raise self.error(
                        f"expected `rule`, found {_describe(tok)}",
                        tok,
                        "a file holds rules written `rule name { ... }`",
                    )
                rules.append(self.parse_rule())
            except YaralSyntaxError as exc:
                self.errors.append(exc)
                self.recover(start)
        return n.RuleFile(tuple(rules))

    def recover(self, start: int) -> None:
        """Skip to the next `rule NAME {` so one broken rule does not hide the others."""
        self.i = max(self.i, start + 1)
        self.depth = 0
        while self.peek().kind != "EOF":
            if self.at_word("rule") and self.peek(1).kind == "IDENT" and self.peek(2).kind == "{":
                return
            self.advance()

    def parse_rule(self) -> n.Rule:
        head = self.advance()
        name_tok = self.expect("IDENT", "a rule name after `rule`", "for example `rule my_rule {`")
        if name_tok.word in KEYWORDS:
            self.errors.append(self.error(f"`{name_tok.text}` is a keyword", name_tok))
        brace = self.expect("{", f"`{{` after `rule {name_tok.text}`")
        parts: dict[str, object] = {}
        headers: list[n.SectionHeader] = []
        while True:
            tok = self.peek()
            if tok.kind == "}":
                end = self.advance()
                break
            if tok.kind == "EOF":
                raise self.error(
                    f"unclosed `{{` of rule `{name_tok.text}`", brace, "end the rule with `}`"
                )
            if tok.kind != "IDENT" or self.peek(1).kind != ":":
                raise self.error(
                    f"expected a section such as `events:`, found {_describe(tok)}",
                    tok,
                    "sections are " + ", ".join(f"`{s}:`" for s in SECTION_ORDER),
                )
            section = self.section_header(headers)
            if section in parts:
                # Parse it anyway so later sections still get checked; the first one wins.
                self.parse_section(section)
            else:
                parts[section] = self.parse_section(section)
        rule = n.Rule(
            line=head.line,
            column=head.column,
            name=name_tok.text,
            meta=parts.get("meta", ()),  # type: ignore[arg-type]
            events=parts.get("events", ()),  # type: ignore[arg-type]
            match=parts.get("match"),  # type: ignore[arg-type]
            outcome=parts.get("outcome", ()),  # type: ignore[arg-type]
            condition=parts.get("condition"),  # type: ignore[arg-type]
            options=parts.get("options", ()),  # type: ignore[arg-type]
            sections=tuple(headers),
            end_line=end.line,
        )
        for required in REQUIRED_SECTIONS:
            if required not in parts:
                self.errors.append(
                    YaralSyntaxError(
                        f"rule `{rule.name}` has no `{required}:` section",
                        head.line,
                        head.column,
                        f"every rule needs {', '.join(f'`{s}:`' for s in REQUIRED_SECTIONS)}"
                        " (for example `condition: $e`)",
                    )
                )
        return rule

    def section_header(self, headers: list[n.SectionHeader]) -> str:
        tok = self.advance()
        self.advance()  # the colon
        name = tok.word
        if name in MISSPELLED_SECTIONS:
            right = MISSPELLED_SECTIONS[name]
            self.errors.append(
                self.error(f"unknown section `{tok.text}:`", tok, f"the section is `{right}:`")
            )
            name = right
        elif name not in SECTION_ORDER:
            raise self.error(
                f"unknown section `{tok.text}:`",
                tok,
                "sections are " + ", ".join(f"`{s}:`" for s in SECTION_ORDER),
            )
        rank = SECTION_ORDER.index(name)
        for seen in headers:
            if seen.name == name:
                self.errors.append(
                    self.error(f"duplicate `{name}:` section (first at line {seen.line})", tok)
                )
                break
            if SECTION_ORDER.index(seen.name) > rank:
                self.errors.append(
                    self.error(
                        f"`{name}:` must come before `{seen.name}:`",
                        tok,
                        "sections go in the order " + ", ".join(SECTION_ORDER),
                    )
                )
                break
        headers.append(n.SectionHeader(line=tok.line, column=tok.column, name=name))
        return name

    def parse_section(self, name: str) -> object:
        parse: dict[str, Callable[[], object]] = {
            "meta": self.parse_meta,
            "events": self.parse_events,
            "match": self.parse_match,
            "outcome": self.parse_outcome,
            "condition": self.parse_condition,
            "options": self.parse_options,
        }
        return parse[name]()

    # -- sections -------------------------------------------------------------------------------
    def parse_meta(self) -> tuple[n.MetaEntry, ...]:
        entries: list[n.MetaEntry] = []
        while not self.at_section_end():
            key = self.expect("IDENT", "a meta key", 'meta lines are `key = "value"`')
            self.expect("=", f"`=` after meta key `{key.text}`", 'meta lines are `key = "value"`')
            value = self.advance()
            if value.kind == "STRING":
                literal = n.StringLit(line=value.line, column=value.column, value=str(value.value))
            else:
                self.errors.append(
                    self.error(
                        f"meta value of `{key.text}` must be a double-quoted string, "
                        f"found {_describe(value)}",
                        value,
                        f'write `{key.text} = "{value.value if value.kind != "EOF" else ""}"`',
                    )
                )
                literal = n.StringLit(line=value.line, column=value.column, value=value.text)
            following = self.peek()
            same_line = following.line == value.end_line and following.kind not in ("}", "EOF")
            if value.kind == "STRING" and same_line:
                # `"a "quoted" word"` lexes as a string, a name and another string.
                self.errors.append(
                    YaralSyntaxError(
                        f'unescaped `"` inside the meta value of `{key.text}`',
                        value.end_line,
                        value.end_column - 1,
                        'escape a quote inside a string as `\\"`',
                    )
                )
                while self.peek().line == value.end_line and self.peek().kind not in ("}", "EOF"):
                    self.advance()
            entries.append(
                n.MetaEntry(line=key.line, column=key.column, key=key.text, value=literal)
            )
        return tuple(entries)

    def parse_events(self) -> tuple[n.Expr, ...]:
        predicates: list[n.Expr] = []
        while not self.at_section_end():
            predicates.append(self.parse_expr())
        return tuple(predicates)

    def parse_match(self) -> n.MatchSection:
        first = self.peek()
        variables = [self.match_variable()]
        while self.peek().kind == ",":
            self.advance()
            variables.append(self.match_variable())
        kind = self.accept_word("over", "by")
        if kind is None:
            raise self.error(
                f"expected `over` and a window after the match variables, found "
                f"{_describe(self.peek())}",
                self.peek(),
                "for example `$user over 1h`",
            )
        window = self.duration()
        anchor = pivot = None
        if (word := self.accept_word("before", "after")) is not None:
            anchor = word.word
            tok = self.expect("VAR", f"an event variable after `{anchor}`")
            pivot = n.VarRef(line=tok.line, column=tok.column, name=str(tok.value))
        if not self.at_section_end():
            raise self.error(f"unexpected {_describe(self.peek())} in `match:`", self.peek())
        return n.MatchSection(
            line=first.line,
            column=first.column,
            variables=tuple(variables),
            window=window,
            kind=kind.word,
            anchor=anchor,
            pivot=pivot,
        )

    def match_variable(self) -> n.VarRef:
        tok = self.expect(
            "VAR", "a match variable such as `$user`", "match variables are placeholders: `$name`"
        )
        return n.VarRef(line=tok.line, column=tok.column, name=str(tok.value))

    def duration(self) -> n.Duration:
        tok = self.peek()
        if tok.kind == "NUMBER":
            raise self.error(
                f"duration `{tok.text}` needs a unit", tok, "add s, m, h or d, for example `1h`"
            )
        tok = self.expect("DURATION", "a duration such as `1h`", "units are s, m, h and d")
        amount, unit = tok.value  # type: ignore[misc]
        return n.Duration(line=tok.line, column=tok.column, amount=amount, unit=unit)

    def parse_outcome(self) -> tuple[n.OutcomeAssign, ...]:
        assigns: list[n.OutcomeAssign] = []
        while not self.at_section_end():
            var = self.expect(
                "VAR",
                "an outcome variable such as `$risk_score`",
                "outcome lines are `$name = ...`",
            )
            self.expect("=", f"`=` after `${var.value}`")
            expr = self.parse_expr()
            assigns.append(
                n.OutcomeAssign(line=var.line, column=var.column, var=str(var.value), expr=expr)
            )
        return tuple(assigns)

    def parse_condition(self) -> n.Expr:
        if self.at_section_end():
            raise self.error("`condition:` is empty", self.peek(), "for example `condition: $e`")
        expr = self.parse_expr()
        if not self.at_section_end():
            tok = self.peek()
            if tok.kind == ",":
                raise self.error(
                    "commas cannot separate conditions", tok, "join conditions with `and`"
                )
            raise self.error(
                f"expected `and` or `or` in the condition, found {_describe(tok)}", tok
            )
        return expr

    def parse_options(self) -> tuple[n.OptionEntry, ...]:
        entries: list[n.OptionEntry] = []
        while not self.at_section_end():
            key = self.expect("IDENT", "an option name", "for example `allow_zero_values = true`")
            self.expect("=", f"`=` after option `{key.text}`")
            at_duration = self.peek().kind == "DURATION"
            value: n.Expr | n.Duration = self.duration() if at_duration else self.parse_primary()
            entries.append(
                n.OptionEntry(line=key.line, column=key.column, key=key.word, value=value)
            )
        return tuple(entries)

    # -- expressions ----------------------------------------------------------------------------
    def parse_expr(self) -> n.Expr:
        first = self.parse_and()
        operands = [first]
        while self.accept_word("or"):
            operands.append(self.parse_and())
        if len(operands) == 1:
            return first
        return n.Or(line=first.line, column=first.column, operands=tuple(operands))

    def parse_and(self) -> n.Expr:
        first = self.parse_not()
        operands = [first]
        while self.accept_word("and"):
            operands.append(self.parse_not())
        if len(operands) == 1:
            return first
        return n.And(line=first.line, column=first.column, operands=tuple(operands))

    def nested(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression nested more than {MAX_NESTING} levels deep", tok)

    def parse_not(self) -> n.Expr:
        tok = self.peek()
        if tok.word == "not" or tok.kind == "!":
            self.advance()
            self.nested(tok)
            operand = self.parse_not()
            self.depth -= 1
            return n.Not(line=tok.line, column=tok.column, operand=operand, bang=tok.kind == "!")
        return self.parse_compare()

    def parse_compare(self) -> n.Expr:
        left = self.parse_arith()
        tok = self.peek()
        if tok.kind in COMPARISON_OPS:
            self.advance()
            right = self.parse_arith()
            nocase = self.accept_word("nocase") is not None
            return n.Compare(
                line=left.line,
                column=left.column,
                op=tok.kind,
                left=left,
                right=right,
                nocase=nocase,
            )
        if tok.word == "in":
            self.advance()
            mode = self.accept_word("regex", "cidr")
            ref = self.expect(
                "LISTREF", "a reference list such as `%my_list` after `in`", "lists are `%name`"
            )
            nocase = self.accept_word("nocase") is not None
            return n.InList(
                line=left.line,
                column=left.column,
                value=left,
                list=n.ListRef(line=ref.line, column=ref.column, name=str(ref.value)),
                mode=mode.word if mode else None,
                nocase=nocase,
            )
        if tok.word == "nocase":
            if isinstance(left, n.Call):
                self.advance()
                return n.Call(
                    line=left.line, column=left.column, name=left.name, args=left.args, nocase=True
                )
            raise self.error(
                "`nocase` must follow a comparison", tok, 'for example `$e.x = "a" nocase`'
            )
        return left

    def parse_arith(self) -> n.Expr:
        left = self.parse_term()
        while self.peek().kind in ("+", "-"):
            op = self.advance().kind
            right = self.parse_term()
            left = n.Arith(line=left.line, column=left.column, op=op, left=left, right=right)
        return left

    def parse_term(self) -> n.Expr:
        left = self.parse_primary()
        while self.peek().kind in ("*", "/", "%"):
            op = self.advance().kind
            right = self.parse_primary()
            left = n.Arith(line=left.line, column=left.column, op=op, left=left, right=right)
        return left

    def parse_primary(self) -> n.Expr:
        tok = self.peek()
        pos = {"line": tok.line, "column": tok.column}
        if tok.kind == "NUMBER":
            self.advance()
            return n.NumberLit(**pos, value=tok.value)  # type: ignore[arg-type]
        if tok.kind in ("STRING", "RAWSTRING"):
            self.advance()
            return n.StringLit(**pos, value=str(tok.value), backtick=tok.kind == "RAWSTRING")
        if tok.kind == "REGEX":
            self.advance()
            return n.RegexLit(**pos, pattern=str(tok.value))
        if tok.kind == "VAR":
            return self.parse_variable(None)
        if tok.kind == "COUNT":
            self.advance()
            return n.CountRef(**pos, name=str(tok.value))
        if tok.kind == "LISTREF":
            self.advance()
            return n.ListRef(**pos, name=str(tok.value))
        if tok.kind == "(":
            self.advance()
            self.nested(tok)
            inner = self.parse_expr()
            self.close(")", tok)
            self.depth -= 1
            return inner
        if tok.kind == "[":
            self.advance()
            self.nested(tok)
            items = self.parse_list("]")
            self.close("]", tok)
            self.depth -= 1
            return n.ListLit(**pos, items=tuple(items))
        if tok.kind == "IDENT":
            if tok.word in ("any", "all") and self.peek(1).kind == "VAR":
                self.advance()
                return self.parse_variable(tok)
            if tok.word in ("true", "false"):
                self.advance()
                return n.BoolLit(**pos, value=tok.word == "true")
            return self.parse_call()
        if tok.kind == "DURATION":
            raise self.error(f"a duration (`{tok.text}`) cannot be used here", tok)
        raise self.error(f"expected an expression, found {_describe(tok)}", tok)

    def parse_list(self, closer: str) -> list[n.Expr]:
        items: list[n.Expr] = []
        if self.peek().kind != closer:
            items.append(self.parse_expr())
            while self.peek().kind == ",":
                self.advance()
                items.append(self.parse_expr())
        return items

    def close(self, kind: str, opener: Token) -> None:
        """Expect the bracket that closes `opener`, reporting the opener's position if absent."""
        tok = self.peek()
        if tok.kind == kind:
            self.advance()
            return
        raise YaralSyntaxError(
            f"unclosed `{opener.text}`: expected `{kind}` before {_describe(tok)}"
            + (f" at line {tok.line}" if tok.kind != "EOF" else ""),
            opener.line,
            opener.column,
            f"close the group with `{kind}`",
        )

    def parse_variable(self, quantifier: Token | None) -> n.Expr:
        tok = self.advance()
        start = quantifier or tok
        path: list[n.PathPart] = []
        while True:
            if self.peek().kind == "." and self.peek(1).kind == "IDENT":
                self.advance()
                path.append(self.advance().text)
            elif self.peek().kind == ".":
                raise self.error(
                    f"expected a field name after `.`, found {_describe(self.peek(1))}",
                    self.peek(1),
                )
            elif self.peek().kind == "[" and path:
                opener = self.advance()
                key = self.advance()
                if key.kind in ("STRING", "RAWSTRING"):
                    path.append(n.MapKey(str(key.value)))
                elif key.kind == "NUMBER" and isinstance(key.value, int):
                    path.append(n.Index(key.value))
                else:
                    raise self.error(
                        f"expected a string key or an index inside `[]`, found {_describe(key)}",
                        key,
                        'for example `$e.additional.fields["key"]` or `$e.principal.ip[0]`',
                    )
                self.close("]", opener)
            else:
                break
        name = str(tok.value)
        if not path:
            if quantifier is not None:
                raise self.error(f"`{quantifier.text}` must precede an event field", quantifier)
            return n.VarRef(line=tok.line, column=tok.column, name=name)
        return n.FieldRef(
            line=start.line,
            column=start.column,
            var=name,
            path=tuple(path),
            quantifier=quantifier.word if quantifier else None,
        )

    def parse_call(self) -> n.Expr:
        tok = self.peek()
        # A call is `name(` or `ns.name(`; look ahead before consuming anything.
        k = 1
        while self.peek(k).kind == "." and self.peek(k + 1).kind == "IDENT":
            k += 2
        if self.peek(k).kind != "(":
            if tok.word in KEYWORDS:
                raise self.error(f"expected an expression, found the keyword `{tok.text}`", tok)
            raise self.error(
                f"unexpected name `{tok.text}`",
                tok,
                "event fields start with an event variable, for example `$e.principal.hostname`",
            )
        parts = [self.advance().text]
        while self.peek().kind == ".":
            self.advance()
            parts.append(self.advance().text)
        opener = self.advance()
        self.nested(opener)
        args = self.parse_list(")")
        self.close(")", opener)
        self.depth -= 1
        name = ".".join(parts)
        if len(parts) == 1:
            name = name.lower()  # `if`, `max` ... are keywords, so case-insensitive
        return n.Call(line=tok.line, column=tok.column, name=name, args=tuple(args))


def parse_lenient(text: str) -> tuple[n.RuleFile, list[YaralSyntaxError]]:
    """Parse what can be parsed; return the rules and every syntax error found."""
    try:
        tokens, issues = tokenize(text)
    except YaralSyntaxError as exc:
        return n.RuleFile(()), [exc]
    parser = Parser(tokens)
    rule_file = parser.parse_file()
    errors = sorted([*issues, *parser.errors], key=lambda e: (e.line, e.column))
    return rule_file, errors


def parse_yaral(text: str) -> n.RuleFile:
    """Parse YARA-L text; raise YaralSyntaxError on the first syntax error."""
    rule_file, errors = parse_lenient(text)
    if errors:
        raise errors[0]
    return rule_file
