"""The original CAPICHE interactive API, with the same call shapes and correct output.

    >>> from capiche_build import load_api_data, search_api_name, transform_api_list
    >>> api_data = load_api_data()
    >>> transform_api_list(api_data, "awscli", search_api_name(api_data, "^s3:PutBucketAcl$"))
    ['s3api:put-bucket-acl']

Every name goes through the catalog, so SDK spellings, CLI service words and CloudTrail sources
are the real ones rather than guessed from the API name. An API that cannot be resolved is a
CapicheError with a did-you-mean, never silently dropped. Every generator escapes what it puts
inside a rule or query, and each function runs in time linear in its input.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capiche_build.catalog import Catalog, Operation, load_catalog
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.regex_safety import compile_user_regex
from capiche_build.search import search
from capiche_build.targets.escaping import (
    dork_term,
    is_yara_identifier,
    vtgrep_term,
    yara_identifier,
    yara_string,
    yaral_string,
)

if TYPE_CHECKING:
    from capiche_build.model import ResolvedRule

__all__ = [
    "ApiData",
    "YaralEvents",
    "define_associations",
    "define_events",
    "generate_google_dork_syntax",
    "generate_sigma_rule",
    "generate_vtgrep_content",
    "generate_yara_l_rule",
    "generate_yara_rule",
    "generate_yara_string",
    "load_api_data",
    "search_api_description",
    "search_api_name",
    "transform_api_list",
]

NO_DESCRIPTION = "No description available"
BOTO_SDKS = frozenset({"boto", "boto3"})
CLI_SDKS = frozenset({"awscli", "aws-cli", "cli"})

# ---------------------------------------------------------------- API data


class ApiData(list[dict[str, Any]]):
    """The original's list of API dicts, carrying the catalog the functions resolve names with.

    Built from the shipped catalog (`path` is None), searches run on the catalog directly. Built
    from an old CAPICHE JSON file, searches run over the file's rows and names still resolve
    through the catalog.
    """

    def __init__(
        self, rows: Iterable[dict[str, Any]], catalog: Catalog | None, path: str | None = None
    ) -> None:
        super().__init__(rows)
        self.catalog = catalog
        self.path = path


def _row(op: Operation) -> dict[str, Any]:
    return {
        "API": op.api,
        "Description": op.description,
        "EventSource": op.service,  # the original's meaning: the service prefix
        "EventName": op.name,
        "Boto3": op.boto3,
        "AWSCLI": [f"aws {op.cli_service} {cmd}" for cmd in op.cli_commands],
        "CloudTrailEventSource": op.event_source,
        "CloudTrailEventName": op.event_name,
        "CloudTrailEventNameMatch": op.event_name_match,
    }


def load_api_data(file_path: str | Path | None = None) -> ApiData:
    """The API list: the shipped catalog by default, or an old CAPICHE `api_list_aws.json`.

    A path to a capiche-build catalog file (`aws_api_catalog.json[.gz]`) loads that catalog.
    """
    if file_path is None:
        catalog = load_catalog()
        return ApiData(map(_row, catalog.operations), catalog)
    path = str(file_path)
    try:
        raw = Path(file_path).read_bytes()
        document = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (OSError, ValueError) as err:
        raise CapicheError(
            Diagnostic(file=path, message=f"cannot read the API list: {err}")
        ) from err
    if isinstance(document, dict) and "format" in document:
        catalog = load_catalog(file_path)
        return ApiData(map(_row, catalog.operations), catalog)
    if not isinstance(document, list):
        raise CapicheError(
            Diagnostic(file=path, message="an API list must be a JSON list of objects")
        )
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(document):
        if not isinstance(item, dict) or not (
            isinstance(item.get("API"), str)
            or (isinstance(item.get("EventSource"), str) and isinstance(item.get("EventName"), str))
        ):
            raise CapicheError(
                Diagnostic(
                    file=path,
                    message=f"item {index} is not an API entry",
                    hint='each item needs "API" ("service:Name") or "EventSource" and "EventName"',
                )
            )
        row = dict(item)
        row.setdefault("API", f"{row.get('EventSource')}:{row.get('EventName')}")
        service, _, name = row["API"].partition(":")
        row.setdefault("EventSource", service)
        row.setdefault("EventName", name)
        row.setdefault("Description", "")
        rows.append(row)
    return ApiData(rows, None, path)


def _catalog_of(api_data: Any) -> Catalog:
    if isinstance(api_data, ApiData) and api_data.catalog is not None:
        return api_data.catalog
    return load_catalog()


def _catalog_backed(api_data: Any) -> Catalog | None:
    """The catalog to search directly, or None to search the rows as given."""
    if (
        isinstance(api_data, ApiData)
        and api_data.path is None
        and api_data.catalog is not None
        # A list the caller has since edited is searched as it now is.
        and len(api_data) == len(api_data.catalog)
    ):
        return api_data.catalog
    return None


def _service_order(api: str) -> tuple[str, str]:
    service, _, name = api.partition(":")
    return service, name


def _rows(api_data: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(api_data, Iterable) or isinstance(api_data, (str, bytes, Mapping)):
        raise CapicheError("api_data must be the list load_api_data() returns")
    return api_data


# ---------------------------------------------------------------- search


def search_api_name(api_data: Sequence[Mapping[str, Any]], pattern: str) -> list[str]:
    """`service:Name` of every API whose name matches `pattern` (case-insensitive, anywhere).

    Sorted by (service, name) and de-duplicated. Patterns that could backtrack catastrophically
    are refused with a CapicheError.
    """
    catalog = _catalog_backed(api_data)
    if catalog is not None:
        return [op.api for op in search(catalog, name=pattern)]
    regex = compile_user_regex(pattern)
    found = {str(row["API"]) for row in _rows(api_data) if regex.search(str(row["API"]))}
    return sorted(found, key=_service_order)


def _source_names(event_sources: str | Iterable[str]) -> list[str]:
    # The original README passes 'iam|sso'; a list or a comma-separated string works too.
    items = re.split(r"[|,\s]+", event_sources) if isinstance(event_sources, str) else event_sources
    names = [str(item).strip().lower() for item in items if str(item).strip()]
    if not names:
        raise CapicheError(
            Diagnostic(
                message="event_sources is empty",
                hint="pass None for every source, or names such as 'iam|sso'",
            )
        )
    return names


def _check_sources(wanted: list[str], known: set[str]) -> None:
    unknown = [name for name in wanted if name not in known]
    if not unknown:
        return
    problems = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        problems.append(
            Diagnostic(
                message=f"unknown event source {name!r}",
                hint=f"did you mean {', '.join(close)}?"
                if close
                else "give service names (iam) or CloudTrail eventSources (iam.amazonaws.com)",
            )
        )
    raise CapicheError(problems)


def search_api_description(
    api_data: Sequence[Mapping[str, Any]],
    pattern: str,
    event_sources: str | Iterable[str] | None = None,
) -> list[str]:
    """`service:Name` of every API whose description matches `pattern` (case-insensitive).

    `event_sources` keeps only APIs of those services (`iam`) or CloudTrail eventSources
    (`iam.amazonaws.com`): a list, or one string separated by `|` or `,` as in 'iam|sso'. None
    means every source. Sorted by (service, name) and de-duplicated.
    """
    wanted = _source_names(event_sources) if event_sources is not None else None
    catalog = _catalog_backed(api_data)
    if catalog is not None:
        ops = search(catalog, description=pattern)
        if wanted is None:
            return [op.api for op in ops]
        _check_sources(wanted, set(catalog.services) | {op.event_source for op in catalog})
        keep = set(wanted)
        return [op.api for op in ops if op.service in keep or op.event_source in keep]
    regex = compile_user_regex(pattern)
    rows = list(_rows(api_data))

    def sources(row: Mapping[str, Any]) -> set[str]:
        return {str(row.get(k, "")).lower() for k in ("EventSource", "CloudTrailEventSource")}

    if wanted is not None:
        _check_sources(wanted, {s for row in rows for s in sources(row)} - {""})
    keep = set(wanted or ())
    found = {
        str(row["API"])
        for row in rows
        if regex.search(str(row.get("Description") or ""))
        and (wanted is None or sources(row) & keep)
    }
    return sorted(found, key=_service_order)


# ---------------------------------------------------------------- names


class _Spellings:
    """Every spelling of every operation, indexed once per catalog so lookups are O(1)."""

    def __init__(self, catalog: Catalog) -> None:
        self.qualified: dict[str, list[Operation]] = {}  # "iam:create_access_key" -> ops
        self.bare: dict[str, list[Operation]] = {}  # "create_access_key" -> ops
        self.words: set[str] = set()  # service and CLI service words
        for op in catalog.operations:
            self.words.add(op.service)
            texts = [(op.service, op.boto3), (op.service, op.name)]
            if op.cli_service:
                self.words.add(op.cli_service)
                texts += [(op.cli_service, cmd) for cmd in op.cli_commands]
            for word, text in texts:
                self._add(self.qualified, f"{word}:{text}".lower(), op)
                self._add(self.bare, text.lower(), op)

    @staticmethod
    def _add(index: dict[str, list[Operation]], key: str, op: Operation) -> None:
        ops = index.setdefault(key, [])
        if op not in ops:
            ops.append(op)

    def split(self, text: str) -> tuple[str, str]:
        """(service word, spelling): the prefix is dropped only when it is a service word."""
        word, colon, rest = text.partition(":")
        if colon and word.strip().lower() in self.words:
            return word.strip().lower(), rest.strip()
        return "", text


@lru_cache(maxsize=4)
def _spellings(catalog: Catalog) -> _Spellings:
    return _Spellings(catalog)


def _resolve(catalog: Catalog, apis: str | Iterable[str], what: str = "API") -> list[Operation]:
    """Operations named by `service:Name` or an SDK spelling (`iam:create_access_key`,
    `s3api:put-bucket-acl`), in input order, de-duplicated; every unknown one is reported."""
    if isinstance(apis, str):
        apis = [apis]
    elif not isinstance(apis, Iterable) or isinstance(apis, (bytes, Mapping)):
        raise CapicheError(f"expected a {what} string or a list of them, got {type(apis).__name__}")
    found: dict[str, Operation] = {}
    problems: list[Diagnostic] = []
    for api in apis:
        if not isinstance(api, str):
            problems.append(Diagnostic(message=f"{what} {api!r} is not a string"))
            continue
        op = catalog.find(api)
        ops = [op] if op is not None else _spellings(catalog).qualified.get(api.strip().lower())
        if not ops:
            try:
                catalog.get(api)
            except CapicheError as err:
                problems.extend(err.diagnostics)
            continue
        for one in ops:
            found.setdefault(one.api, one)
    if problems:
        raise CapicheError(problems)
    return list(found.values())


def _sdk(sdk: str) -> str:
    key = str(sdk).strip().lower()
    if key in BOTO_SDKS:
        return "boto3"
    if key in CLI_SDKS:
        return "awscli"
    raise CapicheError(
        Diagnostic(message=f"unknown SDK {sdk!r}", hint="use 'boto' (or 'boto3') or 'awscli'")
    )


def transform_api_list(
    api_data: Sequence[Mapping[str, Any]], sdk: str, matched_apis: str | Iterable[str]
) -> list[str]:
    """The APIs in an SDK's spelling, prefixed with the word that SDK uses for the service.

    `boto`/`boto3`: `iam:create_access_key` (boto3 client name and method). `awscli`:
    `s3api:put-bucket-acl` (the CLI service word and command), one entry per CLI command when an
    operation has several; an operation the CLI does not offer is an error naming it. Input order
    is kept, duplicates dropped.
    """
    form = _sdk(sdk)
    catalog = _catalog_of(api_data)
    ops = _resolve(catalog, matched_apis)
    out: dict[str, None] = {}
    missing: list[Diagnostic] = []
    for op in ops:
        if form == "boto3":
            out[f"{op.service}:{op.boto3}"] = None
        elif not op.cli_commands:
            missing.append(
                Diagnostic(
                    message=f"{op.api} has no AWS CLI command in awscli {catalog.awscli_version}",
                    hint="the CLI does not offer it (e.g. a streaming operation); use 'boto' "
                    "or drop it from the list",
                )
            )
        else:
            out.update((f"{op.cli_service}:{cmd}", None) for cmd in op.cli_commands)
    if missing:
        raise CapicheError(missing)
    return list(out)


# ---------------------------------------------------------------- YARA

_MODIFIER = re.compile(
    r'\s*(ascii|wide|nocase|fullword|private|xor(?:\([^()]*\))?|base64(?:wide)?(?:\("(?:[^"\\]|\\.)*"\))?)'
    r"(?=\s|$)"
)
_STRING_DECL = re.compile(r"\$([A-Za-z0-9_]*)\s*=")
_STRING_LINE = re.compile(r'\s*\$([A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')
_YARA_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|[\\"nrt])')
_SIMPLE_ESCAPES = {"\\": b"\\", '"': b'"', "n": b"\n", "r": b"\r", "t": b"\t"}


def _one_line_ascii(text: str) -> str:
    # YARA comments end at the line end; ASCII keeps both engines' readers and every editor happy.
    return " ".join(text.encode("ascii", "backslashreplace").decode("ascii").split())


def _modifiers(modifiers: str | Iterable[str] | None) -> str:
    text = modifiers if isinstance(modifiers, str) else " ".join(modifiers or ())
    found: list[str] = []
    pos = 0
    while text[pos:].strip():
        match = _MODIFIER.match(text, pos)
        if not match:
            raise CapicheError(
                Diagnostic(
                    message=f"unknown YARA string modifier in {text!r} at {text[pos:].strip()!r}",
                    hint="use ascii, wide, nocase, fullword, private, xor or base64",
                )
            )
        if match.group(1) not in found:  # a repeated modifier is a compile error
            found.append(match.group(1))
        pos = match.end()
    return " ".join(found)


def _description(spell: _Spellings, word: str, text: str) -> str:
    key = f"{word}:{text}".lower() if word else text.lower()
    ops = (spell.qualified if word else spell.bare).get(key, [])
    descriptions = {op.description for op in ops if op.description}
    # A bare spelling shared by services with different descriptions names no one operation.
    return descriptions.pop() if len(descriptions) == 1 else NO_DESCRIPTION


def generate_yara_string(
    api_data: Sequence[Mapping[str, Any]],
    strings: str | Iterable[str],
    variable_prefix: str,
    modifiers: str | Iterable[str] | None,
    comment: str | None,
    comment_api_description: bool,
) -> list[str]:
    """YARA string lines, `$prefix_01 = "create_access_key" ascii wide // comment`.

    `strings` are transformed names (`iam:create_access_key`, `s3api:put-bucket-acl`) or any text;
    a leading service word and colon is dropped. Each text is escaped, duplicates are dropped and
    the rest numbered in input order (two digits, more when needed). With
    `comment_api_description` the comment gains the API's description, on one ASCII line.
    """
    if not isinstance(variable_prefix, str) or not re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]*", variable_prefix
    ):
        raise CapicheError(
            Diagnostic(
                message=f"variable prefix {variable_prefix!r} is not a YARA identifier",
                hint="use letters, digits and _, e.g. 'group'",
            )
        )
    items = [strings] if isinstance(strings, str) else list(strings)
    mods = _modifiers(modifiers)
    spell = _spellings(_catalog_of(api_data))
    texts: dict[str, str] = {}  # text -> comment, first occurrence wins
    for item in items:
        word, text = spell.split(str(item))
        if not text:
            raise CapicheError(f"cannot make a YARA string from {item!r}: the text is empty")
        if text in texts:
            continue
        note = comment or ""
        if comment_api_description:
            described = f"API Description: {_description(spell, word, text)}"
            note = f"{note} - {described}" if note else described
        texts[text] = _one_line_ascii(note)
    width = max(2, len(str(len(texts))))
    lines = []
    for i, (text, note) in enumerate(texts.items(), 1):
        line = f'${variable_prefix}_{i:0{width}d} = "{yara_string(text)}"'
        line += f" {mods}" if mods else ""
        line += f" // {note}" if note else ""
        lines.append(line)
    return lines


def _outside_quotes(text: str, fix: Callable[[str], str]) -> str:
    """Apply `fix` to the parts of a condition that are not inside double-quoted strings."""
    parts = re.split(r'("(?:[^"\\]|\\.)*")', text)
    return "".join(part if i % 2 else fix(part) for i, part in enumerate(parts))


def _modern_condition(condition: str) -> str:
    # The original wrote `any of $user*`; YARA needs `any of ($user*)`.
    return _outside_quotes(
        condition,
        lambda part: re.sub(r"\bof\s+(\$[A-Za-z0-9_]*\*?)(?![A-Za-z0-9_*])", r"of (\1)", part),
    )


def _meta_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return str(value)
    return f'"{yara_string(str(value))}"'


def _meta_items(
    meta: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None,
) -> list[tuple[str, Any]]:
    if not meta:
        return []
    dicts = [meta] if isinstance(meta, Mapping) else list(meta)
    items: list[tuple[str, Any]] = []
    for one in dicts:
        if not isinstance(one, Mapping):
            raise CapicheError(f"meta_dynamic_dictionary items must be dicts, got {one!r}")
        for key, value in one.items():
            if not is_yara_identifier(str(key)):
                raise CapicheError(
                    Diagnostic(
                        message=f"meta key {key!r} is not a YARA identifier",
                        hint=f"e.g. {yara_identifier(str(key) or 'key')!r}",
                    )
                )
            items.append((str(key), value))
    return items


def _string_lines(strings: str | Iterable[str]) -> list[tuple[str, str]]:
    """(identifier, line) for each string; plain text becomes `$string_NN = "text"`.

    An item that declares a string (`$id = ...`: text, hex or regex) is kept as written.
    """
    items = [str(s).strip() for s in ([strings] if isinstance(strings, str) else strings)]
    plain = [s for s in items if not _STRING_DECL.match(s)]
    width = max(2, len(str(len(plain))))
    out: list[tuple[str, str]] = []
    counter = 0
    for text in items:
        if not text:
            raise CapicheError("cannot make a YARA string from empty text")
        if "\n" in text or "\r" in text:
            raise CapicheError(
                Diagnostic(
                    message=f"string {text[:40]!r} spans several lines",
                    hint="give one string per item, as generate_yara_string returns them",
                )
            )
        declared = _STRING_DECL.match(text)
        if declared:
            out.append((declared.group(1), text))
            continue
        counter += 1
        ident = f"string_{counter:0{width}d}"
        out.append((ident, f'${ident} = "{yara_string(text)}"'))
    return out


def _check_references(condition: str, identifiers: list[str]) -> None:
    """Fail early on what both engines reject: unknown and unreferenced strings."""
    counts = Counter(i for i in identifiers if i)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise CapicheError(
            Diagnostic(
                message=f"duplicate string identifiers: {', '.join('$' + d for d in duplicates)}",
                hint="give each generate_yara_string call its own variable_prefix",
            )
        )
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', condition)  # string literals hold no references
    if re.search(r"\bthem\b", code):
        return
    refs = re.findall(r"[$#@!]([A-Za-z0-9_]*)(\*?)", code)
    unknown = [
        f"${name}{star}"
        for name, star in refs
        if (name or star)
        and not any(i.startswith(name) if star else i == name for i in identifiers)
    ]
    if unknown:
        raise CapicheError(
            Diagnostic(
                message=f"the condition refers to strings that do not exist: {', '.join(unknown)}",
                hint="string identifiers are "
                + (", ".join("$" + i for i in identifiers[:5]) or "none")
                + (" ..." if len(identifiers) > 5 else ""),
            )
        )
    unused = [
        i
        for i in identifiers
        if not any(i.startswith(name) if star else i == name for name, star in refs)
    ]
    if unused and not any(star and not name for name, star in refs):
        raise CapicheError(
            Diagnostic(
                message=f"strings not used by the condition: {', '.join('$' + i for i in unused[:5])}",
                hint="refer to them (e.g. `any of ($group*)`) or leave them out",
            )
        )


def generate_yara_rule(
    rule_name: str,
    meta_author: str,
    meta_description: str,
    strings: str | Iterable[str],
    condition: str,
    meta_dynamic_dictionary: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
) -> str:
    """A YARA rule from string lines (as generate_yara_string returns) and a condition.

    Plain text in `strings` becomes `$string_NN` strings. The original's `any of $group*` is
    rewritten to `any of ($group*)`. Meta values are escaped; `meta_dynamic_dictionary` is a dict
    or a list of dicts (as in the original) of extra meta. The rule name must be a YARA
    identifier, and a condition naming strings that do not exist (or leaving some unused) is an
    error, so the rule compiles on yara-python and yara-x.
    """
    if not is_yara_identifier(str(rule_name)):
        raise CapicheError(
            Diagnostic(
                message=f"rule name {rule_name!r} is not a valid YARA identifier",
                hint=f"e.g. {yara_identifier(str(rule_name) or 'rule')!r}",
            )
        )
    if not isinstance(condition, str) or not condition.strip():
        raise CapicheError(Diagnostic(message="the condition is empty", hint="e.g. 'any of them'"))
    lines = _string_lines(strings)
    # Continuation lines are re-indented; YARA strings cannot span lines, so none is altered.
    cond = "\n        ".join(
        line.strip() for line in _modern_condition(condition.strip()).splitlines() if line.strip()
    )
    _check_references(cond, [ident for ident, _ in lines])
    meta = [("author", meta_author), ("description", meta_description)]
    meta += _meta_items(meta_dynamic_dictionary)
    out = [f"rule {rule_name}", "{", "    meta:"]
    out += [f"        {key} = {_meta_value('' if value is None else value)}" for key, value in meta]
    if lines:
        out.append("    strings:")
        out += [f"        {line}" for _, line in lines]
    out += ["    condition:", f"        {cond}", "}"]
    return "\n".join(out)


# ---------------------------------------------------------------- VTGrep and Google dorks


def _unescape_yara(content: str) -> bytes:
    out = bytearray()
    pos = 0
    for match in _YARA_ESCAPE.finditer(content):
        out += content[pos : match.start()].encode("utf-8")
        code = match.group(1)
        out += bytes([int(code[1:], 16)]) if code[0] == "x" else _SIMPLE_ESCAPES[code]
        pos = match.end()
    out += content[pos:].encode("utf-8")
    return bytes(out)


def _search_text(item: str) -> str | bytes:
    """What to search for: a YARA string line's content, else the text minus any service word."""
    match = _STRING_LINE.match(item)
    if match:
        data = _unescape_yara(match.group(2))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data  # raw bytes: only a hex search can spell them
    word, colon, rest = item.partition(":")
    # `service:spelling` as transform_api_list returns it; other text is searched as given.
    if colon and re.fullmatch(r"[a-z0-9][a-z0-9-]*", word) and rest and " " not in rest:
        return rest
    return item


def _logical(operator: str, allowed: tuple[str, ...]) -> str:
    key = str(operator or "").strip().upper()
    if key not in allowed:
        raise CapicheError(
            Diagnostic(
                message=f"logical operator {operator!r} is not one of {', '.join(repr(a) for a in allowed)}",
                hint="join terms with 'OR' (any of them) or 'AND' (all of them)",
            )
        )
    return key


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _vt_term(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return "content:{" + text.hex() + "}"
    try:
        return vtgrep_term(text)
    except ValueError as err:  # empty text would match every file
        raise CapicheError(str(err)) from err


def generate_vtgrep_content(strings: str | Iterable[str], logical_operator: str = "") -> str:
    """VirusTotal content search. A string gives one term, `content:"import boto3"`, as is.

    A list gives `(content:"a" OR content:"b")` joined by `logical_operator` ('OR' or 'AND',
    required as in the original). Items may be transformed names (the service word is dropped),
    YARA string lines (their content is searched) or text; terms are escaped and de-duplicated,
    and text a quoted term cannot spell is searched in hex.
    """
    if isinstance(strings, str):
        return _vt_term(strings)
    operator = _logical(logical_operator, ("OR", "AND"))
    terms = _unique(_vt_term(_search_text(str(item))) for item in strings)
    if not terms:
        raise CapicheError("no strings to search for: the query would match nothing useful")
    return "(" + f" {operator} ".join(terms) + ")"


def _dork_term(text: str, operator: str) -> str:
    try:
        term = dork_term(text, operator or "intext")
    except ValueError as err:
        raise CapicheError(str(err)) from err
    # No operator: a plain quoted phrase, which is what the original's `:"x"` amounted to.
    return term if operator else term.partition(":")[2]


def generate_google_dork_syntax(
    strings: str | Iterable[str], logical_operator: str = "", operator: str = ""
) -> str:
    """A Google dork. `operator` prefixes each phrase (`intext:"..."`); empty means a plain phrase.

    A string gives one term. A list gives `(a OR b)` with 'OR', or `(a b)` with '' or 'AND':
    Google ANDs terms implicitly and has no AND operator. Items are read as in
    generate_vtgrep_content; a double quote cannot be searched (Google has no escape for it).
    """
    op = str(operator or "").strip().rstrip(":")
    if isinstance(strings, str):
        return _dork_term(strings, op)
    joiner = " OR " if _logical(logical_operator, ("OR", "AND", "")) == "OR" else " "
    terms = []
    for item in strings:
        text = _search_text(str(item))
        if isinstance(text, bytes):
            raise CapicheError(f"cannot search Google for the raw bytes of {item!r}")
        terms.append(_dork_term(text, op))
    terms = _unique(terms)
    if not terms:
        raise CapicheError("no strings to search for: the dork would match nothing useful")
    return "(" + joiner.join(terms) + ")"


# ---------------------------------------------------------------- Sigma


def _rule_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower())
    slug = slug.strip("_")[:100] or "rule"
    return slug if slug[0].isalpha() else f"rule_{slug}"[:100]


def _resolved_rule(name: str, ops: list[Operation], catalog: Catalog, **meta: Any) -> ResolvedRule:
    from capiche_build.api import rule_from_groups

    return rule_from_groups(_rule_slug(name), {"apis": ops}, "apis", catalog=catalog, **meta)


def generate_sigma_rule(
    rule_name: str,
    description: str,
    api_data: Sequence[Mapping[str, Any]],
    api_list: str | Iterable[str],
    sdk: str,
    useragent: str | Sequence[str] | None = None,
    *,
    author: str = "CAPICHE",
) -> str:
    """A Sigma rule for AWS CloudTrail matching calls of the APIs.

    Each API's real eventSource and eventName are used (`eventName|startswith` where CloudTrail
    appends an API version). `sdk` is checked but does not change the selection: CloudTrail logs
    the API, not the SDK spelling. `useragent` adds `userAgent|contains` (e.g. 'Boto3'); None or
    '' matches any client.
    """
    _sdk(sdk)
    catalog = _catalog_of(api_data)
    ops = _resolve(catalog, api_list)
    if not ops:
        raise CapicheError("no APIs given: a Sigma rule needs at least one")
    agents = [useragent] if isinstance(useragent, str) else list(useragent or ())
    rule = _resolved_rule(
        rule_name,
        ops,
        catalog,
        title=str(rule_name),
        description=str(description),
        author=author,
        date=date.today().isoformat(),
        user_agent=tuple(a for a in agents if a),
    )
    from capiche_build.targets import sigma

    return sigma.render(rule)


# ---------------------------------------------------------------- YARA-L

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_KEY = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\.\S+")
_WINDOW = re.compile(r"\d+[smhd]")


def _yaral_name(name: str, what: str) -> str:
    from capiche_build.yaral.parser import KEYWORDS

    if not isinstance(name, str) or not _VARIABLE.fullmatch(name) or name.lower() in KEYWORDS:
        raise CapicheError(
            Diagnostic(
                message=f"{what} {name!r} is not a valid YARA-L name",
                hint="use letters, digits and _, starting with a letter, and not a keyword",
            )
        )
    return name


class YaralEvents(dict[str, Any]):
    """Event predicates for one event variable: `$var.field` -> value lines, AND-ed.

    Holds the CloudTrail vendor and product lines; the OR over the APIs (eventSource with its
    eventNames) is rendered from `operations` by generate_yara_l_rule. Extra items added by the
    caller become extra `key = "value"` predicates.
    """

    def __init__(self, variable: str, rule: ResolvedRule) -> None:
        from capiche_build.udm import PRODUCT_NAME, VENDOR_NAME

        super().__init__(
            {
                f"${variable}.metadata.vendor_name": VENDOR_NAME,
                f"${variable}.metadata.product_name": PRODUCT_NAME,
            }
        )
        self.variable = variable
        self.rule = rule

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self.rule.groups[0].operations

    def api_predicate(self, indent: str) -> str:
        from capiche_build.targets.yaral import group_predicate

        return group_predicate(self.rule, "apis", self.variable, indent)


def define_events(
    api_events: str | Iterable[str],
    variable_prefix_associations: str = "e",
    section_associations: str = "metadata",
) -> YaralEvents:
    """The events of one YARA-L event variable (`$<variable_prefix_associations>`) for the APIs.

    The UDM fields come from the CloudTrail mapping (eventSource -> target.application, eventName
    -> metadata.product_event_type), so `section_associations` is accepted for compatibility only.
    """
    variable = _yaral_name(variable_prefix_associations, "event variable")
    catalog = load_catalog()
    ops = _resolve(catalog, api_events)
    if not ops:
        raise CapicheError("no APIs given: the events would match nothing")
    return YaralEvents(variable, _resolved_rule(variable, ops, catalog))


def define_associations(
    variable_prefix_associations: str, section_associations: str, type_associations: str
) -> list[str]:
    """Bind a placeholder to a field of the event: `$e.metadata.product_event_type = $eventname`.

    `type_associations` may name a CloudTrail field (`eventName`, `userIdentity.arn`,
    `sourceIPAddress`, ...; case-insensitive), mapped to its UDM field; otherwise
    `<section>.<type>` is taken as the UDM path. The placeholder is named after the type.
    """
    from capiche_build.udm import CLOUDTRAIL_TO_UDM

    variable = _yaral_name(variable_prefix_associations, "event variable")
    kind = str(type_associations).strip()
    by_name = {key.lower(): value for key, value in CLOUDTRAIL_TO_UDM.items()}
    field = by_name.get(kind.lower())
    if field is None:
        section = str(section_associations).strip().strip(".")
        field = f"{section}.{kind}" if section else kind
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+", field):
            raise CapicheError(
                Diagnostic(
                    message=f"{field!r} is not a UDM field path",
                    hint="e.g. section 'principal' and type 'user.userid', or type 'eventName'",
                )
            )
    placeholder = _yaral_name(re.sub(r"\W+", "_", kind).strip("_") or "value", "placeholder")
    return [f"${variable}.{field} = ${placeholder}"]


def _event_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return f'"{yaral_string(str(value))}"'


def generate_yara_l_rule(
    rule_name: str,
    general_description: str,
    events: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    associations: str | Iterable[str] = (),
    match: str | None = "all over 5m",
    condition: str | None = "all of them",
) -> str:
    """A YARA-L 2.0 rule for Google SecOps.

    `events` is what define_events returns (or a list of them, or plain `$var.field` -> value
    mappings); `associations` are define_associations lines, placed in `events:`. The original's
    defaults are read for what they meant: `match='all over 5m'` becomes `$<placeholders> over 5m`
    (no match section when there is no placeholder) and `condition='all of them'` becomes every
    event variable AND-ed.
    """
    name = _yaral_name(rule_name, "rule name")
    event_sets = [events] if isinstance(events, Mapping) else list(events)
    if not event_sets:
        raise CapicheError("no events: a YARA-L rule needs at least one event variable")
    assoc = [associations] if isinstance(associations, str) else list(associations or ())
    ind = " " * 8
    lines: list[str] = []
    variables: dict[str, None] = {}
    for one in event_sets:
        if not isinstance(one, Mapping):
            raise CapicheError(f"events must be what define_events returns, got {one!r}")
        for key, value in one.items():
            found = _EVENT_KEY.fullmatch(str(key))
            if not found:
                raise CapicheError(
                    Diagnostic(message=f"event key {key!r} is not `$variable.field`")
                )
            variables.setdefault(found.group(1), None)
            lines.append(f"{ind}{key} = {_event_value(value)}")
        if isinstance(one, YaralEvents):
            variables.setdefault(one.variable, None)
            lines.append(f"{ind}{one.api_predicate(ind)}")
    placeholders: dict[str, None] = {}
    for line in assoc:
        text = " ".join(str(line).split())
        bound = re.fullmatch(r"\$([A-Za-z_]\w*)\.\S+ = \$([A-Za-z_]\w*)", text)
        if not bound:
            raise CapicheError(
                Diagnostic(
                    message=f"association {line!r} is not `$variable.field = $placeholder`",
                    hint="build it with define_associations",
                )
            )
        placeholders.setdefault(bound.group(2), None)
        lines.append(f"{ind}{text}")
    match_text = " ".join(str(match or "").split())
    old_match = re.fullmatch(r"(?i)all over (\S+)", match_text)
    if old_match:
        window = old_match.group(1)
        if not _WINDOW.fullmatch(window):
            raise CapicheError(Diagnostic(message=f"match window {window!r} is not like 5m or 1h"))
        match_text = (
            ", ".join(f"${p}" for p in placeholders) + f" over {window}" if placeholders else ""
        )
    cond = " ".join(str(condition or "all of them").split())
    if cond.lower() in ("all of them", "any of them"):
        joiner = " and " if cond.lower().startswith("all") else " or "
        cond = joiner.join(f"${v}" for v in variables)
    out = [
        f"rule {name} {{",
        "    meta:",
        f'{ind}description = "{yaral_string(str(general_description))}"',
        "    events:",
        *lines,
    ]
    if match_text:
        out += ["    match:", f"{ind}{match_text}"]
    out += ["    condition:", f"{ind}{cond}", "}"]
    return "\n".join(out)
