"""The original CAPICHE API (capiche_build.legacy): same call shapes, correct and valid output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from capiche_build.diagnostics import CapicheError
from capiche_build.engines.query import evaluate_dork, evaluate_vtgrep
from capiche_build.engines.yara import check_yara, scan_yara
from capiche_build.legacy import (
    ApiData,
    define_associations,
    define_events,
    generate_google_dork_syntax,
    generate_sigma_rule,
    generate_vtgrep_content,
    generate_yara_l_rule,
    generate_yara_rule,
    generate_yara_string,
    load_api_data,
    search_api_description,
    search_api_name,
    transform_api_list,
)


@pytest.fixture(scope="module")
def api_data() -> ApiData:
    return load_api_data()


# ---------------------------------------------------------------- names the original got wrong


@pytest.mark.parametrize(
    ("api", "boto", "cli"),
    [
        ("rds:CreateDBInstance", "rds:create_db_instance", "rds:create-db-instance"),
        ("ec2:AssignIpv6Addresses", "ec2:assign_ipv6_addresses", "ec2:assign-ipv6-addresses"),
        ("s3:PutBucketAcl", "s3:put_bucket_acl", "s3api:put-bucket-acl"),
        ("config:PutConfigRule", "config:put_config_rule", "configservice:put-config-rule"),
        ("codedeploy:CreateDeployment", "codedeploy:create_deployment", "deploy:create-deployment"),
    ],
)
def test_transform_uses_catalog_spellings(api_data: ApiData, api: str, boto: str, cli: str) -> None:
    assert transform_api_list(api_data, "boto", api) == [boto]
    assert transform_api_list(api_data, "boto3", [api]) == [boto]
    assert transform_api_list(api_data, "awscli", [api]) == [cli]


def test_transform_gives_every_cli_command_and_keeps_order(api_data: ApiData) -> None:
    out = transform_api_list(
        api_data, "awscli", ["rds:ModifyOptionGroup", "iam:CreateAccessKey", "iam:CreateAccessKey"]
    )
    assert out == [
        "rds:add-option-to-option-group",
        "rds:remove-option-from-option-group",
        "iam:create-access-key",
    ]


def test_transform_refuses_what_it_cannot_resolve(api_data: ApiData) -> None:
    with pytest.raises(CapicheError, match=r"iam:CreateAccesKey.*did you mean iam:CreateAccessKey"):
        transform_api_list(api_data, "boto", ["iam:CreateAccessKey", "iam:CreateAccesKey"])
    with pytest.raises(CapicheError, match="has no AWS CLI command"):
        transform_api_list(api_data, "awscli", "bedrock-runtime:ConverseStream")
    with pytest.raises(CapicheError, match="unknown SDK"):
        transform_api_list(api_data, "java", "iam:CreateAccessKey")


def test_load_api_data_shape(api_data: ApiData) -> None:
    row = next(r for r in api_data if r["API"] == "s3:PutBucketAcl")
    assert row["EventSource"] == "s3"
    assert row["EventName"] == "PutBucketAcl"
    assert row["Boto3"] == "put_bucket_acl"
    assert row["AWSCLI"] == ["aws s3api put-bucket-acl"]
    assert row["CloudTrailEventSource"] == "s3.amazonaws.com"
    assert row["Description"]


def test_old_capiche_file_resolves_through_catalog(tmp_path: Path) -> None:
    rows = [
        {"API": "iam:CreateAccessKey", "EventSource": "iam", "EventName": "CreateAccessKey",
         "Description": "Creates a new AWS secret access key"},
        {"API": "acm:GeneratePresignedUrl", "EventSource": "acm",
         "EventName": "GeneratePresignedUrl", "Description": "Generate a presigned url"},
    ]  # fmt: skip
    path = tmp_path / "api_list_aws.json"
    path.write_text(json.dumps(rows))
    old = load_api_data(path)
    assert search_api_name(old, ".") == ["acm:GeneratePresignedUrl", "iam:CreateAccessKey"]
    assert search_api_description(old, "secret", "iam") == ["iam:CreateAccessKey"]
    assert transform_api_list(old, "awscli", "iam:CreateAccessKey") == ["iam:create-access-key"]
    with pytest.raises(CapicheError, match="acm:GeneratePresignedUrl"):
        transform_api_list(old, "boto", search_api_name(old, "."))


# ---------------------------------------------------------------- search


def test_search_sorted_unique_and_safe(api_data: ApiData) -> None:
    found = search_api_name(api_data, "^IAM:createaccesskey$")
    assert found == ["iam:CreateAccessKey"]
    many = search_api_name(api_data, "^(iam|sso):(Create|Delete|Update)Group$")
    assert many == sorted(set(many))
    with pytest.raises(CapicheError, match="backtrack"):
        search_api_name(api_data, "(a+)+$")


def test_search_description_event_sources(api_data: ApiData) -> None:
    everywhere = search_api_description(api_data, "secret access key")
    assert "iam:CreateAccessKey" in everywhere  # None means all sources, not none
    by_service = search_api_description(api_data, "secret access key", "iam|sso")
    by_source = search_api_description(api_data, "secret access key", ["iam.amazonaws.com"])
    assert by_service == by_source
    assert all(api.startswith("iam:") for api in by_service)
    with pytest.raises(CapicheError, match="did you mean iam"):
        search_api_description(api_data, "key", "iamm")


# ---------------------------------------------------------------- the README flow

SNIPPET = b"""import boto3
import subprocess

iam = boto3.client("iam")
iam.create_group(GroupName="ops")
subprocess.run(["aws", "iam", "delete-role-policy", "--role-name", "r", "--policy-name", "p"])
"""
ONLY_GROUPS = b'import boto3\nboto3.client("iam").create_group(GroupName="ops")\n'


@pytest.fixture(scope="module")
def readme_flow(api_data: ApiData) -> dict[str, object]:
    groups = search_api_name(api_data, "^(iam|sso):(Create|Delete|Update)Group$")
    policies = search_api_description(api_data, "^(Create|Update|Delete).*Policy", "iam|sso")
    groups_boto = transform_api_list(api_data, "boto", groups)
    policies_cli = transform_api_list(api_data, "awscli", policies)
    strings_a = generate_yara_string(api_data, groups_boto, "a", "wide ascii", "group", True)
    strings_b = generate_yara_string(api_data, policies_cli, "b", "wide ascii", "policy", False)
    rule = generate_yara_rule(
        "GroupAndPolicyRule",
        "CAPICHE",
        'Demo "YARA" rule\\',
        strings_a + strings_b,
        "any of $a* and any of $b*",
        [{"MD5": "1234567890"}],
    )
    vt = (
        generate_vtgrep_content("import boto3")
        + " AND ("
        + generate_vtgrep_content(groups_boto, "OR")
        + " AND "
        + generate_vtgrep_content(policies_cli, "OR")
        + ")"
    )
    return {
        "groups": groups,
        "policies": policies,
        "groups_boto": groups_boto,
        "policies_cli": policies_cli,
        "strings_a": strings_a,
        "rule": rule,
        "vt": vt,
    }


def test_readme_searches(readme_flow: dict) -> None:
    assert readme_flow["groups"] == ["iam:CreateGroup", "iam:DeleteGroup", "iam:UpdateGroup"]
    assert "iam:DeleteRolePolicy" in readme_flow["policies"]
    assert readme_flow["groups_boto"] == [
        "iam:create_group",
        "iam:delete_group",
        "iam:update_group",
    ]
    assert "iam:delete-role-policy" in readme_flow["policies_cli"]


def test_readme_yara_strings(readme_flow: dict) -> None:
    first = readme_flow["strings_a"][0]
    assert first == (
        '$a_01 = "create_group" wide ascii // group - API Description: Creates a new group.'
    )


def test_readme_yara_rule_compiles_and_matches(readme_flow: dict) -> None:
    rule = readme_flow["rule"]
    assert "any of ($a*) and any of ($b*)" in rule
    assert 'description = "Demo \\"YARA\\" rule\\\\"' in rule
    assert check_yara(rule) == []  # both engines, warnings as errors
    hit = scan_yara(rule, SNIPPET)
    assert hit.agree
    assert hit.yara_python["GroupAndPolicyRule"] >= {"$a_01"}
    assert any(s.startswith("$b_") for s in hit.yara_python["GroupAndPolicyRule"])
    miss = scan_yara(rule, ONLY_GROUPS)
    assert miss.agree and "GroupAndPolicyRule" not in miss.yara_python


def test_readme_vtgrep(readme_flow: dict) -> None:
    vt = readme_flow["vt"]
    term = r'content:"[a-z0-9_-]+"'
    group = rf"\({term}(?: OR {term})*\)"
    assert re.fullmatch(rf'content:"import boto3" AND \({group} AND {group}\)', vt), vt
    assert evaluate_vtgrep(vt, SNIPPET)
    assert not evaluate_vtgrep(vt, SNIPPET.replace(b"import boto3", b"import botocore"))
    assert not evaluate_vtgrep(vt, ONLY_GROUPS)


def test_dork_joins_like_google(readme_flow: dict) -> None:
    dork = generate_google_dork_syntax(readme_flow["groups_boto"], "OR", "intext")
    assert dork == '(intext:"create_group" OR intext:"delete_group" OR intext:"update_group")'
    query = generate_google_dork_syntax("import boto3", operator="intext") + " " + dork
    assert evaluate_dork(query, SNIPPET.decode())
    # Google has no AND operator: terms are joined by a space; no operator means a plain phrase.
    assert generate_google_dork_syntax(["iam:a_b", "s3api:c-d"], "AND") == '("a_b" "c-d")'
    with pytest.raises(CapicheError, match="double quote"):
        generate_google_dork_syntax(['say "hi"'], "OR", "intext")


# ---------------------------------------------------------------- generators


def test_yara_string_escapes_dedupes_and_keeps_one_ascii_line(api_data: ApiData) -> None:
    lines = generate_yara_string(
        api_data,
        ["iam:create_access_key", "iam:create_access_key", 'a "quoted"\\ é'],
        "x",
        "ascii",
        "multi\nline é",
        True,
    )
    assert len(lines) == 2
    assert lines[1].startswith('$x_02 = "a \\"quoted\\"\\\\ \\xc3\\xa9" ascii // ')
    assert all(line.isascii() and "\n" not in line for line in lines)
    rule = generate_yara_rule("r", "a", "d", lines, "all of them")
    assert check_yara(rule) == []


def test_yara_rule_accepts_old_conditions_and_plain_strings() -> None:
    for old, new in [("all of $x*", "all of ($x*)"), ("1 of $x*", "1 of ($x*)")]:
        rule = generate_yara_rule("r", "a", "d", ['$x_01 = "abc"', '$x_02 = "def"'], old)
        assert new in rule
        assert check_yara(rule) == []
    plain = generate_yara_rule(
        "r", "a", "d", ["create_access_key", "delete_access_key"], "any of them"
    )
    assert '$string_01 = "create_access_key"' in plain
    assert check_yara(plain) == []
    # Declared strings of any kind are kept as written.
    mixed = generate_yara_rule("r", "a", "d", ["$re = /create_[a-z]+_key/", "x y"], "all of them")
    assert "$re = /create_[a-z]+_key/" in mixed and '$string_01 = "x y"' in mixed
    assert check_yara(mixed) == []


@pytest.mark.parametrize(
    ("name", "strings", "condition", "message"),
    [
        ("bad-name", ["abc"], "any of them", "not a valid YARA identifier"),
        ("rule", ["abc"], "any of them", "not a valid YARA identifier"),
        ("r", ['$a = "x"', '$a = "y"'], "any of them", "duplicate string identifiers"),
        ("r", ['$a = "x"'], "any of $b*", "do not exist"),
        ("r", ['$a = "x"', '$b = "y"'], "$a", "not used"),
    ],
)
def test_yara_rule_errors(name: str, strings: list[str], condition: str, message: str) -> None:
    with pytest.raises(CapicheError, match=message):
        generate_yara_rule(name, "a", "d", strings, condition)


def test_vtgrep_reads_yara_lines_and_escapes() -> None:
    assert generate_vtgrep_content('say "hi"') == 'content:"say \\"hi\\""'
    query = generate_vtgrep_content(['$a_01 = "caf\\xc3\\xa9" ascii', "iam:create_user"], "or")
    assert query == '(content:{636166c3a9} OR content:"create_user")'
    with pytest.raises(CapicheError, match="logical operator"):
        generate_vtgrep_content(["a", "b"])
    with pytest.raises(CapicheError, match="empty"):
        generate_vtgrep_content(["a", ""], "OR")


def test_sigma_rule_parses(api_data: ApiData) -> None:
    from sigma.collection import SigmaCollection

    apis = ["iam:CreateGroup", "iam:DeleteGroup", "lambda:Invoke"]
    text = generate_sigma_rule(
        "Group Changes", "Detects IAM group changes.", api_data, apis, "boto", "Boto3"
    )
    collection = SigmaCollection.from_yaml(text)
    assert len(collection.rules) == 1 and collection.rules[0].errors == []
    assert "eventSource: iam.amazonaws.com" in text
    assert "eventSource: lambda.amazonaws.com" in text  # the real source, not the SDK spelling
    assert "userAgent|contains: Boto3" in text
    assert "create_group" not in text
    anyone = generate_sigma_rule(
        "Group Changes", "Detects IAM group changes.", api_data, apis, "awscli", None
    )
    assert "userAgent" not in anyone
    with pytest.raises(CapicheError, match="did you mean"):
        generate_sigma_rule("t", "d", api_data, ["iam:CreateGrup"], "boto", None)


def test_yaral_rule_is_valid() -> None:
    try:
        from capiche_build.yaral.checker import check_yaral
    except ImportError:
        pytest.skip("capiche_build/yaral/checker.py (check_yaral) is not available")
    events = define_events(
        ["iam:CreateGroup", "iam:DeleteGroupPolicy", "lambda:Invoke"], "testPrefix", "metadata"
    )
    associations = define_associations("testPrefix", "metadata", "eventname")
    assert associations == ["$testPrefix.metadata.product_event_type = $eventname"]
    rule = generate_yara_l_rule("Example", 'Description of "test" rule', events, associations)
    assert "$eventname over 5m" in rule
    assert '$testPrefix.target.application = "iam.amazonaws.com"' in rule
    assert [d for d in check_yaral(rule) if d.severity == "error"] == []
    principal = define_associations("e", "principal", "userIdentity.arn")
    assert principal == ["$e.principal.user.userid = $userIdentity_arn"]
    single = generate_yara_l_rule("single", "d", define_events("iam:CreateGroup"), [], match=None)
    assert "match:" not in single
    assert [d for d in check_yaral(single) if d.severity == "error"] == []


def test_generate_yara_string_is_linear_over_thousands(
    api_data: ApiData, capsys: pytest.CaptureFixture[str]
) -> None:
    apis = search_api_name(api_data, ":(Create|Delete|Put)")
    assert len(apis) > 4000
    names = transform_api_list(api_data, "boto", apis)
    lines = generate_yara_string(api_data, names, "api", "ascii wide", "bulk", True)
    identifiers = [line.split(" = ", 1)[0] for line in lines]
    values = [re.match(r'\$\w+ = ("[^"]*")', line).group(1) for line in lines]  # type: ignore[union-attr]
    assert len(set(identifiers)) == len(lines) == len(set(values))
    assert capsys.readouterr() == ("", "")


def test_package_exports_lazily() -> None:
    code = (
        "import sys, capiche_build\n"
        "assert 'capiche_build.legacy' not in sys.modules\n"
        "assert 'capiche_build.catalog' not in sys.modules\n"
        "from capiche_build import transform_api_list, load_api_data\n"
        "print(transform_api_list(load_api_data(), 'awscli', 's3:PutBucketAcl'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['s3api:put-bucket-acl']"
