"""Generate the AWS API catalog from the pinned botocore and AWS CLI (a maintainer step).

Run with `capiche catalog generate` (or `nox -s catalog`). Needs the `catalog` extra; nothing else
in the package imports this module, so building never needs botocore.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from capiche_build.catalog import (
    CATALOG_FORMAT,
    DEFAULT_CATALOG_PATH,
    FLAG_CLI_DERIVED,
    FLAG_CLI_HIDDEN,
    FLAG_DEPRECATED,
    FLAG_PREFIX_AMBIGUOUS,
)

# Services whose CloudTrail eventSource is not `<signingName>.amazonaws.com`.
# Each entry: boto3 service name -> (eventSource host part, evidence).
EVENT_SOURCE_OVERRIDES: dict[str, tuple[str, str]] = {
    "sso": ("sso", "AWS IAM Identity Center CloudTrail docs: eventSource sso.amazonaws.com"),
    "sso-admin": ("sso", "AWS IAM Identity Center CloudTrail docs: sso.amazonaws.com"),
    "pinpoint": ("pinpoint", "Amazon Pinpoint CloudTrail docs (signingName is mobiletargeting)"),
    "qconnect": ("qconnect", "Amazon Q in Connect CloudTrail docs"),
    "wisdom": ("qconnect", "Amazon Q in Connect (formerly Wisdom) logs as qconnect"),
    "marketplace-catalog": ("marketplacecatalog", "AWS Marketplace Catalog API CloudTrail docs"),
    "meteringmarketplace": ("metering-marketplace", "AWS Marketplace Metering CloudTrail docs"),
    "chime-sdk-voice": ("chime-sdk-voice", "Amazon Chime SDK CloudTrail docs: service name"),
    "chime-sdk-media-pipelines": (
        "chime-sdk-media-pipelines",
        "Amazon Chime SDK CloudTrail docs: service name",
    ),
    "servicecatalog-appregistry": (
        "servicecatalog-appregistry",
        "real record in shared/data/cloudtrail (invictus-aws-dataset)",
    ),
    "mq": ("amazonmq", "Amazon MQ CloudTrail docs: amazonmq.amazonaws.com"),
    "rds-data": ("rdsdata", "RDS Data API CloudTrail docs: rdsdata.amazonaws.com"),
    # Weaker evidence: public IAM/CloudTrail datasets only.
    "marketplace-agreement": ("agreement-marketplace", "public CloudTrail datasets (weak)"),
    "marketplace-deployment": ("deployment-marketplace", "public CloudTrail datasets (weak)"),
    "marketplace-reporting": ("reporting-marketplace", "public CloudTrail datasets (weak)"),
    "mgh": ("migrationhub", "public CloudTrail datasets (weak)"),
    "connect-contact-lens": ("contact-lens", "public CloudTrail datasets (weak)"),
    "connectparticipant": ("participant-connect", "public CloudTrail datasets (weak)"),
    "pricing": ("pricelist", "public CloudTrail datasets (weak)"),
}

# (service, operation) -> eventName CloudTrail records instead of the operation name.
EVENT_NAME_RENAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("s3", "GetPublicAccessBlock"): ("GetBucketPublicAccessBlock", "real records; S3 docs"),
    ("s3", "PutPublicAccessBlock"): ("PutBucketPublicAccessBlock", "S3 CloudTrail docs"),
    ("s3", "DeletePublicAccessBlock"): ("DeleteBucketPublicAccessBlock", "S3 CloudTrail docs"),
    ("s3", "GetBucketAccelerateConfiguration"): ("GetAccelerateConfiguration", "real records"),
    ("s3", "PutBucketAccelerateConfiguration"): ("PutAccelerateConfiguration", "S3 docs"),
    ("s3", "GetObjectLockConfiguration"): ("GetBucketObjectLockConfiguration", "real records"),
    ("s3", "PutObjectLockConfiguration"): ("PutBucketObjectLockConfiguration", "S3 docs"),
    ("s3", "GetBucketLifecycleConfiguration"): ("GetBucketLifecycle", "real records"),
    ("s3", "PutBucketLifecycleConfiguration"): ("PutBucketLifecycle", "real records; S3 docs"),
    ("s3", "ListObjectsV2"): ("ListObjects", "S3 docs: list-type 2 in requestParameters"),
    ("s3control", "GetPublicAccessBlock"): ("GetAccountPublicAccessBlock", "real records"),
    ("s3control", "PutPublicAccessBlock"): ("PutAccountPublicAccessBlock", "S3 docs"),
    ("s3control", "DeletePublicAccessBlock"): ("DeleteAccountPublicAccessBlock", "S3 docs"),
}

# Services whose REST paths start with an API date, which CloudTrail appends to the eventName
# (`CreateFunction20150331`, `UpdateFunctionCode20150331v2`, `UpdateDistribution2014_01_31`).
# Not every call carries the suffix (`GetFunctionCodeSigningConfig`), so these match by prefix.
_DATED_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/")
PREFIX_MATCH_SERVICES = frozenset({"lambda", "cloudfront"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "li", "br", "ul", "ol", "note"}:
            self.parts.append(" ")


_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Inc|Corp|Ltd|No|approx)\.$", re.IGNORECASE)


def first_sentence(documentation: str) -> str:
    """Plain text of the first sentence of an operation's HTML documentation."""
    parser = _TextExtractor()
    parser.feed(documentation or "")
    parser.close()
    text = " ".join(html.unescape("".join(parser.parts)).split())
    for match in re.finditer(r"[.!?](?=\s+[A-Z(\"'])", text):
        head = text[: match.end()]
        if not _ABBREVIATIONS.search(head):
            return head
    return text


CliTable = dict[str, Any]


def _cli_tables() -> CliTable:
    """Read the AWS CLI's real command table. Runs in a child process (see `cli_tables`).

    Returns {"botocore": vendored version, "services": {boto3 service: {"word", "hidden",
    "known": [operations in the CLI's own models], "commands": {operation: [[word, hidden]]}}}}.
    """
    from awscli.clidriver import ServiceOperation, create_clidriver
    from botocore import __version__ as vendored_botocore
    from botocore import xform_name

    driver = create_clidriver()
    services: dict[str, Any] = {}
    for word, command in sorted(driver._get_command_table().items()):
        service = getattr(command, "_service_name", None)
        if service is None or not hasattr(command, "_get_command_table"):
            continue  # top-level customizations such as `configure`, `s3`, `history`
        if service in services and services[service]["word"] == service:
            continue  # prefer the word equal to the service name if several exist
        model = command._get_service_model()
        known = sorted(model.operation_names)
        commands: dict[str, list[list[Any]]] = {}
        for cmd_word, cmd in sorted(command._get_command_table().items()):
            hidden = bool(getattr(cmd, "_UNDOCUMENTED", False))
            if isinstance(cmd, ServiceOperation):
                op_name = cmd._operation_model.name
            else:
                # A hand-written command that replaced the generated one under the same word.
                op_name = next((o for o in known if xform_name(o, "-") == cmd_word), None)
                if op_name is None:
                    continue
            commands.setdefault(op_name, []).append([cmd_word, hidden])
        services[service] = {
            "word": word,
            "hidden": bool(getattr(command, "_UNDOCUMENTED", False)),
            "known": known,
            "commands": commands,
        }
    return {"botocore": vendored_botocore, "services": services}


def cli_tables() -> CliTable:
    """The CLI table, read in a child process.

    awscli 1.4x vendors an older botocore and, once imported, aliases `import botocore` to it;
    keeping it out of this process keeps the models we read those of the pinned botocore.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, capiche_build.catalog_gen as g; print(json.dumps(g._cli_tables()))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def cli_version() -> str:
    from importlib.metadata import version

    return version("awscli")


def generate_catalog() -> dict[str, Any]:
    """Build the catalog document from the installed (pinned) botocore and awscli."""
    import botocore
    import botocore.session
    from botocore import xform_name

    # Load every model before the CLI driver starts: its customizations touch botocore's
    # loader state, and afterwards some newer services are no longer listed.
    session = botocore.session.get_session()
    models = {name: session.get_service_model(name) for name in session.get_available_services()}
    cli = cli_tables()
    services: list[list[Any]] = []
    operations: list[list[Any]] = []
    for service, model in sorted(models.items()):
        signing = (model.signing_name or model.endpoint_prefix).lower()
        source = EVENT_SOURCE_OVERRIDES.get(service, (signing, ""))[0] + ".amazonaws.com"
        cli_service = cli["services"].get(service)
        service_index = len(services)
        # A service the pinned CLI does not know yet gets the word the CLI would derive.
        cli_word = cli_service["word"] if cli_service else service
        services.append(
            [service, model.metadata.get("serviceFullName", service), source, cli_word, signing]
        )
        known = set(cli_service["known"]) if cli_service else set()
        for name in sorted(model.operation_names):
            op = model.operation_model(name)
            flags = 0
            if name in known:
                commands = [tuple(c) for c in cli_service["commands"].get(name, [])]
            else:
                # Newer than the CLI's models: the CLI derives the command from the name.
                commands = [(xform_name(name, "-"), False)]
                flags |= FLAG_CLI_DERIVED
            if op.deprecated:
                flags |= FLAG_DEPRECATED
            hidden_service = bool(cli_service and cli_service["hidden"])
            if hidden_service or (commands and all(hidden for _, hidden in commands)):
                flags |= FLAG_CLI_HIDDEN
            event_name = EVENT_NAME_RENAMES.get((service, name), (name, ""))[0]
            uri = (op.http or {}).get("requestUri", "")
            prefix = service in PREFIX_MATCH_SERVICES and bool(_DATED_PATH.match(uri))
            operations.append(
                [
                    service_index,
                    name,
                    first_sentence(op.documentation),
                    xform_name(name),
                    [c for c, _ in commands],
                    event_name,
                    1 if prefix else 0,
                    flags,
                ]
            )
    _flag_ambiguous_prefixes(services, operations)
    return {
        "format": CATALOG_FORMAT,
        "botocore": botocore.__version__,
        "awscli": cli_version(),
        "awscli_botocore": cli["botocore"],
        "service_fields": ["service", "full_name", "event_source", "cli_service", "iam_prefix"],
        "operation_fields": [
            "service",
            "name",
            "description",
            "boto3",
            "cli_commands",
            "event_name",
            "prefix",
            "flags",
        ],
        "services": services,
        "operations": operations,
    }


def _flag_ambiguous_prefixes(services: list[list[Any]], operations: list[list[Any]]) -> None:
    """Mark prefix-matched names that another eventName of the same source starts with.

    `GetFunction` must not match `GetFunctionConfiguration20150331v2`: generators use an anchored
    regex instead of a plain prefix for these.
    """
    by_source: dict[str, list[str]] = {}
    for row in operations:
        by_source.setdefault(services[row[0]][2], []).append(row[5])
    for row in operations:
        if row[6]:
            name = row[5]
            if any(o != name and o.startswith(name) for o in by_source[services[row[0]][2]]):
                row[7] |= FLAG_PREFIX_AMBIGUOUS


def serialise(document: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, one operation per line."""
    lines = ["{"]
    head = {k: v for k, v in document.items() if k not in {"services", "operations"}}
    for key in sorted(head):
        lines.append(f"{json.dumps(key)}: {json.dumps(head[key], ensure_ascii=False)},")
    for key in ("services", "operations"):
        rows = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in document[key]]
        lines.append(
            f'"{key}": [\n' + ",\n".join(rows) + "\n]" + ("," if key == "services" else "")
        )
    lines.append("}\n")
    # Plain text, one operation per line: it loads faster than gzip (no inflate step) and a
    # catalog refresh shows up in review as a readable line diff.
    return "\n".join(lines).encode("utf-8")


def write_catalog(path: Path = DEFAULT_CATALOG_PATH) -> Path:
    data = serialise(generate_catalog())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
