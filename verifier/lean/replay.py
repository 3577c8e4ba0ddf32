"""Kernel replay: every declaration of the compiled project, re-checked by the Lean kernel from the
`.olean` files alone, in a fresh environment (what lean4checker does; written here for the portable
Lean, where `Environment.replay` cannot run: templates/Replay.lean says why).

"Kernel-checked" otherwise rests on the elaborator having sent each declaration to the kernel when its
module compiled. Replay catches a declaration added without that (`set_option debug.skipKernelTC`) and an
`.olean` altered after the build. The verdict is reused while the compiled modules, the toolchain and
the replay program are byte-identical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from verifier.lean.build.model import BuildResult
from verifier.lean.olean import PART_SUFFIXES
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB, LeanProject, load_project, resolve
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.verdicts import VerdictCache

TEMPLATE = Path(__file__).resolve().parent / "templates" / "Replay.lean"
_LINE = re.compile(r"^@@(?P<tag>OK|FAIL|DONE|IMPORTED)\s?(?P<rest>.*)$")


@dataclass(frozen=True)
class ReplayFailure:
    """A declaration the kernel rejected on replay, with the kernel's message."""

    name: str
    message: str


@dataclass(frozen=True)
class ReplayReport:
    JSON_PROPERTIES = ("passed",)

    modules: tuple[str, ...]
    checked: int
    failures: tuple[ReplayFailure, ...]
    complete: bool
    elapsed_s: float
    peak_rss_bytes: int = 0
    killed: str | None = None
    error: str | None = None
    reused: bool = False

    @property
    def passed(self) -> bool:
        return self.complete and self.checked > 0 and not self.failures and not self.killed and not self.error


def _lean_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON string escapes are Lean string escapes


def _lean_name(module: str) -> str:
    parts = [_lean_string(p) for p in module.split(".")]
    expr = "Name.anonymous"
    for part in parts:
        expr = f"(Name.mkStr {expr} {part})"
    return expr


def replay_source(core_imports: list[str], module_parts: list[list[Path]]) -> str:
    """The replay program for these core imports and these modules' parts, in dependency order."""
    imports = ", ".join(f"{{ module := {_lean_name(m)} }}" for m in core_imports)
    modules = ",\n    ".join("[" + ", ".join(_lean_string(str(p)) for p in parts) + "]" for parts in module_parts)
    return (TEMPLATE.read_text(encoding="utf-8")
            + f"\nopen QuantproofReplay in\n#eval run #[{imports}]\n  [{modules}]\n")


def _parts(base: Path) -> list[Path]:
    return [p for p in (base.with_name(base.name + s) for s in PART_SUFFIXES) if p.is_file()]


def parse_replay(text: str) -> tuple[int, list[ReplayFailure], bool]:
    """(declarations accepted, rejections, whether the program reached its end) from its printed lines."""
    checked, failures, complete = 0, [], False
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        if match["tag"] == "OK":
            checked += 1
        elif match["tag"] == "FAIL":
            name, _, message = match["rest"].partition("\t")
            failures.append(ReplayFailure(name, message.strip()))
        elif match["tag"] == "DONE":
            complete = True
    return checked, failures, complete


def replay_project(chain: Toolchain, project: LeanProject, modules: list[str], *, limits: Limits | None = None,
                   reuse: bool = True) -> ReplayReport:
    """Replay `modules` (compiled, in dependency order) of `project` through the kernel, in one Lean process."""
    local = set(project.modules)
    core = sorted({"Init", *(i for m in modules for i in project.modules[m].imports if i not in local)})
    parts = [_parts(project.output_base(m)) for m in modules]
    missing = [m for m, group in zip(modules, parts, strict=True) if not group]
    if missing:
        return ReplayReport(tuple(modules), 0, (), False, 0.0, error=f"no compiled .olean for {missing[0]}")
    source = replay_source(core, parts)
    cache = VerdictCache(project.root, "replay")
    key = cache.key(chain, source, [p for group in parts for p in group])
    return cache.reuse_or_compute(key, reuse, _from_saved,
                                  lambda: _replay_in_lean(chain, project, modules, source, limits),
                                  lambda report: report.killed is None and report.error is None)


def _from_saved(saved: dict) -> ReplayReport:
    fields = {k: v for k, v in saved.items() if k != "passed"}
    return ReplayReport(**{**fields, "failures": tuple(ReplayFailure(**f) for f in saved["failures"]),
                           "modules": tuple(saved["modules"]), "reused": True})


def _replay_in_lean(chain: Toolchain, project: LeanProject, modules: list[str], source: str,
                    limits: Limits | None) -> ReplayReport:
    run = chain.run_file(source, search_path=[project.root / BUILD_LIB], file_name="QuantproofReplay.lean",
                         limits=limits)
    printed = "\n".join(d.text for d in run.output.diagnostics if d.severity == "information")
    errors = [d for d in run.output.diagnostics if d.severity == "error"]
    checked, failures, complete = parse_replay(printed)
    error = f"line {errors[0].line}: {errors[0].first_line()}" if errors else None
    if run.process.returncode != 0 and not errors and not run.killed:
        error = f"Lean exited with status {run.process.returncode}"
    return ReplayReport(tuple(modules), checked, tuple(failures), complete, round(run.process.elapsed_s, 2),
                        run.process.peak_rss_bytes, run.killed, error)


def replay_build(chain: Toolchain, lean_dir: Path, build: BuildResult, *, limits: Limits | None = None,
                 reuse: bool = True) -> ReplayReport:
    """Replay every module the build compiled, in dependency order."""
    project = load_project(lean_dir)
    resolve(project, list(build.targets), chain.has_core_module)
    return replay_project(chain, project, [m.module for m in build.modules if m.compiled], limits=limits,
                          reuse=reuse)
