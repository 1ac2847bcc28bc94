"""Killing `capiche build` at any moment leaves the previous build/ whole; the next build works."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capiche_build.build import read_tree
from capiche_build.catalog import load_catalog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic import write_library


@pytest.mark.parametrize("delay", [0.4, 0.9, 1.4, 1.9])
def test_kill_midway_keeps_previous_tree(tmp_path: Path, delay: float) -> None:
    write_library(load_catalog(), tmp_path / "rules_src", 150)
    cmd = [sys.executable, "-m", "capiche_build", "build", "--no-cache"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    before = read_tree(tmp_path / "build")
    for path in (tmp_path / "rules_src").glob("*.yml"):
        path.write_text(path.read_text().replace('"level": "low"', '"level": "high"'))

    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    after = read_tree(tmp_path / "build")
    # Whole: exactly the previous tree, or (if the swap had happened) exactly the new one.
    if after != before:
        assert all(
            b'level = "high"' in data for path, data in after.items() if path.endswith(".yar")
        )
        assert len(after) == len(before)
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    final = read_tree(tmp_path / "build")
    assert all(b'level = "high"' in data for path, data in final.items() if path.endswith(".yar"))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".build.")]
    assert leftovers == []
    shutil.rmtree(tmp_path / "rules_src")
    assert os.path.isdir(tmp_path / "build")
