"""The judgement on typed results, without Lean: one bad item in otherwise clean results is enough to fail,
and a clean set passes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from verifier.checks.model import CheckReport, DifferentialCase, DifferentialResult, PropertyResult
from verifier.evidence import assess
from verifier.lean.audit import AuditReport, TheoremAudit
from verifier.lean.build.model import BuildResult, ModuleResult
from verifier.requirements import Requirement
from verifier.reviews import Review

REQ = Requirement("REQ-X", "t", "x", ("T.a",), ("p",), ("d",))
THEOREM = TheoremAudit("T.a", "T", "T.lean", 1, "s", "h", (), False, (), (), (), (), (), 1)
PROPERTY = PropertyResult("p", "REQ-X", "d", "s", 1, 10, 0, 0.5, "m", True)
DIFF = DifferentialResult("d", "REQ-X", "T.f", "f", "s", (DifferentialCase("d:0", "REQ-X", "e", "1", True),))
CHECKS = CheckReport((), (PROPERTY,), (DIFF,), ())
BUILD = BuildResult("p", "portable", "4.28.0", 1, ("T",), (ModuleResult("T", "T.lean", "built", True, (), (), 1.0),),
                    1.0)
REVIEWS = {"T.a": Review("T.a", "h", "someone", "2026-11-28")}


def _verdict(theorem=THEOREM, checks=CHECKS, reviews=REVIEWS, build=BUILD, declared_axioms=(),
             **audit_extra) -> str:
    audit = AuditReport("4.28.0", "c", 4, (theorem,), (), declared_axioms, **audit_extra)
    rows = (assess.assess_requirement(REQ, audit, checks, reviews),)
    return assess.verdict(rows, build, checks, audit).status


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
    {"cross_check_mismatches": ("T.a: olean audit [] vs #print axioms [sorryAx]",)},
], ids=lambda c: next(iter(c)))
def test_each_problem_alone_flips_the_verdict(change):
    assert _verdict(**change) == "FAIL"
