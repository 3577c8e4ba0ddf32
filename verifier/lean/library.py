"""Which module declares a constant: an index over the core library's and the project's .olean files.

The core library index (about 200k names over ~2,100 files) is built once per toolchain and kept in
the cache folder; project modules are read whole (through `decoded`'s cache, keyed by their bytes).
Core library constants are decoded on demand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from verifier.atomic_write import write_text_atomic
from verifier.lean.decoded import module_constants
from verifier.lean.expr import Constant, ModuleReader
from verifier.lean.olean import Olean, OleanError, OleanHeader
from verifier.lean.toolchain.base import Toolchain
from verifier.lean.toolchain.cache import cache_root

INDEX_VERSION = 1


def _module_name(lib: Path, path: Path) -> str:
    rel = path.relative_to(lib)
    return ".".join(rel.with_name(rel.name.removesuffix(".olean")).parts)


def _index_file(chain: Toolchain) -> Path:
    digest = hashlib.sha256(chain.identity.encode()).hexdigest()[:16]
    return cache_root() / "index" / f"core-v{INDEX_VERSION}-{digest}.json"


def build_core_index(chain: Toolchain) -> dict[str, str]:
    """constant name -> module, for every .olean of the toolchain's core library (cached on disk)."""
    path = _index_file(chain)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    index: dict[str, str] = {}
    lib = chain.core_lib
    for olean_path in sorted(lib.rglob("*.olean")):
        if olean_path.name.startswith("._"):
            continue
        module = _module_name(lib, olean_path)
        try:
            reader = ModuleReader(Olean(olean_path, pointer_size=chain.version.pointer_bytes))
            for ptr in reader.o.obj(reader.root.fields[1]):
                index.setdefault(reader.name(ptr), module)
        except (OleanError, IndexError, AttributeError):
            continue  # unreadable library file: its constants simply stay unindexed
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(index))
    except OSError:
        pass  # a read-only cache only costs rebuilding the index next time
    return index


class DuplicateConstant(OleanError):
    """Two compiled constants answer to one name."""


@dataclass
class Library:
    """Constants by name across the core library and the project's compiled modules."""

    chain: Toolchain
    project_lib: Path
    core_index: dict[str, str]
    project_headers: dict[str, OleanHeader] = field(default_factory=dict)
    project_constants: dict[str, tuple[str, Constant]] = field(default_factory=dict)
    _core_readers: dict[str, ModuleReader] = field(default_factory=dict)
    _core_constants: dict[str, Constant | None] = field(default_factory=dict)

    def load_project_module(self, module: str) -> None:
        """Add a compiled module's constants. Names are keyed as the `.olean` spells them, joined unescaped,
        so `A.«b.c»` and `A.b.c` read alike; and a module nothing imports may declare a name another
        module declares too. Either way the audit could read one constant while a proof uses the other, so a
        name met twice, or one the core library declares, is refused."""
        if module in self.project_headers:
            return
        header, constants = module_constants(self.project_lib / Path(*module.split(".")),
                                             self.chain.version.pointer_bytes)
        for const in constants:
            earlier = self.project_constants.get(const.name)
            if earlier is not None:
                raise DuplicateConstant(f"{const.name} is declared twice (in {earlier[0]} and in {module}): "
                                        "the audit cannot tell which one a proof uses")
            if const.name in self.core_index:
                raise DuplicateConstant(f"{module} declares {const.name}, which the core library declares")
            self.project_constants[const.name] = (module, const)
        self.project_headers[module] = header

    def is_project(self, name: str) -> bool:
        return name in self.project_constants

    def module_of(self, name: str) -> str | None:
        if name in self.project_constants:
            return self.project_constants[name][0]
        return self.core_index.get(name)

    def lookup(self, name: str) -> Constant | None:
        """The constant as its module exports it (core library: types only; theorems appear as axioms)."""
        if name in self.project_constants:
            return self.project_constants[name][1]
        if name in self._core_constants:
            return self._core_constants[name]
        module = self.core_index.get(name)
        found = None
        if module is not None:
            reader = self._core_readers.get(module)
            if reader is None:
                path = self.chain.core_lib / Path(*module.split(".")).with_suffix(".olean")
                reader = ModuleReader(Olean(path, pointer_size=self.chain.version.pointer_bytes))
                self._core_readers[module] = reader
            names = reader.o.obj(reader.root.fields[1])
            consts = reader.o.obj(reader.root.fields[2])
            for i, ptr in enumerate(names):
                if reader.name(ptr) == name:
                    found = reader.constant(consts[i])
                    break
        self._core_constants[name] = found
        return found


def open_library(chain: Toolchain, project_lib: Path, modules: list[str]) -> Library:
    library = Library(chain, project_lib, build_core_index(chain))
    for module in modules:
        library.load_project_module(module)
    return library
