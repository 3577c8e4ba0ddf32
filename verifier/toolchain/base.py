"""One small interface over the two Lean toolchains; nothing above it knows which it has."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["native", "portable"]

_VERSION_RE = re.compile(r"version (?P<version>[0-9][^,\s]*),\s*(?P<target>[^,]+),\s*commit (?P<commit>[0-9a-f]+)")


@dataclass(frozen=True)
class LeanVersion:
    """What `lean --version` says."""

    version: str
    target: str
    commit: str

    @classmethod
    def parse(cls, text: str) -> LeanVersion | None:
        match = _VERSION_RE.search(text)
        if not match:
            return None
        return cls(match["version"], match["target"].strip(), match["commit"])

    @property
    def series(self) -> str:
        """major.minor, the part a build's .olean files must agree on."""
        return ".".join(self.version.split(".")[:2])

    @property
    def pointer_bytes(self) -> int:
        return 4 if self.target.startswith("wasm32") else 8


@dataclass(frozen=True)
class Toolchain:
    """A usable Lean: how to start it, where its core library is, and its identity for build traces."""

    kind: Kind
    version: LeanVersion
    lean_argv: tuple[str, ...]
    core_lib: Path
    lake: Path | None = None
    root: Path | None = None
    reason: str = ""
    extra_identity: tuple[str, ...] = field(default_factory=tuple)

    @property
    def identity(self) -> str:
        """Changes whenever a different Lean would produce different outputs."""
        parts = (self.kind, self.version.version, self.version.target, self.version.commit, *self.extra_identity)
        return "|".join(parts)

    def command(self, args: list[str]) -> list[str]:
        return [*self.lean_argv, *args]

    def env(self, search_path: list[Path]) -> dict[str, str]:
        """Environment for a Lean child: LEAN_PATH = project outputs, then the core library."""
        env = dict(os.environ)
        env["LEAN_PATH"] = os.pathsep.join(str(p) for p in [*search_path, self.core_lib])
        return env

    def has_core_module(self, module: str) -> bool:
        """Whether `module` (e.g. Init.Data.Nat) ships with this Lean."""
        return (self.core_lib / Path(*module.split("."))).with_suffix(".olean").is_file()
