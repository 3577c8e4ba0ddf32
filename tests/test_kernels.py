"""Every NumPy kernel against a slow, obviously correct reference; every bad input gets its error."""

from __future__ import annotations

import os
import signal
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from verifier.kernels import matmul as mm
from verifier.kernels import pack, reference
from verifier.kernels.pack import PAIR_TABLE, pack_codes, pack_pairs, pack_weights, unpack_codes, unpack_weights
from verifier.kernels.quant import dequantize_levels, quantize_levels, quantize_weights

RNG = np.random.default_rng(12345)


def _levels(rows: int, k: int) -> np.ndarray:
    q = np.empty((rows, k), np.int8)
    q[:, 0::2] = RNG.integers(-8, 8, q[:, 0::2].shape)
    q[:, 1::2] = RNG.integers(-4, 4, q[:, 1::2].shape)
    return q


def _ref_code(a: int, b: int) -> int:
    return (a % 16) * 8 + (b % 8)


def _ref_pack_row(q: list[int]) -> list[int]:
    """Bit by bit: pair codes, then each code's 7 bits appended little-endian, 56 bits per 7 bytes."""
    q = q + [0] * (-len(q) % 16)
    bits = []
    for i in range(0, len(q), 2):
        code = _ref_code(q[i], q[i + 1])
        bits += [(code >> b) & 1 for b in range(7)]
    return [sum(bits[8 * j + b] << b for b in range(8)) for j in range(len(bits) // 8)]


def _sign(u: int, bits: int) -> int:
    return u - (1 << bits) if u >= 1 << (bits - 1) else u


def test_pair_codes_match_reference():
    q = _levels(1, 512)[0]
    codes = pack_pairs(q[0::2], q[1::2])
    assert codes.tolist() == [_ref_code(int(a), int(b)) for a, b in zip(q[0::2], q[1::2], strict=True)]


def test_pair_table_is_sign_extension():
    assert PAIR_TABLE.tolist() == [[_sign(c >> 3, 4), _sign(c & 7, 3)] for c in range(128)]


@pytest.mark.parametrize("k", [1, 2, 15, 16, 17, 100, 256, 1000])
def test_pack_weights_matches_bitwise_reference_and_round_trips(k):
    q = _levels(4, k)
    packed = pack_weights(q)
    assert packed.dtype == np.uint8 and packed.shape == (4, 7 * -(-k // 16))
    assert [row.tolist() for row in packed] == [_ref_pack_row(row.tolist()) for row in q]
    assert np.array_equal(unpack_weights(packed, k), q)


def test_codes_round_trip_through_bytes():
    codes = RNG.integers(0, 128, (3, 64)).astype(np.uint8)
    assert np.array_equal(unpack_codes(pack_codes(codes)), codes)


def _ref_quantize(x: float, s: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(Fraction(x) / Fraction(s))))  # Python rounds Fractions half to even


def test_quantize_levels_matches_exact_half_even_reference():
    s = 0.37
    xs = np.concatenate([RNG.uniform(-4, 4, 500), (np.arange(-9, 9) + 0.5) * s, [9 * s, -12 * s, 0.0]])
    got = quantize_levels(xs, s, -8, 7)
    assert got.tolist() == [_ref_quantize(float(x), s, -8, 7) for x in xs]
    assert np.array_equal(dequantize_levels(got, s), got.astype(np.float64) * s)


def test_quantize_weights_matches_reference_loop():
    w = RNG.standard_normal((3, 200)).astype(np.float32)
    qw = quantize_weights(w, 32)
    levels = qw.levels()
    for n in range(3):
        for g in range(qw.scales_hi.shape[1]):
            block = w[n, g * 32:(g + 1) * 32].astype(np.float64)
            for lane, (lo, hi), scales in ((0, (-8, 7), qw.scales_hi), (1, (-4, 3), qw.scales_lo)):
                s = float(scales[n, g])
                peak = np.abs(block[lane::2]).max()
                assert s >= peak / hi and np.float16(s) == s  # rounded up to an fp16
                for i in range(lane, block.size, 2):
                    assert levels[n, g * 32 + i] == _ref_quantize(float(block[i]), s, lo, hi)
                    assert abs(block[i] - levels[n, g * 32 + i] * s) <= s / 2


def test_int_matmul_matches_python_integers():
    a = RNG.integers(-128, 128, (5, 300)).astype(np.int8)
    q = _levels(7, 300)
    ref = [[sum(int(x) * int(y) for x, y in zip(a[i], q[j], strict=True)) for j in range(7)] for i in range(5)]
    assert mm.int_matmul(a, q).tolist() == ref
    assert mm.int_matmul_wrapping(a, q).tolist() == ref


def test_wrapping_reference_really_wraps():
    k = mm.MAX_SAFE_K + 1
    a = np.full((1, k), -128, np.int8)
    q = np.full((1, k), -8, np.int8)
    assert int(mm.int_matmul_wrapping(a, q)[0, 0]) == k * 1024 - 2**32


def _ref_activations(row: np.ndarray) -> tuple[list[int], Fraction]:
    """Per-row int8: scale peak / 127 (1 for an all-zero row), levels round-half-even(x / scale)."""
    peak = max(abs(Fraction(float(v))) for v in row)
    scale = peak / 127 if peak else Fraction(1)
    return [max(-128, min(127, round(Fraction(float(v)) / scale))) for v in row], scale


def test_packed_matmul_matches_exact_dequantized_reference():
    w = RNG.standard_normal((9, 300)).astype(np.float32)
    x = RNG.standard_normal((4, 300)).astype(np.float32)
    x[2] = 0.0  # an all-zero row takes scale 1
    qw = quantize_weights(w)
    levels, scales = qw.levels(), qw.element_scales()  # checked against the reference loop above
    ref = np.empty((4, 9))
    for m in range(4):
        a, sx = _ref_activations(x[m])
        for n in range(9):
            ref[m, n] = float(sx * sum(ai * int(q) * Fraction(float(s)) for ai, q, s in zip(a, levels[n], scales[n],
                                                                                           strict=True)))
    got = mm.packed_matmul(x, qw)
    assert got.dtype == np.float32 and got.shape == (4, 9)
    assert np.allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    assert not got[2].any()


BAD_INPUTS = [
    (lambda: quantize_levels(np.array([1.0, np.nan]), 0.5, -8, 7), "x contains NaN"),
    (lambda: quantize_levels(np.array([np.inf]), 0.5, -8, 7), "x contains Inf"),
    (lambda: quantize_levels(np.array([1], np.int32), 0.5, -8, 7), "x must have dtype float32 or float64"),
    (lambda: quantize_levels(np.array([1.0]), 0.0, -8, 7), "s must be positive"),
    (lambda: quantize_levels(np.array([1.0]), -0.5, -8, 7), "s must be positive"),
    (lambda: dequantize_levels(np.array([1], np.int8), np.array([0.5, 0.0])), "s must be positive"),
    (lambda: quantize_weights(np.ones((2, 3, 4), np.float32)), "w must be 2-dimensional"),
    (lambda: quantize_weights(np.array([[1.0, np.nan]])), "w contains NaN"),
    (lambda: quantize_weights([[1.0]]), "w must be a numpy array"),
    (lambda: pack_pairs(np.array([8], np.int8), np.array([0], np.int8)), "first (4-bit) weights must be in [-8, 7]"),
    (lambda: pack_pairs(np.array([0], np.int8), np.array([4], np.int8)), "second (3-bit) weights must be in [-4, 3]"),
    (lambda: pack_pairs(np.array([0, 1], np.int8), np.array([0], np.int8)), "the same shape"),
    (lambda: pack_weights(np.zeros(4, np.int16)), "q must have dtype int8"),
    (lambda: unpack_codes(np.zeros(8, np.uint8)), "multiple of 7"),
    (lambda: mm.int_matmul(np.zeros((2, 3), np.int8), np.zeros((2, 4), np.int8)), "must share K"),
    (lambda: mm.int_matmul(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.int8)), "a must have dtype int8"),
    (lambda: mm.int_matmul(np.zeros((1, 3), np.int8), np.full((1, 3), 9, np.int8)), "levels must be in [-8, 7]"),
    (lambda: mm.int_matmul(np.zeros((1, mm.MAX_SAFE_K + 1), np.int8), np.zeros((1, mm.MAX_SAFE_K + 1), np.int8)),
     "exceeds the proved safe bound 2097151"),
    (lambda: mm.packed_matmul(np.ones((2, 5), np.float32), quantize_weights(np.ones((3, 4), np.float32))),
     "x has K=5 but the weights have K=4"),
    (lambda: mm.packed_matmul(np.full((1, 4), np.inf, np.float32), quantize_weights(np.ones((3, 4), np.float32))),
     "x contains Inf"),
]


def _floats(n: int, kind: str) -> np.ndarray:
    """Normal, huge and tiny, subnormal, signed-zero and repeated values: every exponent the sums meet."""
    if kind == "wide":
        return RNG.standard_normal(n) * 10.0 ** RNG.integers(-300, 300, n)
    if kind == "subnormal":
        return RNG.choice([5e-324, -5e-324, 2.5e-310, -0.0, 0.0, 1.0, 3.5], n)
    return RNG.standard_normal(n)


@pytest.mark.parametrize("kind", ["normal", "wide", "subnormal"])
def test_exact_sums_match_fraction_arithmetic(kind):
    """`exact_dot` and `error_bound` add integers over one power-of-two denominator; Fraction, term by
    term, is the obviously exact reference."""
    for n in (0, 1, 2, 37, 300):
        x, w = _floats(n, kind), _floats(n, kind)
        assert reference.exact_dot(x, w) == sum((Fraction(a) * Fraction(b) for a, b in zip(x, w, strict=True)),
                                                Fraction(0))
        scales = [Fraction(float(v)) for v in np.abs(_floats(n + 3, kind))]  # padded: three more than K
        sx = Fraction(float(abs(_floats(1, kind)[0])))
        padded = [Fraction(float(v)) for v in x] + [Fraction(0)] * 3
        padded_w = [Fraction(float(v)) for v in w] + [Fraction(0)] * 3
        expected = sum((abs(a) * s / 2 + abs(b) * sx / 2 + (sx / 2) * (s / 2)
                        for a, b, s in zip(padded, padded_w, scales, strict=True)), Fraction(0))
        assert reference.error_bound(x, w, sx, scales) == expected
    with pytest.raises(ValueError, match="power-of-two"):
        reference.dyadic_sum([(1, 3)])
    with pytest.raises(ValueError):
        reference.exact_dot(np.ones(3), np.ones(4))


def test_a_forked_child_gets_its_own_unpack_pool():
    """The parent's pool threads do not survive a fork: a child that queued on the copied pool would wait
    for ever (the property runs fork with the pool alive)."""
    both = threading.Barrier(2, timeout=10)  # each job waits for the other: the pool starts both threads
    pack.parallel([both.wait, both.wait])
    assert sum(t.name.startswith(pack.POOL_THREADS) for t in threading.enumerate()) == 2
    pid = os.fork()
    if pid == 0:  # the child: two jobs on the pool, then out without pytest's clean-up
        got = []
        pack.parallel([lambda: got.append(1), lambda: got.append(2)])
        os._exit(0 if sorted(got) == [1, 2] else 1)
    deadline = time.monotonic() + 30
    while (status := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if status[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert status[0] == pid and os.waitstatus_to_exitcode(status[1]) == 0


@pytest.mark.parametrize(("call", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
