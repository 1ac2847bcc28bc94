"""check_yara, check_yara_files and scan_yara against the real engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from capiche_build.diagnostics import CapicheError, Diagnostic
from capiche_build.engines.yara import (
    YARA_PYTHON,
    YARA_X,
    check_yara,
    check_yara_files,
    scan_yara,
)

CLEAN = """\
rule aws_iam_create_user {
  meta:
    description = "boto3 CreateUser"
  strings:
    $a = "create_user"
    $b = "CreateUser"
  condition:
    any of ($a, $b)
}
"""


def _by_engine(diagnostics: list[Diagnostic]) -> dict[str, Diagnostic]:
    found: dict[str, Diagnostic] = {}
    for d in diagnostics:
        found.setdefault(d.engine, d)
    return found


# (source, yara-python line, yara-x line, yara-x column, text in the yara-x message)
# libyara's line is where its parser noticed the problem, which can be past the mistake.
MISTAKES = {
    "any of without parentheses": (
        'rule r {\n  strings:\n    $g1 = "abcdef"\n    $g2 = "ghijkl"\n  condition:\n    any of $g*\n}\n',
        6,
        6,
        12,
        "E001",
    ),
    "duplicate string id": (
        'rule r {\n  strings:\n    $x = "abcdef"\n    $x = "ghijkl"\n  condition:\n    all of them\n}\n',
        4,
        4,
        5,
        "E023",
    ),
    "unreferenced string": (
        'rule r {\n  strings:\n    $x = "abcdef"\n    $y = "ghijkl"\n  condition:\n    $x\n}\n',
        7,
        4,
        5,
        "E022",
    ),
    "unescaped quote": (
        'rule r {\n  strings:\n    $x = "ab"cdef"\n  condition:\n    $x\n}\n',
        4,
        3,
        14,
        "E001",
    ),
    "raw newline in string": (
        'rule r {\n  strings:\n    $x = "abc\ndef"\n  condition:\n    $x\n}\n',
        4,
        3,
        10,
        "unclosed literal string",
    ),
    "C:\\Windows escape": (
        'rule r {\n  strings:\n    $x = "C:\\Windows"\n  condition:\n    $x\n}\n',
        3,
        3,
        13,
        "E029",
    ),
    "\\u escape": (
        'rule r {\n  strings:\n    $x = "ab\\u0041cd"\n  condition:\n    $x\n}\n',
        3,
        3,
        13,
        "E029",
    ),
    "one-character string is slow": (
        'rule r {\n  strings:\n    $x = "a"\n  condition:\n    $x\n}\n',
        3,
        3,
        5,
        "E018",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_classic_mistakes_are_located_by_both_engines(name: str) -> None:
    source, python_line, x_line, x_column, x_text = MISTAKES[name]
    found = _by_engine(check_yara(source, origin="rules/r.yar"))
    assert set(found) == {YARA_PYTHON, YARA_X}
    assert found[YARA_PYTHON].line == python_line
    assert found[YARA_PYTHON].file == "rules/r.yar"
    x = found[YARA_X]
    assert (x.file, x.line, x.column) == ("rules/r.yar", x_line, x_column)
    assert x_text in x.message
    assert all(d.severity == "error" for d in found.values())


def test_hints_explain_the_fix() -> None:
    source = MISTAKES["any of without parentheses"][0]
    for d in check_yara(source):
        assert "any of ($group*)" in d.hint
    python = _by_engine(check_yara(MISTAKES["C:\\Windows escape"][0]))[YARA_PYTHON]
    assert "unexpected end of file" in python.message and "C:\\Windows" in python.hint


def test_yara_x_warnings_count_as_errors() -> None:
    # yara-x warns that the condition is always true; libyara accepts it silently.
    found = check_yara("rule r { condition: true }\n", origin="t.yar")
    assert [d.engine for d in found] == [YARA_X]
    assert "invariant_expr" in found[0].message and found[0].severity == "error"


def test_overlong_rule_name_fails_only_on_libyara() -> None:
    found = check_yara(f"rule {'a' * 129} {{ condition: filesize > 0 }}\n")
    assert [d.engine for d in found] == [YARA_PYTHON]


def test_several_warnings_are_all_reported() -> None:
    source = 'rule r {\n  strings:\n    $a = "a"\n    $b = "b"\n  condition:\n    $a and $b\n}\n'
    python = [d for d in check_yara(source) if d.engine == YARA_PYTHON]
    assert [d.line for d in python] == [3, 4]


def test_clean_rule_passes() -> None:
    assert check_yara(CLEAN, origin="clean.yar") == []


def test_duplicate_rule_names_across_files(tmp_path: Path) -> None:
    first = tmp_path / "a.yar"
    second = tmp_path / "b.yar"
    first.write_text(CLEAN)
    second.write_text('rule other { strings: $z = "zzzzzz" condition: $z }\n\n' + CLEAN)
    assert check_yara_files([first]) == []
    assert check_yara_files([second]) == []
    found = _by_engine(check_yara_files([first, second]))
    assert set(found) == {YARA_PYTHON, YARA_X}
    for d in found.values():
        # Reported in the second file at its own line 3, not the joined source's line.
        assert (d.file, d.line) == (str(second), 3)
    assert found[YARA_X].column == 6
    assert str(first) in found[YARA_X].hint


def test_files_with_own_errors_are_left_out_of_the_joint_compile(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yar"
    broken.write_text(MISTAKES["unreferenced string"][0])
    good = tmp_path / "good.yar"
    good.write_text(CLEAN)
    found = check_yara_files([broken, good])
    assert {d.file for d in found} == {str(broken)}
    assert len(found) == 2  # one per engine, not repeated by the joint compile


def test_unreadable_file_is_a_diagnostic(tmp_path: Path) -> None:
    found = check_yara_files([tmp_path / "missing.yar"])
    assert len(found) == 1 and "cannot read" in found[0].message


def test_scan_agrees_and_names_matched_strings() -> None:
    data = b"import boto3\niam = boto3.client('iam')\niam.create_user(UserName='x')\n"
    result = scan_yara(CLEAN, data)
    assert result.agree and result.differences() == []
    assert result.yara_python == {"aws_iam_create_user": frozenset({"$a"})}
    assert result.yara_x == result.yara_python


def test_scan_without_match_and_condition_without_strings() -> None:
    source = CLEAN + "rule any_file { condition: filesize > 0 }\n"
    result = scan_yara(source, b"nothing to see")
    assert result.agree
    assert dict(result.yara_x) == {"any_file": frozenset()}


def test_differences_describe_disagreement() -> None:
    from types import MappingProxyType

    from capiche_build.engines.yara import ScanResult

    result = ScanResult(
        yara_python=MappingProxyType({"r": frozenset({"$a"})}), yara_x=MappingProxyType({})
    )
    assert not result.agree
    assert result.differences() == ["r: yara-python matched $a, yara-x no match"]


def test_scan_of_broken_source_raises_with_diagnostics() -> None:
    with pytest.raises(CapicheError) as caught:
        scan_yara(MISTAKES["any of without parentheses"][0], b"abcdef")
    assert caught.value.diagnostics[0].line == 6
