"""The content-hash build cache: skipped work never changes the output."""

from __future__ import annotations

from pathlib import Path

from conftest import SMALL_LIBRARY, copy_small_library

from capiche_build.build import read_tree, run_build
from capiche_build.catalog import load_catalog

RULES = SMALL_LIBRARY


def _sources(root: Path) -> Path:
    return copy_small_library(root / "rules_src")


def test_cache_reuses_unchanged_definitions_and_output_is_identical(tmp_path: Path) -> None:
    catalog = load_catalog()
    src, cache = _sources(tmp_path), tmp_path / "cache"
    uncached = run_build([src], tmp_path / "plain", catalog=catalog)
    first = run_build([src], tmp_path / "out", catalog=catalog, cache_dir=cache)
    assert first.rebuilt == len(RULES)
    second = run_build([src], tmp_path / "out", catalog=catalog, cache_dir=cache)
    assert second.rebuilt == 0
    assert first.files == second.files == uncached.files
    assert read_tree(tmp_path / "out") == uncached.files

    target = src / RULES[0]
    target.write_text(target.read_text().replace("level: medium", "level: high"))
    third = run_build([src], tmp_path / "out", catalog=catalog, cache_dir=cache)
    assert third.rebuilt == 1
    assert b'level = "high"' in third.files["yara/iam_access_key_created.yar"]


def test_damaged_cache_entries_are_rebuilt(tmp_path: Path) -> None:
    catalog = load_catalog()
    src, cache = _sources(tmp_path), tmp_path / "cache"
    first = run_build([src], tmp_path / "out", catalog=catalog, cache_dir=cache)
    for entry in cache.glob("*.json"):
        entry.write_text("{not json")
    again = run_build([src], tmp_path / "out", catalog=catalog, cache_dir=cache)
    assert again.rebuilt == len(RULES)
    assert again.files == first.files
