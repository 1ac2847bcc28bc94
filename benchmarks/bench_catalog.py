"""Catalog, search, translation, cold start and YARA generation against the issue's targets.

Run: python benchmarks/bench_catalog.py [--runs 5]

Every figure is a median. Absolute times depend on the machine, so each line also prints its
share of the target, and the comparisons that hold across machines are printed as ratios:
the quadratic list-scan against the catalog's translation, and the cold start against a bare
`python -c pass` on the same machine.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capiche_build.api import rule_from_groups  # noqa: E402
from capiche_build.catalog import Catalog, Operation, load_catalog  # noqa: E402
from capiche_build.engines.yara import check_yara  # noqa: E402
from capiche_build.forms import translate  # noqa: E402
from capiche_build.search import search  # noqa: E402
from capiche_build.targets import yara as yara_target  # noqa: E402

SELECTION = ":(Create|Delete|Put)"
LOAD_PROBE = """\
import json, time
t0 = time.perf_counter()
import capiche_build.catalog as c
t1 = time.perf_counter()
cat = c.load_catalog()
t2 = time.perf_counter()
cat.operations
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "operations": t3 - t2, "n": len(cat)}))
"""


def median_of(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )


def fresh_load(runs: int) -> dict[str, float]:
    """Catalog import and load in fresh interpreters (no OS-level warm-up beyond the page cache)."""
    samples = [json.loads(python("-c", LOAD_PROBE).stdout) for _ in range(runs)]
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def naive_translate(rows: list[dict[str, str]], apis: list[str]) -> list[str]:
    """The original tool's lookup: scan the whole list for every API asked for."""
    found = []
    for api in apis:
        for row in rows:
            if row["API"] == api:
                found.append(row["boto3"])
    return sorted(set(found))


def report(label: str, seconds: float, target: float | None, note: str = "") -> None:
    ms = seconds * 1000
    if target is None:
        print(f"  {label:50} {ms:9.1f} ms  {note}")
        return
    verdict = "PASS" if seconds < target else "over"
    share = seconds / target
    print(
        f"  {label:50} {ms:9.1f} ms  target < {target * 1000:.0f} ms  "
        f"{share:5.0%} of target  {verdict}  {note}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    args = parser.parse_args()
    runs = max(1, args.runs)

    catalog: Catalog = load_catalog()
    ops: list[Operation] = search(catalog, name=SELECTION)
    apis = [op.api for op in ops]
    print(
        f"catalog: {catalog.version}, {len(catalog)} operations, {len(catalog.services)} services"
    )
    print(f"selection `{SELECTION}`: {len(ops)} operations; Python {sys.version.split()[0]}\n")

    # 1. Catalog load in a fresh process.
    load = fresh_load(runs)
    assert load["n"] == len(catalog)
    report("catalog load (fresh process, read + parse)", load["load"], 0.050)
    report("  + building the 20k Operation objects", load["operations"], None, "(lazy, first use)")
    report("  import of capiche_build.catalog", load["import"], None)

    # 2. Name-regex search over every operation (warm catalog, compiled-pattern cache warm).
    search(catalog, name="^iam:Attach")
    report(
        "name-regex search `^iam:Attach`",
        median_of(lambda: search(catalog, name="^iam:Attach"), runs * 4),
        0.020,
    )
    report(
        f"name-regex search `{SELECTION}`",
        median_of(lambda: search(catalog, name=SELECTION), runs * 4),
        0.020,
    )
    report(
        "description-regex search `access key`",
        median_of(lambda: search(catalog, description="access key"), runs * 4),
        None,
        "(no target; every description)",
    )

    # 3. Translation: the catalog's linear pass against the original's quadratic scan.
    fast = median_of(lambda: translate(ops, "boto3"), runs * 4)
    report(f"translate {len(ops)} APIs to boto3 (forms.translate)", fast, 0.020)
    rows = [{"API": op.api, "boto3": op.boto3} for op in catalog]
    start = time.perf_counter()
    slow_result = naive_translate(rows, apis)
    slow = time.perf_counter() - start
    assert slow_result == translate(ops, "boto3"), "the two translations disagree"
    report(
        "  naive full-list scan per API (1 run)",
        slow,
        None,
        f"ratio naive / translate = {slow / fast:,.0f}x",
    )

    # 4. `capiche search` cold start, wall time, against a bare interpreter.
    bare = median_of(lambda: python("-c", "pass"), runs)
    cold = median_of(lambda: python("-m", "capiche_build", "search", "^iam:CreateAccessKey$"), runs)
    report(
        "`capiche search` cold start (wall)",
        cold,
        0.400,
        f"= {cold / bare:.1f}x a bare `python -c pass`",
    )
    report("  bare interpreter start (same machine)", bare, None)

    # 5. One YARA rule over every selected API: definition to rule text.
    def generate() -> str:
        return yara_target.render(
            rule_from_groups("bench_create_delete_put", {"apis": ops}, catalog=catalog)
        )

    text = generate()
    report(
        f"YARA rule over {len(ops)} APIs (rule_from_groups + render)",
        median_of(generate, runs),
        0.500,
    )
    strings = len(re.findall(r"^\s+\$\w+ = \"", text, flags=re.MULTILINE))
    started = time.perf_counter()
    problems = check_yara(text)
    report(
        "  compiling it on yara-python and yara-x (no target)",
        time.perf_counter() - started,
        None,
        f"{len(text) / 1e6:.2f} MB, {strings} strings, {'clean' if not problems else problems[0].message}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
