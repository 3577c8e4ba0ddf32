"""Witnesses for `∃ x, …`: terms of size at most one operation, built from what the context offers.

The grammar is the same for every goal. Numbers: the variables in context, `0`, `1` and the goal's
own numerals, combined by `+ - * / % max min` (and negation for `Int`). Lists: the list variables,
`[]`, singletons of the element variables, `replicate` and `range` of a natural variable, `++` and
`reverse`. What the goal says only orders the terms: an operation the goal uses, or the inverse of
one it uses (`/` and `%` for `*`, `-` for `+`), comes before the others, and smaller terms come first.
"""

from __future__ import annotations

import re

from prover.goals import Goal
from prover.policy.features import Features

OPERATIONS = ("+", "-", "*", "/", "%", "max", "min")
INVERSES = {"*": ("/", "%"), "/": ("*", "%"), "%": ("/", "*"), "+": ("-",), "-": ("+",), "max": ("min",),
            "min": ("max",)}


COMMUTATIVE = ("+", "*", "max", "min")


def _used(text: str) -> set[str]:
    used = {op for op in OPERATIONS[:5] if re.search(rf"\s{re.escape(op)}\s", text)}
    used |= {op for op in ("max", "min") if re.search(rf"\b{op}\b", text)}
    return used | {inv for op in list(used) for inv in INVERSES[op]}


def _combine(op: str, a: str, b: str) -> str:
    return f"{op} {a} {b}" if op.isalpha() else f"{a} {op} {b}"


def number_terms(nats: list[str], ints: list[str], numerals: list[str], text: str) -> list[tuple[float, str]]:
    """(cost, term) for numbers: atoms cost their position; an operation costs more when the goal does
    not suggest it and when its right operand is not one of the goal's numerals."""
    variables = (nats + ints)[:3]
    used = _used(text)
    out = [(0.1 * i, v) for i, v in enumerate(variables)] + [(1.0, "0"), (1.1, "1")]
    out += [(3.0 + 0.1 * i, n) for i, n in enumerate(numerals)]
    for op in OPERATIONS:
        base = 2.0 if op in used else 4.0
        lattice = op in ("max", "min")  # for these a second variable is the natural operand, not a constant
        for i, a in enumerate(variables[:2]):
            operands = [(n, 0.3 if lattice else 0.0) for n in [*numerals, "1"]]
            operands += [(b, 0.0 if lattice else 0.3) for j, b in enumerate(variables)
                         if j > i or (j < i and op not in COMMUTATIVE)]
            if op in ("+", "*"):
                operands.append((a, 0.6))  # doubling, squaring
            for b, extra in operands:
                if op in ("/", "%", "*") and b == "1":
                    continue  # the same as `a` or `0`
                out.append((base + extra + 0.2 * i, _combine(op, a, b)))
    if ints:
        neg = 2.0 if used & {"+", "-"} else 4.0  # the additive inverse
        out += [(neg + 0.2 * i, f"-{a}") for i, a in enumerate(ints[:2])]
    return out


def list_terms(lists: list[str], elements: list[str], nats: list[str]) -> list[tuple[float, str]]:
    out = [(0.1 * i, v) for i, v in enumerate(lists[:3])] + [(1.0, "[]")]
    out += [(2.0 + 0.1 * i, f"[{x}]") for i, x in enumerate(elements[:2])]
    fills = [*elements[:1], "0"]
    out += [(2.5 + 0.1 * i, f"List.replicate {n} {x}") for i, n in enumerate(nats[:2]) for x in fills]
    out += [(2.7 + 0.1 * i, f"List.range {n}") for i, n in enumerate(nats[:2])]
    out += [(2.5 + 0.1 * i, f"{a}.reverse") for i, a in enumerate(lists[:2])]
    out += [(2.8, f"{a} ++ {b}") for a in lists[:2] for b in lists[:2] if a != b]
    return out


def witnesses(goal: Goal, f: Features, limit: int = 16) -> list[str]:
    """Candidate witnesses, cheapest first."""
    nats, ints = list(f.vars_by_type.get("Nat", ())), list(f.vars_by_type.get("Int", ()))
    lists = list(f.vars_by_type.get("List", ()))
    text = " ".join([goal.target, *(h.type for h in goal.hyps)])
    numerals = [x for x in dict.fromkeys(re.findall(r"(?<![\w.])\d+\b", goal.target)) if x not in ("0", "1")][:2]
    element_types = {re.sub(r"^List\s+", "", h.type).strip("() ") for h in goal.hyps if h.type.startswith("List ")}
    elements = [v for t in element_types for v in f.vars_by_type.get(t, ())]
    scored = number_terms(nats, ints, numerals, text)
    if lists or "List" in text or any(tok in goal.target for tok in (".length", "++", "::", "[")):
        scored += list_terms(lists, elements, nats)
    ranked = sorted(scored, key=lambda t: t[0])
    return list(dict.fromkeys(term for _, term in ranked))[:limit]
