"""Figures for the warm Lean worker, all in one run so the ratios hold on a noisy machine:

- the bare start of the portable Lean (`lean --version`);
- a cold build of lean/ with one process per module (`--no-worker`) and with two warm workers, and
  whether every module's outputs read the same both ways (`verifier.lean.build.compare`);
- the cold `quantproof evidence` pipeline (set-up excluded) with and without workers, then warm, with
  the time of each of its stages;
- where a build's time goes: the sum of its Lean jobs, and its critical path (the longest chain of
  imports, by the time each module took), which no scheduling of those jobs can beat.

Run: python -m verifier.benchmarks.worker [--out FILE.json] [--no-evidence]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verifier.benchmarks import emit
from verifier.lean.build import BuildOptions, BuildResult, build
from verifier.lean.build.compare import differences
from verifier.lean.process import run_guarded
from verifier.lean.project import heaviest_chains, load_project, resolve
from verifier.lean.toolchain import require
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.worker import pool_for, warm_workers

REPO = Path(__file__).resolve().parents[2]


def bare_start(chain: Toolchain, runs: int = 3) -> list[float]:
    """Seconds for `lean --version`: the runtime's start-up and nothing else."""
    times = []
    for _ in range(runs):
        run = run_guarded(chain.command(["--version"]), env=chain.env([]))
        # the portable Lean exits with status 24 after printing its version (Emscripten's exit path)
        assert run.killed is None and "version" in run.stdout, run.stderr[-300:]
        times.append(round(run.elapsed_s, 2))
    return times


def _tracked_copy(dest: Path) -> Path:
    """The repository's tracked files (no build outputs, no virtualenv), as a fresh clone has them."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / rel).is_file():
            shutil.copy2(REPO / rel, target)
    return dest


def cold_build(chain: Toolchain, lean_dir: Path, workers: int) -> dict:
    start = time.monotonic()
    with warm_workers(workers):
        result = build(lean_dir, chain, BuildOptions(jobs=2))
        pool = pool_for(chain)
        starts = pool.starts if pool else len(result.modules)
    assert result.status == "ok", result.status
    return {"workers": workers, "seconds": round(time.monotonic() - start, 1), "lean_starts": starts,
            "modules": len(result.modules), **job_times(lean_dir, chain, result)}


def job_times(lean_dir: Path, chain: Toolchain, result: BuildResult) -> dict:
    """The sum of the build's Lean jobs, and its critical path: the longest import chain, weighted by the
    time each module's job took (a lower bound on the build, however its jobs are scheduled)."""
    took = {m.module: m.elapsed_s for m in result.modules}
    project = load_project(lean_dir)
    imports = resolve(project, list(result.targets), chain.has_core_module)  # importer -> imported
    chain_s = heaviest_chains(imports, took.__getitem__, via_importers=False)
    return {"jobs_sum_s": round(sum(took.values()), 1), "critical_path_s": round(max(chain_s.values()), 1),
            "module_s": {k: round(v, 1) for k, v in took.items()}}


def same_outputs(a: Path, b: Path) -> dict:
    """Per module of two builds of lean/: the differences in decoded content (none expected)."""
    lib_a, lib_b = a / ".lake/build/lib/lean", b / ".lake/build/lib/lean"
    found = {}
    for olean in sorted(lib_a.rglob("*.olean")):
        base = olean.with_suffix("")
        rel = base.relative_to(lib_a)
        found[".".join(rel.parts)] = differences(base, lib_b / rel)
    return {"modules": len(found), "differing": {k: v for k, v in found.items() if v}}


def evidence(root: Path, extra: list[str]) -> dict:
    """One `quantproof evidence` run: its wall time, and each stage's time as the document records it."""
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "verifier.cli", "evidence", "--out", str(root / "out"), *extra],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    document = json.loads((root / "out" / "evidence.json").read_text())
    return {"seconds": round(time.monotonic() - start, 1), "stages_s": document["figures"]["timings_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-evidence", action="store_true", help="skip the two cold evidence runs")
    args = parser.parse_args()
    chain = require(REPO / "lean")
    base = REPO / "test-artifacts"
    base.mkdir(exist_ok=True)
    figures: dict = {"toolchain": f"{chain.kind} {chain.version.version}", "bare_start_s": bare_start(chain)}
    with tempfile.TemporaryDirectory(dir=base) as d:
        plain, warm = _tracked_copy(Path(d) / "plain"), _tracked_copy(Path(d) / "warm")
        figures["build_no_worker"] = cold_build(chain, plain / "lean", 0)
        figures["build_worker"] = cold_build(chain, warm / "lean", 2)
        figures["outputs"] = same_outputs(plain / "lean", warm / "lean")
        if not args.no_evidence:
            for folder in (plain, warm):
                shutil.rmtree(folder / "lean/.lake")
            figures["evidence_cold_no_worker"] = evidence(plain, ["--no-worker"])
            figures["evidence_cold_worker"] = evidence(warm, [])
            figures["evidence_warm_worker"] = evidence(warm, [])
        figures["bare_start_after_s"] = bare_start(chain, 1)
    start = min(figures["bare_start_s"] + figures["bare_start_after_s"])
    figures["build_worker_in_bare_starts"] = round(figures["build_worker"]["seconds"] / start, 1)
    figures["build_no_worker_in_bare_starts"] = round(figures["build_no_worker"]["seconds"] / start, 1)
    figures["build_speedup"] = round(figures["build_no_worker"]["seconds"] / figures["build_worker"]["seconds"], 2)
    emit(figures, args.out)


if __name__ == "__main__":
    main()
