"""The warm Lean worker: the same results as one `lean` process per file, and the watchdog still applies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import copy_fixture
from verifier.cli import build_parser, worker_count
from verifier.lean.build import BuildOptions, BuildResult, build
from verifier.lean.build.compare import differences
from verifier.lean.process import Limits
from verifier.lean.toolchain.base import LeanRun
from verifier.lean.worker import pool_for, warm_workers

SPIN = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0\n"


def _messages(result: BuildResult) -> dict[str, list[tuple]]:
    """Each module's status and its errors, warnings and `sorry`s, positions included (not the folder)."""
    return {m.module: [m.status, *sorted((d.severity, d.kind, d.line, d.column, d.text) for d in m.diagnostics)]
            for m in result.modules}


@dataclass(frozen=True)
class WarmRun:
    """The fixture project built in one warm worker, then a series of jobs in the same pool."""

    root: Path
    build: BuildResult
    bad: LeanRun
    spun: LeanRun
    after: LeanRun
    fresh: LeanRun
    hog: LeanRun
    starts: int


@pytest.fixture(scope="module")
def warm(tmp_path_factory, toolchain, replay_ready) -> WarmRun:
    """(`replay_ready`: the session's background replay must not land in this module's worker pool.)"""
    root = copy_fixture("buildproj", tmp_path_factory.mktemp("warm"))
    with warm_workers(1):
        result = build(root, toolchain, BuildOptions(jobs=2))
        bad = toolchain.run_file("theorem bad : 1 = 2 := rfl\n")
        spun = toolchain.run_file(SPIN, limits=Limits(timeout_s=5.0))
        after = toolchain.run_file("theorem again : 2 + 2 = 4 := rfl\ndef v : Nat := 6 * 7\n#eval v\n")
        # the same file name (so the same module) with another `v`: nothing of the last job may remain
        fresh = toolchain.run_file("def v : Nat := 5\n#eval v\n#check again\n")
        hog = toolchain.run_file("theorem small : True := trivial\n", limits=Limits(memory_bytes=256 * 1024**2))
        pool = pool_for(toolchain)
        assert pool is not None
        return WarmRun(root, result, bad, spun, after, fresh, hog, pool.starts)


def test_worker_reports_what_lean_reports(cold, warm):
    _, plain = cold
    assert warm.build.modules and all(m.rebuilt for m in warm.build.modules if m.status != "skipped")
    assert _messages(warm.build) == _messages(plain)
    assert warm.build.module("Fix.Broken").status == "failed" and warm.build.module("Fix.Sorry").status == "incomplete"
    assert any(d.line == 7 and d.severity == "error" for d in warm.build.module("Fix.Broken").diagnostics)


def test_worker_writes_what_lean_writes(cold, warm):
    plain_root, plain = cold
    warm_root = warm.root
    compiled = [m.module for m in plain.modules if m.compiled]
    assert {"Fix.Good", "Fix.UsesGood", "Fix.Sorry"} <= set(compiled)
    for module in compiled:
        rel = Path(".lake/build/lib/lean", *module.split("."))
        for suffix in (".olean", ".ilean", ".olean.server", ".olean.private", ".ir"):
            assert (warm_root / rel).with_name(rel.name + suffix).is_file(), (module, suffix)
        assert differences(plain_root / rel, warm_root / rel) == [], module


def test_comparison_sees_a_different_module(cold):
    """The comparison can fail: two different modules are told apart."""
    plain_root, _ = cold
    lib = plain_root / ".lake/build/lib/lean/Fix"
    assert differences(lib / "Good", lib / "UsesGood")


def test_worker_traces_keep_incremental_builds(warm, toolchain):
    again = build(warm.root, toolchain, BuildOptions(jobs=2, targets=("Good",)))
    assert [m.status for m in again.modules] == ["up-to-date", "up-to-date"]


def test_a_failing_file_fails_in_the_worker(warm):
    assert warm.bad.process.argv[0] == "<worker>" and warm.bad.process.returncode == 1 and not warm.bad.killed
    assert warm.bad.output.diagnostics
    assert {(d.severity, d.line) for d in warm.bad.output.diagnostics} == {("error", 1)}


def test_killed_job_is_reported_and_the_worker_replaced(warm):
    # past a limit: killed and said so, never passed; the next job gets a fresh worker
    assert warm.spun.killed == "time limit: still running after 5 s" and not warm.spun.process.ok
    assert warm.after.process.ok and [d.text.strip() for d in warm.after.output.diagnostics] == ["42"]
    assert warm.hog.killed is not None and "memory limit" in warm.hog.killed and not warm.hog.process.ok
    # the build's worker (it outlives the build's threads), and its replacement after the time limit
    assert warm.starts == 2


def test_no_state_leaks_between_jobs(warm):
    texts = [d.text for d in warm.fresh.output.diagnostics]
    assert texts[0].strip() == "5" and "Unknown identifier" in texts[1] and warm.fresh.process.returncode == 1


@pytest.mark.parametrize(("argv", "expected"), [
    (["build"], 2), (["build", "-j", "1"], 1), (["build", "--no-worker"], 0),
    (["evidence", "--out", "x", "--no-worker"], 0), (["check"], 2), (["prove", "x"], 1),
    (["prove", "x", "--no-worker"], 0), (["bench"], 1),
])
def test_which_commands_use_workers(argv, expected):
    assert worker_count(build_parser().parse_args(argv)) == expected
