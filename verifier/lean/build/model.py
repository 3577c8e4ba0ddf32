"""The build's typed results: options in, per declaration / module / build results out."""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.lean.diagnostics import Diagnostic, LeanOutput
from verifier.lean.process import Limits
from verifier.lean.project import Module
from verifier.lean.source import scan_declarations
from verifier.serial import to_jsonable

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class BuildOptions:
    jobs: int = 1
    allow_sorry: bool = False
    targets: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class DeclResult:
    """Per declaration: where it is, how many errors and warnings, `sorry` or not, profiled seconds."""

    name: str
    kind: str
    line: int
    errors: int
    warnings: int
    sorry: bool
    elapsed_s: float | None


@dataclass(frozen=True)
class ModuleResult:
    """One module's outcome. status: built | up-to-date | incomplete | failed | killed | skipped."""

    module: str
    file: str
    status: str
    rebuilt: bool
    diagnostics: tuple[Diagnostic, ...]
    declarations: tuple[DeclResult, ...]
    elapsed_s: float
    peak_rss_bytes: int = 0
    killed: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def has_sorry(self) -> bool:
        return any(d.is_sorry for d in self.diagnostics)

    @property
    def compiled(self) -> bool:
        return self.status in ("built", "up-to-date", "incomplete")


@dataclass(frozen=True)
class BuildResult:
    """The whole build. status: ok | incomplete (compiled, but with `sorry`) | failed."""

    JSON_PROPERTIES = ("status",)

    project: str
    toolchain_kind: str
    toolchain_version: str
    jobs: int
    targets: tuple[str, ...]
    modules: tuple[ModuleResult, ...]
    elapsed_s: float

    @property
    def status(self) -> str:
        if not all(m.compiled for m in self.modules):
            return "failed"
        if any(m.has_sorry for m in self.modules):
            return "incomplete"
        return "ok"

    def exit_code(self, allow_sorry: bool) -> int:
        status = self.status
        return 0 if status == "ok" or (status == "incomplete" and allow_sorry) else 1

    def to_json(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, **to_jsonable(self)}

    def module(self, name: str) -> ModuleResult:
        return next(m for m in self.modules if m.module == name)


def declarations(module: Module, out: LeanOutput) -> tuple[DeclResult, ...]:
    """Each declaration of the module's source with the messages and profiled time inside its lines."""
    results = []
    for decl in scan_declarations(module.source.decode("utf-8")):
        inside = [d for d in out.diagnostics if decl.line <= d.line <= decl.end_line]
        times = [t.seconds for t in out.timings if decl.line <= t.line <= decl.end_line]
        results.append(DeclResult(
            name=decl.name, kind=decl.kind, line=decl.line,
            errors=sum(d.severity == "error" for d in inside),
            warnings=sum(d.severity == "warning" for d in inside),
            sorry=any(d.is_sorry for d in inside),
            elapsed_s=round(sum(times), 4) if times else None,
        ))
    return tuple(results)
