"""`quantproof bench`: the development set in lean/Bench, under each method at the same budget.

Methods: each one-shot closer alone; their sequential portfolio (computed from the closers' own
measured times, tried in order); best-first search and MCTS with the same actions. A theorem counts as
solved by a search only when the whole theorem compiles with the found proof. Reported per method:
solved count, time, Lean calls, and solved-versus-time curves.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from prover.env.portable import example_head
from prover.policy.candidates import CLOSERS
from prover.policy.priors import Priors
from prover.scale import ACTOR_MEMORY_BYTES, RayOptions, actors_needed, makespan, run_tasks
from prover.session import ProofRecord, ProofTask, seed_priors
from prover.target import Target, load_target
from verifier.lean.batch import Snippet, run_batch
from verifier.lean.process import Limits
from verifier.lean.source import scan_declarations
from verifier.lean.toolchain.base import Toolchain

HEARTBEATS = 100_000


SPLITS = {"dev": ("Bench",), "test": ("Bench/Test",), "all": ("Bench", "Bench/Test")}


def bench_targets(lean_dir: Path, split: str = "dev") -> list[Target]:
    """The open theorems of a split: `dev` (lean/Bench/*.lean), on which the policy may be tuned, or `test`
    (lean/Bench/Test/*.lean), measured once with the policy frozen; or both."""
    targets = []
    for path in (p for folder in SPLITS[split] for p in sorted((lean_dir / folder).glob("*.lean"))):
        for decl in scan_declarations(path.read_text(encoding="utf-8")):
            if decl.kind == "theorem":
                target = load_target(path, decl.name)
                if target.uses_sorry:
                    targets.append(target)
    return targets


def run_closers(chain: Toolchain, lean_dir: Path, targets: list[Target], say: Callable[[str], None]) -> dict:
    """Every closer on every theorem: one Lean process per benchmark file. -> name -> closer -> (ok, s)."""
    out: dict[str, dict[str, tuple[bool, float]]] = {}
    by_file: dict[Path, list[Target]] = {}
    for t in targets:
        by_file.setdefault(t.file, []).append(t)
    for file, group in by_file.items():
        say(f"closers on {file.name}: {len(group)} theorems x {len(CLOSERS)} closers ...")
        snippets = [Snippet(f"{i}:{c}", "\n".join([*example_head(t.statement, HEARTBEATS), f"  {c}"]))
                    for i, t in enumerate(group) for c in CLOSERS]
        batch = run_batch(chain, lean_dir, (), snippets, preamble=group[-1].preamble, profile=True,
                          limits=Limits(timeout_s=1800))
        results = batch.by_key()
        for i, t in enumerate(group):
            out[t.name] = {}
            for c in CLOSERS:
                r = results[f"{i}:{c}"]
                out[t.name][c] = (r.ok and batch.killed is None, r.elapsed_s or 0.0)
    return out


def portfolio(closers: dict[str, dict[str, tuple[bool, float]]],
              budget_s: float) -> dict[str, tuple[bool, float, int]]:
    """The closers tried one after another until one works, within the budget: (solved, seconds, tried)."""
    out = {}
    for name, runs in closers.items():
        spent, solved, tried = 0.0, False, 0
        for c in CLOSERS:
            ok, seconds = runs[c]
            spent += seconds
            tried += 1
            if spent > budget_s:
                break
            if ok:
                solved = True
                break
        out[name] = (solved, round(spent, 3), tried)
    return out


def mcnemar_exact(a: dict[str, dict], b: dict[str, dict]) -> dict:
    """Exact McNemar test of two methods on the same theorems: only the discordant pairs count (solved by
    one and not the other); under the null each goes either way with probability 1/2. Two-sided p."""
    only_a = sum(1 for n in a if n in b and a[n]["solved"] and not b[n]["solved"])
    only_b = sum(1 for n in a if n in b and b[n]["solved"] and not a[n]["solved"])
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return {"only_first": only_a, "only_second": only_b, "p_two_sided": round(p, 6)}


def median_solve_s(results: dict[str, dict]) -> float | None:
    """Median time to solve over the solved theorems (start-up excluded: it is paid before the clock)."""
    times = [r["seconds"] for r in results.values() if r["solved"] and r["seconds"] is not None]
    return round(statistics.median(times), 2) if times else None


def curve(times: list[float]) -> list[tuple[float, int]]:
    return [(round(t, 3), i + 1) for i, t in enumerate(sorted(times))]


def plot(curves: dict[str, list[tuple[float, int]]], total: int, budget_s: float, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for method, points in sorted(curves.items(), key=lambda kv: -len(kv[1])):
        xs = [0.0] + [p[0] for p in points] + [budget_s]
        ys = [0] + [p[1] for p in points] + [len(points)]
        ax.step(xs, ys, where="post", label=f"{method} ({len(points)}/{total})",
                lw=2.2 if method in ("mcts", "best-first") else 1.2)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("seconds per theorem (symlog)")
    ax.set_ylabel("theorems solved")
    ax.set_ylim(0, total + 1)
    ax.axhline(total, color="#9e9e9e", lw=0.8, ls="--")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("quantproof bench: solved versus time")
    paths = [folder / "solved_vs_time.png", folder / "solved_vs_time.svg"]
    for path in paths:
        fig.savefig(path, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return paths


def record_row(rec: ProofRecord) -> dict:
    """A search's line in bench.json."""
    r = rec.result
    return {"solved": rec.proved, "seconds": rec.seconds, "wall_s": rec.wall_s, "lean_calls": r.lean_calls,
            "lean_processes": r.lean_processes, "script": r.script if rec.proved else None, "stopped": r.stopped,
            "verification": rec.verification, "startup_s": rec.startup_s, "worker": rec.worker,
            "attempts": rec.attempts, "actor_rss_gib": round(rec.actor_rss / 1024**3, 2)}


def search_tasks(targets: list[Target], methods: list[str], runs: int, budget_s: float, priors: Priors,
                 backend: str) -> list[ProofTask]:
    """Run by run, method by method, theorem by theorem. Every task has the same frozen priors (the package's
    own proofs): nothing one search learns reaches another, so neither the order nor the number of workers
    can change a result."""
    return [ProofTask(f"{run}/{method}/{t.name}", t.file, t.name, method, budget_s, priors, backend=backend,
                      heartbeats=HEARTBEATS)
            for run in range(1, runs + 1) for method in ("best-first", "mcts") if method in methods
            for t in targets]


def run_searches(chain: Toolchain, lean_dir: Path, tasks: list[ProofTask], runs: int, out: Path,
                 say: Callable[[str], None], ray: RayOptions | None) -> list[dict[str, dict]]:
    """The searches, serially or on Ray -> per run, method -> theorem -> row; results.json kept current."""
    runs_out: list[dict[str, dict]] = [{} for _ in range(runs)]
    done: Counter[tuple[str, str]] = Counter()
    per_method = Counter(tuple(t.key.split("/")[:2]) for t in tasks)

    def on_record(rec: ProofRecord) -> None:
        run, method, name = rec.key.split("/", 2)
        runs_out[int(run) - 1].setdefault(method, {})[name] = record_row(rec)
        done[(run, method)] += 1
        tag = f"[{method} {done[(run, method)]}/{per_method[(run, method)]}" + (f" run {run}/{runs}]"
                                                                                 if runs > 1 else "]")
        where = f" on {rec.worker}" if rec.worker != "local" else ""
        again = f", attempt {rec.attempts}" if rec.attempts > 1 else ""
        say(f"{tag} {name}: {'solved' if rec.proved else 'not solved'} in {rec.result.elapsed_s:.1f} s"
            f", {rec.result.lean_calls} calls{where}{again}")
        (out / "results.json").write_text(json.dumps(runs_out, indent=1))

    run_tasks(chain, lean_dir, tasks, on_record, ray)
    # rows in the theorems' own order, whatever order the workers finished in
    order = {t.key: i for i, t in enumerate(tasks)}
    return [{m: dict(sorted(run[m].items(), key=lambda kv: order.get(f"{k}/{m}/{kv[0]}", 0)))
             for m in ("best-first", "mcts") if m in run} for k, run in enumerate(runs_out, 1)]


CLUSTER_TARGET_S = 300.0  # the goal: the whole set in under 5 minutes


def capacity(rows: dict[str, dict], target_s: float = CLUSTER_TARGET_S) -> dict:
    """What a cluster needs to run these searches within `target_s`, from their measured wall times and
    start-up here: actors (a core and ACTOR_MEMORY_BYTES each), and the throughput per core and per GiB."""
    walls = [r["wall_s"] for r in rows.values() if r.get("wall_s")]
    starts = [r["startup_s"] for r in rows.values() if r.get("startup_s", 0) > 1.0]
    startup = statistics.fmean(starts) if starts else 0.0
    actors = actors_needed(walls, startup, target_s)
    gib = ACTOR_MEMORY_BYTES / 1024**3
    out = {"target_s": target_s, "searches": len(walls), "search_core_s": round(sum(walls), 1),
           "startup_per_actor_s": round(startup, 1), "actors": actors,
           "measured_per_core_per_min": round(60 * len(walls) / sum(walls), 2) if walls else None,
           "declared_actor_gib": gib,
           "measured_actor_peak_gib": max((r.get("actor_rss_gib", 0.0) for r in rows.values()), default=0.0)}
    if actors:
        out.update(cores=actors, memory_gib=round(actors * gib, 1),
                   makespan_s=round(makespan(walls, actors, startup), 1),
                   needed_per_core_per_min=round(60 * len(walls) / (actors * target_s), 3),
                   needed_per_gib_per_min=round(60 * len(walls) / (actors * gib * target_s), 4))
    return out


def spread(runs: list[dict[str, dict]]) -> dict:
    """Solved count over repeated runs: each run's, the mean and the sample standard deviation; and the
    median time to solve over every solve of every run."""
    counts = [sum(r["solved"] for r in run.values()) for run in runs]
    pooled = [r["seconds"] for run in runs for r in run.values() if r["solved"] and r["seconds"] is not None]
    return {"runs": counts, "mean_solved": round(statistics.fmean(counts), 2),
            "sd_solved": round(statistics.stdev(counts), 2) if len(counts) > 1 else 0.0,
            "median_solve_s_all_runs": round(statistics.median(pooled), 2) if pooled else None}


def run_bench(chain: Toolchain, lean_dir: Path, *, budget_s: float, methods: list[str], limit: int | None,
              only: list[str] | None, out: Path, say: Callable[[str], None], backend: str = "states",
              split: str = "dev", runs: int = 1, ray: RayOptions | None = None) -> dict:
    targets = bench_targets(lean_dir, split)
    if only:
        targets = [t for t in targets if t.name in only or t.name.split(".")[-1] in only]
    if limit:
        targets = targets[:limit]
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {m: {} for m in methods}
    curves: dict[str, list[tuple[float, int]]] = {}
    if "closers" in methods or "portfolio" in methods:
        closers = run_closers(chain, lean_dir, targets, say)
        for c in CLOSERS:
            results.setdefault(c, {})
            for name, by_closer in closers.items():
                results[c][name] = {"solved": by_closer[c][0], "seconds": by_closer[c][1], "lean_calls": 1}
            curves[c] = curve([r["seconds"] for r in results[c].values() if r["solved"]])
        results.pop("closers", None)
        if "portfolio" in methods:
            for name, (ok, spent, tried) in portfolio(closers, budget_s).items():
                results["portfolio"][name] = {"solved": ok, "seconds": spent, "lean_calls": tried}
            curves["portfolio"] = curve([r["seconds"] for r in results["portfolio"].values() if r["solved"]])
    tasks = search_tasks(targets, methods, runs, budget_s, seed_priors(lean_dir), backend)
    searched = time.monotonic()
    runs_out = run_searches(chain, lean_dir, tasks, runs, out, say, ray) if tasks else [{} for _ in range(runs)]
    searched = time.monotonic() - searched
    startup_s = sum(row["startup_s"] for run in runs_out for rows in run.values() for row in rows.values())
    for method in (m for m in ("best-first", "mcts") if m in methods):
        results[method] = runs_out[0][method]
        curves[method] = curve([r["seconds"] for r in results[method].values() if r["solved"] and r["seconds"]])
    summary = {m: {"solved": sum(r["solved"] for r in rs.values()), "total": len(targets),
                   "seconds": round(sum(r["seconds"] or 0 for r in rs.values()), 1),
                   "lean_calls": sum(r["lean_calls"] for r in rs.values()),
                   "median_solve_s": median_solve_s(rs)} for m, rs in results.items() if rs}
    for m in (m for m in ("best-first", "mcts") if m in methods):
        summary[m].update(spread([run[m] for run in runs_out]))
        summary[m]["capacity"] = capacity(runs_out[0][m])
    tests = {}
    for k, run in enumerate(runs_out, 1):
        if run.get("mcts") and run.get("best-first"):
            tests[f"mcts_vs_best_first_run{k}" if runs > 1 else "mcts_vs_best_first"] = \
                mcnemar_exact(run["mcts"], run["best-first"])
    paths = plot(curves, len(targets), budget_s, out)
    report = {"budget_s": budget_s, "split": split, "runs": runs_out, "theorems": [t.name for t in targets],
              "results": results, "summary": summary,
              "curves": curves, "plots": [str(p) for p in paths], "startup_s": round(startup_s, 1), "tests": tests,
              "searches_wall_s": round(searched, 1), "workers": ray.workers if ray else 0,
              "ray_address": ray.address if ray else None}
    (out / "bench.json").write_text(json.dumps(report, indent=1))
    lines = [f"{'method':<12} {'solved':>8} {'%':>6} {'time s':>9} {'median s':>9} {'Lean calls':>11}"]
    for m, s in summary.items():
        median = f"{s['median_solve_s']:.2f}" if s["median_solve_s"] is not None else "-"
        lines.append(f"{m:<12} {s['solved']:>4}/{s['total']:<3} {100 * s['solved'] / max(1, s['total']):>5.1f} "
                     f"{s['seconds']:>9.1f} {median:>9} {s['lean_calls']:>11}")
        if len(s.get("runs", ())) > 1:
            lines.append(f"{'':<12} over {len(s['runs'])} runs: solved {s['runs']}, mean {s['mean_solved']}, "
                         f"sd {s['sd_solved']}, median time to solve {s['median_solve_s_all_runs']} s")
    for m, s in summary.items():
        c = s.get("capacity")
        if c and c["actors"]:
            lines.append(f"{m}: to run these {c['searches']} searches in {c['target_s']:.0f} s, {c['actors']} actors "
                         f"({c['cores']} cores, {c['memory_gib']} GiB; {c['needed_per_core_per_min']} theorems per "
                         f"core-minute, measured here {c['measured_per_core_per_min']}; an actor declares "
                         f"{c['declared_actor_gib']:g} GiB, its largest here {c['measured_actor_peak_gib']} GiB)")
    for name, t in tests.items():
        lines.append(f"exact McNemar, {name}: {t['only_first']} solved only by the first, {t['only_second']} only "
                     f"by the second, p = {t['p_two_sided']}")
    lines.append(f"Lean start-up and file loading, outside every theorem's budget: {startup_s:.1f} s in all")
    if tasks:
        lines.append(f"searches: {len(tasks)} in {searched:.1f} s of wall time "
                     + (f"on {ray.workers} Ray workers" if ray else "in this process"))
    lines.append(f"curves: {', '.join(str(p) for p in paths)}")
    report["table"] = "\n".join(lines)
    return report
