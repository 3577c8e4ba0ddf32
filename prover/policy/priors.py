"""Priors over tactic kinds, learned without neural weights: how often each kind of tactic was used,
overall and on goals with each feature. Seeded from the proofs already in the project and grown
with every proof the prover finds; kept in a JSON file.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from verifier.atomic_write import write_text_atomic


def learned_file() -> Path:
    """Where `quantproof prove` keeps what it learned: the user's cache, never the source tree."""
    from verifier.lean.toolchain.cache import cache_root

    return cache_root() / "prover" / "priors.json"
_TACTIC_LINE = re.compile(r"^\s*(?:·\s*)?([a-z_][a-zA-Z_!?]*)")
KNOWN = {"intro", "intros", "omega", "simp", "simp_all", "decide", "grind", "constructor", "refine", "exact", "apply",
         "induction", "cases", "rcases", "obtain", "rw", "unfold", "split", "by_cases", "rfl", "trivial", "exists",
         "subst", "rename_i", "have", "show", "calc", "ext", "funext", "contradiction", "exfalso", "push_cast",
         "norm_cast", "exact_mod_cast", "generalize", "specialize", "use", "left", "right", "injection", "nofun"}


# same family: one prior for both. A witness sweep (`first | exact ⟨w, by omega⟩ | …`) is what `omega`
# is for goals with `∃` in front, which `omega` alone never closes.
ALIASES = {"fun_induction": "induction", "fun_cases": "cases", "first": "omega"}


def tactic_kind(tactic: str) -> str:
    match = _TACTIC_LINE.match(tactic)
    return ALIASES.get(match.group(1), match.group(1)) if match else "other"


@dataclass
class Priors:
    total: Counter[str] = field(default_factory=Counter)
    by_feature: dict[str, Counter[str]] = field(default_factory=dict)

    def score(self, kind: str, features: frozenset[str]) -> float:
        """Relative weight of a tactic kind on a goal with these features (add-one smoothed)."""
        grand = sum(self.total.values()) + len(KNOWN)
        base = (self.total[kind] + 1) / grand
        lift = 0.0
        for feature in features:
            seen = self.by_feature.get(feature)
            if seen:
                lift += math.log((seen[kind] + 1) / (sum(seen.values()) + len(KNOWN)) / base)
        return base * math.exp(0.3 * lift)

    def learn(self, kind: str, features: frozenset[str], weight: int = 1) -> None:
        self.total[kind] += weight
        for feature in features:
            self.by_feature.setdefault(feature, Counter())[kind] += weight

    def to_json(self) -> dict:
        return {"version": 1, "total": dict(self.total), "by_feature": {f: dict(c) for f, c in self.by_feature.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Priors:
        return cls(Counter(data.get("total", {})), {f: Counter(c) for f, c in data.get("by_feature", {}).items()})


def seed_from_sources(paths: list[Path]) -> Priors:
    """Count the tactic kinds the project's own proofs use (lines inside `by` blocks)."""
    priors = Priors()
    for path in paths:
        in_proof = False
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if ":= by" in line or stripped == "by":
                in_proof = True
                tail = line.split(":= by", 1)[-1].strip()
                if tail:
                    priors.learn(tactic_kind(tail), frozenset({"any"}))
                continue
            if in_proof and line.startswith((" ", "\t")) and stripped and not stripped.startswith("--"):
                kind = tactic_kind(stripped)
                if kind in KNOWN:
                    priors.learn(kind, frozenset({"any"}))
            elif not line.startswith((" ", "\t")):
                in_proof = False
    return priors


def load_priors(path: Path | None = None) -> Priors:
    try:
        return Priors.from_json(json.loads((path or learned_file()).read_text()))
    except (OSError, ValueError):
        return Priors()


def save_priors(priors: Priors, path: Path | None = None) -> None:
    path = path or learned_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(priors.to_json(), indent=1, sort_keys=True))
