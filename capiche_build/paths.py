"""Where the shipped data lives: one answer for every module that reads `data/`."""

from __future__ import annotations

import os
from pathlib import Path

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# CAPICHE_DATA_DIR points an installation that has no checkout beside it at a copy of `data/`.
DATA_DIR = Path(os.environ.get("CAPICHE_DATA_DIR") or REPO_DATA_DIR)
