"""Closed forms, derived with sympy: worst-case accumulator magnitude, largest safe K, matmul error.

These are the same quantities Lean defines (`Quantproof.maxSafeK`, REQ-MM's bound); the checks compare
the sympy values with the Lean kernel's and with the requirements file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

bits_a, bits_w, bits_acc, K = sp.symbols("bits_a bits_w bits_acc K", positive=True, integer=True)
s, M = sp.symbols("s M", positive=True)

# Worst case of one product: both operands at their two's complement minimum.
WORST_PRODUCT = 2 ** (bits_a - 1) * 2 ** (bits_w - 1)
WORST_ACCUMULATOR = K * WORST_PRODUCT
ACC_MAX = 2 ** (bits_acc - 1) - 1
MAX_SAFE_K = sp.floor(ACC_MAX / WORST_PRODUCT)
# REQ-MM: error <= (s/2) * sum|x| <= K * (s/2) * max|x|
MATMUL_ERROR_BOUND = K * (s / 2) * M


@cache
def max_safe_k(a: int, w: int, acc: int) -> int:
    """Largest K whose worst-case sum fits a signed `acc`-bit accumulator."""
    return int(MAX_SAFE_K.subs({bits_a: a, bits_w: w, bits_acc: acc}))


def worst_accumulator(a: int, w: int, k: int) -> int:
    return int(WORST_ACCUMULATOR.subs({bits_a: a, bits_w: w, K: k}))


@dataclass(frozen=True)
class SeedBoundCondition:
    """When the design's `K × scale` follows from REQ-MM's bound: the largest admissible max|x|."""

    max_activation: sp.Expr
    relation: str


def seed_bound_condition() -> SeedBoundCondition:
    """Solve K (s/2) M <= K s for M: the design's bound needs max|x_k| <= 2."""
    solution = sp.solve(sp.Le(MATMUL_ERROR_BOUND, K * s), M)
    bound = sp.solve(sp.Eq(MATMUL_ERROR_BOUND, K * s), M)[0]
    return SeedBoundCondition(bound, str(solution))
