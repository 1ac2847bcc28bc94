"""A synthetic library of definitions drawn from the catalog, for scale tests and benchmarks."""

from __future__ import annotations

import json
import random
import re
import uuid
from pathlib import Path

from capiche_build.catalog import Catalog


def write_library(catalog: Catalog, folder: Path, count: int, seed: int = 11) -> list[Path]:
    """`count` definitions with one to three groups, mixing explicit APIs and name regexes."""
    rng = random.Random(seed)
    ops = [op for op in catalog if op.cli_commands]
    verbs = sorted(
        {
            re.match(r"[A-Z][a-z]+", op.name).group(0)
            for op in ops
            if re.match(r"[A-Z][a-z]+", op.name)
        }
    )
    services = sorted({op.service for op in ops})
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        groups = {}
        for g in range(rng.randint(1, 3)):
            if rng.random() < 0.5:
                picks = rng.sample(ops, rng.randint(1, 6))
                groups[f"g{g}"] = {"apis": sorted({op.api for op in picks})}
            else:
                service = rng.choice(services)
                verb = rng.choice(verbs)
                candidates = [op for op in ops if op.service == service]
                if not any(op.name.startswith(verb) for op in candidates):
                    verb = re.match(r"[A-Z][a-z]+", candidates[0].name).group(0)
                groups[f"g{g}"] = {"name": f"^{re.escape(service)}:{verb}"}
        doc = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "name": f"synthetic_{index:04d}",
            "title": f"Synthetic Rule {index}",
            "description": "A synthetic definition generated for scale measurements.",
            "author": "capiche-build",
            "date": "2026-12-04",
            "status": "experimental",
            "level": "low",
            "tags": ["attack.discovery"],
            "falsepositives": ["Synthetic"],
            "groups": groups,
            "condition": " and ".join(groups) if rng.random() < 0.5 else " or ".join(groups),
        }
        path = folder / f"synthetic_{index:04d}.yml"
        path.write_text(json.dumps(doc, indent=1))  # JSON is YAML
        paths.append(path)
    return paths
