"""The Lean package under lean/: its libraries, modules, and the import graph between them.

The graph comes from the import headers (networkx), before any Lean runs, so a cycle, a missing
module or an unreadable file is reported at once with the file that causes it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from verifier.errors import UserError
from verifier.lean.source import Header, parse_header

BUILD_LIB = Path(".lake") / "build" / "lib" / "lean"


@dataclass(frozen=True)
class LeanLib:
    """A `[[lean_lib]]` of lakefile.toml: its name, root modules and globs."""

    name: str
    roots: tuple[str, ...]
    globs: tuple[str, ...]


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    header: Header
    source: bytes

    @property
    def imports(self) -> list[str]:
        return [imp.module for imp in self.header.imports]


@dataclass
class LeanProject:
    """A Lake package read from disk: everything `build` needs to plan, nothing Lean-specific."""

    root: Path
    name: str
    libs: dict[str, LeanLib]
    default_targets: tuple[str, ...]
    modules: dict[str, Module] = field(default_factory=dict)

    @property
    def build_lib(self) -> Path:
        return self.root / BUILD_LIB

    def rel(self, path: Path) -> str:
        """A path as the user knows it: relative to the project's parent folder (lean/…)."""
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def module_path(self, name: str) -> Path:
        return self.root / Path(*name.split(".")).with_suffix(".lean")

    def output_base(self, name: str) -> Path:
        """Where a module's outputs go, as Lake lays them out: .lake/build/lib/lean/A/B(.olean|…)."""
        return self.build_lib / Path(*name.split("."))


def load_project(lean_dir: Path) -> LeanProject:
    """Read lakefile.toml; fail with one line if there is no project or the path is unusable."""
    lean_dir = lean_dir.absolute()
    if not lean_dir.is_dir():
        raise UserError(f"no Lean project: {lean_dir} does not exist", hint="run from a quantproof checkout "
                        "or pass --project DIR")
    if " " in str(lean_dir):
        raise UserError(f"project path {lean_dir!s} contains a space",
                        hint="Lean's module paths and Lake cannot take one; move or clone it to a path without")
    lakefile = lean_dir / "lakefile.toml"
    if not lakefile.is_file():
        raise UserError(f"{lakefile}: missing", hint="a Lake package needs lakefile.toml")
    try:
        config = tomllib.loads(lakefile.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{lakefile}: not valid TOML ({exc})") from None
    libs = {}
    for entry in config.get("lean_lib", []):
        name = entry["name"]
        roots = tuple(entry.get("roots", [name]))
        libs[name] = LeanLib(name, roots, tuple(entry.get("globs", roots)))
    if not libs:
        raise UserError(f"{lakefile}: declares no [[lean_lib]]")
    defaults = tuple(config.get("defaultTargets", list(libs)))
    for target in defaults:
        if target not in libs:
            raise UserError(f"{lakefile}: defaultTargets names {target!r}, which is not a lean_lib")
    return LeanProject(lean_dir, config.get("name", lean_dir.name), libs, defaults)


def _read_module(project: LeanProject, name: str, importer: tuple[Path, int] | None) -> Module:
    path = project.module_path(name)
    if not path.is_file():
        if importer is None:
            raise UserError(f"{project.rel(path)}: missing (a root or glob of lakefile.toml names {name})")
        raise UserError(f"{project.rel(importer[0])}:{importer[1]}: imports {name}, which is neither a module of "
                        f"this project ({project.rel(path)} does not exist) nor of the Lean library")
    source = path.read_bytes()
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise UserError(f"{project.rel(path)}:{line}: not valid UTF-8 (byte 0x{source[exc.start]:02x} at offset "
                        f"{exc.start})", hint="Lean sources must be UTF-8") from None
    return Module(name, path, parse_header(text), source)


def _glob_modules(project: LeanProject, glob: str) -> list[str]:
    """Lake's globs: `A` one module, `A.+` its submodules (not `A`), `A.*` it and its submodules."""
    if glob.endswith((".*", ".+")):
        base = glob[:-2]
        folder = project.root / Path(*base.split("."))
        subs = sorted(
            ".".join(p.relative_to(project.root).with_suffix("").parts) for p in folder.rglob("*.lean")
        ) if folder.is_dir() else []
        return ([base] if glob.endswith(".*") else []) + subs
    return [glob]


def resolve(project: LeanProject, targets: list[str], is_core: Callable[[str], bool]) -> nx.DiGraph:
    """Read every module the targets need; return the import graph (edge: importer -> imported)."""
    graph = nx.DiGraph()
    pending: list[tuple[str, tuple[Path, int] | None]] = []
    for target in targets:
        if target not in project.libs:
            raise UserError(f"unknown build target {target!r}", hint=f"lean_libs: {', '.join(project.libs)}")
        for glob in project.libs[target].globs:
            pending += [(m, None) for m in _glob_modules(project, glob)]
    while pending:
        name, importer = pending.pop()
        if name in project.modules:
            continue
        module = _read_module(project, name, importer)
        project.modules[name] = module
        graph.add_node(name)
        for imp in module.header.imports:
            local = project.module_path(imp.module).is_file()
            if not local and is_core(imp.module):
                continue
            graph.add_edge(name, imp.module)
            pending.append((imp.module, (module.path, imp.line)))
    _reject_cycles(project, graph)
    return graph


def heaviest_chains(graph: nx.DiGraph, weight: Callable[[str], float], *, via_importers: bool) -> dict[str, float]:
    """Per module of an import graph (importer -> imported): its weight plus the heaviest chain next to it,
    through the modules that import it (the work waiting on it) or through its imports (what it waits on)."""
    order = list(nx.topological_sort(graph))  # importers before what they import
    step = graph.predecessors if via_importers else graph.successors
    total: dict[str, float] = {}
    for name in order if via_importers else reversed(order):
        total[name] = weight(name) + max((total[n] for n in step(name)), default=0)
    return total


def _reject_cycles(project: LeanProject, graph: nx.DiGraph) -> None:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    files = [project.rel(project.module_path(edge[0])) for edge in cycle]
    raise UserError(f"import cycle: {' -> '.join([*files, files[0]])}")
