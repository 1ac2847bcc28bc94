"""Stage CloudTrail records once, then run the rules' SQL in DuckDB or Spark.

Staging: the reader's records are cut down to the fields the rules and the report need, written
as newline-delimited JSON parts with the values evaluate_sigma's table would hold (dotted paths
matched ignoring case, objects and lists as compact JSON, booleans as 'true'/'false') and eventTime
as epoch ms. Both engines read the same parts with the same explicit schema, so bad input is
handled once, field-name case never matters to the engines (CloudTrail request parameters have
keys that differ only in case), and the two engines cannot disagree about what a record holds.

Running: one scan marks every event any detection rule matches (one boolean column per rule);
correlations then run as window queries over those few marked events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from capiche_build.hunt.reader import FileStats, Filters, ReadSummary, event_ms, read_file
from capiche_build.hunt.sql import DUCKDB, EVENTS, FILE, HITS, REC, RID, SPARK, TS, Plan

PART_BYTES = 128 * 1024 * 1024  # several parts let both engines read in parallel


@dataclass(frozen=True)
class Row:
    """One marked event: where it came from and the fields the report shows."""

    rid: int
    file: int
    record: int
    ts: int | None
    fields: Mapping[str, str | None]  # output field -> value


@dataclass(frozen=True)
class EngineResult:
    rows: Mapping[int, Row]
    matches: Mapping[str, tuple[int, ...]]  # rule key -> record ids


# --------------------------------------------------------------------------- staging


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _leaf(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return _json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _descend(node: Any, parts: Sequence[str]) -> list[Any]:
    """Values at a lower-cased dotted path, as engines.sigma.flatten_record collects them."""
    if not parts:
        return [_leaf(node)]
    items: list[Any] = [node] if isinstance(node, dict) else []
    if isinstance(node, list):
        items = [item for item in node if isinstance(item, dict)]
    found: list[Any] = []
    for item in items:
        for key, sub in item.items():
            if key.lower() == parts[0]:
                found += _descend(sub, parts[1:])
    return found


def _cell(values: list[Any]) -> str | None:
    if not values:
        return None
    value = values[0] if len(values) == 1 else _json(values)
    return None if value is None else str(value)


def extractor(paths: Sequence[str]) -> Callable[[dict[str, Any]], list[str | None]]:
    """A function giving the staged value of each path for a record."""
    split = [tuple(p.split(".")) for p in paths]

    def extract(record: dict[str, Any]) -> list[str | None]:
        top = {k.lower(): v for k, v in record.items()}
        if len(top) != len(record):  # keys differing only in case: take the slow, exact way
            return [_cell(_descend(record, parts)) for parts in split]
        out: list[str | None] = []
        for parts in split:
            if parts[0] not in top:
                out.append(None)
            elif len(parts) == 1:
                value = _leaf(top[parts[0]])
                out.append(None if value is None else str(value))
            else:
                out.append(_cell(_descend(top[parts[0]], parts[1:])))
        return out

    return extract


@dataclass(frozen=True)
class Staged:
    parts: tuple[Path, ...]
    summary: ReadSummary


def stage(
    files: Sequence[Path],
    plan: Plan,
    filters: Filters,
    directory: Path,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> Staged:
    """Read every file into NDJSON parts under `directory`. on_progress(files, bytes, records)."""
    extract = extractor(list(plan.columns))
    names = list(plan.columns.values())
    summary = ReadSummary()
    writer = _PartWriter(directory)
    rid = 0
    done_bytes = 0
    time_col = list(plan.columns).index("eventtime")
    for index, path in enumerate(files):
        stats = FileStats(str(path))
        size = _size(path)
        tick = _ticker(on_progress, index, done_bytes, summary, stats) if on_progress else None
        for number, record in enumerate(read_file(path, stats, tick)):
            values = extract(record)
            ts = event_ms(values[time_col])
            rid += 1  # ids count filtered-out records too: Spark numbers records before filtering
            if not filters.keep(record, ts):
                stats.filtered += 1
                continue
            row: dict[str, Any] = {RID: rid - 1, FILE: index, REC: number, TS: ts}
            row.update((n, v) for n, v in zip(names, values, strict=True) if v is not None)
            writer.write(json.dumps(row, separators=(",", ":")))
            stats.records += 1
        summary.add(stats)
        done_bytes += size
        summary.bytes = done_bytes
        if on_progress:
            on_progress(index + 1, done_bytes, summary.records)
    return Staged(writer.close(), summary)


def _ticker(
    on_progress: Callable[[int, int, int], None],
    index: int,
    base: int,
    summary: ReadSummary,
    stats: FileStats,
) -> Callable[[int], None]:
    return lambda n: on_progress(index, base + n, summary.records + stats.records)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _PartWriter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.parts: list[Path] = []
        self.handle: IO[str] | None = None
        self.written = 0

    def write(self, line: str) -> None:
        if self.handle is None or self.written > PART_BYTES:
            self._next()
        assert self.handle is not None
        self.handle.write(line)
        self.handle.write("\n")
        self.written += len(line) + 1

    def _next(self) -> None:
        if self.handle:
            self.handle.close()
        self.parts.append(self.directory / f"part-{len(self.parts):05d}.ndjson")
        self.handle = open(self.parts[-1], "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self.written = 0

    def close(self) -> tuple[Path, ...]:
        if self.handle:
            self.handle.close()
        return tuple(self.parts)


# --------------------------------------------------------------------------- engines


def _collect(
    plan: Plan,
    keep: Sequence[str],
    hit_rows: Sequence[Sequence[Any]],
    evidence: Mapping[str, Sequence[int]],
) -> EngineResult:
    """Turn the hits table (rid, file, rec, ts, kept fields, flags) into per-rule matches."""
    kept = len(plan.kept_columns(keep))
    rows: dict[int, Row] = {}
    matches: dict[str, list[int]] = {r.key: [] for r in plan.rules.rules}
    detections = plan.rules.detections
    for raw in sorted(hit_rows, key=lambda r: r[0]):
        rid, file, rec, ts = raw[:4]
        rows[rid] = Row(rid, file, rec, ts, dict(zip(keep, raw[4 : 4 + len(keep)], strict=True)))
        for rule, flag in zip(detections, raw[4 + kept :], strict=True):
            if flag:
                matches[rule.key].append(rid)
    for key, rids in evidence.items():
        matches[key] = sorted(rids)
    return EngineResult(rows, {k: tuple(v) for k, v in matches.items()})


def _evidence(plan: Plan, rows: Sequence[Sequence[Any]]) -> dict[str, list[int]]:
    evidence: dict[str, list[int]] = {r.key: [] for r in plan.rules.correlations}
    keys = [r.key for r in plan.rules.correlations]
    for index, rid in rows:
        evidence[keys[index]].append(rid)
    return evidence


def run_duckdb(plan: Plan, parts: Sequence[Path], keep: Sequence[str]) -> EngineResult:
    import duckdb

    con = duckdb.connect()
    try:
        if parts:
            files = "[" + ", ".join(DUCKDB.literal(str(p)) for p in parts) + "]"
            columns = ", ".join(f"{DUCKDB.literal(n)}: '{t}'" for n, t in _schema(plan))
            source = f"read_ndjson({files}, columns = {{{columns}}})"
        else:
            con.execute(
                f"CREATE TABLE {EVENTS} ({', '.join(f'{n} {t}' for n, t in _schema(plan))})"
            )
            source = EVENTS
        con.execute(f"CREATE TEMP TABLE {HITS} AS {plan.hits_sql(source, DUCKDB, keep)}")
        hit_rows = con.execute(f"SELECT * FROM {HITS}").fetchall()
        query = plan.correlations_sql(DUCKDB)
        evidence = _evidence(plan, con.execute(query).fetchall() if query else [])
    finally:
        con.close()
    return _collect(plan, keep, hit_rows, evidence)


def _schema(plan: Plan) -> list[tuple[str, str]]:
    return [
        (RID, "BIGINT"),
        (FILE, "INTEGER"),
        (REC, "BIGINT"),
        (TS, "BIGINT"),
        *((c, "VARCHAR") for c in plan.columns.values()),
    ]


def spark_session() -> Any:
    """A local SparkSession. Case-sensitive SQL: CloudTrail keys may differ only in case."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[*]")
        .appName("capiche-hunt")
        .config("spark.sql.caseSensitive", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_spark(
    plan: Plan, parts: Sequence[Path], keep: Sequence[str], session: Any = None
) -> EngineResult:
    session = session or spark_session()
    ddl = ", ".join(f"{n} {'STRING' if t == 'VARCHAR' else t}" for n, t in _schema(plan))
    if parts:
        events = session.read.schema(ddl).option("mode", "FAILFAST").json([str(p) for p in parts])
    else:
        events = session.createDataFrame([], ddl)
    events.createOrReplaceTempView(EVENTS)
    found = session.sql(plan.hits_sql(EVENTS, SPARK, keep))
    hit_rows = [tuple(r) for r in found.collect()]
    query = plan.correlations_sql(SPARK)
    evidence = _evidence(plan, [])
    if query and hit_rows:
        # The marked events are few: one cached partition makes the window passes cheap (a
        # table read from Python rows is otherwise re-serialized by every branch of the union).
        hits = session.createDataFrame(hit_rows, found.schema).coalesce(1).cache()
        previous = session.conf.get("spark.sql.shuffle.partitions")
        try:
            hits.createOrReplaceTempView(HITS)
            session.conf.set("spark.sql.shuffle.partitions", "1")
            evidence = _evidence(plan, [tuple(r) for r in session.sql(query).collect()])
        finally:
            session.conf.set("spark.sql.shuffle.partitions", previous)
            hits.unpersist()
    return _collect(plan, keep, hit_rows, evidence)


def iter_records(rows: Mapping[int, Row]) -> Iterator[Row]:
    yield from (rows[k] for k in sorted(rows))
