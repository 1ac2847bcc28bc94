"""`capiche hunt code` over a tree of snippets, archives and broken files, with real yara-x."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from capiche_build.cli import main
from capiche_build.diagnostics import CapicheError
from capiche_build.hunt.code import (
    CSV_FIELDS,
    CodeReport,
    RuleSet,
    comment_apis,
    format_csv,
    hunt_code,
    load_rules,
    parse_size,
    parse_string_apis,
    report_to_dict,
    run_code_command,
    scan_bytes,
)

BUILD_YARA = Path(__file__).resolve().parents[1] / "build" / "yara"
LIMIT = 4096

BOTO3 = b'import boto3\n\niam = boto3.client("iam")\nkey = iam.create_access_key(UserName="ci")\n'
SHELL = b"#!/bin/sh\nset -e\naws iam create-access-key --user-name bob > key.json\n"
BEDROCK = (
    b'import boto3\nbedrock = boto3.client("bedrock")\n'
    b"models = bedrock.list_foundation_models()\n"
    b'rt = boto3.client("bedrock-runtime")\nrt.invoke_model(modelId="m", body="{}")\n'
)
BENIGN = b'def greet(name: str) -> str:\n    return f"hello {name}"\n'

# Shaped like the built files: an API comment above each string, a shared string, a header.
SMALL_RULE = """\
rule small_probe
{
    strings:
        // header: must also be present
        $header_01 = "boto3" ascii wide
        // sts:GetCallerIdentity: Returns details about the IAM user or role.
        $whoami_01 = "get_caller_identity" ascii wide
        // s3:ListBuckets: Lists buckets.; s3control:ListBuckets: Lists buckets too.
        $shared_01 = "list_buckets" ascii wide
    condition:
        any of ($header_*) and any of ($whoami_*, $shared_*)
}

rule bare_rule { strings: $a = "frobnicate" condition: $a }
"""


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def real_rules() -> RuleSet:
    return load_rules([BUILD_YARA])


@pytest.fixture(scope="module")
def small_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    path = tmp_path_factory.mktemp("rules") / "small.yar"
    path.write_text(SMALL_RULE)
    return load_rules([path])


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    (root / "src" / "tools").mkdir(parents=True)
    (root / "src" / "app.py").write_bytes(BOTO3)
    (root / "src" / "deploy.sh").write_bytes(SHELL)
    (root / "src" / "benign.py").write_bytes(BENIGN)
    (root / "src" / "tools" / "llm.py").write_bytes(BEDROCK)
    (root / "big.py").write_bytes(BOTO3 + b"#" * LIMIT)
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    inner = _tar_gz({"deep/run.sh": SHELL, "deep/ok.py": BENIGN})
    (root / "bundle.zip").write_bytes(
        _zip(
            {
                "pkg/a.py": BOTO3,
                "pkg/b.py": BENIGN,
                "pkg/huge.py": b"x" * (LIMIT + 1),
                "inner.tar.gz": inner,
            }
        )
    )
    (root / "release.tgz").write_bytes(_tar_gz({"rel/llm.py": BEDROCK}))
    (root / "link.py").symlink_to(root / "src" / "app.py")  # not followed: no duplicate hit
    return root


@pytest.fixture(scope="module")
def report(tree: Path, real_rules: RuleSet) -> CodeReport:
    return hunt_code([tree], real_rules, max_size=LIMIT)


def _hits(report: CodeReport, root: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(h.rule, os.path.relpath(h.file, root)): h.apis for h in report.hits}


# --- sizes and comments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20MB", 20 * 2**20),
        ("500KB", 500 * 1024),
        ("1.5g", int(1.5 * 2**30)),
        ("4096", 4096),
        ("10 MiB", 10 * 2**20),
        ("7b", 7),
        ("2k", 2048),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "-1MB", "0", "20 parsecs", "1e6"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(CapicheError, match="--max-size"):
        parse_size(text)


def test_comment_apis() -> None:
    assert comment_apis("iam:CreateAccessKey: Creates a key. (in several groups)") == (
        "iam:CreateAccessKey",
    )
    text = "s3:DeletePublicAccessBlock: Not for buckets.; s3control:DeletePublicAccessBlock: x."
    assert comment_apis(text) == ("s3:DeletePublicAccessBlock", "s3control:DeletePublicAccessBlock")
    same = "bedrock-runtime:Converse: Sends.; bedrock-runtime:Converse: Sends."
    assert comment_apis(same) == ("bedrock-runtime:Converse",)
    assert comment_apis("header: must also be present") == ()


def test_parse_string_apis_of_built_files() -> None:
    text = (BUILD_YARA / "iam_access_key_created.yar").read_text()
    strings = parse_string_apis(text)["iam_access_key_created"]
    assert strings["$creds_01"] == ("iam:CreateAccessKey",)
    shared = parse_string_apis((BUILD_YARA / "iam_role_policy_granted.yar").read_text())
    assert shared["iam_role_policy_granted"]["$shared_01"] == ("iam:DeleteRolePolicy",)
    # Every built string but the headers names its APIs.
    for path in BUILD_YARA.glob("*.yar"):
        for rule, ids in parse_string_apis(path.read_text()).items():
            unnamed = [i for i, apis in ids.items() if not apis and not i.startswith("$header")]
            assert not unnamed, (rule, unnamed)


# --- scanning ---------------------------------------------------------------------------------


def test_hits_in_tree_and_archives(report: CodeReport, tree: Path) -> None:
    key = ("iam:CreateAccessKey",)
    llm = ("bedrock:ListFoundationModels", "bedrock-runtime:InvokeModel")
    assert _hits(report, tree) == {
        ("iam_access_key_created", "bundle.zip!inner.tar.gz!deep/run.sh"): key,
        ("iam_access_key_created", "bundle.zip!pkg/a.py"): key,
        ("bedrock_invocation_after_probing", "release.tgz!rel/llm.py"): llm,
        ("bedrock_model_access_probing", "release.tgz!rel/llm.py"): llm[:1],
        ("iam_access_key_created", "src/app.py"): key,
        ("iam_access_key_created", "src/deploy.sh"): key,
        ("bedrock_invocation_after_probing", "src/tools/llm.py"): llm,
        ("bedrock_model_access_probing", "src/tools/llm.py"): llm[:1],
    }
    # Sorted walk: archives, then src/ in name order.
    assert [os.path.relpath(h.file, tree) for h in report.hits][:2] == [
        "bundle.zip!pkg/a.py",
        "bundle.zip!inner.tar.gz!deep/run.sh",
    ]


def test_string_details(report: CodeReport, tree: Path) -> None:
    (app,) = [h for h in report.hits if h.file == str(tree / "src" / "app.py")]
    (string,) = app.strings
    assert (string.identifier, string.text, string.line, string.count) == (
        "$creds_03",
        "create_access_key",
        4,
        1,
    )
    (llm,) = [
        h
        for h in report.hits
        if h.file.endswith("src/tools/llm.py") and h.rule == "bedrock_invocation_after_probing"
    ]
    header = next(s for s in llm.strings if s.identifier == "$header_01")
    assert header.apis == () and header.text == "bedrock"


def test_skips_and_errors(report: CodeReport, tree: Path) -> None:
    skipped = {os.path.relpath(s.file, tree): s.size for s in report.skipped}
    assert skipped == {"big.py": len(BOTO3) + LIMIT, "bundle.zip!pkg/huge.py": LIMIT + 1}
    (problem,) = report.problems
    assert os.path.relpath(problem.file, tree) == "corrupt.zip"
    assert "corrupt" in problem.message
    s = report.summary
    # app, deploy, benign, llm; a, b, run.sh, ok.py; rel/llm.py. Archives tried: 4.
    assert (s.files_scanned, s.archives, s.skipped_too_large, s.errors) == (9, 4, 2, 1)
    assert s.bytes_scanned == 2 * len(BOTO3) + 2 * len(SHELL) + 3 * len(BENIGN) + 2 * len(BEDROCK)
    assert (s.hits, s.files_with_hits) == (8, 6)


def test_unreadable_file(tmp_path: Path, real_rules: RuleSet) -> None:
    locked = tmp_path / "locked.py"
    locked.write_bytes(BOTO3)
    (tmp_path / "ok.py").write_bytes(SHELL)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading")
        result = hunt_code([tmp_path], real_rules)
    finally:
        locked.chmod(0o644)
    assert [(p.file, p.message) for p in result.problems] == [
        (str(locked), "cannot read: Permission denied")
    ]
    assert [h.file for h in result.hits] == [str(tmp_path / "ok.py")]


def test_read_error_is_reported(
    tmp_path: Path, real_rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path as chmod 000, for when the tests run as root."""
    (tmp_path / "a.py").write_bytes(BOTO3)
    (tmp_path / "b.py").write_bytes(SHELL)
    real_open = Path.open

    def failing_open(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == "a.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", failing_open)
    result = hunt_code([tmp_path], real_rules)
    assert [(p.file, p.message) for p in result.problems] == [
        (str(tmp_path / "a.py"), "cannot read: Permission denied")
    ]
    assert [h.file for h in result.hits] == [str(tmp_path / "b.py")]
    assert result.summary.files_scanned == 1


def test_undecodable_file_name(tmp_path: Path, real_rules: RuleSet) -> None:
    os.makedirs(tmp_path, exist_ok=True)
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.sh"), "wb") as fh:
        fh.write(SHELL)
    (hit,) = hunt_code([tmp_path], real_rules).hits
    assert hit.file == f"{tmp_path}/bad\\xff.sh"
    json.dumps(report_to_dict(hunt_code([tmp_path], real_rules))).encode("utf-8")


def test_truncated_tar_keeps_earlier_members(tmp_path: Path, real_rules: RuleSet) -> None:
    data = _tar_gz({"a.sh": SHELL, "pad.bin": os.urandom(20000), "b.py": BOTO3})
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) - 200])
    result = hunt_code([tmp_path], real_rules)
    assert [h.file.rsplit("!", 1)[1] for h in result.hits] == ["a.sh"]
    assert len(result.problems) == 1 and result.summary.errors == 1


def test_zip_lying_about_member_size(tmp_path: Path, real_rules: RuleSet) -> None:
    """The limit holds even when a member's header understates its size."""
    raw = bytearray(_zip({"a.py": BOTO3 + b"#" * 100}))
    true_size = (len(BOTO3) + 100).to_bytes(4, "little")
    # Rewrite the uncompressed size in the central directory only (the one zipfile trusts).
    cd = raw.rfind(b"PK\x01\x02")
    assert raw[cd + 24 : cd + 28] == true_size
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(raw))
    result = hunt_code([tmp_path], real_rules, max_size=len(BOTO3))
    assert not result.hits
    assert len(result.skipped) + len(result.problems) == 1


def test_small_rule_apis_and_bare_rule(small_rules: RuleSet) -> None:
    data = b"import boto3\ns3.list_buckets()\nfrobnicate()\n"
    hits = {h.rule: h for h in scan_bytes(small_rules, "x.py", data)}
    assert hits["small_probe"].apis == ("s3:ListBuckets", "s3control:ListBuckets")
    assert [s.identifier for s in hits["small_probe"].strings] == ["$header_01", "$shared_01"]
    assert hits["bare_rule"].apis == ()
    wide = "import boto3\nsts.get_caller_identity()".encode("utf-16-le")
    (hit,) = scan_bytes(small_rules, "y.ps1", wide)
    assert hit.apis == ("sts:GetCallerIdentity",)
    assert hit.strings[1].text == "get_caller_identity" and hit.strings[1].line == 2


def test_nested_archives_only_one_level(small_rules: RuleSet) -> None:
    level2 = _zip({"c.py": b"import boto3\nget_caller_identity"})
    level1 = _zip({"l2.zip": level2, "b.py": b"import boto3; x.list_buckets()"})
    outer = _tar_gz({"l1.zip": level1})
    hits = scan_bytes(small_rules, "top.tgz", outer)
    # l2.zip sits two levels down: scanned as bytes, so its deflated text does not match.
    assert [h.file for h in hits] == ["top.tgz!l1.zip!b.py"]


def test_rule_errors_are_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yar"
    bad.write_text("rule broken { condition: $nope }")
    with pytest.raises(CapicheError) as err:
        load_rules([bad])
    assert err.value.diagnostics[0].file == str(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CapicheError, match=r"no \.yar files"):
        load_rules([tmp_path / "empty"])
    with pytest.raises(CapicheError, match="no such"):
        hunt_code([tmp_path / "missing"], load_rules([BUILD_YARA]))


def test_progress_only_when_enabled() -> None:
    from capiche_build.hunt.code import _Progress, _Tally

    for enabled, expected in ((False, ""), (True, "\r\x1b[K0 files, 0 B, 0 hits: a.py")):
        stream = io.StringIO()
        status = _Progress(enabled, stream)
        status.update(_Tally(), "a.py")
        assert stream.getvalue() == expected


# --- output and the CLI -----------------------------------------------------------------------


def test_json_shape(report: CodeReport) -> None:
    data = json.loads(json.dumps(report_to_dict(report)))
    assert set(data) == {"hits", "skipped", "errors", "summary"}
    assert set(data["hits"][0]) == {"rule", "file", "apis", "strings"}
    assert set(data["hits"][0]["strings"][0]) == {"id", "apis", "text", "line", "count"}
    assert {"files_scanned", "bytes_scanned", "skipped_too_large", "errors"} <= set(data["summary"])


def test_csv_shape(report: CodeReport) -> None:
    rows = list(csv.DictReader(io.StringIO(format_csv(report))))
    assert tuple(rows[0]) == CSV_FIELDS
    assert len(rows) == len(report.hits)
    llm = next(r for r in rows if r["file"].endswith("src/tools/llm.py"))
    assert llm["apis"] == "bedrock:ListFoundationModels;bedrock-runtime:InvokeModel"


def _args(paths: list[Path], fmt: str, **extra: object) -> argparse.Namespace:
    values = {"rules": [str(BUILD_YARA)], "max_size": str(LIMIT), "format": fmt, **extra}
    return argparse.Namespace(paths=[str(p) for p in paths], **values)


def test_table_output(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_code_command(_args([tree], "table")) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["RULE", "FILE", "APIS"]
    # Grouped: each rule name once, above its files.
    assert sum(line.startswith("iam_access_key_created") for line in lines) == 1
    assert "8 hits in 6 files; scanned 9 files" in out
    assert "2 skipped (over 4.0 KB); 1 errors" in out
    assert "skipped: " in err and "big.py" in err and "error: " in err


def test_cli_exit_codes(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = ["--rules", str(BUILD_YARA)]
    assert main(["hunt", "code", str(tree / "src"), *rules, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["files_scanned"] == 4 and data["summary"]["errors"] == 0
    assert main(["hunt", "code", str(tree / "src"), *rules, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("rule,file,apis,strings,line\n")
    assert main(["hunt", "code", str(tmp_path / "missing"), *rules]) == 2
    assert main(["hunt", "code", str(tree), *rules, "--max-size", "lots"]) == 2
    assert main(["hunt", "code", str(tree), "--rules", str(tmp_path / "nope.yar")]) == 2
    assert "no such" in capsys.readouterr().err
