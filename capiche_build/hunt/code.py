"""`capiche hunt code`: scan files, folders and archives with the built YARA rules.

All rule files are compiled once by one yara-x Compiler and one Scanner is reused for every
buffer: per-scan setup is then tiny, so a tree of many small files scans nearly as fast as one
big buffer. Archives (.zip, .whl, .tar.gz, .tgz) are read member by member in memory, never
unpacked to disk; an archive inside an archive is opened too, one level deep. Each string in a
built .yar file carries a comment naming its APIs (`// iam:CreateAccessKey: ...`), which is how a
hit on `$creds_01` is reported as `iam:CreateAccessKey`. Unreadable files and corrupt archives are
reported and counted, never fatal: a hunt over a big tree should not stop at the first bad file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from capiche_build.diagnostics import CapicheError, Diagnostic

DEFAULT_RULES = Path("build") / "yara"
DEFAULT_MAX_SIZE = 20 * 1024**2
RULE_SUFFIXES = (".yar", ".yara")
ZIP_SUFFIXES = (".zip", ".whl")
TAR_SUFFIXES = (".tar.gz", ".tgz")
MEMBER_SEPARATOR = "!"
MAX_ARCHIVE_DEPTH = 2  # top-level archive, plus archives found inside it
SCAN_TIMEOUT_SECONDS = 60

# What a broken archive raises, in the archive library or the decompressor under it.
_ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,  # zipfile: encrypted member
    NotImplementedError,  # zipfile: unsupported compression method
    ValueError,
)

# --- sizes ------------------------------------------------------------------------------------

# Units are binary, as in YARA's own `filesize < 20MB`.
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.I)


def parse_size(text: str) -> int:
    """'20MB', '500KB', '1.5g', '4096' -> bytes (1 KB = 1024 bytes)."""
    found = _SIZE.fullmatch(text)
    if found is None or float(found[1]) <= 0:
        raise CapicheError(
            f"--max-size {text!r}: give a positive size such as 20MB, 500KB or 1048576"
        )
    return int(float(found[1]) * _UNITS[found[2].lower()])


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# --- rules ------------------------------------------------------------------------------------

_RULE_LINE = re.compile(r"\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_]\w*)")
_COMMENT_LINE = re.compile(r"\s*//\s?(.*)")
_STRING_LINE = re.compile(r"\s*(\$\w*)\s*=")
# `service:OperationName:` at the start of the comment or after `; ` (several APIs share a text).
_API = re.compile(r"(?:^|;\s)([a-z0-9][a-z0-9.-]*:[A-Z][A-Za-z0-9]*):")


def comment_apis(comment: str) -> tuple[str, ...]:
    """APIs named by a string's comment, in order, without repeats."""
    return tuple(dict.fromkeys(_API.findall(comment)))


def parse_string_apis(source: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """rule name -> string identifier -> APIs, from the comment line right above each string."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    rule: dict[str, tuple[str, ...]] | None = None
    comment = ""
    for line in source.splitlines():
        if (m := _RULE_LINE.match(line)) is not None:
            rule = found.setdefault(m[1], {})
            comment = ""
        elif (m := _COMMENT_LINE.match(line)) is not None:
            comment = m[1]
        elif (m := _STRING_LINE.match(line)) is not None and rule is not None:
            rule[m[1]] = comment_apis(comment)
            comment = ""
        elif line.strip():
            comment = ""
    return found


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules and, per rule and string identifier, the APIs the string stands for."""

    rules: Any  # yara_x.Rules
    apis: Mapping[str, Mapping[str, tuple[str, ...]]]
    files: tuple[str, ...]

    def string_apis(self, rule: str, identifier: str) -> tuple[str, ...]:
        return self.apis.get(rule, {}).get(identifier, ())


def find_rule_files(paths: Sequence[str | Path] | None = None) -> list[Path]:
    """Rule files named or found (recursively, sorted) in folders; default build/yara."""
    given = [Path(p) for p in paths] if paths else [DEFAULT_RULES]
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            hint = " (run `capiche build` or pass --rules)" if not paths else ""
            raise CapicheError(f"{path}: no such rule file or folder{hint}")
    if not files:
        raise CapicheError(f"no .yar files in {', '.join(map(str, given))}")
    return files


def load_rules(paths: Sequence[str | Path] | None = None) -> RuleSet:
    """Compile every rule file with one yara-x Compiler (one namespace: names must be unique)."""
    import yara_x

    from capiche_build.engines.yara import _yara_x_diagnostic

    files = find_rule_files(paths)
    compiler = yara_x.Compiler()
    apis: dict[str, Mapping[str, tuple[str, ...]]] = {}
    problems: list[Diagnostic] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Diagnostic(file=str(path), message=f"cannot read: {exc}"))
            continue
        # add_source raises on the first error; errors() below lists all of them.
        with suppress(yara_x.CompileError):
            compiler.add_source(text, origin=str(path))
        apis.update({r: MappingProxyType(s) for r, s in parse_string_apis(text).items()})
    problems += [_yara_x_diagnostic(e, "", warning=False) for e in compiler.errors()]
    if problems:
        raise CapicheError(problems)
    return RuleSet(compiler.build(), MappingProxyType(apis), tuple(map(str, files)))


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StringHit:
    """One matching string of a rule in one file: where it first matched and what it stands for."""

    identifier: str
    apis: tuple[str, ...]
    text: str
    line: int
    count: int


@dataclass(frozen=True)
class Hit:
    rule: str
    file: str
    strings: tuple[StringHit, ...]

    @property
    def apis(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(api for s in self.strings for api in s.apis))


@dataclass(frozen=True)
class Skipped:
    file: str
    size: int


@dataclass(frozen=True)
class Problem:
    file: str
    message: str


@dataclass(frozen=True)
class Summary:
    files_scanned: int
    bytes_scanned: int
    archives: int
    skipped_too_large: int
    errors: int
    hits: int
    files_with_hits: int
    rules: int
    max_size: int
    seconds: float


@dataclass(frozen=True)
class CodeReport:
    hits: tuple[Hit, ...]
    skipped: tuple[Skipped, ...]
    problems: tuple[Problem, ...]
    summary: Summary


# --- scanning ---------------------------------------------------------------------------------


def _match_text(data: bytes, offset: int, length: int, xor_key: int | None) -> str:
    raw = data[offset : offset + min(length, 200)]
    if xor_key:
        raw = bytes(b ^ xor_key for b in raw)
    # `wide` matches are UTF-16LE: every other byte is zero.
    if len(raw) > 1 and not any(raw[1::2]):
        return raw.decode("utf-16-le", "replace")
    return raw.decode("utf-8", "replace")


@dataclass
class _Tally:
    """Mutable accumulator for one hunt; frozen into a CodeReport at the end."""

    hits: list[Hit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    archives: int = 0


class _Progress:
    """A `\\r` status line on stderr, only when stderr is a terminal; redrawn at most 5x/s."""

    def __init__(self, enabled: bool, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.last = 0.0

    def update(self, tally: _Tally, name: str) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        line = f"{tally.files} files, {format_size(tally.bytes)}, {len(tally.hits)} hits: {name}"
        self.stream.write("\r\x1b[K" + line[:120])
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _printable(name: str) -> str:
    """A path as text that can be printed: undecodable bytes (kept by the OS as surrogates)
    become `\\xNN` instead of failing the UTF-8 output at the very end of a long hunt."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_zip(name: str) -> bool:
    return name.lower().endswith(ZIP_SUFFIXES)


def _is_tar(name: str) -> bool:
    return name.lower().endswith(TAR_SUFFIXES)


class _Hunter:
    def __init__(self, ruleset: RuleSet, max_size: int, progress: _Progress) -> None:
        import yara_x

        self.ruleset = ruleset
        self.max_size = max_size
        self.progress = progress
        self.scanner = yara_x.Scanner(ruleset.rules)
        self.scanner.set_timeout(SCAN_TIMEOUT_SECONDS)
        self.scan_errors: tuple[type[BaseException], ...] = (
            yara_x.ScanError,
            yara_x.TimeoutError,
        )
        self.tally = _Tally()

    # -- buffers

    def scan_buffer(self, name: str, data: bytes, depth: int = 0) -> None:
        """Scan `data`; an archive (below the depth limit) is opened and its members scanned."""
        if depth < MAX_ARCHIVE_DEPTH and (_is_zip(name) or _is_tar(name)):
            self.scan_archive(name, io.BytesIO(data), depth)
            return
        try:
            results = self.scanner.scan(data)
        except self.scan_errors as exc:
            self.problem(name, f"scan failed: {exc}")
            return
        self.tally.files += 1
        self.tally.bytes += len(data)
        for rule in results.matching_rules:
            self.tally.hits.append(self.hit(rule, name, data))
        self.progress.update(self.tally, name)

    def hit(self, rule: Any, name: str, data: bytes) -> Hit:
        strings = []
        for pattern in rule.patterns:
            if not pattern.matches:
                continue
            first = pattern.matches[0]
            strings.append(
                StringHit(
                    identifier=pattern.identifier,
                    apis=self.ruleset.string_apis(rule.identifier, pattern.identifier),
                    text=_match_text(data, first.offset, first.length, first.xor_key),
                    line=data.count(b"\n", 0, first.offset) + 1,
                    count=len(pattern.matches),
                )
            )
        return Hit(rule=rule.identifier, file=name, strings=tuple(strings))

    def problem(self, name: str, message: str) -> None:
        self.tally.problems.append(Problem(name, message))

    def too_large(self, name: str, size: int) -> bool:
        if size <= self.max_size:
            return False
        self.tally.skipped.append(Skipped(name, size))
        return True

    def read_limited(self, name: str, stream: IO[bytes], declared: int) -> bytes | None:
        """The stream's bytes, or None (recorded as skipped) when over max_size."""
        if self.too_large(name, declared):
            return None
        # Ask for the declared size, not max_size: read(n) allocates n bytes up front.
        data = stream.read(declared + 1)
        if len(data) > declared:
            # The file grew since stat(), or a zip header understated it (zip bombs do).
            data += stream.read(self.max_size + 1 - len(data))
        return None if self.too_large(name, len(data)) else data

    # -- archives

    def scan_archive(self, name: str, stream: IO[bytes], depth: int = 0) -> None:
        self.tally.archives += 1
        try:
            if _is_zip(name):
                self.scan_zip(name, stream, depth)
            else:
                self.scan_tar(name, stream, depth)
        except _ARCHIVE_ERRORS as exc:
            # Members read before the damage keep their results.
            self.problem(name, f"corrupt or unreadable archive: {exc}")

    def scan_zip(self, name: str, stream: IO[bytes], depth: int) -> None:
        with zipfile.ZipFile(stream) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                member = f"{name}{MEMBER_SEPARATOR}{info.filename}"
                try:
                    with archive.open(info) as fh:
                        data = self.read_limited(member, fh, info.file_size)
                except _ARCHIVE_ERRORS as exc:  # one bad member (encrypted, bad CRC)
                    self.problem(member, f"cannot read archive member: {exc}")
                    continue
                if data is not None:
                    self.scan_buffer(member, data, depth + 1)

    def scan_tar(self, name: str, stream: IO[bytes], depth: int) -> None:
        # Stream mode: members are decompressed once, in order, without seeking.
        with tarfile.open(fileobj=stream, mode="r|*") as archive:
            for info in archive:
                if not info.isfile():  # links are not followed
                    continue
                member = f"{name}{MEMBER_SEPARATOR}{_printable(info.name)}"
                fh = archive.extractfile(info)
                data = None if fh is None else self.read_limited(member, fh, info.size)
                if data is not None:
                    self.scan_buffer(member, data, depth + 1)

    # -- the file system

    def scan_path(self, path: Path) -> None:
        """A path given by the user: a symlink here is followed, inside folders it is not."""
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            self.problem(_printable(str(path)), f"cannot read: {exc.strerror or exc}")
            return
        if stat.S_ISDIR(mode):
            self.scan_folder(path)
        elif stat.S_ISREG(mode):
            self.scan_file(path)
        else:
            self.problem(_printable(str(path)), "not a regular file or folder")

    def scan_folder(self, folder: Path) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.problem(_printable(str(folder)), f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            # Symlinks, fifos, sockets and devices are skipped: following links can loop or
            # leave the tree, and reading a fifo blocks.
            if entry.is_dir(follow_symlinks=False):
                self.scan_folder(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                self.scan_file(Path(entry.path))

    def scan_file(self, path: Path) -> None:
        name = _printable(str(path))
        try:
            with path.open("rb") as fh:
                if _is_zip(name) or _is_tar(name):
                    self.scan_archive(name, fh)
                    return
                # fstat on the open file: one lookup, and the size of what is actually read.
                data = self.read_limited(name, fh, os.fstat(fh.fileno()).st_size)
        except OSError as exc:
            self.problem(name, f"cannot read: {exc.strerror or exc}")
            return
        if data is not None:
            self.scan_buffer(name, data)

    def report(self, started: float) -> CodeReport:
        tally = self.tally
        return CodeReport(
            hits=tuple(tally.hits),
            skipped=tuple(tally.skipped),
            problems=tuple(tally.problems),
            summary=Summary(
                files_scanned=tally.files,
                bytes_scanned=tally.bytes,
                archives=tally.archives,
                skipped_too_large=len(tally.skipped),
                errors=len(tally.problems),
                hits=len(tally.hits),
                files_with_hits=len({h.file for h in tally.hits}),
                rules=len(self.ruleset.apis),
                max_size=self.max_size,
                seconds=round(time.perf_counter() - started, 3),
            ),
        )


def hunt_code(
    paths: Sequence[str | Path],
    ruleset: RuleSet,
    max_size: int = DEFAULT_MAX_SIZE,
    progress: bool = False,
) -> CodeReport:
    """Scan files, folders (sorted, symlinks not followed) and archives with `ruleset`.

    A path that does not exist is bad input (CapicheError); any other problem with a file is
    recorded in the report and the hunt goes on.
    """
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise CapicheError([Diagnostic(file=m, message="no such file or folder") for m in missing])
    started = time.perf_counter()
    status = _Progress(progress)
    hunter = _Hunter(ruleset, max_size, status)
    try:
        for path in paths:
            hunter.scan_path(Path(path))
    finally:
        status.close()
    return hunter.report(started)


def scan_buffers(
    ruleset: RuleSet, buffers: Iterable[tuple[str, bytes]], max_size: int = DEFAULT_MAX_SIZE
) -> list[Hit]:
    """Scan (name, data) pairs held in memory with one Scanner.

    Archives among them are opened; `max_size` applies to their members.
    """
    hunter = _Hunter(ruleset, max_size, _Progress(False))
    for name, data in buffers:
        hunter.scan_buffer(name, data)
    return hunter.tally.hits


def scan_bytes(ruleset: RuleSet, name: str, data: bytes) -> list[Hit]:
    """Scan one buffer held in memory; for tests and embedding."""
    return scan_buffers(ruleset, [(name, data)])


# --- output -----------------------------------------------------------------------------------


def _hit_apis(hit: Hit) -> str:
    # A rule without API comments (a user's own) still says which strings matched.
    return ", ".join(hit.apis) or ", ".join(s.identifier for s in hit.strings) or "(condition)"


def report_to_dict(report: CodeReport) -> dict[str, Any]:
    return {
        "hits": [
            {
                "rule": h.rule,
                "file": h.file,
                "apis": list(h.apis),
                "strings": [
                    {
                        "id": s.identifier,
                        "apis": list(s.apis),
                        "text": s.text,
                        "line": s.line,
                        "count": s.count,
                    }
                    for s in h.strings
                ],
            }
            for h in report.hits
        ],
        "skipped": [{"file": s.file, "size": s.size} for s in report.skipped],
        "errors": [{"file": p.file, "message": p.message} for p in report.problems],
        "summary": report.summary.__dict__,
    }


CSV_FIELDS = ("rule", "file", "apis", "strings", "line")


def format_csv(report: CodeReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for h in report.hits:
        line = min((s.line for s in h.strings), default="")
        ids = ";".join(s.identifier for s in h.strings)
        writer.writerow([h.rule, h.file, ";".join(h.apis), ids, line])
    return out.getvalue()


def format_summary(summary: Summary) -> str:
    text = (
        f"{summary.hits} hits in {summary.files_with_hits} files; scanned "
        f"{summary.files_scanned} files ({format_size(summary.bytes_scanned)}) "
        f"with {summary.rules} rules in {summary.seconds:.1f}s"
    )
    if summary.skipped_too_large:
        text += f"; {summary.skipped_too_large} skipped (over {format_size(summary.max_size)})"
    if summary.errors:
        text += f"; {summary.errors} errors"
    return text


def format_report_table(report: CodeReport) -> str:
    from capiche_build.cli import format_table

    rows: list[list[str]] = []
    previous = None
    for h in sorted(report.hits, key=lambda h: h.rule):  # stable: files stay in scan order
        rows.append(["" if h.rule == previous else h.rule, h.file, _hit_apis(h)])
        previous = h.rule
    table = format_table(["RULE", "FILE", "APIS"], rows) + "\n\n" if rows else ""
    return table + format_summary(report.summary)


MAX_PROBLEM_LINES = 20


def _problem_lines(report: CodeReport) -> list[str]:
    """Skipped files and errors for stderr, each list capped: a tree of big binaries would
    otherwise bury the table (--format json lists them all)."""
    limit = format_size(report.summary.max_size)
    groups = (
        [f"skipped: {s.file}: {format_size(s.size)} is over {limit}" for s in report.skipped],
        [f"error: {p.file}: {p.message}" for p in report.problems],
    )
    lines: list[str] = []
    for group in groups:
        lines += group[:MAX_PROBLEM_LINES]
        if len(group) > MAX_PROBLEM_LINES:
            lines.append(f"... and {len(group) - MAX_PROBLEM_LINES} more (--format json lists all)")
    return lines


def run_code_command(args: Any, out: Callable[[str], Any] | None = None) -> int:
    """`capiche hunt code`: 0 when the hunt ran (hits or not), 2 on bad input."""
    write = out or sys.stdout.write
    max_size = parse_size(args.max_size)
    ruleset = load_rules(args.rules)
    report = hunt_code(args.paths, ruleset, max_size=max_size, progress=sys.stderr.isatty())
    if args.format == "json":
        write(json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n")
        return 0
    # Skipped files and errors go to stderr so stdout stays one table or one CSV document.
    for line in _problem_lines(report):
        print(line, file=sys.stderr)
    if args.format == "csv":
        write(format_csv(report))
        print(format_summary(report.summary), file=sys.stderr)
    else:
        write(format_report_table(report) + "\n")
    return 0
