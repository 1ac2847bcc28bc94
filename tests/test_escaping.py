"""Escapers against the real engines and our own query evaluators, with Hypothesis."""

from __future__ import annotations

import pytest
import yara
import yara_x
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from capiche_build.engines.query import evaluate_dork, evaluate_vtgrep
from capiche_build.engines.yara import check_yara, scan_yara
from capiche_build.targets.escaping import (
    YARA_KEYWORDS,
    collapse_whitespace,
    dork_term,
    is_yara_identifier,
    vtgrep_term,
    yara_identifier,
    yara_string,
    yaral_string,
    yaral_unescape,
)

# Pieces that break naive escapers, mixed into arbitrary Unicode text (no lone surrogates:
# they have no UTF-8 form and every escaper rejects them).
_NASTY = ('"', "\\", "\n", "\r", "\t", "*/", "/*", "\x00", "\x7f", "😀", "é", "\u2028", "\\x41")
_PIECES = st.one_of(st.characters(codec="utf-8"), st.sampled_from(_NASTY))
texts = st.lists(_PIECES, max_size=24).map("".join)

# A prefix no escaper treats specially, so the pattern is never a slow one whatever the text.
ANCHOR = "Capiche7"
EXAMPLES = settings(max_examples=150, deadline=None)


def _rule(pattern: str, meta: str) -> str:
    return (
        "rule escaped {\n"
        "  meta:\n"
        f'    value = "{yara_string(meta)}"\n'
        "  strings:\n"
        f'    $a = "{yara_string(pattern)}"\n'
        "  condition:\n"
        "    $a\n"
        "}\n"
    )


def _strong(data: bytes) -> bool:
    """Not a slow pattern on either engine: tuned against both (no miss in 20,000 samples)."""
    return len(data) >= 4 and len(set(data) - {0x00, 0x20, 0xCC, 0xFF}) >= 3


def _meta_values(source: str, data: bytes) -> tuple[str, bytes]:
    """The `value` meta as each engine reads it back after a match."""
    match = yara.compile(source=source).match(data=data)[0]
    compiler = yara_x.Compiler()
    compiler.add_source(source)
    rule = compiler.build().scan(data).matching_rules[0]
    value = dict(rule.metadata)["value"]
    # yara-x gives str for a literal without escapes and bytes for one with them.
    return match.meta["value"], value.encode("utf-8") if isinstance(value, str) else value


@EXAMPLES
@given(texts)
def test_yara_string_round_trips_in_string_and_meta(text: str) -> None:
    pattern = ANCHOR + text
    source = _rule(pattern, meta=text)
    assert check_yara(source) == []
    data = b"<<" + pattern.encode("utf-8") + b">>"
    result = scan_yara(source, data)
    assert result.agree, result.differences()
    assert result.yara_x == {"escaped": frozenset({"$a"})}
    python_meta, x_meta = _meta_values(source, data)
    assert x_meta == text.encode("utf-8")
    if "\x00" not in text:  # libyara meta values are C strings: a NUL ends them
        assert python_meta == text


@EXAMPLES
@given(texts)
def test_yara_string_alone_is_a_working_pattern(text: str) -> None:
    data = text.encode("utf-8")
    assume(_strong(data))
    source = _rule(text, meta=text)
    assert check_yara(source) == []
    result = scan_yara(source, data)
    assert result.agree, result.differences()
    assert result.yara_python == {"escaped": frozenset({"$a"})}


@EXAMPLES
@given(texts)
def test_yara_string_output_is_printable_ascii(text: str) -> None:
    escaped = yara_string(text)
    assert all(0x20 <= ord(c) <= 0x7E for c in escaped)
    assert '"' not in escaped.replace('\\"', "").replace("\\\\", "")


def test_yara_string_known_forms() -> None:
    assert yara_string('C:\\Windows "x"') == 'C:\\\\Windows \\"x\\"'
    assert yara_string("é\n\x00") == "\\xc3\\xa9\\x0a\\x00"
    assert yara_string("") == ""


def test_yara_string_rejects_lone_surrogate() -> None:
    with pytest.raises(ValueError):
        yara_string("\udc80")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("aws_iam_CreateUser", True),
        ("_x1", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("1abc", False),
        ("", False),
        ("has-dash", False),
        ("café", False),
        ("rule", False),
        ("with", False),
        ("include", False),
        ("uint32be", False),
    ],
)
def test_is_yara_identifier(name: str, valid: bool) -> None:
    assert is_yara_identifier(name) is valid


@pytest.mark.parametrize("keyword", sorted(YARA_KEYWORDS))
def test_every_keyword_breaks_an_engine(keyword: str) -> None:
    source = f"rule {keyword} {{ condition: filesize > 0 }}\n"
    assert check_yara(source), f"{keyword} is accepted by both engines; drop it from the list"


@EXAMPLES
@given(st.text(min_size=1, max_size=300))
def test_yara_identifier_is_always_valid_and_compiles(text: str) -> None:
    name = yara_identifier(text)
    assert is_yara_identifier(name)
    assert check_yara(f"rule {name} {{ condition: filesize > 0 }}\n") == []


def test_yara_identifier_keeps_long_names_apart() -> None:
    a, b = yara_identifier("x" * 200 + "a"), yara_identifier("x" * 200 + "b")
    assert a != b and len(a) == len(b) == 128
    with pytest.raises(ValueError):
        yara_identifier("")


def _control_to_space(text: str) -> str:
    return "".join(
        " " if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" else c for c in text
    )


@EXAMPLES
@given(texts)
def test_yaral_string_round_trips(text: str) -> None:
    escaped = yaral_string(text)
    assert yaral_unescape(escaped) == _control_to_space(text)
    assert "\n" not in escaped and "\r" not in escaped


@pytest.mark.parametrize("bad", ['a"b', "a\\", "a\\n"])
def test_yaral_unescape_rejects_bad_content(bad: str) -> None:
    with pytest.raises(ValueError):
        yaral_unescape(bad)


@EXAMPLES
@given(texts)
def test_vtgrep_term_round_trips(text: str) -> None:
    assume(text)
    term = vtgrep_term(text)
    data = text.encode("utf-8")
    assert evaluate_vtgrep(term, b"..." + data + b"...")
    assert evaluate_vtgrep(term, text)
    assert not evaluate_vtgrep(f"NOT {term}", data)
    assert not evaluate_vtgrep(term, data[:-1])
    printable = all(0x20 <= b <= 0x7E for b in data)
    assert term.startswith('content:"' if printable else "content:{")


def test_vtgrep_term_forms() -> None:
    assert vtgrep_term('say "hi" \\o/') == 'content:"say \\"hi\\" \\\\o/"'
    assert vtgrep_term("é") == "content:{c3a9}"
    with pytest.raises(ValueError):
        vtgrep_term("")


@EXAMPLES
@given(texts)
def test_dork_term_round_trips_or_refuses_quotes(text: str) -> None:
    if '"' in text:
        with pytest.raises(ValueError, match="no escape for a double quote"):
            dork_term(text)
        return
    if not collapse_whitespace(text):
        with pytest.raises(ValueError):
            dork_term(text)
        return
    term = dork_term(text, "intitle")
    assert term.startswith('intitle:"')
    assert evaluate_dork(term, "before " + text.upper() + " after")
    assert evaluate_dork(term, text)


def test_dork_term_collapses_whitespace() -> None:
    assert dork_term("  boto3.client(\n\t'iam' ) ") == "intext:\"boto3.client( 'iam' )\""
    with pytest.raises(ValueError):
        dork_term("x", operator="in text")
