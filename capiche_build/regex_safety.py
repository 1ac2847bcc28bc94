r"""Compile user regular expressions, refusing the ones that can backtrack catastrophically.

Python's `re` cannot be interrupted, so a pattern such as `(a+)+$` would hang a search. We read
the parsed pattern instead and refuse the shapes that cause exponential or high-polynomial
backtracking: a repeat around a body whose length varies (`(a+)+`, `(.?){10}`), a repeat around
alternatives that can start with the same character, quantifiers in a row that can split the same
text many ways (`.*.*`, `\w+\w+`, `.?.?.?.?.?.?`), and too many unbounded repeats in one pattern.
The check is conservative (it may refuse a harmless pattern) and each refusal says how to rewrite it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

try:  # Python 3.11+
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from capiche_build.diagnostics import CapicheError, Diagnostic

MAX_PATTERN_LENGTH = 2000
MAX_UNBOUNDED_REPEATS = 8
MAX_REPEAT_COUNT = 1000

# Backtracking budget: roughly, how many ways the quantifiers of a pattern can split the text
# after one start position. A quantifier contributes the length of text its characters can cover
# (capped by its count): `.` covers whole descriptions, `\w` a word, `a` or `\s` a few characters.
# A literal of two or more characters between quantifiers bounds the splits before it. Measured
# over the catalogue's names and descriptions: `.*.*x` takes ~3 s, `\w*\w*x` ~0.6 s,
# `.?.?.?.?.?.?x` ~1.3 s and a leading `.*(Key|Secret)` ~1.9 s; in a fuzz of 2,000 patterns,
# the ones within budget (`Create.*Key.*`, `\w+Key$`, `.?.?.?.?x`) all took under 0.4 s.
SPAN_WIDE = 32  # matches letters and spaces (`.`, `[^x]`, `\W`): a whole description
SPAN_WORD = 16  # a word: `\w`, `\S`, `[a-z]`, ten or more characters without spaces
SPAN_NARROW = 2  # a few given characters, or whitespace (collapsed to single spaces)
MAX_SPLITS = 32

_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT}
_POSSESSIVE = getattr(sre_c, "POSSESSIVE_REPEAT", None)
ANY = None  # a first-character set that may be anything


@dataclass(frozen=True)
class _Problem:
    message: str
    hint: str


def _first_chars(items: Any) -> set[int] | None:
    """Characters a sequence can start with; None means 'could be anything' (or empty)."""
    for op, av in items:
        if op is sre_c.LITERAL:
            return {av}
        if op is sre_c.IN:
            chars: set[int] = set()
            for sub_op, sub_av in av:
                if sub_op is sre_c.LITERAL:
                    chars.add(sub_av)
                elif sub_op is sre_c.RANGE and sub_av[1] - sub_av[0] < 256:
                    chars.update(range(sub_av[0], sub_av[1] + 1))
                else:
                    return ANY
            return chars
        if op is sre_c.SUBPATTERN:
            return _first_chars(av[-1])
        if op is sre_c.AT:
            continue  # anchors consume nothing
        return ANY
    return ANY


def _overlap(a: set[int] | None, b: set[int] | None) -> bool:
    return a is ANY or b is ANY or bool(a & b)


_BEGINNINGS = {sre_c.AT_BEGINNING, sre_c.AT_BEGINNING_STRING}
_WIDE_CATEGORIES = {sre_c.CATEGORY_NOT_WORD, sre_c.CATEGORY_NOT_DIGIT}
_SPACES = {9, 10, 11, 12, 13, 32}


def _set_span(items: Any) -> int:
    """SPAN_* of a character class `[...]`."""
    size, space, other = 0, False, False
    for op, av in items:
        if op is sre_c.NEGATE or (op is sre_c.CATEGORY and av in _WIDE_CATEGORIES):
            return SPAN_WIDE
        if op is sre_c.CATEGORY:
            is_space = av is sre_c.CATEGORY_SPACE
            space, other = space or is_space, other or not is_space
            size += 6 if is_space else 26
        elif op is sre_c.LITERAL:
            space, other, size = space or av in _SPACES, other or av not in _SPACES, size + 1
        elif op is sre_c.RANGE:
            low, high = av
            space = space or any(low <= c <= high for c in _SPACES)
            other, size = True, size + high - low + 1
        else:
            return SPAN_WIDE
    if space and other:
        return SPAN_WIDE
    return SPAN_WORD if size >= 10 else SPAN_NARROW


def _span(items: Any) -> int:
    """How long a run of ordinary text the characters of a sequence can cover (SPAN_*)."""
    worst = SPAN_NARROW
    for op, av in items:
        if op is sre_c.ANY or op is sre_c.NOT_LITERAL:
            return SPAN_WIDE
        if op is sre_c.IN:
            worst = max(worst, _set_span(av))
        else:
            for child in _children(op, av):
                worst = max(worst, _span(child))
        if worst == SPAN_WIDE:
            break
    return worst


def _literal_prefix(items: Any) -> int:
    """Length of the literal text every match of the sequence starts with."""
    count = 0
    for op, av in items:
        if op is sre_c.LITERAL:
            count += 1
            continue
        if op is sre_c.SUBPATTERN:
            return count + _literal_prefix(av[-1])
        if op is sre_c.BRANCH:
            return count + min(_literal_prefix(alt) for alt in av[1])
        break
    return count


def _splits(items: Any, start: int = 1) -> int:
    """Estimated ways the quantifiers of a sequence can split the text after one start.

    The product of each quantifier's span (times `start` for the leading part), restarted after a
    literal of two or more characters; the largest product of the sequence is returned.
    """
    worst, current = 1, start
    run = 0
    for op, av in items:
        if op is sre_c.LITERAL:
            run += 1
            if run == 2:
                worst, current = max(worst, current), 1
            continue
        run = 0
        if op in _REPEATS or op is _POSSESSIVE:
            low, high, body = av
            factor = _splits(body)
            if low != high:
                span = _span(body)
                factor *= span if high is sre_c.MAXREPEAT else min(high - low + 1, span)
            else:
                factor **= min(low, 4)
        elif op is sre_c.SUBPATTERN or op is sre_c.BRANCH:
            alts = [av[-1]] if op is sre_c.SUBPATTERN else list(av[1])
            costs = [_splits(alt) for alt in alts]
            firsts = [_first_chars(alt) for alt in alts]
            disjoint = not any(
                _overlap(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]
            )
            factor = max(costs) if disjoint else sum(costs)
            if min(_literal_prefix(alt) for alt in alts) >= 2:
                worst, current = max(worst, current), 1
        else:
            factor = max((_splits(child) for child in _children(op, av)), default=1)
        current = min(current * factor, 1 << 30)
    return max(worst, current)


def _children(op: Any, av: Any) -> list[Any]:
    if op in _REPEATS or op is _POSSESSIVE:
        return [av[2]]
    if op is sre_c.SUBPATTERN:
        return [av[-1]]
    if op is sre_c.BRANCH:
        return list(av[1])
    if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
        return [av[1]]
    if op is sre_c.GROUPREF_EXISTS:
        return [x for x in av[1:] if x is not None]
    if op is getattr(sre_c, "ATOMIC_GROUP", None):
        return [av]
    return []


def _walk(items: Any, inside_repeat: bool, problems: list[_Problem], counter: list[int]) -> bool:
    """Walk a parsed sequence; returns whether it contains an unbounded repeat."""
    has_unbounded = False
    for op, av in items:
        if op in _REPEATS or op is _POSSESSIVE:
            low, high, body = av
            if (high is not sre_c.MAXREPEAT and high > MAX_REPEAT_COUNT) or low > MAX_REPEAT_COUNT:
                problems.append(
                    _Problem(
                        f"repeat count {{{low},{high}}} is larger than {MAX_REPEAT_COUNT}",
                        "use a smaller bound",
                    )
                )
            unbounded = high is sre_c.MAXREPEAT
            if unbounded:
                counter[0] += 1
            repeats_many = unbounded or high > 1
            inner = _walk(body, inside_repeat or repeats_many, problems, counter)
            min_width, max_width = body.getwidth()
            if repeats_many and (inner or min_width != max_width) and op is not _POSSESSIVE:
                problems.append(
                    _Problem(
                        "nested quantifiers (a repeated group whose own length varies: it contains "
                        "`+`, `*`, `?`, `{m,n}` or alternatives of different lengths) "
                        "can backtrack exponentially",
                        "remove the inner or the outer quantifier, e.g. `(a+)+` -> `a+`",
                    )
                )
            if repeats_many and op is not _POSSESSIVE:
                _check_branches(body, problems)
            has_unbounded = has_unbounded or unbounded or inner
        else:
            for child in _children(op, av):
                if _walk(child, inside_repeat, problems, counter):
                    has_unbounded = True
    return has_unbounded


def _check_branches(body: Any, problems: list[_Problem]) -> None:
    for op, av in body:
        if op is sre_c.SUBPATTERN:
            _check_branches(av[-1], problems)
        elif op is sre_c.BRANCH:
            firsts = [_first_chars(alt) for alt in av[1]]
            for i, a in enumerate(firsts):
                if any(_overlap(a, b) for b in firsts[i + 1 :]):
                    problems.append(
                        _Problem(
                            "a repeated group of alternatives that can match the same text "
                            "can backtrack exponentially",
                            "make the alternatives start differently, e.g. `(x|x)*` -> `x*`, "
                            "or use a character class `[ab]*`",
                        )
                    )
                    return


@lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> re.Pattern[str] | tuple[str, str]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return (f"pattern is longer than {MAX_PATTERN_LENGTH} characters", "shorten it")
    try:
        compiled = re.compile(pattern, flags)
        parsed = sre_parse.parse(pattern, flags)
    except re.error as err:
        return (f"invalid regular expression: {err}", "check brackets, escapes and quantifiers")
    except (OverflowError, RecursionError) as err:
        return (f"regular expression too complex: {err}", "simplify it")
    problems: list[_Problem] = []
    counter = [0]
    _walk(list(parsed), False, problems, counter)
    items = list(parsed)
    # A search tries every start position: an unanchored pattern that does not begin with literal
    # text pays its leading quantifiers at each of them (`.*Key` is quadratic, `Key` is not).
    anchored = bool(items) and items[0][0] is sre_c.AT and items[0][1] in _BEGINNINGS
    start = 1 if anchored or _literal_prefix(items) else 2
    if not problems and _splits(items, start) > MAX_SPLITS:
        problems.append(
            _Problem(
                "quantifiers in a row that can match the same text (e.g. `.*.*`, `\\w+\\w+` or "
                "many `.?`) can backtrack polynomially over long descriptions",
                "merge them into one (`.*`), separate them with literal text "
                "(`Create.*Key.*Policy`), or drop a leading `.*` (a search matches anywhere)",
            )
        )
    if counter[0] > MAX_UNBOUNDED_REPEATS:
        problems.append(
            _Problem(
                f"more than {MAX_UNBOUNDED_REPEATS} unbounded repeats (`*`, `+`)",
                "split it into several simpler selectors",
            )
        )
    if problems:
        first = problems[0]
        return (f"refused: {first.message}", first.hint)
    return compiled


def compile_user_regex(
    pattern: str, *, where: str = "", line: int | None = None, flags: int = re.IGNORECASE
) -> re.Pattern[str]:
    """Compile a user-supplied pattern or raise CapicheError naming the pattern and the fix."""
    if not isinstance(pattern, str):
        raise CapicheError(
            Diagnostic(file=where, line=line, message=f"a regex must be a string, not {pattern!r}")
        )
    result = _compile(pattern, flags)
    if isinstance(result, tuple):
        message, hint = result
        raise CapicheError(
            Diagnostic(file=where, line=line, message=f"regex {pattern!r}: {message}", hint=hint)
        )
    return result
