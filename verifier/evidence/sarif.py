"""SARIF 2.1.0: every failure of the evidence (or of the audit) as a result a code-scanning service shows
at its line, with a stable `ruleId` per requirement and kind and a `partialFingerprints` entry that does
not move when lines do, so a run's alerts match the previous run's instead of duplicating them."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verifier import __version__
from verifier.atomic_write import write_text_atomic
from verifier.checks import catalog
from verifier.evidence.assess import unlisted_checks
from verifier.evidence.records import EvidenceDocument, RequirementAssessment, TheoremRow
from verifier.lean.audit import AuditReport, source_name
from verifier.lean.build.model import BuildResult
from verifier.lean.replay import ReplayReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "quantproofFinding/v1"
REPO = Path(__file__).resolve().parents[2]

RULES = {
    "theorem-not-proved": "A requirement theorem is not proved (sorry, an extra axiom, compiler trust, or missing)",
    "suspect-link": "A requirement theorem's statement or a definition it rests on changed since review",
    "replay-rejected": "The kernel rejects a declaration on replay from the compiled modules",
    "property-failed": "A property check of the executable kernels fails",
    "differential-disagrees": "NumPy and the Lean kernel disagree on a differential family",
    "constant-disagrees": "A constant of requirements.toml differs from its Lean definition",
    "option-weakens-checking": "A Lean option that disables or weakens checking, or is not known to be harmless",
    "replay-incomplete": "The kernel replay did not complete",
    "syntax-extension": "The project declares a syntax extension, which changes what Lean text means to importers",
    "check-unlisted": "A check ran that no requirement of requirements.toml lists",
    "fault-not-caught": "An injected fault is not caught by the property meant to catch it",
    "reviewed-unlisted": "A reviewed theorem is listed by no requirement of requirements.toml",
}


@dataclass(frozen=True)
class Finding:
    """One failure: its rule (`kind`, optionally per requirement), what it is about, where, and the text."""

    kind: str
    subject: str
    message: str
    requirement: str = ""
    file: str = ""
    line: int = 0

    @property
    def rule_id(self) -> str:
        return f"{self.requirement}/{self.kind}" if self.requirement else self.kind


def _declaration_sites(build: BuildResult) -> dict[str, tuple[str, int]]:
    return {d.name: (m.file, d.line) for m in build.modules for d in m.declarations}


def _python_site(obj: object) -> tuple[str, int]:
    try:
        path = Path(inspect.getsourcefile(obj) or "")  # type: ignore[arg-type]
        return str(path.resolve().relative_to(REPO)), inspect.getsourcelines(obj)[1]  # type: ignore[arg-type]
    except (OSError, TypeError, ValueError):
        return "", 0


def _theorem_findings(req: str, rows: Iterable[TheoremRow]) -> list[Finding]:
    out = []
    for t in rows:
        if t.status != "proved":
            out.append(Finding("theorem-not-proved", t.name, f"{t.name} is {t.status}" + (f": {t.reason}" if t.reason
                                                                                           else ""), req, t.file,
                               t.line))
        elif t.review != "reviewed":
            out.append(Finding("suspect-link", t.name, f"{req} -> {t.name}: {'; '.join(t.changes) or t.review}", req,
                               t.file, t.line))
    return out


def _audit_findings(audit: AuditReport, replay: ReplayReport | None, build: BuildResult) -> list[Finding]:
    sites = _declaration_sites(build)
    out = [Finding("option-weakens-checking", f"{o.file}:{o.name}", f"set_option {o.name} {o.value} "
                   f"({o.verdict}: {o.why})", file=o.file, line=o.line) for o in audit.options if o.fails]
    files = {m.module: m.file for m in build.modules}
    for x in audit.syntax_extensions:
        out.append(Finding("syntax-extension", str(x), f"the project declares a syntax extension: {x}",
                           file=files.get(x.module, "")))
    if replay is not None:
        for f in replay.failures:
            file, line = sites.get(source_name(f.name), ("", 0))
            out.append(Finding("replay-rejected", f.name, f"the kernel rejects {f.name} on replay: {f.message}",
                               file=file, line=line))
        if replay.killed or replay.error or not replay.complete:
            out.append(Finding("replay-incomplete", "replay", f"kernel replay did not complete: "
                               f"{replay.killed or replay.error or 'no result'}"))
    return out


def _check_findings(doc: EvidenceDocument, req: RequirementAssessment) -> list[Finding]:
    builders = {p.name: p.build for p in catalog.PROPERTIES}
    props = {p.name: p for p in doc.checks.properties}
    sites = _declaration_sites(doc.build)
    out = []
    for link in req.properties:
        if not link.passed:
            p = props.get(link.name)
            file, line = _python_site(builders[link.name]) if link.name in builders else ("", 0)
            why = "was not run" if p is None else f"fails: {p.counterexample or ''}"
            out.append(Finding("property-failed", link.name, f"property {link.name} {why}", req.id, file, line))
    diffs = {d.name: d for d in doc.checks.differential}
    for link in req.differential:
        if not link.passed:
            d = diffs.get(link.name)
            file, line = sites.get(d.lean_definition.split("/")[0], ("", 0)) if d else ("", 0)
            why = "was not run" if d is None else f"{d.disagreements} of {len(d.cases)} cases disagree with Lean"
            out.append(Finding("differential-disagrees", link.name, f"differential {link.name}: {why}", req.id, file,
                               line))
    covered = {n for t in req.theorems for n in t.covers}
    for c in doc.checks.constants:
        if not c.agreed and c.lean in covered:
            file, line = sites.get(c.lean, ("", 0))
            out.append(Finding("constant-disagrees", c.name, f"constant {c.name}: Lean {c.lean} = {c.lean_value}, "
                               f"requirements.toml says {c.expected}", req.id, file, line))
    return out


def _replayed_theorem_findings(req: str, rows: Iterable[TheoremRow], audit: AuditReport,
                               replay: ReplayReport | None) -> list[Finding]:
    """A requirement theorem whose proof reaches a declaration the kernel rejects on replay."""
    rejected = {f.name for f in replay.failures} if replay else set()
    out = []
    for row in rows:
        t = audit.theorem(row.name)
        bad = sorted(set(t.closure) & rejected) if t else []
        if bad:
            out.append(Finding("replay-rejected", row.name, f"{row.name} rests on {bad[0]}, which the kernel rejects "
                               "on replay", req, row.file, row.line))
    return out


def _document_findings(doc: EvidenceDocument) -> list[Finding]:
    """What fails the whole document rather than one requirement: checks and reviews outside every list,
    and injected faults that went uncaught."""
    props, diffs = unlisted_checks(doc.requirements, doc.checks)
    out = [Finding("check-unlisted", p.name, f"property {p.name} ran ({'passed' if p.passed else 'FAILED'}) but no "
                   "requirement lists it", file="verifier/spec/requirements.toml") for p in props]
    out += [Finding("check-unlisted", d.name, f"differential {d.name} ran but no requirement lists it",
                    file="verifier/spec/requirements.toml") for d in diffs]
    out += [Finding("reviewed-unlisted", n, f"reviewed theorem {n} is listed by no requirement",
                    file="verifier/spec/requirements.toml") for n in doc.trace.reviewed_unlisted]
    return out + [Finding("fault-not-caught", m.name, f"injected fault {m.name} not caught by "
                          f"{', '.join(m.properties)}: {m.fault}", m.req) for m in doc.mutants if not m.caught]


def evidence_findings(doc: EvidenceDocument) -> list[Finding]:
    out = []
    for req in doc.requirements:
        out += (_theorem_findings(req.id, req.theorems) + _check_findings(doc, req)
                + _replayed_theorem_findings(req.id, req.theorems, doc.audit, doc.replay))
    return out + _audit_findings(doc.audit, doc.replay, doc.build) + _document_findings(doc)


def audit_findings(rows: dict[str, tuple[TheoremRow, ...]], audit: AuditReport, replay: ReplayReport | None,
                   build: BuildResult) -> list[Finding]:
    """What `quantproof audit` found: requirement theorems (with their review) and the whole-project checks."""
    out = [f for req, theorem_rows in rows.items()
           for f in _theorem_findings(req, theorem_rows) + _replayed_theorem_findings(req, theorem_rows, audit, replay)]
    return out + _audit_findings(audit, replay, build)


def _result(f: Finding) -> dict:
    result: dict = {"ruleId": f.rule_id, "level": "error", "message": {"text": f.message},
                    "partialFingerprints": {FINGERPRINT: hashlib.sha256(f"{f.rule_id}|{f.subject}".encode())
                                            .hexdigest()[:32]}}
    if f.file:
        location: dict = {"artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"}}
        if f.line:
            location["region"] = {"startLine": f.line}
        result["locations"] = [{"physicalLocation": location}]
    return result


def sarif_log(findings: list[Finding], root: Path) -> dict:
    """The SARIF 2.1.0 log of these findings: one run, the rules they use, one result each; file paths are
    relative to `root` (the folder holding lean/)."""
    rule_ids = sorted({f.rule_id for f in findings})
    rules = [{"id": rid, "shortDescription": {"text": RULES[rid.rsplit("/", 1)[-1]]}} for rid in rule_ids]
    return {"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [{
        "tool": {"driver": {"name": "quantproof", "version": __version__, "rules": rules}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.absolute().as_uri() + "/"}},
        "results": [_result(f) for f in findings],
    }]}


def write_sarif(path: Path, findings: list[Finding], root: Path) -> None:
    write_text_atomic(path, json.dumps(sarif_log(findings, root), indent=1))
