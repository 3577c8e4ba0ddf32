"""The warm Lean worker: the same results as one `lean` process per file, and the watchdog still applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import copy_fixture
from verifier.cli import build_parser, worker_count
from verifier.lean.build import BuildOptions, BuildResult, build
from verifier.lean.build.compare import differences
from verifier.lean.process import Limits
from verifier.lean.worker import pool_for, warm_workers

SPIN = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0\n"


def _messages(result: BuildResult) -> dict[str, list[tuple]]:
    """Each module's status and its errors, warnings and `sorry`s, positions included (not the folder)."""
    return {m.module: [m.status, *sorted((d.severity, d.kind, d.line, d.column, d.text) for d in m.diagnostics)]
            for m in result.modules}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory, toolchain, replay_ready) -> tuple[Path, BuildResult, Path, BuildResult, int]:
    """The fixture project built cold with one process per module, and again in one warm worker.
    (`replay_ready`: the session's background replay must not land in this test's worker pool.)"""
    plain_root = copy_fixture("buildproj", tmp_path_factory.mktemp("plain"))
    with warm_workers(0):
        plain = build(plain_root, toolchain, BuildOptions(jobs=2))
    warm_root = copy_fixture("buildproj", tmp_path_factory.mktemp("warm"))
    with warm_workers(1):
        warm = build(warm_root, toolchain, BuildOptions(jobs=2))
        pool = pool_for(toolchain)
        assert pool is not None
        starts = pool.starts
    return plain_root, plain, warm_root, warm, starts


def test_worker_reports_what_lean_reports(both_ways):
    _, plain, _, warm, starts = both_ways
    assert starts == 1  # four modules, one Lean start
    assert _messages(warm) == _messages(plain)
    assert warm.module("Fix.Broken").status == "failed" and warm.module("Fix.Sorry").status == "incomplete"
    assert any(d.line == 7 and d.severity == "error" for d in warm.module("Fix.Broken").diagnostics)


def test_worker_writes_what_lean_writes(both_ways):
    plain_root, plain, warm_root, _warm, _ = both_ways
    compiled = [m.module for m in plain.modules if m.compiled]
    assert {"Fix.Good", "Fix.UsesGood", "Fix.Sorry"} <= set(compiled)
    for module in compiled:
        rel = Path(".lake/build/lib/lean", *module.split("."))
        for suffix in (".olean", ".ilean", ".olean.server", ".olean.private", ".ir"):
            assert (warm_root / rel).with_name(rel.name + suffix).is_file(), (module, suffix)
        assert differences(plain_root / rel, warm_root / rel) == [], module


def test_comparison_sees_a_different_module(both_ways):
    """The comparison can fail: two different modules are told apart."""
    plain_root, _, _, _, _ = both_ways
    lib = plain_root / ".lake/build/lib/lean/Fix"
    assert differences(lib / "Good", lib / "UsesGood")


def test_worker_traces_keep_incremental_builds(both_ways, toolchain):
    _, _, warm_root, _, _ = both_ways
    again = build(warm_root, toolchain, BuildOptions(jobs=2, targets=("Good",)))
    assert [m.status for m in again.modules] == ["up-to-date", "up-to-date"]


def test_killed_job_is_reported_and_the_worker_replaced(toolchain, replay_ready):
    bad = "theorem bad : 1 = 2 := rfl\n"
    with warm_workers(0):
        plain = toolchain.run_file(bad)
    with warm_workers(1):
        warm = toolchain.run_file(bad)
        spun = toolchain.run_file(SPIN, limits=Limits(timeout_s=5.0))
        after = toolchain.run_file("theorem again : 2 + 2 = 4 := rfl\ndef v : Nat := 6 * 7\n#eval v\n")
        # the same file name (so the same module) with another `v`: nothing of the last job may remain
        fresh = toolchain.run_file("def v : Nat := 5\n#eval v\n#check again\n")
        hog = toolchain.run_file("theorem small : True := trivial\n", limits=Limits(memory_bytes=256 * 1024**2))
        pool = pool_for(toolchain)
        assert pool is not None
        starts = pool.starts
    # a failing file: the same messages and exit status as its own `lean` process
    assert plain.process.argv[0] != "<worker>" and warm.process.argv[0] == "<worker>"
    assert warm.process.returncode == plain.process.returncode == 1 and not warm.killed
    assert [(d.severity, d.line, d.text) for d in warm.output.diagnostics] == \
        [(d.severity, d.line, d.text) for d in plain.output.diagnostics] != []
    # past a limit: killed and said so, never passed; the next job gets a fresh worker
    assert spun.killed == "time limit: still running after 5 s" and not spun.process.ok
    assert after.process.ok and [d.text.strip() for d in after.output.diagnostics] == ["42"]
    texts = [d.text for d in fresh.output.diagnostics]
    assert texts[0].strip() == "5" and "Unknown identifier" in texts[1] and fresh.process.returncode == 1
    assert hog.killed is not None and "memory limit" in hog.killed and not hog.process.ok
    assert starts == 2


@pytest.mark.parametrize(("argv", "expected"), [
    (["build"], 2), (["build", "-j", "1"], 1), (["build", "--no-worker"], 0),
    (["evidence", "--out", "x", "--no-worker"], 0), (["check"], 2), (["prove", "x"], 0),
])
def test_which_commands_use_workers(argv, expected):
    assert worker_count(build_parser().parse_args(argv)) == expected
