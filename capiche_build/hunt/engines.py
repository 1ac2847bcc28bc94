"""Run the rules' SQL over CloudTrail: DuckDB on staged records, Spark reading the files itself.

DuckDB (the default): the Python reader streams every file into newline-delimited JSON parts
holding, per record, the values evaluate_sigma's table would hold (dotted paths matched ignoring
case, objects and lists as compact JSON with sorted keys, booleans as 'true'/'false', several
values as a JSON list) and eventTime as epoch ms; DuckDB reads the parts with an explicit schema.

Spark (`--engine spark`): Spark reads the input natively, so the hunt scales past one machine.
`{"Records": [...]}` files (the S3 export layout) are read with multiLine=true into
`Records ARRAY<VARIANT>` and exploded; JSON Lines with singleVariantColumn (a line that is a
Records object is expanded). A variant keeps each JSON value's type, so the same values come out
as with the reader (see _found, _values, _cell_sql, _event_ms, _status; the tests compare them):
keys match ignoring case at every level (spark.sql.caseSensitive=true: `filter` and `Filter`
both exist), lists are searched through their objects, strings are never parsed as JSON,
numbers/booleans/objects are rendered as Python renders them, missing or null is NULL.
Speed: a record's keys are lower-cased once, and a value is found by its position in them (no
lambda, which Spark interprets row by row); records that could differ (keys alike but for case,
non-ASCII keys, a list on the way) take the lambda path.
Local paths are walked and sniffed in Python (reading order, unopenable files, digests, names
ignored, as the reader does); URIs with a scheme (s3a://, hdfs://, file://) go to Spark as they
are and Spark lists them (recursiveFileLookup, pathGlobFilter on CloudTrail file names).
Filters run in Spark SQL. Record ids and positions equal DuckDB's: ids are numbered per file block
after the status filter, then turned into (file, record, id) on the driver from block counts.

Spark differs from the reader only where it cannot see: a file it cannot decompress or parse is
skipped whole and reported broken (the reader keeps the records before the break); a JSON Lines
file that breaks part-way keeps the lines before the break unreported (Spark's ignoreCorruptFiles
gives no signal); problems are counted per file, without a line number; keys differing only in
case within one object list their values in key order, not file order; a .json file must hold
one Records object when given as a URI (local files are sniffed); non-ASCII text inside a value
rendered as JSON (an object, or several values) is not \\u-escaped; a float written 2.0 or 1e20
reads as 2 or 1.0E20.

On a cluster: `SPARK_MASTER=spark://host:7077` (or yarn, k8s://...; default local[*]), or run
under spark-submit, whose master wins. For S3, give s3a:// paths
(`capiche hunt logs s3a://bucket/AWSLogs/123456789012/CloudTrail/ --engine spark`) and put
hadoop-aws of the same version as Spark's Hadoop jars (3.5.0 for pyspark 4.3.0) on the classpath,
e.g. PYSPARK_SUBMIT_ARGS="--packages org.apache.hadoop:hadoop-aws:3.5.0 pyspark-shell"; credentials
come from the usual AWS provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
AWS_PROFILE, instance or pod roles) through spark.hadoop.fs.s3a.aws.credentials.provider.
Local paths are read as file:// paths: on a cluster they must exist on every executor.

Running: one scan marks every event any detection rule matches (one boolean column per rule);
correlations then run as window queries over those few marked events.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from capiche_build.hunt.reader import (
    CLOUDTRAIL_KEYS,
    DIGEST_DIR,
    RECORDS_HEAD,
    REQUIRED,
    SUFFIXES,
    FileStats,
    Filters,
    ReadSummary,
    event_ms,
    read_file,
)
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


def spark_session(master: str | None = None) -> Any:
    """A SparkSession on `master`, else $SPARK_MASTER, else local[*].

    Case-sensitive SQL: CloudTrail keys may differ only in case. UTC: eventTime without an offset.
    """
    from pyspark.sql import SparkSession

    chosen = master or os.environ.get("SPARK_MASTER") or "local[*]"
    session = (
        SparkSession.builder.master(chosen)
        .appName("capiche-hunt")
        .config("spark.sql.caseSensitive", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Locally the shuffles are a few small aggregates: re-planning them costs more than it
        # finds (about 0.5 s a hunt at 100k records). A cluster keeps Spark's default.
        .config("spark.sql.adaptive.enabled", str(not chosen.startswith("local")).lower())
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


# --------------------------------------------------------------------------- Spark, native reading

URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
CORRUPT = "_corrupt"
DOCUMENT_GLOB = "*.{json,json.gz,JSON,JSON.GZ}"
LINES_GLOB = "*.{jsonl,jsonl.gz,ndjson,ndjson.gz}"
VMAP = "MAP<STRING, VARIANT>"
SEP = "char(1)"  # joins a map's keys for lower-casing (see _plain)
EMPTY = "CAST(array() AS ARRAY<VARIANT>)"
# ISO forms that Python's fromisoformat and Spark's timestamp cast read alike; others are NULL.
ISO_TIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
NUMERIC = "^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)"


def is_uri(path: str | os.PathLike[str]) -> bool:
    return bool(URI.match(str(path)))


@dataclass(frozen=True)
class SparkSources:
    """What Spark reads: local files (walked and sniffed here) and URIs that Spark lists."""

    files: tuple[Path, ...] = ()  # every local file, in reading order
    documents: tuple[Path, ...] = ()  # those holding {"Records": [...]}
    lines: tuple[Path, ...] = ()  # those holding JSON Lines
    broken: Mapping[Path, str] = field(default_factory=dict)  # those that cannot be opened
    uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class SparkRun:
    result: EngineResult
    summary: ReadSummary
    files: tuple[str, ...]  # file index -> path as reported (local paths as given, else URIs)
    digests: int


def sniff(paths: Sequence[Path]) -> SparkSources:
    """Sort local files by what they hold, as the Python reader would, from their first bytes."""
    documents: list[Path] = []
    lines: list[Path] = []
    broken: dict[Path, str] = {}
    for path in paths:
        try:
            with open(path, "rb") as raw:
                head = raw.read(2)
                raw.seek(0)
                stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
                text = stream.read(4096).decode("utf-8", "ignore")
        except (OSError, EOFError, zlib.error) as error:
            broken[path] = f"{type(error).__name__}: {error}"
            continue
        (documents if RECORDS_HEAD.match(text) else lines).append(path)
    return SparkSources(tuple(paths), tuple(documents), tuple(lines), broken)


def _nested(as_map: str) -> str:
    """The items of a {"Records": [...]} object that is not itself a record, else NULL.

    The exact-case key is tested first: nearly every record lacks it, and the case-insensitive
    check needs a lambda, which Spark interprets row by row.
    """
    records = f"try_cast({as_map}['Records'] AS ARRAY<VARIANT>)"
    return (
        f"CASE WHEN {as_map}['Records'] IS NULL OR {_cloudtrail(as_map)} THEN NULL "
        f"ELSE {records} END"
    )


def _cloudtrail(as_map: str, lowered: str | None = None, plain: str | None = None) -> str:
    keys = ", ".join(f"'{k}'" for k in sorted(CLOUDTRAIL_KEYS))
    slow = f"coalesce(exists(map_keys({as_map}), k -> lower(k) IN ({keys})), false)"
    if lowered is None:
        return slow
    return f"CASE WHEN {plain} THEN arrays_overlap({lowered}, array({keys})) ELSE {slow} END"


def _joined(as_map: str) -> str:
    """A map's keys joined by U+0001, to lower-case them all with one lower() and split()."""
    return f"concat_ws({SEP}, map_keys({as_map}))"


def _lowered(joined: str) -> str:
    return f"split(lower({joined}), {SEP}, -1)"


def _plain(as_map: str, joined: str, lowered: str) -> str:
    """Whether `lowered` holds the map's keys lower-cased, one per key, no two alike.

    ASCII only (octet_length = length), so lower() of the joined keys is each key's lower()
    (no context-dependent case mapping); no key holds the separator (as many parts as keys).
    """
    return (
        f"coalesce(length({joined}) = octet_length({joined}) AND size({lowered}) = size({as_map}) "
        f"AND size(array_distinct({lowered})) = size({as_map}), false)"
    )


def _string(value: str) -> str:
    """A variant's text when it is a JSON string, else NULL (Python: isinstance(v, str))."""
    return f"CASE WHEN schema_of_variant({value}) = 'STRING' THEN CAST({value} AS STRING) END"


def _status(as_map: str, lowered: str, plain: str) -> str:
    required = " AND ".join(f"{_string(f'{as_map}[{k!r}]')} IS NOT NULL" for k in REQUIRED)
    cloudtrail = _cloudtrail(as_map, lowered, plain)
    return (
        f"CASE WHEN bad IS NOT NULL THEN 'invalid' WHEN missing THEN 'not_cloudtrail' "
        f"WHEN item IS NULL THEN 'empty' WHEN NOT {cloudtrail} THEN 'not_cloudtrail' "
        f"WHEN {required} THEN 'ok' ELSE 'incomplete' END"
    )


def _values(path: str) -> str:
    """ARRAY<VARIANT> of the values at a lower-cased dotted path of record map `m`.

    Keys match ignoring case at every level; a list is searched through its objects (as
    extractor/_descend do). Lambda variables are numbered: nested lambdas must not shadow.
    """
    parts = path.split(".")
    empty = "CAST(array() AS ARRAY<VARIANT>)"
    found = f"map_values(map_filter(m, (k0, x0) -> lower(k0) = {SPARK.literal(parts[0])}))"
    for depth, part in enumerate(parts[1:], 1):
        n, i, k, x = (f"{v}{depth}" for v in "nikx")
        objects = f"coalesce(try_cast({n} AS ARRAY<VARIANT>), array({n}))"
        matched = (
            f"map_values(map_filter(try_cast({i} AS {VMAP}), "
            f"({k}, {x}) -> lower({k}) = {SPARK.literal(part)}))"
        )
        inner = f"flatten(transform({objects}, {i} -> coalesce({matched}, {empty})))"
        found = f"flatten(transform({found}, {n} -> {inner}))"
    return found


def _cell_sql(values: str) -> str:
    """The staged value (see _cell): NULL, the one value as text, or several as a JSON list."""
    item = (
        "CASE WHEN is_variant_null(y) THEN 'null' "
        f"WHEN schema_of_variant(y) RLIKE '{NUMERIC}' THEN CAST(y AS STRING) "
        "ELSE substr(to_json(array(CAST(y AS STRING))), 2, "
        "length(to_json(array(CAST(y AS STRING)))) - 2) END"
    )
    listed = f"concat('[', array_join(transform({values}, y -> {item}), ','), ']')"
    return (
        f"CASE size({values}) WHEN 0 THEN NULL WHEN 1 THEN CAST({values}[0] AS STRING) "
        f"ELSE {listed} END"
    )


def _event_ms(column: str) -> str:
    """eventTime as epoch ms like reader.event_ms: microseconds rounded half to even."""
    micros = f"unix_micros(try_cast({column} AS TIMESTAMP))"
    return f"CASE WHEN {column} RLIKE {SPARK.literal(ISO_TIME)} THEN CAST(bround({micros} / 1000D) AS BIGINT) END"


def _keep_sql(filters: Filters) -> str:
    """Filters.keep in SQL: exact-case account/region keys holding JSON strings, then time."""
    tests = ["true"]
    for key, wanted in (("recipientAccountId", filters.accounts), ("awsRegion", filters.regions)):
        if wanted:
            values = ", ".join(SPARK.literal(v) for v in sorted(wanted))
            tests.append(f"coalesce({_string(f'm[{key!r}]')} IN ({values}), false)")
    if filters.since_ms is not None:
        tests.append(f"coalesce({TS} >= {filters.since_ms}L, false)")
    if filters.until_ms is not None:
        tests.append(f"coalesce({TS} < {filters.until_ms}L, false)")
    return " AND ".join(tests)


def _read(session: Any, sources: SparkSources) -> list[Any]:
    """One DataFrame per kind of input: (file, block, size, bad, missing, r), r a JSON value.

    A Records file gives one row per item (a NULL item if it has none); r may still be a Records
    object, expanded by _prepare.
    """
    frames: list[Any] = []
    documents = [_spark_path(p) for p in sources.documents]
    lines = [_spark_path(p) for p in sources.lines]
    for kind, paths, listed in (
        ("documents", documents, False),
        ("lines", lines, False),
        ("documents", list(sources.uris), True),
        ("lines", list(sources.uris), True),
    ):
        if not paths:
            continue
        reader = (
            session.read.option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .option("ignoreCorruptFiles", "true")  # an unreadable file is found missing below
            .option("ignoreMissingFiles", "true")
        )
        if listed:  # Spark lists the URIs: every CloudTrail file name below them
            glob = DOCUMENT_GLOB if kind == "documents" else LINES_GLOB
            reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", glob)
        if kind == "documents":
            frame = reader.schema(f"Records ARRAY<VARIANT>, {CORRUPT} STRING")
            frame = _load(session, frame.option("multiLine", "true"), paths, listed)
            record = f"explode_outer(CASE WHEN Records IS NULL THEN {EMPTY} ELSE Records END)"
            missing = "Records IS NULL"
        else:
            frame = reader.schema(f"v VARIANT, {CORRUPT} STRING")
            frame = _load(session, frame.option("singleVariantColumn", "v"), paths, listed)
            record, missing = "v", "v IS NULL"
        frames.append(
            frame.selectExpr(
                "_metadata.file_path AS file",
                "_metadata.file_block_start AS block",
                "_metadata.file_size AS size",
                f"{CORRUPT} AS bad",
                f"{missing} AND {CORRUPT} IS NULL AS missing",
                f"{record} AS r",
            )
        )
    return frames


def _load(session: Any, reader: Any, paths: list[str], listed: bool) -> Any:
    """reader.json(paths). Spark lists the files when the DataFrame is made; given more than
    parallelPartitionDiscovery.threshold paths it runs a job to stat them, which for files we
    already listed costs seconds (11 s for 4,000 files, 0.7 s on the driver). URIs keep it: a
    remote tree of many folders is listed faster in parallel.
    """
    key = "spark.sql.sources.parallelPartitionDiscovery.threshold"
    if listed:
        return reader.json(paths)
    previous = session.conf.get(key)
    session.conf.set(key, str(2**31 - 1))
    try:
        return reader.json(paths)
    finally:
        session.conf.set(key, previous)


def _spark_path(path: Path) -> str:
    # An explicit scheme keeps a local path local under a cluster's default file system; glob
    # characters are escaped because Spark expands globs in the paths it is given.
    absolute = os.path.abspath(path)
    return "file://" + re.sub(r"([\\*?\[\]{}])", r"\\\1", absolute)


def _prepare(session: Any, plan: Plan, sources: SparkSources, filters: Filters) -> Any:
    """One row per record or problem: file, block, size, status, keep, t, c0..cn."""
    frames = _read(session, sources)
    if not frames:
        return None
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    base = ["file", "block", "size", "bad", "missing"]
    rows = (
        union.selectExpr(*base, "r", f"try_cast(r AS {VMAP}) AS m0")
        .selectExpr(*base, "r", "m0", f"{_nested('m0')} AS nested")
        .selectExpr(*base, "m0", "nested", "explode_outer(coalesce(nested, array(r))) AS item")
        .selectExpr(
            *base,
            "item",
            f"CASE WHEN nested IS NULL THEN m0 ELSE try_cast(item AS {VMAP}) END AS m",
        )
    )
    # The map's keys lower-cased once per record; each step its own projection, so that Spark
    # computes it once rather than in every expression that reads it.
    rows = rows.selectExpr("*", f"{_joined('m')} AS j").selectExpr("*", f"{_lowered('j')} AS k")
    rows = rows.selectExpr("*", f"{_plain('m', 'j', 'k')} AS p")
    classified = rows.selectExpr(
        "file", "block", "size", "m", "k", "p", f"{_status('m', 'k', 'p')} AS status"
    )
    names = list(plan.columns.values())
    found, prefixes = _lookups(classified, list(plan.columns))
    # Values first, cells from them in a second projection: a cell reads its values 3 times.
    found = found.selectExpr(
        "file",
        "block",
        "size",
        "status",
        "m",
        *(
            f"CASE WHEN status = 'ok' THEN {_found(path, prefixes)} END AS {name}"
            for path, name in plan.columns.items()
        ),
    )
    extracted = found.selectExpr(
        "file", "block", "size", "status", "m", *(f"{_cell_sql(n)} AS {n}" for n in names)
    )
    timed = extracted.selectExpr("*", f"{_event_ms(plan.columns['eventtime'])} AS {TS}")
    return timed.selectExpr(
        "file", "block", "size", "status", f"{_keep_sql(filters)} AS keep", TS, *names
    ).where(f"file NOT LIKE '%/{DIGEST_DIR}/%'")


Prefixes = Mapping[tuple[str, ...], str]  # a path prefix -> suffix of its columns (m_, k_, p_)


def _get(parts: Sequence[str], names: Prefixes) -> str:
    """The value at key parts[-1] (matched lower-cased) of the object at parts[:-1], or NULL."""
    at = names[tuple(parts[:-1])]
    position = f"CAST(array_position(k{at}, {SPARK.literal(parts[-1])}) AS INT) - 1"
    return f"get(map_values(m{at}), {position})"


def _lookups(frame: Any, paths: Sequence[str]) -> tuple[Any, Prefixes]:
    """Add, for every object a dotted path descends through, its map m_, lowered keys k_ and
    fast-path flag p_ (see _found), depth by depth, each step in a projection of its own.

    p_ is true when the fast path is exact down to that object: every object on the way has
    plain keys (_plain) and no value on the way is a list.
    """
    split = [tuple(p.split(".")) for p in paths]
    names: dict[tuple[str, ...], str] = {(): ""}  # the record itself: m, k, p
    for depth in range(1, max((len(s) for s in split), default=1)):
        prefixes = list(dict.fromkeys(s[:depth] for s in split if len(s) > depth))
        for q in prefixes:
            names[q] = f"_{len(names)}"
        step = [(names[q], names[q[:-1]], q) for q in prefixes]
        frame = frame.selectExpr("*", *(f"{_get(q, names)} AS v{n}" for n, _, q in step))
        frame = frame.selectExpr("*", *(f"try_cast(v{n} AS {VMAP}) AS m{n}" for n, _, _ in step))
        frame = frame.selectExpr(
            "*",
            *(f"{_joined(f'm{n}')} AS j{n}" for n, _, _ in step),
            *(
                f"m{n} IS NULL AND try_cast(v{n} AS ARRAY<VARIANT>) IS NOT NULL AS a{n}"
                for n, _, _ in step
            ),
        )
        frame = frame.selectExpr("*", *(f"{_lowered(f'j{n}')} AS k{n}" for n, _, _ in step))
        frame = frame.selectExpr(
            "*",
            *(
                f"p{parent} AND NOT a{n} AND (m{n} IS NULL OR {_plain(f'm{n}', f'j{n}', f'k{n}')}) "
                f"AS p{n}"
                for n, parent, _ in step
            ),
        )
    return frame, names


def _found(path: str, names: Prefixes) -> str:
    """_values(path), through the exact fast path when the record allows it (see _lookups).

    The fast path finds the one value at each step by its position in the lowered keys: no
    lambda, which Spark would interpret row by row. Keys differing only in case, non-ASCII keys
    or a list on the way take _values.
    """
    parts = tuple(path.split("."))
    value = _get(parts, names)
    fast = f"CASE WHEN {value} IS NULL THEN {EMPTY} ELSE array({value}) END"
    return f"CASE WHEN p{names[parts[:-1]]} THEN {fast} ELSE {_values(path)} END"


def run_spark(
    plan: Plan,
    sources: SparkSources,
    filters: Filters,
    keep: Sequence[str],
    session: Any = None,
) -> SparkRun:
    """Read with Spark itself, mark hits, run the correlations; count per file what was read."""
    from pyspark import StorageLevel

    session = session or spark_session()
    prepared = _prepare(session, plan, sources, filters)
    listed = _listed(session, sources, prepared)
    digests = sum(DIGEST_DIR in f.split("/") for f in listed)
    if prepared is None:
        counts, blocks, hit_rows = [], [], []
    else:
        prepared = prepared.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            prepared.createOrReplaceTempView("capiche_prepared")
            counts = session.sql(
                "SELECT file, status, keep, count(*), max(size) FROM capiche_prepared "
                "GROUP BY file, status, keep"
            ).collect()
            counts = [tuple(r) for r in counts]
            # Ids numbered after the filter on status: within a block, ok records are contiguous.
            ok = prepared.where("status = 'ok'").selectExpr(
                "*", "monotonically_increasing_id() AS mid"
            )
            ok.createOrReplaceTempView("capiche_ok")
            blocks = session.sql(
                "SELECT file, block, count(*), min(mid) FROM capiche_ok GROUP BY file, block"
            ).collect()
            events = ok.where("keep").selectExpr(
                f"mid AS {RID}", f"file AS {FILE}", f"block AS {REC}", "*"
            )
            events = events.drop("file", "block", "size", "status", "keep", "mid")
            events.createOrReplaceTempView(EVENTS)
            found = session.sql(plan.hits_sql(EVENTS, SPARK, keep))
            hit_rows = [tuple(r) for r in found.collect()]
        finally:
            prepared.unpersist()
    files = _file_order(sources, listed)
    numbering = _Numbering(files, [tuple(b) for b in blocks])
    renumbered = [numbering.row(r) for r in hit_rows]
    evidence = _spark_correlations(session, plan, renumbered, keep)
    summary = _spark_summary(files, sources, counts)
    shown = tuple(name for _, name in files)
    return SparkRun(_collect(plan, keep, renumbered, evidence), summary, shown, digests)


def _listed(session: Any, sources: SparkSources, prepared: Any) -> list[str]:
    """Every file Spark was to read (its own listing for URIs), whether it yielded rows or not."""
    if prepared is None:
        return []
    return sorted({_local(f) for f in prepared.inputFiles()})


def _local(uri: str) -> str:
    """A file: URI as the local path it names; other URIs unchanged."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _file_order(sources: SparkSources, listed: Sequence[str]) -> list[tuple[str, str]]:
    """(key, shown path) per file: local files as given and walked, then listed ones in walk order.

    The key is what Spark's file_path turns into through _local.
    """
    local = [(os.path.abspath(p), str(p)) for p in sources.files]
    known = {key for key, _ in local}
    extra = [f for f in listed if f not in known and DIGEST_DIR not in f.split("/")]
    return local + [(f, f) for f in sorted(extra, key=_walk_key)]


def _walk_key(uri: str) -> list[tuple[int, str]]:
    # os.walk order, as reader.discover: a folder's files before its sub-folders, names sorted.
    parts = uri.split("/")
    return [(1, p) for p in parts[:-1]] + [(0, parts[-1])]


class _Numbering:
    """Spark's (file, block, id) of a record -> (record id, file index, record in file)."""

    def __init__(self, files: Sequence[tuple[str, str]], blocks: Sequence[tuple[Any, ...]]):
        self.index = {key: i for i, (key, _) in enumerate(files)}
        per_file: dict[int, list[tuple[int, int, int]]] = {}
        for file, block, count, first in blocks:
            per_file.setdefault(self.index[_local(file)], []).append((block, count, first))
        self.start: dict[tuple[int, int], tuple[int, int]] = {}  # (file, block) -> (rec, id)
        self.offset: dict[int, int] = {}
        total = 0
        for file in range(len(files)):
            self.offset[file] = total
            done = 0
            for block, count, first in sorted(per_file.get(file, [])):
                self.start[file, block] = (done, first)
                done += count
            total += done

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        mid, file_uri, block = raw[:3]
        file = self.index[_local(file_uri)]
        rec_start, first = self.start[file, block]
        rec = rec_start + mid - first
        return (self.offset[file] + rec, file, rec, *raw[3:])


def _spark_correlations(
    session: Any, plan: Plan, rows: Sequence[tuple[Any, ...]], keep: Sequence[str]
) -> dict[str, list[int]]:
    query = plan.correlations_sql(SPARK)
    if not query or not rows:
        return _evidence(plan, [])
    kept = plan.kept_columns(keep)
    flags = [f"b{i} BOOLEAN" for i in range(len(plan.rules.detections))]
    ddl = ", ".join(
        [f"{c} BIGINT" for c in (RID, FILE, REC, TS)] + [f"{c} STRING" for c in kept] + flags
    )
    # The marked events are few: one cached partition makes the window passes cheap (a table
    # read from Python rows is otherwise re-serialized by every branch of the union).
    hits = session.createDataFrame(rows, ddl).coalesce(1).cache()
    previous = session.conf.get("spark.sql.shuffle.partitions")
    try:
        hits.createOrReplaceTempView(HITS)
        session.conf.set("spark.sql.shuffle.partitions", "1")
        return _evidence(plan, [tuple(r) for r in session.sql(query).collect()])
    finally:
        session.conf.set("spark.sql.shuffle.partitions", previous)
        hits.unpersist()


def _spark_summary(
    files: Sequence[tuple[str, str]], sources: SparkSources, counts: Sequence[tuple[Any, ...]]
) -> ReadSummary:
    """Per-file counts from Spark's rows; files without any row are the ones Spark could not read."""
    index = {key: i for i, (key, _) in enumerate(files)}
    found: dict[int, list[tuple[str, bool, int, int]]] = {}
    for file, status, keep, count, size in counts:
        found.setdefault(index[_local(file)], []).append((status, keep, count, size or 0))
    broken = {os.path.abspath(p): why for p, why in sources.broken.items()}
    summary = ReadSummary()
    for i, (key, shown) in enumerate(files):
        stats = FileStats(shown)
        size = 0
        if key in broken:
            stats.error = broken[key]
            size = _size(Path(key))
        elif i not in found:
            _unread(stats, key)
            size = _size(Path(key)) if os.path.isabs(key) else 0
        for status, keep, count, seen in found.get(i, []):
            size = max(size, seen)
            _count(stats, status, bool(keep), count, _is_document(key, sources))
        summary.add(stats)
        summary.bytes += size
    return summary


def _is_document(key: str, sources: SparkSources) -> bool:
    if os.path.isabs(key) and not is_uri(key):
        return key in {os.path.abspath(p) for p in sources.documents}
    return key.lower().endswith((".json", ".json.gz"))


def _unread(stats: FileStats, key: str) -> None:
    if key.lower().endswith((".json", ".json.gz")) or not key.lower().endswith(SUFFIXES):
        stats.error = "unreadable by Spark (corrupt or truncated compression?): skipped whole"
    else:  # JSON Lines: an empty file yields no row either
        stats.note("no line read: empty, or unreadable (Spark skips a corrupt file silently)")


def _count(stats: FileStats, status: str, keep: bool, count: int, document: bool) -> None:
    if status == "ok":
        if keep:
            stats.records += count
        else:
            stats.filtered += count
    elif status == "invalid" and document:
        stats.error = "malformed JSON: Spark cannot parse the file, none of its records kept"
    elif status in ("invalid", "not_cloudtrail", "incomplete"):
        setattr(stats, status, getattr(stats, status) + count)
        stats.note(f"{status.replace('_', ' ')} records (Spark does not say where in the file)")


def iter_records(rows: Mapping[int, Row]) -> Iterator[Row]:
    yield from (rows[k] for k in sorted(rows))
