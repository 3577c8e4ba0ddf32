"""Witness sweeps: many closing witnesses for an `∃` goal tried in one Lean call.

A goal `∃ x, P x` (or `∃ x y, P x y`) that `omega` closes once the right witness is in place needs the
search to pick that witness among a dozen: one tree edge each, so two binders cost a dozen squared.
A sweep is the single tactic `first | exact ⟨w₁, by omega⟩ | exact ⟨w₂, by omega⟩ | …` over the same
witness grammar (`prover.policy.witnesses`), pairs in order of their combined rank. Each failing
`omega` costs milliseconds, so a whole sweep costs about one ordinary call. When a sweep closes a goal
the search narrows it to the one alternative that did (`Search.narrow`), so scripts stay readable.
"""

from __future__ import annotations

import re

from prover.goals import Goal
from prover.policy.features import Features
from prover.policy.witnesses import witnesses

SINGLE = 16  # witnesses swept for one binder
PAIRED = 12  # per binder for two: up to 144 pairs
CHUNK = 24  # alternatives per sweep: about one call's cost, and about five calls to narrow
_BINDERS = re.compile(r"^∃\s*(.+?),\s*")


def _group_size(group: str) -> int:
    """How many variables one `∃` binds: `x y`, `(x y : Nat)`, `x y : Nat`, `(x : Nat) (y : Nat)`, and
    `x < n` (a binder predicate: the bound is part of the proof, not another variable)."""
    names = re.sub(r":[^()]*", " ", re.split(r"[∈∉<>≤≥≠⊆]", group)[0])
    return len([w for w in re.split(r"[\s()]+", names) if w])


def exists_arity(target: str) -> int:
    """The number of leading `∃` binders of a target (nested `∃ x, ∃ y, …` counted together)."""
    count, rest = 0, target.strip()
    while (m := _BINDERS.match(rest)) is not None:
        count += _group_size(m.group(1))
        rest = rest[m.end():].lstrip()
    return count


def witness_sweeps(goal: Goal, f: Features) -> list[tuple[str, tuple[str, ...], float]]:
    """(tactic, alternatives, weight) for an `∃` goal of one or two binders, in chunks of `CHUNK`
    alternatives, the likelier first; none for other goals."""
    arity = exists_arity(goal.target)
    if arity == 1:
        terms = witnesses(goal, f, SINGLE)
        alts = tuple(f"exact ⟨{w}, by omega⟩" for w in terms)
    elif arity == 2:
        terms = witnesses(goal, f, PAIRED)
        order = sorted((i + j, i, j) for i in range(len(terms)) for j in range(len(terms)))
        alts = tuple(f"exact ⟨{terms[i]}, {terms[j]}, by omega⟩" for _, i, j in order)
    else:
        return []
    chunks = [alts[i: i + CHUNK] for i in range(0, len(alts), CHUNK)]
    return [(sweep(chunk), chunk, 2.0 * 0.8 ** k) for k, chunk in enumerate(chunks)]


def sweep(alternatives: tuple[str, ...] | list[str]) -> str:
    """One tactic trying each alternative in order (a single line, as the session requires)."""
    return alternatives[0] if len(alternatives) == 1 else "first | " + " | ".join(alternatives)
