"""Release bundles: reproducible tar.gz/zip archives of the built rules, and their verification.

A bundle is one top-level folder holding the rule files, `manifest.json` (versions, every file's
hash), `SHA256SUMS` (every file but itself, `sha256sum -c` format) and a changelog against the
previous bundle. The same inputs give byte-identical archives: sorted entries, one fixed mtime,
no owner names, fixed modes, gzip without name or time.

Reading is defensive because bundles come from elsewhere: any link, device, absolute or `..`
path, or duplicate name refuses the whole bundle, and nothing is extracted unless it verified.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import tarfile
import time
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capiche_build import __version__
from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.lock import Lock
from capiche_build.model import FORMATS

PREFIX = "capiche-rules"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHANGELOG_JSON = "CHANGELOG.json"
CHANGELOG_MD = "CHANGELOG.md"
BUNDLE_FORMAT = 1
MAX_BYTES = 256 * 1024 * 1024  # per bundle, decompressed: a rules bundle is a few MB at most
ZIP_EPOCH_MIN = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
ZIP_EPOCH_MAX = 4354819198  # 2107-12-31T23:59:58Z, the latest
VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
_SUMS_LINE = re.compile(r"([0-9a-f]{64})  (\S(?:.*\S)?)")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def source_date_epoch(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """SOURCE_DATE_EPOCH, else the last commit's time, else 0: never the clock."""
    env = os.environ if env is None else env
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    out = done.stdout.strip()
    return int(out) if done.returncode == 0 and out.isdigit() else 0


def check_version(version: str) -> str:
    if not VERSION_RE.fullmatch(version) or ".." in version:
        raise CapicheError(
            f"bundle version {version!r} must be letters, digits and . _ + - (e.g. 2026.12.0), "
            "at most 64 characters"
        )
    return version


# --- the build tree ---------------------------------------------------------------------------


def read_build_tree(build: Path) -> dict[str, bytes]:
    """The build folder's files; links are refused so nothing outside it is bundled."""
    if not build.is_dir():
        raise CapicheError(
            Diagnostic(file=str(build), message="no build folder", hint="run `capiche build`")
        )
    files: dict[str, bytes] = {}
    for path in sorted(build.rglob("*")):
        rel = path.relative_to(build).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise CapicheError(
                Diagnostic(file=str(path), message="not a regular file; refusing to bundle it")
            )
        if path.is_file():
            files[rel] = path.read_bytes()
    return files


def build_manifest(files: Mapping[str, bytes], origin: str = "build") -> dict[str, Any]:
    """The build's manifest, after checking the tree is exactly what it lists."""
    try:
        manifest = json.loads(files[MANIFEST])
        rules = manifest["rules"]
    except (KeyError, ValueError, TypeError) as err:
        raise CapicheError(
            Diagnostic(
                file=f"{origin}/{MANIFEST}", message=f"missing or unreadable build manifest ({err})"
            )
        ) from err
    problems: list[Diagnostic] = []
    listed = {MANIFEST}
    for rule in rules:
        for out in rule["outputs"]:
            listed.add(out["path"])
            data = files.get(out["path"])
            if data is None or sha256(data) != out["sha256"]:
                why = "is missing" if data is None else "does not match the build manifest"
                problems.append(
                    Diagnostic(file=f"{origin}/{out['path']}", message=f"built file {why}")
                )
    for rel in sorted(set(files) - listed):
        problems.append(Diagnostic(file=f"{origin}/{rel}", message="not produced by the build"))
    if problems:
        hint = "rebuild with `capiche build` (or bundle with --fresh)"
        raise CapicheError([*problems[:-1], dataclasses.replace(problems[-1], hint=hint)])
    return manifest


# --- contents ---------------------------------------------------------------------------------


def _rule_entries(manifest: Mapping[str, Any], lock: Lock, fmt: str | None) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    missing: list[Diagnostic] = []
    for rule in manifest["rules"]:
        locked = lock.rules.get(rule["id"])
        if locked is None:
            missing.append(
                Diagnostic(
                    message=f"rule {rule['name']} ({rule['id']}) is not in the lock",
                    hint="run `capiche lock`",
                )
            )
            continue
        outputs = [o for o in rule["outputs"] if fmt is None or o["format"] == fmt]
        if not outputs:
            continue
        entries.append(
            {
                "id": rule["id"],
                "name": rule["name"],
                "title": rule["title"],
                "level": rule["level"],
                "status": rule["status"],
                "version": locked.version,
                "formats": [o["format"] for o in outputs],
                "files": [
                    {"format": o["format"], "path": o["path"], "sha256": o["sha256"]}
                    for o in outputs
                ],
            }
        )
    if missing:
        raise CapicheError(missing)
    return sorted(entries, key=lambda e: e["name"])


def changelog(
    rules: Sequence[Mapping[str, Any]], lock: Lock, previous: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Per rule id what happened since `previous` (a bundle manifest; None: the first bundle)."""
    before = {r["id"]: r for r in (previous or {}).get("rules", [])}
    was_deprecated = {d["id"] for d in (previous or {}).get("deprecated", [])}
    changes: dict[str, dict[str, Any]] = {}
    for rule in rules:
        old = before.get(rule["id"])
        entry = {"name": rule["name"]}
        if old is None:
            changes[rule["id"]] = {**entry, "change": "added", "version": rule["version"]}
        elif old["version"] != rule["version"]:
            changes[rule["id"]] = {
                **entry,
                "change": "changed",
                "old_version": old["version"],
                "new_version": rule["version"],
            }
        elif _hashes(old) != _hashes(rule):
            # Same detection content, regenerated text (a generator or catalog update).
            changes[rule["id"]] = {**entry, "change": "rebuilt", "version": rule["version"]}
    current = {r["id"] for r in rules}
    for rid, record in lock.deprecated.items():
        if rid in current or rid in was_deprecated:
            continue
        changes[rid] = {
            "name": record.name,
            "change": "deprecated",
            "version": record.version,
            "reason": record.reason,
            "date": record.date,
        }
    for rid, old in before.items():
        if rid not in current and rid not in changes:
            changes[rid] = {"name": old["name"], "change": "removed", "version": old["version"]}
    return dict(sorted(changes.items()))


def _hashes(rule: Mapping[str, Any]) -> dict[str, str]:
    return {f["path"]: f["sha256"] for f in rule.get("files", [])}


_SECTIONS = (
    ("added", "Added"),
    ("changed", "Changed"),
    ("rebuilt", "Rebuilt (same detection, regenerated text)"),
    ("deprecated", "Deprecated"),
    ("removed", "Removed"),
)


def changelog_markdown(
    title: str, previous: str | None, changes: Mapping[str, Mapping[str, Any]]
) -> str:
    lines = [f"# {title}", ""]
    lines.append(
        f"Changes since {previous}." if previous else "First bundle: no previous bundle given."
    )
    for kind, heading in _SECTIONS:
        items = sorted((c["name"], rid, c) for rid, c in changes.items() if c["change"] == kind)
        if not items:
            continue
        lines += ["", f"## {heading}", ""]
        for name, rid, c in items:
            if kind == "changed":
                text = f"v{c['old_version']} -> v{c['new_version']}"
            elif kind == "deprecated":
                text = f"v{c['version']}, {c['date']}: {c['reason']}"
            else:
                text = f"v{c['version']}"
            lines.append(f"- `{name}` ({text}) `{rid}`")
    if not changes:
        lines += ["", "No rule changed."]
    return "\n".join(lines) + "\n"


def bundle_files(
    built: Mapping[str, bytes],
    lock: Lock,
    version: str,
    previous: Mapping[str, Any] | None = None,
    fmt: str | None = None,
) -> dict[str, bytes]:
    """Everything inside one bundle (paths relative to its top folder). Pure."""
    manifest_in = build_manifest(built)
    rules = _rule_entries(manifest_in, lock, fmt)
    files: dict[str, bytes] = {f["path"]: built[f["path"]] for r in rules for f in r["files"]}
    prev_rules = None
    if previous is not None:
        # Judge a per-format bundle only by the rules the previous bundle had in that format.
        kept = [r for r in previous.get("rules", []) if fmt is None or fmt in r.get("formats", [])]
        prev_rules = {**previous, "rules": kept}
    changes = changelog(rules, lock, prev_rules)
    previous_version = (previous or {}).get("bundle", {}).get("version")
    title = f"{PREFIX} {version}" + (f" ({fmt})" if fmt else "")
    files[CHANGELOG_JSON] = _json_bytes(
        {"version": version, "previous": previous_version, "changes": changes}
    )
    files[CHANGELOG_MD] = changelog_markdown(title, previous_version, changes).encode()
    deprecated = [
        {"id": rid, "name": d.name, "version": d.version, "reason": d.reason, "date": d.date}
        for rid, d in sorted(lock.deprecated.items(), key=lambda item: item[1].name)
    ]
    manifest = {
        "bundle": {
            "name": PREFIX,
            "version": version,
            "format": fmt or "all",
            "layout": BUNDLE_FORMAT,
        },
        "tool": {"name": "capiche-build", "version": __version__},
        "catalog": manifest_in.get("catalog", {}),
        "rules": rules,
        "deprecated": deprecated,
        "files": {path: sha256(data) for path, data in sorted(files.items())},
    }
    files[MANIFEST] = _json_bytes(manifest)
    files[SUMS] = "".join(
        f"{sha256(data)}  {path}\n" for path, data in sorted(files.items())
    ).encode()
    return dict(sorted(files.items()))


# --- archives ---------------------------------------------------------------------------------


def _entries(root: str, files: Mapping[str, bytes]) -> list[tuple[str, bytes | None]]:
    """(archive name, data or None for a folder), folders first, everything sorted."""
    folders = {root}
    for path in files:
        parts = path.split("/")[:-1]
        folders.update("/".join([root, *parts[:i]]) for i in range(1, len(parts) + 1))
    items: list[tuple[str, bytes | None]] = [(f"{d}/", None) for d in folders]
    items += [(f"{root}/{p}", data) for p, data in files.items()]
    return sorted(items, key=lambda item: item[0])


def tar_gz_bytes(root: str, files: Mapping[str, bytes], mtime: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in _entries(root, files):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.mode, info.size = 0o644, len(data)
                tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything run-specific.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def zip_bytes(root: str, files: Mapping[str, bytes], mtime: int) -> bytes:
    stamp = time.gmtime(min(max(mtime, ZIP_EPOCH_MIN), ZIP_EPOCH_MAX))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in _entries(root, files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3  # unix, so external_attr carries the mode
            if data is None:
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=9)
    return out.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def make_bundles(
    built: Mapping[str, bytes],
    lock: Lock,
    version: str,
    out_dir: Path,
    mtime: int,
    previous: Mapping[str, Any] | None = None,
) -> list[Path]:
    """The full bundle and one per format present, as .tar.gz and .zip each."""
    check_version(version)
    formats = {o["format"] for r in build_manifest(built)["rules"] for o in r["outputs"]}
    stems: list[tuple[str, str | None]] = [(f"{PREFIX}-{version}", None)]
    stems += [(f"{PREFIX}-{version}-{f}", f) for f in FORMATS if f in formats]
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, fmt in stems:
        files = bundle_files(built, lock, version, previous, fmt)
        for suffix, maker in ((".tar.gz", tar_gz_bytes), (".zip", zip_bytes)):
            path = out_dir / f"{stem}{suffix}"
            _write_atomic(path, maker(stem, files, mtime))
            written.append(path)
    return written


# --- reading safely ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A bundle read into memory: its top folder and files (paths relative to it)."""

    path: str
    root: str
    files: Mapping[str, bytes]

    def where(self, rel: str) -> str:
        return f"{self.root}/{rel}"


def _name_problem(name: str) -> str | None:
    path = name[:-1] if name.endswith("/") else name
    if not path or path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        return "absolute path"
    if "\\" in path or "\x00" in path:
        return "backslash or NUL in the name"
    parts = path.split("/")
    if ".." in parts:
        return "`..` component"
    if any(p in ("", ".") for p in parts):
        return "empty or `.` component"
    return None


def _tar_members(
    data: bytes, origin: str
) -> tuple[list[tuple[str, bytes | None]], list[Diagnostic]]:
    members: list[tuple[str, bytes | None]] = []
    problems: list[Diagnostic] = []
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for info in tar:
            if info.isdir():
                members.append((info.name.rstrip("/") + "/", None))
            elif info.isreg():
                total += info.size
                if total > MAX_BYTES:
                    problems.append(
                        Diagnostic(file=origin, message="bundle too large once decompressed")
                    )
                    break
                handle = tar.extractfile(info)
                members.append((info.name, handle.read() if handle else b""))
            else:
                kind = (
                    "symlink"
                    if info.issym()
                    else "hardlink"
                    if info.islnk()
                    else "device or special file"
                )
                problems.append(
                    Diagnostic(
                        file=f"{origin}:{info.name}", message=f"{kind} in the bundle; refusing it"
                    )
                )
    return members, problems


def _zip_members(
    data: bytes, origin: str
) -> tuple[list[tuple[str, bytes | None]], list[Diagnostic]]:
    members: list[tuple[str, bytes | None]] = []
    problems: list[Diagnostic] = []
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            kind = stat.S_IFMT(mode)
            if info.is_dir():
                members.append((info.filename, None))
                continue
            if kind not in (0, stat.S_IFREG):
                what = "symlink" if kind == stat.S_IFLNK else "device or special file"
                problems.append(
                    Diagnostic(
                        file=f"{origin}:{info.filename}",
                        message=f"{what} in the bundle; refusing it",
                    )
                )
                continue
            with archive.open(info) as handle:
                content = handle.read(MAX_BYTES - total + 1)
            total += len(content)
            if total > MAX_BYTES:
                problems.append(
                    Diagnostic(file=origin, message="bundle too large once decompressed")
                )
                break
            members.append((info.filename, content))
    return members, problems


def read_bundle(path: str | Path) -> tuple[Bundle | None, list[Diagnostic]]:
    """The bundle's files, or None and why it is unsafe or unreadable. Extracts nothing."""
    origin = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return None, [Diagnostic(file=origin, message=f"cannot read: {err}")]
    try:
        if data[:2] == b"\x1f\x8b":
            members, problems = _tar_members(data, origin)
        elif data[:4] == b"PK\x03\x04":
            members, problems = _zip_members(data, origin)
        else:
            return None, [Diagnostic(file=origin, message="neither a .tar.gz nor a .zip bundle")]
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
        return None, [Diagnostic(file=origin, message=f"corrupt archive: {err}")]
    problems += _layout_problems(members, origin)
    if problems:
        return None, problems
    root = members[0][0].split("/", 1)[0]
    files = {name.split("/", 1)[1]: content for name, content in members if content is not None}
    return Bundle(origin, root, files), []


def _layout_problems(members: Sequence[tuple[str, bytes | None]], origin: str) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {}
    roots: set[str] = set()
    files: set[str] = set()
    for name, content in members:
        why = _name_problem(name)
        if why:
            problems.append(
                Diagnostic(
                    file=f"{origin}:{name}", message=f"unsafe entry ({why}); refusing the bundle"
                )
            )
            continue
        path = name.rstrip("/")
        key = path.casefold()  # two names one case-insensitive disk would merge are duplicates too
        if key in seen:
            problems.append(
                Diagnostic(file=f"{origin}:{name}", message=f"duplicate entry (also {seen[key]!r})")
            )
            continue
        seen[key] = name
        roots.add(path.split("/", 1)[0])
        if content is not None:
            files.add(path)
            if "/" not in path:
                problems.append(
                    Diagnostic(
                        file=f"{origin}:{name}", message="file outside the bundle's top folder"
                    )
                )
    for path in sorted(files):
        parents = path.split("/")[:-1]
        for i in range(1, len(parents) + 1):
            if "/".join(parents[:i]) in files:
                problems.append(
                    Diagnostic(file=f"{origin}:{path}", message="a file is also used as a folder")
                )
    if len(roots) > 1:
        problems.append(
            Diagnostic(file=origin, message=f"more than one top folder: {', '.join(sorted(roots))}")
        )
    if not files and not problems:
        problems.append(Diagnostic(file=origin, message="empty bundle"))
    return problems


# --- verification -----------------------------------------------------------------------------


def _parse_sums(bundle: Bundle) -> tuple[dict[str, str], list[Diagnostic]]:
    where = bundle.where(SUMS)
    if SUMS not in bundle.files:
        return {}, [Diagnostic(file=where, message="missing")]
    sums: dict[str, str] = {}
    problems: list[Diagnostic] = []
    try:
        text = bundle.files[SUMS].decode("utf-8")
    except UnicodeDecodeError:
        return {}, [Diagnostic(file=where, message="not UTF-8")]
    lines = text.split("\n")
    if lines[-1] != "":
        problems.append(Diagnostic(file=where, line=len(lines), message="missing final newline"))
    for number, line in enumerate(lines[:-1], 1):
        found = _SUMS_LINE.fullmatch(line)
        if not found:
            problems.append(
                Diagnostic(file=where, line=number, message="not a `<sha256>  <path>` line")
            )
        elif found[2] in sums:
            problems.append(Diagnostic(file=where, line=number, message=f"lists {found[2]} twice"))
        else:
            sums[found[2]] = found[1]
    if list(sums) != sorted(sums):
        problems.append(Diagnostic(file=where, message="lines are not sorted by path"))
    return sums, problems


def _read_manifest(
    bundle: Bundle, sums: Mapping[str, str]
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    where = bundle.where(MANIFEST)
    data = bundle.files.get(MANIFEST)
    if data is None:
        return None, [Diagnostic(file=where, message="missing")]
    problems: list[Diagnostic] = []
    if sums.get(MANIFEST) != sha256(data):
        problems.append(
            Diagnostic(
                file=where,
                message="does not match its SHA256SUMS line: manifest.json or SHA256SUMS was altered",
            )
        )
    try:
        manifest = json.loads(data)
        if not isinstance(manifest.get("files"), dict) or not isinstance(
            manifest.get("rules"), list
        ):
            raise ValueError("no files/rules")
    except (ValueError, AttributeError) as err:
        return None, [*problems, Diagnostic(file=where, message=f"not a bundle manifest ({err})")]
    return (None if problems else manifest), problems


def integrity_problems(bundle: Bundle) -> list[Diagnostic]:
    """Every SHA256SUMS line holds, and SHA256SUMS and the manifest list exactly the files present.

    A mismatch is blamed on the file unless the manifest, itself verified, agrees with the file:
    then the SHA256SUMS line is what was altered.
    """
    sums, problems = _parse_sums(bundle)
    manifest, found = _read_manifest(bundle, sums)
    problems += found
    present = set(bundle.files) - {SUMS}
    for rel in sorted(present - set(sums)):
        problems.append(Diagnostic(file=bundle.where(rel), message="not listed in SHA256SUMS"))
    for rel in sorted(set(sums) - present):
        problems.append(
            Diagnostic(file=bundle.where(SUMS), message=f"lists {rel}, which is not in the bundle")
        )
    listed: dict[str, str] = manifest["files"] if manifest else {}
    if manifest is not None:
        for rel in sorted(present - set(listed) - {MANIFEST}):
            problems.append(
                Diagnostic(file=bundle.where(rel), message="not listed in manifest.json")
            )
        for rel in sorted(set(listed) - present):
            problems.append(
                Diagnostic(
                    file=bundle.where(MANIFEST), message=f"lists {rel}, which is not in the bundle"
                )
            )
        problems += _rule_listing_problems(bundle, manifest)
    for rel in sorted((present & set(sums)) - {MANIFEST}):
        actual = sha256(bundle.files[rel])
        if actual == sums[rel]:
            continue
        if listed.get(rel) == actual:
            problems.append(
                Diagnostic(
                    file=bundle.where(SUMS),
                    message=f"its line for {rel} does not match the file, which manifest.json confirms: SHA256SUMS was altered",
                )
            )
        else:
            problems.append(
                Diagnostic(
                    file=bundle.where(rel),
                    message="content does not match SHA256SUMS: altered or corrupt",
                )
            )
    return problems


def _rule_listing_problems(bundle: Bundle, manifest: Mapping[str, Any]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for rule in manifest["rules"]:
        for item in rule.get("files", []):
            if (
                manifest["files"].get(item.get("path")) != item.get("sha256")
                or item.get("format") not in FORMATS
            ):
                problems.append(
                    Diagnostic(
                        file=bundle.where(MANIFEST),
                        message=f"rule {rule.get('name')}: file entry {item.get('path')} disagrees with the file list",
                    )
                )
    return problems


def engine_problems(bundle: Bundle, manifest: Mapping[str, Any]) -> list[Diagnostic]:
    """Every rule through the engine installed here: YARA (both), Sigma, YARA-L, query parsers."""
    from capiche_build.engines.query import QuerySyntaxError, parse_dork, parse_vtgrep
    from capiche_build.engines.sigma import validate_sigma_files
    from capiche_build.engines.yara import check_yara_sources
    from capiche_build.yaral.checker import check_yaral

    by_format: dict[str, dict[str, str]] = {f: {} for f in FORMATS}
    problems: list[Diagnostic] = []
    for rule in manifest["rules"]:
        for item in rule["files"]:
            where = bundle.where(item["path"])
            try:
                by_format[item["format"]][where] = bundle.files[item["path"]].decode("utf-8")
            except UnicodeDecodeError:
                problems.append(Diagnostic(file=where, message="not UTF-8"))
    problems += check_yara_sources(sorted(by_format["yara"].items()))
    if by_format["sigma"]:
        problems += validate_sigma_files(by_format["sigma"])
    for where, text in sorted(by_format["yaral"].items()):
        problems += check_yaral(text, where)
    for fmt, parse in (("vtgrep", parse_vtgrep), ("dork", parse_dork)):
        for where, text in sorted(by_format[fmt].items()):
            for number, line in enumerate(text.splitlines(), 1):
                try:
                    parse(line)
                except QuerySyntaxError as err:
                    problems.append(
                        Diagnostic(file=where, line=number, message=str(err), engine=fmt)
                    )
    return problems


def verify_bundle(path: str | Path, engines: bool = True) -> tuple[Bundle | None, list[Diagnostic]]:
    """The bundle and its problems; only error-severity problems make it fail."""
    bundle, problems = read_bundle(path)
    if bundle is None:
        return None, problems
    problems = integrity_problems(bundle)
    if not problems and engines:
        manifest = json.loads(bundle.files[MANIFEST])
        problems = engine_problems(bundle, manifest)
    return bundle, problems


def failed(problems: Sequence[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in problems)


def read_previous(path: str | Path) -> dict[str, Any]:
    """The manifest of an earlier bundle, checked for integrity (engines need not agree today)."""
    bundle, problems = verify_bundle(path, engines=False)
    if bundle is None or failed(problems):
        raise CapicheError(
            [*problems, Diagnostic(file=str(path), message="the previous bundle does not verify")]
        )
    return json.loads(bundle.files[MANIFEST])


# --- extraction -------------------------------------------------------------------------------


def _open_new_file(path: Path) -> int:
    flags = (
        os.O_WRONLY
        | os.O_CREAT
        | os.O_EXCL
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_BINARY", 0)
    )
    return os.open(path, flags, 0o644)


def unpack_bundle(path: str | Path, dest: Path) -> list[Path]:
    """Verify, then write the verified bytes into a new `dest/<top folder>/`; never overwrites.

    Names were already checked (no absolute or `..` paths, no links); each folder is also
    checked not to be a link on disk, and files are created with O_EXCL|O_NOFOLLOW.
    """
    bundle, problems = verify_bundle(path)
    if bundle is None or failed(problems):
        raise CapicheError(
            [
                *problems,
                Diagnostic(file=str(path), message="bundle does not verify; nothing extracted"),
            ]
        )
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()
    top = base / bundle.root
    if os.path.lexists(top):
        raise CapicheError(Diagnostic(file=str(top), message="already exists; not overwriting it"))
    targets = {rel: top / rel for rel in bundle.files}
    written: list[Path] = []
    for rel, target in sorted(targets.items()):
        if base not in target.parents:  # unreachable after the name checks; kept as the last guard
            raise CapicheError(Diagnostic(file=rel, message="would be written outside the folder"))
        folder = base
        for part in [bundle.root, *rel.split("/")[:-1]]:
            folder = folder / part
            if not os.path.lexists(folder):
                folder.mkdir(mode=0o755)
            if folder.is_symlink() or not folder.is_dir():
                raise CapicheError(
                    Diagnostic(
                        file=str(folder), message="not a plain folder; refusing to write into it"
                    )
                )
        fd = _open_new_file(target)
        with os.fdopen(fd, "wb") as handle:
            handle.write(bundle.files[rel])
        written.append(target)
    return written
