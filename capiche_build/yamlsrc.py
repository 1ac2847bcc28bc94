"""YAML that remembers where each value came from, so every error can name its line."""

from __future__ import annotations

from typing import Any

import yaml

from capiche_build.diagnostics import CapicheError, Diagnostic


class LineMap(dict):  # type: ignore[type-arg]
    """A mapping with `line` (of the mapping) and `lines[key]` (1-based line of each key)."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list):  # type: ignore[type-arg]
    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported key {key!r}", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {result.lines[key]})",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Dates stay text: we check the YYYY-MM-DD form ourselves and never depend on time zones.
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(text: str, origin: str) -> Any:
    """Parse one YAML document, raising CapicheError with the line of a syntax problem."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = err.problem or str(err)
        if err.context:
            problem = f"{err.context}: {problem}"
        raise CapicheError(
            Diagnostic(
                file=origin,
                line=line,
                column=column,
                message=f"invalid YAML: {problem}",
                hint="check indentation, colons and quotes; quote text that contains `: ` or `#`",
            )
        ) from err
    except yaml.YAMLError as err:
        raise CapicheError(Diagnostic(file=origin, message=f"invalid YAML: {err}")) from err
