"""The evidence document as typed records, from collection through judgement to rendering.

`EvidenceDocument` is what evidence.json holds (schema `quantproof-evidence`); every figure the report
shows is a field here. The step results it embeds (build, audit, checks, mutants) keep their own types.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.checks.model import CheckReport, MutantResult
from verifier.evidence.content import ToolRow
from verifier.lean.audit import AuditReport
from verifier.lean.build.model import BuildResult
from verifier.lean.replay import ReplayReport

SCHEMA = "quantproof-evidence"
SCHEMA_VERSION = 1
PASS, FAIL = "PASS", "FAIL"


@dataclass(frozen=True)
class TheoremRow:
    """A requirement's theorem as judged: audit status and review status (reviewed | changed | unreviewed)."""

    name: str
    status: str  # proved | sorry | extra-axiom | compiler-trust | missing
    review: str
    statement: str = ""
    hash: str = ""
    reviewed_hash: str = ""
    reason: str = ""
    file: str = ""
    line: int = 0
    covers: tuple[str, ...] = ()  # the project definitions the pinned hash covers
    changes: tuple[str, ...] = ()  # what differs from the review, when it is not reviewed


@dataclass(frozen=True)
class CheckLink:
    """A property or differential family a requirement names, and whether it ran and passed."""

    name: str
    passed: bool
    missing: bool = False


@dataclass(frozen=True)
class RequirementAssessment:
    id: str
    title: str
    text: str
    theorems: tuple[TheoremRow, ...]
    properties: tuple[CheckLink, ...]
    differential: tuple[CheckLink, ...]
    problems: tuple[str, ...]
    status: str  # PASS | FAIL


@dataclass(frozen=True)
class Verdict:
    status: str  # PASS | FAIL
    line: str
    failures: tuple[str, ...]
    requirements_passed: int
    requirements_total: int


@dataclass(frozen=True)
class TraceRow:
    requirement: str
    theorems: tuple[str, ...]
    supporting: tuple[str, ...]
    properties: tuple[str, ...]
    differential: tuple[str, ...]


@dataclass(frozen=True)
class TraceReport:
    """Requirement -> theorem -> supporting lemma, and what the trace is missing."""

    matrix: tuple[TraceRow, ...]
    orphan_requirements: tuple[str, ...]
    untraced_theorems: tuple[str, ...]
    suspect_links: tuple[str, ...]
    traced_theorems: int
    reviewed_unlisted: tuple[str, ...] = ()  # reviewed (verifier/spec/reviewed.toml) yet listed by no requirement


@dataclass(frozen=True)
class ProblemReport:
    kind: str
    subject: str
    text: str
    disposition: str


@dataclass(frozen=True)
class ComplianceRow:
    objective: str
    description: str
    evidence: str
    status: str  # met | not met


@dataclass(frozen=True)
class AssumptionRow:
    name: str
    statement: str
    role: str
    discharge: str


@dataclass(frozen=True)
class ModelExclusion:
    """Something a requirement's model does not cover, stated so a reviewer need not find it."""

    requirement: str
    item: str


@dataclass(frozen=True)
class AssumptionItem:
    """The hypotheses of one theorem, with how each is discharged."""

    theorem: str
    requirement: str
    hypotheses: tuple[AssumptionRow, ...]


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ToolchainIdentity:
    kind: str
    lean_version: str
    target: str
    commit: str
    pointer_bytes: int
    reason: str
    node_version: str | None = None
    npm_integrity: str | None = None
    glue_fixes: tuple[str, ...] | None = None
    measured_sha256: dict[str, str] | None = None  # the programs, hashed in this run
    library_sha256: str = ""  # digest of the core library's files as measured in this run
    library_files: int = 0


@dataclass(frozen=True)
class Configuration:
    """DO-178C §7: what was checked, with which tools, by which commands."""

    commit: str
    dirty: bool
    dirty_files: tuple[str, ...]
    inputs: tuple[InputFile, ...]
    toolchain: ToolchainIdentity
    python: str
    platform: str
    packages: dict[str, str]
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    software_level: str
    by_proof: tuple[str, ...]
    by_test: tuple[str, ...]
    exclusions: tuple[str, ...]


@dataclass(frozen=True)
class Method:
    lean_version: str
    lean_commit: str
    target: str
    logic: str
    accepted_axioms: tuple[str, ...]
    rejected: tuple[str, ...]
    soundness: str
    audit_limitation: str


@dataclass(frozen=True)
class Figures:
    timings_s: dict[str, float]
    differential_reused: bool


@dataclass(frozen=True)
class EvidenceDocument:
    schema: str
    schema_version: int
    quantproof_version: str
    generated_at: str
    verdict: Verdict
    configuration: Configuration
    scope: Scope
    method: Method
    requirements: tuple[RequirementAssessment, ...]
    build: BuildResult
    audit: AuditReport
    assumptions: tuple[AssumptionItem, ...]
    checks: CheckReport
    replay: ReplayReport
    mutants: tuple[MutantResult, ...]
    trace: TraceReport
    tool_qualification: tuple[ToolRow, ...]
    problem_reports: tuple[ProblemReport, ...]
    compliance: tuple[ComplianceRow, ...]
    figures: Figures
    model_exclusions: tuple[ModelExclusion, ...] = ()
