"""How good are the checks? A mutation screen of the kernel and planner modules.

Run: python -m verifier.benchmarks.mutation [--out FILE.json] [--jobs 2] [--module verifier.planner]

Every first-order mutant of every function (an operator swapped, a comparison loosened, an integer
constant moved by one, a negation dropped, `and`/`or` swapped, rint/floor/ceil and min/max swapped) is run
in a fresh interpreter with the mutated module in place of the real one. Verdicts:
- `property`: a property check fails (the first one to fail is named);
- `differential`: no property fails, but the differential cases NumPy hands to Lean change. The Lean
  kernel confirmed the unmutated cases, so Lean would see changed answers; it is not run here;
- `error`: no property fails, but building the differential cases raises, so the check run stops;
- `import`: the mutated module fails when imported;
- `timeout`: the checks did not finish in time; `crash`: the interpreter died (both noticed, not quietly);
- `survived`: nothing noticed. Some survivors are equivalent mutants (a guard that an earlier one makes
  unreachable, a loop bound past what is needed); the rest are gaps in the checks.
The hand-written faults of `verifier.checks.mutants` go into the evidence; this screen is their audit.
"""

from __future__ import annotations

import argparse
import ast
import collections
import hashlib
import importlib
import importlib.util
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from verifier.benchmarks import emit

REPO = Path(__file__).resolve().parents[2]
MODULES = ("verifier.kernels.pack", "verifier.kernels.quant", "verifier.kernels.matmul",
           "verifier.kernels.activations", "verifier.kernels.reference", "verifier.planner")
_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
        ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
        ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_ATTR = {"rint": "floor", "floor": "ceil", "ceil": "floor", "max": "min", "min": "max"}


@dataclass(frozen=True)
class Site:
    """Where a mutant changes its module, and how."""

    module: str
    function: str
    line: int
    kind: str
    before: str
    after: str

    def label(self) -> str:
        return f"{self.module}.{self.function}:{self.line} {self.kind}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Mutant:
    site: Site
    source: str  # the whole mutated module

    @classmethod
    def from_json(cls, data: dict) -> Mutant:
        return cls(Site(**data["site"]), data["source"])


@dataclass(frozen=True)
class Outcome:
    site: Site
    verdict: str  # property | error | differential | import | crash | timeout | survived
    caught_by: tuple[str, ...]
    seconds: float


def _sites(tree: ast.Module) -> list[tuple[ast.AST, str, str]]:
    """(node, kind, function) for every mutation site inside a function, docstrings and `raise` lines left out."""
    out: list[tuple[ast.AST, str, str]] = []

    def walk(node: ast.AST, fn: str | None) -> None:
        if isinstance(node, ast.FunctionDef):
            fn = node.name if fn is None else f"{fn}.{node.name}"
        if isinstance(node, ast.Raise) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            return
        if fn:
            out.extend((node, kind, fn) for kind in _kinds(node))
        for child in ast.iter_child_nodes(node):
            if child not in _annotations(node):  # type hints are strings here (postponed evaluation)
                walk(child, fn)
    walk(tree, None)
    return out


def _annotations(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.FunctionDef):
        return [node.returns] if node.returns else []
    if isinstance(node, (ast.arg, ast.AnnAssign)):
        return [node.annotation] if node.annotation else []
    return []


def _kinds(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN:
        return ["operator"]
    if isinstance(node, ast.Compare) and type(node.ops[0]) in _CMP:
        return ["comparison"]
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return ["plus one", "minus one"]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return ["negation dropped"]
    if isinstance(node, ast.BoolOp):
        return ["and/or"]
    if isinstance(node, ast.Attribute) and node.attr in _ATTR:
        return ["function"]
    return []


class _DropNegation(ast.NodeTransformer):
    def __init__(self, target: ast.AST) -> None:
        self.target = target

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if node is self.target else node


def _mutate(tree: ast.Module, node: ast.AST, kind: str) -> tuple[ast.Module, str]:
    """Apply one mutation in place; the tree (new if a node was replaced) and the mutated text."""
    if kind == "negation dropped":
        return _DropNegation(node).visit(tree), ast.unparse(node.operand)
    if kind == "operator":
        node.op = _BIN[type(node.op)]()
    elif kind == "comparison":
        node.ops[0] = _CMP[type(node.ops[0])]()
    elif kind in ("plus one", "minus one"):
        node.value += 1 if kind == "plus one" else -1
    elif kind == "and/or":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    else:
        node.attr = _ATTR[node.attr]
    return tree, ast.unparse(node)


def mutants(module: str, root: Path = REPO) -> list[Mutant]:
    """Every first-order mutant of `module`'s functions."""
    source = (root / Path(*module.split("."))).with_suffix(".py").read_text()
    out = []
    for i in range(len(_sites(ast.parse(source)))):
        tree = ast.parse(source)  # a fresh tree per mutant: mutations happen in place
        node, kind, fn = _sites(tree)[i]
        before = ast.unparse(node)
        tree, after = _mutate(tree, node, kind)
        out.append(Mutant(Site(module, fn, node.lineno, kind, before[:100], after[:100]), ast.unparse(tree)))
    return out


def _install(mutant: Mutant) -> None:
    """Put the mutated module in sys.modules before anything imports it."""
    name = mutant.site.module
    importlib.import_module(name.rsplit(".", 1)[0])
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(mutant.source, spec.origin, "exec"), module.__dict__)


def observe() -> dict:
    """In this interpreter: the first failing property and a fingerprint of each differential case."""
    from verifier.checks import catalog, constants, differential, properties
    from verifier.requirements import spec

    failed = next((p.name for p in catalog.PROPERTIES
                   if not properties.run_property(p, properties.DEFAULT_SEED, 1.0, shrink=False).passed), None)
    try:
        cases = differential.snippets(differential.families(properties.DEFAULT_SEED)) + constants.snippets(spec())
    except Exception as exc:  # the check run itself stops with this error
        return {"failed": failed, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"failed": failed, "cases": {c.key: hashlib.sha1(c.code.encode()).hexdigest() for c in cases}}


def _child(mutant: Mutant | None) -> dict:
    try:
        if mutant is not None:
            _install(mutant)
    except Exception as exc:  # the mutant breaks its own module: caught at import
        return {"import_error": f"{type(exc).__name__}: {exc}"[:200]}
    return observe()


def _run(mutant: Mutant | None, timeout: float) -> dict | None:
    payload = json.dumps(asdict(mutant) if mutant else None)
    try:
        done = subprocess.run([sys.executable, "-m", "verifier.benchmarks.mutation", "--child"], input=payload,
                              capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:  # the interpreter died under the mutant (a bad stride can crash NumPy)
        return {"crashed": f"exit {done.returncode}: {done.stderr.strip()[-160:]}"}
    return json.loads(lines[-1])


def judge(mutant: Mutant, seen: dict | None, baseline: dict, seconds: float) -> Outcome:
    where = mutant.site
    if seen is None:
        return Outcome(where, "timeout", (), seconds)
    if "crashed" in seen:
        return Outcome(where, "crash", (seen["crashed"],), seconds)
    if "import_error" in seen:
        return Outcome(where, "import", (seen["import_error"],), seconds)
    if seen["failed"]:
        return Outcome(where, "property", (seen["failed"],), seconds)
    if "error" in seen:
        return Outcome(where, "error", (seen["error"],), seconds)
    changed = sorted({k.split(":")[0] for k in baseline["cases"].keys() | seen["cases"].keys()
                      if baseline["cases"].get(k) != seen["cases"].get(k)})
    if changed:
        return Outcome(where, "differential", tuple(changed), seconds)
    return Outcome(where, "survived", (), seconds)


def screen(modules: tuple[str, ...], jobs: int, timeout: float) -> list[Outcome]:
    baseline = _run(None, timeout)
    if baseline is None or baseline["failed"]:
        raise SystemExit(f"the unmutated checks do not pass ({baseline and baseline['failed']}): nothing to screen")
    todo = [m for module in modules for m in mutants(module)]

    def one(m: Mutant) -> Outcome:
        start = time.monotonic()
        return judge(m, _run(m, timeout), baseline, round(time.monotonic() - start, 1))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, todo))


def summary(outcomes: list[Outcome]) -> dict:
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for o in outcomes:
        by_module[o.site.module][o.verdict] += 1
    return {"mutants": len(outcomes), "verdicts": dict(collections.Counter(o.verdict for o in outcomes)),
            "by_module": {k: dict(v) for k, v in by_module.items()},
            "survivors": [o.site.label() for o in outcomes if o.verdict == "survived"],
            "outcomes": [asdict(o) for o in outcomes]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    ap.add_argument("--module", action="append", choices=MODULES, help="screen only these (repeatable)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        data = json.loads(sys.stdin.read())
        print(json.dumps(_child(Mutant.from_json(data) if data else None)))
        return
    start = time.monotonic()
    figures = summary(screen(tuple(args.module or MODULES), max(1, args.jobs), args.timeout))
    figures["wall_s"] = round(time.monotonic() - start, 1)
    emit(figures, args.out)


if __name__ == "__main__":
    main()
