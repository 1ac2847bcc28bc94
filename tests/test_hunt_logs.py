"""`capiche hunt logs`: reading CloudTrail as AWS ships it, DuckDB and Spark against the reference."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from capiche_build.cli import main
from capiche_build.diagnostics import CapicheError
from capiche_build.engines.sigma import evaluate_sigma
from capiche_build.hunt import reader
from capiche_build.hunt.logs import CSV_FIELDS, hunt
from capiche_build.hunt.reader import Filters
from capiche_build.hunt.sql import RuleSet, load_rules

ROOT = Path(__file__).resolve().parent.parent
SIGMA = ROOT / "build" / "sigma"
DATASET = ROOT / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"
ENUMERATION = SIGMA / "correlation_aws_cloudtrail_iam_account_enumeration.yml"

pytestmark = pytest.mark.skipif(not SIGMA.is_dir(), reason="build/sigma missing: run capiche build")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    with gzip.open(DATASET, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules([SIGMA])


@pytest.fixture(scope="module")
def jsonl(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jsonl") / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def s3_layout(records: list[dict[str, Any]], root: Path) -> Path:
    """Records as CloudTrail delivers them to S3: per account, region, day and 5 minutes."""
    files: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        account, region, when = (
            record["recipientAccountId"],
            record["awsRegion"],
            record["eventTime"],
        )
        day = Path(when[:4], when[5:7], when[8:10])
        stamp = (
            when[:4]
            + when[5:7]
            + when[8:10]
            + "T"
            + when[11:13]
            + f"{int(when[14:16]) // 5 * 5:02d}"
        )
        name = f"{account}_CloudTrail_{region}_{stamp}Z_abc.json.gz"
        files[root / "AWSLogs" / account / "CloudTrail" / region / day / name].append(record)
    for path, items in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": items}).encode()))
    return root


@pytest.fixture(scope="module")
def s3_tree(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return s3_layout(records, tmp_path_factory.mktemp("s3"))


@pytest.fixture(scope="module")
def spark() -> Any:
    pytest.importorskip("pyspark", reason="pyspark not installed (pip install .[spark])")
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: Spark needs a JVM")
    from capiche_build.hunt.engines import spark_session

    session = spark_session()
    yield session
    session.stop()


def event(
    name: str,
    source: str,
    when: str,
    arn: str | None = "arn:aws:iam::111111111111:user/alice",
    account: str = "111111111111",
    region: str = "us-east-1",
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "recipientAccountId": account,
        "sourceIPAddress": "203.0.113.7",
        "eventID": f"{name}-{when}-{arn}",
        "userIdentity": {"type": "IAMUser", "arn": arn} if arn else {"type": "AWSService"},
    }
    record.update(extra)
    return record


def enumeration_sequences() -> list[dict[str, Any]]:
    """Alice lists roles then users 30 minutes apart (one alert); Bob 61 minutes apart (none)."""
    bob = "arn:aws:iam::111111111111:user/bob"
    return [
        event("ListRoles", "iam.amazonaws.com", "2024-05-01T10:00:00Z"),
        event("ListUsers", "iam.amazonaws.com", "2024-05-01T10:30:00Z"),
        event("ListRoles", "iam.amazonaws.com", "2024-05-01T10:00:00Z", arn=bob),
        event("ListUsers", "iam.amazonaws.com", "2024-05-01T11:01:00Z", arn=bob),
        event("ListUsers", "iam.amazonaws.com", "2024-05-01T10:10:00Z", arn=None),
    ]


def write_jsonl(path: Path, items: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def hit_keys(result: Any) -> set[tuple[str, str]]:
    return {(h.rule_id, h.event_id) for h in result.hits}


# --------------------------------------------------------------------------- semantics


def test_duckdb_matches_evaluate_sigma_for_every_rule(
    records: list[dict[str, Any]], rules: RuleSet, jsonl: Path
) -> None:
    result = hunt([jsonl], rules)
    assert result.summary.records == len(records)
    compared = 0
    for path in sorted(SIGMA.glob("*.yml")):
        reference = evaluate_sigma(path.read_text(encoding="utf-8"), records)
        ours = {r.key: result.matches[r.key] for r in rules.rules if r.file == str(path)}
        assert ours == dict(reference.matches), path.name
        compared += len(ours)
    assert compared == len(rules.rules)
    assert sum(map(len, result.matches.values())) > 100  # the real data does trigger rules


def test_s3_layout_reads_the_same_as_jsonl(rules: RuleSet, s3_tree: Path, jsonl: Path) -> None:
    from_s3 = hunt([s3_tree], rules)
    assert len(from_s3.files) > 5
    assert all(p.endswith(".json.gz") for p in from_s3.files)
    assert from_s3.summary.records == 2900 and not from_s3.summary.problems
    assert hit_keys(from_s3) == hit_keys(hunt([jsonl], rules))


def test_temporal_correlation_window_and_group(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "seq.jsonl", enumeration_sequences())
    result = hunt([path], load_rules([ENUMERATION]))
    alerts = [h for h in result.hits if h.rule == "IAM Account-Wide Enumeration 1"]
    assert sorted((h.principal, h.event_name) for h in alerts) == [
        ("arn:aws:iam::111111111111:user/alice", "ListRoles"),
        ("arn:aws:iam::111111111111:user/alice", "ListUsers"),
    ]
    # Base rules referenced by a correlation are not reported on their own.
    assert not [h for h in result.hits if "Roles 1" in h.rule or "Users 1" in h.rule]


def test_spark_results_equal_duckdb(
    rules: RuleSet, s3_tree: Path, jsonl: Path, tmp_path: Path, spark: Any
) -> None:
    # Spark reads the S3 tree (Records documents) and JSON Lines itself; DuckDB through the reader.
    sequences = write_jsonl(tmp_path / "seq.jsonl", enumeration_sequences())
    inputs = [s3_tree, jsonl, sequences]
    duck = hunt(inputs, rules)
    sparked = hunt(inputs, rules, engine="spark", spark=spark)
    assert sparked.matches == duck.matches
    assert sparked.hits == duck.hits
    assert sparked.files == duck.files and sparked.summary.records == 2900 * 2 + 5
    assert sparked.summary.bytes == duck.summary.bytes and not sparked.summary.problems
    assert any(h.rule == "IAM Account-Wide Enumeration 1" for h in sparked.hits)
    # Filters run in Spark SQL; record ids still count the records filtered out.
    since = Filters(
        since_ms=reader.event_ms("2023-07-10T12:00:00Z"), regions=frozenset({"us-east-1"})
    )
    duck = hunt(inputs, rules, filters=since)
    sparked = hunt(inputs, rules, engine="spark", spark=spark, filters=since)
    assert (sparked.matches, sparked.hits) == (duck.matches, duck.hits)
    assert (sparked.summary.records, sparked.summary.filtered) == (
        duck.summary.records,
        duck.summary.filtered,
    )


def test_spark_reads_uris_itself(rules: RuleSet, s3_tree: Path, spark: Any) -> None:
    digest = s3_tree / "AWSLogs" / "1" / "CloudTrail-Digest" / "x_CloudTrail-Digest_y.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(gzip.compress(b'{"digestStartTime": "2023-07-10T12:00:00Z"}'))
    try:
        sparked = hunt([s3_tree.as_uri()], rules, engine="spark", spark=spark)
    finally:
        shutil.rmtree(digest.parent.parent)
    assert sparked.summary.records == 2900 and sparked.digests == 1
    assert hit_keys(sparked) == hit_keys(hunt([s3_tree], rules))
    with pytest.raises(CapicheError):
        hunt([s3_tree.as_uri()], rules)  # DuckDB reads local files only


VALUES = [
    {"requestParameters": {"filter": "a", "Other": {"b": 1, "a": [True, None]}}, "n": 7},
    {"requestParameters": {"Filter": "B"}, "n": 1.5, "b": False, "z": None},
    {"requestParameters": [{"filter": "x"}, "s", {"FILTER": "y"}], "n": "1.50"},
    {"requestParameters": {"filter": {"deep": "no"}}, "policy": '{"Statement": 1}'},
    {"requestParameters": '{"filter": "inside a string"}'},
    {"EVENTNAME": "upper", "UserAgent": "aws-cli/2 é"},
]
TIMES = [
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00.0015Z",
    "2024-05-01T10:00:00.0025+02:00",
    "2024-05-01",
    "2024-05-01 10:00",
    "2024-05-01T10:00:00",
    "junk",
]


def test_spark_extracts_values_as_the_reader_does(tmp_path: Path, spark: Any) -> None:
    from capiche_build.hunt.engines import _prepare, extractor, sniff
    from capiche_build.hunt.sql import Plan

    items = [
        event("E", "s3.amazonaws.com", when, **VALUES[i % len(VALUES)])
        for i, when in enumerate(TIMES * 2)
    ]
    path = write_jsonl(tmp_path / "v.jsonl", items)
    paths = ["eventTime", "requestParameters.filter", "requestParameters.other", "n", "b", "z"]
    paths += ["eventName", "policy.statement", "userAgent", "requestParameters.other.a", "x"]
    plan = Plan.build(RuleSet(()), paths)
    rows = _prepare(spark, plan, sniff([path]), Filters()).collect()
    extract = extractor(list(plan.columns))
    expected = [(reader.event_ms(r["eventTime"]), *extract(r)) for r in items]
    got = [(r["t"], *(r[c] for c in plan.columns.values())) for r in rows]
    # The one known difference: keys differing only in case in one object list their values
    # in key order with Spark (a variant's object is sorted), in file order with the reader.
    name = list(plan.columns).index("eventname") + 1
    swapped = [(*e[:name], '["upper","E"]', *e[name + 1 :]) for e in expected if e[name][0] == "["]
    assert [g for g in got if g[name][0] == "["] == swapped
    assert [g for g in got if g[name][0] != "["] == [e for e in expected if e[name][0] != "["]


def test_spark_fast_lookup_falls_back_when_keys_are_not_plain(tmp_path: Path, spark: Any) -> None:
    """Keys found by position in the lowered keys, except where that could differ: each such
    record (non-ASCII or separator-holding keys, a list or case twins on the way) takes the
    case-insensitive path and still reads as the reader reads it."""
    from capiche_build.hunt.engines import _prepare, extractor, sniff
    from capiche_build.hunt.sql import Plan

    extras = [
        {"Ünïcode": 1, "userIdentity": {"ARN": "a1"}},
        {"a\u0001useragent": "sep", "userIdentity": {"arn": "a2", "x\u0001arn": 3}},
        {"userIdentity": [{"arn": "a3"}, {"Arn": "a4"}, 5]},
        # Case twins (equal values: Spark lists them in key order, the reader in file order).
        {"userIdentity": {"arn": "a5", "ARN": "a5"}, "SourceIPAddress": "203.0.113.7"},
        {"userIdentity": {"Type": "Root", "arn": None, "sessionContext": {"ÄttributeS": {"a": 1}}}},
        {"userIdentity": "not an object", "requestParameters": None},
    ]
    items = [event("E", "s3.amazonaws.com", "2024-05-01T10:00:00Z", **x) for x in extras]
    path = write_jsonl(tmp_path / "k.jsonl", items)
    paths = ["eventTime", "userIdentity.arn", "userAgent", "sourceIPAddress", "ünïcode"]
    paths += ["requestParameters"]
    paths += ["userIdentity.sessionContext.ättributes.a", "userIdentity.type"]
    plan = Plan.build(RuleSet(()), paths)
    rows = _prepare(spark, plan, sniff([path]), Filters()).collect()
    extract = extractor(list(plan.columns))
    got = [[r[c] for c in plan.columns.values()] for r in rows]
    assert got == [extract(r) for r in items]


def test_spark_reports_bad_files(
    tmp_path: Path, records: list[dict[str, Any]], rules: RuleSet, spark: Any
) -> None:
    """What Spark can tell: a Records file it cannot read is reported broken, whole."""
    logs = tmp_path / "logs"
    write_jsonl(logs / "a_good.jsonl", [*records[:50], {"hello": 1}, "x"])
    (logs / "a_good.jsonl").open("a").write("not json\n")
    (logs / "b_dangling.json").symlink_to(tmp_path / "missing.json")
    whole = gzip.compress(json.dumps({"Records": records[:200]}).encode())
    (logs / "c_truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (logs / "d_garbage.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    (logs / "e_malformed.json").write_text('{"Records": [{"eventTime": ', encoding="utf-8")
    incomplete = {k: v for k, v in records[0].items() if k != "eventName"}
    (logs / "f_doc.json").write_text(json.dumps({"Records": [incomplete, records[1], 3]}))
    (logs / "h_notes.txt").write_text("not a log", encoding="utf-8")
    duck = hunt([logs], rules)
    sparked = hunt([logs], rules, engine="spark", spark=spark)
    assert sparked.files == duck.files and sparked.ignored == 1
    s = sparked.summary
    broken = sorted(Path(p.path).name for p in s.problems if p.error)
    # The Python reader keeps the records before a break; Spark skips such a file whole.
    assert broken == [
        "b_dangling.json",
        "c_truncated.json.gz",
        "d_garbage.json.gz",
        "e_malformed.json",
    ]
    assert (s.records, s.invalid, s.not_cloudtrail, s.incomplete) == (51, 1, 3, 1)
    assert duck.summary.records > s.records and duck.summary.broken == s.broken


def test_regex_and_like_escaping_agree_between_engines(tmp_path: Path, spark: Any) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        """title: Escapes
id: 11111111-2222-3333-4444-555555555555
status: test
logsource: {product: aws, service: cloudtrail}
detection:
    sel_re:
        eventName|re: '^Get\\w+_\\d{2}$'
    sel_like:
        userAgent|contains: "50%_off'"
    sel_back:
        userAgent|endswith: 'C:\\tools'
    condition: 1 of sel_*
level: low
""",
        encoding="utf-8",
    )
    items = [
        event("GetThing_12", "s3.amazonaws.com", "2024-05-01T10:00:00Z"),
        event("GetThing_1", "s3.amazonaws.com", "2024-05-01T10:00:01Z"),
        event("X", "s3.amazonaws.com", "2024-05-01T10:00:02Z", userAgent="A 50%_OFF' deal"),
        event("Y", "s3.amazonaws.com", "2024-05-01T10:00:03Z", userAgent="A 50%xoff' deal"),
        event("Z", "s3.amazonaws.com", "2024-05-01T10:00:04Z", userAgent="run c:\\tools"),
    ]
    path = write_jsonl(tmp_path / "e.jsonl", items)
    loaded = load_rules([rule])
    duck = hunt([path], loaded)
    assert duck.matches == dict(evaluate_sigma(rule.read_text(), items).matches)
    assert duck.matches[loaded.rules[0].key] == (0, 2, 4)
    assert hunt([path], loaded, engine="spark", spark=spark).matches == duck.matches


# --------------------------------------------------------------------------- reading


def test_bad_input_is_reported_and_skipped(
    tmp_path: Path, records: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    good = write_jsonl(logs / "a_good.jsonl", records[:50])
    (logs / "b_dangling.json").symlink_to(tmp_path / "missing.json")
    whole = gzip.compress(json.dumps({"Records": records[:200]}).encode())
    (logs / "c_truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (logs / "d_garbage.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    (logs / "e_other.json").write_text('{"hello": "world"}\n[1, 2]\n', encoding="utf-8")
    incomplete = {k: v for k, v in records[0].items() if k != "eventName"}
    write_jsonl(logs / "f_incomplete.jsonl", [incomplete, records[1]])
    # ~50 MB line: above reader.MAX_RECORD_CHARS (16 MiB), so skipped; the next line is read.
    with open(logs / "g_long.jsonl", "w", encoding="utf-8") as handle:
        handle.write('{"eventName": "' + "x" * 50_000_000 + '"}\n')
        handle.write(json.dumps(records[2]) + "\n")
    (logs / "h_notes.txt").write_text("not a log", encoding="utf-8")

    code = main(["hunt", "logs", str(logs), "--rules", str(SIGMA), "--format", "json"])
    assert code == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)["summary"]
    assert summary["files"] == 7 and summary["files_ignored"] == 1
    assert summary["files_broken"] == 3  # dangling link, truncated gzip, garbage gzip
    assert summary["records_not_cloudtrail"] == 2
    assert summary["records_incomplete"] == 1
    assert summary["records_oversized"] == 1
    truncated_kept = summary["records"] - 50 - 1 - 1
    assert 0 < truncated_kept < 200  # the records before the break are kept
    for name in ("b_dangling", "c_truncated", "d_garbage", "e_other", "f_incomplete", "g_long"):
        assert name in err
    assert str(good) not in err


def test_records_stream_across_chunks_and_pretty_print(
    tmp_path: Path, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "CHUNK_CHARS", 1000)  # records ~1.5 KB: every one spans chunks
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps({"Records": records[:300]}, indent=2), encoding="utf-8")
    stats = reader.FileStats(str(path))
    got = list(reader.read_file(path, stats))
    assert got == records[:300] and not stats.error and not stats.first_problem


def test_filters(tmp_path: Path) -> None:
    items = [
        event(
            "DeleteTrail",
            "cloudtrail.amazonaws.com",
            f"2024-05-0{day}T10:00:00Z",
            account=a,
            region=r,
        )
        for day, a, r in [(1, "1", "us-east-1"), (2, "1", "eu-west-1"), (3, "2", "us-east-1")]
    ]
    path = write_jsonl(tmp_path / "f.jsonl", items)
    rules = load_rules([SIGMA / "aws_cloudtrail_cloudtrail_logging_stopped.yml"])

    def times(filters: Filters) -> list[str]:
        return [h.time[:10] for h in hunt([path], rules, filters=filters).hits]

    assert times(Filters()) == ["2024-05-01", "2024-05-02", "2024-05-03"]
    day = 86_400_000
    since = reader.event_ms("2024-05-02")
    assert times(Filters(since_ms=since)) == ["2024-05-02", "2024-05-03"]
    assert times(Filters(until_ms=since)) == ["2024-05-01"]
    assert times(Filters(since_ms=since, until_ms=since + day)) == ["2024-05-02"]
    assert times(Filters(accounts=frozenset({"2"}))) == ["2024-05-03"]
    assert times(Filters(regions=frozenset({"eu-west-1"}))) == ["2024-05-02"]


# --------------------------------------------------------------------------- CLI


def test_output_formats(jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["hunt", "logs", str(jsonl), "--rules", str(SIGMA), "--since", "2023-07-10T12:00:00Z"]
    assert main([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"summary", "problems", "hits"}
    assert data["hits"] and set(data["hits"][0]) == set(CSV_FIELDS)
    assert all(h["time"] >= "2023-07-10T12:00:00Z" for h in data["hits"])

    assert main([*base, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(data["hits"]) and tuple(rows[0]) == CSV_FIELDS

    assert main(base) == 0
    table = capsys.readouterr().out
    assert "Account Left Or Removed From the Organization  [high]" in table
    assert "time  " in table and "principal" in table


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hunt", "logs", str(tmp_path / "nope")]) == 2
    assert main(["hunt", "logs", str(tmp_path), "--since", "yesterday"]) == 2
    assert main(["hunt", "logs", str(tmp_path), "--rules", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "--since" in err and "no Sigma rules" in err


def test_no_input_still_runs(tmp_path: Path, rules: RuleSet) -> None:
    result = hunt([tmp_path], rules)
    assert result.hits == () and result.summary.records == 0
