"""Read compiled `.olean` files in Python: the compacted object region and the Lean data in it.

An `.olean` is a header followed by a compacted region of Lean runtime objects
(`src/runtime/object.h`, `src/runtime/compact.cpp`): each object starts with an 8-byte header
(`m_rc`: 4 bytes, then a 32-bit word holding `m_cs_sz`: 16 bits, `m_other`: 8 bits, `m_tag`: 8 bits),
pointers are absolute addresses `base_addr + file offset`, and odd pointers are boxed scalars. Field
widths follow the build's pointer size: 4 bytes for wasm32 (the portable Lean), 8 for native 64-bit.
The root object is `ModuleData` (`src/Lean/Environment.lean`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

HEADER_FIXED = 80  # marker 5 + version 1 + flags 1 + lean_version 33 + githash 40
MAX_CTOR_TAG = 244
TAG_ARRAY, TAG_SARRAY, TAG_STRING, TAG_MPZ, TAG_THUNK, TAG_TASK, TAG_REF = 246, 248, 249, 250, 251, 252, 253


class OleanError(ValueError):
    """The file is not an .olean this reader understands (names the file and the problem)."""


@dataclass(frozen=True)
class OleanHeader:
    version: int
    flags: int
    lean_version: str
    githash: str
    base_addr: int
    pointer_size: int
    root: int


@dataclass(frozen=True)
class Ctor:
    """A constructor object: its tag, pointer fields, and the bytes of its scalar fields."""

    tag: int
    fields: tuple[int, ...]
    scalars: bytes

    def u8(self, offset: int = 0) -> int:
        return self.scalars[offset]

    def u64(self, offset: int = 0) -> int:
        return struct.unpack_from("<Q", self.scalars, offset)[0]


class Olean:
    """One .olean file, decoded lazily: `obj(ptr)` gives the Python view of the object at `ptr`.

    A module of the module system is saved in parts (`.olean`, `.olean.server`, `.olean.private`)
    mapped at consecutive addresses; a later part points into earlier ones, so the parts given in
    `others` are consulted for pointers outside this file."""

    def __init__(self, path: Path, others: tuple[Olean, ...] = (), pointer_size: int | None = None) -> None:
        self.path = Path(path)
        try:
            self.data = self.path.read_bytes()
        except OSError as exc:
            raise OleanError(f"{self.path}: cannot read ({exc.strerror})") from None
        self.others = others
        self.header = self._read_header(pointer_size or (others[0].psize if others else None))
        self._cache: dict[int, object] = {}

    def contains(self, ptr: int) -> bool:
        return self.header.base_addr <= ptr < self.header.base_addr + len(self.data)

    def _owner(self, ptr: int) -> Olean:
        if self.contains(ptr):
            return self
        for part in self.others:
            if part.contains(ptr):
                return part
        raise OleanError(f"{self.path}: pointer {ptr:#x} is in no part of the module (corrupt or truncated)")

    def _read_header(self, pointer_size: int | None) -> OleanHeader:
        """Fixed fields, then base address and root pointer, whose width is the build's pointer size:
        given by the caller (the toolchain knows it), else inferred from which width is plausible."""
        d = self.data
        if len(d) < HEADER_FIXED + 8 or d[:5] != b"olean":
            raise OleanError(f"{self.path}: not an .olean file (bad marker)")
        version, flags = d[5], d[6]
        lean_version = d[7:40].split(b"\0", 1)[0].decode("ascii", "replace")
        githash = d[40:80].split(b"\0", 1)[0].decode("ascii", "replace")
        candidates = ((pointer_size, "<QQ" if pointer_size == 8 else "<II"),) if pointer_size else \
            ((8, "<QQ"), (4, "<II"))
        for psize, fmt in candidates:
            if len(d) < HEADER_FIXED + 2 * psize:
                continue
            base, root = struct.unpack_from(fmt, d, HEADER_FIXED)
            # the root may live in an earlier part of a multi-part module (below this file's base)
            plausible = base % 4096 == 0 and base < 2**47 and not root & 1 and root < base + len(d)
            if plausible:
                return OleanHeader(version, flags, lean_version, githash, base, psize, root)
        raise OleanError(f"{self.path}: cannot locate the object region (truncated or unknown layout)")

    @property
    def psize(self) -> int:
        return self.header.pointer_size

    def _word(self, offset: int) -> int:
        fmt = "<Q" if self.psize == 8 else "<I"
        return struct.unpack_from(fmt, self.data, offset)[0]

    def _offset(self, ptr: int) -> int:
        off = ptr - self.header.base_addr
        if not 0 <= off < len(self.data) - 8:
            raise OleanError(f"{self.path}: pointer {ptr:#x} outside the file (corrupt or truncated)")
        return off

    def obj(self, ptr: int) -> object:
        """Scalar -> int; ctor -> Ctor; array -> list of pointers; string -> str; bignum -> int;
        thunk/task/ref -> the pointer they hold (followed)."""
        if ptr & 1:
            return ptr >> 1
        if ptr in self._cache:
            return self._cache[ptr]
        owner = self._owner(ptr)
        value = owner._decode(ptr) if owner is self else owner.obj(ptr)
        self._cache[ptr] = value
        return value

    def _decode(self, ptr: int) -> object:
        off = self._offset(ptr)
        cs_sz, other, tag = struct.unpack_from("<HBB", self.data, off + 4)
        body = off + 8
        p = self.psize
        word = "Q" if p == 8 else "I"
        if tag <= MAX_CTOR_TAG:  # one unpack for all the fields: this loop decodes every object the audit reads
            fields = struct.unpack_from(f"<{other}{word}", self.data, body)
            return Ctor(tag, fields, self.data[body + other * p: off + cs_sz])
        if tag == TAG_ARRAY:
            size = self._word(body)
            return list(struct.unpack_from(f"<{size}{word}", self.data, body + 2 * p))
        if tag == TAG_STRING:
            size = self._word(body)
            start = body + 3 * p
            return self.data[start:start + size - 1].decode("utf-8", "replace")
        if tag == TAG_SARRAY:
            size = self._word(body)
            return self.data[body + 2 * p: body + 2 * p + size * other]
        if tag == TAG_MPZ:
            return self._mpz(body)
        if tag in (TAG_THUNK, TAG_TASK, TAG_REF):
            return self.obj(self._word(body))
        raise OleanError(f"{self.path}: object of unknown kind (tag {tag}) at offset {off:#x}")

    def _mpz(self, body: int) -> int:
        if self.header.flags & 1:
            raise OleanError(f"{self.path}: GMP-encoded big numbers are not supported")
        p = self.psize
        sign = self.data[body]
        size = self._word(body + p)
        digits_ptr = self._word(body + 2 * p)
        owner = self._owner(digits_ptr)
        digits_off = owner._offset(digits_ptr)
        value = 0
        for i in reversed(range(size)):
            value = (value << 32) | struct.unpack_from("<I", owner.data, digits_off + 4 * i)[0]
        return -value if sign else value

    @cached_property
    def root(self) -> Ctor:
        root = self.obj(self.header.root)
        if not isinstance(root, Ctor):
            raise OleanError(f"{self.path}: the root object is not a structure")
        return root


PART_SUFFIXES = (".olean", ".olean.server", ".olean.private")


def load_module(base: Path, pointer_size: int | None = None) -> Olean:
    """A module's richest image: `base.olean.private` reading through `.olean.server` and `.olean`
    when present (module system), else the plain `.olean`."""
    parts: list[Olean] = []
    for suffix in PART_SUFFIXES:
        path = base.with_name(base.name + suffix)
        if path.is_file():
            parts.append(Olean(path, tuple(parts), pointer_size))
    if not parts:
        raise OleanError(f"{base}.olean: missing")
    return parts[-1]
