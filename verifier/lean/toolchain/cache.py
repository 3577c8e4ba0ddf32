"""Where quantproof keeps what it downloads: one cache folder, chosen once."""

from __future__ import annotations

from pathlib import Path

from verifier import settings
from verifier.folders import writable_folder

CACHE_ENV = "QUANTPROOF_CACHE"


def cache_root() -> Path:
    """$QUANTPROOF_CACHE, else $XDG_CACHE_HOME/quantproof, else ~/.cache/quantproof."""
    explicit = settings.read(CACHE_ENV)
    if isinstance(explicit, Path):
        return explicit.absolute()
    base = settings.read("XDG_CACHE_HOME")
    return (base if isinstance(base, Path) else Path.home() / ".cache").absolute() / "quantproof"


def writable_cache(path: Path) -> Path:
    """Create `path` if needed and prove it writable, or fail with one line saying what to do."""
    return writable_folder(path, "cache folder", hint=f"set {CACHE_ENV} to a writable folder")
