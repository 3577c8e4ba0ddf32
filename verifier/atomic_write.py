"""Files written whole or not at all."""

from __future__ import annotations

from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write `path` through a sibling temporary file renamed over it, so that a reader, or a run that is
    interrupted, never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
