"""Property checks (Hypothesis): the NumPy kernels against the bounds Lean proves.

Each property names its requirement, draws from real strategies over values, scales, shapes and
widths, records its seed and how many examples ran and were filtered, and reports its worst margin
(how close the kernel came to the bound). Hypothesis' health checks stay on, so a strategy that
filters almost everything fails instead of passing vacuously.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, Phase, assume, example, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from verifier.checks.model import DEFAULT_SEED, PropertyResult
from verifier.closed_forms import max_safe_k, seed_bound_condition
from verifier.kernels import matmul as mm
from verifier.kernels.pack import (
    HI_MAX,
    HI_MIN,
    LO_MAX,
    LO_MIN,
    PAIR_TABLE,
    pack_codes,
    pack_pairs,
    pack_weights,
    unpack_codes,
    unpack_weights,
)
from verifier.kernels.quant import quantize_levels, quantize_weights
from verifier.requirements import spec

LANES = {"hi": (HI_MIN, HI_MAX), "lo": (LO_MIN, LO_MAX)}


class Recorder:
    """What one property run saw: examples, filtered examples, margins, the last failing input."""

    def __init__(self) -> None:
        self.calls = 0
        self.filtered = 0
        self.margins: list[float] = []
        self.failing: str | None = None

    def keep(self, condition: bool) -> None:
        if not condition:
            self.filtered += 1
        assume(condition)

    def margin(self, value: float) -> None:
        self.margins.append(float(value))

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failing = what
        assert ok, what


@dataclass(frozen=True)
class Property:
    name: str
    req: str
    description: str
    strategy: str
    margin_meaning: str
    build: Callable[[Recorder], Callable[[], None]]
    examples: int = 100


def _settings(n: int, shrink: bool) -> settings:
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(max_examples=n, database=None, deadline=None, derandomize=False, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def refused(call: Callable[[], object]) -> bool:
    """Whether `call` raises ValueError (what every kernel and planner guard raises on bad input)."""
    try:
        call()
    except ValueError:
        return True
    return False


@contextlib.contextmanager
def poisoned_memory() -> Iterator[None]:
    """Inside the block, `np.empty` and `np.empty_like` hand out NaN (floats) or 0xA5 bytes (the rest), not
    whatever the allocator last freed. A kernel that returns a row it never wrote would otherwise pass
    whenever the block it got still held the right answer from an earlier call on the same inputs (a
    mutant that skipped packed_matmul's first block of rows did)."""
    empty, empty_like = np.empty, np.empty_like

    def poison(out: np.ndarray) -> np.ndarray:
        if out.dtype.kind in "fc":
            out.fill(np.nan)
        elif out.size and out.flags.c_contiguous:
            out.view(np.uint8).fill(0xA5)
        return out

    np.empty = lambda *args, **kwargs: poison(empty(*args, **kwargs))
    np.empty_like = lambda *args, **kwargs: poison(empty_like(*args, **kwargs))
    try:
        yield
    finally:
        np.empty, np.empty_like = empty, empty_like


def run_property(prop: Property, seed_value: int = DEFAULT_SEED, scale: float = 1.0,
                 shrink: bool = True) -> PropertyResult:
    """Run one property; a failure is recorded with its counterexample (shrunk unless `shrink` is off: the
    mutant runs only need to know that it fails), never raised."""
    rec = Recorder()
    examples = max(5, int(prop.examples * scale))
    test = seed(seed_value)(_settings(examples, shrink)(prop.build(rec)))
    start = time.monotonic()
    passed, cex = True, None
    try:
        with poisoned_memory():
            test()
    except Exception as exc:  # Hypothesis re-raises the shrunk failure, or a failed health check
        passed, cex = False, rec.failing or f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return PropertyResult(prop.name, prop.req, prop.description, prop.strategy, seed_value, rec.calls, rec.filtered,
                          min(rec.margins) if rec.margins else None, prop.margin_meaning, passed, cex,
                          round(time.monotonic() - start, 3))


def _lane_levels(shape: tuple[int, ...], lane: str):
    lo, hi = LANES[lane]
    return hnp.arrays(np.int8, shape, elements=st.integers(lo, hi))


# --- REQ-PACK --------------------------------------------------------------------------------------------

def _pack_pair_roundtrip(rec: Recorder):
    pairs = st.integers(0, 300).flatmap(lambda n: st.tuples(_lane_levels((n,), "hi"), _lane_levels((n,), "lo")))

    @given(pairs)
    def test(p):
        rec.calls += 1
        first, second = p
        codes = pack_pairs(first, second)
        rec.check(bool((codes < 128).all()), "a code is 128 or more")
        back = PAIR_TABLE[codes]
        rec.check(bool((back[:, 0] == first).all() and (back[:, 1] == second).all()),
                  f"unpack(pack) != id for first={first.tolist()[:8]} second={second.tolist()[:8]}")
    return test


def _stream_levels(lead: tuple[int, ...], draw_k: int, rng_seed: int) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    q = np.empty((*lead, draw_k), np.int8)
    q[..., 0::2] = rng.integers(HI_MIN, HI_MAX + 1, q[..., 0::2].shape)
    q[..., 1::2] = rng.integers(LO_MIN, LO_MAX + 1, q[..., 1::2].shape)
    return q


_LEADS = st.sampled_from([(), (1,), (3,), (2, 3)])  # the kernels work along the last axis of any array
_BLOCK_GROUPS = 1 << 16  # unpack_weights' default block: the explicit example below spans two and a part


def _pack_stream_roundtrip(rec: Recorder):
    @given(st.integers(1, 2000), st.integers(0, 2**32 - 1), _LEADS, st.sampled_from([None, 1, 3, 50]))
    @example(2 * 16 * _BLOCK_GROUPS + 37, 5, (), None)  # the default blocks, decoded by two threads
    def test(k, rng_seed, lead, chunk):
        rec.calls += 1
        q = _stream_levels(lead, k, rng_seed)
        packed = pack_weights(q)
        rec.check(packed.shape == (*lead, 7 * -(-k // 16)), f"K={k}: shape {packed.shape}, not 7 bytes per 16 "
                  f"weights along the last axis of {q.shape}")
        back = unpack_weights(packed, k) if chunk is None else unpack_weights(packed, k, chunk_groups=chunk)
        rec.check(back.shape == q.shape and bool((back == q).all()),
                  f"K={k} {q.shape} blocks of {chunk or 'default'} groups: stream round trip changed a weight")
        rec.margin(8 * packed.shape[-1] / k - 3.5)  # bits per weight above 3.5 (padding only)
    return test


def _pack_codes_roundtrip(rec: Recorder):
    @given(st.integers(0, 40), st.integers(0, 2**32 - 1), _LEADS)
    def test(groups, rng_seed, lead):
        rec.calls += 1
        codes = np.random.default_rng(rng_seed).integers(0, 128, (*lead, 8 * groups)).astype(np.uint8)
        packed = pack_codes(codes)
        rec.check(packed.shape == (*lead, 7 * groups), f"{codes.shape} codes packed to {packed.shape} bytes")
        back = unpack_codes(packed)
        rec.check(back.shape == codes.shape and bool((back == codes).all()),
                  f"{codes.shape}: codes -> bytes -> codes changed a code")
    return test


def _unpack_table_matches_spec(rec: Recorder):
    @given(st.integers(0, 127))
    def test(code):
        rec.calls += 1
        hi, lo = code >> 3, code & 7
        spec_pair = (hi - 16 if hi >= 8 else hi, lo - 8 if lo >= 4 else lo)  # Lean's signExtend
        rec.check(tuple(int(v) for v in PAIR_TABLE[code]) == spec_pair, f"table entry {code} differs")
    return test


# --- REQ-QERR --------------------------------------------------------------------------------------------

_scales = st.floats(1e-4, 1e3, allow_nan=False, allow_infinity=False)


def _quant_error_in_range(rec: Recorder):
    @given(st.sampled_from(sorted(LANES)), _scales, st.floats(0, 1), st.booleans())
    def test(lane, s, t, halfstep):
        rec.calls += 1
        qmin, qmax = LANES[lane]
        lo, hi = (qmin - 0.5, qmax + 0.5) if halfstep else (qmin, qmax)
        x = (lo + t * (hi - lo)) * s
        # float rounding can step just outside the range at its ends: filter exactly, and count it
        rec.keep(Fraction(lo) * Fraction(s) <= Fraction(x) <= Fraction(hi) * Fraction(s))
        level = quantize_levels(np.array([x]), s, qmin, qmax)[0]
        err = abs(Fraction(x) - Fraction(int(level)) * Fraction(s))
        rec.check(err <= Fraction(s) / 2, f"lane={lane} s={s!r} x={x!r}: error {float(err)} > s/2")
        rec.margin(float((Fraction(s) / 2 - err) / Fraction(s)))
    return test


def _quant_error_out_of_range(rec: Recorder):
    @given(st.sampled_from(sorted(LANES)), _scales, st.floats(0.01, 100), st.booleans())
    def test(lane, s, t, above):
        rec.calls += 1
        qmin, qmax = LANES[lane]
        x = (qmax + 0.5 + t) * s if above else (qmin - 0.5 - t) * s
        level = quantize_levels(np.array([x]), s, qmin, qmax)[0]
        err = abs(Fraction(x) - Fraction(int(level)) * Fraction(s))
        edge = Fraction(qmax) * Fraction(s) if above else Fraction(qmin) * Fraction(s)
        rec.check(err > Fraction(s) / 2, f"x={x!r} beyond the range but error {float(err)} <= s/2")
        rec.check(err == abs(Fraction(x) - edge), "error is not the distance to the range's end")
        rec.margin(float((err - Fraction(s) / 2) / Fraction(s)))
    return test


# --- REQ-OVF ---------------------------------------------------------------------------------------------

def _accumulator_no_overflow(rec: Recorder):
    claimed = spec().value("claimed_max_k")

    @given(st.integers(1, claimed), st.integers(1, 4), st.sampled_from(["random", "worst", "alternating"]),
           st.integers(0, 2**32 - 1))
    def test(k, m, pattern, rng_seed):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        if pattern == "worst":
            a = np.full((m, k), -128, np.int8)
            q = np.full((2, k), -8, np.int8)
        else:
            a = rng.integers(-128, 128, (m, k)).astype(np.int8)
            q = rng.integers(-8, 8, (2, k)).astype(np.int8)
            if pattern == "alternating":
                a[:, 1::2], q[:, 1::2] = 127, 7
        exact = a.astype(object) @ q.astype(object).T
        got = mm.int_matmul(a, q)
        wrapped = mm.int_matmul_wrapping(a, q)
        rec.check(bool((got == exact).all() and (wrapped == exact).all()), f"K={k} {pattern}: int32 sum differs")
        peak = max(abs(int(v)) for v in exact.flat)
        rec.margin((spec().value("int32_max") - peak) / spec().value("int32_max"))
    return test


def _accumulator_guard_and_tightness(rec: Recorder):
    safe = mm.MAX_SAFE_K

    @given(st.integers(1, 64))
    def test(extra):
        rec.calls += 1
        over = safe + extra
        worst_a, worst_q = np.full((1, safe), -128, np.int8), np.full((1, safe), -8, np.int8)
        rec.check(int(mm.int_matmul(worst_a, worst_q)[0, 0]) == safe * 1024, f"K = maxSafeK = {safe}: worst case wrong")
        try:
            mm.int_matmul(np.zeros((1, over), np.int8), np.zeros((1, over), np.int8))
            rec.check(False, f"K={over} was not refused")
        except ValueError as exc:
            rec.check("exceeds the proved safe bound" in str(exc), f"unexpected error: {exc}")
        a = np.full((1, safe + 1), -128, np.int8)
        q = np.full((1, safe + 1), -8, np.int8)
        exact = (safe + 1) * 1024
        rec.check(exact > spec().value("int32_max"), "maxSafeK + 1 does not overflow: bound not tight")
        rec.check(int(mm.int_matmul_wrapping(a, q)[0, 0]) != exact, "the wrapping accumulator did not overflow")
        rec.margin((exact - spec().value("int32_max")) / 1024)  # in units of one worst product
    return test


def _closed_form_max_safe_k(rec: Recorder):
    @given(st.integers(2, 16), st.integers(2, 8), st.integers(8, 64))
    def test(ba, bw, acc):
        rec.calls += 1
        rec.keep(ba + bw - 2 <= acc - 1)
        k = max_safe_k(ba, bw, acc)
        worst = 2 ** (ba - 1) * 2 ** (bw - 1)
        limit = 2 ** (acc - 1) - 1
        rec.check(k * worst <= limit < (k + 1) * worst, f"({ba},{bw},{acc}): sympy K={k} is not the largest safe")
    return test


# --- REQ-MM ----------------------------------------------------------------------------------------------

def _matmul_error_bound(rec: Recorder):
    @given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 160), st.integers(0, 2**32 - 1),
           st.sampled_from(["normal", "laplace", "uniform"]), st.sampled_from([16, 32, 128]))
    def test(m, n, k, rng_seed, dist, group):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        draw = {"normal": rng.standard_normal, "laplace": lambda size: rng.laplace(size=size),
                "uniform": lambda size: rng.uniform(-1, 1, size)}[dist]
        x = draw(size=(m, k))
        w = draw(size=(n, k))
        qw = quantize_weights(w, group)
        deq, scales = qw.dequantize(), qw.element_scales()
        for i in range(m):
            xs = [Fraction(v) for v in x[i]]
            for j in range(n):
                err = abs(sum(a * (Fraction(b) - Fraction(c)) for a, b, c in zip(xs, w[j], deq[j], strict=True)))
                bound = sum(abs(a) * Fraction(sc) / 2 for a, sc in zip(xs, scales[j], strict=True))
                rec.check(err <= bound, f"m={m} n={n} k={k} {dist}: error {float(err)} > bound {float(bound)}")
                if bound:
                    rec.margin(float((bound - err) / bound))
    return test


def _closed_form_matmul_error(rec: Recorder):
    cond = seed_bound_condition()

    @given(st.integers(1, 64), _scales, st.floats(0, 2), st.floats(2.01, 128))
    def test(k, s, small, large):
        rec.calls += 1
        bound = k * (s / 2)
        rec.check(bound * small <= k * s * (1 + 1e-12), "with max|x| <= 2 the design's K*s must hold")
        rec.check(bound * large > k * s, "with max|x| > 2 the bound exceeds the design's K*s")
        rec.check(str(cond.max_activation) == "2", f"sympy: the condition is M <= {cond.max_activation}")
    return test


BASE_PROPERTIES: tuple[Property, ...] = (
    Property("pack_pair_roundtrip", "REQ-PACK", "unpack(pack(a, b)) = (a, b) for valid pairs; codes < 128",
             "arrays of 0-300 pairs: first in [-8,7], second in [-4,3]", "none (exact)", _pack_pair_roundtrip),
    Property("pack_stream_roundtrip", "REQ-PACK", "weight rows survive packing into 7-byte groups and unpacking",
             "K in [1, 2000] (and one of 2 Mi, past two decode blocks), arrays of 1-3 dimensions, decode blocks of "
             "1-50 groups and the default, seeded random lane-valid levels", "bits per weight above 3.5",
             _pack_stream_roundtrip, 60),
    Property("pack_codes_roundtrip", "REQ-PACK", "codes -> 7-byte groups -> codes is the identity, 7 bytes per 8",
             "0-40 groups of random codes in [0, 127], arrays of 1-3 dimensions", "none (exact)",
             _pack_codes_roundtrip, 60),
    Property("unpack_table_matches_spec", "REQ-PACK", "the 128-entry table is sign extension of both halves",
             "codes in [0, 127]", "none (exact)", _unpack_table_matches_spec, 128),
    Property("quant_error_in_range", "REQ-QERR", "|x - D(Q x)| <= s/2 on the clipping range and its half-step "
             "extension, exactly (rationals)", "lane, s in [1e-4, 1e3], x uniform over the range",
             "(s/2 - error) / s", _quant_error_in_range, 300),
    Property("quant_error_out_of_range", "REQ-QERR", "beyond the half-step range the error exceeds s/2 and equals "
             "the distance to the range's end", "lane, s, x = (qmax + 1/2 + t) s or (qmin - 1/2 - t) s",
             "(error - s/2) / s", _quant_error_out_of_range, 200),
    Property("accumulator_no_overflow", "REQ-OVF", "int32 accumulation equals the exact sum for K <= 8192",
             "K in [1, 8192], 1-4 rows, random / worst-case / alternating operands",
             "(int32 max - |sum|) / int32 max", _accumulator_no_overflow, 40),
    Property("accumulator_guard_and_tightness", "REQ-OVF", "K = maxSafeK is accepted and exact in the "
             "worst case; K > maxSafeK is refused; at maxSafeK + 1 the worst case overflows a wrapping int32",
             "K = maxSafeK + [1, 64]", "overflow beyond int32 max, in worst products",
             _accumulator_guard_and_tightness, 5),
    Property("closed_form_max_safe_k", "REQ-OVF", "sympy's largest safe K is the largest safe K",
             "bits_a in [2,16], bits_w in [2,8], bits_acc in [8,64]", "none (exact)", _closed_form_max_safe_k, 200),
    Property("matmul_error_bound", "REQ-MM", "|x.w - x.D(Q w)| <= sum |x_k| s_k / 2 exactly (per-weight scales)",
             "M, N in [1,3], K in [1,160], normal/laplace/uniform, group 16/32/128", "(bound - error) / bound",
             _matmul_error_bound, 60),
    Property("closed_form_matmul_error", "REQ-MM", "K (s/2) max|x| <= K s exactly when max|x| <= 2",
             "K in [1,64], s, max|x| in [0,2] and (2,128]", "none (exact)", _closed_form_matmul_error, 100),
)
