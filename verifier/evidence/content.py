"""The report's fixed prose (content.toml), read once into typed records."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from verifier.lean.toolchain.glue import FIXES as GLUE_FIXES

CONTENT_FILE = Path(__file__).resolve().parent / "content.toml"
# the judgements an objective can name (verifier/evidence/assess.py decides each)
CHECKS = ("configuration", "reviewed", "proved", "assumptions", "preservation", "properties", "effectiveness",
          "trace", "tools", "verdict")


@dataclass(frozen=True)
class ToolRow:
    """DO-330: one tool, its use, its criterion and TQL, and why."""

    tool: str
    use: str
    criterion: str
    tql: str
    why: str


@dataclass(frozen=True)
class Objective:
    """One compliance objective and the judgement (`check`) that decides it."""

    objective: str
    description: str
    evidence: str
    check: str


@dataclass(frozen=True)
class Content:
    by_test: tuple[str, ...]
    exclusions: tuple[str, ...]
    logic: str
    soundness: str
    tools: tuple[ToolRow, ...]
    discharges: tuple[tuple[re.Pattern[str], str], ...]
    discharge_default: str
    objectives: tuple[Objective, ...]

    def discharge(self, hypothesis: str) -> str:
        """How a hypothesis (as printed) is discharged: the first matching pattern's text."""
        return next((how for pattern, how in self.discharges if pattern.search(hypothesis)), self.discharge_default)


@cache
def content() -> Content:
    data = tomllib.loads(CONTENT_FILE.read_text(encoding="utf-8"))
    glue = {"glue_count": str(len(GLUE_FIXES)), "glue_names": ", ".join(f.name for f in GLUE_FIXES)}
    return Content(
        by_test=tuple(data["scope"]["by_test"]),
        exclusions=tuple(data["scope"]["exclusions"]),
        logic=data["method"]["logic"],
        soundness=data["method"]["soundness"],
        tools=tuple(ToolRow(**{k: v.format(**glue) for k, v in row.items()}) for row in data["tools"]),
        discharges=tuple((re.compile(d["pattern"]), d["how"]) for d in data["discharges"]),
        discharge_default=data["discharge_default"]["how"],
        objectives=tuple(_objective(row) for row in data["objectives"]),
    )


def _objective(row: dict) -> Objective:
    objective = Objective(**row)
    if objective.check not in CHECKS:
        raise ValueError(f"{CONTENT_FILE.name}: objective {objective.objective!r} names an unknown check "
                         f"{objective.check!r} (known: {', '.join(CHECKS)})")
    return objective
