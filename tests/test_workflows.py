"""The GitHub workflows call nox sessions that exist, on the triggers the pipeline needs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def nox_sessions() -> set[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Attribute) and target.attr == "session":
                    names.add(node.name)
    return names


def load(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` key as True
    return data


def test_the_pipeline_sessions_exist() -> None:
    needed = {"tests", "lint", "build", "check", "diff", "bundle", "catalog", "benchmarks"}
    assert needed <= nox_sessions()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_nox_call_names_a_real_session(path: Path) -> None:
    data = load(path.name)
    runs = [step.get("run", "") for job in data["jobs"].values() for step in job["steps"]]
    calls = [m for run in runs for m in re.findall(r"nox -s (\w+)", run)]
    assert calls, f"{path.name} calls no nox session"
    assert set(calls) <= nox_sessions(), set(calls) - nox_sessions()


def test_triggers() -> None:
    ci, release, refresh = load("ci.yml"), load("release.yml"), load("catalog-refresh.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert release["on"]["push"]["tags"] == ["v*"]
    assert refresh["on"]["schedule"][0]["cron"]
    ci_calls = " ".join(s.get("run", "") for j in ci["jobs"].values() for s in j["steps"])
    for session in ("lint", "tests", "check", "diff"):
        assert f"nox -s {session}" in ci_calls
    assert "--format github" in ci_calls
    release_steps = [s for j in release["jobs"].values() for s in j["steps"]]
    assert any("attest-build-provenance" in s.get("uses", "") for s in release_steps)
