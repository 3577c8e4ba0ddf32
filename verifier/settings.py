"""Every environment variable quantproof reads, declared once, parsed once, with a one-line error.

Reading one anywhere else is a defect (a test checks the sources): a bad value must be named with
what is wrong before any work starts, never surface as a traceback half-way through a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import UserError


def _positive(unit: str) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"not a number of {unit}") from None
        if not value > 0 or value == float("inf"):
            raise ValueError(f"must be a positive, finite number of {unit}")
        return value
    return parse


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"use one of: {', '.join(allowed)}")
        return raw
    return parse


def _folder(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ValueError("must be an absolute path")
    if path.exists() and not path.is_dir():
        raise ValueError("exists and is not a folder")
    return path


def _flag(raw: str) -> bool:
    if raw != "1":
        raise ValueError("set it to 1, or leave it unset")
    return True


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, what it means, and how its text becomes a value."""

    name: str
    meaning: str
    parse: Callable[[str], object]


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("QUANTPROOF_LEAN_MEMORY_GB", "kill a Lean process above this RSS, in GB (default 10)",
            _positive("GB")),
    Setting("QUANTPROOF_LEAN_TIMEOUT_S", "kill a Lean process after this many seconds (default 900)",
            _positive("seconds")),
    Setting("QUANTPROOF_TOOLCHAIN", "force the Lean toolchain", _choice("native", "portable")),
    Setting("QUANTPROOF_CACHE", "where quantproof keeps the portable Lean, indexes and priors", _folder),
    Setting("XDG_CACHE_HOME", "the cache base folder when QUANTPROOF_CACHE is unset", _folder),
    Setting("QUANTPROOF_LEAN_STACK_MB", "stack of the portable Lean's threads, in MB (default 256; Node's is 4)",
            _positive("MB")),
    Setting("QUANTPROOF_GLUE_DEBUG", "1: the portable Lean's glue prints its debug lines on stderr", _flag),
    # Ray's own (the two modes of the pinned Ray); read to say why a join was refused
    Setting("RAY_AUTH_MODE", "Ray's authentication mode: token to join a cluster with token authentication",
            _choice("token", "disabled")),
)}


def read(name: str) -> object | None:
    """The parsed value of a declared variable, or None when it is unset or empty."""
    setting = SETTINGS[name]
    raw = os.environ.get(name, "")
    if raw == "":
        return None
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise UserError(f"environment variable {name}={raw!r}: {exc}", hint=setting.meaning) from None


def validate_all() -> None:
    """Parse every declared variable now, so a bad one stops the command before it starts work."""
    for name in SETTINGS:
        read(name)
