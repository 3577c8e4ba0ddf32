"""Files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `path` through a sibling temporary file renamed over it, so that a reader, or a run that is
    interrupted, never sees half a file; the temporary name is the writer's own, so that two processes
    writing the same file at once cannot mix their bytes, and it is removed if the write fails."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
