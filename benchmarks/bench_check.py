"""How much `capiche check` adds on top of the engines it drives.

Generates N definitions (one or two groups of real catalog APIs, with log and code tests), then
times, in one process:
  - the whole check (load + resolve + render + validate + tests), and
  - the engine calls alone on the same generated rules (YARA compile on both engines, pySigma
    parse and validators, the YARA-L checker, Sigma and YARA-L evaluation, YARA scans).
Prints the ratio; the goal is under 2x. Run: python benchmarks/bench_check.py [N]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from capiche_build.build import resolve_all
from capiche_build.catalog import load_catalog
from capiche_build.check import Policy, check_rules
from capiche_build.targets import render_rule


def _definition(index: int, ops: list, rng: random.Random) -> str:
    groups = {"first": ops[:2]} if index % 2 else {"first": ops[:1], "second": ops[1:3]}
    condition = " and ".join(groups)
    lines = [
        f"id: {uuid.UUID(int=rng.getrandbits(128), version=4)}",
        f"name: bench_rule_{index:03d}",
        f"title: Benchmark Rule {index}",
        "description: A synthetic definition for the check benchmark.",
        "author: capiche-build",
        "date: 2026-12-04",
        "status: experimental",
        "level: low",
        "tags: [attack.discovery]",
        "falsepositives: [Benchmarks]",
        "groups:",
    ]
    for name, members in groups.items():
        lines.append(f"    {name}:")
        lines.append(f"        apis: [{', '.join(op.api for op in members)}]")
    lines.append(f"condition: {condition}")
    arn = "arn:aws:iam::111122223333:user/bench"
    match = [
        {
            "eventSource": op.event_source,
            "eventName": op.event_name,
            "eventTime": f"2026-01-01T00:0{i}:00Z",
            "userIdentity": {"arn": arn},
        }
        for i, op in enumerate([members[0] for members in groups.values()])
    ]
    no_match = [
        {
            "eventSource": "sts.amazonaws.com",
            "eventName": "GetCallerIdentity",
            "eventTime": "2026-01-01T00:00:00Z",
            "userIdentity": {"arn": arn},
        }
    ]
    code = "\n".join(f"client.{members[0].boto3}()" for members in groups.values())
    lines += [
        "tests:",
        "    cloudtrail:",
        f"        match: [{json.dumps(match)}]",
        f"        no_match: [{json.dumps(no_match)}]",
        "    code:",
        f"        match: [{json.dumps(code)}]",
        '        no_match: ["client.get_caller_identity()"]',
    ]
    return "\n".join(lines) + "\n"


def _engines_only(rules: list) -> float:
    from capiche_build.engines.query import evaluate_dork, evaluate_vtgrep
    from capiche_build.engines.sigma import evaluate_sigma, validate_sigma
    from capiche_build.engines.yara import check_yara, scan_yara
    from capiche_build.yaral.checker import check_yaral
    from capiche_build.yaral.evaluator import evaluate

    prepared = [(rule, {o.format: o for o in render_rule(rule)}) for rule in rules]
    start = time.perf_counter()
    for rule, out in prepared:
        check_yara(out["yara"].text)
        validate_sigma(out["sigma"].text, out["sigma"].path, Path(out["sigma"].path).name)
        check_yaral(out["yaral"].text)
        tests = rule.source.tests
        for case in (*tests.cloudtrail_match, *tests.cloudtrail_no_match):
            evaluate_sigma(out["sigma"].text, list(case.records))
            evaluate(out["yaral"].text, list(case.records))
        for case in (*tests.code_match, *tests.code_no_match):
            scan_yara(out["yara"].text, case.text.encode())
            evaluate_vtgrep(out["vtgrep"].text.strip(), case.text)
            any(evaluate_dork(q, case.text) for q in out["dork"].text.splitlines())
    return time.perf_counter() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(7)
    catalog = load_catalog()
    usable = [op for op in catalog if op.cli_commands and op.event_name_match == "exact"]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            ops = rng.sample(usable, 3)
            Path(tmp, f"bench_rule_{i:03d}.yml").write_text(_definition(i, ops, rng))
        start = time.perf_counter()
        rules = resolve_all(catalog, [tmp])
        report = check_rules(rules, Policy())
        total = time.perf_counter() - start
        if not report.ok:
            for d in report.all_diagnostics[:10]:
                print(d.format())
            raise SystemExit("the synthetic definitions did not pass check")
        engines = _engines_only(rules)
    ratio = total / engines
    print(f"definitions checked     {count}")
    print(f"capiche check (total)   {total:.2f} s")
    print(f"engines alone           {engines:.2f} s")
    print(f"overhead ratio          {ratio:.2f}x  (goal < 2x: {'PASS' if ratio < 2 else 'over'})")


if __name__ == "__main__":
    main()
