"""REQ-PACK, executable: the 7-bit pair code, 16 weights in 7 bytes, and LUT unpacking.

A pair is (first, second) = (weight at even k, weight at odd k): the first is 4-bit two's complement
in [-8, 7], the second 3-bit in [-4, 3]; code = (first mod 16) * 8 + (second mod 8), as in Lean's
`Quantproof.packPair`. Eight codes are one 56-bit little-endian word, code i at bits 7i..7i+6,
stored as 7 bytes (Lean's `groupWord` / `wordByte`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial

import numpy as np

from verifier.kernels.validate import array

HI_MIN, HI_MAX, LO_MIN, LO_MAX = -8, 7, -4, 3
CODES_PER_GROUP, BYTES_PER_GROUP = 8, 7
_SHIFTS7 = np.arange(CODES_PER_GROUP, dtype=np.uint64) * np.uint64(7)


def _sign_extend(u: np.ndarray, bits: int) -> np.ndarray:
    u = u.astype(np.int16)
    return np.where(u < (1 << (bits - 1)), u, u - (1 << bits)).astype(np.int8)


def pair_table() -> np.ndarray:
    """The 128-entry unpacking table: row c = (first, second) weights of code c (Lean's `pairTable`)."""
    codes = np.arange(128, dtype=np.uint8)
    return np.stack([_sign_extend(codes >> 3, 4), _sign_extend(codes & 7, 3)], axis=1)


PAIR_TABLE = pair_table()
# The same table as one uint16 per code, first weight in the low byte: viewing a gather of it as
# int8 yields the weights in stream order (first, second, first, second, ...).
_PAIR_TABLE_U16 = PAIR_TABLE.view(np.uint8).reshape(128, 2).copy().view(np.uint16).reshape(128)


def pack_pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """7-bit codes of weight pairs; raises if a weight is outside its lane's range."""
    array("first", first, dtype=np.int8)
    array("second", second, dtype=np.int8)
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {first.shape} and {second.shape}")
    if first.size and (first.min() < HI_MIN or first.max() > HI_MAX):
        raise ValueError(f"first (4-bit) weights must be in [{HI_MIN}, {HI_MAX}]")
    if second.size and (second.min() < LO_MIN or second.max() > LO_MAX):
        raise ValueError(f"second (3-bit) weights must be in [{LO_MIN}, {LO_MAX}]")
    return ((first.astype(np.uint8) & 0xF) << 3 | (second.astype(np.uint8) & 0x7)).astype(np.uint8)


def pack_weights(q: np.ndarray) -> np.ndarray:
    """Pack quantized weights (..., K) in stream order into bytes (..., 7 * ceil(K / 16)).

    Even k are 4-bit, odd k 3-bit; K is padded with zero weights to a multiple of 16."""
    array("q", q, dtype=np.int8)
    if q.ndim < 1:
        raise ValueError("q must have at least one dimension")
    k = q.shape[-1]
    padded = -(-k // 16) * 16
    if padded != k:
        q = np.concatenate([q, np.zeros((*q.shape[:-1], padded - k), dtype=np.int8)], axis=-1)
    codes = pack_pairs(q[..., 0::2], q[..., 1::2])
    return pack_codes(codes)


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """Eight 7-bit codes to seven bytes, along the last axis (its length must be a multiple of 8)."""
    array("codes", codes, dtype=np.uint8)
    if codes.shape[-1] % CODES_PER_GROUP:
        raise ValueError(f"the last axis of codes must be a multiple of 8, got {codes.shape[-1]}")
    if codes.size and codes.max() > 127:
        raise ValueError("codes must be below 128")
    groups = codes.reshape(-1, CODES_PER_GROUP).astype(np.uint64)
    words = np.bitwise_or.reduce(groups << _SHIFTS7, axis=1)
    as_bytes = words.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :BYTES_PER_GROUP]
    return np.ascontiguousarray(as_bytes).reshape((*codes.shape[:-1], codes.shape[-1] // 8 * 7))


# SWAR spreading of a 56-bit word's eight 7-bit fields into the eight bytes of a uint64:
# 2 x 28-bit halves, then 4 x 14-bit quarters, then 8 x 7-bit fields, each at a byte boundary.
_U64 = np.uint64
_SPREAD = ((_U64(0x000000000FFFFFFF), _U64(0x00FFFFFFF0000000), _U64(4)),
           (_U64(0x00003FFF00003FFF), _U64(0x0FFFC0000FFFC000), _U64(2)),
           (_U64(0x007F007F007F007F), _U64(0x3F803F803F803F80), _U64(1)))
_CHUNK_GROUPS = 1 << 16  # 64 Ki groups (1 Mi weights, ~2 MiB of output) per block: stays in cache


_LOW56 = _U64(0x00FFFFFFFFFFFFFF)


def _codes_of_groups(groups: np.ndarray) -> np.ndarray:
    """(G, 7) packed bytes -> (G * 8,) codes in stream order, via one uint64 per group.

    Each group is read as an unaligned 8-byte word (the eighth byte masked off), except the last,
    which has no eighth byte to borrow; the spreading runs in place."""
    count = groups.shape[0]
    flat = np.ascontiguousarray(groups).reshape(-1)
    x = np.empty(count, np.uint64)
    if count > 1:
        np.bitwise_and(np.ndarray((count - 1,), "<u8", buffer=flat, offset=0, strides=(7,)), _LOW56, out=x[:-1])
    if count:
        last = np.zeros(8, np.uint8)
        last[:BYTES_PER_GROUP] = flat[-BYTES_PER_GROUP:]
        x[-1] = last.view("<u8")[0]
    tmp = np.empty_like(x)
    for keep, move, shift in _SPREAD:
        np.bitwise_and(x, move, out=tmp)
        np.left_shift(tmp, shift, out=tmp)
        np.bitwise_and(x, keep, out=x)
        np.bitwise_or(x, tmp, out=x)
    return x.view(np.uint8)


def unpack_codes(packed: np.ndarray) -> np.ndarray:
    """Seven bytes to eight 7-bit codes, along the last axis."""
    array("packed", packed, dtype=np.uint8)
    if packed.shape[-1] % BYTES_PER_GROUP:
        raise ValueError(f"the last axis of packed must be a multiple of 7, got {packed.shape[-1]}")
    codes = _codes_of_groups(packed.reshape(-1, BYTES_PER_GROUP))
    return codes.reshape((*packed.shape[:-1], packed.shape[-1] // 7 * 8))


def _unpack_block(groups: np.ndarray, out: np.ndarray) -> None:
    np.take(_PAIR_TABLE_U16, _codes_of_groups(groups).astype(np.intp), out=out)


def unpack_weights(packed: np.ndarray, k: int | None = None, chunk_groups: int = _CHUNK_GROUPS) -> np.ndarray:
    """Packed bytes (..., 7 * G) to int8 weights (..., 16 * G) in stream order, by the 128-entry table.

    Blocks of groups are decoded independently (two threads on large inputs; NumPy releases the GIL
    in these loops; `chunk_groups` groups per block, small in the checks so that blocks meet). `k`, if given,
    drops the zero padding."""
    array("packed", packed, dtype=np.uint8)
    if packed.shape[-1] % BYTES_PER_GROUP:
        raise ValueError(f"the last axis of packed must be a multiple of 7, got {packed.shape[-1]}")
    width = packed.shape[-1] // 7 * 16
    if k is not None and not 0 <= k <= width:
        raise ValueError(f"k={k} is outside [0, {width}]")
    if chunk_groups <= 0:
        raise ValueError(f"chunk_groups must be positive, got {chunk_groups}")
    groups = np.ascontiguousarray(packed).reshape(-1, BYTES_PER_GROUP)
    out = np.empty(groups.shape[0] * CODES_PER_GROUP, np.uint16)
    spans = [(g, min(g + chunk_groups, groups.shape[0])) for g in range(0, groups.shape[0], chunk_groups)]
    parallel([partial(_unpack_block, groups[a:b], out[a * CODES_PER_GROUP:b * CODES_PER_GROUP]) for a, b in spans])
    weights = out.view(np.int8).reshape((*packed.shape[:-1], width))
    return weights[..., :k] if k is not None else weights


def parallel(jobs: list[Callable[[], None]]) -> None:
    """Run independent NumPy jobs on the kernels' small thread pool (NumPy releases the GIL)."""
    if len(jobs) > 1:
        for future in [_pool().submit(job) for job in jobs]:
            future.result()
    else:
        for job in jobs:
            job()


POOL_THREADS = "quantproof-unpack"


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix=POOL_THREADS)


# A forked child has none of the parent's threads: it must build its own pool, not queue jobs on a copy
# whose threads are gone. (The pool's threads are idle whenever a fork can happen: `parallel` waits for its
# jobs before it returns.)
os.register_at_fork(after_in_child=_pool.cache_clear)
