"""`quantproof evidence`: toolchain -> build -> audit -> checks -> judgements, as one typed document.

Each step reads the previous step's typed result; the document (evidence.json) holds every figure the
report shows, so `quantproof report --from DIR` re-renders without re-running anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from verifier import __version__
from verifier.checks import catalog, properties
from verifier.checks.claims import audit_claims
from verifier.checks.model import CheckReport, MutantResult
from verifier.checks.mutants import run_mutants
from verifier.checks.runner import closed_forms, roofline_rows, run_checks
from verifier.evidence import assess
from verifier.evidence.config_index import configuration
from verifier.evidence.content import content
from verifier.evidence.records import SCHEMA, SCHEMA_VERSION, EvidenceDocument, Figures, Method, Scope
from verifier.lean.audit import COMPILER_TRUST, STANDARD_AXIOMS, AuditReport, audit_or_error
from verifier.lean.build import BuildOptions, BuildResult, build
from verifier.lean.process import Limits
from verifier.lean.replay import replay_build
from verifier.lean.toolchain.base import Toolchain
from verifier.requirements import load_spec
from verifier.reviews import load_reviews

Say = Callable[[str], None]
T = TypeVar("T")


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


def _timed(timings: dict[str, float], name: str, say: Say, fn: Callable[[], T]) -> T:
    say(f"{name} ...")
    start = time.monotonic()
    value = fn()
    timings[name] = round(time.monotonic() - start, 3)
    return value


def _timed_mutants(seed: int) -> tuple[tuple[MutantResult, ...], float]:
    """The hand-written mutants, and their run time where they ran (the wait for them would say nothing)."""
    start = time.monotonic()
    return tuple(run_mutants(seed)), round(time.monotonic() - start, 3)


def _checks_without_lean(props: catalog.PropertyRun) -> CheckReport:
    return CheckReport(tuple(closed_forms()), tuple(props.results()), (), tuple(audit_claims()),
                       roofline=tuple(roofline_rows()))


def _method(chain: Toolchain, audit: AuditReport) -> Method:
    text = content()
    return Method(chain.version.version, chain.version.commit, chain.version.target, text.logic, STANDARD_AXIOMS,
                  ("sorryAx", *COMPILER_TRUST, "any axiom declared in the project"), text.soundness, audit.limitation)


def collect(chain: Toolchain, lean_dir: Path, repo: Path, argv: list[str], options: EvidenceOptions,
            say: Say = lambda _: None) -> EvidenceDocument:
    timings: dict[str, float] = {}
    start = time.monotonic()
    # The properties and the mutants need no Lean: they start first, forked while this process has no other
    # thread, and run beside the build and the audit.
    with catalog.PropertyRun(options.seed, options.examples_scale, options.jobs) as props:
        mutating = props.beside(_timed_mutants, options.seed)
        built: BuildResult = _timed(timings, "build", say, lambda: build(
            lean_dir, chain, BuildOptions(jobs=options.jobs, limits=options.limits), say))
        audit = _timed(timings, "audit", say, lambda: audit_or_error(chain, lean_dir, built))
        with ThreadPoolExecutor(max_workers=1) as background:  # the replay's Lean runs beside the checks' Lean
            replaying = background.submit(_timed, timings, "replay", lambda _: None, lambda: replay_build(
                chain, lean_dir, built, limits=options.limits, reuse=options.reuse_lean_verdicts))
            if built.status == "ok":
                checks = _timed(timings, "checks", say, lambda: run_checks(
                    chain, lean_dir, seed=options.seed, scale=options.examples_scale,
                    cases=options.differential_cases, limits=options.limits, reuse=options.reuse_lean_verdicts,
                    with_differential=options.run_differential, props=props,
                    slices=options.jobs + 1))  # one more: the replay holds a worker part of the time
            else:
                checks = _timed(timings, "checks", say, lambda: _checks_without_lean(props))
            say("mutants ...")
            mutants, timings["mutants"] = mutating()
            say("kernel replay ...")
            replay = replaying.result()
    reviews = load_reviews()
    requirements = tuple(assess.assess_requirement(r, audit, checks, reviews, replay)
                         for r in load_spec().requirements)
    trace = assess.trace(requirements, audit, reviews)
    verdict = assess.verdict(requirements, built, checks, audit, replay, mutants, trace)
    config = configuration(repo, chain, argv)
    timings["total"] = round(time.monotonic() - start, 3)
    return EvidenceDocument(
        schema=SCHEMA, schema_version=SCHEMA_VERSION, quantproof_version=__version__,
        generated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        verdict=verdict,
        configuration=config,
        scope=Scope(options.level, tuple(f"{r.id}: {r.title}" for r in requirements), content().by_test,
                    content().exclusions),
        method=_method(chain, audit),
        requirements=requirements,
        build=built,
        audit=audit,
        assumptions=assess.assumptions_register(audit, requirements),
        model_exclusions=assess.model_exclusions(),
        checks=checks,
        replay=replay,
        mutants=mutants,
        trace=trace,
        tool_qualification=content().tools,
        problem_reports=assess.problem_reports(requirements, built, checks, audit, mutants),
        compliance=assess.compliance(requirements, verdict, trace, checks, mutants, config, audit),
        figures=Figures(timings, checks.lean_reused),
    )
