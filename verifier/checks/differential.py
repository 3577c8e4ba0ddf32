"""Differential checks: the Lean kernel evaluates the Lean spec on inputs NumPy also ran, and must
agree bit for bit.

Across modules the portable Lean cannot `#eval` imported definitions, so each case is a generated
`example : spec(inputs) = numpy_answer := by decide` (kernel evaluation; `decide +kernel` where the
elaborator's reduction gets stuck on `Rat`). All cases run in one Lean process.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from verifier.checks.kernel_cases import kernel_families
from verifier.checks.lean_terms import Family, lean_int, lean_list, lean_rat
from verifier.checks.model import DifferentialCase, DifferentialResult
from verifier.closed_forms import max_safe_k
from verifier.kernels import matmul as mm
from verifier.kernels.pack import HI_MAX, HI_MIN, LO_MAX, LO_MIN, PAIR_TABLE, pack_codes, pack_pairs
from verifier.kernels.quant import dequantize_levels, quantize_levels, quantize_weights
from verifier.lean.batch import BatchResult, Snippet, run_batch
from verifier.lean.process import Limits
from verifier.lean.toolchain.base import Toolchain
from verifier.planner import check_reserve, max_reserve, plan, plan_shape, plan_traffic, tile_bytes, tile_count
from verifier.requirements import spec

IMPORTS = ("Quantproof",)


def _pack_families(rng: np.random.Generator, n: int) -> list[Family]:
    first = rng.integers(HI_MIN, HI_MAX + 1, n).astype(np.int8)
    second = rng.integers(LO_MIN, LO_MAX + 1, n).astype(np.int8)
    codes = pack_pairs(first, second)
    pairs = [(f"Quantproof.packPair {lean_int(int(a))} {lean_int(int(b))} = {int(c)}", str(int(c)), "decide")
             for a, b, c in zip(first, second, codes, strict=True)]
    table = [(f"Quantproof.unpackPair {c} = ({lean_int(int(PAIR_TABLE[c][0]))}, {lean_int(int(PAIR_TABLE[c][1]))})",
              str(PAIR_TABLE[c].tolist()), "decide") for c in rng.choice(128, size=min(n, 128), replace=False)]
    raw = rng.integers(0, 256, n)
    fortran = [(f"Quantproof.fortranUnpack {b} = ({lean_int(int(PAIR_TABLE[b & 0x7F][0]))}, "
                f"{lean_int(int(PAIR_TABLE[b & 0x7F][1]))})", str(PAIR_TABLE[b & 0x7F].tolist()), "decide")
               for b in raw]
    streams = []
    for length in (8, 16, 24, 40):
        cs = rng.integers(0, 128, length).astype(np.uint8)
        packed = pack_codes(cs)
        streams.append((f"Quantproof.packStream {lean_list(cs.tolist())} = {lean_list(packed.tolist())}",
                        str(packed.tolist()), "decide +kernel"))
    return [
        Family("pack_pair", "REQ-PACK", "Quantproof.packPair", "verifier.kernels.pack.pack_pairs",
               "(first mod 16) * 8 + (second mod 8) on int8 lanes; Lean on Int", pairs),
        Family("unpack_table", "REQ-PACK", "Quantproof.unpackPair", "verifier.kernels.pack.PAIR_TABLE",
               "128-entry table of sign-extended halves", table),
        Family("fortran_unpack", "REQ-PACK", "Quantproof.fortranUnpack", "PAIR_TABLE[byte & 0x7F]",
               "the design's Fortran on a raw byte = table lookup of its low 7 bits", fortran),
        Family("pack_stream", "REQ-PACK", "Quantproof.packStream", "verifier.kernels.pack.pack_codes",
               "8 codes -> 7 bytes, little-endian 56-bit word", streams),
    ]


def _float_tie_traps(rng: np.random.Generator, count: int) -> list[tuple[str, str, str]]:
    """Boundary cases: x = (k + 1/2) * s in float64 where the float quotient x / s is exactly k + 1/2 but
    the exact one is not, chosen so that rounding the float quotient half to even gives the wrong level."""
    cases = []
    while len(cases) < count:
        s = float(rng.uniform(0.01, 1.0))
        k = int(rng.integers(HI_MIN, HI_MAX))
        x = (k + 0.5) * s
        exact = Fraction(x) / Fraction(s)
        if x / s != k + 0.5 or exact == Fraction(2 * k + 1, 2) or round(exact) == np.rint(x / s):
            continue
        level = int(quantize_levels(np.array([x]), s, HI_MIN, HI_MAX)[0])
        cases.append((f"Quantproof.quantize {lean_rat(s)} {lean_int(HI_MIN)} {lean_int(HI_MAX)} {lean_rat(x)} = "
                      f"{lean_int(level)}", str(level), "decide +kernel"))
    return cases


def _quant_families(rng: np.random.Generator, n: int) -> list[Family]:
    w = rng.standard_normal((4, 64)).astype(np.float32) * np.float32(0.05)
    qw = quantize_weights(w, 32)
    scales = qw.element_scales()
    cases, deq_cases = [], []
    for i in range(n):
        r, c = int(rng.integers(0, 4)), int(rng.integers(0, 64))
        lane = (HI_MIN, HI_MAX) if c % 2 == 0 else (LO_MIN, LO_MAX)
        s = float(scales[r, c])
        kind = i % 5
        if kind == 0:  # a real weight and its fp16 scale
            x = float(w[r, c])
        elif kind == 1:  # an exact tie: (k + 1/2) s is representable for an fp16 s
            x = (float(rng.integers(lane[0], lane[1])) + 0.5) * s
        elif kind == 2:  # anywhere, out of range included
            x = float(rng.uniform(lane[0] - 3, lane[1] + 3)) * s
        elif kind == 3:
            x = float(np.float32(w[r, c] * 7))
        else:  # a float64 scale: (k + 1/2) * s rounds, so the exact quotient is near a tie, not on it
            s = float(rng.uniform(0.01, 1.0))
            x = (float(rng.integers(lane[0], lane[1])) + 0.5) * s
        level = int(quantize_levels(np.array([x]), s, *lane)[0])
        cases.append((f"Quantproof.quantize {lean_rat(s)} {lean_int(lane[0])} {lean_int(lane[1])} {lean_rat(x)} = "
                      f"{lean_int(level)}", str(level), "decide +kernel"))
        if i < n // 2 and kind != 4:  # level * s is exact in float64 for the format's fp16 scales only
            value = float(dequantize_levels(np.array([level], np.int8), s)[0])
            deq_cases.append((f"Quantproof.quantDeq {lean_rat(s)} {lean_int(lane[0])} {lean_int(lane[1])} "
                              f"{lean_rat(x)} = {lean_rat(value)}", repr(value), "decide +kernel"))
    cases += _float_tie_traps(rng, max(4, n // 4))
    return [
        Family("quantize", "REQ-QERR", "Quantproof.quantize", "verifier.kernels.quant.quantize_levels",
               "round half to even of x / s (np.rint in float64 vs exact Rat), then clamp; includes ties and "
               "out-of-range x", cases),
        Family("dequantize", "REQ-MM", "Quantproof.quantDeq", "verifier.kernels.quant.dequantize_levels",
               "level * s: exact in float64 for fp16 scales and small levels", deq_cases),
    ]


def _accumulator_families(rng: np.random.Generator, n: int) -> list[Family]:
    widths = [(8, 4, 32), (8, 3, 32), (8, 4, 16), (4, 4, 16), (8, 8, 32), (16, 4, 32), (8, 4, 24), (2, 2, 8)]
    ksafe = [(f"Quantproof.maxSafeK {a} {w} {acc} = {max_safe_k(a, w, acc)}", str(max_safe_k(a, w, acc)), "decide")
             for a, w, acc in widths]
    dots, macs = [], []
    for i in range(n):
        k = int(rng.integers(1, 40))
        a = rng.integers(-128, 128, (1, k)).astype(np.int8)
        q = rng.integers(-8, 8, (1, k)).astype(np.int8)
        v = int(mm.int_matmul(a, q)[0, 0])
        dots.append((f"Quantproof.dotInt {lean_list(a[0].tolist(), lean_int)} {lean_list(q[0].tolist(), lean_int)} = "
                     f"{lean_int(v)}", str(v), "decide +kernel"))
        if i < 6:
            wrapped = int(mm.int_matmul_wrapping(a, q)[0, 0])
            macs.append((f"(Quantproof.macInt32 0 {lean_list(a[0].tolist(), lean_int, 'Int8')} "
                         f"{lean_list(q[0].tolist(), lean_int, 'Int8')}).toInt = {lean_int(wrapped)}", str(wrapped),
                         "decide +kernel"))
    return [
        Family("max_safe_k", "REQ-OVF", "Quantproof.maxSafeK", "verifier.closed_forms.max_safe_k (sympy)",
               "floor((2^(acc-1) - 1) / (2^(a-1) 2^(w-1)))", ksafe),
        Family("dot_int", "REQ-OVF", "Quantproof.dotInt", "verifier.kernels.matmul.int_matmul",
               "exact integer dot product of int8 activations and 4-bit levels", dots),
        Family("mac_int32", "REQ-OVF", "Quantproof.macInt32", "verifier.kernels.matmul.int_matmul_wrapping",
               "wrapping int32 multiply-accumulate of int8 operands", macs),
    ]


def _tile_families(rng: np.random.Generator, n: int) -> list[Family]:
    """The planner's choices and byte counts, and whole plans, at several reserves."""
    top = max_reserve()
    shapes = [(1, 8192, 8192, None), (2048, 8192, 28672, None), (1, 1, 1, 0), (7, 319, 321, top),
              (2048, 28672, 8192, 0), (5, 100, 700, 50_000)]
    shapes += [(3, 320, 640, None), (2, 384, 90, 0)]  # K at the array's height (one chunk) and past it (whole groups)
    shapes += [(*(int(v) for v in rng.integers(1, 50000, 3)), int(rng.integers(0, top + 1))) for _ in range(n)]
    dims = []
    for m, k, nn, res in shapes:
        r = check_reserve(res)
        sh = plan_shape(m, k, nn, r)
        k0 = int(rng.integers(0, 4 * spec().value("group_size")))
        b, b0 = tile_bytes(sh.rows, 0, sh.reds, sh.cols), tile_bytes(sh.rows, k0, sh.reds, sh.cols)
        traffic = plan_traffic(m, k, nn, sh.rows, sh.cols)
        dims.append((f"Quantproof.planRows {r} {m} {k} {nn} = {sh.rows} ∧ Quantproof.planReds {k} = {sh.reds} ∧ "
                     f"Quantproof.planCols {r} {m} {k} {nn} = {sh.cols} ∧ "
                     f"Quantproof.tileBytes {sh.rows} 0 {sh.reds} {sh.cols} = {b} ∧ "
                     f"Quantproof.tileBytes {sh.rows} {k0} {sh.reds} {sh.cols} = {b0} ∧ "
                     f"Quantproof.planTraffic {m} {k} {nn} {sh.rows} {sh.cols} = {traffic}",
                     f"{sh} {b} B, at {k0}: {b0} B, {traffic} B moved", "decide +kernel"))
    plans = []
    for m, k, nn, res in [(3, 400, 330, 0), (1, 700, 20, None), (120, 321, 5, top), (2, 2, 2, 0),
                          (40, 600, 90, top - 20_000)]:
        r = check_reserve(res)
        tiles = list(plan(m, k, nn, r))
        body = ", ".join(f"({t.row}, {t.red}, {t.col}, {t.rows}, {t.reds}, {t.cols})" for t in tiles)
        plans.append((f"(Quantproof.plan {r} {m} {k} {nn}).map Quantproof.Tile.toTuple = [{body}] ∧ "
                      f"(Quantproof.plan {r} {m} {k} {nn}).length = {tile_count(m, k, nn, r)} ∧ "
                      f"Quantproof.maxReserve = {top}", f"{len(tiles)} tiles", "decide +kernel"))
    return [
        Family("plan_shape", "REQ-TILE", "Quantproof.planRows/planReds/planCols/tileBytes/planTraffic",
               "verifier.planner.plan_shape / tile_bytes / plan_traffic", "same constants from requirements.toml",
               dims),
        Family("plan_tiles", "REQ-TILE", "Quantproof.plan", "verifier.planner.plan",
               "every tile, in order", plans),
    ]


def families(seed: int, n: int = 24) -> list[Family]:
    rng = np.random.default_rng(seed)
    return (_pack_families(rng, n) + _quant_families(rng, n) + _accumulator_families(rng, n // 2)
            + _tile_families(rng, n // 2) + kernel_families(rng, n // 2))


def snippets(fams: list[Family]) -> list[Snippet]:
    """One `example` per case, keyed `family:index`."""
    return [Snippet(f"{f.name}:{i}", f"example : {prop} := by {tactic}")
            for f in fams for i, (prop, _, tactic) in enumerate(f.cases)]


def results(fams: list[Family], batch: BatchResult) -> list[DifferentialResult]:
    """Each case's Lean verdict beside NumPy's value."""
    verdicts = batch.by_key()
    out = []
    for f in fams:
        cases = []
        for i, (prop, value, _) in enumerate(f.cases):
            verdict = verdicts[f"{f.name}:{i}"]
            cases.append(DifferentialCase(f"{f.name}:{i}", f.req, prop, value, verdict.ok, verdict.first_error()))
        out.append(DifferentialResult(f.name, f.req, f.lean_definition, f.numpy_function, f.semantics, tuple(cases)))
    return out


def run_differential(chain: Toolchain, lean_dir: Path, seed: int, n: int = 24, limits: Limits | None = None,
                     reuse: bool = False) -> tuple[list[DifferentialResult], BatchResult]:
    """Evaluate every case in one Lean process and pair each verdict with its NumPy value."""
    fams = families(seed, n)
    batch = run_batch(chain, lean_dir, IMPORTS, snippets(fams), limits=limits, reuse=reuse)
    return results(fams, batch), batch
