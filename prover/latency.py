"""Latency per tactic of the two portable backends, on the same candidates in one run.

Run: python -m prover.latency [--file lean/Bench/Lists.lean] [--theorems 4] [--out FILE.json]
For each of the first theorems of the file, the root goal with the same tactics (the one-shot closers and
the structural first steps) is evaluated by the batch backend (one Lean process per theorem) and by one
session shared by all of them. Reported: the batch process's wall time (what one search round waits for)
and its per-candidate share; the session's start-up and its per-candidate latencies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from prover.env.portable import PortableEnv, SessionEnv
from prover.target import Target, lean_dir_of, load_target
from verifier.lean.project import BUILD_LIB
from verifier.lean.session import LeanSession
from verifier.lean.source import scan_declarations
from verifier.lean.toolchain import require

TACTICS = ("omega", "simp", "simp_all", "decide", "grind", "intro", "induction xs", "constructor")


def _targets(file: Path, count: int) -> list[Target]:
    names = [d.name for d in scan_declarations(file.read_text(encoding="utf-8")) if d.kind == "theorem"]
    return [load_target(file, name) for name in names[:count]]


def measure(file: Path, count: int) -> dict:
    lean_dir = lean_dir_of(file)
    chain = require(lean_dir, None)
    targets = _targets(file, count)
    batch_walls = []
    for t in targets:
        env = PortableEnv(chain, lean_dir, t)
        start = time.monotonic()
        env.run_tacs([(env.init_state(), tac) for tac in TACTICS])
        batch_walls.append(time.monotonic() - start)
    session = LeanSession(chain, targets[0].preamble, [lean_dir / BUILD_LIB])
    start = time.monotonic()
    session.start()
    startup = time.monotonic() - start
    per_call = []
    try:
        for t in targets:
            env = SessionEnv(chain, lean_dir, t, session=session)
            for tac in TACTICS:
                start = time.monotonic()
                env.run_tac(env.init_state(), tac)
                per_call.append(time.monotonic() - start)
    finally:
        session.close()
    n = len(TACTICS)
    per_call.sort()
    return {
        "file": str(file), "theorems": [t.name for t in targets], "tactics": list(TACTICS),
        "batch": {"process_wall_s": [round(w, 2) for w in batch_walls],
                  "mean_process_wall_s": round(statistics.mean(batch_walls), 2),
                  "per_candidate_share_s": round(statistics.mean(batch_walls) / n, 3)},
        "session": {"startup_s": round(startup, 2), "calls": len(per_call),
                    "median_s": round(statistics.median(per_call), 3),
                    "p90_s": round(per_call[int(0.9 * (len(per_call) - 1))], 3), "max_s": round(per_call[-1], 3),
                    "peak_rss_gib": round(session.peak_rss / 2**30, 2)},
        "round_latency_ratio_batch_over_session": round(statistics.mean(batch_walls) / sum(per_call) * len(targets),
                                                        1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=Path("lean/Bench/Lists.lean"))
    parser.add_argument("--theorems", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = json.dumps(measure(args.file, args.theorems), indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
