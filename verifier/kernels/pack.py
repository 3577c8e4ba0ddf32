"""REQ-PACK, executable: the 7-bit pair code, 16 weights in 7 bytes, and LUT unpacking.

A pair is (first, second) = (weight at even k, weight at odd k): the first is 4-bit two's complement
in [-8, 7], the second 3-bit in [-4, 3]; code = (first mod 16) * 8 + (second mod 8), as in Lean's
`Quantproof.packPair`. Eight codes are one 56-bit little-endian word, code i at bits 7i..7i+6,
stored as 7 bytes (Lean's `groupWord` / `wordByte`).
"""

from __future__ import annotations

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


def unpack_codes(packed: np.ndarray) -> np.ndarray:
    """Seven bytes to eight 7-bit codes, along the last axis."""
    array("packed", packed, dtype=np.uint8)
    if packed.shape[-1] % BYTES_PER_GROUP:
        raise ValueError(f"the last axis of packed must be a multiple of 7, got {packed.shape[-1]}")
    groups = packed.reshape(-1, BYTES_PER_GROUP)
    padded = np.zeros((groups.shape[0], 8), dtype=np.uint8)
    padded[:, :BYTES_PER_GROUP] = groups
    words = padded.view("<u8")  # (G, 1)
    codes = ((words >> _SHIFTS7) & np.uint64(0x7F)).astype(np.uint8)
    return codes.reshape((*packed.shape[:-1], packed.shape[-1] // 7 * 8))


def unpack_weights(packed: np.ndarray, k: int | None = None) -> np.ndarray:
    """Packed bytes (..., 7 * G) to int8 weights (..., 16 * G) in stream order, by the 128-entry table.

    `k`, if given, drops the zero padding."""
    codes = unpack_codes(packed)
    weights = np.take(_PAIR_TABLE_U16, codes).view(np.int8)
    if k is not None:
        if not 0 <= k <= weights.shape[-1]:
            raise ValueError(f"k={k} is outside [0, {weights.shape[-1]}]")
        weights = weights[..., :k]
    return weights
