"""Candidate tactics for a goal, from its features, with prior probabilities.

Closers (omega, simp, simp_all, decide, grind, ...) always; structure from the goal's shape: `intro` on
binders, `induction`/`cases` on each variable (generalizing the others), witnesses for `∃` built
from the terms in context, `constructor` on `∧`/`↔`, destructuring of hypotheses, `split` on
`if`/`match`, `unfold` of local definitions; and `simp [..]`/`grind [..]`/`rw [..]` with premises.
Never `exact?` or `try?` (they exhaust memory on the portable Lean).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prover.goals import Goal
from prover.policy.features import Features, goal_features
from prover.policy.premises import PremiseIndex, Selection
from prover.policy.priors import Priors, tactic_kind
from prover.policy.sweeps import witness_sweeps
from prover.policy.witnesses import witnesses

CLOSERS = ("omega", "simp", "simp_all", "decide", "grind")
CHEAP_CLOSERS = ("rfl", "trivial", "assumption", "contradiction")
INDUCTIVE = ("Nat", "List")
CASES = ("Option", "Bool", "Prod", "Sum")  # no recursion: a case split, never an induction


@dataclass(frozen=True)
class Candidate:
    tactic: str
    prior: float
    alternatives: tuple[str, ...] = ()  # a sweep's alternatives, in the order it tries them


def _intro_names(f: Features, goal: Goal) -> list[str]:
    taken = {n for h in goal.hyps for n in h.names}
    names = [n for n in f.binder_names if n not in taken]
    return names


def _defs_in(goal: Goal, local_defs: list[str]) -> list[str]:
    """Local definitions the goal mentions (short names)."""
    text = goal.target + " " + " ".join(h.type for h in goal.hyps)
    return [n.split(".")[-1] for n in local_defs if re.search(rf"(?<![\w.]){re.escape(n.split('.')[-1])}\b", text)]


def structural(goal: Goal, f: Features, local_defs: list[str]) -> list[tuple[str, float]]:
    """Shape-driven tactics with rule weights (multiplied by learned priors afterwards)."""
    out: list[tuple[str, float]] = []
    t = f.tags
    if "forall" in t or "implies" in t:
        names = _intro_names(f, goal)
        out.append((f"intro {' '.join(names)}" if names else "intro", 3.0))
        out.append(("intros", 1.0))
        out += [("intros; omega", 0.8), ("intros; simp_all", 0.6)]
    if "exists-head" in t:
        for i, w in enumerate(witnesses(goal, f)):
            rank = 0.95 ** i  # earlier witnesses are likelier
            out.append((f"refine ⟨{w}, ?_⟩", 1.2 * rank))
            out.append((f"exact ⟨{w}, by omega⟩", 0.9 * rank))
            out.append((f"exact ⟨{w}, by simp_all⟩", 0.5 * rank))
        out.append(("refine ⟨_, ?_⟩", 0.5))
    if "and" in t or "iff" in t:
        out.append(("constructor", 2.5))
        out += [("constructor <;> omega", 1.2), ("constructor <;> simp_all", 1.0)]
    if "or" in t:
        out += [("left", 0.8), ("right", 0.8)]
    if "ite" in t or "match" in t:
        out.append(("split", 2.0))
        out += [("split <;> simp_all", 1.0), ("split <;> omega", 1.0)]
    for name, type_ in f.props:
        if "∧" in type_ or "∃" in type_:
            out.append((f"obtain ⟨{name}_1, {name}_2⟩ := {name}", 1.5))
        if "∨" in type_:
            out.append((f"rcases {name} with {name} | {name}", 1.5))
        if "↔" in type_:
            out.append((f"rw [{name}]", 0.8))
        if re.match(r"^\S+ = ", type_) and "hyp-eq" in t:
            out.append((f"subst {name}", 0.4))
        if "if " in type_:
            out.append((f"split at {name}", 0.8))
    variables = [(v, head) for head in INDUCTIVE for v in f.vars_by_type.get(head, ())]
    others = [v for head, vs in f.vars_by_type.items() for v in vs]
    defs_used = _defs_in(goal, local_defs)
    simp_set = f"simp_all [{', '.join(defs_used)}]" if defs_used else "simp_all"
    for v, head in variables:
        if re.search(rf"\b{re.escape(v)}\b", goal.target):
            out.append((f"induction {v}", 2.0 if head == "List" else 1.5))
            out.append((f"induction {v} <;> {simp_set}", 1.2))
            out.append((f"induction {v} <;> {simp_set} <;> omega", 0.9))
            rest = [o for o in others if o != v and re.search(rf"\b{re.escape(o)}\b", goal.target)]
            if rest:
                out.append((f"induction {v} generalizing {' '.join(rest)}", 1.2))
                out.append((f"induction {v} generalizing {' '.join(rest)} <;> {simp_set}", 0.8))
            out.append((f"cases {v}", 1.0))
            out.append((f"cases {v} <;> {simp_set}", 0.6))
    text = " ".join([goal.target, *(ty for _, ty in f.props)])
    for v in (v for head in CASES for v in f.vars_by_type.get(head, ())):
        if re.search(rf"(?<![\w.]){re.escape(v)}\b", text):
            out += [(f"cases {v}", 1.0), (f"cases {v} <;> {simp_set}", 1.2)]
    out += recursion(goal, defs_used, simp_set)
    out += sign_splits(goal, f)
    out += bit_masks(goal)
    used_defs = defs_used
    for name in used_defs:
        out.append((f"unfold {name}", 1.2))
    if used_defs:
        defs = ", ".join(used_defs)
        out += [(f"simp [{defs}]", 1.8), (f"simp [{defs}] <;> omega", 1.5), (f"simp_all [{defs}]", 1.2),
                (f"grind [{defs}]", 1.2), (f"simp only [{defs}]", 0.8)]
    eq_hyps = [n for n, ty in f.props if "=" in ty or ty.startswith("∀")]
    for name in eq_hyps[:3]:
        out += [(f"rw [{name}]", 1.0), (f"simp [{name}]", 0.8)]
        if used_defs:
            out.append((f"simp [{', '.join(used_defs)}, {name}] <;> omega", 1.4))
            out.append((f"simp [{', '.join(used_defs)}, {name}]", 1.4))
    for kind in ("Nat", "Int"):
        pair = [v for v in f.vars_by_type.get(kind, ()) if re.search(rf"\b{re.escape(v)}\b", goal.target)][:2]
        if len(pair) == 2 and ("order" in t or "eq" in t):
            split = f"rcases {kind}.le_total {pair[0]} {pair[1]} with h | h"
            out += [(split, 0.8), (f"{split} <;> grind", 0.7), (f"{split} <;> omega", 0.5)]
    for name, type_ in f.props:
        if re.fullmatch(r"\w+ ≤ \w+", type_) and "var-Nat" in t:
            out.append((f"obtain ⟨d, rfl⟩ := Nat.exists_eq_add_of_le {name}", 0.6))
    if "has-hyps" in t:
        out.append(("simp at *", 0.5))
    out += [("exfalso", 0.2), ("by_contra h", 0.2)] if "not" in t else []
    return out


def recursion(goal: Goal, defs_used: list[str], simp_set: str) -> list[tuple[str, float]]:
    """Functional induction on each local definition the target applies: its cases and hypotheses follow
    the definition's own recursion (two steps at a time, several arguments), where `induction` on a
    variable does not."""
    out: list[tuple[str, float]] = []
    defs = ", ".join(defs_used)
    for name in defs_used:
        if not re.search(rf"(?<![\w.]){re.escape(name)}\s+[\w(\[]", goal.target):
            continue  # not applied in the target: nothing to induct along
        out += [(f"fun_induction {name}", 1.4), (f"fun_induction {name} <;> {simp_set}", 1.2),
                (f"fun_induction {name} <;> {simp_set} <;> omega", 1.0),
                (f"fun_induction {name} <;> grind [{defs}]", 0.9)]
    return out


def sign_splits(goal: Goal, f: Features) -> list[tuple[str, float]]:
    """A case split on the sign of an integer the target multiplies: products of signed factors are
    ordered only once their signs are known (`Int.mul_nonneg` and kin then apply, by premise)."""
    if "order" not in f.tags or not {"mul", "pow"} & f.tags:
        return []
    ints = [v for v in f.vars_by_type.get("Int", ()) if re.search(rf"\b{re.escape(v)}\b", goal.target)][:2]
    return [(f"rcases Int.le_total 0 {v} with h | h", 0.7) for v in ints]


def bit_masks(goal: Goal) -> list[tuple[str, float]]:
    """A literal mask `x &&& m` with m = 2^k - 1 is `x % 2^k`; Lean's lemma states it for `2 ^ k - 1`, so the
    numeral is first restated in that form."""
    out: list[tuple[str, float]] = []
    for literal in dict.fromkeys(re.findall(r"&&&\s*(\d+)\b", goal.target)):
        m = int(literal)
        if m >= 1 and (m + 1) & m == 0:
            k = (m + 1).bit_length() - 1
            restate = f"show ({m} : Nat) = 2 ^ {k} - 1 from rfl"
            out += [(f"rw [{restate}, Nat.and_two_pow_sub_one_eq_mod]", 1.0), (f"rw [{restate}]", 0.6)]
    return out


def premise_tactics(sel: Selection) -> list[tuple[str, float]]:
    """Closing lemmas by `apply`, rewriting lemmas (and the file's own facts) through `simp`, `rw` and
    `grind`, and lemmas instantiated on hypotheses as `have`, alone or followed by arithmetic."""
    out: list[tuple[str, float]] = []
    for i, name in enumerate(sel.closing[:4]):
        out += [(f"apply {name}", 0.9 * 0.85 ** i), (f"rw [{name}]", 0.4 * 0.85 ** i)]
    rewrites = list(dict.fromkeys([*sel.local, *sel.rewriting]))
    if rewrites:
        out += [(f"simp [{', '.join(rewrites[:4])}]", 1.2), (f"grind [{', '.join(rewrites[:3])}]", 1.0),
                (f"simp_all [{', '.join(rewrites[:4])}]", 0.8)]
    for i, name in enumerate(rewrites[:4]):
        out.append((f"rw [{name}]", 0.5 * 0.85 ** i))
    for i, name in enumerate(sel.folding[:4]):
        out.append((f"rw [← {name}]", 0.5 * 0.85 ** i))
    for i, term in enumerate(sel.forward[:4]):
        rank = 0.85 ** i
        out += [(f"have := {term}", 0.7 * rank), (f"have := {term}; omega", 0.7 * rank),
                (f"have := {term}; grind", 0.5 * rank)]
    return out


class Policy:
    """Turns a goal into ranked candidate tactics."""

    def __init__(self, priors: Priors, premises: PremiseIndex | None = None, local_defs: list[str] | None = None,
                 premise_count: int = 6) -> None:
        self.priors = priors
        self.premises = premises
        self.local_defs = local_defs or []
        self.premise_count = premise_count

    def candidates(self, goal: Goal, root: bool = False) -> list[Candidate]:
        f = goal_features(goal)
        weighted: dict[str, float] = {}

        def add(tactic: str, weight: float) -> None:
            if tactic not in weighted:
                weighted[tactic] = weight * self.priors.score(tactic_kind(tactic), f.tags)

        for closer in CLOSERS:
            add(closer, 4.0 if root else 2.0)
        for closer in CHEAP_CLOSERS:
            add(closer, 0.6)
        for tactic, weight in structural(goal, f, self.local_defs):
            add(tactic, weight)
        sweeps: dict[str, tuple[str, ...]] = {}
        for tactic, alts, weight in witness_sweeps(goal, f):
            add(tactic, weight)
            sweeps[tactic] = alts
        if self.premises is not None:
            for tactic, weight in premise_tactics(self.premises.select(goal, self.premise_count)):
                add(tactic, weight)
        total = sum(weighted.values()) or 1.0
        ranked = sorted(weighted.items(), key=lambda kv: -kv[1])
        return [Candidate(t, w / total, sweeps.get(t, ())) for t, w in ranked]
