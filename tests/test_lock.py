"""The rule version lock: content hashing, updating, and the problems `capiche check` reports."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from conftest import SMALL_LIBRARY, copy_small_library

from capiche_build.build import resolve_all
from capiche_build.catalog import Catalog, load_catalog
from capiche_build.cli import main
from capiche_build.definitions import find_definitions
from capiche_build.diagnostics import CapicheError
from capiche_build.lock import (
    LOCK_NAME,
    Lock,
    content_hash,
    lock_problems,
    parse_lock,
    read_lock,
    update_lock,
    write_lock,
)
from capiche_build.model import ResolvedRule

RULES = SMALL_LIBRARY
KEY = "persistence/iam_access_key_created.yml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return copy_small_library(tmp_path / "rules_src")


def _rules(catalog: Catalog, src: Path) -> list[ResolvedRule]:
    return resolve_all(catalog, [src])


def _locked(catalog: Catalog, src: Path) -> tuple[Lock, list[ResolvedRule]]:
    rules = _rules(catalog, src)
    lock, changes = update_lock(Lock(), rules)
    assert [c.kind for c in changes] == ["added"] * len(RULES)
    write_lock(src / LOCK_NAME, lock)
    return lock, rules


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_new_lock_starts_every_rule_at_one_and_is_deterministic(
    catalog: Catalog, src: Path
) -> None:
    lock, rules = _locked(catalog, src)
    assert {e.version for e in lock.rules.values()} == {1}
    text = (src / LOCK_NAME).read_text(encoding="utf-8")
    assert text == lock.to_json() and list(json.loads(text)["rules"]) == sorted(lock.rules)
    assert lock_problems(rules, src / LOCK_NAME) == []
    again, changes = update_lock(read_lock(src / LOCK_NAME), rules)
    assert changes == [] and again.to_json() == text


def test_lock_file_is_not_a_definition(catalog: Catalog, src: Path) -> None:
    _locked(catalog, src)
    assert (src / LOCK_NAME).exists()
    assert all(p.suffix in {".yml", ".yaml"} for p in find_definitions([src]))
    assert len(_rules(catalog, src)) == len(RULES)


def test_formatting_only_change_keeps_the_version(catalog: Catalog, src: Path) -> None:
    lock, rules = _locked(catalog, src)
    path = src / KEY
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Keys reordered, a different indent and flow style, extra whitespace in the folded texts.
    data["description"] = "  " + data["description"].replace(" ", "   \n ") + "\n"
    data["condition"] = f"  {data['condition']}  "
    path.write_text(
        yaml.safe_dump(dict(sorted(data.items())), indent=4, width=40), encoding="utf-8"
    )
    after = _rules(catalog, src)
    assert [content_hash(r) for r in after] == [content_hash(r) for r in rules]
    assert lock_problems(after, src / LOCK_NAME) == []
    assert update_lock(lock, after)[1] == []


def test_title_change_requires_exactly_one_more_version(catalog: Catalog, src: Path) -> None:
    lock, _ = _locked(catalog, src)
    _edit(src / KEY, title="IAM Credentials Created")
    rules = _rules(catalog, src)
    problems = lock_problems(rules, src / LOCK_NAME)
    assert len(problems) == 1 and "changed" in problems[0].message
    assert problems[0].file.endswith(KEY) and "v2" in problems[0].hint

    bumped, changes = update_lock(lock, rules)
    assert [(c.kind, c.name, c.old_version, c.new_version) for c in changes] == [
        ("changed", "iam_access_key_created", 1, 2)
    ]
    assert lock_problems(rules, bumped, base=lock) == []

    rid = next(r.source.id for r in rules if r.name == "iam_access_key_created")
    skipped = dataclasses.replace(bumped.rules[rid], version=3)
    jumped = Lock({**bumped.rules, rid: skipped}, bumped.deprecated)
    problems = lock_problems(rules, jumped, base=lock)
    assert len(problems) == 1 and "must be v2" in problems[0].message
    stale = Lock({**bumped.rules, rid: dataclasses.replace(skipped, version=1)}, {})
    assert "must be v2" in lock_problems(rules, stale, base=lock)[0].message


def test_disappeared_rule_needs_a_deprecation(catalog: Catalog, src: Path) -> None:
    lock, _ = _locked(catalog, src)
    (src / KEY).unlink()
    rules = _rules(catalog, src)
    problems = lock_problems(rules, src / LOCK_NAME)
    assert len(problems) == 1 and "disappeared without being deprecated" in problems[0].message
    assert "--deprecate iam_access_key_created" in problems[0].hint
    with pytest.raises(CapicheError, match="disappeared"):
        update_lock(lock, rules)

    retired, changes = update_lock(lock, rules, {"iam_access_key_created": "merged"}, "2026-12-05")
    assert [(c.kind, c.name) for c in changes] == [("deprecated", "iam_access_key_created")]
    (record,) = retired.deprecated.values()
    assert (record.name, record.version, record.reason, record.date) == (
        "iam_access_key_created",
        1,
        "merged",
        "2026-12-05",
    )
    assert lock_problems(rules, retired, base=lock) == []
    # The record stays on later updates, and dropping it is reported against the base.
    assert update_lock(retired, rules)[0].deprecated == retired.deprecated
    assert "dropped" in lock_problems(rules, Lock(retired.rules, {}), base=retired)[0].message


def test_deprecating_a_defined_rule_is_refused(catalog: Catalog, src: Path) -> None:
    lock, rules = _locked(catalog, src)
    with pytest.raises(CapicheError, match="still defined"):
        update_lock(lock, rules, {"iam_access_key_created": "no"}, "2026-12-05")


def test_rule_missing_from_the_lock_is_reported(catalog: Catalog, src: Path) -> None:
    rules = _rules(catalog, src)
    partial, _ = update_lock(Lock(), rules[1:])
    problems = lock_problems(rules, partial)
    assert len(problems) == 1 and "missing from" in problems[0].message
    assert "no rule lock" in lock_problems(rules, src / "absent.json")[0].message


def test_duplicate_ids_are_reported(catalog: Catalog, src: Path) -> None:
    lock, rules = _locked(catalog, src)
    twin = dataclasses.replace(
        rules[1], source=dataclasses.replace(rules[1].source, id=rules[0].source.id)
    )
    problems = lock_problems([*rules, twin], lock)
    assert any("duplicate id" in d.message for d in problems)

    rid = next(iter(lock.rules))
    entry = json.dumps(dataclasses.asdict(lock.rules[rid]))
    text = (src / LOCK_NAME).read_text(encoding="utf-8")
    doubled = text.replace(f'"{rid}": {{', f'"{rid}": {entry}, "{rid}": {{', 1)
    problems = parse_lock(doubled)[1]
    assert any(f"duplicate key {rid!r}" in d.message for d in problems)


def test_cli_lock_check_and_deprecate(
    catalog: Catalog, src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", str(src)]) == 0
    assert "added" in capsys.readouterr().out
    assert main(["lock", str(src), "--check"]) == 0
    (src / KEY).unlink()
    assert main(["lock", str(src), "--check"]) == 1
    assert "disappeared" in capsys.readouterr().err
    assert main(["lock", str(src)]) == 2  # refused: silently dropping a rule
    retire = ["--deprecate", "iam_access_key_created", "--reason", "merged", "--date", "2026-12-05"]
    assert main(["lock", str(src), *retire]) == 0
    assert "deprecated  iam_access_key_created" in capsys.readouterr().out
    assert main(["lock", str(src), "--check"]) == 0
    deprecated = json.loads((src / LOCK_NAME).read_text(encoding="utf-8"))["deprecated"]
    assert [d["date"] for d in deprecated.values()] == ["2026-12-05"]
