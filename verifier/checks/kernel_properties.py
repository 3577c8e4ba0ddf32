"""Property checks of the kernel as it runs (REQ-SCALE, REQ-ACT, REQ-E2E): the scale rules, the activation
quantizer, the end-to-end bound Lean proves, and the fast path against the exact reference twin.

Every bound is checked in exact rational arithmetic. Shapes include LLaMA-70B's reduction lengths
(K = 8192 and K = 28672); inputs include adversarial rows (peaks at group edges, exact ties, every
weight at its lane's peak with every activation at 127).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from verifier.checks.properties import Property, Recorder, refused
from verifier.kernels import activations, matmul, quant, reference
from verifier.kernels.pack import HI_MAX, HI_MIN, LO_MAX, LO_MIN

_PATTERNS = ("normal", "laplace", "edges", "ties", "full")


def _inputs(pattern: str, m: int, n: int, k: int, g: int, rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Activations (m, k) and weights (n, k), float32, drawn by pattern."""
    rng = np.random.default_rng(rng_seed)
    if pattern == "laplace":
        return rng.laplace(size=(m, k)).astype(np.float32), (rng.laplace(size=(n, k)) * 0.02).astype(np.float32)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = (rng.standard_normal((n, k)) * 0.02).astype(np.float32)
    if pattern == "edges":  # each row's and group's peak at a group's first or last position
        x[:, 0] = 40.0
        w[:, g - 1 :: g] = 0.3
    elif pattern == "ties":  # activations on exact ties of their scale 2^-3
        x = ((rng.integers(-120, 120, (m, k)) + 0.5) / 8).astype(np.float32)
        x[:, k // 2] = 127 / 8
    elif pattern == "full":  # the largest partials: every |level| at its maximum
        x = np.full((m, k), -2.0, np.float32)
        w = np.where(np.arange(k) % 2 == 0, -0.7, 0.25).astype(np.float32)[None, :].repeat(n, axis=0)
    return x, w


# --- REQ-SCALE --------------------------------------------------------------------------------------------

def _lane_scales_exact(rec: Recorder):
    @given(st.lists(st.floats(0, 3e5, allow_nan=False) | st.floats(0, 1e-6) | st.just(0.0), min_size=1, max_size=40),
           st.sampled_from([HI_MAX, LO_MAX]))
    def test(peaks, qmax):
        rec.calls += 1
        peak = np.array(peaks, np.float64)
        try:
            s = quant.lane_scales(peak, qmax)
        except ValueError:
            rec.check(bool((peak / qmax > quant.FP16_MAX).any()), f"qmax={qmax}: refused {peaks} though in range")
            return
        exact = [Fraction(float(v)) for v in s.astype(np.float64)]
        below = np.nextafter(s, np.float16(0)).astype(np.float64)
        for p, e, b in zip(peak, exact, below, strict=True):
            if p == 0:
                rec.check(e == 1, f"an all-zero lane got scale {float(e)}, not 1")
                continue
            rec.check(e * qmax >= Fraction(float(p)), f"scale {float(e)} * {qmax} < peak {p}")
            rec.check(b == 0 or Fraction(float(b)) * qmax < Fraction(float(p)),
                      f"peak {p}: {float(b)} is a smaller fp16 scale that suffices")
            rec.margin(float((e * qmax - Fraction(float(p))) / e))
    return test


def _weights_in_lane_range(rec: Recorder):
    @given(st.integers(1, 3), st.integers(1, 300), st.sampled_from([16, 32, 128]), st.sampled_from(_PATTERNS),
           st.integers(0, 2**32 - 1))
    def test(n, k, g, pattern, rng_seed):
        rec.calls += 1
        _, w = _inputs(pattern, 1, n, k, g, rng_seed)
        qw = quant.quantize_weights(w, g)
        levels, scales = qw.levels(), qw.element_scales()
        for j in range(n):
            for i in range(k):
                s, wi, q = Fraction(float(scales[j, i])), Fraction(float(w[j, i])), int(levels[j, i])
                lo, hi = (HI_MIN, HI_MAX) if i % 2 == 0 else (LO_MIN, LO_MAX)
                rec.check(lo * s <= wi <= hi * s, f"{pattern}: w[{j},{i}] = {float(wi)} outside [{lo}s, {hi}s]")
                rec.check(abs(wi - q * s) <= s / 2, f"{pattern}: w[{j},{i}] more than s/2 from its level")
    return test


# --- REQ-ACT ----------------------------------------------------------------------------------------------

def _activation_quantization(rec: Recorder):
    @given(st.integers(1, 4), st.integers(1, 400), st.sampled_from(_PATTERNS), st.integers(0, 2**32 - 1),
           st.booleans())
    def test(m, k, pattern, rng_seed, zero_row):
        rec.calls += 1
        x, _ = _inputs(pattern, m, 1, k, 16, rng_seed)
        if zero_row:
            x[0] = 0.0
        levels, scale = activations.quantize_activations(x)
        empty_levels, empty_scale = activations.quantize_activations(x[:, :0])  # K = 0: nothing to scale
        rec.check(empty_levels.shape == (m, 0) and empty_scale.shape == (m, 1) and bool((empty_scale == 1).all()),
                  f"{m} empty rows: levels {empty_levels.shape}, scales {empty_scale.ravel().tolist()}, not all 1")
        rec.check(levels.shape == x.shape and scale.shape == (m, 1), f"shapes {levels.shape}, {scale.shape}")
        for r in range(m):
            s = Fraction(float(scale[r, 0]))
            peak = max(abs(Fraction(float(v))) for v in x[r])
            if peak == 0:
                rec.check(s == 1 and not levels[r].any(), "a zero row must have scale 1 and zero levels")
                continue
            rec.check(127 * s >= peak, f"row {r}: 127 * scale < max|x|")
            below = Fraction(float(np.nextafter(scale[r, 0], 0)))
            rec.check(127 * below < peak, f"row {r}: the scale is not the least float64 covering max|x| / 127")
            for v, a in zip(x[r], levels[r], strict=True):
                rec.check(-127 <= int(a) <= 127, f"row {r}: level {int(a)} outside [-127, 127]")
                err = abs(Fraction(float(v)) - int(a) * s)
                rec.check(err <= s / 2, f"row {r}: |x - s a| = {float(err)} > s/2")
                rec.margin(float((s / 2 - err) / s))
    return test


# --- REQ-E2E ----------------------------------------------------------------------------------------------

def _e2e_bound(rec: Recorder):
    shapes = st.sampled_from([(1, 2, 64, 16), (2, 1, 300, 32), (1, 1, 1000, 128), (1, 1, 8192, 128),
                              (1, 1, 28672, 128)])

    @given(shapes, st.sampled_from(_PATTERNS), st.integers(0, 2**32 - 1))
    @example((1, 1, 256, 128), "full", 0)  # the largest partials, every run
    def test(shape, pattern, rng_seed):
        rec.calls += 1
        m, n, k, g = shape
        x, w = _inputs(pattern, m, n, k, g, rng_seed)
        trace = reference.reference_kernel(x, quant.quantize_weights(w, g))
        for i in range(m):
            sx = Fraction(float(trace.activation_scales[i]))
            for j in range(n):
                err = abs(trace.output(i, j) - reference.exact_dot(x[i], w[j]))
                bound = reference.error_bound(x[i], w[j], sx, trace.element_scales(j))
                rec.check(err <= bound, f"{pattern} {shape}: error {float(err)} > bound {float(bound)}")
                if bound:
                    rec.margin(float((bound - err) / bound))
    return test


def _round_half_even_exact(rec: Recorder):
    @given(st.integers(0, 51), st.floats(0.01, 100.0), st.integers(0, 2**32 - 1), st.booleans())
    @example(40, 1.9268657323519014, 0, False)  # quotients past 2^40 land on ties as well
    @example(0, 0.37, 1, True)
    def test(exponent, s, rng_seed, negative):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        # quotients just off a tie (x = (t + 1/2) s rounded to float64), and anywhere, at 2^exponent
        t = np.floor(rng.uniform(2.0**exponent, 2.0**(exponent + 1), 64)) + 0.5
        x = np.concatenate([t * s, rng.uniform(0, 2.0**(exponent + 1), 16) * s]) * (-1 if negative else 1)
        got = quant.round_half_even(x, np.full(x.shape, s))
        for xi, gi in zip(x.tolist(), got.tolist(), strict=True):
            exact = round(Fraction(xi) / Fraction(s))  # Fraction rounds half to even
            rec.check(gi == exact, f"round_half_even({xi!r} / {s!r}) = {gi!r}, exactly {exact}")
    return test


def _check_block_rows(rec: Recorder, qw, row: np.ndarray, block: int | None) -> None:
    """A block's partials fit in `block_bytes` (or the block is one row), and one more row would not fit."""
    block = matmul._BLOCK_BYTES if block is None else block
    rows = matmul.block_rows(qw, block)
    row_bytes = matmul.packed_partials(row, qw).nbytes  # the real array, not the formula again
    rec.check(rows >= 1 and (rows == 1 or rows * row_bytes <= block) and (rows + 1) * row_bytes > block,
              f"block_rows gives {rows} rows of {row_bytes} bytes of partials for blocks of {block} bytes")
    rec.check(refused(lambda: matmul.block_rows(qw, 0)), "block_rows accepts blocks of 0 bytes")


def _fast_path_matches_reference(rec: Recorder):
    @given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 700), st.sampled_from([16, 32, 128]),
           st.sampled_from(_PATTERNS), st.integers(0, 2**32 - 1), st.sampled_from([None, 1, 200, 3000]))
    @example(1, 1, 256, 128, "full", 0, None)  # partials past int16, every run
    @example(2, 3, 300, 32, "ties", 1, None)
    @example(5, 2, 40, 16, "normal", 2, 1)  # one row per block
    @example(5, 3, 48, 16, "normal", 3, 200)  # blocks of 2 rows: the last one partial
    @example(5, 2, 3, 16, "normal", 4, 1)  # more rows than K, one row per block
    def test(m, n, k, g, pattern, rng_seed, block):
        rec.calls += 1
        x, w = _inputs(pattern, m, n, k, g, rng_seed)
        qw = quant.quantize_weights(w, g)
        trace = reference.reference_kernel(x, qw)
        partials = matmul.packed_partials(trace.activations, qw).transpose(2, 3, 0, 1).astype(np.int64)
        rec.check(bool(np.array_equal(partials, trace.partials)), f"{pattern} ({m},{n},{k},{g}): fast-path partials "
                  "differ from the exact ones")
        y = matmul.packed_matmul(x, qw) if block is None else matmul.packed_matmul(x, qw, block_bytes=block)
        _check_block_rows(rec, qw, trace.activations[:1], block)
        terms = 2 * trace.partials.shape[2] + 3  # float32 operations behind each output
        for i in range(m):
            for j in range(n):
                exact = trace.output(i, j)
                size = sum(abs(Fraction(float(trace.activation_scales[i])) * Fraction(float(s)) * int(p))
                           for s, p in zip(trace.scales[j].ravel(), trace.partials[i, j].ravel(), strict=True))
                tolerance = terms * Fraction(1, 2**24) * size
                gap = abs(Fraction(float(y[i, j])) - exact)
                rec.check(gap <= tolerance, f"{pattern} ({m},{n},{k},{g}): y[{i},{j}] = {float(y[i, j])} is "
                          f"{float(gap)} from the exact {float(exact)}, past float32 rounding {float(tolerance)}")
                if tolerance:
                    rec.margin(float((tolerance - gap) / tolerance))
    return test


KERNEL_PROPERTIES: tuple[Property, ...] = (
    Property("round_half_even_exact", "REQ-QERR", "round_half_even(x, s) is the exact quotient x / s rounded half "
             "to even, at every magnitude", "quotients within float64 rounding of a tie and anywhere, 2^0 to "
             "2^52 (past 2^53 a float64 cannot hold every integer), s in [0.01, 100], both signs", "none (exact)",
             _round_half_even_exact, 60),
    Property("lane_scales_exact", "REQ-SCALE", "each lane scale is the least fp16 s with s * qmax >= max|w| (1 for "
             "zero), overflow refused", "lists of peaks: normal, subnormal range, near 65504 * qmax, zero",
             "(s * qmax - peak) / s", _lane_scales_exact, 150),
    Property("weights_in_lane_range", "REQ-SCALE", "every weight lies in its lane's clipping range under its "
             "group's scale, and within s/2 of its level", "N in [1,3], K in [1,300], group 16/32/128, random and "
             "adversarial rows", "none (exact)", _weights_in_lane_range, 40),
    Property("activation_quantization", "REQ-ACT", "per-row scale is the least float64 with 127 s >= max|x|; levels "
             "in [-127, 127]; |x - s a| <= s/2", "M in [1,4], K in [1,400] and 0, random, ties, edges, zero rows",
             "(s/2 - error) / s", _activation_quantization, 60),
    Property("e2e_bound", "REQ-E2E", "the kernel's exact output is within e2eBound of sum x w (Lean's "
             "Quantproof.kernel_error)", "small shapes and LLaMA-70B's K = 8192 and 28672; random and adversarial",
             "(bound - error) / bound", _e2e_bound, 12),
    Property("fast_path_matches_reference", "REQ-E2E", "packed_matmul's partials equal the exact ones bit for bit; "
             "its output is within float32 rounding of the exact output", "M in [1,5], N in [1,6], K in [1,700], "
             "group 16/32/128, random and adversarial (partials past int16), row blocks of the default size and "
             "of 1 row up (block_rows: a block's partials fit, one more row would not)",
             "(tolerance - gap) / tolerance",
             _fast_path_matches_reference, 40),
)
