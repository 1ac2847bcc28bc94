"""Parse and evaluate the VTGrep and Google-dork queries our generators emit.

Neither service can be queried offline, so tests check a generated query against code snippets
with these evaluators instead. The grammars are deliberately strict: anything our generators
should not emit is a ValueError (QuerySyntaxError) naming the position, not a silent guess.

VTGrep (VirusTotal content search)::

    query   := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*          AND binds tighter than OR
    not     := "NOT" not | primary
    primary := "(" or ")" | term
    term    := content:"..." (escapes \\" and \\\\ only) | content:{hex bytes, spaces allowed}

Operators are upper case and explicit: two terms side by side are an error. A term matches when
its bytes occur in the data, case-sensitively.

Google dork::

    query   := and
    and     := or+                       juxtaposition is AND
    or      := unary (("OR" | "|") unary)*
    unary   := "-" primary | primary
    primary := "(" and ")" | term
    term    := word:"phrase" | word:value | "phrase" | word

OR binds tighter than the implicit AND, as on Google: `a b OR c` is `a AND (b OR c)`. Phrases
have no escapes (Google has none). `AND` is refused because Google's AND is implicit. A term
matches when its phrase occurs in the text case-insensitively, with whitespace (and control
characters) collapsed on both sides. The operator does not change what is searched: a snippet of
code has no title or URL, so intitle: and inurl: search the snippet too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from capiche_build.targets.escaping import collapse_whitespace


class QuerySyntaxError(ValueError):
    """A malformed query; `position` is the 0-based offset of the problem in `query`."""

    def __init__(self, message: str, query: str, position: int):
        self.query = query
        self.position = position
        super().__init__(f"{message} at position {position} in {query!r}")


@dataclass(frozen=True)
class Term:
    """A leaf: `operator` is "content" for VTGrep, the dork operator, or "" for a bare phrase."""

    operator: str
    value: bytes | str  # bytes for VTGrep; normalised (collapsed, casefolded) text for dorks
    phrase: str = ""  # the dork phrase as written, for counting words


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "TERM", "END"
    position: int
    term: Term | None = None


def _normalise(text: str) -> str:
    return collapse_whitespace(text).casefold()


# ---------------------------------------------------------------- VTGrep


_VT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}")


def _vt_string(query: str, start: int) -> tuple[bytes, int]:
    """Read a quoted string whose opening quote is at `start`; return its bytes and the end."""
    out: list[str] = []
    i = start + 1
    while i < len(query):
        char = query[i]
        if char == '"':
            if not out:
                raise QuerySyntaxError("empty content string", query, start)
            return "".join(out).encode("utf-8"), i + 1
        if char == "\\":
            if i + 1 >= len(query) or query[i + 1] not in ('"', "\\"):
                raise QuerySyntaxError('unsupported escape (only \\" and \\\\)', query, i)
            out.append(query[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    raise QuerySyntaxError("unterminated content string", query, start)


def _vt_hex(query: str, start: int) -> tuple[bytes, int]:
    """Read `{hex bytes}` whose opening brace is at `start`; return the bytes and the end."""
    end = query.find("}", start)
    if end < 0:
        raise QuerySyntaxError("unterminated hex content", query, start)
    digits: list[str] = []
    i = start + 1
    while i < end:
        if query[i].isspace():
            i += 1
            continue
        pair = _HEX_PAIR.match(query, i, end)
        if pair is None:
            raise QuerySyntaxError("expected a pair of hex digits", query, i)
        digits.append(pair.group())
        i = pair.end()
    if not digits:
        raise QuerySyntaxError("empty hex content", query, start)
    return bytes.fromhex("".join(digits)), end + 1


def _vt_tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i))
            i += 1
        elif word := _VT_WORD.match(query, i):
            text = word.group()
            after = word.end()
            if text in ("AND", "OR", "NOT"):
                tokens.append(_Token(text, i))
                i = after
            elif text == "content" and query.startswith(":", after):
                opener = query[after + 1 : after + 2]
                if opener == '"':
                    value, i = _vt_string(query, after + 1)
                elif opener == "{":
                    value, i = _vt_hex(query, after + 1)
                else:
                    raise QuerySyntaxError('expected " or { after content:', query, after + 1)
                tokens.append(_Token("TERM", word.start(), Term("content", value)))
            elif query.startswith(":", after):
                raise QuerySyntaxError(f"unsupported search modifier {text}:", query, i)
            else:
                raise QuerySyntaxError(
                    f"unexpected word {text!r} (operators are AND, OR, NOT)", query, i
                )
        else:
            raise QuerySyntaxError(f"unexpected character {char!r}", query, i)
    tokens.append(_Token("END", len(query)))
    return tokens


class _Parser:
    """Recursive descent over a token list; the grammar-specific rules live in subclasses."""

    def __init__(self, query: str, tokens: list[_Token]):
        self.query = query
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, (token or self.current).position)

    def describe(self, token: _Token) -> str:
        names = {"END": "end of query", "TERM": "a term"}
        return names.get(token.kind, repr(token.kind))

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise self.error("empty query")
        node = self.top()
        if self.current.kind != "END":
            raise self.error(f"unexpected {self.describe(self.current)}")
        return node

    term_label = "a term"

    def primary(self) -> Node:
        token = self.current
        if token.kind == "(":
            return self.group()
        if token.kind == "TERM" and token.term is not None:
            self.take()
            return token.term
        raise self.error(f"expected {self.term_label}, found {self.describe(token)}")

    def group(self) -> Node:
        opener = self.take()
        if self.current.kind == ")":
            raise self.error("empty parentheses")
        node = self.top()
        if self.current.kind != ")":
            raise self.error(f"expected ')' to close '(' at {opener.position}")
        self.take()
        return node

    def top(self) -> Node:
        raise NotImplementedError


class _VtParser(_Parser):
    def top(self) -> Node:
        children = [self.conjunction()]
        while self.current.kind == "OR":
            self.take()
            children.append(self.conjunction())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def conjunction(self) -> Node:
        children = [self.negation()]
        while self.current.kind == "AND":
            self.take()
            children.append(self.negation())
        if self.current.kind in ("TERM", "(", "NOT"):
            raise self.error("missing AND or OR between terms")
        return children[0] if len(children) == 1 else And(tuple(children))

    def negation(self) -> Node:
        if self.current.kind == "NOT":
            self.take()
            return Not(self.negation())
        return self.primary()

    term_label = "a content term"


def parse_vtgrep(query: str) -> Node:
    """Parse a VTGrep content query into a tree; raises QuerySyntaxError (a ValueError)."""
    return _VtParser(query, _vt_tokens(query)).parse()


# ---------------------------------------------------------------- Google dorks


_DORK_STOP = '()|"'  # characters that end a bare word


def _dork_phrase(query: str, start: int) -> tuple[str, int]:
    """Read `"phrase"` whose opening quote is at `start`; Google phrases have no escapes."""
    end = query.find('"', start + 1)
    if end < 0:
        raise QuerySyntaxError("unterminated phrase", query, start)
    phrase = query[start + 1 : end]
    if not collapse_whitespace(phrase):
        raise QuerySyntaxError("empty phrase", query, start)
    return phrase, end + 1


def _dork_word_end(query: str, start: int) -> int:
    i = start
    while i < len(query) and not query[i].isspace() and query[i] not in _DORK_STOP:
        i += 1
    return i


def _dork_term(query: str, start: int) -> tuple[Term, int]:
    """Read a term at `start`: "phrase", word, word:"phrase" or word:value."""
    if query[start] == '"':
        phrase, end = _dork_phrase(query, start)
        return Term("", _normalise(phrase), phrase), end
    end = _dork_word_end(query, start)
    word = query[start:end]
    operator, colon, value = word.partition(":")
    if not colon:
        return Term("", _normalise(word), word), end
    if not re.fullmatch(r"[A-Za-z]+", operator):
        raise QuerySyntaxError(f"invalid operator {operator!r}", query, start)
    if value:
        return Term(operator.lower(), _normalise(value), value), end
    if query.startswith('"', end):
        phrase, end = _dork_phrase(query, end)
        return Term(operator.lower(), _normalise(phrase), phrase), end
    raise QuerySyntaxError(f"operator {operator}: has no value", query, start)


def _dork_tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i))
            i += 1
        elif char == "|":
            tokens.append(_Token("OR", i))
            i += 1
        elif char == "-":
            following = query[i + 1 : i + 2]
            if not following or following.isspace() or following in "-|)":
                raise QuerySyntaxError("'-' must be followed by a term or '('", query, i)
            tokens.append(_Token("-", i))
            i += 1
        else:
            end = _dork_word_end(query, i)
            word = query[i:end]
            if word == "OR":
                tokens.append(_Token("OR", i))
                i = end
            elif word == "AND":
                raise QuerySyntaxError("AND is implicit in Google queries; remove it", query, i)
            else:
                term, i_end = _dork_term(query, i)
                tokens.append(_Token("TERM", i, term))
                i = i_end
    tokens.append(_Token("END", len(query)))
    return tokens


class _DorkParser(_Parser):
    def top(self) -> Node:
        children = [self.disjunction()]
        while self.current.kind in ("TERM", "(", "-"):
            children.append(self.disjunction())
        return children[0] if len(children) == 1 else And(tuple(children))

    def disjunction(self) -> Node:
        children = [self.unary()]
        while self.current.kind == "OR":
            self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def unary(self) -> Node:
        if self.current.kind == "-":
            self.take()
            return Not(self.primary())
        return self.primary()


def parse_dork(query: str) -> Node:
    """Parse a Google dork into a tree; raises QuerySyntaxError (a ValueError)."""
    return _DorkParser(query, _dork_tokens(query)).parse()


# ---------------------------------------------------------------- evaluation


def _evaluate(node: Node, haystack: bytes | str) -> bool:
    if isinstance(node, Term):
        return node.value in haystack  # type: ignore[operator]  # same type by construction
    if isinstance(node, Not):
        return not _evaluate(node.child, haystack)
    if isinstance(node, And):
        return all(_evaluate(child, haystack) for child in node.children)
    return any(_evaluate(child, haystack) for child in node.children)


def evaluate_vtgrep(query: str, text: bytes | str) -> bool:
    """Would VirusTotal content search match `text`? A str is searched as its UTF-8 bytes."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return _evaluate(parse_vtgrep(query), data)


def evaluate_dork(query: str, text: str) -> bool:
    """Would the dork match a page whose text is `text`? (case-insensitive, whitespace collapsed)"""
    return _evaluate(parse_dork(query), _normalise(text))


def _count_words(node: Node) -> int:
    if isinstance(node, Term):
        words = max(1, len(re.findall(r"\w+", node.phrase)))
        return words + (1 if node.operator else 0)
    if isinstance(node, Not):
        return _count_words(node.child)
    extra = len(node.children) - 1 if isinstance(node, Or) else 0
    return extra + sum(_count_words(child) for child in node.children)


def count_dork_words(query: str) -> int:
    """Words Google counts towards its 32-word query limit, counted on the safe side.

    Counted: every word of every phrase or bare term, where a word is a run of letters, digits or
    underscores (Google splits on punctuation, so `boto3.client` is two words); a phrase with no
    such run still counts one; each operator (`intext:`) counts one; each OR or `|` counts one.
    Not counted: `-`, parentheses, quotes. Google does not document its count; this one is meant
    as an upper bound, so a query at or under 32 here should be within the limit.
    """
    return _count_words(parse_dork(query))
