"""`quantproof build`: every module of lean/ in dependency order, incrementally, with typed results.

The plan comes from the import graph (`verifier.lean.project`); the portable toolchain compiles with
one Lean process per module (`portable`), a native one hands the plan to `lake build` (`lake`). Both
return the same typed results (`model`); incrementality rests on per-module traces (`trace`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from verifier.lean.build.lake import build_with_lake
from verifier.lean.build.model import SCHEMA_VERSION, BuildOptions, BuildResult, DeclResult, ModuleResult
from verifier.lean.build.portable import PortableBuilder
from verifier.lean.project import load_project, resolve
from verifier.lean.toolchain.base import Toolchain

__all__ = ["SCHEMA_VERSION", "BuildOptions", "BuildResult", "DeclResult", "ModuleResult", "build"]


def build(lean_dir: Path, chain: Toolchain, options: BuildOptions,
          say: Callable[[str], None] = lambda _: None) -> BuildResult:
    """Plan from the import graph, then build with the toolchain's own builder."""
    start = time.monotonic()
    project = load_project(lean_dir)
    targets = list(options.targets or project.default_targets)
    graph = resolve(project, targets, chain.has_core_module)
    if chain.kind == "native":
        modules = build_with_lake(project, graph, chain, options, say)
    else:
        modules = PortableBuilder(project, chain, options, say).run(graph)
    return BuildResult(project.name, chain.kind, chain.version.version, options.jobs, tuple(targets),
                       tuple(modules), round(time.monotonic() - start, 3))
