"""Portable builds: one `lean -o … -i …` per module, up to N at a time, in dependency order.

Outputs go where Lake would put them (.lake/build/lib/lean/…), each with its trace; a module whose
trace matches is not rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

import networkx as nx

from verifier.lean.build.model import BuildOptions, ModuleResult, declarations
from verifier.lean.build.trace import PROFILE_THRESHOLD_MS, Trace, input_hash, result_from_trace
from verifier.lean.diagnostics import Diagnostic, LeanOutput
from verifier.lean.process import ProcessResult, kill_all_children
from verifier.lean.project import LeanProject, Module, heaviest_chains
from verifier.lean.toolchain.base import Toolchain

Say = Callable[[str], None]

# A job's cost before its own text, in source bytes: importing its header (about 2 s of the portable Lean,
# about what it takes to elaborate 2 KB of this project's proofs).
JOB_BYTES = 2000


def critical_first(graph: nx.DiGraph, modules: dict[str, Module]) -> list[str]:
    """The modules of `graph` (importer -> imported) by the longest chain of work that waits on each, longest
    first: with two jobs at a time, the chain that ends the build starts as soon as it can. A module's work
    is estimated from its source size (a cold build has no times to go by)."""
    def cost(name: str) -> int:
        return JOB_BYTES + (len(modules[name].source) if name in modules else 0)

    waiting = heaviest_chains(graph, cost, via_importers=True)
    return sorted(waiting, key=lambda n: -waiting[n])


def _crash_diagnostic(file: str, run: ProcessResult) -> Diagnostic:
    tail = [ln for ln in (run.stderr + "\n" + run.stdout).splitlines() if ln.strip()][-3:]
    why = run.killed or f"Lean exited with status {run.returncode} without an error message"
    return Diagnostic("error", "quantproof.leanCrash", f"{why}: {' | '.join(tail)}".strip(), file, 1, 0)


def _relocate(diag: Diagnostic, path: Path, rel: str) -> Diagnostic:
    if diag.file in (str(path), path.name, ""):
        return replace(diag, file=rel)
    return diag


class PortableBuilder:
    """Compiles modules one Lean process each, up to `jobs` at a time, skipping up-to-date ones."""

    def __init__(self, project: LeanProject, chain: Toolchain, options: BuildOptions, say: Say) -> None:
        self.project, self.chain, self.options, self.say = project, chain, options, say

    def compile(self, module: Module, recorded_input: str) -> ModuleResult:
        trace = Trace(self.project, module.name)
        trace.clear()  # a build that dies part-way leaves no trace, so the next one redoes it
        run = self.chain.run_file(module.path, search_path=[self.project.build_lib], root=self.project.root,
                                  output_base=trace.base, limits=self.options.limits,
                                  options={"profiler": "true", "profiler.threshold": str(PROFILE_THRESHOLD_MS)})
        rel = self.project.rel(module.path)
        diags = tuple(_relocate(d, module.path, rel) for d in run.output.diagnostics)
        process = run.process
        if process.killed or (process.returncode != 0 and not any(d.severity == "error" for d in diags)):
            diags = (*diags, _crash_diagnostic(rel, process))
        if process.killed:
            status = "killed"
        elif any(d.severity == "error" for d in diags) or process.returncode != 0 or trace.missing_outputs():
            status = "failed"
        else:
            status = "incomplete" if any(d.is_sorry for d in diags) else "built"
        result = ModuleResult(module.name, rel, status, True, diags,
                              declarations(module, LeanOutput(diags, run.output.timings, ())),
                              round(process.elapsed_s, 3), process.peak_rss_bytes, process.killed)
        if result.compiled:
            result = replace(result, outputs=trace.record(recorded_input, result))
        return result

    def run(self, graph: nx.DiGraph) -> list[ModuleResult]:
        order = list(reversed(list(nx.topological_sort(graph))))
        queue = critical_first(graph, self.project.modules)
        done: dict[str, ModuleResult] = {}
        running: dict[Future, str] = {}
        jobs = max(1, self.options.jobs)
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            while len(done) < len(order):
                # never queue more than `jobs`: a queued compile would still start after an interrupt
                for name in queue:
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
        recorded_input = input_hash(self.chain, module, {d: done[d].outputs.get(".olean", "") for d in deps})
        cached = Trace(self.project, name).load_valid(recorded_input)
        if cached is not None:
            return result_from_trace(cached)
        self.say(f"building {name} ...")
        return pool.submit(self.compile, module, recorded_input)

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
