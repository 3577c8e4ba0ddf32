"""The shape of a statement's conclusion: its relation, the head symbol of each side, and the constants
it uses. Library lemmas get theirs from their elaborated types (decoded from the toolchain's .olean
files); goals get theirs from their printed text, with notation read back to the constants it stands
for (`+` is `HAdd.hAdd`, `xs.length` is `List.length` when the goal is about lists).

A head of `_` is a variable: it matches any head. `lit` is a numeral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.lean.expr import Expr

# relation constant -> (number of leading type/instance arguments, whether the sides are swapped)
RELATIONS = {"Eq": (1, False), "Ne": (1, False), "Iff": (0, False), "LE.le": (2, False), "LT.lt": (2, False),
             "GE.ge": (2, True), "GT.gt": (2, True), "Dvd.dvd": (2, False), "Not": (0, False),
             "And": (0, False), "Or": (0, False), "Membership.mem": (3, True)}
NORMAL = {"GE.ge": "LE.le", "GT.gt": "LT.lt"}
LITERALS = {"OfNat.ofNat", "Nat.zero", "Int.ofNat"}
CASTS = {"Nat.cast", "NatCast.natCast", "IntCast.intCast", "Int.cast"}
PLUMBING = {"OfNat.ofNat", "instOfNatNat", "Eq", "Iff"}


@dataclass(frozen=True)
class Shape:
    relation: str  # a RELATIONS key after NORMAL, or "other"
    sides: tuple[str, ...]  # head constant of each side ("_" variable, "lit" numeral, "cast" coercion)
    consts: frozenset[str]  # constants used, instances and plumbing left out


@dataclass(frozen=True)
class Lemma:
    name: str
    shape: Shape
    hyps: tuple[Shape, ...]  # explicit propositional hypotheses, in order
    explicit_data: int  # explicit arguments that are not hypotheses (an `exact L` needs them)
    lhs: frozenset[str] = frozenset()  # constants of an equation's left side: what a rewrite must find
    rhs: frozenset[str] = frozenset()  # and of its right side: what a rewrite from right to left must find


# --- lemma side: elaborated Expr ---------------------------------------------------------------------

def _spine(e: Expr) -> tuple[Expr, list[Expr]]:
    args: list[Expr] = []
    while e.kind in ("app", "mdata"):
        if e.kind == "mdata":
            e = e.args[0]
            continue
        args.append(e.args[1])
        e = e.args[0]
    return e, args[::-1]


def expr_head(e: Expr) -> str:
    fn, _ = _spine(e)
    if fn.kind == "lit":
        return "lit"
    if fn.kind != "const":
        return "_"
    name = fn.args[0]
    if name in LITERALS:
        return "lit"
    if name in CASTS:
        return "cast"
    return name


def _visible(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return not last.startswith(("inst", "_")) and name not in PLUMBING and "._" not in name


def expr_consts(e: Expr) -> frozenset[str]:
    out: set[str] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if node.kind == "const":
            name = node.args[0]
            out.add("lit" if name in LITERALS else "cast" if name in CASTS else name)
        elif node.kind == "app":
            stack += [node.args[0], node.args[1]]
        elif node.kind in ("lam", "forall"):
            stack += [node.args[1], node.args[2]]
        elif node.kind == "mdata":
            stack.append(node.args[0])
    return frozenset(n for n in out if _visible(n))


def expr_shape(e: Expr) -> Shape:
    fn, args = _spine(e)
    name = fn.args[0] if fn.kind == "const" else ""
    if name in RELATIONS:
        skip, swap = RELATIONS[name]
        sides = [expr_head(a) for a in args[skip:]]
        if swap:
            sides.reverse()
        return Shape(NORMAL.get(name, name), tuple(sides), expr_consts(e))
    return Shape("other", (expr_head(e),), expr_consts(e))


def _is_prop(dom: Expr) -> bool:
    fn, _ = _spine(dom)
    if fn.kind == "const" and (fn.args[0] in RELATIONS or fn.args[0] in ("True", "False")):
        return True
    return dom.kind == "forall" and _is_prop(dom.args[2])


def lemma_of(name: str, type_: Expr) -> Lemma:
    """Strip the statement's binders; explicit propositional binders are its hypotheses."""
    hyps: list[Shape] = []
    data = 0
    while type_.kind == "forall":
        _, dom, body, info = type_.args
        if info == "default":
            if _is_prop(dom):
                hyps.append(expr_shape(dom))
            else:
                data += 1
        type_ = body
    return Lemma(name, expr_shape(type_), tuple(hyps), data, side_consts(type_, 0), side_consts(type_, 1))


def side_consts(e: Expr, side: int) -> frozenset[str]:
    """The constants of an `=` or `↔` conclusion's left (0) or right (1) side (empty for other relations)."""
    fn, args = _spine(e)
    name = fn.args[0] if fn.kind == "const" else ""
    if name not in ("Eq", "Iff") or len(args) <= RELATIONS[name][0] + side:
        return frozenset()
    return expr_consts(args[RELATIONS[name][0] + side])


# --- goal side: printed text -------------------------------------------------------------------------

BINARY = [  # (precedence, right-associative, token, constant); lowest precedence first
    (20, False, "↔", "Iff"), (25, True, "→", "→"), (30, True, "∨", "Or"), (35, True, "∧", "And"),
    (50, False, "=", "Eq"), (50, False, "≠", "Ne"), (50, False, "≤", "LE.le"), (50, False, "<", "LT.lt"),
    (50, False, "≥", "GE.ge"), (50, False, ">", "GT.gt"), (50, False, "∣", "Dvd.dvd"),
    (50, False, "∈", "Membership.mem"),
    (65, False, "++", "HAppend.hAppend"), (65, False, "+", "HAdd.hAdd"), (65, False, "-", "HSub.hSub"),
    (67, True, "::", "List.cons"), (70, False, "*", "HMul.hMul"), (70, False, "/", "HDiv.hDiv"),
    (70, False, "%", "HMod.hMod"), (75, True, "^", "HPow.hPow"), (60, False, "&&&", "HAnd.hAnd"),
    (58, False, "^^^", "HXor.hXor"), (55, False, "|||", "HOr.hOr"), (75, False, "<<<", "HShiftLeft.hShiftLeft"),
    (75, False, ">>>", "HShiftRight.hShiftRight"), (35, False, "&&", "and"), (30, False, "||", "or"),
]
_TOKENS = sorted({t for _, _, t, _ in BINARY}, key=len, reverse=True)
_TOKEN_RE = re.compile("|".join(re.escape(t) for t in _TOKENS))
_NAMED = {"max": "Max.max", "min": "Min.min", "ite": "ite", "if": "ite", "fun": "_", "¬": "Not", "↑": "cast",
          "decide": "Decidable.decide", "id": "id"}
NAMESPACES = ("List", "Nat", "Int", "Array", "Option", "Fin", "BitVec", "String", "Bool", "Prod", "Rat", "Std")
# Conversions whose value is a natural number whatever their argument's type: what a text compares
# through them is a `Nat`, so `Nat`'s lemmas fit it rather than those of the argument's type.
_TO_NAT = re.compile(r"\bInt\.(?:natAbs|toNat)\s+(?:\([^()]*\)|[\w']+)|(?:\([^()]*\)|[\w'.]+)\.(?:natAbs|toNat)\b")


def value_types(text: str, vars_by_type: dict[str, tuple[str, ...]] | dict[str, list[str]]) -> tuple[str, ...] | None:
    """The types a text compares values of, where it converts them to `Nat` (`a.natAbs`, `(a * w).toNat`):
    `Nat`, and the types of the variables it also uses outside a conversion. None when it converts
    nothing (then every type in context counts, as before)."""
    if not _TO_NAT.search(text):
        return None
    rest, before = text, None
    while rest != before:
        before, rest = rest, _TO_NAT.sub(" § ", rest)
    outside = [t for t, vs in vars_by_type.items() if t[:1].isupper()
               and any(re.search(rf"(?<![\w.']){re.escape(v)}(?![\w'])", rest) for v in vs)]
    return tuple(dict.fromkeys(["Nat", *outside]))


def _top_level(text: str) -> list[tuple[int, str]]:
    """(position, operator) for each binary operator outside brackets and binders."""
    out: list[tuple[int, str]] = []
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and (ch in "∀∃λ" or text.startswith("fun ", i)):
            break  # a binder extends to the end
        elif depth == 0:
            m = _TOKEN_RE.match(text, i)
            if m and not (m.group(0) in ("-", "<", ">") and _part_of_other(text, i)):
                out.append((i, m.group(0)))
                i += len(m.group(0))
                continue
        i += 1
    return out


def _part_of_other(text: str, i: int) -> bool:
    """A `-` that is a prefix minus, or `<`/`>` inside `<;>` or `->`."""
    if text[i] == "-":
        before = text[:i].rstrip()
        return not before or before[-1] in "([{⟨,=<>≤≥+-*/%^∣∧∨¬↔→"
    return False


def _split(text: str) -> tuple[str, str, str] | None:
    ops = _top_level(text)
    if not ops:
        return None
    info = {t: (p, r, c) for p, r, t, c in BINARY}
    low = min(info[t][0] for _, t in ops)
    at = [(i, t) for i, t in ops if info[t][0] == low]
    i, tok = at[0] if info[at[0][1]][1] else at[-1]
    return text[:i].strip(), tok, text[i + len(tok):].strip()


class Reader:
    """Reads printed goals back into shapes, resolving `x.f` and bare names against known constants."""

    def __init__(self, known: frozenset[str] | set[str]) -> None:
        self.known = known

    def resolve(self, field: str, types: tuple[str, ...]) -> str:
        for ns in (*types, *NAMESPACES):
            if f"{ns}.{field}" in self.known:
                return f"{ns}.{field}"
        return "_"

    def head(self, text: str, types: tuple[str, ...], locals_: frozenset[str]) -> str:
        text = text.strip()
        parts = _split(text)
        if parts:
            return dict((t, c) for _, _, t, c in BINARY)[parts[1]]
        while text.startswith("(") and _closing(text, 0) == len(text) - 1:
            text = text[1:-1].strip()
            parts = _split(text)
            if parts:
                return dict((t, c) for _, _, t, c in BINARY)[parts[1]]
        if not text:
            return "_"
        if text[0] in "¬↑":
            return _NAMED[text[0]]
        if text[0] == "-":
            return "Neg.neg"
        if text[0].isdigit():
            return "lit"
        if text.startswith("["):
            return "List.nil" if text == "[]" else "List.cons"
        if text.startswith("#["):
            return "List.toArray"
        if text[0] in "∀∃":
            return "Exists" if text[0] == "∃" else "forall"
        atom = _first_atom(text)
        m = re.search(r"\.([A-Za-z_][\w']*)$", atom)
        if m and not re.fullmatch(r"[A-Z][\w']*(\.[A-Za-z_][\w']*)+", atom):
            return self.resolve(m.group(1), types)
        word = atom.split()[0] if atom.split() else atom
        if word in _NAMED:
            return _NAMED[word]
        if word in self.known:
            return word
        if word in locals_ or not word[:1].isalpha():
            return "_"
        return self.resolve(word, types)

    def consts(self, text: str, types: tuple[str, ...], present: tuple[str, ...] | None = None) -> frozenset[str]:
        out = {c for _, _, t, c in BINARY if t in text and c not in ("Eq", "Iff", "→", "HSub.hSub")}
        if re.search(r"\S\s+-\s", text):
            out.add("HSub.hSub")
        if re.search(r"(?:^|[(\s\[,])-(?=[\w(↑])", text):
            out.add("Neg.neg")
        out |= {c for w, c in _NAMED.items() if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", text) and c != "_"}
        if re.search(r"(?<![\w.])\d", text):
            out.add("lit")
        for name in re.findall(r"(?<![\w.])[A-Z][\w']*(?:\.[A-Za-z_][\w']*)+", text):
            if name in self.known:
                out.add(name)
        for field in re.findall(r"[\w')\]]\.([a-z_][\w']*)", text):
            resolved = self.resolve(field, types)
            if resolved != "_":
                out.add(resolved)
        out |= {t for t in (types if present is None else present) if t in self.known}
        return frozenset(out)

    def shape(self, text: str, types: tuple[str, ...], locals_: frozenset[str],
              present: tuple[str, ...] | None = None) -> Shape:
        """`types` resolve `x.f`; `present`, when given, are the types the text's values have (see
        `value_types`), else all of `types`."""
        text = text.strip()
        consts = self.consts(text, types, present)
        if text.startswith("¬"):
            return Shape("Not", (self.head(text[1:], types, locals_),), consts)
        parts = _split(text)
        if parts:
            lhs, tok, rhs = parts
            rel = dict((t, c) for _, _, t, c in BINARY)[tok]
            if rel in RELATIONS:
                sides = [self.head(lhs, types, locals_), self.head(rhs, types, locals_)]
                if rel in NORMAL:  # `a ≥ b` is `b ≤ a`; `a ∈ xs` already reads in the normal order
                    sides.reverse()
                return Shape(NORMAL.get(rel, rel), tuple(sides), consts)
        return Shape("other", (self.head(text, types, locals_),), consts)


def _closing(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{⟨":
            depth += 1
        elif text[i] in ")]}⟩":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _first_atom(text: str) -> str:
    """The function part of an application: the text up to the first space outside brackets, with any
    `(…).f` projections kept."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif ch == " " and depth == 0:
            return text[:i]
    return text
