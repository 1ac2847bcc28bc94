"""Scale: 1,000 synthetic definitions, all five formats, on this machine.

Measures a full build, a full check (engines only: these definitions carry no tests), a rebuild
with nothing changed (served by the content-hash cache), and `capiche diff` on the clean tree.
Goals: full build < 60 s; no-change rebuild < 1 s; diff < 2x the no-change rebuild.
Run: python benchmarks/bench_scale.py [COUNT]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_library

from capiche_build.catalog import load_catalog


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    capiche = [sys.executable, "-m", "capiche_build"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_library(load_catalog(), root / "rules_src", count)
        (root / "pyproject.toml").write_text(
            "[tool.capiche]\nrequire-log-tests = false\nrequire-code-tests = false\n"
        )
        env_note = f"{os.cpu_count()} cores"
        full = timed([*capiche, "build"], root)
        again = timed([*capiche, "build"], root)
        diff = timed([*capiche, "diff", "--stat", "--no-coverage"], root)
        check = timed([*capiche, "check"], root)
    print(f"synthetic definitions        {count} ({env_note})")
    print(f"full build, five formats     {full:7.2f} s   [goal < 60 s]")
    print(f"no-change rebuild            {again:7.2f} s   [goal < 1 s]")
    print(
        f"diff on the clean tree       {diff:7.2f} s   = {diff / again:.2f}x the no-change rebuild [goal < 2x]"
    )
    print(f"full check (engines)         {check:7.2f} s")


if __name__ == "__main__":
    main()
