"""REQ-E2E, executable: the reference twin of Lean's `Quantproof.kernelRow`, computed exactly.

Step by step as the Lean definition: activations quantized per row (`activations.py`); weights unpacked
from the packed bytes by the 128-entry table; one integer partial per (row, column, group, lane), the sum
of activation level times weight level over the lane's positions in the group; then the combination
y = sum over groups of s_x * (s_first * P_first + s_second * P_second), in exact rational arithmetic.
The fast path (`matmul.packed_matmul`) is checked against this: the same partials, bit for bit, and an
output within float32 rounding of this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from verifier.kernels.activations import quantize_activations
from verifier.kernels.quant import QuantizedWeights
from verifier.kernels.validate import array


@dataclass(frozen=True)
class KernelTrace:
    """Everything the kernel computes on its way to the output, for M rows and N columns."""

    group_size: int
    activations: np.ndarray  # int8 (M, G * g): levels, zero-padded to whole groups
    activation_scales: np.ndarray  # float64 (M,)
    weights: np.ndarray  # int8 (N, G * g): levels, unpacked by the table
    scales: np.ndarray  # float64 (N, G, 2): each group's first-lane and second-lane fp16 scale
    partials: np.ndarray  # int64 (M, N, G, 2): per group and lane, the sum of activation * weight levels

    def output(self, m: int, n: int) -> Fraction:
        """y[m, n] exactly: sum over groups of s_x * (s_first * P_first + s_second * P_second)."""
        sx = Fraction(float(self.activation_scales[m]))
        total = Fraction(0)
        for (sh, sl), (ph, pl) in zip(self.scales[n], self.partials[m, n], strict=True):
            total += sx * (Fraction(float(sh)) * int(ph) + Fraction(float(sl)) * int(pl))
        return total

    def element_scales(self, n: int) -> list[Fraction]:
        """The scale of each weight position of column n: first lane at even, second lane at odd positions."""
        g = self.group_size
        per_group = [(Fraction(float(sh)), Fraction(float(sl))) for sh, sl in self.scales[n]]
        return [per_group[k // g][k % 2] for k in range(self.weights.shape[1])]


def lane_partials(a: np.ndarray, q: np.ndarray, group_size: int) -> np.ndarray:
    """(M, N, G, 2) int64 partials of levels a (M, G*g) and q (N, G*g), exactly."""
    m, n, width = a.shape[0], q.shape[0], a.shape[1]
    groups = width // group_size
    a4 = a.astype(np.int64).reshape(m, groups, group_size // 2, 2)
    q4 = q.astype(np.int64).reshape(n, groups, group_size // 2, 2)
    return np.einsum("mgil,ngil->mngl", a4, q4)


def reference_kernel(x: np.ndarray, qw: QuantizedWeights) -> KernelTrace:
    """The kernel's steps on float activations x (M, K) and packed 3.5-bit weights."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    if x.shape[1] != qw.k:
        raise ValueError(f"x has K={x.shape[1]} but the weights have K={qw.k}")
    g, groups = qw.group_size, qw.scales_hi.shape[1]
    a, sx = quantize_activations(x)
    a = np.pad(a, ((0, 0), (0, groups * g - qw.k)))
    q = np.pad(qw.levels(), ((0, 0), (0, groups * g - qw.k)))
    scales = np.stack([qw.scales_hi.astype(np.float64), qw.scales_lo.astype(np.float64)], axis=2)
    return KernelTrace(g, a, sx[:, 0], q, scales, lane_partials(a, q, g))


def dyadic_sum(terms: Iterable[tuple[int, int]]) -> Fraction:
    """The exact sum of the fractions n / d, when every d is a power of two (as every float's denominator
    and every product of such is): one integer sum over the largest denominator, not a Fraction per term
    (the e2e property sums rows of 28,672 terms)."""
    pairs = list(terms)
    big = max((d for _, d in pairs), default=1)
    if any(d & (d - 1) for _, d in pairs):
        raise ValueError("dyadic_sum needs power-of-two denominators")
    width = big.bit_length()
    return Fraction(sum(n << (width - d.bit_length()) for n, d in pairs), big)


def _ratios(values: np.ndarray, length: int = 0) -> list[tuple[int, int]]:
    """Each float as (numerator, power-of-two denominator), zero-padded to `length`."""
    out = [float(v).as_integer_ratio() for v in values]
    return out + [(0, 1)] * (length - len(out))


def exact_dot(x: np.ndarray, w: np.ndarray) -> Fraction:
    """sum_k x_k w_k in exact rational arithmetic."""
    return dyadic_sum((a * b, c * d) for (a, c), (b, d) in zip(_ratios(x), _ratios(w), strict=True))


def error_bound(x: np.ndarray, w: np.ndarray, sx: Fraction, scales: list[Fraction]) -> Fraction:
    """Lean's `Quantproof.e2eBound`: sum_k |x_k| s_k/2 + |w_k| s_x/2 + (s_x/2)(s_k/2), over the padded row."""
    xs, ws = _ratios(x, len(scales)), _ratios(w, len(scales))
    sn, sd = sx.numerator, sx.denominator
    terms = []
    for (xn, xd), (wn, wd), s in zip(xs, ws, scales, strict=True):
        terms += ((abs(xn) * s.numerator, xd * s.denominator * 2), (abs(wn) * sn, wd * sd * 2),
                  (sn * s.numerator, sd * s.denominator * 4))
    return dyadic_sum(terms)
