"""Definitions: schema errors a person makes, the condition language, and metadata text that
must survive every generator."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.collection import SigmaCollection

from capiche_build.api import render, rule_from_groups
from capiche_build.build import resolve_all
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.condition import (
    And,
    AtLeast,
    ConditionError,
    Conjunction,
    Not,
    Or,
    Ref,
    names,
    parse_condition,
    to_dnf,
)
from capiche_build.definitions import (
    GROUP_RE,
    RESERVED_GROUPS,
    YARAL_KEYWORDS,
    load_definitions,
    parse_definition,
)
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.engines.query import count_dork_words, parse_dork, parse_vtgrep
from capiche_build.engines.yara import check_yara
from capiche_build.model import FORMATS, ResolvedRule

try:
    from capiche_build.yaral.checker import check_yaral
except ImportError:  # pragma: no cover - the YARA-L checker ships separately
    check_yaral = None

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "definitions"
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return CATALOG


def _render_all(rule: ResolvedRule) -> dict[str, str]:
    texts: dict[str, str] = {}
    for fmt in FORMATS:
        if fmt not in rule.source.formats:
            continue
        try:
            texts[fmt] = render(rule, fmt)
        except CapicheError as err:
            # The one documented refusal: a negated group too big for Google's 32 words.
            negated = any(c.negative for c in rule.source.conjunctions)
            assert fmt == "dork" and negated and "cannot fit in 32 words" in str(err), err
    return texts


def check_outputs(rule: ResolvedRule) -> dict[str, str]:
    """Render every format and validate each text with its engine or our query parsers."""
    texts = _render_all(rule)
    if "yara" in texts:
        assert check_yara(texts["yara"]) == [], texts["yara"]
    if "sigma" in texts:
        collection = SigmaCollection.from_yaml(texts["sigma"])
        assert collection.errors == [], texts["sigma"]
        assert collection.rules
    if "vtgrep" in texts:
        queries = [q for q in texts["vtgrep"].splitlines() if q.strip()]
        assert queries
        for query in queries:
            parse_vtgrep(query)
    if "dork" in texts:
        queries = [q for q in texts["dork"].splitlines() if q.strip()]
        assert queries
        for query in queries:
            parse_dork(query)
            assert count_dork_words(query) <= 32, query
    if "yaral" in texts and check_yaral is not None:
        errors = [d for d in check_yaral(texts["yaral"]) if d.severity == "error"]
        assert errors == [], (errors, texts["yaral"])
    return texts


# --- valid fixtures -----------------------------------------------------------------------------


VALID = sorted((FIXTURES / "valid").glob("*.yml"))


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_builds_into_valid_rules(catalog: Catalog, path: Path) -> None:
    (rule,) = resolve_all(catalog, [path], FIXTURES)
    assert rule.source.path == f"valid/{path.name}"
    check_outputs(rule)


def test_special_characters_survive_into_the_rules(catalog: Catalog) -> None:
    (rule,) = resolve_all(catalog, [FIXTURES / "valid" / "metadata_special_characters.yml"])
    src = rule.source
    assert src.title == '"Quoted" key\'s \\ backslash */ café 🚀 folded onto one line'
    assert "\n" not in src.description and "鍵" in src.description and "*/" in src.description
    texts = check_outputs(rule)
    sigma = next(yaml.safe_load_all(texts["sigma"]))
    assert sigma["title"] == src.title
    assert sigma["description"] == src.description
    assert sigma["author"] == src.author
    # YARA meta keeps the text byte for byte: `\"`, `\\` and UTF-8 as \xNN escapes.
    assert r"\"Quoted\" key" in texts["yara"] and r"\\ backslash" in texts["yara"]
    assert "caf\\xc3\\xa9" in texts["yara"]


def test_counting_condition_fixture(catalog: Catalog) -> None:
    (rule,) = resolve_all(catalog, [FIXTURES / "valid" / "multi_group_counting.yml"])
    src = rule.source
    assert src.condition == AtLeast(2, (Ref("keys"), Ref("login"), Ref("policy")))
    assert {c.positive for c in src.conjunctions} == {
        ("keys", "login"),
        ("keys", "policy"),
        ("login", "policy"),
    }
    policy = rule.group("policy")
    assert "iam:AttachGroupPolicy" not in [op.api for op in policy.operations]
    assert {op.api for op in policy.operations} == {"iam:AttachRolePolicy", "iam:AttachUserPolicy"}
    assert policy.forms == ("boto3",)
    assert src.logs.window == "30m"
    assert src.code.header == ("import boto3",)


# --- invalid fixtures ---------------------------------------------------------------------------

# file -> (line, text in the message, text in the hint) of the diagnostic it must produce.
INVALID: dict[str, tuple[int, str, str]] = {
    "field_name_typo.yml": (4, "unknown field `descripton`", "did you mean `description`"),
    "unknown_group_key.yml": (11, "unknown field `api` in group `keys`", "did you mean `apis`"),
    "bad_date.yml": (6, "`date` '2024/05/01' is not YYYY-MM-DD", "2026-12-04"),
    "id_not_uuid.yml": (1, "is not a UUID", "capiche new"),
    "name_path_escape.yml": (2, "name '../x' is not a lower-case identifier", "no `/`, `.`"),
    "name_is_keyword.yml": (2, "name 'condition' is a YARA or YARA-L keyword", "choose"),
    "condition_undefined_group.yml": (12, "condition names group `backdoor`", "groups: keys"),
    "condition_syntax.yml": (14, "expected a group name", "and, or, not"),
    "unused_group.yml": (12, "group `login` is not used in the condition", "remove it"),
    "group_name_collision.yml": (12, "`user` and `user_admin` collide", "rename `user_admin`"),
    "group_name_keyword.yml": (12, "group name 'count' is reserved", "choose another name"),
    "empty_group.yml": (12, "group `login` selects nothing", "give `apis`"),
    # Selector problems are found when the group is resolved; they point at the selector's line.
    "invalid_regex.yml": (11, "invalid regular expression", "brackets"),
    "catastrophic_regex.yml": (11, r"'^iam:(\\w+Key)+$': refused", "remove the inner"),
    "regex_matches_nothing.yml": (11, "matches no operation", "there is no service 'iamv2'"),
    "unknown_api_typo.yml": (13, "unknown API 'iam:CreateAcessKey'", "iam:CreateAccessKey"),
    "duplicate_yaml_key.yml": (12, "duplicate key 'level' (first on line 8)", "indentation"),
    "bad_indentation.yml": (12, "invalid YAML", "check indentation"),
}


def test_every_invalid_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in (FIXTURES / "invalid").glob("*.yml")) == sorted(INVALID)


def diagnostics_for(catalog: Catalog, path: Path) -> list[Diagnostic]:
    with pytest.raises(CapicheError) as info:
        resolve_all(catalog, [path], FIXTURES)
    return info.value.diagnostics


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixture_is_located_and_explained(catalog: Catalog, name: str) -> None:
    line, message, hint = INVALID[name]
    found = diagnostics_for(catalog, FIXTURES / "invalid" / name)
    assert all(d.file == f"invalid/{name}" for d in found), found
    assert all(d.severity == "error" for d in found)
    matching = [d for d in found if message in d.message]
    assert matching, [d.format() for d in found]
    diag = matching[0]
    assert diag.line == line, diag.format()
    assert hint in diag.hint, diag.format()
    # The formatted line names file:line and the hint, as the CLI prints it.
    assert diag.format().startswith(f"invalid/{name}:{line}")
    assert "(hint: " in diag.format()


def test_a_missing_field_is_reported_once(catalog: Catalog) -> None:
    found = diagnostics_for(catalog, FIXTURES / "invalid" / "field_name_typo.yml")
    missing = [d for d in found if "missing required field `description`" in d.message]
    assert len(missing) == 1


def test_all_problems_of_a_folder_are_reported_together(catalog: Catalog) -> None:
    with pytest.raises(CapicheError) as info:
        load_definitions([FIXTURES / "invalid"], FIXTURES)
    files = {d.file for d in info.value.diagnostics}
    # Selector problems need the catalog: schema checking alone does not see them.
    resolved_later = {
        "invalid_regex.yml",
        "catastrophic_regex.yml",
        "regex_matches_nothing.yml",
        "unknown_api_typo.yml",
    }
    assert files == {f"invalid/{n}" for n in set(INVALID) - resolved_later}


def test_duplicate_ids_and_names_across_files(catalog: Catalog) -> None:
    found = diagnostics_for(catalog, FIXTURES / "duplicates")
    by_message = {d.message.split(" '")[0]: d for d in found}
    assert set(by_message) == {"duplicate id", "duplicate name"}
    ident, name = by_message["duplicate id"], by_message["duplicate name"]
    # The second file (in path order) is blamed, at the line of the key, naming the first.
    assert (ident.file, ident.line) == ("duplicates/second.yml", 2)
    assert (name.file, name.line) == ("duplicates/second.yml", 3)
    assert "duplicates/first.yml" in ident.message and "duplicates/first.yml" in name.message
    assert ident.hint and name.hint


def test_fixture_folders_are_skipped_when_collecting(tmp_path: Path) -> None:
    # A `fixtures` folder holds test records and inputs, never definitions.
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "records.yml").write_text("not: [a definition", encoding="utf-8")
    (tmp_path / "rule.yml").write_text(BASE, encoding="utf-8")
    (source,) = load_definitions([tmp_path], tmp_path)
    assert (source.name, source.path) == ("base", "rule.yml")


def test_yaral_keyword_list_mirrors_the_parser() -> None:
    parser = pytest.importorskip("capiche_build.yaral.parser")
    assert frozenset(parser.KEYWORDS) == YARAL_KEYWORDS


BASE = """\
id: 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
name: base
title: Base
description: Base.
author: tests
date: 2026-01-01
status: experimental
level: medium
groups:
    keys:
        apis: [iam:CreateAccessKey]
condition: keys
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("title: Base", 'title: "two\\nlines"', "`title` must be one line"),
        ("level: medium", "level: severe", "unknown level 'severe'"),
        ("status: experimental", "status: done", "unknown status 'done'"),
        ("date: 2026-01-01", "date: 2026-02-30x", "is not YYYY-MM-DD"),
        ("condition: keys", "condition: keys and not keys", "can never be true"),
        ("condition: keys", "condition: not keys", "only negated groups"),
        ("name: base", "name: Base", "is not a lower-case identifier"),
    ],
)
def test_single_field_errors(old: str, new: str, message: str) -> None:
    text = BASE.replace(old, new)
    assert text != BASE
    with pytest.raises(CapicheError) as info:
        parse_definition(text, "x.yml")
    (diag,) = info.value.diagnostics
    assert message in diag.message
    assert diag.line == next(i for i, row in enumerate(text.splitlines(), 1) if row == new)


def test_base_definition_parses() -> None:
    src = parse_definition(BASE, "x.yml")
    assert (src.name, src.condition_text, src.line_of("condition")) == ("base", "keys", 12)


# --- condition language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a", Ref("a")),
        ("a or b and c", Or((Ref("a"), And((Ref("b"), Ref("c")))))),
        ("(a or b) and c", And((Or((Ref("a"), Ref("b"))), Ref("c")))),
        ("not a and b", And((Not(Ref("a")), Ref("b")))),
        ("not not a", Not(Not(Ref("a")))),
        ("a AND b Or c", Or((And((Ref("a"), Ref("b"))), Ref("c")))),
        ("2 of (a, b, c)", AtLeast(2, (Ref("a"), Ref("b"), Ref("c")))),
        ("any of (a, b)", Or((Ref("a"), Ref("b")))),
        ("all of (a,b)", And((Ref("a"), Ref("b")))),
        ("1 of (a)", Ref("a")),
        ("3 of (a, b, c)", And((Ref("a"), Ref("b"), Ref("c")))),
        (
            "a and not 2 of (b, c, d)",
            And((Ref("a"), Not(AtLeast(2, (Ref("b"), Ref("c"), Ref("d")))))),
        ),
    ],
)
def test_condition_parse_trees(text: str, tree: object) -> None:
    assert parse_condition(text) == tree


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("a and", 5, "expected a group name"),
        ("a ) b", 2, "unexpected ')'"),
        ("a & b", 2, "unexpected character '&'"),
        ("a b", 2, "unexpected 'b'"),
        ("(a or b", 7, "expected ')'"),
        ("3 of (a, b)", 0, "`3 of` needs between 1 and 2 groups"),
        ("any of a, b", 7, "expected '('"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
    ],
)
def test_condition_errors_have_positions(text: str, position: int, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert info.value.position == position
    assert message in str(info.value)
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "dnf"),
    [
        ("a", [(("a",), ())]),
        ("a and (b or c)", [(("a", "b"), ()), (("a", "c"), ())]),
        ("a and not b", [(("a",), ("b",))]),
        ("not (a and b) and c", [(("c",), ("a",)), (("c",), ("b",))]),
        ("not (a or b) and c", [(("c",), ("a", "b"))]),
        ("2 of (a, b, c)", [(("a", "b"), ()), (("a", "c"), ()), (("b", "c"), ())]),
        ("a or a", [(("a",), ())]),
        ("(a and not a) or b", [(("b",), ())]),
    ],
)
def test_to_dnf(text: str, dnf: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    assert to_dnf(parse_condition(text)) == tuple(Conjunction(p, n) for p, n in dnf)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not a", "only negated groups"),
        ("a and not a", "can never be true"),
        (" and ".join(f"(a{i} or b{i})" for i in range(6)), "64 alternatives"),
    ],
)
def test_to_dnf_refuses_unusable_conditions(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        to_dnf(parse_condition(text))


def test_condition_names_in_order() -> None:
    assert names(parse_condition("c and not (a or 2 of (b, c, d))")) == ["c", "a", "b", "d"]


# --- property: any metadata text, any valid group names -> valid rules --------------------------

SPECIAL = "\"'\\\n\r\t */{}$#:;%|&^`~<>[]()@!?=,.-_é😀🔑鍵ßÆ\u00a0\u2028\u200b"
META_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL),
        st.sampled_from(string.ascii_letters + string.digits + " "),
        st.characters(exclude_categories=("Cs",)),  # lone surrogates cannot be UTF-8
    ),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() != "")

GROUP_NAMES = st.from_regex(GROUP_RE, fullmatch=True).filter(lambda n: n not in RESERVED_GROUPS)

APIS = [
    "iam:CreateAccessKey",
    "iam:AttachUserPolicy",
    "lambda:UpdateFunctionCode",  # versioned eventName: prefix match
    "lambda:GetFunction",  # prefix-ambiguous: anchored regex
    "s3:GetPublicAccessBlock",  # renamed eventName
    "rds:ModifyOptionGroup",  # two CLI commands
    "emr:RunJobFlow",  # no CLI command
    "cloudwatch:PutMetricAlarm",  # eventSource monitoring
    "sso-admin:CreatePermissionSet",
]


@st.composite
def rule_inputs(draw: st.DrawFn) -> tuple[dict[str, list[str]], str]:
    chosen = draw(st.lists(GROUP_NAMES, min_size=1, max_size=3, unique=True))
    chosen = [n for n in chosen if not any(o != n and o.startswith(n + "_") for o in chosen)]
    groups = {
        n: draw(st.lists(st.sampled_from(APIS), min_size=1, max_size=3, unique=True))
        for n in chosen
    }
    shapes = ["and", "or"]
    if len(chosen) >= 2:
        shapes += ["not", "2of"]
    shape = draw(st.sampled_from(shapes))
    if shape == "not":
        condition = f"{chosen[0]} and not {chosen[1]}"
        if len(chosen) == 3:
            condition += f" or {chosen[2]}"
    elif shape == "2of":
        condition = f"2 of ({', '.join(chosen)})"
    else:
        condition = f" {shape} ".join(chosen)
    return groups, condition


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(title=META_TEXT, description=META_TEXT, author=META_TEXT, inputs=rule_inputs())
def test_any_metadata_and_group_names_render_valid_rules(
    title: str, description: str, author: str, inputs: tuple[dict[str, list[str]], str]
) -> None:
    groups, condition = inputs
    try:
        rule = rule_from_groups(
            "fuzzed_rule",
            groups,
            condition,
            catalog=CATALOG,
            title=title,
            description=description,
            author=author,
        )
    except CapicheError as err:
        # The only refusal allowed: `a and not b` where b's APIs are all in a (nothing left).
        assert "not" in condition, err
        return
    check_outputs(rule)


def test_user_agent_auto_follows_the_groups_code_forms() -> None:
    text = """
id: 2b1f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
name: keys_from_sdks
title: Access Keys From SDKs
description: Access keys created from boto3 scripts only.
author: capiche-build
date: 2026-12-04
status: experimental
level: low
groups:
    keys:
        apis: [iam:CreateAccessKey]
        forms: [boto3]
logs:
    user_agent: auto
"""
    source = parse_definition(text, "auto.yml")
    assert source.logs.user_agent == ("Boto3",)
