"""The trace beside a module's outputs: a hash of what it was built from and of what it produced.

A module whose recorded input hash matches and whose outputs are present and unchanged is up to
date; anything else (a changed source, import or toolchain; a truncated or altered output) rebuilds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from verifier.atomic_write import write_text_atomic
from verifier.lean.build.model import SCHEMA_VERSION, DeclResult, ModuleResult
from verifier.lean.diagnostics import Diagnostic
from verifier.lean.project import LeanProject, Module
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.toolchain.integrity import sha256_file
from verifier.serial import to_jsonable

TRACE_SUFFIX = ".qptrace"
OUTPUT_SUFFIXES = (".olean", ".ilean", ".olean.private", ".olean.server", ".ir")
REQUIRED_OUTPUTS = (".olean", ".ilean")
PROFILE_THRESHOLD_MS = 5


def input_hash(chain: Toolchain, module: Module, dep_oleans: dict[str, str]) -> str:
    """What a module's outputs are a function of: toolchain, build settings, source, imported outputs."""
    payload = [SCHEMA_VERSION, chain.identity, PROFILE_THRESHOLD_MS, module.name,
               hashlib.sha256(module.source).hexdigest(), sorted(dep_oleans.items())]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


class Trace:
    """The trace file of one module and the paths of its outputs."""

    def __init__(self, project: LeanProject, module: str) -> None:
        self.base = project.output_base(module)
        self.path = self.base.with_name(self.base.name + TRACE_SUFFIX)

    def output(self, suffix: str) -> Path:
        return self.base.with_name(self.base.name + suffix)

    def load_valid(self, expected_input: str) -> dict | None:
        """The recorded result if inputs match and every output is present and unchanged."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("schema_version") != SCHEMA_VERSION or data.get("input_hash") != expected_input:
            return None
        for suffix, digest in data.get("outputs", {}).items():
            out = self.output(suffix)
            if not out.is_file() or sha256_file(out) != digest:
                return None
        return data

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        for suffix in OUTPUT_SUFFIXES:
            self.output(suffix).unlink(missing_ok=True)

    def missing_outputs(self) -> list[str]:
        return [s for s in REQUIRED_OUTPUTS if not self.output(s).is_file()]

    def record(self, recorded_input: str, result: ModuleResult) -> dict[str, str]:
        outputs = {s: sha256_file(self.output(s)) for s in OUTPUT_SUFFIXES if self.output(s).is_file()}
        data = {"schema_version": SCHEMA_VERSION, "input_hash": recorded_input, "outputs": outputs,
                "result": to_jsonable(result)}
        write_text_atomic(self.path, json.dumps(data))
        return outputs


def result_from_trace(data: dict) -> ModuleResult:
    """The recorded result of an up-to-date module (its warnings, `sorry` included, kept)."""
    saved = data["result"]
    return ModuleResult(
        module=saved["module"], file=saved["file"],
        status="incomplete" if saved["status"] == "incomplete" else "up-to-date",
        rebuilt=False,
        diagnostics=tuple(Diagnostic(**d) for d in saved["diagnostics"]),
        declarations=tuple(DeclResult(**d) for d in saved["declarations"]),
        elapsed_s=0.0, outputs=data["outputs"],
    )
