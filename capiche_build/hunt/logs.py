"""`capiche hunt logs`: run the built Sigma rules over CloudTrail files, with DuckDB or Spark.

    files/folders --reader--> staged NDJSON --DuckDB SQL--> matches per rule --> report
    files/folders/URIs --Spark reads them natively--Spark SQL--> matches per rule --> report

Reading (capiche_build.hunt.reader) handles every way AWS delivers CloudTrail and every way a
file can be broken; rule translation (capiche_build.hunt.sql) gives both engines the same SQL;
capiche_build.hunt.engines stages the records and runs it. Exit status: 0 when the hunt ran, hits
or not; 2 for bad input (no such path, rules that do not parse or use unsupported features).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.hunt.engines import (
    EngineResult,
    is_uri,
    run_duckdb,
    run_spark,
    sniff,
    spark_session,
    stage,
)
from capiche_build.hunt.reader import MAX_RECORD_CHARS, Filters, ReadSummary, discover, event_ms
from capiche_build.hunt.sql import Plan, RuleSet, load_rules

DEFAULT_RULES = Path("build") / "sigma"
# Fields every hit shows, besides its rule.
REPORT_FIELDS = (
    "eventTime",
    "userIdentity.arn",
    "sourceIPAddress",
    "eventSource",
    "eventName",
    "recipientAccountId",
    "awsRegion",
    "eventID",
)
LEVELS = ("critical", "high", "medium", "low", "informational", "")


@dataclass(frozen=True)
class Hit:
    rule: str
    rule_id: str
    level: str
    time: str
    principal: str
    source_ip: str
    event_source: str
    event_name: str
    account: str
    region: str
    event_id: str
    file: str
    record: int  # index of the record within its file


@dataclass(frozen=True)
class HuntResult:
    hits: tuple[Hit, ...]
    matches: Mapping[str, tuple[int, ...]]  # every rule's key -> record ids (in reading order)
    summary: ReadSummary
    files: tuple[str, ...]  # local paths as given or walked; URIs as Spark listed them
    ignored: int
    digests: int
    engine: str
    seconds: float


def hunt(
    paths: Sequence[str | os.PathLike[str]],
    rules: RuleSet,
    engine: str = "duckdb",
    filters: Filters = Filters(),  # noqa: B008 (immutable)
    progress: TextIO | None = None,
    spark: Any = None,
) -> HuntResult:
    """Read, stage and run. `progress`: a terminal to draw a progress bar on (DuckDB only)."""
    start = time.perf_counter()
    uris = [str(p) for p in paths if is_uri(p)]
    if uris and engine != "spark":
        raise CapicheError(
            Diagnostic(uris[0], message="URIs are read by Spark only", hint="use --engine spark")
        )
    try:
        found = discover([p for p in paths if not is_uri(p)])
    except FileNotFoundError as error:
        raise CapicheError(Diagnostic(str(error), message="no such file or folder")) from error
    plan = Plan.build(rules, REPORT_FIELDS)
    if engine == "spark":
        sources = replace(sniff(found.files), uris=tuple(uris))
        run = run_spark(plan, sources, filters, REPORT_FIELDS, spark)
        result, summary, files = run.result, run.summary, run.files
        digests = found.digests + run.digests
    else:
        result, summary = _duckdb(plan, found.files, filters, progress)
        files, digests = tuple(str(p) for p in found.files), found.digests
    return HuntResult(
        _hits(rules, result, files),
        result.matches,
        summary,
        files,
        found.ignored,
        digests,
        engine,
        time.perf_counter() - start,
    )


def _duckdb(
    plan: Plan, files: Sequence[Path], filters: Filters, progress: TextIO | None
) -> tuple[EngineResult, ReadSummary]:
    """The Python reader stages the records (per-file error accounting), DuckDB runs the SQL."""
    bar = _Progress(progress, len(files), sum(_size(p) for p in files))
    with tempfile.TemporaryDirectory(prefix="capiche-hunt-") as tmp:
        staged = stage(files, plan, filters, Path(tmp), bar.update if progress else None)
        bar.done()
        return run_duckdb(plan, staged.parts, REPORT_FIELDS), staged.summary


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _hits(rules: RuleSet, result: EngineResult, files: Sequence[str]) -> tuple[Hit, ...]:
    hits: list[Hit] = []
    for rule in sorted(
        (r for r in rules.rules if r.top_level), key=lambda r: (_rank(r.level), r.title)
    ):
        rows = [result.rows[rid] for rid in result.matches[rule.key]]
        for row in sorted(rows, key=lambda r: (r.fields["eventTime"] or "", r.file, r.record)):
            f = {k: v or "" for k, v in row.fields.items()}
            hits.append(
                Hit(
                    rule.title,
                    rule.id,
                    rule.level,
                    f["eventTime"],
                    f["userIdentity.arn"],
                    f["sourceIPAddress"],
                    f["eventSource"],
                    f["eventName"],
                    f["recipientAccountId"],
                    f["awsRegion"],
                    f["eventID"],
                    files[row.file],
                    row.record,
                )
            )
    return tuple(hits)


class _Progress:
    """A one-line bar over files and bytes, redrawn at most ten times a second."""

    def __init__(self, out: TextIO | None, files: int, total: int) -> None:
        self.out, self.files, self.total = out, files, max(total, 1)
        self.last = 0.0

    def update(self, files: int, done: int, records: int) -> None:
        now = time.monotonic()
        if self.out is None or (now - self.last < 0.1 and files < self.files):
            return
        self.last = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.out.write(
            f"\r[{bar:<30}] {files}/{self.files} files  "
            f"{done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB  {records:,} records"
        )
        self.out.flush()

    def done(self) -> None:
        if self.out is not None:
            self.out.write("\n")
            self.out.flush()


# --------------------------------------------------------------------------- CLI


def parse_time(value: str, option: str) -> int:
    """An ISO date or time as epoch ms (UTC unless it says otherwise)."""
    ms = event_ms(value.strip())
    if ms is None:
        raise CapicheError(
            Diagnostic(
                message=f"{option}: {value!r} is not an ISO date or time",
                hint="e.g. 2024-05-01 or 2024-05-01T13:00:00Z",
            )
        )
    return ms


def filters_from(args: argparse.Namespace) -> Filters:
    return Filters(
        since_ms=parse_time(args.since, "--since") if args.since else None,
        until_ms=parse_time(args.until, "--until") if args.until else None,
        accounts=frozenset(args.account or ()),
        regions=frozenset(args.region or ()),
    )


def run_logs_command(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules or [DEFAULT_RULES])
    tty = sys.stderr if sys.stderr.isatty() else None
    # --master, when the CLI offers it, else $SPARK_MASTER, else local[*] (engines.spark_session).
    master = getattr(args, "master", None)
    spark = spark_session(master) if args.engine == "spark" and master else None
    result = hunt(args.paths, rules, args.engine, filters_from(args), progress=tty, spark=spark)
    for diag in problems(result):
        print(diag.format(), file=sys.stderr)
    print(summary_line(result, len(rules.rules)), file=sys.stderr)
    render = {"json": to_json, "csv": to_csv}.get(args.format, to_table)
    sys.stdout.write(render(result))
    return 0


def problems(result: HuntResult) -> list[Diagnostic]:
    """One warning per file that had problems, saying what was skipped."""
    found: list[Diagnostic] = []
    for stats in result.summary.problems:
        counts = [
            (stats.not_cloudtrail, "not CloudTrail"),
            (stats.incomplete, "without eventTime/eventSource/eventName"),
            (stats.invalid, "not JSON"),
            (stats.oversized, f"over {MAX_RECORD_CHARS:,} characters"),
        ]
        parts = [f"{n:,} skipped: {what}" for n, what in counts if n]
        if stats.error:
            parts.insert(
                0, f"broken, read up to the break ({stats.records:,} records kept): {stats.error}"
            )
        hint = f"first: {stats.first_problem}" if stats.first_problem else ""
        found.append(Diagnostic(stats.path, None, None, "; ".join(parts), "hunt", "warning", hint))
    return found


def summary_dict(result: HuntResult) -> dict[str, Any]:
    s = result.summary
    return {
        "engine": result.engine,
        "files": s.files,
        "bytes": s.bytes,
        "files_broken": s.broken,
        "files_ignored": result.ignored,
        "digest_files_skipped": result.digests,
        "records": s.records,
        "records_filtered_out": s.filtered,
        "records_not_cloudtrail": s.not_cloudtrail,
        "records_incomplete": s.incomplete,
        "records_invalid_json": s.invalid,
        "records_oversized": s.oversized,
        "hits": len(result.hits),
        "seconds": round(result.seconds, 3),
    }


def summary_line(result: HuntResult, rules: int) -> str:
    d = summary_dict(result)
    skipped = sum(d[k] for k in d if k.startswith("records_") and k != "records_filtered_out")
    return (
        f"hunt: {rules} rules over {d['records']:,} records in {d['files']:,} files "
        f"({d['files_broken']} broken, {skipped:,} records skipped, "
        f"{d['records_filtered_out']:,} filtered out) with {d['engine']}: "
        f"{d['hits']:,} hits in {d['seconds']:.1f}s"
    )


def to_json(result: HuntResult) -> str:
    data = {
        "summary": summary_dict(result),
        "problems": [asdict(d) for d in problems(result)],
        "hits": [asdict(h) for h in result.hits],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS = tuple(Hit.__dataclass_fields__)


def to_csv(result: HuntResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows([getattr(h, f) for f in CSV_FIELDS] for h in result.hits)
    return out.getvalue()


def to_table(result: HuntResult) -> str:
    from capiche_build.cli import format_table

    if not result.hits:
        return "no rule matched\n"
    blocks: list[str] = []
    groups: dict[tuple[str, str, str], list[Hit]] = {}
    for hit in result.hits:
        groups.setdefault((hit.rule, hit.rule_id, hit.level), []).append(hit)
    for (title, rule_id, level), hits in groups.items():
        rows = [
            [h.time, h.principal, h.source_ip, f"{h.event_source}/{h.event_name}", _where(h)]
            for h in hits
        ]
        header = f"{title}  [{level}]  {rule_id}  ({len(hits)} hit{'s' * (len(hits) != 1)})"
        table = format_table(["time", "principal", "source IP", "event", "file"], rows)
        blocks.append(f"{header}\n{table}\n")
    return "\n".join(blocks)


def _where(hit: Hit) -> str:
    return f"{hit.file}#{hit.record}"
