"""Native builds: `lake build` does the work; its printed log is read back into typed results.

Lake marks each job `✔ [i/n] Built M`, `⚠ [i/n] Built M` (built with warnings), `✔ … Replayed M`
(up to date, log replayed) or `✖ [i/n] Building M` (failed), followed by its messages as
`severity: file:line:col: text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from verifier.messages import Diagnostic
from verifier.project import LeanProject
from verifier.toolchain.base import Toolchain
from verifier.watchdog import run_guarded

_JOB_RE = re.compile(r"^(?P<mark>[✔⚠✖ℹ])\s*\[\s*\d+/\d+\]\s+(?P<verb>Built|Replayed|Building|Ran|Fetched)\s+"
                     r"(?P<module>[^\s(]+)(?:\s+\((?P<secs>[0-9.]+)(?P<unit>m?s)\))?")
_MSG_RE = re.compile(r"^(?P<severity>error|warning|info):\s+(?P<file>[^:\s][^:]*\.lean):(?P<line>\d+):(?P<col>\d+):\s?"
                     r"(?P<text>.*)$")


def parse_lake_log(text: str, project_root: Path) -> tuple[dict[str, dict], list[Diagnostic]]:
    """Per module: {'status', 'elapsed_s'}; plus every positioned message, files made project-relative."""
    jobs: dict[str, dict] = {}
    diags: list[Diagnostic] = []
    current: dict | None = None
    for raw in text.splitlines():
        job = _JOB_RE.match(raw.strip())
        if job:
            status = {"Built": "built", "Replayed": "up-to-date", "Building": "failed"}.get(job["verb"], "built")
            if job["mark"] == "✖":
                status = "failed"
            secs = float(job["secs"]) / (1000 if job["unit"] == "ms" else 1) if job["secs"] else 0.0
            jobs[job["module"]] = {"status": status, "elapsed_s": secs}
            current = None
            continue
        msg = _MSG_RE.match(raw)
        if msg:
            file = str(Path(msg["file"]).resolve().relative_to(project_root.parent)) \
                if (project_root / msg["file"]).exists() else msg["file"]
            current = {"severity": msg["severity"], "file": _clean(file), "line": int(msg["line"]),
                       "column": int(msg["col"]), "text": msg["text"]}
            diags.append(current)  # type: ignore[arg-type]
            continue
        if current is not None and raw.startswith(("  ", "\t")):
            current["text"] += "\n" + raw.strip()
        elif raw.strip():
            current = None
    out = [Diagnostic(d["severity"] if d["severity"] != "info" else "information",
                      "hasSorry" if "declaration uses 'sorry'" in d["text"] or "declaration uses `sorry`"
                      in d["text"] else "", d["text"], d["file"], d["line"], d["column"]) for d in diags]
    return jobs, out


def _clean(file: str) -> str:
    parts = [p for p in Path(file).parts if p != "."]
    return str(Path(*parts)) if parts else file


def build_with_lake(project: LeanProject, graph: nx.DiGraph, chain: Toolchain, options,
                    say: Callable[[str], None]) -> list:
    """Run `lake build` on the targets and turn its log into ModuleResults in dependency order."""
    from verifier.build import ModuleResult, _declarations
    from verifier.messages import LeanOutput

    assert chain.lake is not None
    say(f"lake build {' '.join(options.targets) or '(default targets)'} ...")
    run = run_guarded([str(chain.lake), "build", *options.targets], cwd=project.root, limits=options.limits,
                      env=None)
    jobs, diags = parse_lake_log(run.stdout + "\n" + run.stderr, project.root)
    results = []
    for name in reversed(list(nx.topological_sort(graph))):
        module = project.modules[name]
        rel = project.rel(module.path)
        mine = tuple(d for d in diags if d.file == rel)
        job = jobs.get(name, {"status": "up-to-date", "elapsed_s": 0.0})
        status = job["status"]
        if run.killed:
            status = "killed" if name not in jobs or status == "failed" else status
        elif status == "failed" or any(d.severity == "error" for d in mine):
            status = "failed"
        elif any(d.is_sorry for d in mine):
            status = "incomplete"
        results.append(ModuleResult(name, rel, status, job["status"] == "built", mine,
                                    _declarations(module, LeanOutput(mine, (), ())), job["elapsed_s"],
                                    run.peak_rss_bytes, run.killed))
    if run.returncode != 0 and all(r.compiled for r in results) and not run.killed:
        # lake failed without naming a module (bad lakefile, missing toolchain file): fail the first one.
        first = results[0]
        crash = Diagnostic("error", "quantproof.lakeFailed", (run.stderr or run.stdout).strip()[-400:],
                           first.file, 1, 0)
        results[0] = ModuleResult(first.module, first.file, "failed", True, (*first.diagnostics, crash),
                                  first.declarations, first.elapsed_s)
    return results
