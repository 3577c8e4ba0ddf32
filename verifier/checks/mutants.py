"""Test effectiveness: faults injected into the kernels must make the property checks fail.

Each mutant swaps one kernel function for a plausible wrong version (off-by-one, wrong rounding,
wrong bit layout) while the named properties run; a mutant is *caught* when one of them fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from verifier import planner
from verifier.checks import catalog, guard_properties, properties
from verifier.checks.model import MutantResult
from verifier.kernels import activations, matmul, pack, quant, reference
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


def _rows_ignoring_budget(reserve: int, m: int, k: int, n: int) -> int:
    return max(1, min(m, 320))  # as many rows as the array has, whatever the memory


def single_buffered(k0: int, k: int, n: int) -> int:
    return planner.weight_bytes(k, n) + planner.scale_block_bytes(k0, k, n) + 256  # no prefetch buffer


def one_group_per_chunk(k0: int, k: int) -> int:
    return -(-k // 128)  # ⌈k / g⌉ wherever the chunk starts


def _unaligned_reds(k: int) -> int:
    return min(k, 320)  # chunks of 320 start mid-group


def _rows_without_drain(k: int, n: int) -> int:
    return 2 * k + 16 + 4 * n + 4 * n  # forgets the output drain buffer


def _traffic_weights_once(m: int, k: int, n: int, tm: int, tn: int) -> int:
    return planner.traffic_lower_bound(m, k, n) + (-(-n // tn) - 1) * planner.layer_act_bytes(m, k)


_original_plan = planner.plan
_original_roofline = planner.roofline


def _roofline_without_fill(m: int, k: int, n: int, model=None, reserve=None):
    r = _original_roofline(m, k, n, model, reserve)  # as if the array never filled or drained: rows cycles a tile
    shape = planner.plan_shape(m, k, n, reserve)
    cycles = sum(rows for _, rows in planner.chunks(m, shape.rows)) * planner.tile_count(m, k, n, reserve) \
        // max(1, len(planner.chunks(m, shape.rows)))
    return replace(r, utilisation=r.macs / (cycles * 320 * 320) if cycles else 0.0)


def _overlapping_plan(m: int, k: int, n: int, reserve: int | None = None):
    for t in _original_plan(m, k, n, reserve):
        yield Tile(t.row, t.red, t.col, t.rows + (1 if t.row + t.rows < m else 0), t.reds, t.cols)


def _wrapping_int_matmul(a, q):
    return (a.astype(np.int16) @ q.astype(np.int16).T).astype(np.int32)  # accumulates in int16


def _nearest_lane_scales(group_max, qmax):
    # rounds max|w| / qmax to the *nearest* fp16: half the time below it, so the peak falls out of range
    peak = np.asarray(group_max, np.float64)
    with np.errstate(over="ignore"):
        return np.where(peak > 0, peak / qmax, 1.0).astype(np.float16)


def _scales_over_128(x):
    peak = np.abs(x).max(axis=1).astype(np.float64)
    return np.where(peak > 0, peak / 128, 1.0)[:, None]


def _floor_quotient(x, s):
    return np.floor(x / s)


def _int16_partials(a, qw):
    # accumulates each group's lane in int16: the largest partials (|a| 127, |q| 7, 64 terms) wrap
    exact = kernel_matmul_partials(a, qw)
    return ((exact.astype(np.int64) + 2**15) % 2**16 - 2**15).astype(np.float32)


def _one_lane_scale_matmul(x, qw, **blocks):
    # forgets the second lane's scale: both lanes combined with the first lane's
    return kernel_packed_matmul(x, replace(qw, scales_lo=qw.scales_hi), **blocks)


def _last_block_dropped_matmul(x, qw, block_bytes=matmul._BLOCK_BYTES):
    # the last, partial block of rows is never computed (its rows keep whatever memory held)
    y = kernel_packed_matmul(x, qw, block_bytes=block_bytes)
    rows = matmul.block_rows(qw, block_bytes)
    if x.shape[0] > rows and x.shape[0] % rows:
        y[x.shape[0] - x.shape[0] % rows:] = 0
    return y


def _last_block_dropped_unpack(packed, k=None, chunk_groups=1 << 16):
    # decodes whole blocks only: a stream's last, partial block comes back as zeros
    out = kernel_unpack_weights(packed, k, chunk_groups=chunk_groups).copy()
    groups = packed.shape[-1] // 7
    if groups > chunk_groups and groups % chunk_groups:
        out[..., 16 * (groups - groups % chunk_groups):] = 0
    return out


def _unguarded_pack_pairs(first, second):
    # packs whatever it is given: a 4-bit weight of 8 silently becomes -8
    return ((first.astype(np.uint8) & 0xF) << 3 | (second.astype(np.uint8) & 0x7)).astype(np.uint8)


def _unguarded_int_matmul(a, q):
    # accumulates any int8 levels, so the overflow bound's hypothesis (|q| <= 8) no longer holds
    return (a.astype(np.float64) @ q.astype(np.float64).T).astype(np.int32)


kernel_matmul_partials = matmul.packed_partials
kernel_packed_matmul = matmul.packed_matmul


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
    Mutant("planner-ignores-budget", "REQ-TILE", "tiles of as many rows as the array has, whatever the memory",
           ("planner_within_budget",), lambda: _swap(planner, "rows_for", _rows_ignoring_budget)),
    Mutant("planner-single-buffer", "REQ-TILE", "the weight stream is not double-buffered",
           ("planner_within_budget",), lambda: _swap(planner, "fixed_bytes", single_buffered)),
    Mutant("planner-one-group-per-chunk", "REQ-TILE", "a chunk is charged ⌈k/g⌉ scale groups wherever it starts",
           ("planner_scale_groups",), lambda: _swap(planner, "groups_touched", one_group_per_chunk)),
    Mutant("planner-unaligned-chunks", "REQ-TILE", "K chunks of 320 that start mid-group",
           ("planner_within_budget", "planner_scale_groups"), lambda: _swap(planner, "plan_reds", _unaligned_reds)),
    Mutant("planner-no-drain-buffer", "REQ-TILE", "the output drain buffer is not counted",
           ("planner_within_budget",), lambda: _swap(planner, "row_bytes", _rows_without_drain)),
    Mutant("planner-traffic-weights-once", "REQ-TILE", "traffic counts the weights once, not once per M block",
           ("planner_traffic",), lambda: _swap(planner, "plan_traffic", _traffic_weights_once)),
    Mutant("roofline-no-fill-drain", "REQ-TILE", "the roofline counts a tile's rows as its cycles (no fill or drain)",
           ("planner_roofline",), lambda: _swap(planner, "roofline", _roofline_without_fill)),
    Mutant("planner-overlap", "REQ-TILE", "row tiles overlap by one row",
           ("planner_exact_cover", "planner_tiled_equals_untiled"), lambda: _swap(planner, "plan", _overlapping_plan)),
    Mutant("lane-scale-nearest", "REQ-SCALE", "lane scales rounded to the nearest fp16 instead of up",
           ("lane_scales_exact", "weights_in_lane_range"), lambda: _swap(quant, "lane_scales", _nearest_lane_scales)),
    Mutant("activation-scale-128", "REQ-ACT", "activation scale max|x| / 128 instead of / 127",
           ("activation_quantization",), lambda: _swap(activations, "activation_scales", _scales_over_128)),
    Mutant("activation-floor", "REQ-ACT", "activation levels rounded down instead of half to even",
           ("activation_quantization",), lambda: _swap(activations, "round_half_even", _floor_quotient)),
    Mutant("fast-path-int16", "REQ-E2E", "the fast path accumulates each group's lane in int16",
           ("fast_path_matches_reference",), lambda: _swap(matmul, "packed_partials", _int16_partials)),
    Mutant("fast-path-one-lane-scale", "REQ-E2E", "the fast path combines both lanes with the first lane's scale",
           ("fast_path_matches_reference",), lambda: _swap(matmul, "packed_matmul", _one_lane_scale_matmul)),
    Mutant("fast-path-last-block", "REQ-E2E", "the fast path skips the last, partial block of rows",
           ("fast_path_matches_reference",), lambda: _swap(matmul, "packed_matmul", _last_block_dropped_matmul)),
    Mutant("unpack-last-block", "REQ-PACK", "unpacking decodes whole blocks only, the last partial one as zeros",
           ("pack_stream_roundtrip",), lambda: _swap(properties, "unpack_weights", _last_block_dropped_unpack)),
    Mutant("pack-unguarded", "REQ-PACK", "packing accepts weights outside their lanes and wraps them",
           ("pack_refuses_invalid",), lambda: _swap(guard_properties, "pack_pairs", _unguarded_pack_pairs)),
    Mutant("int-matmul-unguarded", "REQ-OVF", "the integer matmul accepts levels outside [-8, 7]",
           ("int_matmul_refuses_invalid",), lambda: _swap(matmul, "int_matmul", _unguarded_int_matmul)),
    Mutant("pack-lanes-swapped", "REQ-PACK", "packing puts odd positions in the 4-bit half",
           ("pack_stream_roundtrip",), lambda: _swap(properties, "pack_weights", _lanes_swapped_pack)),
    Mutant("pack-codes-reversed", "REQ-PACK", "each group's eight codes written in reverse order",
           ("pack_stream_roundtrip",), lambda: _swap(pack, "pack_codes", _codes_reversed)),
    Mutant("unpack-no-sign", "REQ-PACK", "unpacking reads the 3-bit half without sign extension",
           ("pack_stream_roundtrip",), lambda: _swap(properties, "unpack_weights", _unpack_drops_sign)),
    Mutant("reference-int16", "REQ-E2E", "the reference twin accumulates each group's lane in int16",
           ("fast_path_matches_reference", "e2e_bound"),
           lambda: _swap(reference, "lane_partials", lambda a, q, g: _wrap16(kernel_lane_partials(a, q, g)))),
)


def _lanes_swapped_pack(q):
    # stores odd positions in the 4-bit half and even ones in the 3-bit half
    swapped = q.copy()
    swapped[..., 0::2], swapped[..., 1::2] = q[..., 1::2], q[..., 0::2]
    return kernel_pack_weights(swapped)


def _codes_reversed(codes):
    # writes each group's eight codes in reverse order
    return kernel_pack_codes(codes.reshape(*codes.shape[:-1], -1, 8)[..., ::-1].reshape(codes.shape))


def _unpack_drops_sign(packed, k=None, **blocks):
    # reads the 3-bit half without sign extension, as the design's routine does
    out = kernel_unpack_weights(packed, k, **blocks).copy()
    odd = out[..., 1::2]
    odd[odd < 0] += 8
    return out


kernel_pack_weights = pack.pack_weights
kernel_pack_codes = pack.pack_codes
kernel_unpack_weights = pack.unpack_weights


def _wrap16(values: np.ndarray) -> np.ndarray:
    return (values + 2**15) % 2**16 - 2**15


kernel_lane_partials = reference.lane_partials


def _bad_table() -> np.ndarray:
    table = pack.PAIR_TABLE.copy()
    table[8 << 3, 0] = -7
    return table


def run_mutants(seed: int = properties.DEFAULT_SEED, scale: float = 0.5) -> list[MutantResult]:
    by_name = {p.name: p for p in catalog.PROPERTIES}
    results = []
    for mutant in MUTANTS:
        with mutant.patch():
            failed = tuple(name for name in mutant.properties
                           if not properties.run_property(by_name[name], seed, scale, shrink=False).passed)
        results.append(MutantResult(mutant.name, mutant.req, mutant.fault, mutant.properties, bool(failed), failed))
    return results
