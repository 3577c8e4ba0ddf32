"""Where quantproof keeps what it downloads: one cache folder, chosen once."""

from __future__ import annotations

import os
from pathlib import Path

from verifier.errors import UserError

CACHE_ENV = "QUANTPROOF_CACHE"


def cache_root() -> Path:
    """$QUANTPROOF_CACHE, else $XDG_CACHE_HOME/quantproof, else ~/.cache/quantproof."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().absolute() / "quantproof"


def writable_cache(path: Path) -> Path:
    """Create `path` if needed and prove it writable, or fail with one line saying what to do."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cache folder {path} is not writable ({exc.strerror or exc})",
            hint=f"set {CACHE_ENV} to a writable folder",
        ) from None
    return path
