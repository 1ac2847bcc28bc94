"""Catalog search: the filters, their anchoring and case rules, and refused regexes."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capiche_build.catalog import Catalog, Operation, load_catalog
from capiche_build.diagnostics import CapicheError
from capiche_build.regex_safety import compile_user_regex
from capiche_build.search import search

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return CATALOG


def apis(ops: list[Operation]) -> list[str]:
    return [op.api for op in ops]


def assert_sorted_unique(ops: list[Operation]) -> None:
    keys = [(op.service, op.name) for op in ops]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


# --- filters ------------------------------------------------------------------------------------


def test_name_regex_runs_over_service_colon_name(catalog: Catalog) -> None:
    assert apis(search(catalog, name=r"^iam:CreateAccessKey$")) == ["iam:CreateAccessKey"]
    # The service is part of the searched text, so `^iam:` keeps only IAM.
    hits = search(catalog, name=r"^iam:Create")
    assert hits and all(op.service == "iam" and op.name.startswith("Create") for op in hits)
    assert_sorted_unique(hits)


def test_name_regex_is_case_insensitive(catalog: Catalog) -> None:
    expected = search(catalog, name=r"^iam:CreateAccessKey$")
    assert search(catalog, name=r"^IAM:createaccesskey$") == expected
    assert search(catalog, name=r"(?-i:^IAM:createaccesskey$)") == []


def test_name_regex_matches_anywhere_unless_anchored(catalog: Catalog) -> None:
    hits = search(catalog, name="AccessKey")
    assert "iam:CreateAccessKey" in apis(hits)
    assert all("accesskey" in op.api.lower() for op in hits)
    assert len(hits) > len(search(catalog, name="^iam:.*AccessKey$"))


def test_description_regex(catalog: Catalog) -> None:
    hits = search(catalog, description=r"secret access key")
    assert "iam:CreateAccessKey" in apis(hits)
    assert all(re.search("secret access key", op.description, re.I) for op in hits)
    assert_sorted_unique(hits)


def test_service_filter_is_anchored(catalog: Catalog) -> None:
    s3 = search(catalog, service="s3")
    assert {op.service for op in s3} == {"s3"}  # not s3control, s3outposts, s3tables
    both = search(catalog, service="s3|s3control")
    assert {op.service for op in both} == {"s3", "s3control"}
    assert search(catalog, service="S3") == s3  # case-insensitive
    assert {op.service for op in search(catalog, service="s3.*")} > {"s3", "s3control"}


def test_event_source_filter_is_anchored(catalog: Catalog) -> None:
    hits = search(catalog, event_source=r"monitoring\.amazonaws\.com")
    assert {op.service for op in hits} == {"cloudwatch"}
    assert search(catalog, event_source="monitoring") == []  # the whole source must match
    s3 = search(catalog, event_source=r"s3\.amazonaws\.com")
    assert {op.service for op in s3} == {"s3", "s3control"}


def test_filters_are_anded(catalog: Catalog) -> None:
    hits = search(catalog, name=":Create", description="key", service="iam|kms")
    assert hits
    for op in hits:
        assert ":create" in op.api.lower()
        assert "key" in op.description.lower()
        assert op.service in {"iam", "kms"}
    expected = [
        op
        for op in catalog
        if ":create" in op.api.lower()
        and "key" in op.description.lower()
        and op.service in {"iam", "kms"}
    ]
    assert hits == expected


def test_no_filter_returns_everything_in_order(catalog: Catalog) -> None:
    everything = search(catalog)
    assert len(everything) == len(catalog)
    assert_sorted_unique(everything)


# --- property: literal fragments ----------------------------------------------------------------


@st.composite
def api_fragment(draw: st.DrawFn) -> str:
    api = draw(st.sampled_from(CATALOG.apis))
    start = draw(st.integers(0, len(api) - 1))
    end = draw(st.integers(start + 1, min(len(api), start + 12)))
    text = api[start:end]
    return text.swapcase() if draw(st.booleans()) else text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(api_fragment())
def test_literal_fragment_finds_exactly_the_apis_containing_it(fragment: str) -> None:
    hits = search(CATALOG, name=re.escape(fragment))
    needle = fragment.lower()
    assert apis(hits) == [api for api in CATALOG.apis if needle in api.lower()]
    assert hits  # the fragment came from a real API


# --- refused patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"(x|x)*y",
        r"(\w+\s?)+$",
        r"(.*a){20}",
        r"(.?){10}z",
        r".*.*.*z",
        r"\w*\w*z",
        r"^iam:(\w+Key)+$",
    ],
)
def test_catastrophic_patterns_are_refused(catalog: Catalog, pattern: str) -> None:
    for field in ("name", "description"):
        with pytest.raises(CapicheError) as info:
            search(catalog, **{field: pattern})
        diag = info.value.diagnostics[0]
        assert repr(pattern) in diag.message
        assert "refused" in diag.message
        assert diag.hint


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{2,1}", "*x", r"(?P<n>a)(?P<n>b)"])
def test_invalid_patterns_name_the_pattern_and_the_error(catalog: Catalog, pattern: str) -> None:
    with pytest.raises(CapicheError) as info:
        search(catalog, name=pattern)
    message = info.value.diagnostics[0].message
    assert repr(pattern) in message
    assert "invalid regular expression" in message


@pytest.mark.parametrize(
    "pattern",
    [
        r"^iam:(Attach|Put)(User|Group)Polic(y|ies)$",
        r"^iam:(CreateAccessKey|CreateLoginProfile|UpdateLoginProfile)$",
        r":(Create|Delete|Put)",
        r"^s3:.*Bucket.*Policy",
        r"Create.*Key",
        r"\w+Key$",
        r"encrypt(ion|ed)?",
        r"access\s+key",
        r"^[a-z0-9-]+:(Get|List)",
    ],
)
def test_ordinary_patterns_are_accepted(catalog: Catalog, pattern: str) -> None:
    started = time.perf_counter()
    search(catalog, name=pattern)
    search(catalog, description=pattern)
    assert time.perf_counter() - started < 1.0


# --- property: whatever the checker accepts runs fast -------------------------------------------

ATOMS = ["a", "e", "s", " ", ":", "Key", ".", r"\w", r"\s", "[ae]", "[^a]"]
QUANTIFIERS = ["", "", "*", "+", "?", "*?", "{2}", "{1,3}", "{0,4}"]


def _quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(inner, st.sampled_from(QUANTIFIERS)).map("".join)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map("".join),
        _quantified(children.map(lambda x: f"({x})")),
        _quantified(st.lists(children, min_size=2, max_size=3).map(lambda xs: f"({'|'.join(xs)})")),
    )


PATTERNS = st.tuples(
    st.sampled_from(["", "", "^"]),
    st.recursive(_quantified(st.sampled_from(ATOMS)), _compound, max_leaves=8),
    st.sampled_from(["", "", "$"]),
).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATTERNS)
def test_accepted_patterns_search_the_whole_catalog_quickly(pattern: str) -> None:
    """Safety, not speed: a pattern that passes the checker cannot hang a search."""
    try:
        compile_user_regex(pattern)
    except CapicheError as err:
        assert repr(pattern) in err.diagnostics[0].message
        return
    started = time.perf_counter()
    search(CATALOG, name=pattern)
    search(CATALOG, description=pattern)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{pattern!r} took {elapsed:.2f} s"
