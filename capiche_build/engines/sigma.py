"""Sigma: check rules with pySigma and every installed validator, and run them on CloudTrail.

Both work offline. pySigma and pysigma-validators-sigmahq download ATT&CK and SigmaHQ JSON while
validating; `_configure_offline` points each of those loaders at a file shipped in `data/` (made
by `python -m capiche_build.engines.make_sigma_data`) and gives them a private cache, so neither
a download nor a stale cached copy is ever used. `data/sigma/validators.yml` says which validators
run; leaving one out needs a written reason there.

Evaluation uses pySigma's own SQLite backend on an in-memory table of the records, correlation
rules included (the backend compiles them to SQL).

pySigma is imported inside the functions: importing this module must stay cheap for the CLI.
"""

from __future__ import annotations

import atexit
import dataclasses
import difflib
import functools
import importlib
import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capiche_build.diagnostics import CapicheError, Diagnostic, Severity
from capiche_build.engines import make_sigma_data as shipped
from capiche_build.paths import DATA_DIR

if TYPE_CHECKING:
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError, SigmaRuleLocation
    from sigma.rule import SigmaRuleBase
    from sigma.validators.base import SigmaRuleValidator, SigmaValidationIssue
    from yaml import MappingNode, Node

ENGINE = "sigma"
VALIDATOR_CONFIG = Path("sigma") / "validators.yml"
TABLE = "logs"
TIME_FIELD = "eventTime"
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class DataSource:
    """A pySigma data module that would download its data, and the file we give it instead."""

    module: str
    path: Path  # relative to DATA_DIR
    probe: str  # an attribute that makes the module load its data
    validators: tuple[str, ...]


DATA_SOURCES: tuple[DataSource, ...] = (
    DataSource(
        "sigma.data.mitre_attack",
        shipped.ATTACK_FILE,
        "mitre_attack_techniques_tactics_mapping",
        ("attacktag", "sigmahq_tags_techniques_without_tactics"),
    ),
    DataSource(
        "sigma.validators.sigmahq.data.data_taxonomy",
        shipped.TAXONOMY_FILE,
        "sigmahq_taxonomy_fieldsname",
        (
            "sigmahq_fieldname_cast",
            "sigmahq_invalid_fieldname",
            "sigmahq_logsource_unknown",
            "sigmahq_redundant_field",
        ),
    ),
    DataSource(
        "sigma.validators.sigmahq.data.data_filename",
        shipped.FILENAME_FILE,
        "sigmahq_filename_pattern",
        ("sigmahq_filename_prefix",),
    ),
    DataSource(
        "sigma.validators.sigmahq.data.data_windows_eventid",
        shipped.EVENTID_FILE,
        "sigmahq_category_no_eventid",
        ("sigmahq_category_event_id",),
    ),
    DataSource(
        "sigma.validators.sigmahq.data.data_windows_provider",
        shipped.PROVIDER_FILE,
        "sigmahq_provider_name",
        ("sigmahq_category_windows_provider_name",),
    ),
)


@dataclass(frozen=True)
class ValidatorInfo:
    """One installed validator: whether it runs, the shipped file it reads, why it is off."""

    identifier: str
    enabled: bool
    data: str = ""
    reason: str = ""


# --------------------------------------------------------------------------- offline set-up


@functools.cache
def _configure_offline() -> None:
    """Point every downloading pySigma data module at our files; load them all now."""
    cache_root = Path(tempfile.mkdtemp(prefix="capiche-sigma-cache-"))
    atexit.register(shutil.rmtree, cache_root, True)
    for source in DATA_SOURCES:
        path = DATA_DIR / source.path
        if not path.is_file():
            raise RuntimeError(
                f"{path} is missing: run python -m capiche_build.engines.make_sigma_data"
            )
        module = importlib.import_module(source.module)
        # A per-process cache: a copy downloaded or built from other data is never read. The
        # directory must be set before the URL, whose setter clears (and so creates) the cache.
        module.set_cache_dir(str(cache_root / source.path.stem))
        module.set_url(str(path))
        # Load now, so a broken file fails here rather than half-way through a rule set.
        getattr(module, source.probe)


@functools.cache
def _installed_validators() -> dict[str, type[SigmaRuleValidator]]:
    from sigma.plugins import InstalledSigmaPlugins

    plugins = InstalledSigmaPlugins.autodiscover(include_backends=False, include_pipelines=False)
    return dict(sorted(plugins.validators.items()))


@functools.cache
def validator_table() -> tuple[ValidatorInfo, ...]:
    """Every installed validator, as configured in data/sigma/validators.yml."""
    import yaml

    installed = _installed_validators()
    config = yaml.safe_load((DATA_DIR / VALIDATOR_CONFIG).read_text(encoding="utf-8"))
    reasons: dict[str, str] = config.get("reasons") or {}
    enabled: set[str] = set()
    for entry in config.get("validators") or []:
        name = entry.lstrip("-")
        if name != "all" and name not in installed:
            raise RuntimeError(f"{VALIDATOR_CONFIG}: no installed validator named {name!r}")
        if entry == "all":
            enabled = set(installed)
        elif entry.startswith("-"):
            enabled.discard(name)
        else:
            enabled.add(name)
    unexplained = [n for n in installed if n not in enabled and not reasons.get(n)]
    if unexplained:  # e.g. a validator a new pySigma release added, with no "all" to enable it
        raise RuntimeError(f"{VALIDATOR_CONFIG}: validators off without a reason: {unexplained}")
    data = {v: str(s.path) for s in DATA_SOURCES for v in s.validators}
    return tuple(
        ValidatorInfo(n, n in enabled, data.get(n, ""), "" if n in enabled else reasons[n])
        for n in installed
    )


def _new_validators() -> dict[str, SigmaRuleValidator]:
    """Fresh instances: some validators keep state across the rules of one run."""
    _configure_offline()
    classes = _installed_validators()
    return {
        info.identifier: classes[info.identifier]() for info in validator_table() if info.enabled
    }


# --------------------------------------------------------------------------- YAML and lines


def _compose(text: str, where: str) -> tuple[list[MappingNode] | None, list[Diagnostic]]:
    """YAML node trees of the documents (with line marks), or the syntax error."""
    import yaml

    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return None, [
            _diag(
                where,
                mark.line + 1 if mark else None,
                f"yaml_syntax: {error.problem or error}",
                "fix the YAML syntax",
                column=mark.column + 1 if mark else None,
            )
        ]
    except yaml.YAMLError as error:
        return None, [_diag(where, None, f"yaml_syntax: {error}", "fix the YAML syntax")]
    documents = [n for n in nodes if not (isinstance(n, yaml.ScalarNode) and n.value == "")]
    for node in documents:
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1
            return None, [
                _diag(
                    where,
                    line,
                    "sigma_document: a Sigma document must be a mapping",
                    "start each document with title:",
                )
            ]
    return documents, []


def _top(doc: MappingNode, key: str) -> tuple[Node, Node] | None:
    for key_node, value_node in doc.value:
        if key_node.value == key:
            return key_node, value_node
    return None


def _scalars(doc: MappingNode, key: str) -> Iterator[Node]:
    """The scalar value of a top-level key, or each scalar item of a list value."""
    import yaml

    found = _top(doc, key)
    if found is None:
        return
    value = found[1]
    items = value.value if isinstance(value, yaml.SequenceNode) else [value]
    yield from (item for item in items if isinstance(item, yaml.ScalarNode))


def _search(node: Node, needle: str) -> int | None:
    """Line of the first key with needle as its field or a modifier, or scalar equal to it."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == needle or needle in str(key_node.value).split("|"):
                return key_node.start_mark.line + 1
            line = _search(value_node, needle)
            if line is not None:
                return line
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            line = _search(item, needle)
            if line is not None:
                return line
    elif isinstance(node, yaml.ScalarNode) and str(node.value).casefold() == needle.casefold():
        return node.start_mark.line + 1
    return None


def _locate(
    doc: MappingNode | None, section: str | None, needles: Sequence[str] = ()
) -> int | None:
    """Best line for a problem: a needle inside the section, the section key, else the document."""
    if doc is None:
        return None
    found = _top(doc, section) if section else None
    for needle in needles:
        line = (_search(found[1], needle) if found else None) or _search(doc, needle)
        if line is not None:
            return line
    if found is not None:
        return found[0].start_mark.line + 1
    return doc.start_mark.line + 1


# Words in a validator or exception name -> the top-level key the problem is about.
_SECTIONS: tuple[tuple[str, str | None], ...] = (
    ("filename", None),
    ("falsepositive", "falsepositives"),
    ("title", "title"),
    ("description", "description"),
    ("modified", "modified"),
    ("date", "date"),
    ("status", "status"),
    ("level", "level"),
    ("identifier", "id"),
    ("author", "author"),
    ("tag", "tags"),
    ("reference", "references"),
    ("link", "references"),
    ("correlation", "correlation"),
    ("timespan", "correlation"),
    ("rulenotfound", "correlation"),
    ("logsource", "logsource"),
    ("fieldname", "detection"),
    ("taxonomy", "taxonomy"),
    ("license", "license"),
    ("related", "related"),
    ("scope", "scope"),
    ("fields", "fields"),
    ("name", "name"),
)


def _section(name: str) -> str | None:
    lowered = name.lower().replace("_", "")
    for word, section in _SECTIONS:
        if word in lowered:
            return section
    return "detection"  # conditions, modifiers, values, field names


def _diag(
    where: str,
    line: int | None,
    message: str,
    hint: str = "",
    severity: Severity = "error",
    column: int | None = None,
) -> Diagnostic:
    return Diagnostic(where, line, column, message, ENGINE, severity, hint)


# --------------------------------------------------------------------------- our own checks


def _check_documents(docs: Sequence[MappingNode], where: str) -> list[Diagnostic]:
    """What pySigma lets through: date forms, repeated keys and names, unchecked D3FEND tags."""
    found: list[Diagnostic] = []
    names: dict[str, int] = {}
    for doc in docs:
        found += _duplicate_keys(doc, where)
        for key in ("date", "modified"):
            found += [p for n in _scalars(doc, key) if (p := _date_problem(n, key, where))]
        for node in _scalars(doc, "name"):
            line = node.start_mark.line + 1
            if node.value in names:
                found.append(
                    _diag(
                        where,
                        line,
                        f"capiche_duplicate_name: rule name {node.value!r} is used twice (first on line {names[node.value]})",
                        "give each rule its own name",
                    )
                )
            names.setdefault(node.value, line)
        for node in _scalars(doc, "tags"):
            if str(node.value).lower().startswith("d3fend."):
                found.append(
                    _diag(
                        where,
                        node.start_mark.line + 1,
                        f"capiche_d3fend_unchecked: D3FEND tag {node.value} is not checked offline",
                        "validator d3_fendtag is disabled (data/sigma/validators.yml); check the tag by hand",
                        "warning",
                    )
                )
    return found


def _date_problem(node: Node, key: str, where: str) -> Diagnostic | None:
    value = str(node.value)
    try:
        if DATE_RE.fullmatch(value):
            date.fromisoformat(value)
            return None
    except ValueError:
        pass
    hint = f"write {key}: YYYY-MM-DD, e.g. {key}: {date.today().isoformat()}"
    return _diag(
        where,
        node.start_mark.line + 1,
        f"capiche_date_format: {key} {value!r} is not a YYYY-MM-DD date",
        hint,
    )


def _duplicate_keys(node: Node, where: str) -> list[Diagnostic]:
    """YAML keeps only the last of two equal keys; in a selection that silently drops a test."""
    import yaml

    found: list[Diagnostic] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                line = key_node.start_mark.line + 1
                found.append(
                    _diag(
                        where,
                        line,
                        f"capiche_duplicate_key: key {key_node.value!r} appears twice in one mapping",
                        "merge the values into one list",
                    )
                )
            seen.add(key_node.value)
            found += _duplicate_keys(value_node, where)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item, where)
    return found


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Place:
    """Where a parsed rule came from: the file shown to the user and its YAML document."""

    where: str
    doc: MappingNode


@dataclass(frozen=True)
class _Parsed:
    collection: SigmaCollection | None
    places: Mapping[int, _Place]  # id(rule) -> its place
    diagnostics: list[Diagnostic]


def _parse(
    text: str,
    source: SigmaRuleLocation | None,
    docs: Sequence[MappingNode],
    where: str,
    quiet: bool = False,
) -> _Parsed:
    """Parse with pySigma, collecting errors; `quiet` drops a crash already explained."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    try:
        collection = SigmaCollection.from_yaml(
            text, collect_errors=True, source=source, resolve_references=False
        )
    except Exception as error:  # pySigma lets ValueError/AttributeError through on odd input
        message = f"pysigma_parse: pySigma cannot read the file: {error}"
        crash = [_diag(where, None, message, "fix the problems reported above")]
        return _Parsed(None, {}, [] if quiet else crash)
    rule_docs = [d for d in docs if _top(d, "action") is None]
    if len(rule_docs) != len(collection.rules):
        rule_docs = [docs[0]] * len(collection.rules)
    doc_of = {id(rule): doc for rule, doc in zip(collection.rules, rule_docs, strict=True)}
    places = {key: _Place(where, doc) for key, doc in doc_of.items()}
    found: list[Diagnostic] = []
    reported: set[int] = set()
    for rule in collection.rules:
        for error in rule.errors:
            reported.add(id(error))
            found.append(_error_diag(error, doc_of[id(rule)], where))
        if isinstance(rule, SigmaRule) and not rule.errors:
            try:  # pySigma parses conditions lazily; a bad one would only fail at conversion
                for condition in rule.detection.parsed_condition:
                    _ = condition.parsed
            except SigmaError as error:
                found.append(_error_diag(error, doc_of[id(rule)], where, section="detection"))
    found += [_error_diag(e, None, where) for e in collection.errors if id(e) not in reported]
    try:
        collection.resolve_rule_references()
    except SigmaError as error:
        doc = next((d for d in docs if _top(d, "correlation")), None)
        found.append(_error_diag(error, doc, where))
    return _Parsed(collection, places, found)


def _error_diag(
    error: SigmaError, doc: MappingNode | None, where: str, section: str | None = None
) -> Diagnostic:
    message = str(error.args[0]) if error.args else type(error).__name__
    needles = re.findall(r"'([^']+)'", message)  # pySigma quotes the offending name or value
    if "Condition" in type(error).__name__:
        needles.append("condition")
    section = section or _section(type(error).__name__.removeprefix("Sigma").removesuffix("Error"))
    line = _locate(doc, section, needles)
    return _diag(
        where,
        line,
        f"pysigma_parse: {type(error).__name__}: {message}",
        "see the Sigma specification for this key",
    )


# --------------------------------------------------------------------------- validators


def _run_validators(parsed: Sequence[_Parsed]) -> list[Diagnostic]:
    """One validator set over every rule, so uniqueness checks span all the files."""
    validators = _new_validators()
    places = {key: place for p in parsed for key, place in p.places.items()}
    # A rule pySigma could not parse is already reported; validators would only crash on it.
    rules = [r for p in parsed if p.collection for r in p.collection.rules if not r.errors]
    found: list[Diagnostic] = []
    for rule in rules:
        for name, validator in validators.items():
            found += _issues(name, lambda v=validator, r=rule: v.validate(r), places)
    for name, validator in validators.items():
        found += _issues(name, validator.finalize, places)
    return found


def _issues(
    name: str, run: Callable[[], list[SigmaValidationIssue]], places: Mapping[int, _Place]
) -> list[Diagnostic]:
    try:
        issues = run()
    except Exception as error:  # a crashing validator is reported, never skipped
        message = f"{name}: validator failed: {error!r}"
        return [_diag("", None, message, "report this to the capiche maintainers")]
    return [_issue_diag(name, i, places) for i in issues if not _open_field(name, i)]


def _open_field(name: str, issue: SigmaValidationIssue) -> bool:
    """True for an 'unknown field' issue on a field under one of our taxonomy's `prefix.*` entries.

    Keys under requestParameters, responseElements and the like depend on the API called, so the
    taxonomy lists them as patterns; pySigma compares names literally and would reject them all.
    """
    if name != "sigmahq_invalid_fieldname":
        return False
    from fnmatch import fnmatchcase

    return any(fnmatchcase(issue.field, p) for p in _taxonomy_fields(issue.rules[0]) if "*" in p)


def _taxonomy_fields(rule: SigmaRuleBase) -> list[str]:
    from sigma.validators.sigmahq.data import data_taxonomy

    logsource = getattr(rule, "logsource", None)
    if logsource is None:
        return []
    key = f"{logsource.product}_{logsource.category}_{logsource.service}"
    return list(data_taxonomy.sigmahq_taxonomy_fieldsname.get(key, []))


def _issue_diag(name: str, issue: SigmaValidationIssue, places: Mapping[int, _Place]) -> Diagnostic:
    from sigma.validators.base import SigmaValidationIssueSeverity

    rule = issue.rules[0] if issue.rules else None
    place = places.get(id(rule))
    where, doc = (place.where, place.doc) if place else ("", None)
    details = {
        f.name: getattr(issue, f.name) for f in dataclasses.fields(issue) if f.name != "rules"
    }
    needles = [_text(v) for v in details.values() if v and not isinstance(v, list)]
    needles += [_text(x) for v in details.values() if isinstance(v, list) for x in v]
    section = None if "filename" in name else _section(name)
    line = _locate(doc, section, needles) if section else None
    extra = ", ".join(f"{k}={_text(v)}" for k, v in details.items() if v)
    message = f"{name}: {issue.description}" + (f" ({extra})" if extra else "")
    severity: Severity = (
        "warning" if issue.severity == SigmaValidationIssueSeverity.LOW else "error"
    )
    return _diag(where, line, message, _hint(name, issue, rule), severity)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if hasattr(value, "field") and hasattr(value, "modifiers"):  # a detection item
        return str(value.field)
    if hasattr(value, "product") and hasattr(value, "service"):  # a log source
        parts = (value.product, value.category, value.service)
        return "/".join(str(p) for p in parts if p)
    return str(value)


_HINTS: dict[str, str] = {
    "identifier_existence": "add id: with a new random UUID (uuid4)",
    "sigmahq_level_existence": "add level: informational, low, medium, high or critical",
    "sigmahq_status_existence": "add status: experimental",
    "sigmahq_date_existence": "add date: YYYY-MM-DD",
    "sigmahq_author_existence": "add author:",
    "sigmahq_description_existence": "add description: (at least 16 characters)",
    "sigmahq_title_end": "remove the final '.' from the title",
    "sigmahq_title_start": "start the title with what happens, not with 'Detect'",
    "sigmahq_title_length": "shorten the title to 120 characters or fewer",
    "sigmahq_mitre_link": "drop the attack.mitre.org reference and use the attack.tNNNN tag",
    "wildcards_instead_of_modifiers": "drop the '*' and use |contains, |startswith or |endswith",
    "sigmahq_correlation_filename_prefix": "name a file holding a correlation correlation_<name>.yml",
    "sigmahq_filename_convention": "name the file with 10 to 90 of a-z, 0-9 and _, then .yml",
    "filename_length": "name the file with 10 to 90 characters",
    "sigmahq_logsource_unknown": "capiche's taxonomy (data/sigma/sigmahq_taxonomy.json) knows product: aws, service: cloudtrail",
    "sigmahq_field_duplicate_value": "list each value once",
    "dangling_detection": "use the detection in the condition, or remove it",
    "dangling_condition": "define every detection the condition names",
    "sigmahq_unknown_field": "remove keys the Sigma specification does not define",
    "sigmahq_description_length": "write a description of at least 16 characters",
    "sigmahq_correlation_group_by_existence": "add group-by: (e.g. userIdentity.arn)",
    "sigmahq_correlation_rules_minimum": "a temporal correlation needs at least two rules",
}


def _hint(name: str, issue: SigmaValidationIssue, rule: SigmaRuleBase | None) -> str:
    field = getattr(issue, "field", "")
    if name == "sigmahq_invalid_fieldname" and rule is not None:
        return _field_hint(field, _taxonomy_fields(rule))
    if name == "sigmahq_fieldname_cast" and rule is not None:
        right = [f for f in _taxonomy_fields(rule) if f.casefold() == field.casefold()]
        return f"field names are case-sensitive: write {right[0]}" if right else ""
    if name == "attacktag":
        return _attack_hint(str(getattr(issue, "tag", "")))
    if name == "sigmahq_tags_techniques_without_tactics":
        return f"add the tag {getattr(issue, 'missing_tactic', '')}"
    if name == "sigmahq_title_case":
        return f"capitalise {getattr(issue, 'word', '')!r}"
    if name == "sigmahq_filename_prefix":
        return f"name the file {getattr(issue, 'prefix', '')}<name>.yml"
    if name in _HINTS:
        return _HINTS[name]
    doc = (_installed_validators()[name].__doc__ or "").strip().splitlines()
    return f"pySigma check: {doc[0]}" if doc else f"see pySigma validator {name}"


def _field_hint(field: str, known: Sequence[str]) -> str:
    from fnmatch import fnmatchcase

    # A wrongly cased open object (requestparameters.userName) first, then the closest name.
    fixed = [
        p[:-1] + field[len(p) - 1 :]
        for p in known
        if p.endswith("*") and fnmatchcase(field.casefold(), p.casefold())
    ]
    close = fixed or difflib.get_close_matches(field, [f for f in known if "*" not in f], n=1)
    if close:
        return f"did you mean {close[0]}?"
    return "use a CloudTrail field listed in data/sigma/sigmahq_taxonomy.json"


def _attack_hint(tag: str) -> str:
    from sigma.data import mitre_attack

    name = tag.removeprefix("attack.")
    tactics = sorted(mitre_attack.mitre_attack_tactics.values())
    close = difflib.get_close_matches(name.replace("_", "-"), tactics, n=1, cutoff=0.8)
    if close:
        return f"use attack.{close[0]} (ATT&CK tactic names use '-')"
    return f"use a tactic ({', '.join(tactics[:3])}, ...) or a technique id that exists in ATT&CK {mitre_attack.mitre_attack_version}"


# --------------------------------------------------------------------------- validation API


def validate_sigma(text: str, origin: str = "", filename: str | None = None) -> list[Diagnostic]:
    """Every problem pySigma, the enabled validators and our own checks find in one file.

    `origin` is the path shown in diagnostics; `filename` (default: the name in `origin`) is what
    the filename validators judge. Without either, filename checks have nothing to check.
    """
    name = filename or (Path(origin).name if origin else None)
    return _validate([_Source(text, origin or filename or "", name)])


def validate_sigma_files(files: Mapping[str, str]) -> list[Diagnostic]:
    """Validate files (path -> text) in one run: ids, titles and filenames must be unique across them."""
    return _validate([_Source(text, path, Path(path).name) for path, text in files.items()])


@dataclass(frozen=True)
class _Source:
    text: str
    where: str
    filename: str | None


def _validate(sources: Sequence[_Source]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    parsed: list[_Parsed] = []
    with tempfile.TemporaryDirectory(prefix="capiche-sigma-") as tmp:
        for number, source in enumerate(sources):
            docs, problems = _compose(source.text, source.where)
            if docs is not None and not docs:
                message = "sigma_document: the file holds no rule"
                problems = [_diag(source.where, None, message, "write a Sigma rule")]
            found += problems
            if not docs:
                continue
            checks = _check_documents(docs, source.where)
            found += checks
            # The filename-prefix validator re-reads the rule file, so give it the real text.
            location = _stage(source, Path(tmp, str(number)))
            failed = any(d.severity == "error" for d in checks)
            parsed.append(_parse(source.text, location, docs, source.where, quiet=failed))
            found += parsed[-1].diagnostics
        found += _run_validators(parsed)
    # File-level issues come once per rule of the file; report each once.
    return sorted(dict.fromkeys(found), key=lambda d: (d.file, d.line or 0, d.severity, d.message))


def _stage(source: _Source, tmp: Path) -> SigmaRuleLocation | None:
    """Write the text where validators that read the file, or its folders, can see it."""
    from sigma.exceptions import SigmaRuleLocation

    if not source.filename:
        return None
    # Keep the folder names of the origin: sigmahq_tags_detection judges rules-dfir/ and the like.
    folders = [p for p in Path(source.where).parent.parts if p not in ("/", "..", ".")]
    path = tmp.joinpath(*folders, Path(source.filename).name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source.text, encoding="utf-8")
    return SigmaRuleLocation(path)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class SigmaEvaluation:
    """Which records (0-based indices) each rule matched; a correlation lists the records it used.

    Rules are keyed by `name`, else `id`, else `title`. `top_level` holds the rules no correlation
    in the file refers to: the ones that raise alerts.
    """

    matches: Mapping[str, tuple[int, ...]]
    top_level: tuple[str, ...]

    def alerts(self) -> dict[str, tuple[int, ...]]:
        return {key: self.matches[key] for key in self.top_level}


def evaluate_sigma(text: str, records: Sequence[Mapping[str, Any]]) -> SigmaEvaluation:
    """Run every rule in `text`, correlations included, on CloudTrail records, offline.

    Field names match case-insensitively, as in SQLite (validation catches wrong case). Records
    take part in correlations by their ISO `eventTime`; one without it never does.
    Raises CapicheError if the rules do not parse or convert.
    """
    from sigma.rule import SigmaRule

    collection, order = _load_for_evaluation(text)
    converted = _convert(collection)
    keys = rule_keys(order)
    referenced = {
        id(ref.rule) for rule in order if not isinstance(rule, SigmaRule) for ref in rule.rules
    }
    with closing(_event_table(records, converted.fields)) as db:
        matches = {
            keys[id(rule)]: (
                _run_detection(db, converted.predicates.get(id(rule), []))
                if isinstance(rule, SigmaRule)
                else _run_correlation(db, rule.get_conversion_result())
            )
            for rule in order
        }
    top = tuple(keys[id(rule)] for rule in order if id(rule) not in referenced)
    return SigmaEvaluation(matches, top)


def _load_for_evaluation(text: str) -> tuple[SigmaCollection, list[SigmaRuleBase]]:
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    try:
        collection = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
        errors = list(collection.errors)
        order = list(collection.rules)  # document order; resolving puts referenced rules first
        if not errors:
            collection.resolve_rule_references()
    except (SigmaError, ValueError, AttributeError) as error:
        errors = [error]
    if errors:
        raise CapicheError([_diag("", None, f"cannot evaluate: {e}") for e in errors])
    return collection, order


@dataclass(frozen=True)
class _Converted:
    predicates: Mapping[int, list[str]]  # id(detection rule) -> its WHERE predicates
    fields: list[str]  # columns the queries read


def _convert(collection: SigmaCollection) -> _Converted:
    """Convert once with the SQLite backend.

    Detection rules are captured as bare predicates (standalone ones would otherwise come back
    as SELECT *); correlations keep their SQL as their conversion result. pySigma changes rules
    while it converts them, so the collection must never be converted twice.
    """
    from sigma.backends.sqlite import sqliteBackend
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    predicates: dict[int, list[str]] = {}

    def capture(rule: Any, _format: Any, _index: int, _cond: Any, result: Any) -> Any:
        if isinstance(rule, SigmaRule) and result is not None:
            predicates.setdefault(id(rule), []).append(str(result))
        return result

    backend = sqliteBackend(table=TABLE, timestamp_field=TIME_FIELD)
    try:
        backend.convert(collection, callback=capture)
    except (SigmaError, NotImplementedError) as error:
        raise CapicheError(
            _diag("", None, f"the SQLite backend cannot convert the rules: {error}")
        ) from error
    fields = [TIME_FIELD]
    for rule in collection.rules:
        if isinstance(rule, SigmaRule):
            fields += backend.required_fields(rule)
        else:
            fields += _correlation_fields(rule)
    return _Converted(predicates, fields)


def _correlation_fields(rule: Any) -> list[str]:
    """Event fields a correlation reads: group-by keys, the counted field, aliased fields."""
    fields = list(rule.group_by or [])
    fieldref = getattr(rule.condition, "fieldref", None)
    fields += [fieldref] if isinstance(fieldref, str) else list(fieldref or [])
    for alias in rule.aliases or []:
        fields += list(alias.mapping.values())
    return fields


def rule_keys(rules: Sequence[SigmaRuleBase]) -> dict[int, str]:
    """A unique key per rule: its name, else id, else title (the hunt reports use the same)."""
    keys: dict[int, str] = {}
    for rule in rules:
        key = rule.name or (str(rule.id) if rule.id else rule.title)
        while key in keys.values():
            key += "'"
        keys[id(rule)] = key
    return keys


def _event_table(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> sqlite3.Connection:
    """In-memory table, one TEXT COLLATE NOCASE column per needed field, rowid = index + 1."""
    columns = _distinct_ignoring_case(fields)
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, _regexp, deterministic=True)
    quoted = [_quote(c) for c in columns]
    db.execute(f"CREATE TABLE {TABLE} ({', '.join(q + ' TEXT COLLATE NOCASE' for q in quoted)})")
    rows = []
    for index, record in enumerate(records):
        flat = flatten_record(record)
        rows.append((index + 1, *(flat.get(c.lower()) for c in columns)))
    marks = ", ".join("?" * (len(columns) + 1))
    db.executemany(f"INSERT INTO {TABLE} (rowid, {', '.join(quoted)}) VALUES ({marks})", rows)
    return db


def _distinct_ignoring_case(names: Sequence[str]) -> list[str]:
    """SQLite column names ignore case: keep the first spelling of each."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.lower(), name)
    return list(first.values())


def flatten_record(record: Mapping[str, Any]) -> dict[str, str | int | float | None]:
    """Dotted, lower-cased keys -> SQLite values, as Zircolite stores events.

    Objects are also kept whole (JSON) under their own key, so `requestParameters|contains` works.
    Fields of objects inside a list (`resources.ARN`) hold the value, or a JSON list of values
    when several items have it. Booleans become 'true'/'false'.
    """
    collected: dict[str, list[Any]] = {}
    _collect(record, "", collected)
    return {
        key: values[0] if len(values) == 1 else _json(values) for key, values in collected.items()
    }


def _collect(value: Any, key: str, out: dict[str, list[Any]]) -> None:
    if isinstance(value, Mapping):
        if key:
            out.setdefault(key, []).append(_json(value))
        for name, item in value.items():
            _collect(item, f"{key}.{name}".lower() if key else str(name).lower(), out)
    elif isinstance(value, list):
        out.setdefault(key, []).append(_json(value))
        for item in value:
            if isinstance(item, Mapping):
                for name, sub in item.items():
                    _collect(sub, f"{key}.{name}".lower(), out)
    elif isinstance(value, bool):
        out.setdefault(key, []).append("true" if value else "false")
    else:
        out.setdefault(key, []).append(value)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str, value: Any) -> bool:
    # Sigma's |re is a search, false when the field is absent.
    return value is not None and _compiled(pattern).search(str(value)) is not None


def _run_detection(db: sqlite3.Connection, predicates: Sequence[str]) -> tuple[int, ...]:
    if not predicates:
        return ()
    where = " OR ".join(f"({p})" for p in predicates)
    rows = _query(db, f"SELECT rowid FROM {TABLE} WHERE {where} ORDER BY rowid")
    return tuple(row[0] - 1 for row in rows)


def _run_correlation(db: sqlite3.Connection, queries: Sequence[Any]) -> tuple[int, ...]:
    """Records in any alert's evidence. Evidence ids are '<table index>:<rowid>'."""
    used: set[int] = set()
    for query in queries:
        rows = _query(db, str(query), dict_rows=True)
        for row in rows:
            used.update(int(eid.rsplit(":", 1)[1]) - 1 for eid in json.loads(row["event_ids"]))
    return tuple(sorted(used))


def _query(db: sqlite3.Connection, sql: str, dict_rows: bool = False) -> list[Any]:
    try:
        cursor = db.execute(sql)
    except sqlite3.Error as error:
        raise CapicheError(
            _diag("", None, f"SQLite rejected a converted Sigma rule: {error}", sql[:200])
        ) from error
    if not dict_rows:
        return cursor.fetchall()
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
