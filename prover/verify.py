"""A found proof counts only after the whole theorem compiles with it, in its own file, and the axiom
audit of the compiled theorem finds no `sorry`, no project axiom and no compiler trust in its closure
(a proof that leans on a lemma still proved by `sorry` compiles without a warning; the audit sees it)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from prover.target import Target
from verifier.lean.audit import audit_theorem
from verifier.lean.olean import OleanError
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB
from verifier.lean.toolchain.base import LeanRun, Toolchain


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    new_text: str


def with_proof(target: Target, script: str) -> tuple[str, int]:
    """The file's text with the theorem's proof replaced by `by` and the script, and the last line of the
    theorem in it."""
    text = target.file.read_text(encoding="utf-8")
    head = text[: target.proof_start] + ":= by\n" + script.rstrip()
    return head + text[target.decl_end:], head.count("\n") + 1


def _audit_problem(chain: Toolchain, lean_dir: Path, base: Path, name: str) -> str | None:
    """None if the compiled theorem's closure is clean, else what is wrong."""
    audit = audit_theorem(chain, lean_dir.absolute() / BUILD_LIB, base, name)
    if audit is None:
        return f"{name} is not in the compiled file"
    if audit.status == "proved":
        return None
    details = ["sorry" if audit.uses_sorry else "", *audit.project_axioms, *audit.compiler_trust,
               *(f"{n} (declared in no module the audit read)" for n in audit.unresolved)]
    return f"the proof rests on {', '.join(d for d in details if d)}"


def _why_no_module(run: LeanRun) -> str:
    """What stopped the file outside the theorem's lines, so an infrastructure fault shows as one."""
    errors = [d for d in run.output.diagnostics if d.severity == "error"]
    if errors:
        return f"line {errors[0].line}: {errors[0].first_line()}"
    if run.process.stderr.strip():
        return run.process.stderr.strip().splitlines()[0]
    return f"no error message (exit status {run.process.returncode})"


def verify(chain: Toolchain, lean_dir: Path, target: Target, script: str, limits: Limits | None = None) -> Verdict:
    """Compile the file with the proof in place (a copy, in a scratch folder, to an .olean): the theorem's
    lines must hold no error and no `sorry`, and its compiled proof must pass the axiom audit."""
    new_text, last = with_proof(target, script)
    with tempfile.TemporaryDirectory(prefix="quantproof-verify-") as scratch:
        base = Path(scratch) / "out" / target.file.stem
        run = chain.run_file(new_text, search_path=[lean_dir.absolute() / BUILD_LIB], output_base=base,
                             file_name=target.file.name, limits=limits or Limits(timeout_s=600))
        if run.killed:
            return Verdict(False, f"Lean was stopped: {run.killed}", new_text)
        mine = [d for d in run.output.diagnostics
                if target.line <= d.line <= last and (d.severity == "error" or d.is_sorry)]
        if mine:
            return Verdict(False, f"line {mine[0].line}: {mine[0].first_line()}", new_text)
        if not base.with_suffix(".olean").is_file():
            return Verdict(False, f"Lean produced no compiled module: {_why_no_module(run)}", new_text)
        try:
            problem = _audit_problem(chain, lean_dir, base, target.name)
        except OleanError as exc:
            return Verdict(False, f"cannot audit the compiled proof: {exc}", new_text)
    if problem:
        return Verdict(False, problem, new_text)
    return Verdict(True, f"{target.name} compiles with the proof (kernel-checked; no sorry, no extra axiom)",
                   new_text)
