"""One small interface over the two Lean toolchains; nothing above it knows which it has."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from verifier.lean import worker
from verifier.lean.diagnostics import LeanOutput, parse_output
from verifier.lean.process import Limits, ProcessResult, run_guarded

Kind = Literal["native", "portable"]

# glibc's malloc for the portable Lean's node: every thread Lean starts is a Web Worker with its own
# arena, and the default dynamic mmap threshold leaves freed buffers (file reads, module copies) in
# them. Measured on one warm worker compiling lean/'s 13 modules: RSS 8.6 GiB by default, 7.6 with two
# arenas, 6.9 with fixed 1 MiB thresholds as well (the wasm heap itself was 1.45 GiB every time).
# Allocation tuning cannot change what Lean computes; a value already in the environment wins.
PORTABLE_MALLOC = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "1048576"}

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
class LeanRun:
    """One Lean process on one file: what the process did and Lean's messages, read from `--json`."""

    process: ProcessResult
    output: LeanOutput
    source: Path

    @property
    def killed(self) -> str | None:
        return self.process.killed


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
    files: dict[str, str] = field(default_factory=dict, compare=False)  # sha256 measured in this run

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
        if self.kind == "portable":
            env = {**PORTABLE_MALLOC, **env}
        env["LEAN_PATH"] = os.pathsep.join(str(p) for p in [*search_path, self.core_lib])
        return env

    def has_core_module(self, module: str) -> bool:
        """Whether `module` (e.g. Init.Data.Nat) ships with this Lean."""
        return (self.core_lib / Path(*module.split("."))).with_suffix(".olean").is_file()

    def run_file(self, source: str | Path, *, search_path: Sequence[Path] = (),
                 options: Mapping[str, str] | None = None, output_base: Path | None = None, root: Path | None = None,
                 limits: Limits | None = None, file_name: str = "QuantproofRun.lean") -> LeanRun:
        """Run Lean once on `source` under the watchdog, with `--json` messages.

        `source` is a file, or Lean text written to `file_name` in a scratch folder. Lean always runs from
        a scratch folder (it leaves a `default.profraw` behind); `output_base` makes it write
        `base.olean`, `base.ilean` and the module system's other parts; `root` is the package root the
        module name is read from (the scratch folder for text)."""
        with tempfile.TemporaryDirectory(prefix="quantproof-lean-") as scratch:
            folder = Path(scratch)
            if isinstance(source, Path):
                path = source
            else:
                path = folder / file_name
                path.write_text(source, encoding="utf-8")
                root = root or folder
            args = ["--json"]
            for key, value in (options or {}).items():
                args += ["-D", f"{key}={value}"]
            if root is not None:
                args += ["-R", str(root)]
            if output_base is not None:
                output_base.parent.mkdir(parents=True, exist_ok=True)
                args += ["-o", f"{output_base}.olean", "-i", f"{output_base}.ilean"]
            limits = limits or Limits.from_env()
            pool = worker.pool_for(self)  # a portable Lean inside `warm_workers`
            if pool is not None:
                run = pool.run(worker.worker_job(path, search_path, options, output_base, root), limits)
            else:
                run = run_guarded(self.command([*args, str(path)]), env=self.env(list(search_path)), cwd=folder,
                                  limits=limits)
        return LeanRun(run, parse_output(run.stdout), path)
