"""Maintainer command: extract the UDM field graph that the YARA-L checker validates paths with.

    python -m capiche_build.yaral.make_udm_fields           # rewrite data/udm/udm_fields.json
    python -m capiche_build.yaral.make_udm_fields --check   # exit 1 if the file is stale

Source: the UDM schema bundled with pysigma-backend-secops (LGPL-3.0-only). That package cannot
even be imported next to pySigma 2.x, so the schema JSON and `validators.py` are read straight
from the installed distribution's files; nothing here runs at check time.

Why a type graph and not a flat list of paths: UDM is recursive (`process.parent_process`,
`security_result.about` is a noun that has a `security_result` ...), so the set of valid paths
is infinite, and cutting it at any depth either drops real paths or yields 300,000 entries. The
graph is exact and small; `udm_schema.UdmSchema.resolve` walks it.

Normalisation (each one documented in data/udm/README.md):
- the six nouns (principal, target, ...) are roots of type `noun`;
- the schema leaves `noun`, `network` and `security_result` empty when they are nested (for
  example `security_result.about.user.userid`); they get their top-level definitions;
- `@`-prefixed references, `int32`/`uint64`/... collapse to a few primitive names;
- protobuf well-known types become small message types so `metadata.event_timestamp.seconds`,
  `additional.fields["key"]` and `location.region_coordinates.latitude` resolve;
- `label` fields and `additional.fields` accept map access (`labels["key"]`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from capiche_build.yaral.udm_schema import DEFAULT_PATH, UdmSchema

DISTRIBUTION = "pysigma-backend-secops"
SCHEMA_FILE = "sigma/pipelines/secops/udm_field_schema.json"
VALIDATORS_FILE = "sigma/pipelines/secops/validators.py"

TIMESTAMP = "google.protobuf.Timestamp"
STRUCT = "google.protobuf.Struct"
STRUCT_ENTRY = "google.protobuf.Struct.FieldsEntry"
PRIMITIVES = {
    "string": "string",
    "bool": "bool",
    "bytes": "bytes",
    "float": "float",
    "double": "float",
    "int32": "int",
    "int64": "int",
    "uint32": "int",
    "uint64": "int",
    "integer": "int",
    "boolean": "bool",
    "list": "string",
}
WELL_KNOWN = {
    "google.protobuf.timestamp": TIMESTAMP,
    "google.protobuf.struct": STRUCT,
    "google.type.latlng": "google.type.LatLng",
    "google.type.interval": "google.type.Interval",
}
# Shapes of the protobuf well-known types, as YARA-L exposes them.
WELL_KNOWN_TYPES: dict[str, dict[str, str]] = {
    TIMESTAMP: {"seconds": "int", "nanos": "int"},
    "google.type.LatLng": {"latitude": "float", "longitude": "float"},
    "google.type.Interval": {"start_time": TIMESTAMP, "end_time": TIMESTAMP},
    STRUCT: {"fields": STRUCT_ENTRY},
    STRUCT_ENTRY: {"key": "string", "value": "google.protobuf.Value"},
    "google.protobuf.Value": {
        "string_value": "string",
        "number_value": "float",
        "bool_value": "bool",
        "null_value": "string",
    },
}
MAP_TYPES = ("label", STRUCT_ENTRY)
NESTED_FROM_TOP_LEVEL = ("noun", "network", "security_result")


def _distribution_file(relative: str) -> Path:
    dist = importlib.metadata.distribution(DISTRIBUTION)
    return Path(str(dist.locate_file(relative)))


def load_source_schema() -> tuple[dict[str, Any], dict[str, str]]:
    """The bundled schema and a description of where it came from."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    path = _distribution_file(SCHEMA_FILE)
    raw = path.read_bytes()
    source = {
        "package": DISTRIBUTION,
        "version": dist.version,
        "license": dist.metadata.get("License") or "LGPL-3.0-only",
        "file": SCHEMA_FILE,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return json.loads(raw), source


def load_reference_validator() -> Callable[[str, dict[str, Any]], bool]:
    """`validators.is_valid_udm_field`, loaded without importing the (broken) package."""
    path = _distribution_file(VALIDATORS_FILE)
    spec = importlib.util.spec_from_file_location("_secops_validators", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_valid_udm_field  # type: ignore[no-any-return]


def build_graph(schema: Mapping[str, Any], source: Mapping[str, str]) -> dict[str, Any]:
    """Normalise the pysigma-backend-secops schema into {roots, types, enums, map_types}."""
    enums: dict[str, list[str]] = {name: list(values) for name, values in schema["Enums"].items()}
    top: Mapping[str, Any] = schema["TopLevelFields"]
    subtypes: dict[str, Any] = dict(schema["Subtypes"])
    for name in NESTED_FROM_TOP_LEVEL:
        if not subtypes.get(name):
            subtypes[name] = top[name]

    types: dict[str, dict[str, str]] = dict(WELL_KNOWN_TYPES)

    def field_type(raw: str) -> str:
        if raw.startswith("@enum:"):
            return "enum:" + raw[len("@enum:") :]
        name = raw.removeprefix("@")
        if name in PRIMITIVES:
            return PRIMITIVES[name]
        if name in WELL_KNOWN:
            return WELL_KNOWN[name]
        if name in enums:
            return "enum:" + name
        if subtypes.get(name):
            add_type(name, subtypes[name])
            return name
        # An empty subtype (`id`, `file_metadata`, ...): the path exists, its children are unknown.
        return "opaque"

    def add_type(name: str, fields: Mapping[str, Any]) -> None:
        if name in types:
            return
        types[name] = {}  # reserve first: the graph is recursive
        types[name] = {
            field: (_inline(name, field, value) if isinstance(value, dict) else field_type(value))
            for field, value in sorted(fields.items())
        }

    def _inline(owner: str, field: str, fields: Mapping[str, Any]) -> str:
        name = f"{owner}.{field}"
        add_type(name, fields)
        return name

    roots: dict[str, str] = {}
    for name, fields in sorted(top.items()):
        if name == "noun":
            add_type("noun", fields)
        elif name in schema["Nouns"]:
            roots[name] = "noun"
        elif name == "additional":
            roots[name] = STRUCT
        else:
            add_type(name, fields)
            roots[name] = name
    for noun in schema["Nouns"]:
        roots[noun] = "noun"

    used_enums = {
        t[len("enum:") :]
        for fields in types.values()
        for t in fields.values()
        if t.startswith("enum:")
    }
    return {
        "_source": dict(source),
        "roots": dict(sorted(roots.items())),
        "types": {name: types[name] for name in sorted(types)},
        "map_types": sorted(MAP_TYPES),
        "enums": {name: enums[name] for name in sorted(used_enums)},
    }


def dump(graph: Mapping[str, Any]) -> str:
    # One line per type keeps diffs readable when the source package changes.
    lines = ["{"]
    items = list(graph.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key in ("types", "enums"):
            lines.append(f"{json.dumps(key)}:{{")
            inner = list(value.items())
            for j, (name, body) in enumerate(inner):
                inner_comma = "," if j < len(inner) - 1 else ""
                text = json.dumps(body, sort_keys=True, separators=(",", ":"))
                lines.append(f"{json.dumps(name)}:{text}{inner_comma}")
            lines.append("}" + comma)
        else:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
            lines.append(f"{json.dumps(key)}:{text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def reference_paths(schema: Mapping[str, Any], max_repeat: int = 1) -> Iterator[str]:
    """Paths reachable in the source schema, each subtype entered at most `max_repeat` times."""
    subtypes = schema["Subtypes"]

    def walk(prefix: str, level: Mapping[str, Any], seen: dict[str, int]) -> Iterator[str]:
        for field, value in level.items():
            path = f"{prefix}.{field}"
            yield path
            if isinstance(value, dict):
                yield from walk(path, value, seen)
                continue
            name = value.removeprefix("@")
            sub = subtypes.get(name)
            if isinstance(sub, dict) and sub and seen.get(name, 0) < max_repeat:
                yield from walk(path, sub, {**seen, name: seen.get(name, 0) + 1})

    top = schema["TopLevelFields"]
    for name, level in top.items():
        if name == "noun":
            continue
        yield name
        if name in schema["Nouns"]:
            yield from walk(name, top["noun"], {})
        else:
            yield from walk(name, level, {})


def cross_check(graph: Mapping[str, Any], schema: dict[str, Any]) -> list[str]:
    """Paths the reference validator accepts that our graph rejects (must be none)."""
    is_valid = load_reference_validator()
    ours = UdmSchema.from_json(graph)
    return [
        path
        for path in reference_paths(schema)
        if is_valid(path, schema) and ours.resolve(path.split(".")).error
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)

    schema, source = load_source_schema()
    graph = build_graph(schema, source)
    missing = cross_check(graph, schema)
    if missing:
        print(f"{len(missing)} reference paths do not resolve, e.g. {missing[:5]}", file=sys.stderr)
        return 1
    text = dump(graph)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run without --check", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.output)
    print(f"wrote {args.output} ({len(graph['types'])} types, {len(graph['roots'])} roots)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
