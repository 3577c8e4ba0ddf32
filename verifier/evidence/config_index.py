"""Configuration index (DO-178C §7): what was checked, with which tools, by which commands."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from verifier.evidence.records import Configuration, InputFile, ToolchainIdentity
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.toolchain.integrity import digest_of

INPUT_GLOBS = ("lean/**/*.lean", "lean/lakefile.toml", "lean/lean-toolchain", "verifier/spec/*.toml",
               "verifier/**/*.py", "verifier/**/*.toml", "verifier/**/*.j2", "prover/**/*.py", "pyproject.toml",
               "constraints.txt")
PACKAGES = ("numpy", "sympy", "hypothesis", "networkx", "psutil", "lean-dojo", "matplotlib", "jinja2", "pydantic",
            "tomli_w")


def _git(repo: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def input_files(repo: Path) -> tuple[InputFile, ...]:
    seen: set[Path] = set()
    rows = []
    for pattern in INPUT_GLOBS:
        for path in sorted(repo.glob(pattern)):
            if path in seen or not path.is_file() or ".lake" in path.parts or "__pycache__" in path.parts:
                continue
            seen.add(path)
            rows.append(InputFile(str(path.relative_to(repo)), hashlib.sha256(path.read_bytes()).hexdigest(),
                                  path.stat().st_size))
    return tuple(rows)


def toolchain_identity(chain: Toolchain) -> ToolchainIdentity:
    """The toolchain as measured in this run: its programs' and its library's hashes, not the pinned ones."""
    manifest = {}
    if chain.root is not None and (chain.root / "manifest.json").is_file():
        manifest = json.loads((chain.root / "manifest.json").read_text())
    fixes = manifest.get("glue_fixes")
    library = {name: digest for name, digest in chain.files.items() if _in_library(chain, name)}
    programs = {name: digest for name, digest in chain.files.items() if name not in library}
    return ToolchainIdentity(chain.kind, chain.version.version, chain.version.target, chain.version.commit,
                             chain.version.pointer_bytes, chain.reason, manifest.get("node_version"),
                             manifest.get("npm_integrity"), tuple(fixes) if fixes is not None else None,
                             programs, digest_of(library), len(library))


def _in_library(chain: Toolchain, name: str) -> bool:
    root = chain.root or Path("/")
    return (root / name).is_relative_to(chain.core_lib)


def configuration(repo: Path, chain: Toolchain, argv: list[str]) -> Configuration:
    status = _git(repo, "status", "--porcelain")
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return Configuration(
        commit=_git(repo, "rev-parse", "HEAD") or "unknown (not a git checkout)",
        dirty=bool(status),
        dirty_files=tuple(status.splitlines()[:50]),
        inputs=input_files(repo),
        toolchain=toolchain_identity(chain),
        python=sys.version.split()[0],
        platform=platform.platform(),
        packages=packages,
        commands=(" ".join(["quantproof", *argv]),),
    )
