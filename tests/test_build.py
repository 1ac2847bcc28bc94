"""`capiche build`: reproducible output, a truthful manifest, no drift from the committed build/,
and an output folder that is replaced whole or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from capiche_build.build import (
    MANIFEST,
    build_cached,
    read_tree,
    recover,
    run_build,
    sha256,
    write_tree,
)
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.definitions import load_definitions
from capiche_build.diagnostics import CapicheError
from capiche_build.targets import yara as yara_target

REPO = Path(__file__).resolve().parent.parent
RULES_SRC = REPO / "rules_src"
COMMITTED = REPO / "build"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    # Manifest `source` paths are shown relative to the working directory, as `capiche build`
    # is run from the repository root.
    monkeypatch.chdir(REPO)


def leftovers(parent: Path) -> list[str]:
    """Staging or backup folders a build may leave next to its output."""
    return sorted(
        p.name for p in parent.iterdir() if p.name.startswith(".") or ".previous" in p.name
    )


# --- reproducibility and the manifest -----------------------------------------------------------


def test_two_builds_are_byte_identical(catalog: Catalog, tmp_path: Path, in_repo: None) -> None:
    first = run_build(["rules_src"], tmp_path / "one", catalog=catalog)
    second = run_build(["rules_src"], tmp_path / "two", catalog=catalog)
    cache = tmp_path / "cache"
    cold = run_build(["rules_src"], tmp_path / "three", catalog=catalog, cache_dir=cache)
    warm = run_build(["rules_src"], tmp_path / "four", catalog=catalog, cache_dir=cache)
    assert cold.rebuilt == len(cold.entries) and warm.rebuilt == 0
    trees = [read_tree(tmp_path / n) for n in ("one", "two", "three", "four")]
    assert trees[0] == first.files == second.files
    assert all(tree == trees[0] for tree in trees[1:])


def test_manifest_describes_every_output(catalog: Catalog, tmp_path: Path, in_repo: None) -> None:
    run_build(["rules_src"], tmp_path / "out", catalog=catalog)
    tree = read_tree(tmp_path / "out")
    manifest = json.loads(tree[MANIFEST])
    assert manifest["catalog"] == {"botocore": "1.44.8", "awscli": "1.46.3"}
    sources = {s.name: s for s in load_definitions([RULES_SRC])}
    entries = manifest["rules"]
    assert [e["name"] for e in entries] == sorted(sources)
    listed: set[str] = set()
    for entry in entries:
        src = sources[entry["name"]]
        assert entry["id"] == src.id == str(uuid.UUID(entry["id"]))
        assert entry["apis"] == sorted(entry["apis"]) and entry["apis"]
        in_groups = {api for apis in entry["groups"].values() for api in apis}
        assert set(entry["apis"]) == in_groups
        assert set(entry["groups"]) == {g.name for g in src.groups}
        assert {o["format"] for o in entry["outputs"]} == set(src.formats)
        for output in entry["outputs"]:
            assert output["path"] in tree, output
            assert sha256(tree[output["path"]]) == output["sha256"]
            listed.add(output["path"])
    assert set(tree) == listed | {MANIFEST}  # nothing unlisted in the folder
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == len(ids)


def test_committed_build_matches_a_fresh_build(catalog: Catalog, in_repo: None) -> None:
    """Drift check: someone edited rules_src/ or a generator without rebuilding build/."""
    fresh = build_cached(["rules_src"], catalog).files
    committed = read_tree(COMMITTED)
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    changed = sorted(p for p in set(fresh) & set(committed) if fresh[p] != committed[p])
    assert (missing, extra, changed) == ([], [], []), "run `capiche build` and commit build/"


# --- atomic replacement -------------------------------------------------------------------------


def _previous_build(catalog: Catalog, out: Path) -> dict[str, bytes]:
    run_build([RULES_SRC], out, catalog=catalog)
    before = read_tree(out)
    assert len(before) > 5
    return before


def test_a_generator_failing_midway_leaves_the_previous_tree(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "build"
    before = _previous_build(catalog, out)
    calls: list[str] = []
    real_render = yara_target.render

    def flaky(rule: Any) -> str:
        calls.append(rule.name)
        if len(calls) == 2:
            raise RuntimeError("generator crashed on the second rule")
        return real_render(rule)

    monkeypatch.setattr(yara_target, "render", flaky)
    with pytest.raises(RuntimeError, match="second rule"):
        run_build([RULES_SRC], out, catalog=catalog)
    assert len(calls) == 2
    assert read_tree(out) == before
    assert leftovers(tmp_path) == []

    monkeypatch.setattr(yara_target, "render", real_render)
    run_build([RULES_SRC], out, catalog=catalog)
    assert read_tree(out) == before


@pytest.mark.parametrize("fail_after", [0, 3, 10])
def test_a_write_failing_midway_leaves_the_previous_tree(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_after: int
) -> None:
    out = tmp_path / "build"
    before = _previous_build(catalog, out)
    new_files = {path: data + b"\n// changed\n" for path, data in before.items()}
    written: list[Path] = []
    real_write = Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:  # type: ignore[override]
        if len(written) >= fail_after:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_tree(out, new_files)
    monkeypatch.setattr(Path, "write_bytes", real_write)
    assert len(written) == fail_after
    assert read_tree(out) == before
    assert leftovers(tmp_path) == []

    write_tree(out, new_files)
    assert read_tree(out) == new_files
    assert leftovers(tmp_path) == []


def test_write_tree_replaces_exactly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {"a/one.txt": b"1", "b/two.txt": b"2"})
    write_tree(out, {"a/three.txt": b"3"})
    assert read_tree(out) == {"a/three.txt": b"3"}  # stale files do not survive
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "bad", ["../escaped.txt", "a/../../escaped.txt", "/tmp/capiche-escaped.txt"]
)
def test_output_paths_cannot_escape_the_folder(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "out"
    write_tree(out, {"keep.txt": b"keep"})
    with pytest.raises(CapicheError, match="escapes the build folder"):
        write_tree(out, {"fine.txt": b"x", bad: b"evil"})
    assert read_tree(out) == {"keep.txt": b"keep"}
    assert not (tmp_path / "escaped.txt").exists()
    assert leftovers(tmp_path) == []


def test_recover_finishes_an_interrupted_swap(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backup = tmp_path / "out.previous"
    write_tree(backup, {"old.txt": b"old"})  # crash after `out` was moved aside
    recover(out.resolve())
    assert read_tree(out) == {"old.txt": b"old"} and not backup.exists()


def test_stale_staging_of_a_dead_build_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".out.{pid}.abc123.staging"
    (stale / "yara").mkdir(parents=True)
    (stale / "yara" / "half.yar").write_bytes(b"rule half")
    write_tree(tmp_path / "out", {"x.txt": b"x"})
    assert not stale.exists()
    assert leftovers(tmp_path) == []


def test_a_failed_build_reports_and_keeps_the_tree(catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "build"
    before = _previous_build(catalog, out)
    broken = tmp_path / "src"
    broken.mkdir()
    text = (RULES_SRC / "persistence" / "iam_access_key_created.yml").read_text(encoding="utf-8")
    (broken / "rule.yml").write_text(
        text.replace("CreateAccessKey|", "CreateAcessKey("), encoding="utf-8"
    )
    with pytest.raises(CapicheError):
        run_build([broken], out, catalog=catalog)
    assert read_tree(out) == before
    assert leftovers(tmp_path) == []
