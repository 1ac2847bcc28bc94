"""`capiche check` as a new user meets it: real engines, messages that say where and what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capiche_build.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
REPO = Path(__file__).resolve().parent.parent


def test_shipped_library_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO / "rules_src" / "persistence")]) == 0
    out = capsys.readouterr().out
    assert "0 error(s)" in out


def test_a_test_case_that_should_match_names_file_line_and_engines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = FIXTURES / "failing" / "test_should_match.yml"
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "ListUsers" in text)
    assert f"test_should_match.yml:{line}: error: tests.cloudtrail.match[0] should match" in err
    assert "every engine disagrees" in err and "sigma" in err and "yaral" in err
    assert "fix the groups or the test case" in err


def test_missing_test_cases_follow_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURES / "failing" / "missing_tests.yml")]) == 1
    err = capsys.readouterr().err
    assert "missing test case(s): tests.code.match, tests.code.no_match" in err
    assert "require-code-tests" in err


def test_policy_can_relax_the_requirement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(FIXTURES / "failing" / "missing_tests.yml", tmp_path / "missing_tests.yml")
    (tmp_path / "pyproject.toml").write_text("[tool.capiche]\nrequire-code-tests = false\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "missing_tests.yml"]) == 0


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "failing" / "test_should_match.yml"
    assert main(["check", str(path), "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "ListUsers" in text)
    assert any(
        row.startswith("::error file=")
        and f"test_should_match.yml,line={line}," in row
        and "should match" in row
        for row in lines
    )


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURES / "failing"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    by_name = {r["name"]: r for r in report["rules"]}
    assert by_name["failing_test_case"]["tests_failed"] == 1
    assert by_name["missing_tests"]["ok"] is False


def test_rule_files_given_directly_go_through_the_same_engines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rules = FIXTURES / "rules"
    assert main(["check", *(str(p) for p in sorted(rules.iterdir()))]) == 1
    err = capsys.readouterr().err
    assert "broken.yar" in err and "yara" in err
    assert "aws_cloudtrail_bad_field.yml" in err and "eventsource" in err
    assert "conditions.yaral" in err and "condition:" in err
    assert "good.yar" not in err


def test_generated_rule_files_check_clean(capsys: pytest.CaptureFixture[str]) -> None:
    build = REPO / "build"
    files = [
        *sorted((build / "yara").glob("*.yar"))[:5],
        *sorted((build / "sigma").glob("*.yml"))[:5],
        *sorted((build / "yaral").glob("*.yaral"))[:5],
    ]
    assert main(["check", *map(str, files)]) == 0, capsys.readouterr().err


def test_a_new_starter_definition_passes_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "s3_bucket_made_public", "--dir", "rules_src"]) == 0
    assert main(["check", "rules_src"]) == 0, capsys.readouterr().err
