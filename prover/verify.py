"""A found proof counts only after the whole theorem compiles with it, in its own file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from prover.target import Target
from verifier.messages import parse_output
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


def verify(chain: Toolchain, lean_dir: Path, target: Target, script: str, limits: Limits | None = None) -> Verdict:
    """Compile the file with the proof in place (a copy, in a scratch folder); the theorem's lines must hold
    no error and no `sorry`."""
    new_text, last = with_proof(target, script)
    with tempfile.TemporaryDirectory(prefix="quantproof-verify-") as scratch:
        path = Path(scratch) / target.file.name
        path.write_text(new_text, encoding="utf-8")
        run = run_guarded(chain.command(["--json", str(path)]), env=chain.env([lean_dir.absolute() / BUILD_LIB]),
                          cwd=Path(scratch), limits=limits or Limits(timeout_s=600))
    if run.killed:
        return Verdict(False, f"Lean was stopped: {run.killed}", new_text)
    diags = parse_output(run.stdout).diagnostics
    mine = [d for d in diags if target.line <= d.line <= last and (d.severity == "error" or d.is_sorry)]
    if mine:
        return Verdict(False, f"line {mine[0].line}: {mine[0].first_line()}", new_text)
    if run.returncode != 0 and not any(d.severity == "error" for d in diags):
        return Verdict(False, f"Lean exited with {run.returncode}", new_text)
    return Verdict(True, f"{target.name} compiles with the proof (kernel-checked)", new_text)
