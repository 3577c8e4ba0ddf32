"""The judgement on typed results, without Lean: one bad item in otherwise clean results is enough to fail,
and a clean set passes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from verifier.checks.model import (
    CheckReport,
    ConstantCheck,
    DifferentialCase,
    DifferentialResult,
    MutantResult,
    PropertyResult,
)
from verifier.evidence import assess
from verifier.lean.audit import AuditReport, PinnedDefinition, SyntaxExtension, TheoremAudit
from verifier.lean.build.model import BuildResult, ModuleResult
from verifier.lean.options import SourceOption
from verifier.lean.replay import ReplayFailure, ReplayReport
from verifier.requirements import Requirement
from verifier.reviews import Review

REQ = Requirement("REQ-X", "t", "x", ("T.a",), ("p",), ("d",))
THEOREM = TheoremAudit("T.a", "T", "T.lean", 1, "s", "h", (), False, (), (), (), (), (), 1,
                       pinned=(PinnedDefinition("T.def", "d1"),), pinned_hash="ph", closure=("T.a", "T.def"))
PROPERTY = PropertyResult("p", "REQ-X", "d", "s", 1, 10, 0, 0.5, "m", True)
DIFF = DifferentialResult("d", "REQ-X", "T.f", "f", "s", (DifferentialCase("d:0", "REQ-X", "e", "1", True),))
CONSTANT = ConstantCheck("c", "T.def", 8192, "8192", True)
CHECKS = CheckReport((), (PROPERTY,), (DIFF,), (), constants=(CONSTANT,))
BUILD = BuildResult("p", "portable", "4.28.0", 1, ("T",), (ModuleResult("T", "T.lean", "built", True, (), (), 1.0),),
                    1.0)
REVIEWS = {"T.a": Review("T.a", "ph", "someone", "2026-11-28", "h", {"T.def": "d1"})}
REPLAY = ReplayReport(("T",), 3, (), True, 1.0)
MUTANT = MutantResult("m", "REQ-X", "a planted fault", ("p",), True, ("p",))


def _judge(theorem=THEOREM, checks=CHECKS, reviews=REVIEWS, build=BUILD, replay=REPLAY, declared_axioms=(),
           mutants=(MUTANT,), reviewed=("T.a",), **audit_extra):
    audit = AuditReport("4.28.0", "c", 4, (theorem,), (), declared_axioms, **audit_extra)
    rows = (assess.assess_requirement(REQ, audit, checks, reviews, replay),)
    return assess.verdict(rows, build, checks, audit, replay, mutants, assess.trace(rows, audit, reviewed))


def _verdict(**change) -> str:
    return _judge(**change).status


def test_clean_results_pass():
    assert _verdict() == "PASS"


@pytest.mark.parametrize("change", [
    {"theorem": replace(THEOREM, uses_sorry=True)},
    {"theorem": replace(THEOREM, project_axioms=("T.ax",))},
    {"theorem": replace(THEOREM, compiler_trust=("Lean.ofReduceBool",))},
    {"theorem": replace(THEOREM, name="T.other")},
    {"reviews": {"T.a": Review("T.a", "other", "someone", "2026-11-28")}},
    {"reviews": {}},
    {"build": replace(BUILD, modules=(replace(BUILD.modules[0], status="failed"),))},
    {"checks": replace(CHECKS, properties=(replace(PROPERTY, passed=False),))},
    {"checks": replace(CHECKS, properties=())},
    {"checks": replace(CHECKS, differential=(replace(DIFF, cases=(replace(DIFF.cases[0], agreed=False),)),))},
    {"checks": replace(CHECKS, differential=(replace(DIFF, cases=()),))},
    {"checks": replace(CHECKS, lean_killed="memory limit")},
    {"declared_axioms": ("T.ax",)},
    {"checks": replace(CHECKS, properties=(PROPERTY, replace(PROPERTY, name="q")))},  # run, listed nowhere
    {"checks": replace(CHECKS, properties=(PROPERTY, replace(PROPERTY, name="q", passed=False)))},
    {"checks": replace(CHECKS, differential=(DIFF, replace(DIFF, name="e")))},
    {"mutants": (replace(MUTANT, caught=False, caught_by=()),)},
    {"reviewed": ("T.a", "T.dropped")},  # reviewed, then taken out of its requirement's list
    {"syntax_extensions": (SyntaxExtension("macro", "T._aux_macroRules_decide_1", "T"),)},
    {"checks": replace(CHECKS, constants=())},
    {"checks": replace(CHECKS, constants=(replace(CONSTANT, agreed=False, lean_value="4096"),))},
    {"replay": replace(REPLAY, failures=(ReplayFailure("T.other", "(kernel) declaration type mismatch"),))},
    {"replay": replace(REPLAY, complete=False)},
    {"replay": replace(REPLAY, killed="memory limit")},
    {"options": (SourceOption("T.lean", 3, "debug.skipKernelTC", "true", "the next command", "weakens", "x"),)},
    {"options": (SourceOption("T.lean", 3, "some.new.option", "1", "the next command", "unknown", "x"),)},
    {"cross_check_mismatches": ("T.a: olean audit [] vs #print axioms [sorryAx]",)},
], ids=lambda c: next(iter(c)))
def test_each_problem_alone_flips_the_verdict(change):
    assert _verdict(**change) == "FAIL"


def test_failures_name_the_culprit():
    """The requirement's problems say which definition changed, which constant disagrees, which declaration
    the kernel rejected; a harmless option fails nothing."""
    drifted = replace(THEOREM, pinned=(PinnedDefinition("T.def", "d2"),), pinned_hash="ph2")
    assert "T.a changed since review (suspect): definition T.def changed" in _judge(theorem=drifted).failures[0]
    mismatch = replace(CHECKS, constants=(replace(CONSTANT, agreed=False, lean_value="4096"),))
    assert "REQ-X: constant c: Lean T.def = 4096, requirements.toml says 8192" in _judge(checks=mismatch).failures
    rejected = replace(REPLAY, failures=(ReplayFailure("T.def", "(kernel) type mismatch"),))
    assert "REQ-X: T.a fails kernel replay: T.def: (kernel) type mismatch" in _judge(replay=rejected).failures
    harmless = SourceOption("T.lean", 3, "maxHeartbeats", "400000", "the next command", "harmless", "x")
    assert _verdict(options=(harmless,)) == "PASS"
