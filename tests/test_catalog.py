"""The shipped AWS API catalog: the facts of docs/aws-facts.md, real-record coverage,
reproducible regeneration and a standard-library-only load path."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from capiche_build.catalog import DEFAULT_CATALOG_PATH, Catalog, Operation, load_catalog

REPO = Path(__file__).resolve().parent.parent
RECORDS = REPO.parent / "shared" / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"
HEAVY = ("botocore", "awscli", "yara", "yara_x", "sigma")
PINS = {"botocore": "1.44.8", "awscli": "1.46.3"}

# Real (eventSource, eventName) pairs with no public SDK operation behind them.
EXPLAINED_MISSES = {
    # The SSM agent on every managed instance reports in through private APIs that are not
    # in the public SSM model (botocore has no such operation).
    ("ssm.amazonaws.com", "UpdateInstanceInformation"): "SSM agent heartbeat, agent-only API",
    ("ssm.amazonaws.com", "UpdateInstanceAssociationStatus"): "SSM agent association report",
    ("ssm.amazonaws.com", "ListInstanceAssociations"): "SSM agent fetching its associations",
    # The S3 console draws the Storage Lens dashboard through an internal call.
    ("s3.amazonaws.com", "GetStorageLensDashboardDataInternal"): "S3 console internal call",
    # The RDS console's recommendations panel; not in the public RDS API model.
    ("rds.amazonaws.com", "DescribeRecommendations"): "RDS console recommendations panel",
    ("rds.amazonaws.com", "DescribeRecommendationGroups"): "RDS console recommendations panel",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- SDK and CLI spellings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "boto3", "cli_service", "cli_commands"),
    [
        ("rds:CreateDBInstance", "create_db_instance", "rds", ("create-db-instance",)),
        ("ec2:AssignIpv6Addresses", "assign_ipv6_addresses", "ec2", ("assign-ipv6-addresses",)),
        ("s3:PutBucketAcl", "put_bucket_acl", "s3api", ("put-bucket-acl",)),
        ("config:PutConfigRule", "put_config_rule", "configservice", ("put-config-rule",)),
        ("codedeploy:CreateDeployment", "create_deployment", "deploy", ("create-deployment",)),
        (
            "rds:ModifyOptionGroup",
            "modify_option_group",
            "rds",
            ("add-option-to-option-group", "remove-option-from-option-group"),
        ),
        ("iam:CreateAccessKey", "create_access_key", "iam", ("create-access-key",)),
    ],
)
def test_sdk_and_cli_forms(
    catalog: Catalog, api: str, boto3: str, cli_service: str, cli_commands: tuple[str, ...]
) -> None:
    op = catalog.get(api)
    assert op.api == api
    assert op.boto3 == boto3
    assert op.cli_service == cli_service
    assert op.cli_commands == cli_commands


@pytest.mark.parametrize("api", ["emr:RunJobFlow", "ec2:ImportInstance"])
def test_operations_removed_from_the_cli(catalog: Catalog, api: str) -> None:
    op = catalog.get(api)
    assert op.cli_commands == ()
    assert op.cli_service == ""  # no command, so no CLI service word either
    assert op.boto3  # still an SDK method


def test_cli_service_words_are_per_service(catalog: Catalog) -> None:
    # Every operation of a service that the CLI knows uses the same service word.
    words: dict[str, set[str]] = {}
    for op in catalog:
        if op.cli_commands:
            words.setdefault(op.service, set()).add(op.cli_service)
    assert all(len(w) == 1 for w in words.values())
    assert words["s3"] == {"s3api"}
    assert words["config"] == {"configservice"}
    assert words["codedeploy"] == {"deploy"}


def test_boto3_names_are_snake_case(catalog: Catalog) -> None:
    snake = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
    bad = [op.api for op in catalog if not snake.match(op.boto3)]
    assert bad == []
    kebab = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    bad = [(op.api, c) for op in catalog for c in op.cli_commands if not kebab.match(c)]
    assert bad == []


# --- CloudTrail spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "source"),
    [
        ("cloudwatch", "monitoring.amazonaws.com"),
        ("sso-admin", "sso.amazonaws.com"),
        ("bedrock-runtime", "bedrock.amazonaws.com"),
        ("elbv2", "elasticloadbalancing.amazonaws.com"),
        ("elb", "elasticloadbalancing.amazonaws.com"),
        ("stepfunctions", "states.amazonaws.com"),
        ("s3control", "s3.amazonaws.com"),
        ("iam", "iam.amazonaws.com"),
    ],
)
def test_event_sources(catalog: Catalog, service: str, source: str) -> None:
    sources = {op.event_source for op in catalog if op.service == service}
    assert sources == {source}


def test_lambda_versioned_event_names(catalog: Catalog) -> None:
    update = catalog.get("lambda:UpdateFunctionCode")
    assert update.event_name_match == "prefix"
    assert update.matches_event("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")
    assert update.matches_event("lambda.amazonaws.com", "UpdateFunctionCode")
    assert not update.matches_event("s3.amazonaws.com", "UpdateFunctionCode20150331v2")
    apis = [
        op.api
        for op in catalog.resolve_event("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")
    ]
    assert apis == ["lambda:UpdateFunctionCode"]

    get = catalog.get("lambda:GetFunction")
    assert get.prefix_ambiguous  # GetFunctionConfiguration starts with GetFunction
    assert not get.matches_event("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2")
    assert get.matches_event("lambda.amazonaws.com", "GetFunction20150331")
    hits = catalog.resolve_event("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2")
    assert [op.api for op in hits] == ["lambda:GetFunctionConfiguration"]


def test_exact_names_do_not_take_suffixes(catalog: Catalog) -> None:
    op = catalog.get("iam:CreateUser")
    assert op.event_name_match == "exact"
    assert op.matches_event("iam.amazonaws.com", "CreateUser")
    assert not op.matches_event("iam.amazonaws.com", "CreateUser20150331")
    assert catalog.resolve_event("iam.amazonaws.com", "CreateUser20150331") == []


@pytest.mark.parametrize(
    ("api", "event_name", "boto3"),
    [
        ("s3:GetPublicAccessBlock", "GetBucketPublicAccessBlock", "get_public_access_block"),
        (
            "s3:GetBucketAccelerateConfiguration",
            "GetAccelerateConfiguration",
            "get_bucket_accelerate_configuration",
        ),
        (
            "s3:GetObjectLockConfiguration",
            "GetBucketObjectLockConfiguration",
            "get_object_lock_configuration",
        ),
        ("s3:ListObjectsV2", "ListObjects", "list_objects_v2"),
        (
            "s3control:GetPublicAccessBlock",
            "GetAccountPublicAccessBlock",
            "get_public_access_block",
        ),
    ],
)
def test_s3_event_name_renames(catalog: Catalog, api: str, event_name: str, boto3: str) -> None:
    op = catalog.get(api)
    assert op.boto3 == boto3
    assert op.event_name == event_name
    assert op in catalog.resolve_event("s3.amazonaws.com", event_name)


# --- shape of the whole catalog -----------------------------------------------------------------


def test_counts_versions_and_order(catalog: Catalog) -> None:
    assert len(catalog) == 20_027
    assert len(catalog.services) == 445
    assert (catalog.botocore_version, catalog.awscli_version) == ("1.44.8", "1.46.3")
    keys = [(op.service, op.name) for op in catalog]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert list(catalog.apis) == [op.api for op in catalog]
    assert len({a.lower() for a in catalog.apis}) == len(catalog)  # find() is case-insensitive
    assert list(catalog.services) == sorted(catalog.services)


def test_descriptions_are_plain_single_lines(catalog: Catalog) -> None:
    tag = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
    entity = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
    bad = [
        op.api
        for op in catalog
        if tag.search(op.description)
        or entity.search(op.description)
        or "\n" in op.description
        or "\r" in op.description
        or op.description != op.description.strip()
        or "  " in op.description
    ]
    assert bad == []
    empty = [op.api for op in catalog if not op.description]
    assert len(empty) < 20  # botocore 1.44.8 leaves 9 operations undocumented


def test_find_get_and_suggestions(catalog: Catalog) -> None:
    assert catalog.find(" IAM:createaccesskey ") == catalog.get("iam:CreateAccessKey")
    assert catalog.find("iam:NoSuchThing") is None
    assert "iam:CreateAccessKey" in catalog.suggest("iam:CreateAcessKey")
    assert catalog.suggest("iamm:CreateAccessKey")[0] == "iam:CreateAccessKey"
    ops = catalog.get_many(["sts:GetCallerIdentity", "iam:CreateUser", "iam:createuser"])
    assert [op.api for op in ops] == ["iam:CreateUser", "sts:GetCallerIdentity"]


def test_operation_dict_round_trip(catalog: Catalog) -> None:
    op: Operation = catalog.get("lambda:UpdateFunctionCode")
    data = op.to_dict()
    assert data["api"] == "lambda:UpdateFunctionCode"
    assert data["event_name_match"] == "prefix"
    assert re.fullmatch(op.event_name_regex, "UpdateFunctionCode20150331v2")
    assert not re.fullmatch(op.event_name_regex, "UpdateFunctionCodeSigningConfig")
    json.dumps(data)  # serialisable as is


# --- real CloudTrail records --------------------------------------------------------------------


@pytest.mark.skipif(not RECORDS.exists(), reason=f"real CloudTrail records not found at {RECORDS}")
def test_real_records_resolve_to_catalog_operations(catalog: Catalog) -> None:
    total = 0
    misses: Counter[tuple[str, str]] = Counter()
    with gzip.open(RECORDS, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("eventType") != "AwsApiCall":
                continue
            total += 1
            key = (record["eventSource"], record["eventName"])
            hits = catalog.resolve_event(*key)
            if not hits:
                misses[key] += 1
                continue
            # Every operation resolve_event returns claims the record itself.
            assert all(op.matches_event(*key) for op in hits), key
    assert total > 2000
    share = 1 - sum(misses.values()) / total
    print(f"\n{share:.2%} of {total} AwsApiCall records resolve to a catalog operation")
    for (source, name), count in misses.most_common():
        print(f"  miss x{count}: {source} {name}")
    assert share >= 0.985
    unexplained = set(misses) - set(EXPLAINED_MISSES)
    assert not unexplained, f"misses without an explanation: {sorted(unexplained)}"


# --- regeneration and import hygiene ------------------------------------------------------------


def _pinned_generator_available() -> bool:
    for name, pin in PINS.items():
        try:
            if version(name) != pin:
                return False
        except PackageNotFoundError:
            return False
    return True


@pytest.mark.slow
def test_regeneration_is_byte_identical() -> None:
    """~10 s: reads every botocore model and the AWS CLI command table (the `catalog` extra)."""
    pytest.importorskip("botocore")
    pytest.importorskip("awscli")
    if not _pinned_generator_available():
        pytest.skip(f"botocore/awscli are not the pinned {PINS}")
    from capiche_build import catalog_gen

    fresh = catalog_gen.serialise(catalog_gen.generate_catalog())
    committed = DEFAULT_CATALOG_PATH.read_bytes()
    assert len(fresh) == len(committed)
    assert fresh == committed


def _run(code_or_args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_args], capture_output=True, text=True, cwd=REPO, timeout=60
    )


def test_catalog_loads_with_the_standard_library_only() -> None:
    names = "{" + ", ".join(repr(h) for h in HEAVY) + "}"
    code = (
        "import capiche_build.catalog as c, sys; cat = c.load_catalog(); "
        "assert len(cat) == 20027, len(cat); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {names}))"
    )
    result = _run(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_search_command_imports_no_engine() -> None:
    result = _run(["-X", "importtime", "-m", "capiche_build", "search", "^iam:CreateAccessKey$"])
    assert result.returncode == 0, result.stderr
    assert "iam:CreateAccessKey" in result.stdout
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "capiche_build.search" in imported  # the probe itself works
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []
