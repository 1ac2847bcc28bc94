"""The YARA-L parser, checker and evaluator (capiche_build.yaral)."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.metadata
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capiche_build.diagnostics import CapicheError
from capiche_build.yaral import (
    Detection,
    UnsupportedRuleError,
    YaralSyntaxError,
    check_yaral,
    evaluate,
    parse_yaral,
)
from capiche_build.yaral import nodes as n
from capiche_build.yaral.udm_schema import load_udm_schema

FIXTURES = Path(__file__).parent / "fixtures" / "yaral"
VALID = sorted((FIXTURES / "valid").glob("*.yaral"))
INVALID = sorted((FIXTURES / "invalid").glob("*.yaral"))
REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"
EXPECT = re.compile(r"//\s*expect:\s*(.+?)\s*$")
BACKDOOR = (FIXTURES / "valid" / "aws_iam_user_backdoor.yaral").read_text(encoding="utf-8")


def rule_text(events: str, condition: str = "$e", match: str = "", extra: str = "") -> str:
    """A small rule around the given sections."""
    parts = ["rule t {", "  meta:", '    author = "tests"', "  events:", events]
    if match:
        parts += ["  match:", f"    {match}"]
    parts += [extra, "  condition:", f"    {condition}", "}"]
    return "\n".join(parts) + "\n"


# -- parser ---------------------------------------------------------------------------------------


def test_parse_generated_rule_shape() -> None:
    (rule,) = parse_yaral(BACKDOOR).rules
    assert rule.name == "iam_user_backdoor"
    assert [s.name for s in rule.sections] == ["meta", "events", "match", "outcome", "condition"]
    assert rule.meta[0].key == "id" and rule.meta[0].value.value.startswith("7f1c2a9e")
    assert rule.match is not None
    assert [v.name for v in rule.match.variables] == ["principal"]
    assert rule.match.window.seconds == 3600
    assert isinstance(rule.condition, n.And)
    assert [op.name for op in rule.condition.operands] == ["creds", "policy"]  # type: ignore[union-attr]
    first = rule.events[0]
    assert isinstance(first, n.Compare) and isinstance(first.left, n.FieldRef)
    assert (first.line, first.column) == (9, 5)
    assert first.left.dotted == "metadata.vendor_name"
    regexes = [x for e in rule.events for x in n.walk(e) if isinstance(x, n.RegexLit)]
    assert [r.pattern for r in regexes] == ["^UpdateFunctionCode", "Boto3\\/"]
    agent = rule.events[3]
    assert isinstance(agent, n.Compare) and agent.nocase


def test_or_binds_across_lines_and_and_is_implicit() -> None:
    text = rule_text(
        '    $e.metadata.vendor_name = "A"\n    or $e.metadata.vendor_name = "B"\n'
        '    $e.principal.ip = "1.2.3.4"'
    )
    (rule,) = parse_yaral(text).rules
    assert len(rule.events) == 2
    assert isinstance(rule.events[0], n.Or) and isinstance(rule.events[1], n.Compare)


def test_keywords_are_case_insensitive() -> None:
    text = 'RULE upper {\n META:\n EVENTS:\n  $e.metadata.vendor_name = "a" NOCASE AND NOT $e.principal.ip = "1"\n CONDITION:\n  $e\n}\n'
    (rule,) = parse_yaral(text).rules
    assert [s.name for s in rule.sections] == ["meta", "events", "condition"]
    assert check_yaral(text) == []


def test_regex_versus_division_and_list_versus_modulo() -> None:
    text = rule_text(
        "    $e.metadata.product_event_type = /a\\/b/\n"
        "    $e.principal.hostname in %hosts\n"
        "    $e.principal.user.userid = $user",
        match="$user over 1h",
        extra="  outcome:\n    $half = max(10) / 2\n    $rest = max(7) % 2",
    )
    (rule,) = parse_yaral(text).rules
    assert isinstance(rule.events[0], n.Compare) and isinstance(rule.events[0].right, n.RegexLit)
    assert rule.events[0].right.pattern == "a\\/b"
    assert isinstance(rule.events[1], n.InList) and rule.events[1].list.name == "hosts"
    assert [a.expr.op for a in rule.outcome] == ["/", "%"]  # type: ignore[union-attr]


def test_comments_backticks_and_escapes() -> None:
    text = rule_text(
        "    /* block\n       comment */ re.regex($e.principal.hostname, `^web\\d+$`) // trailing\n"
        '    $e.target.file.full_path = "C:\\\\Windows\\\\\\"x\\"\\n"'
    )
    (rule,) = parse_yaral(text).rules
    call = rule.events[0]
    assert isinstance(call, n.Call) and call.name == "re.regex"
    assert isinstance(call.args[1], n.StringLit) and call.args[1].value == "^web\\d+$"
    assert call.args[1].backtick
    path = rule.events[1]
    assert isinstance(path, n.Compare) and isinstance(path.right, n.StringLit)
    assert path.right.value == 'C:\\Windows\\"x"\n'


def test_map_keys_indexes_and_sources() -> None:
    text = rule_text(
        '    $e.additional.fields["recipientAccountId"] = "1"\n'
        '    $e.principal.ip[0] = "10.0.0.1"\n'
        '    any $e.about.labels["k"] = "v"'
    )
    (rule,) = parse_yaral(text).rules
    refs = [x for e in rule.events for x in n.walk(e) if isinstance(x, n.FieldRef)]
    assert refs[0].path == ("additional", "fields", n.MapKey("recipientAccountId"))
    assert refs[0].dotted == 'additional.fields["recipientAccountId"]'
    assert refs[1].path == ("principal", "ip", n.Index(0))
    assert refs[2].quantifier == "any"
    assert check_yaral(text) == []


def test_match_windows_and_options() -> None:
    text = rule_text(
        '    $a.metadata.product_event_type = "X"\n    $a.principal.user.userid = $u\n'
        '    $b.metadata.product_event_type = "Y"\n    $b.principal.user.userid = $u',
        condition="$a and !$b",
        match="$u over 30m after $a",
        extra="",
    ).replace("}\n", "  options:\n    allow_zero_values = true\n}\n")
    (rule,) = parse_yaral(text).rules
    assert rule.match is not None and rule.match.anchor == "after"
    assert rule.match.pivot is not None and rule.match.pivot.name == "a"
    assert rule.match.window.seconds == 1800
    assert rule.options[0].key == "allow_zero_values"
    assert check_yaral(text) == []


def test_nodes_are_frozen() -> None:
    (rule,) = parse_yaral(BACKDOOR).rules
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.name = "other"  # type: ignore[misc]


def test_parse_yaral_raises_a_located_error() -> None:
    text = rule_text('    $e.metadata.vendor_name = "A" )')
    with pytest.raises(YaralSyntaxError) as info:
        parse_yaral(text)
    line = text.splitlines()[info.value.line - 1]
    assert (info.value.line, info.value.column) == (5, line.index(")") + 1)
    assert "expected an expression" in info.value.message
    assert isinstance(info.value, CapicheError)


def test_broken_rule_does_not_hide_the_next_one() -> None:
    text = rule_text("    $e.metadata.vendor_name = = 1") + rule_text("    $e.x.y = 1")
    numbered = list(enumerate(text.splitlines(), 1))
    broken = next(i for i, line in numbered if "= = 1" in line)
    bad_field = next(i for i, line in numbered if "$e.x.y" in line)
    lines = {d.line for d in check_yaral(text)}
    assert lines == {broken, bad_field}


# -- checker --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_checks_clean(path: Path) -> None:
    assert check_yaral(path.read_text(encoding="utf-8"), str(path)) == []


def test_there_are_enough_fixtures() -> None:
    assert len(VALID) >= 8 and len(INVALID) >= 7


def expectations(text: str) -> dict[int, str]:
    return {
        number: match.group(1)
        for number, line in enumerate(text.splitlines(), 1)
        if (match := EXPECT.search(line))
    }


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_expected_error(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = expectations(text)
    assert expected, f"{path.name} has no `// expect:` line"
    diags = check_yaral(text, str(path))
    errors = [d for d in diags if d.severity == "error"]
    for line, fragment in expected.items():
        messages = [d.message for d in errors if d.line == line]
        assert any(fragment in m for m in messages), (line, fragment, messages)
    assert {d.line for d in errors} == set(expected), [d.format() for d in errors]
    assert all(d.engine == "yara-l" and d.file == str(path) for d in diags)


def test_hints_say_what_to_do() -> None:
    conditions = (FIXTURES / "invalid" / "conditions_plural.yaral").read_text(encoding="utf-8")
    (diag,) = check_yaral(conditions)
    assert diag.hint == "the section is `condition:`"
    typo = (FIXTURES / "invalid" / "bad_udm_field.yaral").read_text(encoding="utf-8")
    (diag,) = check_yaral(typo, "bad.yaral")
    assert diag.hint == "did you mean `metadata.product_event_type`?"
    assert diag.format().startswith("bad.yaral:6:5: error: [yara-l] ")
    quote = (FIXTURES / "invalid" / "meta_unescaped_quote.yaral").read_text(encoding="utf-8")
    (diag,) = check_yaral(quote)
    assert '\\"' in diag.hint


def test_regular_expressions_follow_re2() -> None:
    backref = rule_text("    re.regex($e.principal.hostname, `(a)\\1`)")
    (diag,) = check_yaral(backref)
    assert "backreference" in diag.message and diag.severity == "error"
    escaped = rule_text("    $e.target.file.full_path = /C:\\\\1/")  # a literal backslash
    assert check_yaral(escaped) == []
    broken = rule_text("    $e.principal.hostname = /a{2,1}/")
    (diag,) = check_yaral(broken)
    assert diag.severity == "warning" and "does not compile" in diag.message


def test_single_group_generator_shape_is_clean() -> None:
    text = """rule stop_logging {
    meta:
        author = "capiche-build"
        severity = "HIGH"
    events:
        $e.metadata.vendor_name = "AMAZON"
        $e.metadata.product_name = "AWS CloudTrail"
        (
            ($e.target.application = "cloudtrail.amazonaws.com" and ($e.metadata.product_event_type = "StopLogging" or $e.metadata.product_event_type = "DeleteTrail"))
            or ($e.target.application = "lambda.amazonaws.com" and $e.metadata.product_event_type = /^UpdateFunctionCode/)
        )
        not ($e.target.application = "iam.amazonaws.com" and $e.metadata.product_event_type = /^Get/)
    outcome:
        $principal = $e.principal.user.userid
        $event_name = $e.metadata.product_event_type
    condition:
        $e
}
"""
    assert check_yaral(text) == []


def test_udm_schema_resolves_paths() -> None:
    schema = load_udm_schema()
    assert schema.resolve(["metadata", "product_event_type"]).type == "string"
    assert schema.resolve(["security_result", "action"]).enum == "security_result.action"
    assert schema.resolve(["additional", "fields", n.MapKey("x")]).type == "string"
    assert schema.resolve(["target", "resource", "attribute", "labels", n.MapKey("k")]).type
    assert schema.resolve(["principal", "ip", n.Index(3)]).type == "string"
    assert schema.resolve(["metadata", "event_timestamp", "seconds"]).type == "int"
    # Recursive types resolve at any depth.
    deep = ["principal", "process", "parent_process", "parent_process", "file", "full_path"]
    assert schema.resolve(deep).type == "string"
    assert schema.resolve(["security_result", "about", "user", "userid"]).type == "string"
    assert schema.resolve(["udm", "principal", "hostname"]).type == "string"
    assert schema.resolve(["graph", "entity", "hostname"]).type == "string"
    assert not schema.resolve(["graph", "metadata", "entity_type"]).checked
    bad = schema.resolve(["principal", "usr", "userid"])
    assert bad.error and bad.suggestion == "principal.user.userid"
    assert schema.source["package"] == "pysigma-backend-secops"
    assert schema.source["license"] == "LGPL-3.0-only"


def test_udm_file_is_up_to_date() -> None:
    try:
        importlib.metadata.distribution("pysigma-backend-secops")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("pysigma-backend-secops is not installed (maintainer dependency)")
    from capiche_build.yaral.make_udm_fields import main

    assert main(["--check"]) == 0


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )


@settings(max_examples=75, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40))
def test_escaped_meta_round_trips(value: str) -> None:
    text = rule_text('    $e.metadata.vendor_name = "AMAZON"').replace(
        'author = "tests"', f'description = "{escape(value)}"'
    )
    (rule,) = parse_yaral(text).rules
    assert rule.meta[0].value.value == value
    assert check_yaral(text) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_checker_never_crashes(data: st.DataObject) -> None:
    # Cut a valid rule apart and splice in noise: every outcome is a list of diagnostics.
    start = data.draw(st.integers(0, len(BACKDOOR)))
    end = data.draw(st.integers(start, min(len(BACKDOOR), start + 40)))
    noise = data.draw(st.text(alphabet='$#%(){}[]"`/\\*=!<>.,: \nabor', max_size=8))
    diags = check_yaral(BACKDOOR[:start] + noise + BACKDOOR[end:])
    assert all(d.line is not None for d in diags)


# -- evaluator ------------------------------------------------------------------------------------

ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"


def ct(
    name: str,
    time: str,
    source: str = "iam.amazonaws.com",
    arn: str | None = ALICE,
    agent: str = "Boto3/1.26.165 Python/3.10.6 Linux/5.15",
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventName": name,
        "eventSource": source,
        "eventTime": time,
        "userAgent": agent,
        "sourceIPAddress": "198.51.100.7",
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
    }
    if arn is not None:
        record["userIdentity"] = {"type": "IAMUser", "arn": arn}
    record.update(extra)
    return record


STOP_LOGGING = """rule stop_logging {
  meta:
    author = "tests"
  events:
    $e.metadata.vendor_name = "AMAZON"
    $e.target.application = "cloudtrail.amazonaws.com"
    ($e.metadata.product_event_type = "StopLogging" or $e.metadata.product_event_type = "DeleteTrail")
    $e.security_result.action = "ALLOW"
  condition:
    $e
}
"""


def indices(detections: Iterable[Detection]) -> list[tuple[int, ...]]:
    return [d.record_indices for d in detections]


def test_single_event_rule_matches_each_event() -> None:
    records = [
        ct("StopLogging", "2023-07-10T12:00:00Z", "cloudtrail.amazonaws.com"),
        ct("GetTrailStatus", "2023-07-10T12:00:01Z", "cloudtrail.amazonaws.com"),
        ct("DeleteTrail", "2023-07-10T12:00:02Z", "cloudtrail.amazonaws.com"),
        ct("DeleteTrail", "2023-07-10T12:00:03Z", "cloudtrail.amazonaws.com", errorCode="X"),
        ct("StopLogging", "2023-07-10T12:00:04Z", "iam.amazonaws.com"),
    ]
    found = evaluate(STOP_LOGGING, records)
    assert indices(found) == [(0,), (2,)]
    assert found[0].rule == "stop_logging" and found[0].match == ()
    assert found[0].events == (("e", (0,)),)
    assert evaluate(STOP_LOGGING, records[1:2]) == []


def test_two_groups_by_one_principal_inside_the_window() -> None:
    records = [
        ct("CreateAccessKey", "2023-07-10T12:00:00Z"),
        ct("ListUsers", "2023-07-10T12:10:00Z"),
        ct("AttachUserPolicy", "2023-07-10T13:00:00Z"),  # exactly one hour later: inside
    ]
    (found,) = evaluate(BACKDOOR, records)
    assert found.match == (("principal", ALICE),)
    assert found.record_indices == (0, 2)
    assert found.events == (("creds", (0,)), ("policy", (2,)))
    assert (
        found.first_seen is not None and found.first_seen.isoformat() == "2023-07-10T12:00:00+00:00"
    )


def test_two_groups_outside_the_window_do_not_fire() -> None:
    records = [
        ct("CreateAccessKey", "2023-07-10T12:00:00Z"),
        ct("AttachUserPolicy", "2023-07-10T13:00:01Z"),
    ]
    assert evaluate(BACKDOOR, records) == []
    assert evaluate(BACKDOOR, records[:1]) == []  # one group alone is not enough


def test_two_groups_by_different_principals_do_not_join() -> None:
    records = [
        ct("CreateAccessKey", "2023-07-10T12:00:00Z", arn=ALICE),
        ct("AttachUserPolicy", "2023-07-10T12:05:00Z", arn=BOB),
        ct("AttachUserPolicy", "2023-07-10T12:06:00Z", arn=None),  # no principal: zero value
    ]
    assert evaluate(BACKDOOR, records) == []


def test_user_agent_regex_is_case_insensitive() -> None:
    records = [
        ct("CreateLoginProfile", "2023-07-10T12:00:00Z", agent="BOTO3/1.0 python"),
        ct("PutUserPolicy", "2023-07-10T12:01:00Z"),
        ct("CreateAccessKey", "2023-07-10T12:02:00Z", agent="aws-cli/2.13.0"),
    ]
    (found,) = evaluate(BACKDOOR, records)
    assert found.record_indices == (0, 1)


def test_lambda_prefix_regex_matches_versioned_event_names() -> None:
    records = [
        ct("UpdateFunctionCode20150331v2", "2023-07-10T12:00:00Z", "lambda.amazonaws.com"),
        ct("AttachUserPolicy", "2023-07-10T12:00:30Z"),
        ct("GetFunctionUpdateFunctionCode", "2023-07-10T12:00:40Z", "lambda.amazonaws.com"),
    ]
    (found,) = evaluate(BACKDOOR, records)
    assert found.events == (("creds", (0,)), ("policy", (1,)))


NOT_DELETED = (FIXTURES / "valid" / "aws_access_key_created_not_deleted.yaral").read_text(
    encoding="utf-8"
)
HOP_NOT_DELETED = NOT_DELETED.replace("over 1h after $create", "over 1h")


def keyed_on_caller(text: str) -> str:
    # capiche_build.udm maps no CloudTrail field to target.user; key the rule on the caller.
    return text.replace(".target.user.userid", ".principal.user.userid")


def test_non_existence_of_the_second_event() -> None:
    text = keyed_on_caller(NOT_DELETED)  # `over 1h after $create`
    assert check_yaral(text) == []
    created = ct("CreateAccessKey", "2023-07-10T12:00:00Z")
    deleted_soon = ct("DeleteAccessKey", "2023-07-10T12:20:00Z")
    deleted_late = ct("DeleteAccessKey", "2023-07-10T14:00:00Z")
    deleted_before = ct("DeleteAccessKey", "2023-07-10T11:50:00Z")
    assert evaluate(text, [created, deleted_soon]) == []
    (found,) = evaluate(text, [created, deleted_late])
    assert found.record_indices == (0,) and found.events == (("create", (0,)),)
    assert found.match == (("target_user", ALICE),)
    assert indices(evaluate(text, [deleted_before, created])) == [(1,)]
    other_user = ct("DeleteAccessKey", "2023-07-10T12:20:00Z", arn=BOB)
    assert indices(evaluate(text, [created, other_user])) == [(0,)]


def test_non_existence_in_hop_windows() -> None:
    # A hop window may end right after the creation, before the deletion: Google recommends
    # sliding windows for non-existence for this reason, and the evaluator agrees.
    hop = keyed_on_caller(HOP_NOT_DELETED)
    created = ct("CreateAccessKey", "2023-07-10T12:00:00Z")
    assert indices(evaluate(hop, [created, ct("DeleteAccessKey", "2023-07-10T12:20:00Z")])) == [
        (0,)
    ]
    assert evaluate(hop, [created, ct("DeleteAccessKey", "2023-07-10T12:00:00Z")]) == []


COUNT_RULE = rule_text(
    '    $e.metadata.product_event_type = "GetSecretValue"\n    $e.principal.user.userid = $user',
    condition="#e >= 3",
    match="$user over 10m",
)


def test_count_threshold() -> None:
    base = [
        ct("GetSecretValue", f"2023-07-10T12:0{i}:00Z", "secretsmanager.amazonaws.com")
        for i in range(3)
    ]
    (found,) = evaluate(COUNT_RULE, base)
    assert found.record_indices == (0, 1, 2)
    spread = [
        ct("GetSecretValue", f"2023-07-10T1{i}:00:00Z", "secretsmanager.amazonaws.com")
        for i in range(3)
    ]
    assert evaluate(COUNT_RULE, spread) == []


def test_or_condition_and_placeholder_counts() -> None:
    # `$a or $b` is evaluated (Google rejects it between event variables; the checker says so).
    text = BACKDOOR.replace("$creds and $policy", "$creds or $policy")
    assert any("`or` between event conditions" in d.message for d in check_yaral(text))
    (found,) = evaluate(text, [ct("PutUserPolicy", "2023-07-10T12:00:00Z")])
    assert found.events == (("policy", (0,)),)
    distinct = rule_text(
        '    $e.metadata.product_event_type = "ConsoleLogin"\n'
        "    $e.principal.user.userid = $user\n    $e.principal.ip = $ip",
        condition="#ip > 1",
        match="$user over 1h",
    )
    same_ip = [
        ct("ConsoleLogin", f"2023-07-10T12:0{i}:00Z", "signin.amazonaws.com") for i in range(3)
    ]
    assert evaluate(distinct, same_ip) == []
    two_ips = [*same_ip, ct("ConsoleLogin", "2023-07-10T12:09:00Z", sourceIPAddress="203.0.113.9")]
    assert indices(evaluate(distinct, two_ips)) == [(0, 1, 2, 3)]


def test_reference_lists() -> None:
    text = rule_text(
        "    $e.metadata.product_event_type in %watched\n    not $e.principal.ip in cidr %office"
    )
    records = [
        ct("StopLogging", "2023-07-10T12:00:00Z"),
        ct("StopLogging", "2023-07-10T12:00:00Z", sourceIPAddress="10.1.2.3"),
        ct("ListUsers", "2023-07-10T12:00:00Z"),
    ]
    lists = {"watched": ["StopLogging", "DeleteTrail"], "office": ["10.0.0.0/8"]}
    assert indices(evaluate(text, records, reference_lists=lists)) == [(0,)]
    with pytest.raises(UnsupportedRuleError):
        evaluate(text, records)


def test_unsupported_and_broken_rules_raise() -> None:
    cross = rule_text(
        '    $a.metadata.product_event_type = "A"\n    $a.principal.user.userid = $u\n'
        '    $b.metadata.product_event_type = "B"\n    $b.principal.user.userid = $u\n'
        "    $a.principal.ip = $b.principal.ip",
        condition="$a and $b",
        match="$u over 1h",
    )
    with pytest.raises(UnsupportedRuleError) as info:
        evaluate(cross, [])
    assert info.value.diagnostics[0].line == 9
    with pytest.raises(YaralSyntaxError):
        evaluate("rule broken {", [])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3 * 3600), st.integers(0, 3 * 3600))
def test_window_property(first: int, second: int) -> None:
    def at(offset: int) -> str:
        hours, rest = divmod(offset, 3600)
        return f"2023-07-10T{10 + hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"

    records = [ct("CreateAccessKey", at(first)), ct("AttachUserPolicy", at(second))]
    fired = bool(evaluate(BACKDOOR, records))
    assert fired == (abs(first - second) <= 3600)


NAMES = ["StopLogging", "DeleteTrail", "UpdateTrail", "GetTrail", "CreateTrail"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from(NAMES), max_size=8),
)
def test_or_group_is_set_membership(wanted: list[str], seen: list[str]) -> None:
    group = " or ".join(f'$e.metadata.product_event_type = "{name}"' for name in wanted)
    text = rule_text(f"    ({group})")
    records = [ct(name, "2023-07-10T12:00:00Z") for name in seen]
    expected = [(i,) for i, name in enumerate(seen) if name in wanted]
    assert indices(evaluate(text, records)) == expected


def load_dataset() -> list[dict[str, Any]]:
    if not DATASET.exists():
        pytest.skip(f"real CloudTrail sample not found at {DATASET} (shared data not mounted)")
    with gzip.open(DATASET, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_real_cloudtrail_records() -> None:
    records = load_dataset()
    # Stratus Red Team created a backdoor user: access keys, a login profile, a policy.
    stratus = BACKDOOR.replace("/Boto3\\// nocase", "/^stratus-red-team_/ nocase")
    (found,) = evaluate(stratus, records)
    assert found.match == (("principal", "arn:aws:iam::123837392027:user/bert-jan"),)
    names = {records[i]["eventName"] for i in found.record_indices}
    assert {"CreateAccessKey", "AttachUserPolicy"} <= names
    assert all(
        records[i]["userAgent"].startswith("stratus-red-team_") for i in found.record_indices
    )
    # Lambda's versioned names: the prefix regex finds both code updates, nothing else.
    lambda_rule = rule_text(
        '    $e.target.application = "lambda.amazonaws.com"\n'
        "    $e.metadata.product_event_type = /^UpdateFunctionCode/"
    )
    hits = evaluate(lambda_rule, records)
    assert len(hits) == 2
    assert {records[d.record_indices[0]]["eventName"] for d in hits} == {
        "UpdateFunctionCode20150331v2"
    }
