"""`capiche hunt code` throughput with the whole build/yara library (target: >= 50 MB/s).

Run: python benchmarks/bench_hunt_code.py [--mb 100] [--keep DIR]. Generates a tree of Python
sources from the standard library (realistic code, every 25th file given boto3 and AWS CLI
calls), then times:
  - the tree, as `capiche hunt code` scans it (walk, read, scan, report);
  - the same files already in memory (scanning alone, per-file overhead included);
  - the same bytes in memory cut into 2 KB pieces (per-file overhead dominates);
  - one buffer holding all of it (scanning alone, no per-file overhead).
The page cache is warm after generation, so the tree figure is CPU-bound, not disk-bound.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capiche_build.hunt.code import hunt_code, load_rules, scan_buffers, scan_bytes  # noqa: E402

API_SNIPPET = b"""
import boto3

def rotate(user: str) -> dict:
    iam = boto3.client("iam")
    return iam.create_access_key(UserName=user)

def cleanup() -> None:
    # aws s3api put-bucket-acl --bucket logs --acl public-read
    ec2 = boto3.client("ec2")
    ec2.describe_instances()
"""


def stdlib_sources() -> list[bytes]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    return [p.read_bytes() for p in sorted(lib.glob("*.py"))]


def generate(root: Path, megabytes: int) -> tuple[int, int]:
    """Write about `megabytes` MB of sources in folders of 100 files; returns (files, bytes)."""
    sources = stdlib_sources()
    target = megabytes * 2**20
    files = total = 0
    while total < target:
        data = sources[files % len(sources)]
        if files % 25 == 0:
            data = data + API_SNIPPET
        folder = root / f"pkg{files // 100:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{files % 100:02d}.py").write_bytes(data)
        files += 1
        total += len(data)
    return files, total


def timed(label: str, size: int, count: int, fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    rate = size / 2**20 / best
    print(f"{label:38} {best:6.2f} s  {rate:8.1f} MB/s  {count / best:9.0f} files/s  {result}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the generated tree")
    parser.add_argument("--keep", help="generate into this folder and keep it")
    args = parser.parse_args()

    start = time.perf_counter()
    rules = load_rules([ROOT / "build" / "yara"])
    print(
        f"compiled {len(rules.apis)} rules from {len(rules.files)} files in "
        f"{time.perf_counter() - start:.2f} s"
    )

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hunt-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        files, size = generate(root, args.mb)
        print(f"tree: {files} files, {size / 2**20:.1f} MB, avg {size // files} B/file in {root}")
        paths = sorted(root.rglob("*.py"))
        buffers = [(str(p), p.read_bytes()) for p in paths]
        whole = b"".join(data for _, data in buffers)

        def tree() -> str:
            s = hunt_code([root], rules, max_size=20 * 2**20).summary
            return f"{s.hits} hits, {s.files_scanned} files"

        def small() -> str:
            return f"{len(scan_buffers(rules, buffers))} hits"

        pieces = [(f"p{i}.py", whole[i : i + 2048]) for i in range(0, len(whole), 2048)]

        def tiny() -> str:
            return f"{len(scan_buffers(rules, pieces))} hits"

        def big() -> str:
            return f"{len(scan_bytes(rules, 'all.py', whole))} hits"

        timed("tree on disk (hunt_code)", size, files, tree)
        timed("same files in memory", size, files, small)
        timed("in memory, cut in 2 KB pieces", size, len(pieces), tiny)
        timed("one buffer", size, 1, big)
    finally:
        if not args.keep:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
