"""Shared test helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A fixed subset of the shipped library: one-group, two-group and NOT conditions. Tests that copy
# it do not change when definitions are added to rules_src/.
SMALL_LIBRARY = (
    "persistence/iam_access_key_created.yml",
    "persistence/iam_user_backdoor_with_admin_policy.yml",
    "privilege_escalation/iam_role_policy_granted.yml",
)


def copy_small_library(target: Path) -> Path:
    """Copy SMALL_LIBRARY and its fixtures into `target` (a rules_src folder); returns it."""
    shutil.copytree(REPO / "rules_src" / "fixtures", target / "fixtures")
    for rel in SMALL_LIBRARY:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "rules_src" / rel, target / rel)
    return target
