"""`quantproof prove FILE:THEOREM` and `quantproof bench`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from verifier.atomic_write import write_text_atomic
from verifier.errors import UserError
from verifier.folders import writable_folder


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_spec(spec: str) -> tuple[Path, str | None]:
    """FILE:THEOREM, or a FILE alone for every theorem of it still proved by `sorry`."""
    if ":" not in spec:
        if spec.endswith(".lean") and Path(spec).is_file():
            return Path(spec), None
        raise UserError(f"{spec!r}: expected FILE:THEOREM (or a .lean FILE for all its open theorems), "
                        "e.g. lean/Bench/Arith.lean:Bench.pow_two_pos")
    file, name = spec.rsplit(":", 1)
    path = Path(file)
    if not path.is_file():
        raise UserError(f"{file}: no such file")
    if not name:
        raise UserError(f"{spec!r}: the theorem name is missing after ':'")
    return path, name


def prove_targets(specs: list[str], force: bool) -> list:
    """The theorems the specs name, each once, all in one Lean package."""
    from prover.target import lean_dir_of, load_target
    from verifier.lean.source import scan_declarations

    targets, seen = [], set()
    for spec in specs:
        file, name = parse_spec(spec)
        if name is None:
            names = [d.name for d in scan_declarations(file.read_text(encoding="utf-8"))
                     if d.kind in ("theorem", "lemma")]
            found = [t for t in (load_target(file, n) for n in names) if t.uses_sorry]
            if not found:
                raise UserError(f"{file}: no theorem there is still proved by sorry")
        else:
            found = [load_target(file, name)]
            if not found[0].uses_sorry and not force:
                raise UserError(f"{found[0].name} already has a proof without sorry",
                                hint="use --force to search anyway")
        targets += [t for t in found if (t.file.absolute(), t.name) not in seen]
        seen |= {(t.file.absolute(), t.name) for t in found}
    packages = {lean_dir_of(t.file) for t in targets}
    if len(packages) > 1:
        raise UserError(f"the theorems are in {len(packages)} Lean packages ({', '.join(map(str, sorted(packages)))})"
                        "; give theorems of one package per run")
    return targets


def ray_options(args: argparse.Namespace):
    """Ray for `--workers N` (None: search in this process)."""
    from prover.scale import RayOptions, check_address

    if args.workers is None:
        if args.ray_address:
            raise UserError("--ray-address needs --workers N (how many actors to run there)")
        return None
    if args.workers < 1:
        raise UserError(f"--workers {args.workers}: expected a whole number of at least 1")
    if args.ray_address:
        check_address(args.ray_address)
    return RayOptions(args.workers, args.ray_address, verify_worker=not args.no_worker)


def _check_backend(backend: str, chain, lean_dir: Path) -> None:
    from prover.session import dojo_unavailable

    why = dojo_unavailable(chain, lean_dir) if backend == "dojo" else None
    if why:
        raise UserError(why, hint="use the default backend, --backend states")


def cmd_prove(args: argparse.Namespace) -> int:
    from prover.policy.priors import save_priors
    from prover.scale import run_tasks
    from prover.session import ProofTask, default_priors, learn
    from prover.target import lean_dir_of
    from verifier.lean.toolchain import require

    if args.budget <= 0 or args.calls <= 0:
        raise UserError("--budget and --calls must be positive")
    ray = ray_options(args)
    if args.tree_out:  # checked before the search, not after it
        writable_folder(Path(args.tree_out), "--tree-out")
    targets = prove_targets(args.spec, args.force)
    lean_dir = lean_dir_of(targets[0].file)
    chain = require(lean_dir, args.toolchain)
    _check_backend(args.backend, chain, lean_dir)
    priors = default_priors(lean_dir)
    tasks = [ProofTask(str(i), t.file, t.name, args.method, args.budget, priors, args.calls, args.backend)
             for i, t in enumerate(targets)]
    where = f" on {ray.workers} Ray workers" if ray else ""
    _say(f"searching for proofs of {len(tasks)} theorem(s) ({args.method}, {args.budget:.0f} s, {args.calls} Lean "
         f"calls each){where} ..." if len(tasks) > 1 else
         f"searching for a proof of {targets[0].name} ({args.method}, {args.budget:.0f} s, {args.calls} Lean "
         f"calls){where} ...")
    records = {}
    run_tasks(chain, lean_dir, tasks, lambda rec: records.__setitem__(int(rec.key), rec), ray)
    folder = Path(args.tree_out) if args.tree_out else lean_dir / ".lake" / "quantproof" / "prover"
    summaries = [_report(records[i], folder, args.json) for i in range(len(tasks))]
    if args.json:
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
    for rec in (r for r in records.values() if r.proved):
        learn(priors, rec.learned)
    if any(r.proved for r in records.values()):
        save_priors(priors)
    if args.write:
        _write_proofs(targets, records)
    return 0 if all(r.proved for r in records.values()) else 1


def _report(rec, folder: Path, as_json: bool) -> dict:
    """A theorem's summary (and its lines, unless --json); its search tree written as JSON and SVG."""
    from prover.session import write_tree

    result = rec.result
    json_path, svg_path = write_tree(result, folder)
    summary = {"theorem": result.theorem, "method": result.method, "proved": rec.proved,
               "verification": rec.verification, "elapsed_s": result.elapsed_s, "lean_calls": result.lean_calls,
               "lean_processes": result.lean_processes, "nodes": result.nodes, "script": result.script,
               "startup_s": rec.startup_s, "worker": rec.worker, "attempts": rec.attempts,
               "tree_json": str(json_path), "tree_svg": str(svg_path)}
    if not as_json:
        print(f"{'PROVED' if rec.proved else 'NOT PROVED'}: {result.theorem} — {rec.verification}; "
              f"{result.elapsed_s:.1f} s of search, {result.lean_calls} Lean calls in {result.lean_processes} "
              f"processes, {result.nodes} goals; Lean start-up {rec.startup_s:.1f} s before the search")
        if result.script:
            print(result.script)
        print(f"search tree: {json_path} and {svg_path}")
    return summary


def _write_proofs(targets: list, records: dict) -> None:
    """Each verified proof written in place of its `sorry`, the file re-read between proofs so that one
    proof's edit does not shift another's."""
    from prover.target import load_target
    from prover.verify import with_proof

    for i, target in enumerate(targets):
        rec = records[i]
        if rec.proved and rec.result.script:
            text, _ = with_proof(load_target(target.file, target.name), rec.result.script)
            write_text_atomic(target.file, text)
            _say(f"wrote the proof of {target.name} into {target.file}")


def cmd_bench(args: argparse.Namespace) -> int:
    from prover.bench import run_bench
    from verifier.lean.toolchain import require

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UserError(f"--methods {args.methods!r}: unknown method {', '.join(unknown) or '(none given)'}",
                        hint=f"choose from {', '.join(METHODS)}")
    if args.runs < 1:
        raise UserError(f"--runs {args.runs}: expected a whole number of at least 1")
    lean_dir = Path(args.project).absolute() if args.project else Path.cwd() / "lean"
    if not (lean_dir / "Bench").is_dir():
        raise UserError(f"{lean_dir / 'Bench'}: no benchmark folder")
    chain = require(lean_dir, args.toolchain)
    _check_backend(args.backend, chain, lean_dir)
    ray = ray_options(args)
    report = run_bench(chain, lean_dir, budget_s=args.budget, methods=methods, limit=args.limit,
                       only=args.only, out=Path(args.out) if args.out else lean_dir / ".lake" / "quantproof" / "bench",
                       say=_say, backend=args.backend, split=args.split, runs=args.runs, ray=ray)
    print(json.dumps(report["summary"], indent=2) if args.json else report["table"])
    return 0


METHODS = ("closers", "portfolio", "best-first", "mcts")
WORKERS = ("run the searches on N Ray actors, each with one warm Lean session (a local Ray is started unless "
           "--ray-address is given); without it, in this process")
RAY_ADDRESS = "an existing Ray cluster to run on (ray://HOST:PORT or HOST:PORT); every node must see the project"
NO_WORKER = ("verify each found proof in a Lean process of its own, not in one warm worker (the portable Lean "
             "pays its start-up per process)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prove", help="MCTS proof search for one theorem (FILE:THEOREM)")
    p.add_argument("spec", metavar="FILE:THEOREM", nargs="+",
                   help="a theorem, or a .lean file for every theorem in it still proved by sorry")
    p.add_argument("--budget", type=float, default=120.0, help="wall-clock seconds (default 120)")
    p.add_argument("--calls", type=int, default=100_000, help="most tactic evaluations by Lean")
    p.add_argument("--method", choices=["mcts", "best-first"], default="mcts")
    p.add_argument("--write", action="store_true", help="write the verified proof in place of the sorry")
    p.add_argument("--force", action="store_true", help="search even if the theorem already has a proof")
    p.add_argument("--tree-out", metavar="DIR", help="where the search tree JSON and SVG go")
    p.add_argument("--backend", choices=["states", "session", "batch", "dojo"], default="states",
                   help="proof states kept in a Lean session (default), candidates replayed in a session, "
                        "a Lean process per batch of candidates, or LeanDojo's own Dojo (native Lean only)")
    p.add_argument("--toolchain", choices=["native", "portable"])
    p.add_argument("--no-worker", action="store_true", help=NO_WORKER)
    p.add_argument("--workers", type=int, metavar="N", help=WORKERS)
    p.add_argument("--ray-address", metavar="ADDR", help=RAY_ADDRESS)
    p.add_argument("--json", action="store_true", help="a JSON object (a list of them for several theorems)")
    p.set_defaults(handler=cmd_prove, jobs=1)

    p = sub.add_parser("bench", help="the prover benchmark: closers, portfolio, best-first, MCTS")
    p.add_argument("--project", metavar="DIR")
    p.add_argument("--toolchain", choices=["native", "portable"])
    p.add_argument("--budget", type=float, default=120.0, help="seconds per theorem (default 120)")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from: {', '.join(METHODS)}")
    p.add_argument("--limit", type=int, help="only the first N theorems")
    p.add_argument("--backend", choices=["states", "session", "batch", "dojo"], default="states",
                   help="proof states kept in one Lean session per header, shared by the theorems (default); "
                        "candidates replayed in that session; a Lean process per batch; or LeanDojo's Dojo")
    p.add_argument("--only", nargs="*", help="only these theorems")
    p.add_argument("--split", choices=["dev", "test", "all"], default="dev",
                   help="lean/Bench/*.lean (dev, default), lean/Bench/Test/*.lean (the held-out test split), or both")
    p.add_argument("--runs", type=int, default=1, help="repeat the searches N times (mean and spread)")
    p.add_argument("--out", metavar="DIR", help="results folder (JSON, curves)")
    p.add_argument("--no-worker", action="store_true", help=NO_WORKER)
    p.add_argument("--workers", type=int, metavar="N", help=WORKERS)
    p.add_argument("--ray-address", metavar="ADDR", help=RAY_ADDRESS)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench, jobs=1)
