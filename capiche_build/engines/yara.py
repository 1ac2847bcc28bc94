"""Compile and scan YARA rules with both real engines, yara-python (libyara) and yara-x.

A rule ships only if both engines accept it with warnings treated as errors: the two disagree on
details (yara-x reports slow patterns and invariant conditions that libyara lets pass, libyara
limits identifiers to 128 characters), and users run either. The engine modules are imported
inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from capiche_build.diagnostics import CapicheError, Diagnostic

YARA_PYTHON = "yara-python"
YARA_X = "yara-x"

# Known messages (yara-x codes or titles, libyara message fragments) -> what to do about them.
_HINTS: tuple[tuple[str, str], ...] = (
    ("expecting `them` or `(`", "put string sets in parentheses: `any of ($group*)`"),
    ("string identifier with wildcard", "put string sets in parentheses: `any of ($group*)`"),
    ("E029", "escape backslashes as `\\\\` (generate strings with yara_string())"),
    ("E018", "use a longer, more specific string; one-byte strings and `\\d+` are slow"),
    ("slow down scanning", "use a longer, more specific string; one-byte strings are slow"),
    ("E022", "use the string in the condition or remove it"),
    ("unreferenced string", "use the string in the condition or remove it"),
    ("E023", "give every string in a rule its own identifier"),
    ("duplicated string identifier", "give every string in a rule its own identifier"),
    ("E012", "rule names must be unique across all files compiled together"),
    ("duplicated identifier", "rule names must be unique across all files compiled together"),
    ("unclosed literal string", "escape newlines and quotes (generate strings with yara_string())"),
    ("unterminated string", 'escape quotes as `\\"` (generate strings with yara_string())'),
    (
        "unexpected end of file",
        "libyara says this for an invalid escape such as `C:\\Windows`, a `\\u` escape or a raw "
        "newline inside a string; the yara-x diagnostic gives the exact place",
    ),
)

# libyara reports "line N: message" for a source string and "file(N): message" for an include.
_LIBYARA_LOCATION = re.compile(
    r"(?:line (?P<line>\d+)|(?P<file>.+?)\((?P<fline>\d+)\)): (?P<msg>.*)", re.S
)


def _hint(text: str) -> str:
    return next((hint for key, hint in _HINTS if key in text), "")


@dataclass(frozen=True)
class _LineMap:
    """Where each file starts in a concatenation, to turn a libyara line back into file:line."""

    starts: tuple[tuple[int, str], ...]  # (first global line, origin), in order

    def locate(self, line: int) -> tuple[str, int]:
        origin, first = self.starts[0][1], self.starts[0][0]
        for start, name in self.starts:
            if start > line:
                break
            origin, first = name, start
        return origin, line - first + 1


def _concatenate(sources: Sequence[tuple[str, str]]) -> tuple[str, _LineMap]:
    parts: list[str] = []
    starts: list[tuple[int, str]] = []
    line = 1
    for origin, text in sources:
        if not text.endswith("\n"):
            text += "\n"
        starts.append((line, origin))
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), _LineMap(tuple(starts))


def _libyara_diagnostic(message: str, origin: str, line_map: _LineMap | None) -> Diagnostic:
    found = _LIBYARA_LOCATION.fullmatch(message.strip())
    if found is None:
        return Diagnostic(file=origin, message=message, engine=YARA_PYTHON, hint=_hint(message))
    text = found["msg"]
    if found["line"] is not None:
        line = int(found["line"])
        file = origin
        if line_map is not None:
            file, line = line_map.locate(line)
    else:
        file, line = found["file"], int(found["fline"])
    return Diagnostic(file=file, line=line, message=text, engine=YARA_PYTHON, hint=_hint(text))


def _check_yara_python(
    source: str, origin: str, line_map: _LineMap | None = None
) -> list[Diagnostic]:
    import yara

    try:
        yara.compile(source=source, error_on_warning=True)
    except yara.WarningError as exc:
        # `warnings` holds every warning; str(exc) is only the repr of that list.
        messages = list(getattr(exc, "warnings", None) or [str(exc)])
        return [_libyara_diagnostic(str(m), origin, line_map) for m in messages]
    except yara.Error as exc:
        # libyara stops at the first error, so there is only ever one.
        return [_libyara_diagnostic(str(exc), origin, line_map)]
    return []


def _yara_x_diagnostic(item: Mapping[str, Any], origin: str, warning: bool) -> Diagnostic:
    labels: list[Mapping[str, Any]] = list(item.get("labels") or [])
    primary = next((lb for lb in labels if lb.get("level") in ("error", "warning")), None)
    primary = primary or (labels[0] if labels else {})
    code = str(item.get("code", ""))
    title = str(item.get("title", ""))
    detail = str(primary.get("text", ""))
    message = f"{code}: {title}" if code else title
    if detail and detail != title:
        message += f": {detail}"
    if warning:
        message = f"warning {message} (warnings are errors here)"
    # Notes point at the other half of a duplicate, possibly in another file.
    notes = [
        f"{lb.get('text', '')} at {lb.get('code_origin') or origin}:{lb.get('line')}:{lb.get('column')}"
        for lb in labels
        if lb.get("level") == "note"
    ]
    hint = "; ".join(h for h in (_hint(f"{code} {message}"), *notes) if h)
    return Diagnostic(
        file=str(primary.get("code_origin") or origin),
        line=item.get("line", primary.get("line")),
        column=item.get("column", primary.get("column")),
        message=message,
        engine=YARA_X,
        hint=hint,
    )


def _check_yara_x(sources: Sequence[tuple[str, str]]) -> list[Diagnostic]:
    import yara_x

    compiler = yara_x.Compiler(error_on_slow_pattern=True)
    for origin, text in sources:
        # add_source raises on the first error; errors() below has all of them.
        with suppress(yara_x.CompileError):
            compiler.add_source(text, origin=origin)
    # Read both lists before build(), which clears them.
    errors = compiler.errors()
    warnings = compiler.warnings()
    fallback = sources[0][0] if len(sources) == 1 else ""
    return [_yara_x_diagnostic(e, fallback, warning=False) for e in errors] + [
        _yara_x_diagnostic(w, fallback, warning=True) for w in warnings
    ]


def check_yara(source: str, origin: str = "") -> list[Diagnostic]:
    """Compile `source` with yara-python and yara-x, warnings as errors; [] means both accept it.

    `origin` (usually the file path) becomes the diagnostics' file. libyara reports only its first
    error and no column; yara-x reports every error with line and column.
    """
    return _check_yara_python(source, origin) + _check_yara_x([(origin, source)])


def _read_source(path: Path) -> tuple[str, Diagnostic | None]:
    try:
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return "", Diagnostic(file=str(path), message=f"cannot read YARA file: {exc}")


def check_yara_files(paths: Iterable[str | Path]) -> list[Diagnostic]:
    """Compile each file alone, then every clean file together in one namespace."""
    diagnostics: list[Diagnostic] = []
    sources: list[tuple[str, str]] = []
    for path in map(Path, paths):
        text, problem = _read_source(path)
        if problem is not None:
            diagnostics.append(problem)
        else:
            sources.append((str(path), text))
    return diagnostics + check_yara_sources(sources)


def check_yara_sources(sources: Sequence[tuple[str, str]]) -> list[Diagnostic]:
    """Like check_yara_files for (origin, text) pairs held in memory.

    The joint compile catches what no single file shows, chiefly a rule name used in two files.
    Files with errors of their own are left out of it so their errors are not reported twice;
    files must therefore be self-contained (no rule may refer to a rule in another file).
    """
    diagnostics: list[Diagnostic] = []
    clean: list[tuple[str, str]] = []
    for origin, text in sources:
        found = check_yara(text, origin)
        diagnostics.extend(found)
        if not found:
            clean.append((origin, text))
    if len(clean) > 1:
        # libyara has no way to put several sources in one namespace except one big source.
        joined, line_map = _concatenate(clean)
        diagnostics.extend(_check_yara_python(joined, "", line_map))
        diagnostics.extend(_check_yara_x(clean))
    return diagnostics


@dataclass(frozen=True)
class ScanResult:
    """Per engine: matching rule name -> identifiers of the strings that matched in it."""

    yara_python: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    yara_x: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def agree(self) -> bool:
        """Both engines matched the same rules with the same strings."""
        return dict(self.yara_python) == dict(self.yara_x)

    def differences(self) -> list[str]:
        """One line per rule on which the engines disagree; empty when they agree."""
        lines: list[str] = []
        for rule in sorted(set(self.yara_python) | set(self.yara_x)):
            left, right = self.yara_python.get(rule), self.yara_x.get(rule)
            if left != right:
                lines.append(
                    f"{rule}: {YARA_PYTHON} {_describe(left)}, {YARA_X} {_describe(right)}"
                )
        return lines


def _describe(strings: frozenset[str] | None) -> str:
    if strings is None:
        return "no match"
    return "matched " + (", ".join(sorted(strings)) or "(no strings)")


def _scan_yara_python(source: str, data: bytes) -> dict[str, frozenset[str]]:
    import yara

    try:
        rules = yara.compile(source=source)
    except yara.Error as exc:
        raise CapicheError(_libyara_diagnostic(str(exc), "", None)) from exc
    return {m.rule: frozenset(s.identifier for s in m.strings) for m in rules.match(data=data)}


def _scan_yara_x(source: str, data: bytes) -> dict[str, frozenset[str]]:
    import yara_x

    compiler = yara_x.Compiler()
    try:
        compiler.add_source(source)
    except yara_x.CompileError as exc:
        raise CapicheError(
            [_yara_x_diagnostic(e, "", warning=False) for e in compiler.errors()]
        ) from exc
    results = compiler.build().scan(data)
    # yara-x lists every pattern of a matching rule; keep the ones that matched.
    return {
        rule.identifier: frozenset(p.identifier for p in rule.patterns if p.matches)
        for rule in results.matching_rules
    }


def scan_yara(source: str, data: bytes) -> ScanResult:
    """Scan `data` with `source` on both engines.

    Compiles without warnings-as-errors: scanning is about behaviour, check_yara about quality.
    A source that does not compile raises CapicheError with that engine's diagnostics.
    """
    return ScanResult(
        yara_python=MappingProxyType(_scan_yara_python(source, data)),
        yara_x=MappingProxyType(_scan_yara_x(source, data)),
    )
