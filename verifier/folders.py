"""Folders quantproof writes into, checked before any work starts: a run must not spend minutes and
then find that its output cannot be written."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from verifier.errors import UserError


def writable_folder(path: Path, purpose: str, *, hint: str | None = None) -> Path:
    """`path` as a folder that exists (created if need be) and takes new files, or a one-line error."""
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise UserError(f"{purpose} {path} exists and is not a folder", hint=hint)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{purpose} {path} is not writable ({exc.strerror or exc})", hint=hint) from None
    return path


def can_create_beside(path: Path, purpose: str) -> None:
    """Whether a folder can be made next to `path` (where a new one is assembled, then renamed into place),
    tried with a real temporary folder that is removed at once; nothing else is created."""
    parent = path.absolute().parent
    probe_from = parent
    while not probe_from.exists():  # the first folder that exists is where creation starts
        probe_from = probe_from.parent
    if not probe_from.is_dir():
        raise UserError(f"cannot write {purpose} to {path}: {probe_from} is not a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".quantproof-probe-", dir=probe_from)).rmdir()
    except OSError as exc:
        raise UserError(f"cannot write {purpose} to {path} ({exc.strerror or exc})") from None


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Held by one process at a time (an advisory `flock` on `lock_file`, created if need be); the others wait."""
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
