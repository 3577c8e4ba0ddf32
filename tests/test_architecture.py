"""The shape of the code: no import cycle, and the prover stands on the Lean bridge only.

Imports are read from the sources (every `import`, module level or inside a function), so the test
sees the dependencies a reader sees, not only those Python happens to execute."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import networkx as nx

from tests.helpers import REPO

PACKAGES = ("verifier", "prover")
# what the prover may use of the verifier: the Lean bridge and the small shared utilities (settings: the
# one reader of environment variables)
PROVER_MAY_USE = ("verifier.lean", "verifier.errors", "verifier.atomic_write", "verifier.serial", "verifier.folders",
                  "verifier.settings")


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> list[tuple[str, tuple[str, ...], int]]:
    """(module imported, names taken from it, line) for every import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(a.name for a in node.names)
            # `from pkg import sub` imports the submodule pkg.sub
            subs = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in known]
            found += [(s, (), node.lineno) for s in subs]
            rest = tuple(n for n in names if f"{node.module}.{n}" not in known)
            if rest or not subs:
                found.append((node.module, rest, node.lineno))
    return [f for f in found if f[0].split(".")[0] in PACKAGES]


def _graph(root: Path = REPO) -> tuple[nx.DiGraph, dict[str, list[tuple[str, tuple[str, ...], int]]]]:
    files = {_module_name(root, p): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    graph = nx.DiGraph()
    edges = {}
    for name, path in files.items():
        graph.add_node(name)
        edges[name] = _imports(path, set(files))
        for target, _, _ in edges[name]:
            assert target in files, f"{path.relative_to(root)} imports {target}, which does not exist"
            graph.add_edge(name, target)
    return graph, edges


def _cycles(root: Path = REPO) -> list[list[str]]:
    return list(nx.simple_cycles(_graph(root)[0]))


def _forbidden(root: Path = REPO) -> list[str]:
    _, edges = _graph(root)
    return sorted({f"{src} -> {dst}" for src, found in edges.items() if src.startswith("prover")
                   for dst, _, _ in found if dst.startswith("verifier") and not dst.startswith(PROVER_MAY_USE)})


def test_no_import_cycle():
    assert _cycles() == []


def test_prover_uses_only_the_lean_bridge_and_utilities():
    assert _forbidden() == []


def test_prover_uses_only_public_names_of_the_bridge():
    """Where a bridge module declares its public names (`__all__`), the prover takes no others."""
    _, edges = _graph()
    private = []
    for src, found in edges.items():
        if not src.startswith("prover"):
            continue
        for dst, names, line in found:
            public = getattr(importlib.import_module(dst), "__all__", None) if dst.startswith("verifier") else None
            private += [f"{src}:{line} takes {dst}.{n}" for n in names
                        if n.startswith("_") or (public is not None and n not in public)]
    assert private == []


def test_the_checks_see_a_cycle_and_a_forbidden_import(tmp_path):
    """On a small tree with one cycle (inside a function) and one forbidden import, both are found."""
    files = {
        "verifier/__init__.py": "",
        "verifier/lean/__init__.py": "",
        "verifier/lean/a.py": "def f():\n    from verifier.lean import b\n",
        "verifier/lean/b.py": "import verifier.lean.a\n",
        "verifier/evidence.py": "",
        "prover/__init__.py": "",
        "prover/search.py": "from verifier.lean.a import f\nfrom verifier import evidence\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert sorted(map(sorted, _cycles(tmp_path))) == [["verifier.lean.a", "verifier.lean.b"]]
    assert _forbidden(tmp_path) == ["prover.search -> verifier.evidence"]
