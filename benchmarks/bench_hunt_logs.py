"""Throughput of `capiche hunt logs`: DuckDB on ~1M records; Spark reading natively, Spark/DuckDB.

Volume comes from replaying data/cloudtrail/invictus-aws-dataset.jsonl.gz: copy k shifts every
eventTime by k hours and rewrites every eventID, and the copies are written as CloudTrail
delivers them to S3 (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, one gzipped
{"Records": [...]} file per 5 minutes). DuckDB: the Python reader stages, DuckDB runs the SQL.
Spark: Spark reads the files itself (cold: first hunt in a fresh JVM; warm: the same session
again). Goals: >= 1M records/minute with DuckDB on 2 cores, Spark within 3x of DuckDB.

    python benchmarks/bench_hunt_logs.py [--records 1000000] [--spark-records 100000] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capiche_build.hunt.engines import (  # noqa: E402
    run_duckdb,
    run_spark,
    sniff,
    spark_session,
    stage,
)
from capiche_build.hunt.logs import REPORT_FIELDS  # noqa: E402
from capiche_build.hunt.reader import Filters, discover  # noqa: E402
from capiche_build.hunt.sql import Plan, load_rules  # noqa: E402

DATASET = ROOT / "data" / "cloudtrail" / "invictus-aws-dataset.jsonl.gz"


def generate(out: Path, total: int) -> list[Path]:
    """Write `total` replayed records in the S3 export layout; return the files, sorted."""
    templates = []
    with gzip.open(DATASET, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            templates.append((json.dumps(record), record))
    written = 0
    copy = 0
    while written < total:
        files: dict[Path, list[str]] = defaultdict(list)
        for text, record in templates[: total - written]:
            when = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
            when += timedelta(hours=copy)
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            text = text.replace(record["eventTime"], stamp)
            if record.get("eventID"):
                text = text.replace(record["eventID"], f"{record['eventID'][:-8]}{copy:08x}")
            account, region = record["recipientAccountId"], record["awsRegion"]
            bucket = when.replace(minute=when.minute // 5 * 5, second=0)
            name = f"{account}_CloudTrail_{region}_{bucket:%Y%m%dT%H%M}Z_bench{copy}.json.gz"
            folder = out / "AWSLogs" / account / "CloudTrail" / region / f"{when:%Y/%m/%d}"
            files[folder / name].append(text)
        for path, texts in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            body = '{"Records":[' + ",".join(texts) + "]}"
            path.write_bytes(gzip.compress(body.encode(), compresslevel=6))
        written += min(len(templates), total - written)
        copy += 1
    return sorted(discover([out]).files)


def per_minute(records: int, seconds: float) -> str:
    return f"{records / seconds * 60:,.0f} records/min"


def run(files: list[Path], engine: str, session: object = None) -> tuple[int, float, float, int]:
    """(records, read seconds, engine seconds, hits); Spark reads while it runs: read is 0."""
    rules = load_rules([ROOT / "build" / "sigma"])
    plan = Plan.build(rules, REPORT_FIELDS)
    if engine == "spark":
        start = time.perf_counter()
        spark = run_spark(plan, sniff(files), Filters(), REPORT_FIELDS, session)
        hits = sum(len(spark.result.matches[r.key]) for r in rules.rules if r.top_level)
        return spark.summary.records, 0.0, time.perf_counter() - start, hits
    with tempfile.TemporaryDirectory(prefix="bench-stage-") as tmp:
        start = time.perf_counter()
        staged = stage(files, plan, Filters(), Path(tmp))
        read = time.perf_counter() - start
        start = time.perf_counter()
        result = run_duckdb(plan, staged.parts, REPORT_FIELDS)
        sql = time.perf_counter() - start
    hits = sum(len(result.matches[r.key]) for r in rules.rules if r.top_level)
    return staged.summary.records, read, sql, hits


def native_duckdb(files: list[Path]) -> tuple[int, float]:
    """For comparison: DuckDB reading the raw files itself (no per-file error handling)."""
    import duckdb

    listing = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in files) + "]"
    query = (
        "SELECT count(*) FROM (SELECT unnest(Records, recursive := false) AS r FROM read_json("
        f"{listing}, columns = {{'Records': 'STRUCT(eventTime VARCHAR, eventSource VARCHAR, "
        "eventName VARCHAR, userAgent VARCHAR)[]'}, maximum_object_size = 536870912)) "
        "WHERE r.eventSource = 'iam.amazonaws.com'"
    )
    start = time.perf_counter()
    duckdb.connect().execute(query).fetchall()
    return 0, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--spark-records", type=int, default=100_000)
    parser.add_argument(
        "--out", type=Path, help="keep the generated files here (reused if present)"
    )
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-native", action="store_true", help="skip the read_json comparison")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-hunt-"))
    try:
        print(f"cores: {os.cpu_count()}  records: {args.records:,}  data: {out}")
        start = time.perf_counter()
        files = sorted(discover([out]).files) if any(out.rglob("*.json.gz")) else []
        if not files:
            files = generate(out, args.records)
        size = sum(p.stat().st_size for p in files)
        print(
            f"generated {len(files):,} files, {size / 1e6:,.0f} MB gzipped in {time.perf_counter() - start:.1f}s"
        )

        records, read, sql, hits = run(files, "duckdb")
        total = read + sql
        print(
            f"duckdb : {records:,} records, {hits:,} hits: read+stage {read:.1f}s + sql {sql:.1f}s"
            f" = {total:.1f}s -> {per_minute(records, total)}"
        )
        if not args.no_native:
            _, native = native_duckdb(files)
            print(f"         (duckdb read_json of the raw files alone: {native:.1f}s, no checks)")

        if not args.no_spark:
            count = 0
            part: list[Path] = []
            for path in files:  # a slice of whole files holding about --spark-records
                if count >= args.spark_records:
                    break
                part.append(path)
                count += 1 if path.stat().st_size == 0 else _records_in(path)
            start = time.perf_counter()
            session = spark_session()
            boot = time.perf_counter() - start
            drec, dread, dsql, dhits = run(part, "duckdb")
            srec, _, cold, shits = run(part, "spark", session)
            # Again in the same session: Spark once the JVM has compiled its code (a long-lived
            # session, as on a cluster).
            _, _, warm, _ = run(part, "spark", session)
            session.stop()
            assert (srec, shits) == (drec, dhits), "engines disagree"
            dtotal = dread + dsql
            print(f"slice  : {len(part):,} files, {drec:,} records, {dhits:,} hits (same on both)")
            print(
                f"duckdb : read+stage {dread:.1f}s + sql {dsql:.1f}s = {dtotal:.1f}s"
                f" -> {per_minute(drec, dtotal)}"
            )
            print(
                f"spark  : native read+sql, cold JVM {cold:.1f}s -> {per_minute(srec, cold)}"
                f" (+{boot:.1f}s session start, not counted)"
            )
            print(f"spark  : native read+sql, warm JVM {warm:.1f}s -> {per_minute(srec, warm)}")
            print(f"ratio spark/duckdb: cold {cold / dtotal:.2f}x, warm {warm / dtotal:.2f}x")
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    return 0


def _records_in(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return len(json.load(handle)["Records"])


if __name__ == "__main__":
    sys.exit(main())
