"""A native Lean from elan (`lean` and `lake` on PATH), checked against lean/lean-toolchain."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from verifier.atomic_write import write_text_atomic
from verifier.errors import UserError
from verifier.lean.toolchain.base import LeanVersion, Toolchain
from verifier.lean.toolchain.cache import cache_root
from verifier.lean.toolchain.integrity import STAMPS, files_under, measure, verify


def wanted_version(project_lean_dir: Path) -> str | None:
    """The version lean/lean-toolchain names, e.g. 'leanprover/lean4:v4.28.0' -> '4.28.0'."""
    pin = project_lean_dir / "lean-toolchain"
    if not pin.is_file():
        return None
    text = pin.read_text(encoding="utf-8").strip()
    return text.rsplit(":", 1)[-1].lstrip("v") or None


REPIN = "if the change is intended, pin it again: quantproof toolchain --install --toolchain native"


def _manifest_path(lean: str, version: LeanVersion) -> Path:
    key = hashlib.sha256(f"{Path(lean).resolve()}|{version.version}|{version.commit}".encode()).hexdigest()[:16]
    return cache_root() / "native" / key / "manifest.json"


def _native_files(lean: str, lake: str, libdir: Path) -> list[str]:
    """The files a run checks, relative to `/`: both programs and every file of the library."""
    programs = [str(Path(p).resolve()).lstrip("/") for p in (lean, lake)]
    return sorted({*programs, *files_under(Path("/"), str(libdir.resolve()).lstrip("/"))})


def pin_native(chain: Toolchain) -> Path:
    """Record the hashes of the native toolchain's files (the first use does it; `--install` repeats it)."""
    assert chain.lake is not None
    path = _manifest_path(chain.lean_argv[0], chain.version)
    names = _native_files(chain.lean_argv[0], str(chain.lake), chain.core_lib)
    files = measure(Path("/"), names, path.with_name(STAMPS), fresh=True).files
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({"lean": chain.lean_argv[0], "version": chain.version.version,
                                        "files": files}, indent=1))
    return path


def _checked(chain: Toolchain, fresh: bool) -> Toolchain:
    """The toolchain with the hashes measured in this run, checked against its pinned manifest."""
    path = _manifest_path(chain.lean_argv[0], chain.version)
    if not path.is_file():
        pin_native(chain)  # trust on first use, recorded; every later run is checked against it
    try:
        expected = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path}: not a readable manifest of the native Lean ({exc})", hint=REPIN) from None
    libdir = str(chain.core_lib.resolve()).lstrip("/")
    measured = verify(Path("/"), expected, [libdir], path.with_name(STAMPS), what="native Lean", hint=REPIN,
                      fresh=fresh, recorded="pinned")
    return replace(chain, extra_identity=(measured.digest,), files=measured.files)


def find_native(project_lean_dir: Path, fresh: bool = False, check: bool = True) -> tuple[Toolchain | None, str]:
    """The native toolchain if one is on PATH and matches lean-toolchain, its files checked against what
    was pinned at first use (unless `check` is off: to pin it again); else None and why not."""
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
    if check:
        chain = _checked(chain, fresh)
    return chain, chain.reason
