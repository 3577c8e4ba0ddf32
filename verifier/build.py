"""`quantproof build`: every module of lean/ in dependency order, incrementally, with typed results.

Portable builds run one `lean -o … -i …` per module, up to N at a time, writing outputs where Lake
would (.lake/build/lib/lean/…). Each built module gets a trace beside its outputs holding a content
hash of its inputs (toolchain, source, imported .olean files) and of each output; a module whose
trace matches is not rebuilt, and an output whose hash no longer matches (truncated, corrupted) is.
Native builds hand the same plan to `lake build` and parse what it prints.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import networkx as nx

from verifier.atomic_write import write_text_atomic
from verifier.lean_source import scan_declarations
from verifier.messages import Diagnostic, LeanOutput, parse_output
from verifier.project import LeanProject, Module, load_project, resolve
from verifier.toolchain.base import Toolchain
from verifier.watchdog import Limits, ProcessResult, kill_all_children, run_guarded

SCHEMA_VERSION = 1
TRACE_SUFFIX = ".qptrace"
OUTPUT_SUFFIXES = (".olean", ".ilean", ".olean.private", ".olean.server", ".ir")
REQUIRED_OUTPUTS = (".olean", ".ilean")
PROFILE_THRESHOLD_MS = 5

Say = Callable[[str], None]


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
        data = asdict(self)
        data["schema_version"] = SCHEMA_VERSION
        data["status"] = self.status
        return data

    def module(self, name: str) -> ModuleResult:
        return next(m for m in self.modules if m.module == name)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _input_hash(chain: Toolchain, module: Module, dep_oleans: dict[str, str]) -> str:
    payload = [SCHEMA_VERSION, chain.identity, PROFILE_THRESHOLD_MS, module.name,
               hashlib.sha256(module.source).hexdigest(), sorted(dep_oleans.items())]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _declarations(module: Module, out: LeanOutput) -> tuple[DeclResult, ...]:
    decls = scan_declarations(module.source.decode("utf-8"))
    results = []
    for decl in decls:
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


class _Trace:
    """The trace file beside a module's outputs: what it was built from and what it produced."""

    def __init__(self, project: LeanProject, module: str) -> None:
        self.base = project.output_base(module)
        self.path = self.base.with_name(self.base.name + TRACE_SUFFIX)

    def output(self, suffix: str) -> Path:
        return self.base.with_name(self.base.name + suffix)

    def load_valid(self, input_hash: str) -> dict | None:
        """The recorded result if inputs match and every output is present and unchanged."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("schema_version") != SCHEMA_VERSION or data.get("input_hash") != input_hash:
            return None
        for suffix, digest in data.get("outputs", {}).items():
            out = self.output(suffix)
            if not out.is_file() or _sha256(out) != digest:
                return None
        return data

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        for suffix in OUTPUT_SUFFIXES:
            self.output(suffix).unlink(missing_ok=True)

    def record(self, input_hash: str, result: ModuleResult) -> dict[str, str]:
        outputs = {s: _sha256(self.output(s)) for s in OUTPUT_SUFFIXES if self.output(s).is_file()}
        data = {"schema_version": SCHEMA_VERSION, "input_hash": input_hash, "outputs": outputs,
                "result": asdict(result)}
        write_text_atomic(self.path, json.dumps(data))
        return outputs


def _result_from_trace(data: dict) -> ModuleResult:
    saved = data["result"]
    return ModuleResult(
        module=saved["module"], file=saved["file"],
        status="incomplete" if saved["status"] == "incomplete" else "up-to-date",
        rebuilt=False,
        diagnostics=tuple(Diagnostic(**d) for d in saved["diagnostics"]),
        declarations=tuple(DeclResult(**d) for d in saved["declarations"]),
        elapsed_s=0.0, outputs=data["outputs"],
    )


def _crash_diagnostic(file: str, run: ProcessResult) -> Diagnostic:
    tail = [ln for ln in (run.stderr + "\n" + run.stdout).splitlines() if ln.strip()][-3:]
    why = run.killed or f"Lean exited with status {run.returncode} without an error message"
    return Diagnostic("error", "quantproof.leanCrash", f"{why}: {' | '.join(tail)}".strip(), file, 1, 0)


class PortableBuilder:
    """Compiles modules one Lean process each, up to `jobs` at a time, skipping up-to-date ones."""

    def __init__(self, project: LeanProject, chain: Toolchain, options: BuildOptions, say: Say) -> None:
        self.project, self.chain, self.options, self.say = project, chain, options, say

    def compile(self, module: Module, input_hash: str) -> ModuleResult:
        trace = _Trace(self.project, module.name)
        trace.clear()  # a build that dies part-way leaves no trace, so the next one redoes it
        trace.base.parent.mkdir(parents=True, exist_ok=True)
        args = ["--json", "-D", "profiler=true", "-D", f"profiler.threshold={PROFILE_THRESHOLD_MS}",
                "-R", str(self.project.root), "-o", str(trace.output(".olean")),
                "-i", str(trace.output(".ilean")), str(module.path)]
        with tempfile.TemporaryDirectory(prefix="quantproof-lean-") as scratch:
            run = run_guarded(self.chain.command(args), env=self.chain.env([self.project.build_lib]),
                              cwd=Path(scratch), limits=self.options.limits)
        rel = self.project.rel(module.path)
        out = parse_output(run.stdout)
        diags = tuple(_relocate(d, module.path, rel) for d in out.diagnostics)
        missing = [s for s in REQUIRED_OUTPUTS if not trace.output(s).is_file()]
        if run.killed or (run.returncode != 0 and not any(d.severity == "error" for d in diags)):
            diags = (*diags, _crash_diagnostic(rel, run))
        if run.killed:
            status = "killed"
        elif any(d.severity == "error" for d in diags) or run.returncode != 0 or missing:
            status = "failed"
        else:
            status = "incomplete" if any(d.is_sorry for d in diags) else "built"
        result = ModuleResult(module.name, rel, status, True, diags,
                              _declarations(module, LeanOutput(diags, out.timings, ())),
                              round(run.elapsed_s, 3), run.peak_rss_bytes, run.killed)
        if result.compiled:
            outputs = trace.record(input_hash, result)
            result = ModuleResult(**{**result.__dict__, "outputs": outputs})
        return result

    def run(self, graph: nx.DiGraph) -> list[ModuleResult]:
        order = list(reversed(list(nx.topological_sort(graph))))
        done: dict[str, ModuleResult] = {}
        running: dict[Future, str] = {}
        jobs = max(1, self.options.jobs)
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            while len(done) < len(order):
                # never queue more than `jobs`: a queued compile would still start after an interrupt
                for name in order:
                    if len(running) >= jobs:
                        break
                    if name in done or name in running.values():
                        continue
                    deps = list(graph.successors(name))
                    if not all(d in done for d in deps):
                        continue
                    started = self._start(name, deps, done, pool)
                    if isinstance(started, ModuleResult):
                        done[name] = started
                        self._report(started, len(done), len(order))
                    else:
                        running[started] = name
                if running:
                    finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in finished:
                        name = running.pop(future)
                        done[name] = future.result()
                        self._report(done[name], len(done), len(order))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            kill_all_children()
            raise
        pool.shutdown()
        return [done[n] for n in order]

    def _start(self, name: str, deps: list[str], done: dict[str, ModuleResult],
               pool: ThreadPoolExecutor) -> ModuleResult | Future:
        module = self.project.modules[name]
        broken = [d for d in deps if not done[d].compiled]
        if broken:
            return ModuleResult(name, self.project.rel(module.path), "skipped", False,
                                (Diagnostic("error", "quantproof.dependencyFailed",
                                            f"not built: imported module {broken[0]} failed",
                                            self.project.rel(module.path), 1, 0),), (), 0.0)
        input_hash = _input_hash(self.chain, module, {d: done[d].outputs.get(".olean", "") for d in deps})
        cached = _Trace(self.project, name).load_valid(input_hash)
        if cached is not None:
            return _result_from_trace(cached)
        self.say(f"building {name} ...")
        return pool.submit(self.compile, module, input_hash)

    def _report(self, result: ModuleResult, index: int, total: int) -> None:
        errors = sum(d.severity == "error" for d in result.diagnostics)
        warnings = sum(d.severity == "warning" for d in result.diagnostics)
        extra = f" in {result.elapsed_s:.1f} s" if result.rebuilt else ""
        counts = ", ".join(x for x in (f"{errors} errors" if errors else "",
                                       f"{warnings} warnings" if warnings else "") if x)
        self.say(f"[{index}/{total}] {result.module}: {result.status}{extra}" + (f" ({counts})" if counts else ""))
        for diag in result.diagnostics:
            if diag.severity == "error" or diag.is_sorry:
                self.say(f"  {diag.location()}: {diag.severity}: {diag.first_line()}")


def _relocate(diag: Diagnostic, path: Path, rel: str) -> Diagnostic:
    if diag.file in (str(path), path.name, ""):
        return Diagnostic(**{**diag.__dict__, "file": rel})
    return diag


def build(lean_dir: Path, chain: Toolchain, options: BuildOptions, say: Say = lambda _: None) -> BuildResult:
    """Plan from the import graph, then build with the toolchain's own builder."""
    start = time.monotonic()
    project = load_project(lean_dir)
    targets = list(options.targets or project.default_targets)
    graph = resolve(project, targets, chain.has_core_module)
    if chain.kind == "native":
        from verifier.native_build import build_with_lake

        modules = build_with_lake(project, graph, chain, options, say)
    else:
        modules = PortableBuilder(project, chain, options, say).run(graph)
    return BuildResult(project.name, chain.kind, chain.version.version, options.jobs, tuple(targets),
                       tuple(modules), round(time.monotonic() - start, 3))
