"""Lean's `--json` messages as typed diagnostics.

The portable Lean prints its own debug lines on stdout too, so only lines that parse as JSON
message objects count; the profiler's "X took Nms" information messages become timing samples.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_TOOK_RE = re.compile(r"^(?P<what>.+?) took (?P<num>[0-9.]+)(?P<unit>ms|s|μs|us)$")


@dataclass(frozen=True)
class Diagnostic:
    """One Lean message: severity, kind (e.g. hasSorry), text and position (1-based line, 0-based column)."""

    severity: str
    kind: str
    text: str
    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    @property
    def is_sorry(self) -> bool:
        return self.kind == "hasSorry"

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def first_line(self) -> str:
        return self.text.strip().splitlines()[0] if self.text.strip() else ""


@dataclass(frozen=True)
class TimingSample:
    """Profiler time attributed to the command at `line`."""

    line: int
    seconds: float


@dataclass(frozen=True)
class LeanOutput:
    diagnostics: tuple[Diagnostic, ...]
    timings: tuple[TimingSample, ...]
    other_lines: tuple[str, ...]


def _profile_seconds(text: str) -> float | None:
    """Total seconds if every line of `text` is a profiler line, else None."""
    total = 0.0
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    for line in lines:
        match = _TOOK_RE.match(line.strip())
        if not match:
            return None
        scale = {"ms": 1e-3, "s": 1.0}.get(match["unit"], 1e-6)
        # Only whole-command phases, not their nested parts, so a command's time is not counted twice.
        if match["what"] in ("elaboration", "type checking", "linting", "compilation", "tactic execution",
                             "import") or match["what"].startswith("compilation ("):
            total += float(match["num"]) * scale
    return total


def parse_output(stdout: str) -> LeanOutput:
    """Split a Lean --json run's stdout into diagnostics, profiler timings and everything else."""
    diags: list[Diagnostic] = []
    timings: list[TimingSample] = []
    other: list[str] = []
    for raw in stdout.splitlines():
        line = raw.strip()
        obj = None
        if line.startswith("{") and line.endswith("}"):
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
        if not isinstance(obj, dict) or "severity" not in obj or "data" not in obj:
            if line:
                other.append(raw)
            continue
        pos = obj.get("pos") or {"line": 0, "column": 0}
        end = obj.get("endPos") or {}
        text = obj["data"] if isinstance(obj["data"], str) else json.dumps(obj["data"])
        if obj["severity"] == "information":
            seconds = _profile_seconds(text)
            if seconds is not None:
                timings.append(TimingSample(pos["line"], seconds))
                continue
        diags.append(Diagnostic(
            severity=obj["severity"],
            kind=obj.get("kind") or "",
            text=text,
            file=obj.get("fileName", ""),
            line=pos["line"],
            column=pos["column"],
            end_line=end.get("line"),
            end_column=end.get("column"),
        ))
    return LeanOutput(tuple(diags), tuple(timings), tuple(other))
