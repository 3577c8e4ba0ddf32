"""A project module's constants, decoded once per content: kept in the cache folder under the hash of the
module's files and of the decoder's own source, so a changed .olean or a changed decoder never reads an
old answer.

Decoding every constant of the project (proof terms included) is most of the audit's time; a warm
`evidence` audits the same bytes again. The cache holds the expression graph flat, one node per shared
subterm in children-first order, in `marshal`'s format: no recursion on load (proof terms nest deeper than
Python's recursion limit) and no code run from the file.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from functools import cache
from pathlib import Path

from verifier.atomic_write import write_bytes_atomic
from verifier.lean import expr, olean
from verifier.lean.expr import Constant, Expr, ModuleReader
from verifier.lean.olean import Olean, OleanHeader, load_module
from verifier.lean.toolchain.cache import cache_root

FORMAT = 1
# Where each kind of node keeps its sub-expressions among its arguments (as `expr.children` walks them);
# `encode` refuses a node whose sub-terms sit elsewhere, so the two cannot drift apart unnoticed.
EXPR_SLOTS = {"app": (0, 1), "lam": (1, 2), "forall": (1, 2), "let": (1, 2, 3), "mdata": (0,), "proj": (2,)}


@cache  # the decoder's source does not change while a process runs; a build audits every module
def _decoder_digest() -> bytes:
    sources = (olean.__file__, expr.__file__, __file__)
    return b"".join(hashlib.sha256(Path(f).read_bytes()).digest() for f in sources)


def _key(image: Olean) -> str:
    digest = hashlib.sha256(f"{FORMAT} {sys.version} {image.psize}".encode())
    digest.update(_decoder_digest())
    for part in (*image.others, image):
        digest.update(hashlib.sha256(part.data).digest())
    return digest.hexdigest()


def encode(constants: list[Constant]) -> bytes:
    """The constants as flat tuples: each distinct Expr object once, after its children."""
    index: dict[int, int] = {}
    nodes: list[tuple] = []

    def node_of(root: Expr) -> int:
        stack = [root]
        while stack:
            top = stack[-1]
            if id(top) in index:
                stack.pop()
                continue
            slots = EXPR_SLOTS.get(top.kind, ())
            if tuple(i for i, a in enumerate(top.args) if isinstance(a, Expr)) != slots:
                raise ValueError(f"`{top.kind}` keeps its sub-terms where EXPR_SLOTS does not say")
            pending = [top.args[i] for i in slots if id(top.args[i]) not in index]
            if pending:
                stack.extend(pending)
                continue
            args = tuple(index[id(a)] if i in slots else a for i, a in enumerate(top.args))
            index[id(top)] = len(nodes)
            nodes.append((top.kind, args))
            stack.pop()
        return index[id(root)]

    # `constants` keeps every node alive while this runs, so no id() is reused
    rows = [(c.name, c.kind, c.level_params, node_of(c.type), None if c.value is None else node_of(c.value),
             c.is_unsafe, tuple(node_of(e) for e in c.extra), c.ctors) for c in constants]
    return marshal.dumps((FORMAT, nodes, rows))


def decode(data: bytes) -> list[Constant]:
    """`encode`'s inverse; ValueError if the bytes are not what `encode` writes."""
    try:
        version, nodes, rows = marshal.loads(data)
        if version != FORMAT:
            raise ValueError(f"format {version}")
        built: list[Expr] = []
        for kind, args in nodes:
            if kind == "app":  # most nodes: the common case without the general slot loop
                built.append(Expr(kind, (built[args[0]], built[args[1]])))
                continue
            full = list(args)
            for i in EXPR_SLOTS.get(kind, ()):
                full[i] = built[full[i]]
            built.append(Expr(kind, tuple(full)))
        return [Constant(name, kind, params, built[t], None if v is None else built[v], unsafe,
                         tuple(built[e] for e in extra), ctors)
                for name, kind, params, t, v, unsafe, extra, ctors in rows]
    except (EOFError, TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"not a decoded-module cache entry ({exc})") from None


def module_constants(base: Path, pointer_size: int | None) -> tuple[OleanHeader, list[Constant]]:
    """The module's header and constants: from the cache when its files and the decoder are unchanged,
    else decoded from the .olean and then cached (a cache folder that cannot be written costs nothing)."""
    image = load_module(base, pointer_size)
    path = cache_root() / "decoded" / f"{_key(image)}.marshal"
    try:
        return image.header, decode(path.read_bytes())
    except (OSError, ValueError):
        pass
    constants = ModuleReader(image).constants()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, encode(constants))
    except (OSError, ValueError):  # ValueError: a kind of term `encode` does not know is not cached
        pass
    return image.header, constants
