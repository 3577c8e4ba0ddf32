"""Lean's pretty-printed goals, parsed: case tag, hypotheses, target; and their inaccessible names.

Lean prints goals separated by blank lines, each as an optional `case tag` line, hypothesis lines
`x y : T` (long types continue on indented lines) and `⊢ target`. Names Lean made inaccessible
(`head✝`, `tail✝¹`) cannot be referred to by a tactic, so each goal gets fresh names for them, which
`rename_i` installs before any tactic runs on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INACCESSIBLE = re.compile(r"[^\s,:()\[\]{}⟨⟩]+✝[⁰¹²³⁴⁵⁶⁷⁸⁹]*")


@dataclass(frozen=True)
class Hyp:
    names: tuple[str, ...]
    type: str


@dataclass(frozen=True)
class Goal:
    tag: str | None
    hyps: tuple[Hyp, ...]
    target: str

    def render(self) -> str:
        lines = [f"case {self.tag}"] if self.tag else []
        lines += [f"{' '.join(h.names)} : {h.type}" for h in self.hyps]
        lines.append(f"⊢ {self.target}")
        return "\n".join(lines)

    @property
    def inaccessible(self) -> list[str]:
        """Inaccessible hypothesis names, in context order (the order `rename_i` assigns)."""
        return [n for h in self.hyps for n in h.names if "✝" in n]

    def with_fresh_names(self) -> tuple[Goal, list[str]]:
        """This goal with inaccessible names replaced by fresh ones, and those names for `rename_i`."""
        taken = {n for h in self.hyps for n in h.names if "✝" not in n}
        mapping: dict[str, str] = {}
        for old in self.inaccessible:
            base = re.sub(r"✝.*$", "", old).rstrip("_") or "x"
            base = re.sub(r"\W", "", base) or "x"
            fresh, k = base, 1
            while fresh in taken:
                fresh, k = f"{base}{k}", k + 1
            taken.add(fresh)
            mapping[old] = fresh
        if not mapping:
            return self, []

        def sub(text: str) -> str:
            return _INACCESSIBLE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)

        hyps = tuple(Hyp(tuple(mapping.get(n, n) for n in h.names), sub(h.type)) for h in self.hyps)
        return Goal(self.tag, hyps, sub(self.target)), list(mapping.values())


def parse_goals(text: str) -> list[Goal]:
    """Goals from an `unsolved goals` message (the leading line already removed or not)."""
    body = text.split("\n", 1)[1] if text.startswith("unsolved goals") else text
    goals = []
    for block in re.split(r"\n\s*\n", body.strip()):
        if block.strip():
            goals.append(_parse_goal(block))
    return goals


def _parse_goal(block: str) -> Goal:
    tag = None
    entries: list[str] = []
    for line in block.split("\n"):
        if line.startswith("case ") and not entries and tag is None:
            tag = line[5:].strip()
        elif line.startswith((" ", "\t")) and entries:
            entries[-1] += " " + line.strip()
        else:
            entries.append(line.rstrip())
    hyps, target = [], ""
    for entry in entries:
        if entry.startswith("⊢"):
            target = entry[1:].strip()
        elif " : " in entry:
            names, type_ = entry.split(" : ", 1)
            hyps.append(Hyp(tuple(names.split()), type_.strip()))
        elif target:
            target += " " + entry.strip()
    return Goal(tag, tuple(hyps), target)


def normalize(goal: Goal) -> str:
    """Transposition key: the goal's hypotheses and target with whitespace canonicalised (tag ignored)."""
    return " ; ".join([*(f"{' '.join(h.names)} : {' '.join(h.type.split())}" for h in goal.hyps),
                       "⊢ " + " ".join(goal.target.split())])
