"""The native path (elan's lean/lake), which cannot run on these machines, against a stand-in `lake`.

The stand-in prints a log in the format of Lake's build monitor (`Lake/Build/Run.lean`:
`{icon} [{n}/{total}] {verb} {caption} ({time})`, then the job's messages as
`severity: file:line:col: text`); quantproof must read it into the same typed results as a
portable build.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.helpers import copy_fixture, one_line_error, run_cli
from verifier.lean.build.lake import parse_lake_log

LAKE_LOG = """\
✔ [2/7] Built Fix.Good (1.2s)
✔ [3/7] Replayed Fix.UsesGood
⚠ [4/7] Built Fix.Sorry (812ms)
warning: ././Fix/Sorry.lean:7:15: declaration uses 'sorry'
✖ [5/7] Building Fix.Broken (450ms)
trace: .> LEAN_PATH=././.lake/build/lib/lean lean ././Fix/Broken.lean -R ./. -o Broken.olean
error: ././Fix/Broken.lean:7:26: type mismatch
  "not a number"
has type
  String : Type
but is expected to have type
  Nat : Type
error: Lean exited with code 1
Some required targets logged failures:
- Fix.Broken
error: build failed
"""


def _fake_tools(tmp_path: Path, version: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    libdir = tmp_path / "lib" / "lean"
    libdir.mkdir(parents=True)
    (tmp_path / "lake.log").write_text(LAKE_LOG)
    scripts = {
        "lean": f"""#!/bin/sh
case "$1" in
  --version) echo "Lean (version {version}, x86_64-unknown-linux-gnu, commit {"0123456789" * 4}, Release)";;
  --print-libdir) echo "{libdir}";;
esac
""",
        "lake": f"""#!/bin/sh
echo "$PWD $*" > "{tmp_path}/lake.args"
cat "{tmp_path}/lake.log"
exit 1
""",
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_lake_log_is_read_into_jobs_and_messages(tmp_path):
    root = copy_fixture("buildproj", tmp_path)
    jobs, diags = parse_lake_log(LAKE_LOG, root)
    assert jobs["Fix.Good"] == {"status": "built", "elapsed_s": 1.2}
    assert jobs["Fix.UsesGood"]["status"] == "up-to-date"
    assert jobs["Fix.Sorry"] == {"status": "built", "elapsed_s": 0.812}
    assert jobs["Fix.Broken"]["status"] == "failed"
    sorry = next(d for d in diags if d.is_sorry)
    assert (sorry.file, sorry.line, sorry.column) == ("buildproj/Fix/Sorry.lean", 7, 15)
    error = next(d for d in diags if d.severity == "error")
    assert (error.file, error.line, error.column) == ("buildproj/Fix/Broken.lean", 7, 26)
    assert "but is expected to have type\nNat : Type" in error.text


def test_native_build_through_the_cli(tmp_path):
    root = copy_fixture("buildproj", tmp_path)
    env = _fake_tools(tmp_path, "4.28.0")
    status = run_cli("toolchain", "--status", "--project", str(root), env=env)
    assert "toolchain: native — Lean 4.28.0" in status.stdout, status.stdout
    proc = run_cli("build", "--project", str(root), "--json", env=env)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    statuses = {m["module"]: m["status"] for m in data["modules"]}
    assert statuses == {"Fix.Good": "built", "Fix.UsesGood": "up-to-date", "Fix.Sorry": "incomplete",
                        "Fix.Broken": "failed"}
    assert data["toolchain_kind"] == "native" and data["status"] == "failed"
    broken = next(m for m in data["modules"] if m["module"] == "Fix.Broken")
    assert {d["name"]: d["errors"] for d in broken["declarations"]}["wrong"] == 1
    assert (tmp_path / "lake.args").read_text().split()[:2] == [str(root), "build"]


def test_native_with_wrong_version_is_not_used(tmp_path):
    root = copy_fixture("buildproj", tmp_path)
    env = _fake_tools(tmp_path, "4.20.0")
    proc = run_cli("toolchain", "--status", "--project", str(root), "--toolchain", "native", env=env)
    assert proc.returncode == 1
    assert "native Lean 4.20.0 on PATH, but lean/lean-toolchain wants 4.28.0" in proc.stdout


def test_native_toolchain_is_pinned_and_checked(tmp_path):
    """The first use pins the hashes of `lean`, `lake` and their library; a changed file then refuses to
    run, naming it, until it is pinned again on purpose."""
    root = copy_fixture("buildproj", tmp_path)
    env = {**_fake_tools(tmp_path, "4.28.0"), "QUANTPROOF_CACHE": str(tmp_path / "cache")}
    (tmp_path / "lib" / "lean" / "Init.olean").write_bytes(b"olean v1")
    first = run_cli("toolchain", "--status", "--project", str(root), env=env)
    assert "toolchain: native" in first.stdout, first.stdout + first.stderr
    assert list((tmp_path / "cache" / "native").rglob("manifest.json"))
    (tmp_path / "lib" / "lean" / "Init.olean").write_bytes(b"olean v2")
    line = one_line_error(run_cli("build", "--project", str(root), env=env))
    assert f"{tmp_path / 'lib' / 'lean' / 'Init.olean'}: changed since the native Lean was pinned" in line
    assert "quantproof toolchain --install --toolchain native" in line
    lake = tmp_path / "bin" / "lake"
    lake.write_text(lake.read_text() + "# edited\n")
    pinned = run_cli("toolchain", "--install", "--toolchain", "native", "--project", str(root), env=env)
    assert pinned.returncode == 0 and "pinned the native Lean's files" in pinned.stderr, pinned.stderr
    assert run_cli("toolchain", "--status", "--project", str(root), env=env).returncode == 0
