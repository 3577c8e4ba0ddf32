"""Lean's own data, decoded from an .olean: Name, Level, Expr and ConstantInfo.

Constructor tags and field orders follow `src/Lean/Expr.lean`, `src/Lean/Level.lean` and
`src/Lean/Declaration.lean`; cached hash fields are scalars after the pointer fields and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from verifier.lean.olean import Ctor, Olean, OleanError

CONSTANT_KINDS = ("axiom", "def", "theorem", "opaque", "quot", "inductive", "ctor", "recursor")
BINDER_INFO = ("default", "implicit", "strictImplicit", "instImplicit")


@dataclass(frozen=True)
class Expr:
    """An expression node; `args` holds children (Expr), names (str), levels (str) or numbers (int)."""

    kind: str
    args: tuple


def children(e: Expr) -> tuple[tuple[Expr, int], ...]:
    """The sub-terms of `e` in argument order, each with the number of binders (0 or 1) it sits under
    relative to `e`: the one place that knows the shape of every node, for every traversal."""
    k, a = e.kind, e.args
    if k == "app":
        return (a[0], 0), (a[1], 0)
    if k in ("lam", "forall"):
        return (a[1], 0), (a[2], 1)
    if k == "let":
        return (a[1], 0), (a[2], 0), (a[3], 1)
    if k == "mdata":
        return ((a[0], 0),)
    if k == "proj":
        return ((a[2], 0),)
    return ()


@dataclass(frozen=True)
class Constant:
    name: str
    kind: str
    level_params: tuple[str, ...]
    type: Expr
    value: Expr | None
    is_unsafe: bool = False
    extra: tuple[Expr, ...] = ()  # recursor rule right-hand sides
    ctors: tuple[str, ...] = ()  # an inductive type's constructors


class ModuleReader:
    """Decodes one module image; all decoders are memoised by pointer (Lean shares subterms)."""

    def __init__(self, olean: Olean) -> None:
        self.o = olean
        self._names: dict[int, str] = {}
        self._levels: dict[int, str] = {}
        self._exprs: dict[int, Expr] = {}

    def ctor(self, ptr: int) -> Ctor:
        value = self.o.obj(ptr)
        if not isinstance(value, Ctor):
            raise OleanError(f"{self.o.path}: expected a structure at {ptr:#x}, got {type(value).__name__}")
        return value

    def nat(self, ptr: int) -> int:
        value = self.o.obj(ptr)
        if not isinstance(value, int):
            raise OleanError(f"{self.o.path}: expected a number at {ptr:#x}")
        return value

    def list(self, ptr: int) -> list[int]:
        out = []
        while not ptr & 1:
            cell = self.ctor(ptr)
            out.append(cell.fields[0])
            ptr = cell.fields[1]
        return out

    def name(self, ptr: int) -> str:
        if ptr in self._names:
            return self._names[ptr]
        parts = []
        cursor = ptr
        while not cursor & 1:
            cell = self.ctor(cursor)
            piece = self.o.obj(cell.fields[1])
            parts.append(str(piece))
            cursor = cell.fields[0]
        text = ".".join(reversed(parts))
        self._names[ptr] = text
        return text

    def level(self, ptr: int) -> str:
        if ptr in self._levels:
            return self._levels[ptr]
        node = self.o.obj(ptr)
        text = "0" if isinstance(node, int) else self._level_text(node)
        self._levels[ptr] = text
        return text

    def _level_text(self, node: Ctor) -> str:
        if node.tag == 0:
            return "0"
        if node.tag == 1:
            inner, n = node.fields[0], 1
            while True:
                sub = self.o.obj(inner)
                if isinstance(sub, Ctor) and sub.tag == 1:
                    inner, n = sub.fields[0], n + 1
                    continue
                break
            base = self.level(inner)
            return str(n) if base == "0" else f"{base}+{n}"
        if node.tag in (2, 3):
            op = "max" if node.tag == 2 else "imax"
            return f"({op} {self.level(node.fields[0])} {self.level(node.fields[1])})"
        if node.tag == 4:
            return self.name(node.fields[0])
        return "?u"

    def expr(self, ptr: int) -> Expr:
        """Iterative decoding (proof terms nest far deeper than Python's recursion limit)."""
        if ptr in self._exprs:
            return self._exprs[ptr]
        stack = [ptr]
        while stack:
            top = stack[-1]
            if top in self._exprs:
                stack.pop()
                continue
            node = self.ctor(top)
            pending = [f for f in self._expr_children(node) if f not in self._exprs]
            if pending:
                stack.extend(pending)
                continue
            self._exprs[top] = self._build(node)
            stack.pop()
        return self._exprs[ptr]

    @staticmethod
    def _expr_children(node: Ctor) -> tuple[int, ...]:
        tag = node.tag
        if tag == 5:
            return node.fields[0], node.fields[1]
        if tag in (6, 7):
            return node.fields[1], node.fields[2]
        if tag == 8:
            return node.fields[1], node.fields[2], node.fields[3]
        if tag == 10:
            return (node.fields[1],)
        if tag == 11:
            return (node.fields[2],)
        return ()

    def _build(self, node: Ctor) -> Expr:
        tag, f, ex = node.tag, node.fields, self._exprs
        if tag == 0:
            return Expr("bvar", (self.nat(f[0]),))
        if tag in (1, 2):
            return Expr("fvar" if tag == 1 else "mvar", (self.name(self.ctor(f[0]).fields[0]),))
        if tag == 3:
            return Expr("sort", (self.level(f[0]),))
        if tag == 4:
            return Expr("const", (self.name(f[0]), tuple(self.level(u) for u in self.list(f[1]))))
        if tag == 5:
            return Expr("app", (ex[f[0]], ex[f[1]]))
        if tag in (6, 7):
            info = BINDER_INFO[node.u8(8)] if len(node.scalars) > 8 else "default"
            return Expr("lam" if tag == 6 else "forall", (self.name(f[0]), ex[f[1]], ex[f[2]], info))
        if tag == 8:
            return Expr("let", (self.name(f[0]), ex[f[1]], ex[f[2]], ex[f[3]]))
        if tag == 9:
            lit = self.o.obj(f[0])
            value = self.o.obj(lit.fields[0]) if isinstance(lit, Ctor) else lit
            return Expr("lit", (value,))
        if tag == 10:
            return Expr("mdata", (ex[f[1]],))
        if tag == 11:
            return Expr("proj", (self.name(f[0]), self.nat(f[1]), ex[f[2]]))
        raise OleanError(f"{self.o.path}: unknown expression tag {tag}")

    def constant(self, ptr: int) -> Constant:
        info = self.ctor(ptr)
        if info.tag >= len(CONSTANT_KINDS):
            raise OleanError(f"{self.o.path}: unknown constant kind {info.tag}")
        kind = CONSTANT_KINDS[info.tag]
        val = self.ctor(info.fields[0])
        cval = self.ctor(val.fields[0])
        name = self.name(cval.fields[0])
        params = tuple(self.name(p) for p in self.list(cval.fields[1]))
        type_ = self.expr(cval.fields[2])
        value, unsafe, extra, ctors = None, False, (), ()
        if kind in ("def", "theorem", "opaque"):
            value = self.expr(val.fields[1])
        if kind in ("axiom", "opaque") and val.scalars:
            unsafe = bool(val.scalars[0])
        if kind == "recursor":
            rules = [self.ctor(r) for r in self.list(val.fields[6])]
            extra = tuple(self.expr(r.fields[2]) for r in rules)
        if kind == "inductive":  # InductiveVal: toConstantVal, numParams, numIndices, all, ctors, numNested, ...
            ctors = tuple(self.name(c) for c in self.list(val.fields[4]))
        return Constant(name, kind, params, type_, value, unsafe, extra, ctors)

    @cached_property
    def root(self) -> Ctor:
        return self.o.root

    def is_module(self) -> bool:
        return bool(self.root.scalars[0]) if self.root.scalars else False

    def imports(self) -> list[str]:
        return [self.name(self.ctor(i).fields[0]) for i in self.o.obj(self.root.fields[0])]

    def constants(self) -> list[Constant]:
        return [self.constant(c) for c in self.o.obj(self.root.fields[2])]
