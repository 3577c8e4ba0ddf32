"""Whether two builds of a module produced the same thing, read the way the audit reads it.

A `.olean` is not byte-reproducible on the portable Lean: two `lean -o` runs of one file already differ
(the objects' order and sharing, and so every pointer, the root's included, vary from run to run). What
importers and the audit see is the decoded content: each part's imports and every constant's name,
kind, universe parameters, type and value. That, and the `.ilean` byte for byte, is compared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verifier.lean.expr import Constant, ModuleReader
from verifier.lean.olean import PART_SUFFIXES, Olean


@dataclass(frozen=True)
class PartContent:
    """One part of a module image (`.olean`, `.olean.server` or `.olean.private`), decoded."""

    imports: tuple[str, ...]
    constants: tuple[Constant, ...]


def module_content(base: Path) -> dict[str, PartContent]:
    """Every present part of the module at `base` (no suffix), each read through the parts before it."""
    content: dict[str, PartContent] = {}
    earlier: tuple[Olean, ...] = ()
    for suffix in PART_SUFFIXES:
        path = base.with_name(base.name + suffix)
        if not path.is_file():
            continue
        olean = Olean(path, earlier)
        earlier = (*earlier, olean)
        reader = ModuleReader(olean)
        content[suffix] = PartContent(tuple(reader.imports()),
                                      tuple(sorted(reader.constants(), key=lambda c: c.name)))
    return content


def differences(base_a: Path, base_b: Path) -> list[str]:
    """What differs between two builds of one module, as readable lines (empty: the same)."""
    found: list[str] = []
    a, b = module_content(base_a), module_content(base_b)
    if set(a) != set(b):
        found.append(f"parts differ: {sorted(a)} vs {sorted(b)}")
    for suffix in sorted(set(a) & set(b)):
        if a[suffix].imports != b[suffix].imports:
            found.append(f"{suffix}: imports differ")
        consts_a = {c.name: c for c in a[suffix].constants}
        consts_b = {c.name: c for c in b[suffix].constants}
        changed = sorted(n for n in set(consts_a) | set(consts_b) if consts_a.get(n) != consts_b.get(n))
        if changed:
            found.append(f"{suffix}: {len(changed)} constants differ, e.g. {', '.join(changed[:3])}")
    ilean_a, ilean_b = (p.with_name(p.name + ".ilean") for p in (base_a, base_b))
    if ilean_a.read_bytes() != ilean_b.read_bytes():
        found.append(".ilean: bytes differ")
    return found
