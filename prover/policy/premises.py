"""Premise selection by symbol overlap: which library and local lemmas a goal is likely to need.

A lemma's name spells what it is about (`List.length_append`, `Nat.mul_le_mul`): its tokens are
matched against the goal's symbols (identifiers, and operators read as their names: `++` append,
`≤` le). Rare tokens weigh more (inverse document frequency); the lemma's namespace must be a type
the goal mentions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from prover.goals import Goal

OPERATOR_WORDS = {"++": "append", "+": "add", "*": "mul", "-": "sub", "/": "div", "%": "mod", "≤": "le", "<": "lt",
                  "≥": "le", ">": "lt", "::": "cons", "[]": "nil", "=": "eq", "≠": "ne", "^": "pow", "∣": "dvd",
                  "¬": "not", "∧": "and", "∨": "or", "max": "max", "min": "min"}
NAMESPACES = ("Nat", "Int", "List", "Rat", "Bool", "Array", "Option", "Prod", "Fin")
_SKIP = {"", "of", "iff", "eq", "self", "left", "right", "def", "mk", "intro", "elim", "rec", "succ", "zero", "one"}


def goal_tokens(goal: Goal) -> Counter[str]:
    text = goal.target + " " + " ".join(h.type for h in goal.hyps)
    tokens: Counter[str] = Counter()
    for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_']*(?:\.[A-Za-z_][A-Za-z0-9_']*)*", text):
        for part in re.split(r"[._]", ident):
            if part:
                tokens[part.lower()] += 1
    for op, word in OPERATOR_WORDS.items():
        if op in text:
            tokens[word] += text.count(op)
    return tokens


def _looks_like_lemma(last: str) -> bool:
    """Lemma names are snake_case statements (`length_append`); type and constructor names are not."""
    return "_" in last and last[:1].islower() and not last.startswith("_") and not last.endswith("_def")


def _name_tokens(name: str) -> list[str]:
    return [p.lower() for p in re.split(r"[._]", name) if p.lower() not in _SKIP]


@dataclass
class PremiseIndex:
    names: list[str]
    tokens: list[frozenset[str]]
    idf: dict[str, float]
    local: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, library_names: list[str], local: list[str] | None = None) -> PremiseIndex:
        names = [n for n in library_names if n.split(".")[0] in NAMESPACES and "._" not in n
                 and 1 <= n.count(".") <= 2 and _looks_like_lemma(n.rsplit(".", 1)[1])]
        tokens = [frozenset(_name_tokens(n.split(".", 1)[1] if "." in n else n)) for n in names]
        df: Counter[str] = Counter(t for ts in tokens for t in ts)
        total = len(names) or 1
        idf = {t: math.log(total / (1 + c)) for t, c in df.items()}
        return cls(names, tokens, idf, list(local or []))

    def select(self, goal: Goal, k: int = 8) -> list[str]:
        want = goal_tokens(goal)
        spaces = {ns for ns in NAMESPACES if ns.lower() in want}
        scored = []
        for name, toks in zip(self.names, self.tokens, strict=True):
            if name.split(".")[0] not in spaces or not toks:
                continue
            hit = sum(self.idf.get(t, 0.0) for t in toks if t in want)
            miss = sum(self.idf.get(t, 0.0) for t in toks if t not in want)
            if hit > 0:
                scored.append((hit - 0.5 * miss, name))
        scored.sort(reverse=True)
        local = self._local(want)
        return local + [n for _, n in scored[: max(0, k - len(local))]]

    def _local(self, want: Counter[str]) -> list[str]:
        ranked = sorted(self.local, key=lambda n: -sum(1 for t in _name_tokens(n) if t in want))
        return [n for n in ranked[:3] if any(t in want for t in _name_tokens(n))]
