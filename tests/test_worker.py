"""The warm Lean worker: the same results as one `lean` process per file, and the watchdog still applies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import copy_fixture
from verifier.cli import build_parser, worker_count
from verifier.lean.batch import BatchResult, Snippet, run_batch
from verifier.lean.build import BuildOptions, BuildResult, build
from verifier.lean.build.compare import differences
from verifier.lean.process import Limits
from verifier.lean.toolchain.base import LeanRun
from verifier.lean.worker import (
    HEAP_RETIRE_BYTES,
    heap_in_maps,
    pool_for,
    should_retire,
    warm_workers,
    wasm_heap_bytes,
)

# Checks of the fixture's `triple`: passing, failing, a `sorry`, a value printed, over more lines than one.
SNIPPETS = [Snippet("add", "example : Fix.triple 2 = 6 := by decide"),
            Snippet("wrong", "example : Fix.triple 2 = 7 := by decide"),
            Snippet("value", "#reduce Fix.triple 14"),
            Snippet("sorry", "example : Fix.triple 0 = 0 := by\n  sorry"),
            Snippet("lemma", "example (a : Nat) :\n    Fix.triple (a + a) = Fix.triple a + Fix.triple a :=\n"
                             "  Fix.triple_add a a"),
            Snippet("unknown", "#check Fix.quadruple"),
            Snippet("last", "example : True := trivial")]
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
    sliced: BatchResult
    whole: BatchResult
    spun: LeanRun
    after: LeanRun
    fresh: LeanRun
    crash: LeanRun
    hog: LeanRun
    heap: int | None
    starts: int
    retired: int


@pytest.fixture(scope="module")
def warm(tmp_path_factory, toolchain, replay_ready) -> WarmRun:
    """(`replay_ready`: the session's background replay must not land in this module's worker pool.)"""
    root = copy_fixture("buildproj", tmp_path_factory.mktemp("warm"))
    with warm_workers(1):
        result = build(root, toolchain, BuildOptions(jobs=2))
        sliced = run_batch(toolchain, root, ["Fix.Good"], SNIPPETS, slices=3)
        whole = run_batch(toolchain, root, ["Fix.Good"], SNIPPETS)
        bad = toolchain.run_file("theorem bad : 1 = 2 := rfl\n")
        spun = toolchain.run_file(SPIN, limits=Limits(timeout_s=5.0))
        after = toolchain.run_file("theorem again : 2 + 2 = 4 := rfl\ndef v : Nat := 6 * 7\n#eval v\n")
        # the same file name (so the same module) with another `v`: nothing of the last job may remain
        fresh = toolchain.run_file("def v : Nat := 5\n#eval v\n#check again\n")
        pool = pool_for(toolchain)
        assert pool is not None and pool.workers[0].proc is not None
        heap = wasm_heap_bytes(pool.workers[0].proc.pid)
        # a worker that dies on its own after earlier jobs is replaced and the job run once more
        crash = toolchain.run_file("#eval (IO.Process.exit 3 : IO Unit)\n")
        hog = toolchain.run_file("theorem small : True := trivial\n", limits=Limits(memory_bytes=256 * 1024**2))
        return WarmRun(root, result, bad, sliced, whole, spun, after, fresh, crash, hog, heap, pool.starts,
                       sum(w.retired for w in pool.workers))


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


def test_a_sliced_batch_answers_as_the_whole_file(warm):
    """Three slices queued on one worker: the same verdicts and messages, at the lines of the one file."""
    def seen(batch: BatchResult) -> list[tuple]:
        return [(r.key, r.ok, r.first_line, [(d.severity, d.line, d.column, d.text) for d in r.diagnostics])
                for r in batch.results]

    assert not warm.sliced.reused and not warm.whole.reused and warm.sliced.killed is None
    assert seen(warm.sliced) == seen(warm.whole) and not warm.sliced.header_errors
    assert [r.key for r in warm.sliced.results if r.ok] == ["add", "value", "lemma", "last"]
    value = warm.whole.by_key()["value"]
    assert any(d.text.strip() == "42" and d.line == value.first_line for d in value.diagnostics)


def test_killed_job_is_reported_and_the_worker_replaced(warm):
    # past a limit: killed and said so, never passed; the next job gets a fresh worker
    assert warm.spun.killed == "time limit: still running after 5 s" and not warm.spun.process.ok
    assert warm.after.process.ok and [d.text.strip() for d in warm.after.output.diagnostics] == ["42"]
    assert warm.hog.killed is not None and "memory limit" in warm.hog.killed and not warm.hog.process.ok
    # the build's worker (it outlives the build's threads), its replacement after the time limit, the
    # one the crashing job ran again in, and the hog's
    assert warm.starts == 4


def test_a_worker_that_dies_is_replaced_and_the_job_run_again(warm):
    assert warm.crash.killed is not None and "the Lean worker exited (status 3)" in warm.crash.killed
    assert not warm.crash.process.ok and warm.retired == 1


def test_the_workers_heap_is_read(warm):
    """The heap (what retires a worker) is the wasm memory: a few hundred MB after a few small jobs."""
    assert warm.heap is not None and 100 * 1024**2 < warm.heap < HEAP_RETIRE_BYTES


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


MAPS = """55d0c0000000-55d0c0100000 r-xp 00000000 08:01 123 /usr/bin/node
7fe08c000000-7fe0b4da0000 rw-p 00000000 00:00 0
7fe0b4da0000-7fe28c000000 ---p 00000000 00:00 0
7fe2c4000000-7fe2e3dc0000 rwxp 00000000 00:00 0
7fe300000000-7fe300021000 rw-p 00000000 00:00 0
7fe300021000-7fe304000000 ---p 00000000 00:00 0
"""


def test_the_heap_is_the_committed_bottom_of_the_wasm_reservation():
    assert heap_in_maps(MAPS) == 0x7FE0B4DA0000 - 0x7FE08C000000
    # a small guard region (a thread's arena) is not the wasm memory; no reservation, no answer
    assert heap_in_maps(MAPS.replace("7fe0b4da0000-7fe28c000000 ---p", "7fe0b4da0000-7fe0b4db0000 ---p")) is None
    # the reservation must start where the writable part ends
    assert heap_in_maps(MAPS.replace("7fe0b4da0000-7fe28c000000 ---p", "7fe0b4da1000-7fe28c000000 ---p")) is None
    assert heap_in_maps("") is None


@pytest.mark.parametrize(("peak_gib", "heap_gib", "retire"), [
    (9.5, 0.5, True), (8.5, 0.5, False), (4.0, 1.6, True), (4.0, 1.4, False), (4.0, None, False),
])
def test_a_worker_is_retired_near_its_limit_or_the_heap_ceiling(peak_gib, heap_gib, retire):
    heap = None if heap_gib is None else int(heap_gib * 1024**3)
    assert should_retire(int(peak_gib * 1024**3), heap, Limits(memory_bytes=10 * 1024**3)) is retire


def test_the_benchmark_finds_a_builds_critical_path():
    """The critical path is the slowest import chain (Rat -> Fp16 -> E2E -> Quantproof here), not the sum."""
    from verifier.benchmarks.worker import job_times
    from verifier.lean.build import ModuleResult

    lean_dir = Path(__file__).resolve().parents[1] / "lean"
    slow = {"Quantproof.Rat": 2.0, "Quantproof.Fp16": 30.0, "Quantproof.E2E": 5.0, "Quantproof": 1.0}
    modules = tuple(ModuleResult(name, "", "built", True, (), (), slow.get(name, 3.0)) for name in (
        *slow, "Quantproof.Constants", "Quantproof.Quant", "Quantproof.Matmul", "Quantproof.Activations",
        "Quantproof.Kernel", "Quantproof.Accum", "Quantproof.Pack", "Quantproof.Layout", "Quantproof.Tile"))

    @dataclass
    class Core:
        def has_core_module(self, module: str) -> bool:
            return module.split(".")[0] in ("Init", "Std", "Lean")

    times = job_times(lean_dir, Core(), BuildResult("quantproof", "portable", "", 2, ("Quantproof",), modules, 0.0))
    assert times["critical_path_s"] == 38.0
    assert times["jobs_sum_s"] == 38.0 + 9 * 3.0
    assert times["module_s"]["Quantproof.Fp16"] == 30.0
