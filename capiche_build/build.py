"""`capiche build`: definitions -> resolved rules -> files under build/, written atomically."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capiche_build.catalog import Catalog, load_catalog
from capiche_build.definitions import load_definitions
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import ResolvedRule
from capiche_build.selectors import resolve_rule
from capiche_build.targets import Output, render_rule

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuiltRule:
    rule: ResolvedRule
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class BuildResult:
    rules: tuple[BuiltRule, ...]
    files: dict[str, bytes]  # relative path -> content, manifest included

    def summary_rows(self) -> list[list[str]]:
        rows = []
        for built in self.rules:
            groups = ", ".join(f"{g.name}:{len(g.operations)}" for g in built.rule.groups)
            rows.append(
                [
                    built.rule.name,
                    groups,
                    ",".join(o.format for o in built.outputs),
                    "; ".join(n for o in built.outputs for n in o.notes),
                ]
            )
        return rows


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve_all(
    catalog: Catalog, paths: Sequence[str | Path], root: Path | None = None
) -> list[ResolvedRule]:
    sources = load_definitions(paths, root)
    rules: list[ResolvedRule] = []
    problems: list[Diagnostic] = []
    for source in sources:
        try:
            rules.append(resolve_rule(catalog, source))
        except CapicheError as err:
            problems.extend(err.diagnostics)
    if problems:
        raise CapicheError(problems)
    return rules


def manifest_entry(built: BuiltRule) -> dict[str, Any]:
    src = built.rule.source
    return {
        "id": src.id,
        "name": src.name,
        "source": src.path,
        "title": src.title,
        "level": src.level,
        "status": src.status,
        "tags": list(src.tags),
        "condition": src.condition_text,
        "groups": {g.name: [op.api for op in g.operations] for g in built.rule.groups},
        "apis": list(built.rule.apis),
        "outputs": [
            {"format": o.format, "path": o.path, "sha256": sha256(o.text.encode("utf-8"))}
            for o in built.outputs
        ],
        "notes": [n for o in built.outputs for n in o.notes],
    }


def build_files(
    rules: Sequence[ResolvedRule],
    catalog: Catalog,
    formats: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Render every rule; pure apart from the progress callback."""
    built: list[BuiltRule] = []
    files: dict[str, bytes] = {}
    problems: list[Diagnostic] = []
    for index, rule in enumerate(sorted(rules, key=lambda r: r.name), 1):
        try:
            outputs = tuple(render_rule(rule, formats))
        except CapicheError as err:
            problems.extend(err.diagnostics)
            continue
        except ValueError as err:  # escaping refused a text (e.g. a quote in a dork phrase)
            problems.append(Diagnostic(file=rule.source.path, message=str(err)))
            continue
        built.append(BuiltRule(rule, outputs))
        for out in outputs:
            files[out.path] = out.text.encode("utf-8")
        if progress:
            progress(index, len(rules))
    if problems:
        raise CapicheError(problems)
    manifest = {
        "catalog": {"botocore": catalog.botocore_version, "awscli": catalog.awscli_version},
        "rules": [manifest_entry(b) for b in built],
    }
    files[MANIFEST] = (
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()
    return BuildResult(tuple(built), files)


def run_build(
    sources: Sequence[str | Path] = ("rules_src",),
    out_dir: str | Path = "build",
    formats: tuple[str, ...] | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    catalog = catalog or load_catalog()
    rules = resolve_all(catalog, sources)
    result = build_files(rules, catalog, formats, progress)
    write_tree(Path(out_dir), result.files)
    return result


# --- atomic tree replacement ------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def recover(out_dir: Path) -> None:
    """Finish a swap that an interruption left half done (fallback path only)."""
    backup = out_dir.with_name(out_dir.name + ".previous")
    if not out_dir.exists() and backup.exists():
        backup.rename(out_dir)
    elif backup.exists():
        shutil.rmtree(backup)


def write_tree(out_dir: Path, files: dict[str, bytes]) -> None:
    """Replace `out_dir` with exactly `files`; readers see the old tree or the new, never half."""
    out_dir = out_dir.resolve()
    recover(out_dir)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
        for rel, data in sorted(files.items()):
            target = (staging / rel).resolve()
            if staging.resolve() not in target.parents:
                raise CapicheError(
                    Diagnostic(message=f"output path {rel!r} escapes the build folder")
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        if out_dir.exists() and _exchange(staging, out_dir):
            shutil.rmtree(staging)  # now holds the previous tree
            return
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".previous")
            out_dir.rename(backup)
            staging.rename(out_dir)
            shutil.rmtree(backup)
        else:
            staging.rename(out_dir)
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        raise


def read_tree(out_dir: Path) -> dict[str, bytes]:
    if not out_dir.exists():
        return {}
    return {
        p.relative_to(out_dir).as_posix(): p.read_bytes()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file()
    }
