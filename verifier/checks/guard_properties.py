"""Property checks of the kernels' and the planner's input guards (REQ-PACK, REQ-QERR, REQ-OVF, REQ-SCALE,
REQ-TILE): what a format
cannot hold is refused, not silently wrapped, and the largest valid input is still accepted.

A guard that lets one bad value through corrupts data without a sign: a 4-bit weight of 8 packs as -8, a
code of 128 loses its top bit, a level of 9 breaks the overflow bound. So each example plants one bad value
at a drawn position among valid ones, on either side of the range, and the call must raise ValueError;
the range's own ends must pass.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from verifier import planner
from verifier.checks.properties import Property, Recorder, refused
from verifier.kernels import matmul, quant
from verifier.kernels.pack import HI_MAX, HI_MIN, LO_MAX, LO_MIN, pack_codes, pack_pairs, pack_weights, unpack_weights


def _outside(lo: int, hi: int, limit_lo: int, limit_hi: int) -> st.SearchStrategy[int]:
    """A value just past either end of [lo, hi], or anywhere further out within [limit_lo, limit_hi]."""
    return st.sampled_from([lo - 1, hi + 1]) | st.integers(limit_lo, lo - 1) | st.integers(hi + 1, limit_hi)


def _lane_row(rng: np.random.Generator, n: int) -> np.ndarray:
    q = np.empty(n, np.int8)
    q[0::2] = rng.integers(HI_MIN, HI_MAX + 1, q[0::2].shape)
    q[1::2] = rng.integers(LO_MIN, LO_MAX + 1, q[1::2].shape)
    return q


def _pack_refuses(rec: Recorder):
    @given(st.integers(1, 64), st.data(), st.integers(0, 2**32 - 1))
    def test(n, data, rng_seed):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        at = data.draw(st.integers(0, 2 * n - 1))
        row = _lane_row(rng, 2 * n)
        first, second = row[0::2].copy(), row[1::2].copy()
        rec.check(not refused(lambda: pack_pairs(first, second)), f"valid pairs refused: {row.tolist()[:8]}")
        lo, hi = (HI_MIN, HI_MAX) if at % 2 == 0 else (LO_MIN, LO_MAX)
        bad = data.draw(_outside(lo, hi, -128, 127))
        row[at] = bad
        f2, s2 = row[0::2], row[1::2]
        rec.check(refused(lambda: pack_pairs(f2, s2)), f"pack_pairs took {bad} at position {at}")
        rec.check(refused(lambda: pack_weights(row[None, :])), f"pack_weights took {bad} at position {at}")
        rec.check(refused(lambda: pack_weights(np.array(row[0]))), "pack_weights took a 0-dimensional array")
        codes = rng.integers(0, 128, 8 * n).astype(np.uint8)
        codes[at % (8 * n)] = data.draw(st.integers(128, 255))
        rec.check(refused(lambda: pack_codes(codes)), f"pack_codes took code {codes[at % (8 * n)]}")
        rec.check(refused(lambda: pack_codes(codes[:-1])), "pack_codes took a length that is not a multiple of 8")
        packed = np.zeros(7 * n, np.uint8)
        rec.check(refused(lambda: unpack_weights(packed[:-1])), "unpack_weights took a length not a multiple of 7")
        rec.check(refused(lambda: unpack_weights(packed, 16 * n + 1)), "unpack_weights took k past the width")
        rec.check(refused(lambda: unpack_weights(packed, -1)), "unpack_weights took k = -1")
        rec.check([unpack_weights(packed, k).shape for k in (0, 16 * n)] == [(0,), (16 * n,)],
                  "unpack_weights refused k = 0 or k = the width")
    return test


def _quantize_refuses(rec: Recorder):
    @given(st.integers(-128, 127), st.integers(-128, 127), st.integers(1, 40), st.data())
    def test(a, b, width, data):
        rec.calls += 1
        qmin, qmax = min(a, b), max(a, b)
        x = np.linspace(-3, 3, width)
        rec.check(not refused(lambda: quant.quantize_levels(x, 0.5, qmin, qmax)), f"[{qmin}, {qmax}] refused")
        rec.check(not refused(lambda: quant.quantize_levels(x, 0.5, -128, 127)), "the full int8 range refused")
        if qmin < qmax:
            rec.check(refused(lambda: quant.quantize_levels(x, 0.5, qmax, qmin)), f"[{qmax}, {qmin}] accepted")
        low, high = data.draw(st.integers(-1000, -129)), data.draw(st.integers(128, 1000))
        rec.check(refused(lambda: quant.quantize_levels(x, 0.5, low, qmax)), f"qmin = {low} accepted")
        rec.check(refused(lambda: quant.quantize_levels(x, 0.5, qmin, high)), f"qmax = {high} accepted")
        s = np.full(width, 0.5)
        s[data.draw(st.integers(0, width - 1))] = data.draw(st.sampled_from([0.0, -0.5, np.nan, np.inf]))
        rec.check(refused(lambda: quant.quantize_levels(x, s, qmin, qmax)), "a scale that is not positive accepted")
        y = x.copy()
        y[data.draw(st.integers(0, width - 1))] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        rec.check(refused(lambda: quant.quantize_levels(y, 0.5, qmin, qmax)), "a non-finite x accepted")
    return test


def _int_matmul_refuses(rec: Recorder):
    @given(st.integers(1, 64), st.data(), st.integers(0, 2**32 - 1))
    def test(k, data, rng_seed):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        a = rng.integers(-128, 128, (2, k)).astype(np.int8)
        q = rng.integers(HI_MIN, HI_MAX + 1, (3, k)).astype(np.int8)
        rec.check(not refused(lambda: matmul.int_matmul(a, q)), "valid levels refused")
        bad = q.copy()
        bad[data.draw(st.integers(0, 2)), data.draw(st.integers(0, k - 1))] = data.draw(_outside(HI_MIN, HI_MAX,
                                                                                                  -128, 127))
        rec.check(refused(lambda: matmul.int_matmul(a, bad)), f"a weight level outside [{HI_MIN}, {HI_MAX}] accepted")
        rec.check(refused(lambda: matmul.int_matmul(a, q[:, :-1])), "operands of different K accepted")
    return test


def _scales_refuse(rec: Recorder):
    @given(st.integers(-64, 512), st.integers(1, 300), st.data())
    def test(group, k, data):
        rec.calls += 1
        w = np.linspace(-1, 1, 2 * k).reshape(2, k)
        valid = group > 0 and group % 16 == 0
        rec.check(refused(lambda: quant.quantize_weights(w, group)) != valid,
                  f"group size {group} {'refused' if valid else 'accepted'}")
        bad = w.copy()
        bad[data.draw(st.integers(0, 1)), data.draw(st.integers(0, k - 1))] = data.draw(st.sampled_from([np.nan,
                                                                                                        np.inf]))
        rec.check(refused(lambda: quant.quantize_weights(bad, 16)), "a non-finite weight accepted")
        rec.check(refused(lambda: quant.quantize_weights(w[:, :0], 16)), "an empty weight matrix accepted")
    return test


def _planner_refuses(rec: Recorder):
    top = planner.max_reserve()

    @given(st.integers(0, 3000), st.integers(0, 3000), st.integers(0, 3000), st.integers(0, top), st.data())
    def test(m, k, n, reserve, data):
        rec.calls += 1
        dims = [m, k, n]
        rec.check(not refused(lambda: planner.plan_shape(*dims, reserve)), f"{dims} at reserve {reserve} refused")
        rec.check(not refused(lambda: planner.plan_shape(*dims, top)), f"{dims} at the largest reserve {top} refused")
        at = data.draw(st.integers(0, 2))
        dims[at] = data.draw(st.integers(-5000, -1) | st.sampled_from([True, 2.0, "8"]))
        rec.check(refused(lambda: planner.plan_shape(*dims, reserve)), f"dimension {dims[at]!r} accepted")
        bad = data.draw(st.integers(-5000, -1) | st.integers(top + 1, top + 5000) | st.sampled_from([False, 9.0]))
        rec.check(refused(lambda: planner.plan_shape(m, k, n, bad)), f"reserve {bad!r} accepted")
    return test


GUARD_PROPERTIES: tuple[Property, ...] = (
    Property("pack_refuses_invalid", "REQ-PACK", "a weight outside its lane, a code of 128 or more, or a byte "
             "count not of whole groups is refused; the lanes' ends pack", "one bad value at a drawn position of "
             "1-64 valid pairs, just past the range or further", "none (exact)", _pack_refuses, 60),
    Property("quantize_refuses_invalid", "REQ-QERR", "a range outside int8 or reversed, a scale not positive or "
             "a non-finite x is refused; every int8 range is accepted", "ranges in int8 and beyond, one bad scale "
             "or x among valid ones", "none (exact)", _quantize_refuses, 60),
    Property("int_matmul_refuses_invalid", "REQ-OVF", "a weight level outside [-8, 7] (the overflow bound's "
             "hypothesis) or a K mismatch is refused", "K in [1, 64], one bad level at a drawn position",
             "none (exact)", _int_matmul_refuses, 60),
    Property("scales_refuse_invalid", "REQ-SCALE", "a group size not a positive multiple of 16, a non-finite "
             "weight or an empty matrix is refused; every positive multiple of 16 is accepted",
             "group sizes in [-64, 512], one bad weight at a drawn position", "none (exact)", _scales_refuse, 60),
    Property("planner_refuses_invalid", "REQ-TILE", "a negative or non-integer dimension, or a reserve outside "
             "[0, maxReserve], is refused; every dimension from 0 up and both reserve ends are accepted",
             "M, K, N in [0, 3000], one bad dimension or reserve", "none (exact)", _planner_refuses, 60),
)
