"""VTGrep and Google-dork parsers and evaluators."""

from __future__ import annotations

import itertools

import pytest

from capiche_build.engines.query import (
    And,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    count_dork_words,
    evaluate_dork,
    evaluate_vtgrep,
    parse_dork,
    parse_vtgrep,
)

A, B, C = 'content:"alpha"', 'content:"bravo"', 'content:"charlie"'
WORDS = ("alpha", "bravo", "charlie")


def _snippet(present: tuple[bool, ...]) -> str:
    return " ".join(word for word, here in zip(WORDS, present, strict=True) if here)


CASES = list(itertools.product((False, True), repeat=3))


@pytest.mark.parametrize("present", CASES)
def test_vtgrep_truth_table(present: tuple[bool, bool, bool]) -> None:
    a, b, c = present
    text = _snippet(present)
    assert evaluate_vtgrep(f"{A} AND {B}", text) == (a and b)
    assert evaluate_vtgrep(f"{A} OR {B}", text) == (a or b)
    assert evaluate_vtgrep(f"NOT {A}", text) == (not a)
    assert evaluate_vtgrep(f"NOT NOT {A}", text) == a
    # AND binds tighter than OR.
    assert evaluate_vtgrep(f"{A} OR {B} AND {C}", text) == (a or (b and c))
    assert evaluate_vtgrep(f"{A} AND {B} OR {C}", text) == ((a and b) or c)
    assert evaluate_vtgrep(f"({A} OR {B}) AND {C}", text) == ((a or b) and c)
    # NOT binds tighter than AND; parentheses widen it.
    assert evaluate_vtgrep(f"NOT {A} AND {B}", text) == ((not a) and b)
    assert evaluate_vtgrep(f"NOT ({A} AND {B})", text) == (not (a and b))
    assert evaluate_vtgrep(f"(({A}))", text) == a


def test_vtgrep_is_case_sensitive_bytes() -> None:
    assert evaluate_vtgrep('content:"CreateUser"', b"iam.CreateUser()")
    assert not evaluate_vtgrep('content:"createuser"', b"iam.CreateUser()")
    assert evaluate_vtgrep("content:{00 ff}", b"a\x00\xffb")
    assert evaluate_vtgrep("content:{C3A9}", "café")
    assert not evaluate_vtgrep("content:{c3a9}", "cafe")


def test_vtgrep_escaped_quotes_and_backslashes() -> None:
    query = 'content:"say \\"hi\\" to C:\\\\Windows"'
    assert parse_vtgrep(query) == Term("content", b'say "hi" to C:\\Windows')
    assert evaluate_vtgrep(query, 'x = "say "hi" to C:\\Windows"')
    assert not evaluate_vtgrep(query, "say hi to C:Windows")


def test_vtgrep_tree_shape() -> None:
    tree = parse_vtgrep(f"{A} OR NOT {B} AND {C}")
    assert tree == Or(
        (
            Term("content", b"alpha"),
            And((Not(Term("content", b"bravo")), Term("content", b"charlie"))),
        )
    )


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("", 0),
        ("   ", 3),
        ('content:"alpha', 8),
        ('content:""', 8),
        ('content:"a\\nb"', 10),
        ("content:{4}", 9),
        ("content:{zz}", 9),
        ("content:{}", 8),
        ("content:{41", 8),
        ("content:alpha", 8),
        ("type:peexe", 0),
        ("alpha", 0),
        (f"{A} {B}", 16),
        (f"{A} and {B}", 16),
        (f"{A} AND", 19),
        (f"AND {A}", 0),
        (f"({A}", 16),
        (f"{A})", 15),
        ("()", 1),
        (f"{A} OR OR {B}", 19),
        (f"{A} NOT {B}", 16),
        ("content:'alpha'", 8),
        ('content:"alpha" & x', 16),
    ],
)
def test_vtgrep_malformed(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_vtgrep(query)
    assert caught.value.position == position
    assert f"position {position}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


DA, DB, DC = 'intext:"alpha"', 'intext:"bravo"', 'intext:"charlie"'


@pytest.mark.parametrize("present", CASES)
def test_dork_truth_table(present: tuple[bool, bool, bool]) -> None:
    a, b, c = present
    text = _snippet(present)
    assert evaluate_dork(f"{DA} {DB}", text) == (a and b)
    assert evaluate_dork(f"{DA} OR {DB}", text) == (a or b)
    assert evaluate_dork(f"{DA} | {DB}", text) == (a or b)
    assert evaluate_dork(f"-{DA}", text) == (not a)
    assert evaluate_dork(f"{DA} -{DB}", text) == (a and not b)
    # Google: OR binds tighter than the implicit AND.
    assert evaluate_dork(f"{DA} {DB} OR {DC}", text) == (a and (b or c))
    assert evaluate_dork(f"{DA} OR {DB} {DC}", text) == ((a or b) and c)
    assert evaluate_dork(f"({DA} {DB}) OR {DC}", text) == ((a and b) or c)
    assert evaluate_dork(f"-({DA} | {DB}) {DC}", text) == ((not (a or b)) and c)
    assert evaluate_dork(f"-({DA} {DB})", text) == (not (a and b))


def test_dork_is_case_insensitive_with_whitespace_collapsed() -> None:
    text = "iam = boto3.client('IAM')\n\n    iam.create_user(\n\tUserName='x')"
    assert evaluate_dork("intext:\"Boto3.Client('iam')\"", text)
    assert evaluate_dork('intext:"iam.create_user( UserName"', text)
    assert evaluate_dork('"create_user(   username"', text)
    assert evaluate_dork("boto3 create_user", text)
    assert not evaluate_dork('intext:"create user"', text)


def test_dork_operators() -> None:
    tree = parse_dork('intitle:"a b" inurl:"c" allintext:"d" site:github.com filetype:py e')
    assert isinstance(tree, And)
    assert [t.operator for t in tree.children if isinstance(t, Term)] == [
        "intitle",
        "inurl",
        "allintext",
        "site",
        "filetype",
        "",
    ]
    assert evaluate_dork('intitle:"boto3"', "import boto3")


def test_dork_phrase_keeps_operators_and_dashes_literal() -> None:
    assert parse_dork('intext:"a OR -b (c) | d"') == Term(
        "intext", "a or -b (c) | d", "a OR -b (c) | d"
    )
    assert evaluate_dork("aws-sdk", "npm i aws-sdk")


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("", 0),
        ('intext:"alpha', 7),
        ('intext:""', 7),
        ('intext:"   "', 7),
        ("intext: alpha", 0),
        ("- alpha", 0),
        ("alpha -", 6),
        ("--alpha", 0),
        ("alpha AND bravo", 6),
        ("alpha OR", 8),
        ("OR alpha", 0),
        ("alpha | | bravo", 8),
        ("(alpha", 6),
        ("alpha)", 5),
        ("()", 1),
        ('in-text:"x"', 0),
        ('"alpha', 0),
    ],
)
def test_dork_malformed(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_dork(query)
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("boto3", 1),
        ('"boto3 client"', 2),
        ('intext:"boto3 client"', 3),
        ("intext:\"boto3.client('iam')\"", 4),
        ('intext:"a" OR intext:"b"', 5),
        ('intext:"a" | intext:"b"', 5),
        ('-intext:"a b" (c d)', 5),
        ('intext:"=>"', 2),
        ("site:github.com", 3),
    ],
)
def test_count_dork_words(query: str, words: int) -> None:
    assert count_dork_words(query) == words


def test_count_dork_words_rejects_malformed() -> None:
    with pytest.raises(ValueError):
        count_dork_words('intext:"unterminated')
