"""The AWS API catalog: every operation with each of its spellings, loaded from `data/`.

Standard library only: building and searching never need botocore or the network.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.paths import DATA_DIR

CATALOG_FORMAT = 1
FLAG_DEPRECATED = 1
FLAG_CLI_HIDDEN = 2
FLAG_CLI_DERIVED = 4  # the pinned CLI predates the operation: command derived from its name
FLAG_PREFIX_AMBIGUOUS = 8  # another eventName of the same source starts with this one

# What CloudTrail may append to a versioned eventName: Lambda `20150331` or `20150331v2`,
# CloudFront `2014_01_31`.
EVENT_NAME_SUFFIX = r"(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})"

DEFAULT_CATALOG_PATH = DATA_DIR / "aws_api_catalog.json"


@dataclass(frozen=True, slots=True)
class Operation:
    """One AWS API operation in every spelling the tool needs."""

    service: str
    name: str
    description: str
    boto3: str
    cli_service: str
    cli_commands: tuple[str, ...]
    event_source: str
    event_name: str
    event_name_match: str  # "exact", or "prefix" when CloudTrail may append an API version
    deprecated: bool
    cli_hidden: bool
    cli_derived: bool
    prefix_ambiguous: bool
    service_full_name: str
    iam_prefix: str

    @property
    def api(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def iam_action(self) -> str:
        """Heuristic: IAM actions mostly use the signing name and the operation name."""
        return f"{self.iam_prefix}:{self.name}"

    @property
    def event_name_regex(self) -> str:
        """An anchored regex for every eventName CloudTrail records for this operation."""
        if self.event_name_match == "prefix":
            return f"^{re.escape(self.event_name)}{EVENT_NAME_SUFFIX}?$"
        return f"^{re.escape(self.event_name)}$"

    def matches_event(self, event_source: str, event_name: str) -> bool:
        if event_source != self.event_source:
            return False
        if self.event_name_match == "exact":
            return event_name == self.event_name
        return re.match(self.event_name_regex, event_name) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "service": self.service,
            "name": self.name,
            "description": self.description,
            "boto3": self.boto3,
            "cli_service": self.cli_service or None,
            "cli_commands": list(self.cli_commands),
            "event_source": self.event_source,
            "event_name": self.event_name,
            "event_name_match": self.event_name_match,
            "deprecated": self.deprecated,
            "cli_hidden": self.cli_hidden,
            "cli_derived": self.cli_derived,
            "iam_action": self.iam_action,
            "iam_action_heuristic": True,
        }


class Catalog:
    """Read-only view of the catalog file. Operations are sorted by (service, name)."""

    def __init__(
        self, document: dict[str, Any], path: Path | None = None, digest: str = ""
    ) -> None:
        if document.get("format") != CATALOG_FORMAT:
            raise CapicheError(
                Diagnostic(
                    file=str(path or ""),
                    message=f"catalog format {document.get('format')!r} is not {CATALOG_FORMAT}",
                    hint="regenerate it with `capiche catalog generate`",
                )
            )
        self.path = path
        self.digest = digest  # sha256 of the file: build caches key on it
        self.botocore_version: str = document["botocore"]
        self.awscli_version: str = document["awscli"]
        self.awscli_botocore_version: str = document.get("awscli_botocore", "")
        self._services: list[list[Any]] = document["services"]
        self._rows: list[list[Any]] = document["operations"]

    @property
    def version(self) -> str:
        return f"botocore {self.botocore_version} / awscli {self.awscli_version}"

    def _build(self, row: list[Any]) -> Operation:
        sidx, name, desc, boto3, cli_cmds, event_name, prefix, flags = row
        service, full_name, source, cli_word, iam_prefix = self._services[sidx]
        return Operation(
            service,
            name,
            desc,
            boto3,
            cli_word if cli_cmds else "",
            tuple(cli_cmds),
            source,
            event_name,
            "prefix" if prefix else "exact",
            bool(flags & FLAG_DEPRECATED),
            bool(flags & FLAG_CLI_HIDDEN),
            bool(flags & FLAG_CLI_DERIVED),
            bool(flags & FLAG_PREFIX_AMBIGUOUS),
            full_name,
            iam_prefix,
        )

    def op(self, index: int) -> Operation:
        """The operation at a catalog index, built on first use (a search touches few)."""
        built = self._built[index]
        if built is None:
            built = self._built[index] = self._build(self._rows[index])
        return built

    @cached_property
    def _built(self) -> list[Operation | None]:
        return [None] * len(self._rows)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self.op(i) for i in range(len(self._rows)))

    @cached_property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(row[2] for row in self._rows)

    @cached_property
    def service_of(self) -> tuple[str, ...]:
        names = [s[0] for s in self._services]
        return tuple(names[row[0]] for row in self._rows)

    @cached_property
    def event_source_of(self) -> tuple[str, ...]:
        sources = [s[2] for s in self._services]
        return tuple(sources[row[0]] for row in self._rows)

    @cached_property
    def apis(self) -> tuple[str, ...]:
        """`service:Name` keys in catalog order, without building Operation objects."""
        services = self._services
        return tuple(f"{services[row[0]][0]}:{row[1]}" for row in self._rows)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {api.lower(): i for i, api in enumerate(self.apis)}

    @cached_property
    def services(self) -> tuple[str, ...]:
        return tuple(s[0] for s in self._services)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def find(self, api: str) -> Operation | None:
        """The operation named `service:Name` (case-insensitive), or None."""
        i = self._index.get(api.strip().lower())
        return None if i is None else self.op(i)

    @cached_property
    def _by_event(self) -> dict[tuple[str, str], list[Operation]]:
        index: dict[tuple[str, str], list[Operation]] = {}
        for op in self.operations:
            index.setdefault((op.event_source, op.event_name), []).append(op)
        return index

    def resolve_event(self, event_source: str, event_name: str) -> list[Operation]:
        """Operations a CloudTrail (eventSource, eventName) pair can come from."""
        hits = list(self._by_event.get((event_source, event_name), []))
        stripped = re.sub(f"{EVENT_NAME_SUFFIX}$", "", event_name)
        if stripped != event_name:
            hits += [
                op
                for op in self._by_event.get((event_source, stripped), [])
                if op.event_name_match == "prefix"
            ]
        return hits

    def suggest(self, api: str, limit: int = 3) -> list[str]:
        """Close catalog names for an unknown `service:Name`, for did-you-mean messages."""
        service, _, name = api.strip().partition(":")
        lowered = service.lower()
        if lowered in self.services:
            pool = [a for a in self.apis if a.startswith(f"{lowered}:")]
            names = {a.partition(":")[2].lower(): a for a in pool}
            hits = difflib.get_close_matches(name.lower(), list(names), n=limit, cutoff=0.6)
            return [names[h] for h in hits]
        # Unknown service: suggest services, then the same name in any service.
        hits = difflib.get_close_matches(lowered, list(self.services), n=limit, cutoff=0.6)
        same_name = [a for a in self.apis if a.partition(":")[2].lower() == name.lower()]
        return [f"{h}:{name}" for h in hits][:limit] + same_name[:limit]

    def get(self, api: str, where: str = "") -> Operation:
        """The operation named `service:Name`, or a CapicheError with a did-you-mean."""
        op = self.find(api)
        if op is not None:
            return op
        if ":" not in api:
            hint = "write APIs as service:Name, e.g. iam:CreateAccessKey"
            same = [a for a in self.apis if a.partition(":")[2].lower() == api.strip().lower()]
            if same:
                hint += f"; did you mean {', '.join(same[:5])}?"
        else:
            close = self.suggest(api)
            hint = f"did you mean {', '.join(close)}?" if close else "see `capiche search`"
        raise CapicheError(
            Diagnostic(file=where, message=f"unknown API {api!r} in the catalog", hint=hint)
        )

    def get_many(self, apis: Sequence[str], where: str = "") -> list[Operation]:
        """Resolve every API, reporting all unknown ones at once; sorted and de-duplicated."""
        found: dict[str, Operation] = {}
        problems: list[Diagnostic] = []
        for api in apis:
            try:
                op = self.get(api, where)
            except CapicheError as err:
                problems.extend(err.diagnostics)
                continue
            found[op.api] = op
        if problems:
            raise CapicheError(problems)
        return sort_operations(found.values())


def sort_operations(ops: Any) -> list[Operation]:
    unique = {op.api: op for op in ops}
    return [
        unique[k] for k in sorted(unique, key=lambda a: (a.partition(":")[0], a.partition(":")[2]))
    ]


_CACHE: dict[Path, Catalog] = {}


def catalog_path() -> Path:
    override = os.environ.get("CAPICHE_CATALOG")
    return Path(override) if override else DEFAULT_CATALOG_PATH


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load (and cache per path) the catalog; the default is the shipped `data/` file."""
    resolved = Path(path) if path is not None else catalog_path()
    cached = _CACHE.get(resolved)
    if cached is not None:
        return cached
    try:
        raw = resolved.read_bytes()
    except OSError as err:
        raise CapicheError(
            Diagnostic(
                file=str(resolved),
                message=f"cannot read the API catalog: {err.strerror or err}",
                hint="run `capiche catalog generate` (needs the `catalog` extra) or set CAPICHE_CATALOG",
            )
        ) from err
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    catalog = Catalog(json.loads(raw), resolved, digest)
    _CACHE[resolved] = catalog
    return catalog
