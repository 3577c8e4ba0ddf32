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


def parse_spec(spec: str) -> tuple[Path, str]:
    if ":" not in spec:
        raise UserError(f"{spec!r}: expected FILE:THEOREM, e.g. lean/Bench/Arith.lean:Bench.pow_two_pos")
    file, name = spec.rsplit(":", 1)
    path = Path(file)
    if not path.is_file():
        raise UserError(f"{file}: no such file")
    if not name:
        raise UserError(f"{spec!r}: the theorem name is missing after ':'")
    return path, name


def _check_backend(backend: str, chain, lean_dir: Path) -> None:
    from prover.session import dojo_unavailable

    why = dojo_unavailable(chain, lean_dir) if backend == "dojo" else None
    if why:
        raise UserError(why, hint="use the default backend, --backend states")


def cmd_prove(args: argparse.Namespace) -> int:
    from prover.policy.priors import save_priors
    from prover.search.engine import Budget
    from prover.session import default_priors, prove, write_tree
    from prover.target import lean_dir_of, load_target
    from verifier.lean.toolchain import require

    file, name = parse_spec(args.spec)
    if args.budget <= 0 or args.calls <= 0:
        raise UserError("--budget and --calls must be positive")
    if args.tree_out:  # checked before the search, not after it
        writable_folder(Path(args.tree_out), "--tree-out")
    target = load_target(file, name)
    if not target.uses_sorry and not args.force:
        raise UserError(f"{target.name} already has a proof without sorry", hint="use --force to search anyway")
    lean_dir = lean_dir_of(file)
    chain = require(lean_dir, args.toolchain)
    _check_backend(args.backend, chain, lean_dir)
    priors = default_priors(lean_dir)
    _say(f"searching for a proof of {target.name} ({args.method}, {args.budget:.0f} s, {args.calls} Lean calls) ...")
    outcome = prove(chain, lean_dir, target, Budget(args.budget, args.calls), args.method, priors,
                    backend=args.backend)
    result = outcome.result
    folder = Path(args.tree_out) if args.tree_out else lean_dir / ".lake" / "quantproof" / "prover"
    json_path, svg_path = write_tree(result, folder)
    summary = {"theorem": target.name, "method": result.method, "proved": outcome.verified,
               "verification": outcome.verification, "elapsed_s": result.elapsed_s, "lean_calls": result.lean_calls,
               "lean_processes": result.lean_processes, "nodes": result.nodes, "script": result.script,
               "startup_s": round(outcome.startup_s, 2),
               "tree_json": str(json_path), "tree_svg": str(svg_path)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{'PROVED' if outcome.verified else 'NOT PROVED'}: {target.name} — {outcome.verification}; "
              f"{result.elapsed_s:.1f} s of search, {result.lean_calls} Lean calls in {result.lean_processes} "
              f"processes, {result.nodes} goals; Lean start-up {outcome.startup_s:.1f} s before the search")
        if result.script:
            print(result.script)
        print(f"search tree: {json_path} and {svg_path}")
    if outcome.verified:
        save_priors(priors)
        if args.write:
            write_text_atomic(file, outcome.new_text or "")
            _say(f"wrote the proof into {file}")
    return 0 if outcome.verified else 1


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
    report = run_bench(chain, lean_dir, budget_s=args.budget, methods=methods, limit=args.limit,
                       only=args.only, out=Path(args.out) if args.out else lean_dir / ".lake" / "quantproof" / "bench",
                       say=_say, backend=args.backend, split=args.split, runs=args.runs)
    print(json.dumps(report["summary"], indent=2) if args.json else report["table"])
    return 0


METHODS = ("closers", "portfolio", "best-first", "mcts")
NO_WORKER = ("verify each found proof in a Lean process of its own, not in one warm worker (the portable Lean "
             "pays its start-up per process)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prove", help="MCTS proof search for one theorem (FILE:THEOREM)")
    p.add_argument("spec", metavar="FILE:THEOREM")
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
    p.add_argument("--json", action="store_true")
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
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench, jobs=1)
