"""A native Lean from elan (`lean` and `lake` on PATH), checked against lean/lean-toolchain."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from verifier.lean.toolchain.base import LeanVersion, Toolchain


def wanted_version(project_lean_dir: Path) -> str | None:
    """The version lean/lean-toolchain names, e.g. 'leanprover/lean4:v4.28.0' -> '4.28.0'."""
    pin = project_lean_dir / "lean-toolchain"
    if not pin.is_file():
        return None
    text = pin.read_text(encoding="utf-8").strip()
    return text.rsplit(":", 1)[-1].lstrip("v") or None


def find_native(project_lean_dir: Path) -> tuple[Toolchain | None, str]:
    """The native toolchain if one is on PATH and matches lean-toolchain; else None and why not."""
    lean, lake = shutil.which("lean"), shutil.which("lake")
    if not lean or not lake:
        return None, "no `lean`/`lake` on PATH"
    try:
        out = subprocess.run([lean, "--version"], capture_output=True, text=True, timeout=60).stdout
        libdir = subprocess.run([lean, "--print-libdir"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"`{lean} --version` failed: {exc}"
    version = LeanVersion.parse(out)
    if version is None:
        return None, f"cannot read the version of {lean}: {out.strip()!r}"
    wanted = wanted_version(project_lean_dir)
    if wanted and version.version != wanted:
        return None, f"native Lean {version.version} on PATH, but lean/lean-toolchain wants {wanted}"
    chain = Toolchain(
        kind="native",
        version=version,
        lean_argv=(lean,),
        core_lib=Path(libdir.strip()),
        lake=Path(lake),
        reason=f"`lake` on PATH ({lake}) with Lean {version.version}, as lean/lean-toolchain asks",
    )
    return chain, chain.reason
