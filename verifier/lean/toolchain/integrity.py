"""A toolchain is checked where it is used, not only when it is installed: every run confirms that its
files (the Lean program, Node, the core library's `.olean` files) are the ones its manifest records.

Cheaply: each file's stamp (size, mtime, inode) is kept beside the manifest with the hash measured when
the stamp was taken; a file whose stamp is unchanged keeps that hash, any other is hashed again, and
`fresh` re-hashes everything. A file that differs, is missing, or is new in a checked folder refuses
the run with one line naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verifier.atomic_write import write_text_atomic
from verifier.errors import UserError

STAMPS = "stamps.json"


@dataclass(frozen=True)
class Measured:
    """The hashes measured in this run (path relative to the toolchain root -> sha256), and their digest."""

    files: dict[str, str]

    @property
    def digest(self) -> str:
        return digest_of(self.files)

    def subset(self, names: Iterable[str]) -> dict[str, str]:
        return {n: self.files[n] for n in names if n in self.files}


def digest_of(files: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(files.items())).encode()).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def files_under(root: Path, folder: str) -> list[str]:
    """Every file below `root/folder`, relative to `root` (macOS packaging debris excepted)."""
    base = root / folder
    out = []
    for dirpath, _, names in os.walk(base):
        out += [str((Path(dirpath) / n).relative_to(root)) for n in names if not n.startswith("._")]
    return sorted(out)


def measure(root: Path, names: Iterable[str], stamp_file: Path | None, fresh: bool = False) -> Measured:
    """sha256 of each named file under `root`, re-hashing only files whose stamp changed (all if `fresh`)."""
    saved: dict[str, dict] = {}
    if stamp_file is not None and not fresh:
        try:
            saved = json.loads(stamp_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
    files, stamps = {}, {}
    for name in names:
        path = root / name
        stamp = _stamp(path)
        known = saved.get(name)
        files[name] = known["sha256"] if known and known.get("stamp") == stamp else sha256_file(path)
        stamps[name] = {"stamp": stamp, "sha256": files[name]}
    if stamp_file is not None and stamps != saved:
        with contextlib.suppress(OSError):  # a read-only install only costs hashing again next time
            write_text_atomic(stamp_file, json.dumps(stamps))
    return Measured(files)


def verify(root: Path, expected: dict[str, str], checked_folders: Iterable[str], stamp_file: Path | None, *,
           what: str, hint: str, fresh: bool = False, recorded: str = "installed") -> Measured:
    """Measure the files and compare them with `expected` (what was `recorded` when the toolchain was
    installed or pinned); a difference is a one-line error naming the file."""
    for folder in checked_folders:
        extra = [n for n in files_under(root, folder) if n not in expected]
        if extra:
            raise UserError(f"{root / extra[0]}: not part of the {what} as {recorded} "
                            f"({len(extra)} unexpected file{'s' if len(extra) > 1 else ''})", hint=hint)
    missing = sorted(n for n in expected if not (root / n).is_file())
    if missing:
        raise UserError(f"{root / missing[0]}: missing from the {what}", hint=hint)
    measured = measure(root, sorted(expected), stamp_file, fresh)
    for name, want in sorted(expected.items()):
        got = measured.files[name]
        if got != want:
            raise UserError(f"{root / name}: changed since the {what} was {recorded} (sha256 {got[:16]}…, "
                            f"recorded {want[:16]}…)", hint=hint)
    return measured
