"""Run every check the executable side has: closed forms, properties, differential, claims."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from verifier.checks import catalog, claims, constants, differential, properties
from verifier.checks.model import CheckReport, ClosedFormResult, RooflineRow
from verifier.closed_forms import MATMUL_ERROR_BOUND, MAX_SAFE_K, max_safe_k, seed_bound_condition, worst_accumulator
from verifier.lean.batch import run_batch
from verifier.lean.process import Limits
from verifier.lean.toolchain.base import Toolchain
from verifier.planner import LLAMA_70B_LAYERS, SCHEME, plan_shape, roofline, tile_bytes, tile_count
from verifier.requirements import spec


def closed_forms() -> list[ClosedFormResult]:
    """The sympy forms against the requirements file's constants."""
    sp = spec()
    widths = (sp.value("activation_bits"), sp.value("weight_hi_bits"), sp.value("accumulator_bits"))
    safe = max_safe_k(*widths)
    claimed = sp.value("claimed_max_k")
    worst = worst_accumulator(widths[0], widths[1], claimed)
    cond = seed_bound_condition()
    return [
        ClosedFormResult("max_safe_k", "REQ-OVF", str(MAX_SAFE_K), f"{safe} at {widths}",
                         f">= claimed_max_k = {claimed}", safe >= claimed),
        ClosedFormResult("worst_accumulator", "REQ-OVF", "K * 2^(bits_a-1) * 2^(bits_w-1)", f"{worst} at K={claimed}",
                         f"<= int32_max = {sp.value('int32_max')}", worst <= sp.value("int32_max")),
        ClosedFormResult("matmul_error_bound", "REQ-MM", str(MATMUL_ERROR_BOUND),
                         f"<= K*s iff {cond.relation}", "M <= 2 (the design's hidden hypothesis)",
                         str(cond.max_activation) == "2"),
    ]


def roofline_rows(batches: tuple[int, ...] = (1, 64, 2048)) -> list[RooflineRow]:
    """The planner and the roofline model on LLaMA-70B's layers, for decode (M = 1, 64) and prefill."""
    rows = []
    for name, k, n in LLAMA_70B_LAYERS:
        for m in batches:
            shape = plan_shape(m, k, n)
            r = roofline(m, k, n)
            used = tile_bytes(shape.rows, 0, shape.reds, shape.cols)
            rows.append(RooflineRow(name, m, k, n, f"{shape.rows}x{shape.reds}x{shape.cols}", tile_count(m, k, n),
                                    used, round(r.utilisation, 4), round(r.intensity, 2), r.bound, r.seconds,
                                    spec().value("tile_budget_bytes") - used, r.bytes_moved, r.lower_bound_bytes,
                                    SCHEME))
    return rows


def run_checks(chain: Toolchain, lean_dir: Path, *, seed: int = properties.DEFAULT_SEED, scale: float = 1.0,
               cases: int = 24, limits: Limits | None = None, reuse: bool = False,
               with_differential: bool = True, props: catalog.PropertyRun | None = None,
               workers: int = 2, slices: int = 1) -> CheckReport:
    """Everything `quantproof check` reports; the Lean project must already be built. The constants are
    always confirmed by the kernel, the differential families unless `with_differential` is off (the verdict
    then fails). With `reuse`, the verdicts of an identical Lean batch (same cases, same compiled modules,
    same toolchain) are reused. The properties are `props` if the caller started them, else they start here
    in `workers` processes, before the Lean batch's thread (a fork needs this process single-threaded). The
    batch runs as up to `slices` slices at once on the warm workers."""
    fams = differential.families(seed, cases) if with_differential else []
    with contextlib.ExitStack() as stack:
        run = props or stack.enter_context(catalog.PropertyRun(seed, scale, workers))
        # Lean elaborates the batch while Python runs the properties
        beside = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        pending = beside.submit(run_batch, chain, lean_dir, differential.IMPORTS,
                                differential.snippets(fams) + constants.snippets(spec()), limits=limits, reuse=reuse,
                                slices=slices)
        results = run.results()
        batch = pending.result()
    return CheckReport(tuple(closed_forms()), tuple(results), tuple(differential.results(fams, batch)),
                       tuple(claims.audit_claims()), batch.elapsed_s, batch.killed,
                       tuple(h.first_line() for h in batch.header_errors), batch.reused, tuple(roofline_rows()),
                       constants.results(spec(), batch))


def format_report(report: CheckReport) -> str:
    """The human-readable table."""
    out = ["Properties (Hypothesis)"]
    for p in report.properties:
        margin = "—" if p.worst_margin is None else f"{p.worst_margin:.3g}"
        out.append(f"  {'PASS' if p.passed else 'FAIL'}  {p.req:<9} {p.name:<32} {p.examples_run:>4} run "
                   f"{p.examples_filtered:>3} filtered  seed {p.seed}  worst margin {margin}")
        if p.counterexample:
            out.append(f"        counterexample: {p.counterexample}")
    rate = report.differential_cases / report.lean_elapsed_s if report.lean_elapsed_s else 0
    out.append(f"Differential (Lean kernel vs NumPy): {report.differential_cases} cases, {report.disagreements} "
               f"disagreements, one Lean process, {report.lean_elapsed_s:.1f} s ({rate:.1f} cases/s)")
    for why in (report.lean_killed, *report.lean_header_errors):
        if why:
            out.append(f"  LEAN FAILED: {why}")
    for d in report.differential:
        out.append(f"  {'PASS' if not d.disagreements else 'FAIL'}  {d.req:<9} {d.name:<16} {len(d.cases):>3} cases "
                   f"{d.lean_definition} = {d.numpy_function}")
        for c in d.cases:
            if not c.agreed:
                out.append(f"        disagree: {c.lean_expr[:120]} (NumPy: {c.numpy_value}) {c.lean_message[:100]}")
    out.append("Constants (requirements.toml = Lean, by the kernel)")
    for c in report.constants:
        out.append(f"  {'PASS' if c.agreed else 'FAIL'}  {c.name:<18} {c.lean} = {c.lean_value}  "
                   f"(requirements.toml: {c.expected})")
    out.append("Closed forms (sympy)")
    for c in report.closed_forms:
        out.append(f"  {'PASS' if c.agreed else 'FAIL'}  {c.req:<9} {c.name:<20} {c.value}  expected {c.expected}")
    out.append("Claims audit (design documents)")
    for c in report.claims:
        out.append(f"  {c.verdict.upper():<22} {c.claim}")
        out.append(f"  {'':<22} -> {c.value}")
    out.append("LPU model (320x320 PEs, 220 KiB per tile; 900 MHz and 80 TB/s assumed): LLaMA-70B layers")
    out.append(f"  dataflow: {SCHEME}")
    for r in report.roofline:
        out.append(f"  {r.layer:<28} M={r.m:<5} tile {r.tile:<11} {r.tiles:>6} tiles {r.tile_bytes:>7} B "
                   f"(slack {r.slack_bytes:>6})  utilisation {r.utilisation:6.1%}  traffic {r.bytes_moved:>14,} B "
                   f"= {r.traffic_ratio:5.2f}x the lower bound  {r.bound}")
    out.append(f"check {'PASSED' if report.passed else 'FAILED'}")
    return "\n".join(out)
