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
from functools import lru_cache
from pathlib import Path
from typing import Any

from capiche_build import __version__
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.definitions import (
    display_path,
    duplicate_problems,
    find_definitions,
    load_definitions,
    parse_definition,
)
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.model import ResolvedRule
from capiche_build.selectors import resolve_rule
from capiche_build.targets import Output, render_rule

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuildResult:
    entries: tuple[dict[str, Any], ...]  # manifest entries, sorted by rule name
    files: dict[str, bytes]  # relative path -> content, manifest included
    rebuilt: int = 0  # definitions rendered this run (the rest came from the cache)

    def summary_rows(self) -> list[list[str]]:
        return [
            [
                entry["name"],
                ", ".join(f"{g}:{len(apis)}" for g, apis in entry["groups"].items()),
                ",".join(o["format"] for o in entry["outputs"]),
                "; ".join(entry["notes"]),
            ]
            for entry in self.entries
        ]


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


def manifest_entry(rule: ResolvedRule, outputs: Sequence[Output]) -> dict[str, Any]:
    src = rule.source
    return {
        "id": src.id,
        "name": src.name,
        "source": src.path,
        "title": src.title,
        "level": src.level,
        "status": src.status,
        "tags": list(src.tags),
        "condition": src.condition_text,
        "groups": {g.name: [op.api for op in g.operations] for g in rule.groups},
        "apis": list(rule.apis),
        "outputs": [
            {"format": o.format, "path": o.path, "sha256": sha256(o.text.encode("utf-8"))}
            for o in outputs
        ],
        "notes": [n for o in outputs for n in o.notes],
    }


def _render(rule: ResolvedRule, formats: tuple[str, ...] | None) -> list[Output]:
    try:
        return render_rule(rule, formats)
    except ValueError as err:  # escaping refused a text (e.g. a quote in a dork phrase)
        raise CapicheError(Diagnostic(file=rule.source.path, message=str(err))) from err


def _assemble(
    entries: list[dict[str, Any]], texts: dict[str, str], catalog: Catalog
) -> BuildResult:
    entries = sorted(entries, key=lambda e: e["name"])
    files = {path: texts[path].encode("utf-8") for path in sorted(texts)}
    manifest = {
        "catalog": {"botocore": catalog.botocore_version, "awscli": catalog.awscli_version},
        "rules": entries,
    }
    files[MANIFEST] = (
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()
    return BuildResult(tuple(entries), files)


def build_files(
    rules: Sequence[ResolvedRule],
    catalog: Catalog,
    formats: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Render resolved rules (no cache); pure apart from the progress callback."""
    entries: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for index, rule in enumerate(sorted(rules, key=lambda r: r.name), 1):
        try:
            outputs = _render(rule, formats)
        except CapicheError as err:
            problems.extend(err.diagnostics)
            continue
        entries.append(manifest_entry(rule, outputs))
        texts.update((o.path, o.text) for o in outputs)
        if progress:
            progress(index, len(rules))
    if problems:
        raise CapicheError(problems)
    result = _assemble(entries, texts, catalog)
    return BuildResult(result.entries, result.files, len(entries))


# --- content-hash cache -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """Hash of the package's own code: a cached rendering is only valid for the same generators."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_key(catalog: Catalog, shown: str, text: bytes, formats: tuple[str, ...] | None) -> str:
    parts = [generator_fingerprint(), catalog.digest, shown, ",".join(formats or ()), ""]
    return sha256("\0".join(parts).encode() + text)


def build_cached(
    sources: Sequence[str | Path],
    catalog: Catalog,
    formats: tuple[str, ...] | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Like resolve_all + build_files, but definitions whose text, catalog and generator code are
    unchanged reuse their cached outputs: a no-change rebuild reads files and hashes them."""
    if cache_dir is None or not catalog.digest:
        return build_files(resolve_all(catalog, sources), catalog, formats, progress)
    paths = find_definitions(sources)
    entries: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    problems: list[Diagnostic] = []
    ids: list[tuple[str, str, str, int | None, int | None]] = []
    rebuilt = 0
    for index, path in enumerate(paths, 1):
        shown = display_path(path)
        try:
            raw = path.read_bytes()
        except OSError as err:
            problems.append(Diagnostic(file=shown, message=f"cannot read: {err}"))
            continue
        slot = cache_dir / f"{_cache_key(catalog, shown, raw, formats)}.json"
        cached = _read_cache(slot)
        if cached is None:
            try:
                source = parse_definition(raw.decode("utf-8"), shown, path.parent)
                rule = resolve_rule(catalog, source)
                outputs = _render(rule, formats)
            except CapicheError as err:
                problems.extend(err.diagnostics)
                continue
            except UnicodeDecodeError as err:
                problems.append(Diagnostic(file=shown, message=f"not UTF-8: {err}"))
                continue
            cached = {
                "entry": manifest_entry(rule, outputs),
                "texts": {o.path: o.text for o in outputs},
                "lines": [source.line_of("id"), source.line_of("name")],
            }
            _write_cache(slot, cached)
            rebuilt += 1
        entry = cached["entry"]
        entries.append(entry)
        texts.update(cached["texts"])
        ids.append((shown, entry["id"], entry["name"], *cached["lines"]))
        if progress:
            progress(index, len(paths))
    problems += duplicate_problems(ids)
    if problems:
        raise CapicheError(problems)
    result = _assemble(entries, texts, catalog)
    return BuildResult(result.entries, result.files, rebuilt)


def _read_cache(slot: Path) -> dict[str, Any] | None:
    try:
        return json.loads(slot.read_bytes())
    except (OSError, ValueError):
        return None  # a missing or damaged entry is rebuilt


def _write_cache(slot: Path, value: dict[str, Any]) -> None:
    try:
        slot.parent.mkdir(parents=True, exist_ok=True)
        tmp = slot.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(slot)
    except OSError:
        pass  # the cache only saves time; a read-only checkout still builds


DEFAULT_CACHE = Path(".capiche-cache")


def run_build(
    sources: Sequence[str | Path] = ("rules_src",),
    out_dir: str | Path = "build",
    formats: tuple[str, ...] | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: Path | None = None,
) -> BuildResult:
    catalog = catalog or load_catalog()
    result = build_cached(sources, catalog, formats, cache_dir, progress)
    out = Path(out_dir)
    if read_tree(out) != result.files:  # an unchanged tree is left alone
        write_tree(out, result.files)
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
    """Finish a swap an interruption left half done, and drop staging trees of dead builds."""
    backup = out_dir.with_name(out_dir.name + ".previous")
    if not out_dir.exists() and backup.exists():
        backup.rename(out_dir)
    elif backup.exists():
        shutil.rmtree(backup)
    for stale in out_dir.parent.glob(f".{out_dir.name}.*.staging"):
        pid = stale.name.split(".")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_tree(out_dir: Path, files: dict[str, bytes]) -> None:
    """Replace `out_dir` with exactly `files`; readers see the old tree or the new, never half."""
    out_dir = out_dir.resolve()
    recover(out_dir)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{out_dir.name}.{os.getpid()}.", suffix=".staging", dir=parent)
    )
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
