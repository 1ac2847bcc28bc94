"""How CloudTrail record fields appear in Google SecOps UDM.

One table shared by the YARA-L generator and the YARA-L evaluator, so a rule and its test run
agree by construction. The mapping follows Google's published CloudTrail rules (see
docs/decisions.md, "YARA-L field mapping").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VENDOR_NAME = "AMAZON"
PRODUCT_NAME = "AWS CloudTrail"

# CloudTrail dotted path -> UDM field path (without the event variable).
CLOUDTRAIL_TO_UDM: Mapping[str, str] = {
    "eventName": "metadata.product_event_type",
    "eventSource": "target.application",
    "userAgent": "network.http.user_agent",
    "sourceIPAddress": "principal.ip",
    "userIdentity.arn": "principal.user.userid",
    "awsRegion": "principal.location.name",
    "recipientAccountId": 'additional.fields["recipientAccountId"]',
}


def _lookup(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def cloudtrail_to_udm(record: Mapping[str, Any]) -> dict[str, str]:
    """Flatten one CloudTrail record into the UDM fields our YARA-L rules read."""
    udm = {
        "metadata.vendor_name": VENDOR_NAME,
        "metadata.product_name": PRODUCT_NAME,
    }
    for ct_path, udm_path in CLOUDTRAIL_TO_UDM.items():
        value = _lookup(record, ct_path)
        if value is not None:
            udm[udm_path] = str(value)
    if "errorCode" not in record:
        udm["security_result.action"] = "ALLOW"
    else:
        udm["security_result.action"] = "BLOCK"
    return udm
