"""Tokens of YARA-L 2.0.

Two characters mean different things by context: `/` starts a regex or divides, `%` starts a
reference list or takes a modulus. As in JavaScript lexers, the previous token decides: after
something that ends a value (a name, literal, `)` or `]`) they are operators.
"""

from __future__ import annotations

from dataclasses import dataclass

from capiche_build.diagnostics import CapicheError, Diagnostic, Severity

# Escapes a double-quoted string may contain, and what they stand for.
ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
DURATION_UNITS = "smhd"
PUNCTUATION = ("!=", "<=", ">=", "{", "}", "(", ")", "[", "]", ",", ".", ":", "=", "<", ">")
PUNCTUATION += ("+", "-", "*", "/", "%", "!")
VALUE_END = {"IDENT", "VAR", "COUNT", "LISTREF", "STRING", "RAWSTRING", "REGEX", "NUMBER", ")", "]"}
# Keywords after which a value, not an operator, comes next.
OPERATOR_KEYWORDS = {"and", "or", "not", "in", "regex", "cidr", "any", "all"}


class YaralSyntaxError(CapicheError):
    """A located problem in YARA-L text."""

    def __init__(self, message: str, line: int, column: int, hint: str = ""):
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.diagnostic())

    def diagnostic(self, origin: str = "", severity: Severity = "error") -> Diagnostic:
        return Diagnostic(
            file=origin,
            line=self.line,
            column=self.column,
            message=self.message,
            engine="yara-l",
            severity=severity,
            hint=self.hint,
        )


@dataclass(frozen=True)
class Token:
    kind: str  # IDENT VAR COUNT LISTREF STRING RAWSTRING REGEX NUMBER DURATION EOF, or punctuation
    text: str  # the source spelling
    value: object  # decoded: str for names and strings, int/float for numbers, (n, unit) durations
    line: int
    column: int
    end_line: int
    end_column: int  # column just after the token

    @property
    def word(self) -> str:
        """Lower-cased identifier text: YARA-L keywords are case-insensitive."""
        return self.text.lower() if self.kind == "IDENT" else ""


def _is_ident_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_ident_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


class Lexer:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1
        self.col = 1
        self.tokens: list[Token] = []
        self.issues: list[YaralSyntaxError] = []  # non-fatal: invalid escapes

    # -- cursor ---------------------------------------------------------------------------------
    def _peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def _advance(self, n: int = 1) -> str:
        out = self.text[self.pos : self.pos + n]
        for ch in out:
            if ch == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
        self.pos += n
        return out

    def _error(self, message: str, line: int, col: int, hint: str = "") -> YaralSyntaxError:
        return YaralSyntaxError(message, line, col, hint)

    # -- main loop ------------------------------------------------------------------------------
    def tokenize(self) -> list[Token]:
        while True:
            self._skip_space_and_comments()
            if self.pos >= len(self.text):
                self.tokens.append(Token("EOF", "", None, self.line, self.col, self.line, self.col))
                return self.tokens
            self.tokens.append(self._next())

    def _skip_space_and_comments(self) -> None:
        while self.pos < len(self.text):
            ch = self._peek()
            if ch in " \t\r\n\f\v\ufeff":
                self._advance()
            elif ch == "/" and self._peek(1) == "/":
                while self.pos < len(self.text) and self._peek() != "\n":
                    self._advance()
            elif ch == "/" and self._peek(1) == "*":
                line, col = self.line, self.col
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self._error("unterminated `/*` comment", line, col, "close it with `*/`")
                self._advance(end + 2 - self.pos)
            else:
                return

    def _value_expected(self) -> bool:
        if not self.tokens:
            return True
        last = self.tokens[-1]
        if last.kind == "IDENT":
            return last.word in OPERATOR_KEYWORDS
        return last.kind not in VALUE_END

    def _make(self, kind: str, start: int, line: int, col: int, value: object = None) -> Token:
        text = self.text[start : self.pos]
        return Token(kind, text, text if value is None else value, line, col, self.line, self.col)

    def _next(self) -> Token:
        start, line, col = self.pos, self.line, self.col
        ch = self._peek()
        if _is_ident_start(ch):
            while _is_ident_char(self._peek()):
                self._advance()
            return self._make("IDENT", start, line, col)
        if ch in "$#" or (ch == "%" and self._value_expected()):
            kind = {"$": "VAR", "#": "COUNT", "%": "LISTREF"}[ch]
            self._advance()
            if not _is_ident_start(self._peek()):
                what = {"VAR": "a variable", "COUNT": "a count", "LISTREF": "a reference list"}
                raise self._error(
                    f"`{ch}` must be followed by a name to form {what[kind]}",
                    line,
                    col,
                    "variables are written `$name`, counts `#name`, lists `%name`",
                )
            name_start = self.pos
            while _is_ident_char(self._peek()) or (
                kind == "LISTREF" and self._peek() == "." and _is_ident_start(self._peek(1))
            ):
                self._advance()
            return self._make(kind, start, line, col, self.text[name_start : self.pos])
        if ch.isdigit():
            return self._number(start, line, col)
        if ch == '"':
            return self._string(start, line, col)
        if ch == "`":
            end = self.text.find("`", self.pos + 1)
            if end < 0:
                raise self._error("unterminated backtick string", line, col, "close it with `")
            self._advance(end + 1 - self.pos)
            return self._make("RAWSTRING", start, line, col, self.text[start + 1 : end])
        if ch == "/" and self._value_expected():
            return self._regex(start, line, col)
        for punct in PUNCTUATION:
            if self.text.startswith(punct, self.pos):
                self._advance(len(punct))
                return self._make(punct, start, line, col)
        raise self._error(f"unexpected character {ch!r}", line, col)

    def _number(self, start: int, line: int, col: int) -> Token:
        while self._peek().isdigit():
            self._advance()
        is_float = self._peek() == "." and self._peek(1).isdigit()
        if is_float:
            self._advance()
            while self._peek().isdigit():
                self._advance()
        if _is_ident_char(self._peek()):
            suffix_start = self.pos
            while _is_ident_char(self._peek()):
                self._advance()
            suffix = self.text[suffix_start : self.pos]
            if not is_float and suffix in DURATION_UNITS and len(suffix) == 1:
                amount = int(self.text[start:suffix_start])
                return self._make("DURATION", start, line, col, (amount, suffix))
            raise self._error(
                f"invalid number or duration `{self.text[start : self.pos]}`",
                line,
                col,
                "durations are a whole number and one unit: s, m, h or d (for example `1h`)",
            )
        text = self.text[start : self.pos]
        return self._make("NUMBER", start, line, col, float(text) if is_float else int(text))

    def _string(self, start: int, line: int, col: int) -> Token:
        self._advance()  # opening quote
        out: list[str] = []
        while True:
            ch = self._peek()
            if ch == "" or ch == "\n":
                raise self._error(
                    "unterminated string",
                    line,
                    col,
                    'a `"` inside a string must be escaped as `\\"`, and a string cannot span lines',
                )
            if ch == '"':
                self._advance()
                return self._make("STRING", start, line, col, "".join(out))
            if ch == "\\":
                esc_line, esc_col = self.line, self.col
                nxt = self._peek(1)
                if nxt in ESCAPES and nxt:
                    out.append(ESCAPES[nxt])
                    self._advance(2)
                    continue
                self.issues.append(
                    self._error(
                        f"invalid escape sequence `\\{nxt}` in string",
                        esc_line,
                        esc_col,
                        "write `\\\\` for a backslash, or use a backtick string "
                        "(`...`) where backslashes are literal",
                    )
                )
                out.append("\\")
                self._advance()
                continue
            out.append(ch)
            self._advance()

    def _regex(self, start: int, line: int, col: int) -> Token:
        self._advance()  # opening slash
        out: list[str] = []
        while True:
            ch = self._peek()
            if ch == "" or ch == "\n":
                raise self._error(
                    "unterminated regular expression",
                    line,
                    col,
                    "close it with `/`; a `/` inside the pattern is written `\\/`",
                )
            if ch == "/":
                self._advance()
                return self._make("REGEX", start, line, col, "".join(out))
            if ch == "\\" and self._peek(1) not in ("", "\n"):
                out.append(self._advance(2))
                continue
            out.append(self._advance())


def tokenize(text: str) -> tuple[list[Token], list[YaralSyntaxError]]:
    """Tokens (ending in EOF) and non-fatal issues; raises YaralSyntaxError on fatal ones."""
    lexer = Lexer(text)
    tokens = lexer.tokenize()
    return tokens, lexer.issues
