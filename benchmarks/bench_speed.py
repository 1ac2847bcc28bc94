"""Catalog, search, translation and generation speed (issue targets in brackets).

Run: python benchmarks/bench_speed.py. Timings are medians; where a comparison is meaningful the
figure is printed as a ratio, which holds across machines.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def median_time(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cold(code: str) -> float:
    return median_time(
        lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    )


def main() -> None:
    from capiche_build import catalog as catalog_module
    from capiche_build.api import rule_from_groups
    from capiche_build.catalog import load_catalog
    from capiche_build.forms import translate
    from capiche_build.search import search
    from capiche_build.targets import yara

    def fresh_load() -> None:
        catalog_module._CACHE.clear()
        load_catalog()

    load = median_time(fresh_load)
    start = cold("from capiche_build.cli import main; main(['search', '^iam:CreateAccessKey$'])")
    catalog = load_catalog()
    ops = search(catalog, name=":(Create|Delete|Put)")
    name_search = median_time(lambda: search(catalog, name="^iam:Attach"))
    fast = median_time(lambda: translate(ops, "boto3"))
    legacy_rows = [{"API": op.api} for op in catalog]

    def quadratic() -> None:  # the original scanned the whole list for every API
        wanted = [op.api for op in ops[:400]]
        [row["API"] for api in wanted for row in legacy_rows if row["API"] == api]

    slow = median_time(quadratic, runs=1) * len(ops) / 400
    rule = median_time(
        lambda: yara.render(rule_from_groups("bench", {"apis": ops}, catalog=catalog)), 3
    )
    rows = [
        ("catalog load (read + parse, in process)", load * 1000, "ms", "< 50 ms"),
        ("name-regex search over all operations", name_search * 1000, "ms", "< 20 ms"),
        (f"translate {len(ops)} APIs to boto3", fast * 1000, "ms", "< 20 ms"),
        ("  quadratic list-scan estimate / linear", slow / fast, "x", "ratio"),
        ("`capiche search` cold start (wall)", start * 1000, "ms", "< 400 ms"),
        (f"YARA rule over {len(ops)} Create/Delete/Put APIs", rule * 1000, "ms", "< 500 ms"),
    ]
    for label, value, unit, goal in rows:
        print(f"{label:52} {value:10.1f} {unit:3} [{goal}]")


if __name__ == "__main__":
    main()
