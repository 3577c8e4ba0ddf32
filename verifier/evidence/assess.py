"""From results to judgements: requirement status, the verdict, trace integrity, problem reports, the
assumptions register and the compliance summary. Pure functions of typed results.

A theorem counts as proved only if it compiled, the audit found no `sorry`, no project axiom and no
compiler-trust axiom in its closure, and its statement's hash equals the last reviewed hash.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from verifier.checks.model import CheckReport, DifferentialResult, MutantResult, PropertyResult
from verifier.evidence.content import content
from verifier.evidence.records import (
    FAIL,
    PASS,
    AssumptionItem,
    AssumptionRow,
    CheckLink,
    ComplianceRow,
    Configuration,
    ModelExclusion,
    ProblemReport,
    RequirementAssessment,
    TheoremRow,
    TraceReport,
    TraceRow,
    Verdict,
)
from verifier.lean.audit import AuditReport
from verifier.lean.build.model import BuildResult
from verifier.lean.replay import ReplayReport
from verifier.requirements import Requirement, spec
from verifier.reviews import Review, meaning_of, review_changes, review_status

_PROBLEM_OF_STATUS = {"sorry": "uses sorry", "extra-axiom": "rests on a project axiom",
                      "compiler-trust": "trusts the compiler (native_decide / ofReduceBool)",
                      "unresolved": "rests on a constant no module the audit read declares"}


def theorem_rows(req: Requirement, audit: AuditReport, reviews: dict[str, Review]) -> tuple[TheoremRow, ...]:
    missing = {m.name: m for m in audit.missing}
    rows = []
    for name in req.lean:
        reviewed = reviews[name].hash if name in reviews else ""
        t = audit.theorem(name)
        if t is None:
            why = missing[name].reason if name in missing else "not found in the compiled project"
            rows.append(TheoremRow(name, "missing", "unreviewed", reviewed_hash=reviewed, reason=why))
            continue
        review = review_status(name, t.pinned_hash, reviews)
        changes = review_changes(reviews.get(name), meaning_of(t)) if review != "reviewed" else ()
        rows.append(TheoremRow(name, t.status, review, t.statement, t.pinned_hash, reviewed, file=t.file,
                               line=t.line, covers=tuple(p.name for p in t.pinned), changes=changes))
    return tuple(rows)


def _theorem_problems(rows: tuple[TheoremRow, ...]) -> list[str]:
    problems = []
    for t in rows:
        if t.status == "missing":
            problems.append(f"{t.name} missing ({t.reason})")
        elif t.status != "proved":
            problems.append(f"{t.name} {_PROBLEM_OF_STATUS.get(t.status, t.status)}")
        elif t.review != "reviewed":
            why = "changed since review" if t.review == "changed" else "never reviewed"
            problems.append(f"{t.name} {why} (suspect): {'; '.join(t.changes)}")
    return problems


def _replay_problems(req: Requirement, audit: AuditReport, replay: ReplayReport) -> list[str]:
    """A requirement theorem whose proof reaches a declaration the kernel rejected on replay fails."""
    rejected = {f.name: f.message for f in replay.failures}
    problems = []
    for name in req.lean:
        t = audit.theorem(name)
        bad = sorted(n for n in (t.closure if t else ()) if n in rejected)
        if bad:
            problems.append(f"{name} fails kernel replay: {bad[0]}: {rejected[bad[0]]}")
    return problems


def assess_requirement(req: Requirement, audit: AuditReport, checks: CheckReport, reviews: dict[str, Review],
                       replay: ReplayReport) -> RequirementAssessment:
    theorems = theorem_rows(req, audit, reviews)
    problems = _theorem_problems(theorems) + _replay_problems(req, audit, replay)
    covered = {name for t in theorems for name in t.covers}
    problems += [f"constant {c.name}: Lean {c.lean} = {c.lean_value}, requirements.toml says {c.expected}"
                 for c in checks.constants if not c.agreed and c.lean in covered]
    props = {p.name: p for p in checks.properties}
    prop_links = []
    for name in req.python:
        p = props.get(name)
        if p is None:
            problems.append(f"property {name} was not run")
        elif not p.passed:
            problems.append(f"property {name} failed: {p.counterexample or ''}".rstrip(": "))
        prop_links.append(CheckLink(name, p is not None and p.passed, p is None))
    diffs = {d.name: d for d in checks.differential}
    diff_links = []
    for name in req.differential:
        d = diffs.get(name)
        if d is None:
            problems.append(f"differential {name} was not run")
        elif d.disagreements or not d.cases:
            problems.append(f"differential {name}: {d.disagreements} of {len(d.cases)} cases disagree with Lean")
        diff_links.append(CheckLink(name, d is not None and bool(d.cases) and not d.disagreements, d is None))
    if not req.lean:
        problems.append("no Lean theorem traces to this requirement")
    if not req.python and not req.differential:
        problems.append("no executable check traces to this requirement")
    return RequirementAssessment(req.id, req.title, req.text, theorems, tuple(prop_links), tuple(diff_links),
                                 tuple(problems), PASS if not problems else FAIL)


def _replay_failures(replay: ReplayReport) -> list[str]:
    failures = [f"kernel replay rejects {f.name}: {f.message}" for f in replay.failures]
    if replay.killed or replay.error or not replay.complete or not replay.checked:
        failures.append(f"kernel replay did not complete: {replay.killed or replay.error or 'no result'}")
    return failures


def unlisted_checks(requirements: tuple[RequirementAssessment, ...],
                    checks: CheckReport) -> tuple[list[PropertyResult], list[DifferentialResult]]:
    """The properties and differential families that ran but that no requirement lists: deleting a name from
    a list in requirements.toml must not make a failing check stop counting, so each one fails the verdict."""
    props = {link.name for r in requirements for link in r.properties}
    diffs = {link.name for r in requirements for link in r.differential}
    return ([p for p in checks.properties if p.name not in props],
            [d for d in checks.differential if d.name not in diffs])


def _unlisted_failures(requirements: tuple[RequirementAssessment, ...], checks: CheckReport) -> list[str]:
    props, diffs = unlisted_checks(requirements, checks)
    out = [f"property {p.name} is listed by no requirement in requirements.toml ({'passed' if p.passed else 'FAILED'})"
           for p in props]
    return out + [f"differential {d.name} is listed by no requirement in requirements.toml ({d.disagreements} of "
                  f"{len(d.cases)} cases disagree)" for d in diffs]


def verdict(requirements: tuple[RequirementAssessment, ...], build: BuildResult, checks: CheckReport,
            audit: AuditReport, replay: ReplayReport, mutants: tuple[MutantResult, ...] = (),
            trace_report: TraceReport | None = None) -> Verdict:
    failures = []
    if build.status != "ok":
        bad = [f"{m.module} {m.status}" for m in build.modules if m.status not in ("built", "up-to-date")]
        failures.append(f"build {build.status}: {', '.join(bad) or 'no modules'}")
    for req in requirements:
        failures += [f"{req.id}: {p}" for p in req.problems]
    for t in audit.theorems:
        if t.status != "proved" and not any(t.name in f for f in failures):
            failures.append(f"untraced theorem {t.name}: {t.status}")
    if audit.declared_axioms:
        failures.append(f"project declares axioms: {', '.join(audit.declared_axioms)}")
    if audit.syntax_extensions:
        failures.append("project declares syntax extensions (they change what Lean text means to importers, the "
                        f"checks' cases included): {', '.join(map(str, audit.syntax_extensions))}")
    failures += [f"#print axioms disagrees: {m}" for m in audit.cross_check_mismatches]
    if checks.lean_killed or checks.lean_header_errors:
        failures.append(f"differential Lean run failed: {checks.lean_killed or checks.lean_header_errors[0]}")
    if not checks.differential:
        failures.append("differential checks were not run")
    if not checks.constants:
        failures.append("the constants of requirements.toml were not checked by the Lean kernel")
    used = {name for r in requirements for t in r.theorems for name in t.covers}
    failures += [f"constant {c.name}: Lean {c.lean} = {c.lean_value}, requirements.toml says {c.expected} "
                 "(no requirement theorem rests on it)"
                 for c in checks.constants if not c.agreed and c.lean not in used]
    failures += [f"{o.file}:{o.line}: set_option {o.name} {o.value} ({o.verdict}: {o.why})"
                 for o in audit.options if o.fails]
    failures += _replay_failures(replay)
    failures += _unlisted_failures(requirements, checks)
    # a theorem taken out of its requirement's list would no longer be held to its reviewed statement
    failures += [f"reviewed theorem {n} is listed by no requirement in requirements.toml"
                 for n in (trace_report.reviewed_unlisted if trace_report else ())]
    # a planted fault its property no longer catches: that property was weakened, so its PASS means less
    failures += [f"injected fault {m.name} ({m.req}) not caught by {', '.join(m.properties)}: {m.fault}"
                 for m in mutants if not m.caught]
    passed = sum(r.status == PASS for r in requirements)
    status = PASS if not failures else FAIL
    line = (f"PASS: all {len(requirements)} requirements proved, checked and unchanged" if status == PASS
            else f"FAIL: {passed} of {len(requirements)} requirements pass; {failures[0]}"
                 + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""))
    return Verdict(status, line, tuple(failures), passed, len(requirements))


def trace(requirements: tuple[RequirementAssessment, ...], audit: AuditReport,
          reviewed: Iterable[str] = ()) -> TraceReport:
    """Requirement -> theorem -> supporting lemma graph; orphans, untraced theorems, suspect links, and
    reviewed theorems that no requirement lists any more."""
    graph = nx.DiGraph()
    theorems = {t.name for t in audit.theorems}
    for t in audit.theorems:
        graph.add_node(t.name)
        graph.add_edges_from((t.name, used) for used in t.uses_project if used in theorems)
    for req in requirements:
        graph.add_node(req.id)
        graph.add_edges_from((req.id, row.name) for row in req.theorems)
    traced: dict[str, list[str]] = {}
    for req in requirements:
        for name in nx.descendants(graph, req.id):
            traced.setdefault(name, []).append(req.id)
    matrix = tuple(TraceRow(r.id, tuple(t.name for t in r.theorems),
                            tuple(sorted(n for n, reqs in traced.items()
                                         if r.id in reqs and n not in {t.name for t in r.theorems})),
                            tuple(p.name for p in r.properties), tuple(d.name for d in r.differential))
                   for r in requirements)
    return TraceReport(
        matrix=matrix,
        orphan_requirements=tuple(r.id for r in requirements if not r.theorems or not (r.properties or r.differential)),
        untraced_theorems=tuple(sorted(n for n in theorems if n not in traced)),
        suspect_links=tuple(f"{r.id} -> {t.name}" for r in requirements for t in r.theorems if t.review != "reviewed"),
        traced_theorems=len(traced),
        reviewed_unlisted=tuple(sorted(set(reviewed) - {t.name for r in requirements for t in r.theorems})),
    )


def problem_reports(requirements: tuple[RequirementAssessment, ...], build: BuildResult, checks: CheckReport,
                    audit: AuditReport, mutants: tuple[MutantResult, ...]) -> tuple[ProblemReport, ...]:
    reports = []
    for m in build.modules:
        for d in m.diagnostics:
            if d.severity == "error" or d.is_sorry:
                reports.append(ProblemReport("build", f"{d.file}:{d.line}", d.text[:300],
                                             "open: must be fixed before the evidence can pass"))
    for req in requirements:
        reports += [ProblemReport("requirement", req.id, p, "open") for p in req.problems]
    for c in checks.claims:
        if c.verdict in ("false", "holds-with-conditions"):
            corrected = c.verdict != "false" or "Lean" in c.evidence
            reports.append(ProblemReport("design claim", c.claim, c.value,
                                         "reported against the design documents; the proved statement is the "
                                         "corrected claim" if corrected else "reported against the design documents"))
    reports += [ProblemReport("test effectiveness", m.name, f"injected fault not caught: {m.fault}",
                              "open: strengthen the property") for m in mutants if not m.caught]
    reports.append(ProblemReport("limitation", "axiom audit", audit.limitation,
                                 "accepted: the core library is trusted as shipped by the Lean project"))
    return tuple(reports)


def assumptions_register(audit: AuditReport,
                         requirements: tuple[RequirementAssessment, ...]) -> tuple[AssumptionItem, ...]:
    """Every hypothesis of every theorem, with the requirement it serves and how it is discharged."""
    owner = {t.name: r.id for r in requirements for t in r.theorems}
    text = content()
    return tuple(AssumptionItem(t.name, owner.get(t.name, "supporting"),
                                tuple(AssumptionRow(h.name, h.statement, h.role, text.discharge(h.statement))
                                      for h in t.hypotheses if h.role == "hypothesis"))
                 for t in audit.theorems)


def model_exclusions() -> tuple[ModelExclusion, ...]:
    """What each requirement's model leaves out, from the requirements file."""
    return tuple(ModelExclusion(r.id, item) for r in spec().requirements for item in r.leaves_out)


def compliance(requirements: tuple[RequirementAssessment, ...], verdict_: Verdict, trace_: TraceReport,
               checks: CheckReport, mutants: tuple[MutantResult, ...], config: Configuration,
               audit: AuditReport) -> tuple[ComplianceRow, ...]:
    """Each objective of the content file, met or not by the judgement its `check` names."""
    met = {
        "configuration": not config.dirty,
        "reviewed": all(t.review == "reviewed" for r in requirements for t in r.theorems),
        "proved": all(t.status == "proved" for r in requirements for t in r.theorems) and not audit.declared_axioms
        and not audit.syntax_extensions,
        "assumptions": True,
        "preservation": bool(checks.differential) and all(not d.disagreements for d in checks.differential),
        "properties": all(p.passed for r in requirements for p in r.properties),
        "effectiveness": all(m.caught for m in mutants),
        "trace": not trace_.orphan_requirements and not trace_.suspect_links,
        "tools": True,
        "verdict": verdict_.status == PASS,
    }
    return tuple(ComplianceRow(o.objective, o.description, o.evidence, "met" if met[o.check] else "not met")
                 for o in content().objectives)
