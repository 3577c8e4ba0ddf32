"""REQ-QERR, executable: the symmetric quantizer and the 3.5-bit weight format.

`quantize_levels` is Lean's `Quantproof.quantize`: clamp(round_half_even(x / s)) of the exact quotient
(`np.rint` in float64, with float near-ties redone exactly). Weights (N, K) get, per output channel n and per group of
`group_size` weights along K, two fp16 scales: one for the 4-bit lane (even k, range [-8, 7]) and
one for the 3-bit lane (odd k, range [-4, 3]). Each scale is max|w| / qmax of its lane, rounded *up*
to fp16 (`lane_scales`, Lean's `Quantproof.laneScale`), so every weight lies in its lane's clipping range
(REQ-SCALE) and REQ-QERR's s/2 bound applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from verifier.kernels.pack import HI_MAX, HI_MIN, LO_MAX, LO_MIN, pack_weights, unpack_weights
from verifier.kernels.validate import array, positive_scales

DEFAULT_GROUP = 128


_TIE_WINDOW = 1e-9


def round_half_even(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """round_half_even(x / s) of the *exact* quotient, as float64 integers (exact below 2^53).

    `np.rint(x / s)` rounds the float64 quotient, which can land exactly on a tie the exact quotient
    misses (x = 2.775, s = 0.37: the quotient rounds to -7.5, the exact one is just above it). Such
    near-ties are rare; they are redone in exact rational arithmetic, the rest stay vectorised. At every
    magnitude: a quotient of 2^40 or more lands on ties too (past 2^52 every float64 is an integer)."""
    ratio = x / s
    rounded = np.rint(ratio)
    frac = ratio - np.floor(ratio)
    near = np.flatnonzero(np.abs(frac - 0.5) < _TIE_WINDOW)
    if near.size:
        xs, ss = np.broadcast_to(x, ratio.shape).flat, np.broadcast_to(s, ratio.shape).flat
        flat = rounded.reshape(-1)
        for i in near:
            flat[i] = round(Fraction(float(xs[i])) / Fraction(float(ss[i])))  # Fraction rounds half to even
    return rounded


def quantize_levels(x: np.ndarray, s: np.ndarray | float, qmin: int, qmax: int) -> np.ndarray:
    """Integer levels clamp(round_half_even(x / s), qmin, qmax) as int8 (exact, as Lean's `quantize`)."""
    array("x", x, dtype=(np.float32, np.float64), finite=True)
    s_arr = positive_scales("s", np.asarray(s, dtype=np.float64))
    if not -128 <= qmin <= qmax <= 127:
        raise ValueError(f"[qmin, qmax] = [{qmin}, {qmax}] is not an int8 range")
    return np.clip(round_half_even(x.astype(np.float64), s_arr), qmin, qmax).astype(np.int8)


def dequantize_levels(q: np.ndarray, s: np.ndarray | float) -> np.ndarray:
    """q * s in float64."""
    array("q", q, dtype=np.int8)
    return q.astype(np.float64) * positive_scales("s", np.asarray(s, dtype=np.float64))


FP16_MAX = 65504.0


def lane_scales(group_max: np.ndarray, qmax: int) -> np.ndarray:
    """Lean's `Quantproof.laneScale`: the smallest fp16 value `s` with `s * qmax >= max|w|` (max|w| / qmax
    rounded up to fp16); an all-zero group gets scale 1.

    The float64 quotient cast to fp16 is within one fp16 step of the answer; it is then moved up while
    `s * qmax` falls short and down while the value below still reaches the peak. Both tests are exact:
    an fp16 value (11 significant bits) times qmax (at most 3) is exact in float64."""
    peak = np.asarray(group_max, dtype=np.float64)
    live = peak > 0
    with np.errstate(over="ignore"):
        s = np.where(live, peak / qmax, 1.0).astype(np.float16)
        for _ in range(3):
            short = live & (s.astype(np.float64) * qmax < peak)
            s[short] = np.nextafter(s[short], np.float16(np.inf))
        for _ in range(3):
            below = np.nextafter(s, np.float16(0))
            enough = live & (below > 0) & (below.astype(np.float64) * qmax >= peak)
            s[enough] = below[enough]
    if not np.isfinite(s).all():
        raise ValueError(f"a weight is too large for an fp16 scale (max|w| / {qmax} above {FP16_MAX:g})")
    return s


@dataclass(frozen=True)
class QuantizedWeights:
    """A 3.5-bit weight matrix: packed codes and fp16 scales of shape (N, groups) per lane."""

    packed: np.ndarray
    scales_hi: np.ndarray
    scales_lo: np.ndarray
    k: int
    group_size: int

    @property
    def n(self) -> int:
        return self.packed.shape[0]

    def levels(self) -> np.ndarray:
        """int8 levels (N, K) in stream order."""
        return unpack_weights(self.packed, self.k)

    def element_scales(self) -> np.ndarray:
        """The scale of every weight (N, K), float64."""
        idx = np.arange(self.k) // self.group_size
        hi = self.scales_hi.astype(np.float64)[:, idx]
        lo = self.scales_lo.astype(np.float64)[:, idx]
        return np.where(np.arange(self.k) % 2 == 0, hi, lo)

    def dequantize(self) -> np.ndarray:
        return self.levels().astype(np.float64) * self.element_scales()


def quantize_weights(w: np.ndarray, group_size: int = DEFAULT_GROUP) -> QuantizedWeights:
    """Quantize float weights (N, K) to the 3.5-bit format."""
    array("w", w, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if group_size <= 0 or group_size % 16:
        raise ValueError(f"group_size must be a positive multiple of 16, got {group_size}")
    n, k = w.shape
    if k == 0 or n == 0:
        raise ValueError(f"w must have at least one row and column, got shape {w.shape}")
    groups = -(-k // group_size)
    padded = np.zeros((n, groups * group_size), dtype=np.float64)
    padded[:, :k] = w
    blocks = np.abs(padded).reshape(n, groups, group_size)
    s_hi = lane_scales(blocks[..., 0::2].max(axis=2), HI_MAX)
    s_lo = lane_scales(blocks[..., 1::2].max(axis=2), LO_MAX)
    qw = QuantizedWeights(np.empty(0, np.uint8), s_hi, s_lo, k, group_size)
    scales = qw.element_scales() if k else np.empty((n, 0))
    rounded = round_half_even(w.astype(np.float64), scales)
    q = np.where(np.arange(k) % 2 == 0, np.clip(rounded, HI_MIN, HI_MAX), np.clip(rounded, LO_MIN, LO_MAX))
    q = q.astype(np.int8)
    return QuantizedWeights(pack_weights(q), s_hi, s_lo, k, group_size)
