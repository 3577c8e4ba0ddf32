"""Print a decoded Lean `Expr` the way a reviewer reads Lean: binders, infix operators, numerals,
casts, explicit arguments only (implicit and instance arguments are read off the head's type)."""

from __future__ import annotations

from collections.abc import Callable

from verifier.lean.expr import Constant, Expr, children

# head constant -> (number of leading implicit/instance args to drop, operator, precedence)
INFIX = {
    "HAdd.hAdd": (4, "+", 65), "HSub.hSub": (4, "-", 65), "HMul.hMul": (4, "*", 70), "HDiv.hDiv": (4, "/", 70),
    "HMod.hMod": (4, "%", 70), "HPow.hPow": (4, "^", 75), "HAppend.hAppend": (4, "++", 65),
    "HAnd.hAnd": (4, "&&&", 58), "HOr.hOr": (4, "|||", 55), "HXor.hXor": (4, "^^^", 58),
    "HShiftRight.hShiftRight": (4, ">>>", 75), "HShiftLeft.hShiftLeft": (4, "<<<", 75),
    "LE.le": (2, "≤", 50), "LT.lt": (2, "<", 50), "GE.ge": (2, "≥", 50), "GT.gt": (2, ">", 50),
    "Eq": (1, "=", 50), "Ne": (1, "≠", 50), "HEq": (2, "≍", 50), "Iff": (0, "↔", 20), "And": (0, "∧", 35),
    "Or": (0, "∨", 30), "Dvd.dvd": (2, "∣", 50), "Function.comp": (3, "∘", 90),
}
CASTS = {"Nat.cast", "Int.cast", "NatCast.natCast", "IntCast.intCast", "Int.ofNat"}
MAX_PREC = 1024


def has_loose(e: Expr, depth: int = 0) -> bool:
    """Whether bound variable `depth` occurs free in `e` (iterative: proof terms are deep)."""
    stack = [(e, depth)]
    seen: set[tuple[int, int]] = set()
    while stack:
        node, d = stack.pop()
        if (id(node), d) in seen:
            continue
        seen.add((id(node), d))
        if node.kind == "bvar" and node.args[0] == d:
            return True
        stack += [(child, d + binders) for child, binders in children(node)]
    return False


def app_spine(e: Expr) -> tuple[Expr, list[Expr]]:
    args = []
    while e.kind == "app":
        args.append(e.args[1])
        e = e.args[0]
    return e, list(reversed(args))


class Printer:
    """`lookup` gives a constant's declaration (for its binder kinds); `strip` prefixes are dropped."""

    def __init__(self, lookup: Callable[[str], Constant | None], strip: tuple[str, ...] = ()) -> None:
        self.lookup = lookup
        self.strip = strip
        self._explicit: dict[str, tuple[bool, ...]] = {}

    def short(self, name: str) -> str:
        for prefix in self.strip:
            if name.startswith(prefix + "."):
                return name[len(prefix) + 1:]
        return name

    def explicit_mask(self, head: str) -> tuple[bool, ...]:
        if head not in self._explicit:
            const = self.lookup(head)
            mask: list[bool] = []
            t = const.type if const else None
            while t is not None and t.kind == "forall":
                mask.append(t.args[3] == "default")
                t = t.args[2]
            self._explicit[head] = tuple(mask)
        return self._explicit[head]

    def statement(self, e: Expr) -> str:
        return self.pp(e, [], 0)

    def pp(self, e: Expr, ctx: list[str], prec: int) -> str:
        k = e.kind
        if k == "mdata":
            return self.pp(e.args[0], ctx, prec)
        if k == "bvar":
            i = e.args[0]
            return ctx[-1 - i] if i < len(ctx) else f"#{i}"
        if k == "const":
            return self.short(e.args[0])
        if k == "sort":
            level = e.args[0]
            return "Prop" if level == "0" else "Type" if level == "1" else f"Sort {level}"
        if k == "lit":
            v = e.args[0]
            return repr(v) if isinstance(v, str) else str(v)
        if k in ("fvar", "mvar"):
            return f"?{e.args[0]}"
        if k == "proj":
            return f"{self.pp(e.args[2], ctx, MAX_PREC)}.{e.args[1] + 1}"
        if k == "forall":  # arrows and ∀ bind as far right as they can: parenthesise only as an operand
            return self._paren(self._forall(e, ctx), prec > 25)
        if k == "lam":
            return self._paren(self._lambda(e, ctx), prec > 0)
        if k == "let":
            name = self._fresh(e.args[0], ctx)
            body = self.pp(e.args[3], [*ctx, name], 0)
            return self._paren(f"let {name} := {self.pp(e.args[2], ctx, 0)}; {body}", prec > 0)
        return self._app(e, ctx, prec)

    @staticmethod
    def _paren(text: str, yes: bool) -> str:
        return f"({text})" if yes else text

    @staticmethod
    def _fresh(name: str, ctx: list[str]) -> str:
        base = name.split("._@")[0] if name else ""  # drop macro scopes
        base = base.split(".")[-1]
        if not base or base.startswith("_") or base.isdigit():
            base = "x"
        candidate, n = base, 1
        while candidate in ctx:
            candidate = f"{base}{n}"
            n += 1
        return candidate

    def _forall(self, e: Expr, ctx: list[str]) -> str:
        _name, dom, body, info = e.args
        if not has_loose(body) and info == "default":
            left = self.pp(dom, ctx, 26)
            return f"{left} → {self.pp(body, [*ctx, '_'], 25)}"
        groups: list[tuple[str, str, list[str]]] = []
        cur = e
        inner = list(ctx)
        while cur.kind == "forall" and (has_loose(cur.args[2]) or cur.args[3] != "default"):
            n, d, b, i = cur.args
            fresh = self._fresh(n, inner)
            dom_text = self.pp(d, inner, 0)
            if groups and groups[-1][0] == i and groups[-1][1] == dom_text and not has_loose(d, 0):
                groups[-1][2].append(fresh)
            else:
                groups.append((i, dom_text, [fresh]))
            inner.append(fresh)
            cur = b
        brackets = {"default": "()", "implicit": "{}", "strictImplicit": "⦃⦄", "instImplicit": "[]"}
        parts = []
        for info_, dom_text, names in groups:
            lb, rb = brackets[info_]
            parts.append(f"{lb}{' '.join(names)} : {dom_text}{rb}")
        return f"∀ {' '.join(parts)}, {self.pp(cur, inner, 0)}"

    def _lambda(self, e: Expr, ctx: list[str]) -> str:
        names, cur, inner = [], e, list(ctx)
        while cur.kind == "lam":
            fresh = self._fresh(cur.args[0], inner)
            names.append(fresh)
            inner.append(fresh)
            cur = cur.args[2]
        return f"fun {' '.join(names)} => {self.pp(cur, inner, 0)}"

    def _app(self, e: Expr, ctx: list[str], prec: int) -> str:
        head, args = app_spine(e)
        name = head.args[0] if head.kind == "const" else None
        special = self._special(name, args, ctx, prec) if name else None
        if special is not None:
            return special
        if name:
            mask = self.explicit_mask(name)
            shown = [a for i, a in enumerate(args) if i >= len(mask) or mask[i]]
        else:
            shown = args
        if not shown:
            return self.pp(head, ctx, prec)
        text = " ".join([self.pp(head, ctx, MAX_PREC), *(self.pp(a, ctx, MAX_PREC) for a in shown)])
        return self._paren(text, prec >= MAX_PREC)

    def _special(self, name: str, args: list[Expr], ctx: list[str], prec: int) -> str | None:
        if name == "OfNat.ofNat" and len(args) == 3:
            return self.pp(args[1], ctx, prec)
        if name in INFIX and len(args) == INFIX[name][0] + 2:
            _, op, p = INFIX[name]
            a, b = args[-2], args[-1]
            right_assoc = op in ("∧", "∨", "^", "++")
            left = self.pp(a, ctx, p + 1 if right_assoc else p)
            right = self.pp(b, ctx, p if right_assoc else p + 1)
            return self._paren(f"{left} {op} {right}", prec > p)
        if name == "Not" and len(args) == 1:
            return self._paren(f"¬{self.pp(args[0], ctx, MAX_PREC)}", prec > 40)
        if name == "Neg.neg" and len(args) == 3:
            return self._paren(f"-{self.pp(args[2], ctx, 75)}", prec > 75)
        if name in CASTS and args:
            return self._paren(f"↑{self.pp(args[-1], ctx, MAX_PREC)}", prec >= MAX_PREC)
        if name == "Exists" and len(args) == 2 and args[1].kind == "lam":
            var = self._fresh(args[1].args[0], ctx)
            body = self.pp(args[1].args[2], [*ctx, var], 0)
            return self._paren(f"∃ {var}, {body}", prec > 0)
        if name == "Membership.mem" and len(args) == 5:
            return self._paren(f"{self.pp(args[4], ctx, 51)} ∈ {self.pp(args[3], ctx, 51)}", prec > 50)
        if name == "Prod.mk" and len(args) == 4:
            return f"({self.pp(args[2], ctx, 0)}, {self.pp(args[3], ctx, 0)})"
        if name == "ite" and len(args) == 5:
            text = f"if {self.pp(args[1], ctx, 0)} then {self.pp(args[3], ctx, 0)} else {self.pp(args[4], ctx, 0)}"
            return self._paren(text, prec > 0)
        if name in ("List.cons", "List.nil"):
            listed = self._list(name, args, ctx)
            if listed is not None:
                return listed
            if name == "List.cons" and len(args) == 3:
                text = f"{self.pp(args[1], ctx, 68)} :: {self.pp(args[2], ctx, 67)}"
                return self._paren(text, prec > 67)
        if name == "Prod" and len(args) == 2:
            return self._paren(f"{self.pp(args[0], ctx, 36)} × {self.pp(args[1], ctx, 35)}", prec > 35)
        if name in ("Prod.fst", "Prod.snd") and len(args) == 3:
            return f"{self.pp(args[2], ctx, MAX_PREC)}.{1 if name == 'Prod.fst' else 2}"
        if name in ("GetElem.getElem!", "GetElem?.getElem!", "getElem!") and len(args) >= 2:
            return f"{self.pp(args[-2], ctx, MAX_PREC)}[{self.pp(args[-1], ctx, 0)}]!"
        return None

    def _list(self, name: str, args: list[Expr], ctx: list[str]) -> str | None:
        items = []
        while name == "List.cons" and len(args) == 3:
            items.append(self.pp(args[1], ctx, 0))
            head, args = app_spine(args[2])
            name = head.args[0] if head.kind == "const" else ""
        if name == "List.nil":
            return "[" + ", ".join(items) + "]"
        return None


def used_constants(e: Expr) -> set[str]:
    """Every constant a term mentions (iterative; shared subterms visited once)."""
    found: set[str] = set()
    stack, seen = [e], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.kind == "const" or node.kind == "proj":
            found.add(node.args[0])
        stack += [child for child, _ in children(node)]
    return found


def canonical(e: Expr) -> str:
    """A stable serialisation of a term (metadata dropped), for statement hashes."""
    out: list[str] = []
    stack: list[object] = [e]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node = item
        if node.kind == "mdata":
            stack.append(node.args[0])
            continue
        atoms = [repr(a) for a in node.args if not isinstance(a, Expr)]
        out.append(f"({node.kind} {' '.join(atoms)}")
        stack.append(")")
        stack.extend(reversed([child for child, _ in children(node)]))
    return "".join(out)
