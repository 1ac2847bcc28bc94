"""Read CloudTrail as AWS delivers it, one record at a time, in bounded memory.

Accepted: the S3 export layout (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`),
any `.json`/`.json.gz` holding `{"Records": [...]}`, and JSON Lines (gzipped or not; a line may
itself be a Records object). Compression is detected from the bytes, not the name.

Nothing bad is fatal and nothing bad is silent: a file that cannot be opened or breaks part-way
(truncated gzip, invalid UTF-8, malformed JSON) is reported and skipped from the break on (the
records read before it are kept); records that are not CloudTrail, lack required fields, or are
larger than MAX_RECORD_CHARS are counted per file.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

# CloudTrail caps an event at 256 KB; anything far bigger is not a record we can use, and
# reading it whole would let one bad line (say 1 GB) exhaust memory.
MAX_RECORD_CHARS = 16 * 1024 * 1024
CHUNK_CHARS = 64 * 1024  # also bounds what a break in a compressed file can take with it
SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
DIGEST_DIR = "CloudTrail-Digest"  # signed digests, not events
REQUIRED = ("eventTime", "eventSource", "eventName")
CLOUDTRAIL_KEYS = frozenset({"eventversion", "eventtime", "eventsource", "eventname"})
RECORDS_HEAD = re.compile(r'\s*\{\s*"Records"\s*:\s*\[')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Filters:
    """Which records take part: eventTime in [since, until) (epoch ms), account and region sets."""

    since_ms: int | None = None
    until_ms: int | None = None
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def keep(self, record: dict[str, Any], ts: int | None) -> bool:
        if self.accounts and record.get("recipientAccountId") not in self.accounts:
            return False
        if self.regions and record.get("awsRegion") not in self.regions:
            return False
        if self.since_ms is not None and (ts is None or ts < self.since_ms):
            return False
        return self.until_ms is None or (ts is not None and ts < self.until_ms)


@dataclass
class FileStats:
    """What reading one file found (mutable while the file is read)."""

    path: str
    records: int = 0
    filtered: int = 0
    not_cloudtrail: int = 0
    incomplete: int = 0
    invalid: int = 0  # lines or array items that are not JSON objects
    oversized: int = 0
    error: str = ""  # why the file broke off, if it did
    first_problem: str = ""

    def note(self, what: str) -> None:
        if not self.first_problem:
            self.first_problem = what


@dataclass(frozen=True)
class Discovery:
    files: tuple[Path, ...]
    ignored: int  # files in folders whose name is not a CloudTrail file name
    digests: int


def discover(paths: Sequence[str | os.PathLike[str]]) -> Discovery:
    """Files to read: given files as they are, folders walked in sorted order.

    Raises FileNotFoundError for a path that does not exist (bad input, not a bad file).
    """
    files: list[Path] = []
    ignored = digests = 0
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path):
                if DIGEST_DIR in found.parts:
                    digests += 1
                elif found.name.lower().endswith(SUFFIXES):
                    files.append(found)
                else:
                    ignored += 1
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise FileNotFoundError(str(path))
    return Discovery(tuple(files), ignored, digests)


def _walk(root: Path) -> Iterator[Path]:
    # os.walk, not rglob: a dangling symlink must be reported as unreadable, not dropped.
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            yield Path(folder, name)


def event_ms(value: Any) -> int | None:
    """eventTime as epoch milliseconds (UTC if no offset), like SQLite's julianday; else None."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    delta = stamp - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + round(delta.microseconds / 1000)


def classify(obj: Any) -> str:
    """'ok', 'not_cloudtrail' or 'incomplete' for one decoded JSON value."""
    if not isinstance(obj, dict):
        return "not_cloudtrail"
    if not any(isinstance(k, str) and k.lower() in CLOUDTRAIL_KEYS for k in obj):
        return "not_cloudtrail"
    if all(isinstance(obj.get(k), str) for k in REQUIRED):
        return "ok"
    return "incomplete"


def read_file(
    path: Path,
    stats: FileStats,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the CloudTrail records of one file; problems go into `stats`, never raise.

    `on_bytes(n)` is told, now and then, how many bytes of the file (as stored) have been read.
    """
    try:
        with open(path, "rb") as raw:
            stream: BinaryIO = raw
            if raw.peek(2)[:2] == b"\x1f\x8b":
                stream = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), CHUNK_CHARS)  # type: ignore[arg-type]
            head = stream.peek(4096)[:4096].decode("utf-8", "ignore")  # type: ignore[attr-defined]
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
            tick = (lambda: on_bytes(raw.tell())) if on_bytes else (lambda: None)
            if RECORDS_HEAD.match(head):
                yield from _records_document(text, stats, tick)
            else:
                yield from _json_lines(text, stats, tick)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as error:
        stats.error = _describe(error)


def _describe(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return f"truncated compressed file ({error})"
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text ({error.reason})"
    if isinstance(error, json.JSONDecodeError):
        return f"malformed JSON ({error.msg})"
    return f"{type(error).__name__}: {error}"


def _accept(obj: Any, stats: FileStats, where: str) -> Iterator[dict[str, Any]]:
    kind = classify(obj)
    if kind == "ok":
        yield obj
    elif kind == "incomplete":
        stats.incomplete += 1
        missing = ", ".join(k for k in REQUIRED if not isinstance(obj.get(k), str))
        stats.note(f"{where}: record without {missing}")
    elif isinstance(obj, dict) and isinstance(obj.get("Records"), list):
        for index, item in enumerate(obj["Records"]):  # a JSON Lines line holding a Records object
            yield from _accept(item, stats, f"{where} item {index}")
    else:
        stats.not_cloudtrail += 1
        stats.note(f"{where}: JSON that is not a CloudTrail record")


def _json_lines(
    text: io.TextIOWrapper, stats: FileStats, tick: Callable[[], None]
) -> Iterator[dict[str, Any]]:
    number = 0
    while line := text.readline(MAX_RECORD_CHARS + 1):
        number += 1
        if number % 20_000 == 0:
            tick()
        if len(line) > MAX_RECORD_CHARS and not line.endswith("\n"):
            stats.oversized += 1
            stats.note(f"line {number}: longer than {MAX_RECORD_CHARS:,} characters, skipped")
            while (part := text.readline(CHUNK_CHARS)) and not part.endswith("\n"):
                pass  # drain the long line without keeping it
            continue
        if line.isspace():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            stats.invalid += 1
            stats.note(f"line {number}: not JSON ({error.msg})")
            continue
        yield from _accept(obj, stats, f"line {number}")


class _Cursor:
    """A sliding window over a text stream, for decoding one JSON value at a time."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.buf = ""
        self.pos = 0

    def fill(self, size: int = CHUNK_CHARS) -> bool:
        more = self.text.read(size)
        if not more:
            return False
        self.buf = self.buf[self.pos :] + more
        self.pos = 0
        return True

    def skip(self, chars: str) -> bool:
        """Move past `chars`; False at the end of the stream."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in chars:
                self.pos += 1
            if self.pos < len(self.buf):
                return True
            if not self.fill():
                return False

    def match_head(self) -> bool:
        while len(self.buf) - self.pos < 256 and self.fill():
            pass
        found = RECORDS_HEAD.match(self.buf, self.pos)
        if found:
            self.pos = found.end()
        return found is not None

    def decode(self, decoder: json.JSONDecoder, stats: FileStats) -> Any:
        want = CHUNK_CHARS
        while True:
            try:
                obj, self.pos = decoder.raw_decode(self.buf, self.pos)
                return obj
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > MAX_RECORD_CHARS:
                    stats.oversized += 1
                    raise json.JSONDecodeError(
                        f"a record longer than {MAX_RECORD_CHARS:,} characters", "", 0
                    ) from None
                # Probably cut by the chunk: read more, doubling so a big record costs O(n).
                if not self.fill(want):
                    raise
                want = min(want * 2, MAX_RECORD_CHARS)


def _records_document(
    text: io.TextIOWrapper, stats: FileStats, tick: Callable[[], None]
) -> Iterator[dict[str, Any]]:
    """Stream the items of `{"Records": [...]}`, or of several such objects in a row."""
    decoder = json.JSONDecoder()
    cur = _Cursor(text)
    index = 0
    while cur.skip(" \t\r\n"):
        if not cur.match_head():
            stats.invalid += 1
            stats.note(f"data after the Records array: {cur.buf[cur.pos : cur.pos + 40]!r}")
            return
        while True:
            if not cur.skip(" \t\r\n,"):
                raise json.JSONDecodeError("the file ends inside the Records array", "", 0)
            if cur.buf[cur.pos] == "]":
                cur.pos += 1
                if cur.skip(" \t\r\n") and cur.buf[cur.pos] == "}":
                    cur.pos += 1
                break
            obj = cur.decode(decoder, stats)
            yield from _accept(obj, stats, f"Records item {index}")
            index += 1
            if index % 20_000 == 0:
                tick()


@dataclass
class ReadSummary:
    """Totals over all files, and the files that had problems."""

    files: int = 0
    bytes: int = 0
    records: int = 0
    problems: list[FileStats] = field(default_factory=list)
    broken: int = 0
    filtered: int = 0
    not_cloudtrail: int = 0
    incomplete: int = 0
    invalid: int = 0
    oversized: int = 0

    def add(self, stats: FileStats) -> None:
        self.files += 1
        self.records += stats.records
        self.filtered += stats.filtered
        self.not_cloudtrail += stats.not_cloudtrail
        self.incomplete += stats.incomplete
        self.invalid += stats.invalid
        self.oversized += stats.oversized
        self.broken += bool(stats.error)
        if stats.error or stats.first_problem:
            self.problems.append(stats)
