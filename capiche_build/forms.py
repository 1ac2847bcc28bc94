"""SDK forms: the spelling of an operation in each place defenders look."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from capiche_build.catalog import Operation


def _lower_camel(name: str) -> str:
    # Java SDK v2 methods: the operation name with its first letter lower-cased (heuristic).
    return name[:1].lower() + name[1:]


def _cli(op: Operation) -> list[str]:
    return [f"aws {op.cli_service} {cmd}" for cmd in op.cli_commands]


FORMS: dict[str, Callable[[Operation], list[str]]] = {
    "boto3": lambda op: [op.boto3],
    "awscli": _cli,
    "awscli-command": lambda op: list(op.cli_commands),
    "cloudtrail": lambda op: [f"{op.event_source}:{op.event_name}"],
    "iam": lambda op: [op.iam_action],
    "js-v3": lambda op: [f"{op.name}Command"],
    "go-v2": lambda op: [op.name],
    "java-v2": lambda op: [_lower_camel(op.name)],
}
HEURISTIC_FORMS = frozenset({"iam", "java-v2"})
ALIASES = {"boto": "boto3", "cli": "awscli", "aws-cli": "awscli", "javascript": "js-v3"}


def normalise_form(form: str) -> str:
    key = ALIASES.get(form.lower(), form.lower())
    if key not in FORMS:
        raise ValueError(f"unknown form {form!r}; choose one of {', '.join(sorted(FORMS))}")
    return key


def translate(ops: Iterable[Operation], form: str) -> list[str]:
    """Every spelling of the operations in one form, sorted and de-duplicated."""
    render = FORMS[normalise_form(form)]
    return sorted({text for op in ops for text in render(op)})


def all_forms(op: Operation) -> dict[str, list[str]]:
    return {form: render(op) for form, render in FORMS.items()}
