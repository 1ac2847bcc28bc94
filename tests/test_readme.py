"""The README's commands and worked session are real: they run as tests."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    first, second = _blocks("sh")[:2]
    assert "capiche build" in first
    assert "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second.strip() in ci


def test_worked_session_runs_and_prints_what_it_says() -> None:
    (session,) = [b for b in _blocks("python") if "rule_from_groups" in b]
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(session, "README.md", "exec"), namespace)
    # Every `call  # result` comment in the session states the call's value.
    claims = 0
    for line in session.splitlines():
        call, sep, claim = line.partition("  # ")
        if sep and claim.startswith("["):
            assert repr(eval(call.strip(), namespace)) == claim.strip()
            claims += 1
    assert claims == 3
    rule_text = out.getvalue()
    assert rule_text.startswith("rule iam_backdoor")
    from capiche_build.engines.yara import check_yara

    assert check_yara(rule_text, "README.md") == []
