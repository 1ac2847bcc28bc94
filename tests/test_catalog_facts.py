"""The catalog facts issue #2 pins, checked against the shipped catalog and real records."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from capiche_build.catalog import DEFAULT_CATALOG_PATH, load_catalog
from capiche_build.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"

# (eventSource, eventName) pairs with no SDK operation behind them, and why.
EXPLAINED_MISSES = {
    (
        "ssm.amazonaws.com",
        "UpdateInstanceInformation",
    ): "SSM agent heartbeat (ssmmessages), not in the SDK",
    ("ssm.amazonaws.com", "UpdateInstanceAssociationStatus"): "SSM agent internal call",
    ("ssm.amazonaws.com", "ListInstanceAssociations"): "SSM agent internal call",
    ("s3.amazonaws.com", "GetStorageLensDashboardDataInternal"): "S3 console internal call",
    ("rds.amazonaws.com", "DescribeRecommendations"): "RDS console internal call",
    ("rds.amazonaws.com", "DescribeRecommendationGroups"): "RDS console internal call",
}


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


@pytest.mark.parametrize(
    ("api", "boto3", "cli"),
    [
        ("rds:CreateDBInstance", "create_db_instance", "rds create-db-instance"),
        ("ec2:AssignIpv6Addresses", "assign_ipv6_addresses", "ec2 assign-ipv6-addresses"),
        ("s3:PutBucketAcl", "put_bucket_acl", "s3api put-bucket-acl"),
        ("config:PutConfigRule", "put_config_rule", "configservice put-config-rule"),
        ("codedeploy:CreateDeployment", "create_deployment", "deploy create-deployment"),
    ],
)
def test_sdk_forms(catalog, api: str, boto3: str, cli: str) -> None:  # type: ignore[no-untyped-def]
    op = catalog.get(api)
    assert op.boto3 == boto3
    assert [f"{op.cli_service} {c}" for c in op.cli_commands] == [cli]


@pytest.mark.parametrize(
    ("api", "source"),
    [
        ("cloudwatch:PutMetricAlarm", "monitoring.amazonaws.com"),
        ("sso-admin:CreatePermissionSet", "sso.amazonaws.com"),
        ("bedrock-runtime:InvokeModel", "bedrock.amazonaws.com"),
        ("elbv2:CreateLoadBalancer", "elasticloadbalancing.amazonaws.com"),
        ("stepfunctions:StartExecution", "states.amazonaws.com"),
        ("s3control:ListAccessPoints", "s3.amazonaws.com"),
    ],
)
def test_event_sources(catalog, api: str, source: str) -> None:  # type: ignore[no-untyped-def]
    assert catalog.get(api).event_source == source


def test_versioned_lambda_names(catalog) -> None:  # type: ignore[no-untyped-def]
    update = catalog.get("lambda:UpdateFunctionCode")
    assert update.event_name_match == "prefix"
    assert update.matches_event("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")
    get = catalog.get("lambda:GetFunction")
    assert not get.matches_event("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2")
    hits = catalog.resolve_event("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2")
    assert [op.api for op in hits] == ["lambda:GetFunctionConfiguration"]


def test_cli_splits_and_removals(catalog) -> None:  # type: ignore[no-untyped-def]
    assert catalog.get("rds:ModifyOptionGroup").cli_commands == (
        "add-option-to-option-group",
        "remove-option-from-option-group",
    )
    assert catalog.get("emr:RunJobFlow").cli_commands == ()
    assert catalog.get("ec2:ImportInstance").cli_commands == ()
    assert catalog.get("s3:GetPublicAccessBlock").event_name == "GetBucketPublicAccessBlock"


def test_size_order_and_text(catalog) -> None:  # type: ignore[no-untyped-def]
    assert len(catalog) == 20027 and len(catalog.services) == 445
    keys = [(op.service, op.name) for op in catalog]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert not any("<" in op.description or "\n" in op.description for op in catalog)


@pytest.mark.skipif(not RECORDS.exists(), reason="data/cloudtrail records absent")
def test_real_records_resolve(catalog) -> None:  # type: ignore[no-untyped-def]
    total = 0
    misses: dict[tuple[str, str], int] = {}
    with gzip.open(RECORDS, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("eventType") != "AwsApiCall":
                continue
            total += 1
            key = (record["eventSource"], record["eventName"])
            if not catalog.resolve_event(*key):
                misses[key] = misses.get(key, 0) + 1
    share = 1 - sum(misses.values()) / total
    print(f"\n{share:.2%} of {total} AwsApiCall records resolve; misses: {misses}")
    assert share >= 0.985
    assert set(misses) <= set(EXPLAINED_MISSES), set(misses) - set(EXPLAINED_MISSES)


def test_regeneration_is_byte_identical() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pins = (version("botocore"), version("awscli"))
    except PackageNotFoundError:
        pytest.skip("the `catalog` extra (botocore, awscli) is not installed")
    if pins != ("1.44.8", "1.46.3"):
        pytest.skip(f"catalog pins differ from installed {pins}")
    from capiche_build import catalog_gen

    assert (
        catalog_gen.serialise(catalog_gen.generate_catalog()) == DEFAULT_CATALOG_PATH.read_bytes()
    )


def test_search_imports_no_engine() -> None:
    code = (
        "import sys; from capiche_build.cli import main; main(['search', '^iam:CreateAccessKey$']);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " {'botocore', 'awscli', 'yara', 'yara_x', 'sigma'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cli_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "^iam:CreateAccessKey$", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) >= {
        "api", "service", "name", "description", "boto3", "cli_service", "cli_commands",
        "event_source", "event_name", "event_name_match",
    }  # fmt: skip
    assert main(["search", "^nothing:Matches$"]) == 1
    assert "no operation matches" in capsys.readouterr().err
    assert main(["search", "("]) == 2
    assert "'('" in capsys.readouterr().err
    for pattern in ("(a+)+$", "(x|x)*y"):
        assert main(["search", pattern]) == 2
        assert "refused" in capsys.readouterr().err
    assert main(["show", "iam:CreateAccesKey"]) == 2
    assert "did you mean iam:CreateAccessKey" in capsys.readouterr().err
