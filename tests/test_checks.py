"""`quantproof check`: properties pass on the real kernels and fail on broken ones; the Lean kernel
agrees with NumPy bit for bit and disagrees with a broken kernel; the claims audit gives verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from tests.helpers import REPO, run_cli
from verifier import planner
from verifier.checks import catalog, claims, mutants, properties
from verifier.checks.catalog import PROPERTIES, PropertyRun, run_all
from verifier.checks.properties import Property, Recorder, run_property
from verifier.checks.runner import run_checks


def naive_quantize_levels(x, s, qmin, qmax):
    """The obvious kernel: rint of the float64 quotient. Wrong on float near-ties."""
    return np.clip(np.rint(np.asarray(x, np.float64) / np.asarray(s, np.float64)), qmin, qmax).astype(np.int8)


def floor_quantize_levels(x, s, qmin, qmax):
    """A kernel bug: floor instead of round."""
    return np.clip(np.floor(np.asarray(x, np.float64) / np.asarray(s, np.float64)), qmin, qmax).astype(np.int8)


def test_every_property_passes_and_reports_its_run():
    results = run_all()
    assert {r.name for r in results} == {p.name for p in PROPERTIES}
    failed = {r.name: r.counterexample for r in results if not r.passed}
    assert failed == {}
    for r in results:
        assert r.examples_run >= 5 and r.seed == properties.DEFAULT_SEED and r.req.startswith("REQ-")
    margins = {r.name: r.worst_margin for r in results}
    assert margins["quant_error_in_range"] == 0.0  # the bound is attained (a tie at the half-step edge)
    assert 0 <= margins["planner_within_budget"] < 0.01  # the planner fills the budget


FEW = {"quant_error_in_range", "pack_pair_roundtrip", "e2e_bound", "planner_exact_cover"}


def _same(results) -> list:
    return [replace(r, elapsed_s=0.0) for r in results]


def _fresh(body: str) -> None:
    """Run `body` (a function of this module) in a new interpreter: `PropertyRun` forks only while its
    process has no other thread, and a test process may hold a Lean spawner thread from an earlier test."""
    run = subprocess.run([sys.executable, "-c", f"from tests.test_checks import {body}; {body}()"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]


def forked_results_are_the_serial_ones() -> None:
    with PropertyRun(workers=2, only=FEW) as run:
        assert run.forked, threading.enumerate()
        assert [p.name for p in run.props] == [p.name for p in PROPERTIES if p.name in FEW]
        assert _same(run.results()) == _same(run_all(only=FEW))
        assert run.beside(sorted, [3, 1, 2])() == [1, 2, 3]  # a job beside them answers too
        assert run.beside(os.nice, 0)() == min(19, os.nice(0) + catalog.NICE)  # a cold build's Lean first


def forked_run_sees_a_kernel_patched_before_it() -> None:
    properties.quantize_levels = floor_quantize_levels
    with PropertyRun(workers=2, only={"quant_error_in_range"}) as run:
        assert run.forked
        [result] = run.results()
    assert not result.passed and "error" in (result.counterexample or "")


def _die(*_args: object) -> None:
    os._exit(9)


def a_worker_that_dies_fails_its_properties() -> None:
    catalog._run_named = _die
    with PropertyRun(workers=2, only=FEW) as run:
        assert run.forked
        results = run.results()
        assert run.beside(sorted, [2, 1])() == [1, 2]  # run here: the pool is broken
    assert len(results) == len(FEW) and not any(r.passed for r in results)
    assert all("worker process running it died" in (r.counterexample or "") for r in results)


@pytest.mark.parametrize("body", ["forked_results_are_the_serial_ones", "forked_run_sees_a_kernel_patched_before_it",
                                  "a_worker_that_dies_fails_its_properties"])
def test_forked_property_runs(body):
    _fresh(body)


def test_with_another_thread_alive_the_properties_run_here():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with PropertyRun(workers=2, only={"pack_pair_roundtrip"}) as run:
            assert not run.forked
            [result] = run.results()
            assert run.beside(sorted, [2, 1])() == [1, 2]
        assert result.passed and result.examples_run >= 5
    finally:
        stop.set()
        other.join()


def test_a_broken_quantizer_fails_its_property(monkeypatch):
    monkeypatch.setattr(properties, "quantize_levels", floor_quantize_levels)
    result = run_property(next(p for p in PROPERTIES if p.name == "quant_error_in_range"))
    assert not result.passed and "error" in (result.counterexample or "")


def test_a_strategy_that_filters_everything_fails():
    def build(rec: Recorder):
        from hypothesis import given
        from hypothesis import strategies as st

        @given(st.integers())
        def test(i):
            rec.calls += 1
            rec.keep(False)
        return test

    result = run_property(Property("vacuous", "REQ-X", "filters all", "integers", "none", build))
    assert not result.passed and "FailedHealthCheck" in (result.counterexample or "")


def test_differential_agrees_and_catches_kernel_and_planner_bugs(project_build, toolchain):
    """The batch `quantproof check` and `quantproof evidence` run agrees everywhere; a second batch, run beside
    it (two Lean processes fit this machine), shows Lean catching broken kernels and planners."""
    from concurrent.futures import ThreadPoolExecutor

    from verifier.checks.differential import families, results, snippets
    from verifier.lean.batch import run_batch

    # the obvious float kernel (np.rint of x / s) rounds some near-ties the wrong way
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("verifier.checks.differential.quantize_levels", naive_quantize_levels)
        broken = [f for f in families(11) if f.name in ("quantize", "dequantize", "pack_pair")]
    # planners that forget the second weight buffer, or charge a chunk straddling two groups for one (a few
    # shapes each: every failing case makes Lean print a large term)
    for fault, attr, value in (("single-buffer", "fixed_bytes", mutants.single_buffered),
                               ("one-group", "groups_touched", mutants.one_group_per_chunk)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(planner, attr, value)
            broken += [replace(f, name=f"{f.name}-{fault}", cases=f.cases[:2])
                       for f in families(11) if f.name == "plan_shape"]
    broken = _kernel_bug_families() + broken
    with ThreadPoolExecutor(max_workers=1) as beside:
        pending = beside.submit(run_batch, toolchain, REPO / "lean", ("Quantproof",), snippets(broken))
        # the batch `quantproof evidence` runs too: whichever of the two wants it first runs it in Lean, and the
        # other (and the later `check` tests) read its saved verdict (its key is the file, modules and toolchain)
        report = run_checks(toolchain, REPO / "lean", scale=0.05, reuse=True)
        batch = pending.result()
    assert report.lean_killed is None and not report.lean_header_errors
    assert report.constants and all(c.agreed for c in report.constants)
    results_ = report.differential
    assert sum(len(r.cases) for r in results_) >= 200
    assert [r.name for r in results_ if r.disagreements] == []
    assert {r.req for r in results_} == {"REQ-PACK", "REQ-QERR", "REQ-OVF", "REQ-MM", "REQ-TILE", "REQ-SCALE",
                                         "REQ-ACT", "REQ-E2E"}
    assert batch.killed is None and not batch.header_errors
    found = {r.name: r for r in results(broken, batch)}
    assert found["quantize"].disagreements >= 1
    assert found["pack_pair"].disagreements == 0
    assert found["plan_shape-single-buffer"].disagreements >= 1
    assert found["plan_shape-one-group"].disagreements >= 1
    _assert_kernel_bugs_caught(found)


def _reference_rmse(w: np.ndarray) -> tuple[float, float]:
    """Relative RMSE of the two formats, computed from their definitions without the kernels: per-channel
    INT4 (scale max|w| / 7), and groups of 128 with one scale per lane (max|w| / 7 for even k, / 3 for
    odd k). fp16 rounding of the scales is left out: it moves the figures by well under a percent."""
    w = w.astype(np.float64)
    power = np.mean(w**2)
    s4 = np.abs(w).max(axis=1, keepdims=True) / 7
    int4 = np.clip(np.round(w / s4), -8, 7) * s4
    groups = w.reshape(w.shape[0], -1, 128)
    deq = np.empty_like(groups)
    for lane, (lo, hi) in ((0, (-8, 7)), (1, (-4, 3))):
        part = groups[..., lane::2]
        s = np.abs(part).max(axis=2, keepdims=True) / hi
        deq[..., lane::2] = np.clip(np.round(part / s), lo, hi) * s
    return (float(np.sqrt(np.mean((groups - deq) ** 2) / power)), float(np.sqrt(np.mean((w - int4) ** 2) / power)))


def test_a_batch_wanted_twice_at_once_runs_once(tmp_path, monkeypatch):
    """Two runs that want the same Lean batch at once (`check` beside `evidence`): one runs Lean, the other
    waits for it and reads its saved verdict."""
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from verifier.lean import batch
    from verifier.lean.batch import BatchResult, Snippet, SnippetResult, run_batch

    ran: list[str] = []

    def slow_lean(chain, lean_dir, text, spans, snippets, limits, profile) -> BatchResult:
        ran.append(text)
        time.sleep(1.0)
        return BatchResult(tuple(SnippetResult(s.key, True, ()) for s in snippets), (), 1.0, 0, None)

    monkeypatch.setattr(batch, "_run", slow_lean)
    chain = SimpleNamespace(identity="stub", kind="native")
    snippets = [Snippet("one", "example : True := trivial"), Snippet("two", "example : 1 = 1 := rfl")]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_batch(chain, tmp_path, ["Init"], snippets, reuse=True), range(2)))
    assert len(ran) == 1 and sorted(r.reused for r in runs) == [False, True]
    assert [[r.key for r in run.results] for run in runs] == [["one", "two"]] * 2


def test_claims_audit_verdicts():
    found = {c.claim: c for c in claims.audit_claims()}
    size = found["19 GB model size (46% smaller than INT4)"]
    assert size.verdict == "false" and 32 < size.details["total_gb"] < 34  # 70e9 * 3.5 / 8 = 30.6 GB + scales
    assert found["for all x in R, |x - D(Q(x))| <= scale/2"].verdict == "false"
    assert found["for all matmuls with K <= 8192, accumulator < 2^31"].details["max_safe_k"] == 2097151
    error = found["3.5-bit has 10.6% lower error than INT4 (RMSE 14.94%)"]
    gaussian = np.random.default_rng(claims.CLAIM_SEED).standard_normal((1024, 4096)).astype(np.float32)
    ours, int4 = _reference_rmse(gaussian)
    measured = error.details["gaussian"]
    assert abs(measured["q35_rmse_rel"] - ours) < 0.01 and abs(measured["int4_rmse_rel"] - int4) < 0.01
    assert ours > int4  # on Gaussian weights the 3-bit lane costs more than per-channel scales save
    assert error.verdict == "false"


def test_check_command_end_to_end(project_build):
    proc = run_cli("check", "--json", "--examples-scale", "0.3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["passed"] and data["disagreements"] == 0 and data["differential_cases"] >= 150
    assert len(data["properties"]) == len(PROPERTIES) and len(data["claims"]) >= 6
    table = run_cli("check", "--examples-scale", "0.1")
    assert "check PASSED" in table.stdout and "Differential (Lean kernel vs NumPy)" in table.stdout


def _kernel_bug_families() -> list:
    """The end-to-end differential family (Lean's kernel from float inputs against NumPy's reference twin)
    for an honest twin, one that forgets the second lane's scale, and one that accumulates in int16, on the
    shapes each bug shows in: two groups of 16 (a second lane scale to forget) and one group of 128 (the only
    partials past int16)."""
    from verifier.checks.kernel_cases import kernel_families
    from verifier.kernels import reference

    honest_kernel, honest_partials = reference.reference_kernel, reference.lane_partials

    def forgets_second_scale(x, qw):
        return honest_kernel(x, replace(qw, scales_lo=qw.scales_hi))

    def int16_partials(a, q, g):
        return (honest_partials(a, q, g) + 2**15) % 2**16 - 2**15

    def first_lane_scales(trace, n):  # the bound with the first lane's scale at every position
        return [Fraction(float(trace.scales[n, k // trace.group_size, 0])) for k in range(trace.weights.shape[1])]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reference.KernelTrace, "element_scales", first_lane_scales)
        variants = [replace(f, name=f"{f.name}-one-lane", cases=f.cases[:2])
                    for f in kernel_families(np.random.default_rng(3), 4) if f.name == "e2e_bound_value"]
    for name, attr, value, shapes in (
            ("honest", None, None, ("Quantproof.rowScales 16 2 ", "Quantproof.rowScales 128 1 ")),
            ("one-scale", "reference_kernel", forgets_second_scale, ("Quantproof.rowScales 16 2 ",)),
            ("int16", "lane_partials", int16_partials, ("Quantproof.rowScales 128 1 ",))):
        with pytest.MonkeyPatch.context() as patch:
            if attr == "reference_kernel":
                patch.setattr("verifier.checks.kernel_cases.reference_kernel", value)
            elif attr:
                patch.setattr(reference, attr, value)
            fams = [f for f in kernel_families(np.random.default_rng(3), 4) if f.name == "kernel_output"]
        variants += [replace(f, name=f"{f.name}-{name}", cases=[c for c in f.cases if c[0].startswith(shapes)])
                     for f in fams]
    return variants


def _assert_kernel_bugs_caught(found: dict) -> None:
    assert [len(found[f"kernel_output-{name}"].cases) for name in ("honest", "one-scale", "int16")] == [8, 4, 4]
    assert found["kernel_output-honest"].disagreements == 0
    assert found["e2e_bound_value-one-lane"].disagreements == len(found["e2e_bound_value-one-lane"].cases) == 2
    assert found["kernel_output-one-scale"].disagreements == len(found["kernel_output-one-scale"].cases)
    int16 = found["kernel_output-int16"]
    assert 1 <= int16.disagreements < len(int16.cases)  # only the rows whose partials pass int16 wrap
    assert all("all at their peaks" in c.numpy_value for c in int16.cases if not c.agreed)
    assert not any("Lean stopped" in (c.lean_message or "") for f in found.values() for c in f.cases)
