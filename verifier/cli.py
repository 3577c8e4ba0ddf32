"""The `quantproof` command: toolchain, build, check, audit, evidence, report, review, prove, bench.

User mistakes end as one line on stderr (exit 2) with no traceback; Lean child processes are
killed on any exit, including Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from verifier import settings
from verifier.errors import UserError
from verifier.lean.process import Limits, kill_all_children, stop_starting
from verifier.lean.worker import warm_workers
from verifier.serial import to_jsonable

Handler = Callable[[argparse.Namespace], int]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def find_lean_dir(explicit: str | None) -> Path:
    """--project DIR, else ./lean (as `lake` works on the current folder)."""
    return Path(explicit).absolute() if explicit else Path.cwd() / "lean"


def _limits(args: argparse.Namespace) -> Limits:
    return Limits.from_env(getattr(args, "memory_gb", None), getattr(args, "timeout", None))


# --- toolchain -------------------------------------------------------------------------------------------

def cmd_toolchain(args: argparse.Namespace) -> int:
    from verifier.lean.toolchain import choose, install_portable
    from verifier.lean.toolchain.native import find_native, pin_native

    if args.install:
        start = time.monotonic()
        if args.toolchain == "native":  # quantproof installs no native Lean: it pins the one on PATH
            native, why = find_native(find_lean_dir(args.project), check=False)
            if native is None:
                raise UserError(f"no native Lean to pin: {why}", hint="install elan, or use --toolchain portable")
            _say(f"pinned the native Lean's files in {pin_native(native)}")
        else:
            install_portable(_say, force=args.force)
        _say(f"done in {time.monotonic() - start:.2f} s")
        return 0
    choice = choose(find_lean_dir(args.project), args.toolchain, args.fresh)
    chain = choice.toolchain
    if args.json:
        print(json.dumps({"toolchain": chain.kind if chain else None,
                          "version": chain.version.version if chain else None,
                          "target": chain.version.target if chain else None,
                          "commit": chain.version.commit if chain else None,
                          "reasons": choice.reasons}, indent=2))
    else:
        if chain:
            print(f"toolchain: {chain.kind} — Lean {chain.version.version} ({chain.version.target}, "
                  f"commit {chain.version.commit[:12]})")
            print(f"why: {chain.reason}")
        else:
            print("toolchain: none usable")
        for kind, why in choice.reasons.items():
            if not chain or kind != chain.kind:
                print(f"not {kind}: {why}")
    return 0 if chain else 1


# --- build -----------------------------------------------------------------------------------------------

def cmd_build(args: argparse.Namespace) -> int:
    from verifier.lean.build import BuildOptions, build
    from verifier.lean.toolchain import require

    lean_dir = find_lean_dir(args.project)
    chain = require(lean_dir, args.toolchain, args.fresh)
    if args.jobs < 1:
        raise UserError(f"-j {args.jobs}: the number of parallel Lean processes must be at least 1")
    options = BuildOptions(jobs=args.jobs, allow_sorry=args.allow_sorry, targets=tuple(args.targets),
                           limits=_limits(args))
    result = build(lean_dir, chain, options, _say if not args.quiet else (lambda _: None))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print_build_summary(result)
    return result.exit_code(args.allow_sorry)


def _print_build_summary(result) -> None:
    counts: dict[str, int] = {}
    for module in result.modules:
        counts[module.status] = counts.get(module.status, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    verdict = {"ok": "OK", "incomplete": "INCOMPLETE (sorry)", "failed": "FAILED"}[result.status]
    print(f"build {verdict}: {len(result.modules)} modules ({parts}) in {result.elapsed_s:.1f} s "
          f"with the {result.toolchain_kind} Lean {result.toolchain_version}")
    for module in result.modules:
        for diag in module.diagnostics:
            if diag.severity == "error" or diag.is_sorry:
                print(f"  {diag.location()}: {diag.severity}: {diag.first_line()}")


# --- check ---------------------------------------------------------------------------------------------

def _built_project(args: argparse.Namespace, allow_incomplete: bool = False):
    """Toolchain and lean dir after an incremental build; a failed build stops the command."""
    from verifier.lean.build import BuildOptions, build
    from verifier.lean.toolchain import require

    lean_dir = find_lean_dir(args.project)
    chain = require(lean_dir, args.toolchain, args.fresh)
    result = build(lean_dir, chain, BuildOptions(jobs=2, limits=_limits(args)), _say)
    if result.status != "ok" and not (allow_incomplete and result.status == "incomplete"):
        raise UserError(f"lean/ does not build clean ({result.status}); run `quantproof build` for details")
    return chain, lean_dir, result


def cmd_check(args: argparse.Namespace) -> int:
    from verifier.checks.catalog import PropertyRun
    from verifier.checks.runner import format_report, run_checks

    scale = _examples_scale(args)
    find_lean_dir(args.project)  # bad input is told at once, before the properties start
    _limits(args)
    with PropertyRun(args.seed, scale) as props:  # forked before the build starts any thread
        chain, lean_dir, _ = _built_project(args)
        _say("running property, differential and closed-form checks and the claims audit ...")
        report = run_checks(chain, lean_dir, seed=args.seed, scale=scale, limits=_limits(args), reuse=not args.fresh,
                            props=props, slices=worker_count(args))
    print(json.dumps(report.to_json(), indent=2) if args.json else format_report(report))
    return 0 if report.passed else 1


# --- audit, evidence, report, review ----------------------------------------------------------------------

def _sarif_target(args: argparse.Namespace) -> Path | None:
    """--sarif FILE, its folder checked before any work."""
    from verifier.folders import writable_folder

    if not getattr(args, "sarif", None):
        return None
    path = Path(args.sarif).absolute()
    if path.is_dir():
        raise UserError(f"--sarif {path}: is a folder; give a file name")
    writable_folder(path.parent, "--sarif folder")
    return path


def cmd_audit(args: argparse.Namespace) -> int:
    from verifier.evidence.assess import theorem_rows
    from verifier.evidence.sarif import audit_findings, write_sarif
    from verifier.lean.audit import audit_or_error
    from verifier.lean.replay import replay_build
    from verifier.requirements import spec
    from verifier.reviews import load_reviews

    sarif = _sarif_target(args)
    chain, lean_dir, built = _built_project(args, allow_incomplete=True)
    report = audit_or_error(chain, lean_dir, built)
    replay = replay_build(chain, lean_dir, built, limits=_limits(args), reuse=not args.fresh) if args.replay else None
    if args.json:
        print(json.dumps({"audit": report.to_json(), "replay": to_jsonable(replay)}, indent=2))
    else:
        _print_audit(report, replay)
    if sarif is not None:
        reviews = load_reviews()
        rows = {r.id: theorem_rows(r, report, reviews) for r in spec().requirements}
        write_sarif(sarif, audit_findings(rows, report, replay, built), lean_dir.parent)
        _say(f"wrote {sarif}")
    bad = (any(t.status != "proved" for t in report.theorems) or report.missing or report.declared_axioms
           or report.syntax_extensions
           or any(o.fails for o in report.options) or (replay is not None and not replay.passed))
    return 1 if bad else 0


def _print_audit(report, replay) -> None:
    for t in report.theorems:
        extra = ", ".join(x for x in ("sorry" if t.uses_sorry else "", *t.project_axioms, *t.compiler_trust) if x)
        print(f"{t.status:<15} {t.name}" + (f"  [{extra}]" if extra else "")
              + (f"  axioms: {', '.join(t.standard_axioms)}" if t.standard_axioms else ""))
    for m in report.missing:
        print(f"{'not compiled':<15} {m.name}  ({m.reason})")
    for x in report.syntax_extensions:
        print(f"{'syntax':<15} {x}")
    for o in report.options:
        print(f"{'option ' + o.verdict:<15} {o.file}:{o.line}: set_option {o.name} {o.value} ({o.scope}; {o.why})")
    print(f"{sum(t.status == 'proved' for t in report.theorems)} of {len(report.theorems) + len(report.missing)} "
          f"theorems proved; declared axioms: {', '.join(report.declared_axioms) or 'none'}; "
          f"options set: {len(report.options)}, failing {sum(o.fails for o in report.options)}")
    if replay is not None:
        print(f"kernel replay: {replay.checked} declarations of {len(replay.modules)} modules accepted, "
              f"{len(replay.failures)} rejected, in {replay.elapsed_s:.1f} s"
              + ("" if replay.passed else f" — FAILED: {replay.killed or replay.error or 'see above'}"))
        for f in replay.failures:
            print(f"{'replay rejected':<15} {f.name}: {f.message}")


def cmd_evidence(args: argparse.Namespace) -> int:
    from verifier.evidence.collect import EvidenceOptions, collect
    from verifier.evidence.output import check_out_folder, write_evidence
    from verifier.lean.toolchain import require

    out = check_out_folder(Path(args.out))  # before minutes of work, not after
    sarif = _sarif_target(args)
    lean_dir = find_lean_dir(args.project)
    chain = require(lean_dir, args.toolchain, args.fresh)
    options = EvidenceOptions(jobs=args.jobs, seed=args.seed, examples_scale=_examples_scale(args),
                              run_differential=not args.no_differential, reuse_lean_verdicts=not args.fresh,
                              level=args.level, limits=_limits(args))
    doc = collect(chain, lean_dir, lean_dir.parent, args.argv, options, _say)
    write_evidence(doc, out)
    print(doc.verdict.line)
    print(f"wrote {out / 'report.html'}, {out / 'evidence.json'}, {out / 'summary.md'}")
    if sarif is not None:
        from verifier.evidence.sarif import evidence_findings, write_sarif

        write_sarif(sarif, evidence_findings(doc), lean_dir.parent)
        print(f"wrote {sarif}")
    return 0 if doc.verdict.status == "PASS" else 1


def cmd_report(args: argparse.Namespace) -> int:
    from verifier.evidence.output import check_out_folder, read_evidence, write_evidence

    folder = Path(args.from_dir)
    out = check_out_folder(Path(args.out)) if args.out else folder
    doc = read_evidence(folder)
    write_evidence(doc, out)
    print(doc.verdict.line)
    return 0 if doc.verdict.status == "PASS" else 1


def cmd_review(args: argparse.Namespace) -> int:
    from verifier.lean.audit import audit_or_error
    from verifier.requirements import spec
    from verifier.reviews import load_reviews, meaning_of, record, review_changes, save_reviews

    if not args.show and not args.by:
        raise UserError("--by NAME is required to record a review")
    chain, lean_dir, built = _built_project(args)
    report = audit_or_error(chain, lean_dir, built)
    wanted = [t for r in spec().requirements for t in r.lean] if args.all or not args.theorems else args.theorems
    meanings = {}
    for name in wanted:
        t = report.theorem(name)
        if t is None:
            raise UserError(f"{name}: no such theorem in the compiled project")
        if t.status != "proved":
            raise UserError(f"{name} is {t.status}; only a proved statement can be reviewed")
        meanings[name] = meaning_of(t)
    reviews = load_reviews()
    for name, now in meanings.items():
        changes = review_changes(reviews.get(name), now)
        if args.show or changes:
            print(f"{'reviewed' if not changes else 'suspect':<9} {name}: {report.theorem(name).statement}")
            for why in changes:
                print(f"{'':<9}   {why}")
            if args.show:
                covers = ", ".join(now.definitions) or "no project definition"
                print(f"{'':<9}   hash {now.hash[:16]} covers the statement and {len(now.definitions)} "
                      f"definitions: {covers}")
    if args.show:
        return 0
    # a review already on record for the same meaning keeps its reviewer and date
    changed = {name: now for name, now in meanings.items() if review_changes(reviews.get(name), now)}
    save_reviews(record(reviews, changed, args.by))
    print(f"recorded {len(changed)} reviewed theorems ({len(meanings) - len(changed)} already reviewed as they are)")
    return 0


# --- parser ----------------------------------------------------------------------------------------------

def _check_options(p: argparse.ArgumentParser) -> None:
    """The options of the checks, shared by `check` and `evidence`."""
    from verifier.checks.model import DEFAULT_SEED

    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Hypothesis and sampling seed")
    p.add_argument("--examples-scale", type=float, default=1.0, help="multiply every property's example count")


def _examples_scale(args: argparse.Namespace) -> float:
    if args.examples_scale <= 0:
        raise UserError(f"--examples-scale {args.examples_scale}: must be positive")
    return args.examples_scale


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", metavar="DIR", help="the Lean package folder (default: ./lean)")
    p.add_argument("--toolchain", choices=["native", "portable"], help="force a toolchain (default: auto)")
    p.add_argument("--fresh", action="store_true", help="re-hash every toolchain file instead of trusting unchanged "
                   "stamps, and rerun Lean where a verdict could be reused (same inputs, same toolchain)")


def _lean_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-gb", type=float, help="kill a Lean process above this RSS (default 10)")
    p.add_argument("--timeout", type=float, help="kill a Lean process after this many seconds (default 900)")
    p.add_argument("--no-worker", action="store_true", help="start one Lean process per module and batch instead "
                   "of sharing warm ones (the portable Lean pays 7-45 s of start-up per process)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantproof", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("toolchain", help="show or install the Lean toolchain")
    _common(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="which toolchain would be used, and why (default)")
    group.add_argument("--install", action="store_true", help="provision the portable Lean into the cache; with "
                       "--toolchain native, pin the native Lean's files")
    p.add_argument("--force", action="store_true", help="with --install: reinstall even if installed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_toolchain)

    p = sub.add_parser("build", help="build every module of lean/ in dependency order")
    _common(p)
    _lean_limits(p)
    p.add_argument("targets", nargs="*", help="lean_lib targets (default: the lakefile's defaultTargets)")
    p.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="parallel Lean processes")
    p.add_argument("--allow-sorry", action="store_true", help="exit 0 even if a module uses sorry")
    p.add_argument("--json", action="store_true", help="print the documented JSON result on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("check", help="property, differential (Lean kernel vs NumPy) and closed-form checks, "
                       "and the claims audit")
    _common(p)
    _lean_limits(p)
    p.add_argument("--json", action="store_true")
    _check_options(p)
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("audit", help="axiom audit of every theorem, read from the compiled .olean files")
    _common(p)
    _lean_limits(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--replay", action="store_true", help="also re-check every compiled declaration through the "
                   "kernel, in a fresh environment, from the .olean files alone")
    p.add_argument("--sarif", metavar="FILE", help="write the failures as SARIF 2.1.0")
    p.set_defaults(handler=cmd_audit)

    p = sub.add_parser("evidence", help="the main job: build, audit, check, and write the evidence report")
    _common(p)
    _lean_limits(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for report.html, evidence.json, summary.md")
    p.add_argument("-j", "--jobs", type=int, default=2)
    _check_options(p)
    p.add_argument("--level", default="A", choices=["A", "B", "C", "D"], help="software level claimed")
    p.add_argument("--no-differential", action="store_true", help="skip the Lean differential checks "
                   "(the verdict then fails)")
    p.add_argument("--sarif", metavar="FILE", help="also write the failures as SARIF 2.1.0")
    p.set_defaults(handler=cmd_evidence)

    p = sub.add_parser("report", help="re-render a saved evidence folder without re-running anything")
    p.add_argument("--from", dest="from_dir", required=True, metavar="DIR")
    p.add_argument("--out", metavar="DIR", help="write there instead of in place")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("review", help="show or record reviewed statement hashes of the requirement theorems")
    _common(p)
    p.add_argument("theorems", nargs="*", help="theorems to record (default: every requirement theorem)")
    p.add_argument("--all", action="store_true")
    p.add_argument("--by", metavar="NAME", help="who reviewed the statements")
    p.add_argument("--show", action="store_true", help="only show each statement and its review status")
    p.set_defaults(handler=cmd_review)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands that live with their own package."""
    from prover.cli import register

    return [register]


SIGTERM_GRACE_S = 15.0


def _on_sigterm(signum: int, frame: object) -> None:
    stop_starting()
    # Unwinding waits for the job threads; should one be stuck, the command still ends, its children killed.
    timer = threading.Timer(SIGTERM_GRACE_S, _exit_now, args=(128 + signum,))
    timer.daemon = True
    timer.start()
    raise SystemExit(128 + signum)


def _exit_now(code: int) -> None:
    kill_all_children()
    os._exit(code)


def worker_count(args: argparse.Namespace) -> int:
    """Warm Lean workers for this command: one per parallel job for the commands that run Lean files (the
    prover's one verifies found proofs; its search has sessions of its own), none with `--no-worker`."""
    if getattr(args, "no_worker", True):
        return 0
    return max(1, getattr(args, "jobs", 2))


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    try:
        settings.validate_all()
        with warm_workers(worker_count(args)):
            return args.handler(args)
    except UserError as exc:
        print(f"quantproof: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stop_starting()
        print("quantproof: interrupted; Lean processes stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
