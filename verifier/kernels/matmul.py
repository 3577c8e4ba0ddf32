"""REQ-OVF and REQ-MM, executable: int8 × 3.5-bit matmul.

`int_matmul` is the int32-accumulating kernel: integer sums are computed with BLAS on integer-valued
float64, exact while |sum| < 2^53 (over K <= maxSafeK, |sum| <= 2^31), so the result is the int32
accumulation bit for bit (checked against a wrapping int32 reference in the tests). `packed_matmul`
is the fast path from packed weights to float outputs.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from verifier.closed_forms import max_safe_k
from verifier.kernels.pack import HI_MAX, HI_MIN, PAIR_TABLE_F32, parallel, unpack_codes
from verifier.kernels.quant import QuantizedWeights, round_half_even
from verifier.kernels.validate import array

ACT_MIN, ACT_MAX = -128, 127
MAX_SAFE_K = max_safe_k(8, 4, 32)


def guard_k(k: int) -> None:
    """Refuse a reduction length past the proved safe bound (REQ-OVF)."""
    if k > MAX_SAFE_K:
        raise ValueError(f"K={k} exceeds the proved safe bound {MAX_SAFE_K} for int8 activations and 3.5-bit "
                         "weights into int32 (REQ-OVF): the accumulator could overflow")


def int_matmul(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Exact int32 accumulation of int8 activations (M, K) against int8 weight levels (N, K) -> (M, N)."""
    array("a", a, dtype=np.int8, ndim=2)
    array("q", q, dtype=np.int8, ndim=2)
    if a.shape[1] != q.shape[1]:
        raise ValueError(f"a and q must share K, got {a.shape} and {q.shape}")
    guard_k(a.shape[1])
    if q.size and (q.min() < HI_MIN or q.max() > HI_MAX):
        raise ValueError(f"weight levels must be in [{HI_MIN}, {HI_MAX}]")
    return (a.astype(np.float64) @ q.astype(np.float64).T).astype(np.int32)


def int_matmul_wrapping(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """What an int32 accumulator holds, wrap-around included (slow reference; no guard)."""
    return (a.astype(np.int64) @ q.astype(np.int64).T).astype(np.int32)


def quantize_activations(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8 activations: levels (M, K) and scales (M, 1)."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    peak = np.abs(x).max(axis=1, keepdims=True).astype(np.float64)
    scale = np.where(peak > 0, peak / ACT_MAX, 1.0)
    return np.clip(round_half_even(x.astype(np.float64), scale), ACT_MIN, ACT_MAX).astype(np.int8), scale


_ROWS_PER_JOB = 128


def _dequantize_rows(qw: QuantizedWeights, rows: slice, out: np.ndarray) -> None:
    """Rows of the lane-separated dequantized weights: out[n, group, lane, i] = level * scale."""
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    need = groups * g // 2
    codes = unpack_codes(qw.packed[rows])  # one code per pair, stream order
    if codes.shape[1] < need:
        codes = np.pad(codes, ((0, 0), (0, need - codes.shape[1])))
    idx = codes[:, :need].reshape(-1, groups, g // 2).astype(np.intp)
    pairs = np.take(PAIR_TABLE_F32, idx, mode="clip").view(np.float32)  # (rows, groups, g/2 * 2), (first, second)
    for lane, scales in ((0, qw.scales_hi), (1, qw.scales_lo)):
        np.multiply(pairs[:, :, lane::2], scales[rows, :, None].astype(np.float32), out=out[rows, :, lane, :])


def dequantized_lanes(qw: QuantizedWeights) -> np.ndarray:
    """float32 weights (N, groups, 2, group/2): per group, the 4-bit lane's weights then the 3-bit
    lane's, each level * its fp16 scale (exact in float32). Decoded by the 128-entry table, in
    blocks of rows on the kernels' thread pool."""
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    out = np.empty((qw.n, groups, 2, g // 2), np.float32)
    parallel([partial(_dequantize_rows, qw, slice(r, r + _ROWS_PER_JOB), out)
              for r in range(0, qw.n, _ROWS_PER_JOB)])
    return out


def dequantized_weights(qw: QuantizedWeights) -> np.ndarray:
    """float32 weights (N, K) in stream order."""
    lanes = dequantized_lanes(qw)
    return lanes.transpose(0, 1, 3, 2).reshape(qw.n, -1)[:, :qw.k]


def packed_matmul(x: np.ndarray, qw: QuantizedWeights) -> np.ndarray:
    """y ≈ x @ w.T for float activations (M, K) and 3.5-bit weights: int8 activations with per-row
    scales, weights decoded by the table and dequantized exactly to float32 in lane-separated order,
    activations permuted to match, one float32 GEMM. (`int_matmul` is the exact int32 kernel; here
    the sums are float32.)"""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != qw.k:
        raise ValueError(f"x has K={x.shape[1]} but the weights have K={qw.k}")
    guard_k(qw.k)
    a, sx = quantize_activations(x)
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    a = np.pad(a, ((0, 0), (0, groups * g - qw.k))) if groups * g != qw.k else a
    a_lanes = a.reshape(a.shape[0], groups, g // 2, 2).transpose(0, 1, 3, 2).astype(np.float32)
    w_lanes = dequantized_lanes(qw)
    y = a_lanes.reshape(a.shape[0], -1) @ w_lanes.reshape(qw.n, -1).T
    y *= sx.astype(np.float32)
    return y


def reference_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The float reference: x @ w.T in float64."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    array("w", w, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x and w must share K, got {x.shape} and {w.shape}")
    return x.astype(np.float64) @ w.astype(np.float64).T
