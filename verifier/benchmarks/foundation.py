"""Figures for the foundation: one portable Lean process, warm and cold builds, peak RSS.

Run: python -m verifier.benchmarks.foundation [--out FILE.json]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from verifier.benchmarks import emit
from verifier.lean.build import BuildOptions, build
from verifier.lean.process import run_guarded
from verifier.lean.toolchain import require

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "buildproj"


def one_process(chain, scratch: Path) -> dict:
    """A file that imports only Init (implicitly) and proves one small theorem."""
    src = scratch / "Solo.lean"
    src.write_text("module\n\npublic theorem solo (a b : Nat) : a + b = b + a := by omega\n")
    runs = [run_guarded(chain.command(["--json", str(src)]), env=chain.env([]), cwd=scratch) for _ in range(3)]
    assert all(r.ok for r in runs), [r.stderr[-300:] for r in runs]
    return {"seconds": [round(r.elapsed_s, 2) for r in runs], "peak_rss_gib": [round(r.peak_rss_bytes / 2**30, 2)
                                                                                for r in runs]}


def cold_and_warm(chain, scratch: Path, jobs: int) -> dict:
    root = scratch / f"proj-j{jobs}"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".lake"))
    options = BuildOptions(jobs=jobs, targets=("Good", "Sorry", "Broken"))
    t0 = time.monotonic()
    cold = build(root, chain, options)
    cold_s = time.monotonic() - t0
    t1 = time.monotonic()
    warm = build(root, chain, BuildOptions(jobs=jobs, targets=("Good", "Sorry")))
    warm_s = time.monotonic() - t1
    assert not any(m.rebuilt for m in warm.modules)
    return {"jobs": jobs, "modules": len(cold.modules), "cold_s": round(cold_s, 2), "warm_s": round(warm_s, 3),
            "peak_rss_gib": round(max(m.peak_rss_bytes for m in cold.modules) / 2**30, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    chain = require(REPO / "lean")
    with tempfile.TemporaryDirectory(dir=REPO / "test-artifacts" if (REPO / "test-artifacts").is_dir() else None) as d:
        scratch = Path(d)
        figures = {"toolchain": f"{chain.kind} {chain.version.version}", "one_process": one_process(chain, scratch),
                   "build_j1": cold_and_warm(chain, scratch, 1), "build_j2": cold_and_warm(chain, scratch, 2)}
    figures["cold_speedup_j2_over_j1"] = round(figures["build_j1"]["cold_s"] / figures["build_j2"]["cold_s"], 2)
    emit(figures, args.out)


if __name__ == "__main__":
    main()
