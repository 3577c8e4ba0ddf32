"""Features of a goal, read from its text: what shape the target has and what the context offers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prover.goals import Goal

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'.!?]*")
_BINDER = re.compile(r"^∀\s*(.+?),")


@dataclass(frozen=True)
class Features:
    tags: frozenset[str]
    binder_names: tuple[str, ...]  # names a leading ∀ binds
    vars_by_type: dict[str, tuple[str, ...]]  # hypothesis variables by their type's head (Nat, List, ...)
    props: tuple[tuple[str, str], ...]  # (name, statement) of propositional hypotheses
    symbols: frozenset[str]


def _type_head(type_: str) -> str:
    head = type_.strip().split()[0] if type_.strip() else ""
    return head.strip("()")


def _is_prop_hyp(type_: str) -> bool:
    return bool(re.search(r"[=<>≤≥≠∧∨¬↔∃∀→∣]|True|False", type_))


def goal_features(goal: Goal) -> Features:
    target = goal.target
    tags = set()
    if target.startswith("∀"):
        tags.add("forall")
    if "→" in target:
        tags.add("implies")
    if "∃" in target:
        tags.add("exists")
    if target.startswith("∃"):
        tags.add("exists-head")
    for token, tag in (("∧", "and"), ("∨", "or"), ("↔", "iff"), ("¬", "not"), ("if ", "ite"), ("match ", "match"),
                       ("≠", "ne"), ("∣", "dvd"), ("%", "mod"), ("/", "div"), ("*", "mul"), ("+", "add"),
                       ("-", "sub"), ("^", "pow"), ("++", "append"), ("::", "cons"), ("[]", "nil")):
        if token in target:
            tags.add(tag)
    if re.search(r"(?<![<>=!≤≥])=(?!=)", target):
        tags.add("eq")
    if re.search(r"[<≤>≥]", target):
        tags.add("order")
    vars_by_type: dict[str, list[str]] = {}
    props = []
    for hyp in goal.hyps:
        if _is_prop_hyp(hyp.type):
            for name in hyp.names:
                props.append((name, hyp.type))
            for token, tag in (("∧", "hyp-and"), ("∃", "hyp-exists"), ("∨", "hyp-or"), ("↔", "hyp-iff"),
                               ("=", "hyp-eq")):
                if token in hyp.type:
                    tags.add(tag)
        else:
            head = _type_head(hyp.type)
            vars_by_type.setdefault(head, []).extend(hyp.names)
    for head in vars_by_type:
        tags.add(f"var-{head}")
    if props:
        tags.add("has-hyps")
    binder = _BINDER.match(target)
    binder_names = tuple(n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_']*", binder.group(1).split(":")[0])
                         ) if binder else ()
    symbols = frozenset(_IDENT.findall(target + " " + " ".join(h.type for h in goal.hyps)))
    for type_ in ("Nat", "Int", "Rat", "List", "Bool", "Array", "Option", "Prod"):
        if type_ in symbols or any(s.startswith(type_ + ".") for s in symbols):
            tags.add(f"uses-{type_}")
    return Features(frozenset(tags), binder_names, {k: tuple(v) for k, v in vars_by_type.items()}, tuple(props),
                    symbols)
