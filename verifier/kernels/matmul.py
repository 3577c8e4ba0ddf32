"""REQ-OVF and REQ-E2E, executable: int8 × 3.5-bit matmul.

`int_matmul` is the int32-accumulating kernel: integer sums are computed with BLAS on integer-valued
float64, exact while |sum| < 2^53 (over K <= maxSafeK, |sum| <= 2^31), so the result is the int32
accumulation bit for bit (checked against a wrapping int32 reference in the tests). `packed_matmul`
is the fast path from packed weights to float outputs, with the kernel's own steps: per-(group, lane)
integer partials, then the float combination (its exact twin is `reference.py`).
"""

from __future__ import annotations

import numpy as np

from verifier.closed_forms import max_safe_k
from verifier.kernels.activations import quantize_activations
from verifier.kernels.pack import HI_MAX, HI_MIN
from verifier.kernels.quant import QuantizedWeights
from verifier.kernels.validate import array

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


_BLOCK_BYTES = 1 << 27  # partials of one block of rows: at most 128 MiB of float32


def _lane_blocks(levels: np.ndarray, group_size: int) -> np.ndarray:
    """(rows, G*g) levels -> (G, 2, rows, g/2) float32: each group's first-lane then second-lane levels."""
    rows, width = levels.shape
    return levels.reshape(rows, width // group_size, group_size // 2, 2).transpose(1, 3, 0, 2).astype(np.float32)


def packed_partials(a: np.ndarray, qw: QuantizedWeights) -> np.ndarray:
    """The int32 partials of activation levels a (M, G*g) against the packed weights, (G, 2, M, N): one
    float32 matrix product per group and lane. Exact: every partial and every intermediate sum is an
    integer of magnitude at most (g/2) * 128 * 8 <= 2^16, well inside float32's 2^24 (and int32)."""
    q = np.pad(qw.levels(), ((0, 0), (0, a.shape[1] - qw.k)))
    return np.matmul(_lane_blocks(a, qw.group_size), _lane_blocks(q, qw.group_size).transpose(0, 1, 3, 2))


def block_rows(qw: QuantizedWeights, block_bytes: int) -> int:
    """How many rows of activations `packed_matmul` takes at a time: as many as keep one block's float32
    partials, (G, 2, rows, N), within `block_bytes`; at least one."""
    if block_bytes <= 0:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    row_bytes = qw.scales_hi.shape[1] * 2 * qw.n * 4
    return max(1, block_bytes // max(1, row_bytes))


def packed_matmul(x: np.ndarray, qw: QuantizedWeights, block_bytes: int = _BLOCK_BYTES) -> np.ndarray:
    """y ≈ x @ w.T for float activations (M, K) and 3.5-bit weights, computed as the kernel does (Lean's
    `Quantproof.kernelRow`): int8 activations with per-row scales, weights unpacked by the table, one exact
    integer partial per (row, column, group, lane), then y = sum over groups of
    s_x * (s_first * P_first + s_second * P_second) in float32. Rows go in blocks that bound the memory
    the partials take (`block_bytes`; the checks pass small blocks so that every run crosses block edges)."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != qw.k:
        raise ValueError(f"x has K={x.shape[1]} but the weights have K={qw.k}")
    guard_k(qw.k)
    a, sx = quantize_activations(x)
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    a = np.pad(a, ((0, 0), (0, groups * g - qw.k)))
    lane_scales = np.stack([qw.scales_hi, qw.scales_lo]).astype(np.float32).transpose(2, 0, 1)[:, :, None, :]
    rows = block_rows(qw, block_bytes)
    y = np.empty((x.shape[0], qw.n), np.float32)
    for r in range(0, x.shape[0], rows):
        partials = packed_partials(a[r:r + rows], qw)
        y[r:r + rows] = (partials * lane_scales).sum(axis=(0, 1)) * sx[r:r + rows].astype(np.float32)
    return y
