"""Which toolchain a command uses, and why: the one decision every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verifier import settings
from verifier.errors import UserError
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.toolchain.native import find_native
from verifier.lean.toolchain.portable import load_portable

TOOLCHAIN_ENV = "QUANTPROOF_TOOLCHAIN"
KINDS = ("native", "portable")


@dataclass(frozen=True)
class Choice:
    """The chosen toolchain (or None) and a sentence per candidate saying why it was or was not used."""

    toolchain: Toolchain | None
    reasons: dict[str, str]
    requested: str | None


def choose(project_lean_dir: Path, requested: str | None = None, fresh: bool = False) -> Choice:
    """Native when asked or when a matching `lake` is on PATH; else the installed portable Lean."""
    requested = requested or settings.read(TOOLCHAIN_ENV) or None  # type: ignore[assignment]
    if requested is not None and requested not in KINDS:
        raise UserError(f"unknown toolchain {requested!r}", hint=f"use one of: {', '.join(KINDS)}")
    reasons: dict[str, str] = {}
    chosen: Toolchain | None = None
    order = [requested] if requested else list(KINDS)
    for kind in order:
        chain, why = find_native(project_lean_dir, fresh) if kind == "native" else load_portable(fresh)
        reasons[kind] = why
        if chain is not None:
            chosen = chain
            break
    return Choice(chosen, reasons, requested)


def require(project_lean_dir: Path, requested: str | None = None, fresh: bool = False) -> Toolchain:
    """The toolchain to use, its files checked (`fresh`: all re-hashed), or a one-line error saying how to
    get one."""
    choice = choose(project_lean_dir, requested, fresh)
    if choice.toolchain is None:
        why = "; ".join(f"{k}: {v}" for k, v in choice.reasons.items())
        raise UserError(f"no usable Lean toolchain ({why})")
    return choice.toolchain
