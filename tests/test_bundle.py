"""Release bundles: reproducible archives, verification, safe unpacking, changelogs."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import SMALL_LIBRARY, copy_small_library

from capiche_build.build import resolve_all, run_build
from capiche_build.bundle import (
    MANIFEST,
    SUMS,
    changelog,
    failed,
    make_bundles,
    read_build_tree,
    read_bundle,
    sha256,
    tar_gz_bytes,
    unpack_bundle,
    verify_bundle,
    zip_bytes,
)
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.cli import main
from capiche_build.diagnostics import CapicheError
from capiche_build.lock import LOCK_NAME, Lock, read_lock, update_lock, write_lock

REPO = Path(__file__).resolve().parents[1]
RULES = SMALL_LIBRARY
EPOCH = 1764806400  # 2025-12-04


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _project(root: Path, catalog: Catalog) -> tuple[Path, Path]:
    """A copy of some definitions, built and locked: (rules_src, build)."""
    src = root / "rules_src"
    copy_small_library(src)
    build = root / "build"
    run_build(sources=[src], out_dir=build, catalog=catalog)
    write_lock(src / LOCK_NAME, update_lock(Lock(), resolve_all(catalog, [src]))[0])
    return src, build


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """dist/ with version 1.0.0 of the bundles (shared: tests must not modify it)."""
    root = tmp_path_factory.mktemp("released")
    src, build = _project(root, catalog)
    make_bundles(read_build_tree(build), read_lock(src / LOCK_NAME), "1.0.0", root / "dist", EPOCH)
    return root / "dist"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_runs_give_byte_identical_archives(
    tmp_path: Path, catalog: Catalog, released: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, build = _project(tmp_path, catalog)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    common = ["bundle", "--version", "1.0.0", "--build", str(build), "--lock", str(src / LOCK_NAME)]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    assert main([*common, "--out", str(tmp_path / "b")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "capiche-rules-1.0.0.tar.gz" in names and "capiche-rules-1.0.0.zip" in names
    assert {
        f"capiche-rules-1.0.0-{f}.tar.gz" for f in ("yara", "sigma", "yaral", "vtgrep", "dork")
    } <= set(names)
    for name in names:
        assert _digest(tmp_path / "a" / name) == _digest(tmp_path / "b" / name), name
        # Another checkout built separately (the module fixture) gives the same bytes too.
        assert _digest(tmp_path / "a" / name) == _digest(released / name), name


def test_archive_entries_are_normalised(released: Path) -> None:
    with tarfile.open(released / "capiche-rules-1.0.0.tar.gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(EPOCH, 0, 0, "", "")}
    assert {m.mode for m in members if m.isdir()} == {0o755}
    assert {m.mode for m in members if m.isfile()} == {0o644}
    raw = (released / "capiche-rules-1.0.0.tar.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 0x08  # gzip: no mtime, no file name
    with zipfile.ZipFile(released / "capiche-rules-1.0.0.zip") as archive:
        infos = archive.infolist()
    assert {i.date_time for i in infos} == {(2025, 12, 4, 0, 0, 0)}
    assert {i.compress_type for i in infos if not i.is_dir()} == {zipfile.ZIP_DEFLATED}


def test_bundle_content_verifies_and_sums_are_sha256sum_format(released: Path) -> None:
    for path in sorted(released.iterdir()):
        bundle, problems = verify_bundle(path)
        assert bundle is not None and problems == [], (path.name, problems)
    bundle, _ = read_bundle(released / "capiche-rules-1.0.0-yara.tar.gz")
    assert bundle is not None and bundle.root == "capiche-rules-1.0.0-yara"
    manifest = json.loads(bundle.files[MANIFEST])
    assert manifest["bundle"] == {
        "name": "capiche-rules",
        "version": "1.0.0",
        "format": "yara",
        "layout": 1,
    }
    assert {r["version"] for r in manifest["rules"]} == {1}
    assert all(p.startswith("yara/") for p in manifest["files"] if "/" in p)
    lines = bundle.files[SUMS].decode().splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    for line in lines:
        digest, name = line.split("  ", 1)
        assert sha256(bundle.files[name]) == digest


def _repack(path: Path, out: Path, member: str, offset: int | None = None) -> Path:
    """The bundle at `path` with one byte of `member` flipped, written in the same format."""
    bundle, _ = read_bundle(path)
    assert bundle is not None
    data = bytearray(bundle.files[member])
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    files = {**bundle.files, member: bytes(data)}
    maker = tar_gz_bytes if path.name.endswith(".tar.gz") else zip_bytes
    out.write_bytes(maker(bundle.root, files, EPOCH))
    return out


TAMPERED = [
    ("yara/iam_access_key_created.yar", None),
    ("sigma/aws_cloudtrail_iam_role_policy_granted.yml", None),
    ("yaral/iam_user_backdoor_with_admin_policy.yaral", None),
    ("dork/iam_access_key_created.txt", 0),
    (MANIFEST, None),
    ("CHANGELOG.md", None),
    (SUMS, 0),  # a digit of a hash
    (SUMS, None),
]


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
@pytest.mark.parametrize(("member", "offset"), TAMPERED)
def test_any_flipped_byte_fails_verify_naming_the_file(
    released: Path, tmp_path: Path, suffix: str, member: str, offset: int | None
) -> None:
    name = f"capiche-rules-1.0.0{suffix}"
    tampered = _repack(released / name, tmp_path / name, member, offset)
    _, problems = verify_bundle(tampered)
    assert failed(problems)
    assert any(d.file == f"capiche-rules-1.0.0/{member}" for d in problems), problems
    assert main(["verify", str(tampered)]) == 1
    with pytest.raises(CapicheError):
        unpack_bundle(tampered, tmp_path / "out")
    assert not (tmp_path / "out" / "capiche-rules-1.0.0").exists()


def test_corrupt_archive_bytes_fail_cleanly(released: Path, tmp_path: Path) -> None:
    for name in ("capiche-rules-1.0.0.tar.gz", "capiche-rules-1.0.0.zip"):
        raw = bytearray((released / name).read_bytes())
        raw[len(raw) // 3] ^= 0xFF
        (tmp_path / name).write_bytes(bytes(raw))
        _, problems = verify_bundle(tmp_path / name)
        assert failed(problems), name


def test_resealed_but_broken_rule_fails_its_engine(released: Path, tmp_path: Path) -> None:
    bundle, _ = read_bundle(released / "capiche-rules-1.0.0.zip")
    assert bundle is not None
    files = dict(bundle.files)
    rel = "yara/iam_access_key_created.yar"
    files[rel] = files[rel].replace(b"condition:", b"condition: (")
    # Reseal: the manifest and SHA256SUMS agree with the broken file, so only the engine objects.
    manifest = json.loads(files[MANIFEST])
    manifest["files"][rel] = sha256(files[rel])
    for rule in manifest["rules"]:
        for item in rule["files"]:
            item["sha256"] = manifest["files"][item["path"]]
    files[MANIFEST] = json.dumps(manifest).encode()
    files[SUMS] = "".join(
        f"{sha256(d)}  {p}\n" for p, d in sorted(files.items()) if p != SUMS
    ).encode()
    path = tmp_path / "resealed.zip"
    path.write_bytes(zip_bytes(bundle.root, files, EPOCH))
    _, problems = verify_bundle(path, engines=False)
    assert problems == []
    _, problems = verify_bundle(path)
    assert failed(problems) and {d.file for d in problems} == {f"{bundle.root}/{rel}"}


def _evil_tar(path: Path, kind: str) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        ok = tarfile.TarInfo("b/manifest.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        info = tarfile.TarInfo(
            {"dotdot": "b/../../evil", "absolute": "/tmp/evil"}.get(kind, "b/evil")
        )
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, "b/manifest.json"
        elif kind == "device":
            info.type = tarfile.CHRTYPE
        elif kind == "duplicate":
            info.name = "b/manifest.json"
        if info.isreg():
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
        else:
            tar.addfile(info)
    path.write_bytes(raw.getvalue())
    return path


def _evil_zip(path: Path, kind: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("b/manifest.json", b"{}")
        if kind == "symlink":
            info = zipfile.ZipInfo("b/evil")
            info.create_system, info.external_attr = 3, 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
        elif kind == "duplicate":
            archive.writestr("b/MANIFEST.json", b"{}")
        else:
            archive.writestr({"dotdot": "b/../../evil", "absolute": "/tmp/evil"}[kind], b"{}")
    return path


@pytest.mark.parametrize(
    ("maker", "kind"),
    [
        (_evil_tar, "dotdot"),
        (_evil_tar, "absolute"),
        (_evil_tar, "symlink"),
        (_evil_tar, "hardlink"),
        (_evil_tar, "device"),
        (_evil_tar, "duplicate"),
        (_evil_zip, "dotdot"),
        (_evil_zip, "absolute"),
        (_evil_zip, "symlink"),
        (_evil_zip, "duplicate"),
    ],
)
def test_unsafe_entries_are_refused(tmp_path: Path, maker, kind: str) -> None:  # type: ignore[no-untyped-def]
    path = maker(tmp_path / f"evil-{kind}.bundle", kind)
    bundle, problems = verify_bundle(path)
    assert bundle is None and failed(problems)
    assert main(["verify", str(path)]) == 1
    dest = tmp_path / "a" / "b" / "dest"
    assert main(["unpack", str(path), str(dest)]) == 1
    # Verification failed first, so nothing at all was written, not even the destination.
    assert [p.name for p in tmp_path.rglob("*")] == [path.name]
    assert not (tmp_path.parent / "evil").exists()


def test_unpack_writes_the_verified_files_and_never_overwrites(
    released: Path, tmp_path: Path
) -> None:
    path = released / "capiche-rules-1.0.0-sigma.tar.gz"
    written = unpack_bundle(path, tmp_path / "out")
    top = tmp_path / "out" / "capiche-rules-1.0.0-sigma"
    assert all(top in p.parents for p in written)
    sums = (top / SUMS).read_text().splitlines()
    assert len(written) == len(sums) + 1
    for line in sums:
        digest, name = line.split("  ", 1)
        assert _digest(top / name) == digest
    assert main(["unpack", str(path), str(tmp_path / "out")]) == 1


def test_changelog_against_the_previous_bundle(
    released: Path, tmp_path: Path, catalog: Catalog
) -> None:
    src, _ = _project(tmp_path, catalog)
    lock = read_lock(src / LOCK_NAME)
    # changed: a new title; deprecated: a deleted rule; removed: one the lock was never told about.
    key = src / "persistence/iam_access_key_created.yml"
    key.write_text(key.read_text().replace("title: IAM Access Key", "title: IAM Key"))
    (src / "privilege_escalation/iam_role_policy_granted.yml").unlink()
    (src / "persistence/iam_user_backdoor_with_admin_policy.yml").unlink()
    new = src / "persistence/iam_user_created_again.yml"
    new.write_text(
        (REPO / "rules_src" / "persistence/iam_access_key_created.yml")
        .read_text()
        .replace("3f6c1d2e-8a41-4c7b-9d0e-5b2a7c9e1f30", "00000000-0000-4000-8000-000000000001")
        .replace("name: iam_access_key_created", "name: iam_user_created_again")
    )
    run_build(sources=[src], out_dir=tmp_path / "build", catalog=catalog)
    rules = resolve_all(catalog, [src])
    backdoor = next(
        rid for rid, e in lock.rules.items() if e.name == "iam_user_backdoor_with_admin_policy"
    )
    kept = Lock({rid: e for rid, e in lock.rules.items() if rid != backdoor}, {})
    lock2, _ = update_lock(kept, rules, {"iam_role_policy_granted": "superseded"}, "2026-12-05")
    write_lock(src / LOCK_NAME, lock2)

    argv = [
        "bundle",
        "--version",
        "1.1.0",
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(tmp_path / "dist"),
    ]
    previous = released / "capiche-rules-1.0.0.tar.gz"
    assert main([*argv, "--lock", str(src / LOCK_NAME), "--previous", str(previous)]) == 0
    bundle, problems = verify_bundle(tmp_path / "dist" / "capiche-rules-1.1.0.zip")
    assert bundle is not None and problems == []
    log = json.loads(bundle.files["CHANGELOG.json"])
    assert log["version"] == "1.1.0" and log["previous"] == "1.0.0"
    by_name = {c["name"]: c for c in log["changes"].values()}
    assert by_name["iam_user_created_again"] == {
        "name": "iam_user_created_again",
        "change": "added",
        "version": 1,
    }
    assert by_name["iam_access_key_created"]["change"] == "changed"
    assert (
        by_name["iam_access_key_created"]["old_version"],
        by_name["iam_access_key_created"]["new_version"],
    ) == (1, 2)
    assert by_name["iam_role_policy_granted"]["change"] == "deprecated"
    assert by_name["iam_role_policy_granted"]["reason"] == "superseded"
    assert by_name["iam_user_backdoor_with_admin_policy"]["change"] == "removed"
    assert backdoor in log["changes"]
    text = bundle.files["CHANGELOG.md"].decode()
    for heading in ("## Added", "## Changed", "## Deprecated", "## Removed", "v1 -> v2"):
        assert heading in text


def test_changelog_is_pure_and_reports_rebuilt_rules() -> None:
    rule = {"id": "x", "name": "r", "version": 3, "files": [{"path": "yara/r.yar", "sha256": "a"}]}
    previous = {"rules": [{**rule, "files": [{"path": "yara/r.yar", "sha256": "b"}]}]}
    assert changelog([rule], Lock(), previous) == {
        "x": {"name": "r", "change": "rebuilt", "version": 3}
    }
    assert changelog([rule], Lock(), {"rules": [rule]}) == {}
