"""Lean verdicts kept for reuse, keyed by everything they are a function of.

A batch of checks, or the kernel replay, gives the same answer for the same Lean text, the same compiled
modules (by content) and the same toolchain (its identity includes the hash of its files); the answer is
kept under lean/.lake/quantproof/<kind>/ and reused unless the caller asks for a fresh run. While one process
computes a verdict, another that wants the same one waits for it instead of running the same Lean beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from verifier.atomic_write import write_text_atomic
from verifier.folders import exclusive
from verifier.lean.toolchain.base import Toolchain
from verifier.serial import to_jsonable

T = TypeVar("T")


class VerdictCache:
    def __init__(self, lean_dir: Path, kind: str) -> None:
        self.root = lean_dir.absolute()
        self.folder = self.root / ".lake" / "quantproof" / kind

    def key(self, chain: Toolchain, text: str, files: Iterable[Path]) -> str:
        digest = hashlib.sha256()
        digest.update(chain.identity.encode())
        digest.update(text.encode())
        for path in files:
            digest.update(str(path.relative_to(self.root) if path.is_relative_to(self.root) else path).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def reuse_or_compute(self, key: str, reuse: bool, decode: Callable[[dict], T], compute: Callable[[], T],
                         keep: Callable[[T], bool]) -> T:
        """The verdict saved for `key` when `reuse` and it decodes, else `compute()`, saved when `keep` says it
        is a verdict. All under `key`'s lock: a run that wants the same verdict at once waits, then reads it."""
        with self.claimed(key):
            saved = self.load(key) if reuse else None
            if saved is not None:
                with contextlib.suppress(KeyError, TypeError):
                    return decode(saved)
            value = compute()
            if keep(value):
                self.save(key, to_jsonable(value))
        return value

    @contextlib.contextmanager
    def claimed(self, key: str) -> Iterator[None]:
        """Held while this process looks up, computes and saves the verdict for `key` (an advisory lock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with exclusive(self.folder / f"{key}.lock"):
            yield

    def load(self, key: str) -> dict | None:
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, key: str, value: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / f"{key}.json", json.dumps(value))
