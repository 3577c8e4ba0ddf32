"""Premise selection by the shape of a lemma's conclusion, over the whole core library.

The index holds every theorem of `Init` and `Std` (about 50k): its conclusion's relation, the head
symbol of each side and the constants it uses, and its explicit hypotheses. It is decoded from the
toolchain's .olean files once per toolchain and cached. For a goal it proposes three kinds of premise:

- *closing*: conclusions that unify with the goal at the top (same relation, each side's head equal or a
  variable), for `apply`;
- *rewriting*: equations and iffs whose left side's head occurs in the goal, for `simp`, `rw`, `grind`;
- *folding*: equations whose right side is a compound the goal has all the parts of, for `rw [← L]`
  (`x - x / s * s` back to `x % s`, which the library knows more about);
- *forward*: lemmas whose every explicit argument is a hypothesis the context has, instantiated on
  those hypotheses (`have := L h₁ h₂`), so that library facts reach `omega` and `grind`.

Ranks weigh the constants a lemma shares with the goal by their rarity (inverse document frequency)
and charge for constants the goal does not have. The project's own earlier theorems, which have no
compiled types here, are matched by the tokens of their names.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prover.goals import Goal
from prover.policy.shapes import Lemma, Reader, Shape, lemma_of, value_types
from verifier.atomic_write import write_text_atomic

INDEX_VERSION = 3  # 2: equations' left-side constants; 3: and right-side ones
ROOTS = ("Init", "Std")  # the core library a goal about Nat, Int, List, Array, ... draws on
_SKIP_NAME = re.compile(r"\._|^_|\.match_\d|\.proof_\d|\.eq_\d+$|\.eq_def$|^Lean\.|\.Omega\.|Simproc|\.Tactic\.")
RELATION_CONSTS = {"Eq", "Iff", "LE.le", "LT.lt", "Ne", "Not", "Dvd.dvd", "And", "Or", "Membership.mem"}
OPERATOR_WORDS = {"++": "append", "+": "add", "*": "mul", "-": "sub", "/": "div", "%": "mod", "≤": "le", "<": "lt",
                  "::": "cons", "^": "pow", "∣": "dvd", "¬": "not"}  # how lemma names spell notation
TYPE_CONSTS = {"Nat", "Int", "List", "Array", "Option", "Fin", "BitVec", "Bool", "String", "Prod", "Rat"}


@dataclass(frozen=True)
class Selection:
    closing: tuple[str, ...] = ()
    rewriting: tuple[str, ...] = ()
    forward: tuple[str, ...] = ()  # applied terms, `L h₁ h₂`
    local: tuple[str, ...] = ()
    folding: tuple[str, ...] = ()  # equations to rewrite from right to left


# --- building and caching --------------------------------------------------------------------------

def _encode_shape(s: Shape) -> list:
    return [s.relation, list(s.sides), sorted(s.consts)]


def _decode_shape(d: list) -> Shape:
    return Shape(d[0], tuple(d[1]), frozenset(d[2]))


def read_library(lib: Path, pointer_bytes: int) -> list[Lemma]:
    """Every theorem of the core library's `ROOTS`, as a lemma shape. Public module files export
    theorems as axioms (their proofs are private), so both kinds count."""
    from verifier.lean.expr import CONSTANT_KINDS, ModuleReader
    from verifier.lean.olean import Olean, OleanError

    lemmas: dict[str, Lemma] = {}
    for path in sorted(lib.rglob("*.olean")):
        if path.relative_to(lib).parts[0] not in ROOTS or path.name.startswith("._"):
            continue
        try:
            reader = ModuleReader(Olean(path, pointer_size=pointer_bytes))
            for ptr in reader.o.obj(reader.root.fields[2]):
                info = reader.ctor(ptr)
                if CONSTANT_KINDS[info.tag] not in ("theorem", "axiom"):
                    continue
                cval = reader.ctor(reader.ctor(info.fields[0]).fields[0])
                name = reader.name(cval.fields[0])
                if not _SKIP_NAME.search(name) and name not in lemmas:
                    lemmas[name] = lemma_of(name, reader.expr(cval.fields[2]))
        except (OleanError, IndexError, AttributeError):
            continue  # an unreadable file only leaves its lemmas out
    return list(lemmas.values())


def library_lemmas(identity: str, lib: Path, pointer_bytes: int, cache: Path) -> list[Lemma]:
    """The library's lemma shapes, from the per-toolchain cache file or built and cached."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    path = cache / "index" / f"shapes-v{INDEX_VERSION}-{digest}.json"
    try:
        rows = json.loads(path.read_text())
        return [Lemma(r[0], _decode_shape(r[1]), tuple(_decode_shape(h) for h in r[2]), r[3], frozenset(r[4]),
                      frozenset(r[5])) for r in rows]
    except (OSError, ValueError, IndexError, TypeError):
        pass
    lemmas = read_library(lib, pointer_bytes)
    rows = [[lm.name, _encode_shape(lm.shape), [_encode_shape(h) for h in lm.hyps], lm.explicit_data,
             sorted(lm.lhs), sorted(lm.rhs)] for lm in lemmas]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(rows, separators=(",", ":")))
    except OSError:
        pass  # a read-only cache only costs rebuilding next time
    return lemmas


# --- selection --------------------------------------------------------------------------------------

def _core(consts: Iterable[str]) -> frozenset[str]:
    """The operations of a side: relations, types, numerals and coercions left out."""
    return frozenset(consts) - RELATION_CONSTS - TYPE_CONSTS - {"lit", "cast"}


def _compatible(lemma_side: str, goal_side: str) -> bool:
    return lemma_side == "_" or lemma_side == goal_side


@dataclass
class PremiseIndex:
    lemmas: list[Lemma]
    local: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_top: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_lhs: dict[str, list[int]] = defaultdict(list)
        self.by_hyp: dict[str, list[int]] = defaultdict(list)
        self.by_rhs: dict[str, list[int]] = defaultdict(list)
        df: Counter[str] = Counter()
        for i, lm in enumerate(self.lemmas):
            s = lm.shape
            df.update(s.consts)
            self.by_top[(s.relation, s.sides[0] if s.sides else "_")].append(i)
            if s.relation in ("Eq", "Iff") and s.sides[0] not in ("_", "lit"):
                self.by_lhs[s.sides[0]].append(i)
            if lm.hyps and lm.explicit_data == 0 and len(lm.hyps) <= 2:
                self.by_hyp[lm.hyps[0].relation].append(i)
        total = len(self.lemmas) or 1
        self.idf = {c: math.log(total / (1 + n)) for c, n in df.items()}
        for i, lm in enumerate(self.lemmas):
            right, left = _core(lm.rhs), _core(lm.lhs)
            if lm.shape.relation == "Eq" and len(right) >= 2 and len(right) > len(left):  # it makes the goal smaller
                self.by_rhs[min(right, key=lambda c: (-self.idf.get(c, 0.0), c))].append(i)
        self.reader = Reader(frozenset(df))

    def with_local(self, local: list[str]) -> PremiseIndex:
        """The same library index with another file's earlier theorems (shares the buckets)."""
        other = object.__new__(PremiseIndex)
        other.__dict__.update(self.__dict__)
        other.local = list(local)
        return other

    def _rarity(self, consts: Iterable[str]) -> float:
        return sum(self.idf.get(c, 0.0) for c in consts)

    def _fit(self, lemma: Shape, goal: Shape) -> float:
        """Shared constants by rarity, less the lemma's constants the goal lacks."""
        own = lemma.consts - RELATION_CONSTS
        other_types = self._rarity((own & TYPE_CONSTS) - goal.consts)
        return self._overlap(own, goal.consts) - 0.3 * other_types

    def _overlap(self, own: frozenset[str], goal: frozenset[str]) -> float:
        """The rarity of the constants `own` shares with `goal`, less 0.7 times that of those it lacks."""
        return self._rarity(own & goal) - 0.7 * self._rarity(own - goal - TYPE_CONSTS)

    def goal_shapes(self, goal: Goal) -> tuple[Shape, list[tuple[str, Shape]]]:
        from prover.policy.features import goal_features

        f = goal_features(goal)
        types = tuple(t for t in f.vars_by_type if t[:1].isupper())
        types += tuple(t for t in TYPE_CONSTS if f"uses-{t}" in f.tags and t not in types)
        locals_ = frozenset(n for vs in f.vars_by_type.values() for n in vs)
        def read(text: str) -> Shape:
            return self.reader.shape(text, types, locals_, value_types(text, f.vars_by_type))

        hyps = [(name, read(type_)) for name, type_ in f.props]
        hyps = [(name, s) for name, s in hyps if s.relation != "other"]  # `f : Nat → Nat` is data
        return read(goal.target), hyps

    def closing(self, goal: Shape, k: int) -> list[str]:
        if not goal.sides:
            return []
        pool = self.by_top.get((goal.relation, goal.sides[0]), []) + self.by_top.get((goal.relation, "_"), [])
        scored = []
        for i in pool:
            s = self.lemmas[i].shape
            if len(s.sides) != len(goal.sides) or not all(map(_compatible, s.sides, goal.sides)):
                continue
            exact = sum(2.0 for a, b in zip(s.sides, goal.sides, strict=True) if a == b and a != "_")
            if exact == 0:
                continue  # a lemma of all variables (`le_refl`) fits every goal of its relation
            scored.append((exact + self._fit(s, goal) - 0.3 * len(self.lemmas[i].hyps), self.lemmas[i].name))
        return [n for _, n in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]

    def rewriting(self, goal: Shape, hyps: list[tuple[str, Shape]], k: int) -> list[str]:
        consts = goal.consts.union(*(h.consts for _, h in hyps))
        seen: set[int] = set()
        scored = []
        for c in _core(consts):
            for i in self.by_lhs.get(c, []):
                if i in seen:
                    continue
                seen.add(i)
                lm = self.lemmas[i]
                scored.append((self._rewrite_fit(lm, consts) - 0.5 * len(lm.hyps), lm.name))
        return [n for _, n in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]

    def folding(self, goal: Shape, k: int) -> list[str]:
        """Equations whose right side's constants are all in the goal, by how rare those are; a
        conditional one costs its side goals, and what folding brings in costs a little."""
        consts, types = _core(goal.consts), goal.consts & TYPE_CONSTS
        scored = []
        for c in consts:
            for i in self.by_rhs.get(c, []):
                lm = self.lemmas[i]
                right = _core(lm.rhs)
                if right <= consts and lm.shape.consts & TYPE_CONSTS <= types:
                    brought = self._rarity(_core(lm.lhs) - consts)
                    scored.append((self._rarity(right) - 0.2 * brought - 0.5 * len(lm.hyps), lm.name))
        return [n for _, n in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]

    def _rewrite_fit(self, lm: Lemma, consts: frozenset[str]) -> float:
        """A rewrite applies where its left side occurs: score the left side's constants as `_fit` does,
        and charge only lightly for what the right side brings in (`List.range_succ` brings `++`, which
        is the point of using it)."""
        left = (lm.lhs or lm.shape.consts) - RELATION_CONSTS
        if "Nat.succ" in left:  # `n.succ` matches a printed `n + 1` (Lean unifies the two when rewriting)
            left = left - {"Nat.succ"} | {"HAdd.hAdd", "lit"}
        whole = lm.shape.consts - RELATION_CONSTS - {"Nat.succ"}
        brought = self._rarity(whole - left - consts - TYPE_CONSTS)
        return self._overlap(left, consts) - 0.2 * brought

    def forward(self, goal: Shape, hyps: list[tuple[str, Shape]], k: int) -> list[str]:
        if not hyps:
            return []
        scored = []
        for rel in {h.relation for _, h in hyps}:
            for i in self.by_hyp.get(rel, []):
                lm = self.lemmas[i]
                for combo in itertools.product(hyps, repeat=len(lm.hyps)):
                    if not all(p.relation == h.relation and len(p.sides) == len(h.sides)
                               and all(map(_compatible, p.sides, h.sides)) for p, (_, h) in zip(lm.hyps, combo,
                                                                                                 strict=True)):
                        continue
                    if len({n for n, _ in combo}) < len(combo) and len(hyps) > 1:
                        continue
                    fit = self._fit(lm.shape, goal) + (1.0 if lm.shape.relation == goal.relation else 0.0)
                    scored.append((fit, f"{lm.name} {' '.join(n for n, _ in combo)}"))
        return [t for _, t in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]

    def select(self, goal: Goal, k: int = 6) -> Selection:
        shape, hyps = self.goal_shapes(goal)
        return Selection(tuple(self.closing(shape, k)), tuple(self.rewriting(shape, hyps, k)),
                         tuple(self.forward(shape, hyps, k)), tuple(self._local(goal)), tuple(self.folding(shape, k)))

    def _local(self, goal: Goal) -> list[str]:
        """The file's earlier theorems whose name shares a token with the goal's text."""
        text = goal.target + " " + " ".join(h.type for h in goal.hyps)
        words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", text)}
        words |= {w for op, w in OPERATOR_WORDS.items() if op in text}

        def overlap(name: str) -> int:
            return sum(1 for t in re.split(r"[._]", name.lower()) if t and t in words)

        ranked = sorted(self.local, key=lambda n: -overlap(n))
        return [n for n in ranked[:3] if overlap(n)]
