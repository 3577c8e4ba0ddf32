"""Native builds (the `lake` builder): `lake build` does the work; its printed log is read back into typed results.

Lake's monitor (Lake/Build/Run.lean) prints one line per job, `{icon} [{n}/{total}] {verb} {caption}
({time})` with verb `Built`, `Replayed` (up to date, log replayed) or `Building` (failed), then the
job's log as `severity: file:line:col: text`, continuation lines indented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from verifier.lean.build.model import BuildOptions, ModuleResult, declarations
from verifier.lean.diagnostics import Diagnostic, LeanOutput
from verifier.lean.process import run_guarded
from verifier.lean.project import LeanProject
from verifier.lean.toolchain.base import Toolchain

_JOB_RE = re.compile(
    r"^(?P<mark>[✔⚠✖ℹ])\s*\[\s*\d+/\d+\](?:\s+\(Optional\))?\s+(?P<verb>Built|Replayed|Building|Ran|Fetched)\s+"
    r"(?P<module>[^\s(:]+)\S*(?:\s+\((?P<secs>[0-9.]+)(?P<unit>m?s)\))?"
)
_MSG_RE = re.compile(
    r"^(?P<severity>error|warning|info):\s+(?P<file>[^:\s][^:]*\.lean):(?P<line>\d+):(?P<col>\d+):\s?(?P<text>.*)$"
)
_NOT_MESSAGE = ("trace:", "error:", "warning:", "info:", "Some required", "Build completed", "Build summary")
_VERB_STATUS = {"Built": "built", "Replayed": "up-to-date", "Building": "failed"}


def _relative(file: str, project_root: Path) -> str:
    """Lake prints ././Fix/A.lean; report it as the user knows it, relative to lean/'s parent."""
    resolved = (project_root / file).resolve()
    try:
        return str(resolved.relative_to(project_root.resolve().parent))
    except ValueError:
        return file


def parse_lake_log(text: str, project_root: Path) -> tuple[dict[str, dict], list[Diagnostic]]:
    """Per module: {'status', 'elapsed_s'}; plus every positioned message."""
    jobs: dict[str, dict] = {}
    found: list[dict] = []
    current: dict | None = None
    for raw in text.splitlines():
        job = _JOB_RE.match(raw.strip())
        if job:
            status = "failed" if job["mark"] == "✖" else _VERB_STATUS.get(job["verb"], "built")
            secs = float(job["secs"]) / (1000 if job["unit"] == "ms" else 1) if job["secs"] else 0.0
            jobs[job["module"]] = {"status": status, "elapsed_s": secs}
            current = None
            continue
        msg = _MSG_RE.match(raw)
        if msg:
            current = {"severity": "information" if msg["severity"] == "info" else msg["severity"],
                       "file": _relative(msg["file"], project_root), "line": int(msg["line"]),
                       "column": int(msg["col"]), "text": msg["text"]}
            found.append(current)
        elif raw.startswith(_NOT_MESSAGE):
            current = None
        elif current is not None:
            current["text"] += "\n" + raw.strip()  # Lean's messages span lines, unindented
    diags = [Diagnostic(d["severity"], "hasSorry" if "declaration uses 'sorry'" in d["text"] else "", d["text"],
                        d["file"], d["line"], d["column"]) for d in found]
    return jobs, diags


def build_with_lake(project: LeanProject, graph: nx.DiGraph, chain: Toolchain, options: BuildOptions,
                    say: Callable[[str], None]) -> list[ModuleResult]:
    """Run `lake build` on the targets and turn its log into ModuleResults in dependency order."""
    assert chain.lake is not None
    say(f"lake build {' '.join(options.targets) or '(default targets)'} ...")
    run = run_guarded([str(chain.lake), "build", *options.targets], cwd=project.root, limits=options.limits)
    jobs, diags = parse_lake_log(run.stdout + "\n" + run.stderr, project.root)
    results: dict[str, ModuleResult] = {}
    order = list(reversed(list(nx.topological_sort(graph))))
    for name in order:
        module = project.modules[name]
        rel = project.rel(module.path)
        mine = tuple(d for d in diags if d.file == rel)
        job = jobs.get(name)
        if job is None:
            broken = [d for d in graph.successors(name) if not results[d].compiled]
            status = "skipped" if broken or run.killed else "up-to-date"
        elif job["status"] == "failed" or any(d.severity == "error" for d in mine):
            status = "failed"
        else:
            status = "incomplete" if any(d.is_sorry for d in mine) else job["status"]
        results[name] = ModuleResult(name, rel, status, job is not None and job["status"] == "built", mine,
                                     declarations(module, LeanOutput(mine, (), ())),
                                     job["elapsed_s"] if job else 0.0, run.peak_rss_bytes, run.killed)
    ordered = [results[n] for n in order]
    if (run.returncode != 0 or run.killed) and all(r.compiled for r in ordered):
        # lake failed without naming a module (a bad lakefile, a killed run): never report success
        first = ordered[0]
        why = run.killed or (run.stderr or run.stdout).strip()[-400:]
        crash = Diagnostic("error", "quantproof.lakeFailed", why, first.file, 1, 0)
        ordered[0] = ModuleResult(first.module, first.file, "killed" if run.killed else "failed", True,
                                  (*first.diagnostics, crash), first.declarations, first.elapsed_s)
    return ordered
