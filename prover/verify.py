"""A found proof counts only after the whole theorem compiles with it, in its own file, and the axiom
audit of the compiled theorem finds no `sorry`, no project axiom and no compiler trust in its closure
(a proof that leans on a lemma still proved by `sorry` compiles without a warning; the audit sees it)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from prover.target import Target
from verifier.audit import Auditor, source_name
from verifier.lean_data import ModuleReader
from verifier.lean_library import open_library
from verifier.lean_pretty import Printer
from verifier.messages import parse_output
from verifier.olean import OleanError, load_module
from verifier.project import BUILD_LIB
from verifier.toolchain.base import Toolchain
from verifier.watchdog import Limits, run_guarded


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


def _project_modules(lib: Path) -> list[str]:
    return sorted(".".join(p.relative_to(lib).with_suffix("").parts) for p in lib.rglob("*.olean")) \
        if lib.is_dir() else []


def _audit(chain: Toolchain, lean_dir: Path, base: Path, name: str) -> str | None:
    """None if the compiled theorem's closure is clean, else what is wrong."""
    library = open_library(chain, lean_dir.absolute() / BUILD_LIB, _project_modules(lean_dir.absolute() / BUILD_LIB))
    reader = ModuleReader(load_module(base, chain.version.pointer_bytes))
    const = None
    for candidate in reader.constants():
        library.project_constants[candidate.name] = ("(candidate)", candidate)
        if source_name(candidate.name) == name and candidate.kind == "theorem":
            const = candidate
    if const is None:
        return f"{name} is not in the compiled file"
    audit = Auditor(library, Printer(library.lookup)).audit(const, "(candidate)", "", 0)
    if audit.status == "proved":
        return None
    details = ["sorry" if audit.uses_sorry else "", *audit.project_axioms, *audit.compiler_trust]
    return f"the proof rests on {', '.join(d for d in details if d)}"


def verify(chain: Toolchain, lean_dir: Path, target: Target, script: str, limits: Limits | None = None) -> Verdict:
    """Compile the file with the proof in place (a copy, in a scratch folder, to an .olean): the theorem's
    lines must hold no error and no `sorry`, and its compiled proof must pass the axiom audit."""
    new_text, last = with_proof(target, script)
    with tempfile.TemporaryDirectory(prefix="quantproof-verify-") as scratch:
        folder = Path(scratch)
        path = folder / target.file.name
        path.write_text(new_text, encoding="utf-8")
        base = folder / "out" / path.stem
        base.parent.mkdir()
        run = run_guarded(chain.command(["--json", "-R", str(folder), "-o", f"{base}.olean", "-i", f"{base}.ilean",
                                         str(path)]),
                          env=chain.env([lean_dir.absolute() / BUILD_LIB]), cwd=folder,
                          limits=limits or Limits(timeout_s=600))
        if run.killed:
            return Verdict(False, f"Lean was stopped: {run.killed}", new_text)
        diags = parse_output(run.stdout).diagnostics
        mine = [d for d in diags if target.line <= d.line <= last and (d.severity == "error" or d.is_sorry)]
        if mine:
            return Verdict(False, f"line {mine[0].line}: {mine[0].first_line()}", new_text)
        if not (base.with_suffix(".olean")).is_file():
            return Verdict(False, "Lean produced no compiled module", new_text)
        try:
            problem = _audit(chain, lean_dir, base, target.name)
        except OleanError as exc:
            return Verdict(False, f"cannot audit the compiled proof: {exc}", new_text)
    if problem:
        return Verdict(False, problem, new_text)
    return Verdict(True, f"{target.name} compiles with the proof (kernel-checked; no sorry, no extra axiom)",
                   new_text)
