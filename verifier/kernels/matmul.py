"""REQ-OVF and REQ-MM, executable: int8 × 3.5-bit matmul with int32 accumulation.

Integer sums are computed with BLAS on integer-valued floats, which is exact while every partial
sum stays below the float's integer range (2^24 for float32, 2^53 for float64): per group of 128
weights |sum| <= 128 * 128 * 8 = 2^17, and over K <= maxSafeK |sum| <= 2^31. The result is the int32
accumulation bit for bit (checked against a wrapping int32 reference in the tests).
"""

from __future__ import annotations

import numpy as np

from verifier.closed_forms import max_safe_k
from verifier.kernels.pack import HI_MAX, HI_MIN
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


def packed_matmul(x: np.ndarray, qw: QuantizedWeights) -> np.ndarray:
    """y ≈ x @ w.T for float activations (M, K) and 3.5-bit weights: int8 activations, exact int32
    sums per scale group and lane, then scaled and summed in float32."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != qw.k:
        raise ValueError(f"x has K={x.shape[1]} but the weights have K={qw.k}")
    guard_k(qw.k)
    a, sx = quantize_activations(x)
    levels = qw.levels()
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    kp = groups * g
    if kp != qw.k:
        a = np.pad(a, ((0, 0), (0, kp - qw.k)))
        levels = np.pad(levels, ((0, 0), (0, kp - qw.k)))
    a_g = a.astype(np.float32).reshape(a.shape[0], groups, g).transpose(1, 0, 2)  # (G, M, g)
    q_g = levels.astype(np.float32).reshape(levels.shape[0], groups, g).transpose(1, 2, 0)  # (G, g, N)
    acc_hi = np.matmul(a_g[:, :, 0::2], q_g[:, 0::2, :])  # exact integers: |sum| < 2^24
    acc_lo = np.matmul(a_g[:, :, 1::2], q_g[:, 1::2, :])
    y = (acc_hi * qw.scales_hi.T.astype(np.float32)[:, None, :]).sum(axis=0)
    y += (acc_lo * qw.scales_lo.T.astype(np.float32)[:, None, :]).sum(axis=0)
    return (y * sx.astype(np.float32)).astype(np.float32)


def reference_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The float reference: x @ w.T in float64."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    array("w", w, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x and w must share K, got {x.shape} and {w.shape}")
    return x.astype(np.float64) @ w.astype(np.float64).T
