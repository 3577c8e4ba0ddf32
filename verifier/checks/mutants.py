"""Test effectiveness: faults injected into the kernels must make the property checks fail.

Each mutant swaps one kernel function for a plausible wrong version (off-by-one, wrong rounding,
wrong bit layout) while the named properties run; a mutant is *caught* when one of them fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from verifier.checks import properties
from verifier.checks.model import MutantResult
from verifier.kernels import pack
from verifier.planner import Tile


@dataclass(frozen=True)
class Mutant:
    name: str
    req: str
    fault: str
    properties: tuple[str, ...]
    patch: Callable[[], contextlib.AbstractContextManager]


@contextlib.contextmanager
def _swap(module: object, attr: str, value: object) -> Iterator[None]:
    old = getattr(module, attr)
    setattr(module, attr, value)
    try:
        yield
    finally:
        setattr(module, attr, old)


def _floor_levels(x, s, qmin, qmax):
    return np.clip(np.floor(np.asarray(x, np.float64) / np.asarray(s, np.float64)), qmin, qmax).astype(np.int8)


def _no_clamp_levels(x, s, qmin, qmax):
    return np.rint(np.asarray(x, np.float64) / np.asarray(s, np.float64)).astype(np.int8)


def _swapped_halves(first, second):
    return ((second.astype(np.uint8) & 0x7) << 4 | (first.astype(np.uint8) & 0xF)).astype(np.uint8)


def _greedy_plan(m: int, k: int, n: int):
    # a planner that forgets the budget: full 320-row tiles
    for r in range(0, m, 320):
        for kk in range(0, k, 320):
            for c in range(0, n, 320):
                yield Tile(r, kk, c, min(320, m - r), min(320, k - kk), min(320, n - c))


def _overlapping_plan(m: int, k: int, n: int):
    for t in properties_plan_original(m, k, n):
        yield Tile(t.row, t.red, t.col, t.rows + (1 if t.row + t.rows < m else 0), t.reds, t.cols)


properties_plan_original = properties.plan


def _wrapping_int_matmul(a, q):
    return (a.astype(np.int16) @ q.astype(np.int16).T).astype(np.int32)  # accumulates in int16


MUTANTS: tuple[Mutant, ...] = (
    Mutant("quantize-floor", "REQ-QERR", "quantizer rounds down instead of half to even", ("quant_error_in_range",),
           lambda: _swap(properties, "quantize_levels", _floor_levels)),
    Mutant("quantize-no-clamp", "REQ-QERR", "quantizer forgets to clamp to [qmin, qmax]",
           ("quant_error_out_of_range",), lambda: _swap(properties, "quantize_levels", _no_clamp_levels)),
    Mutant("pack-swapped-halves", "REQ-PACK", "4-bit and 3-bit halves of the code swapped",
           ("pack_pair_roundtrip",), lambda: _swap(properties, "pack_pairs", _swapped_halves)),
    Mutant("table-off-by-one", "REQ-PACK", "sign-extension table entry 8 holds -7",
           ("unpack_table_matches_spec",), lambda: _swap(properties, "PAIR_TABLE", _bad_table())),
    Mutant("accumulator-int16", "REQ-OVF", "accumulates in int16", ("accumulator_no_overflow",),
           lambda: _swap(properties.mm, "int_matmul", _wrapping_int_matmul)),
    Mutant("planner-ignores-budget", "REQ-TILE", "tiles of 320 rows regardless of memory",
           ("planner_within_budget",), lambda: _swap(properties, "plan", _greedy_plan)),
    Mutant("planner-overlap", "REQ-TILE", "row tiles overlap by one row", ("planner_exact_cover",),
           lambda: _swap(properties, "plan", _overlapping_plan)),
)


def _bad_table() -> np.ndarray:
    table = pack.PAIR_TABLE.copy()
    table[8 << 3, 0] = -7
    return table


def run_mutants(seed: int = properties.DEFAULT_SEED, scale: float = 0.5) -> list[MutantResult]:
    by_name = {p.name: p for p in properties.PROPERTIES}
    results = []
    for mutant in MUTANTS:
        with mutant.patch():
            failed = tuple(name for name in mutant.properties
                           if not properties.run_property(by_name[name], seed, scale).passed)
        results.append(MutantResult(mutant.name, mutant.req, mutant.fault, mutant.properties, bool(failed), failed))
    return results
