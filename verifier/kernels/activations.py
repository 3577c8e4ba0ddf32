"""REQ-ACT, executable: per-row int8 activations.

A row's scale is its peak |x| / 127 rounded *up* to float64 (so every |x| <= 127 * scale holds exactly,
the hypothesis of Lean's `Quantproof.quantizeAct_error_le`); an all-zero row gets scale 1. The levels are
Lean's `Quantproof.quantizeActs`: clamp(-128, 127, round_half_even(x / scale)) of the exact quotient.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from verifier.kernels.quant import round_half_even
from verifier.kernels.validate import array

ACT_MIN, ACT_MAX = -128, 127


def activation_scales(x: np.ndarray) -> np.ndarray:
    """(M, 1) float64: for each row the smallest float64 s with 127 * s >= max|x| (1 for a zero row)."""
    peak = np.abs(x).max(axis=1).astype(np.float64) if x.shape[1] else np.zeros(x.shape[0])
    scale = np.where(peak > 0, peak / ACT_MAX, 1.0)
    for i in np.flatnonzero(peak > 0):  # one exact comparison per row
        if Fraction(float(scale[i])) * ACT_MAX < Fraction(float(peak[i])):
            scale[i] = np.nextafter(scale[i], np.inf)
    return scale[:, None]


def quantize_activations(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8 activations: levels (M, K) and scales (M, 1)."""
    array("x", x, dtype=(np.float32, np.float64), ndim=2, finite=True)
    scale = activation_scales(x)
    levels = np.clip(round_half_even(x.astype(np.float64), scale), ACT_MIN, ACT_MAX).astype(np.int8)
    return levels, scale
