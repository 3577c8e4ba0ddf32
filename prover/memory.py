"""The session's memory over many requests: does it stay flat?

Run: python -m prover.memory [--requests 2000] [--budget-calls 120] [--out FILE.json]
One Lean session serves MCTS searches on the benchmark theorems, round after round, each search capped
at `--budget-calls` tactic evaluations, until `--requests` evaluations have run. The session keeps each
search's proof states and frees them when the search ends. After every search the session process's
resident memory is read; reported: the curve (requests, MiB), and the growth per 1,000 requests fitted
over the second half of the run (start-up and first caches excluded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import psutil

from prover.bench import bench_targets
from prover.env.states import StateEnv, open_session
from prover.search.engine import MCTS, Budget
from prover.session import make_policy, seed_priors
from verifier.lean.toolchain import require

REPO = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    proc = psutil.Process(pid)
    total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
    return round(total / 2**20, 1)


def growth_per_1000(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of MiB against requests over the second half of the points, per 1,000."""
    half = points[len(points) // 2:]
    if len(half) < 2:
        return 0.0
    slope, _ = statistics.linear_regression([p[0] for p in half], [p[1] for p in half])
    return round(slope * 1000, 1)


def measure(requests: int, budget_calls: int) -> dict:
    lean_dir = REPO / "lean"
    chain = require(lean_dir, None)
    targets = bench_targets(lean_dir)
    priors = seed_priors(lean_dir)
    session = open_session(chain, lean_dir, targets[0])
    points: list[tuple[int, float]] = []
    done, searches, start = 0, 0, time.monotonic()
    try:
        while done < requests:
            target = targets[searches % len(targets)]
            env = StateEnv(target, session)
            if not points:
                points.append((0, rss_mib(session.proc.pid)))
            search = MCTS(env, make_policy(chain, target, priors))
            result = search.run(Budget(120.0, budget_calls), target.name)
            env.close()
            done += result.lean_calls
            searches += 1
            points.append((done, rss_mib(session.proc.pid)))
            print(f"{searches:4d} {target.name:40s} requests {done:5d}  RSS {points[-1][1]:8.1f} MiB", flush=True)
    finally:
        starts, peak = session.starts, round(session.peak_rss / 2**20, 1)
        session.close()
    return {"requests": done, "searches": searches, "session_starts": starts,
            "seconds": round(time.monotonic() - start),
            "rss_mib_first": points[1][1] if len(points) > 1 else None, "rss_mib_last": points[-1][1],
            "peak_rss_mib": peak, "growth_mib_per_1000_requests": growth_per_1000(points[1:]), "curve": points}


def plot(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys = zip(*figures["curve"], strict=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, ys, marker=".", lw=1.2)
    ax.set_xlabel("tactic requests served")
    ax.set_ylabel("session RSS (MiB)")
    ax.set_ylim(0, max(ys) * 1.15)
    ax.set_title(f"one Lean session, {figures['searches']} searches: "
                 f"{figures['growth_mib_per_1000_requests']} MiB per 1,000 requests")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--budget-calls", type=int, default=120)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures = measure(args.requests, args.budget_calls)
    if args.out:
        plot(figures, args.out.with_suffix(".png"))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
