"""Independent axiom audit of the compiled project, read from its .olean files (no Lean process).

The portable Lean refuses `#print axioms`, so each theorem's proof term is walked here through the
project's own constants (the `.olean.private` parts hold their bodies). The walk reports `sorryAx`,
axioms the project declares, the compiler-trust axioms (`Lean.ofReduceBool`, `Lean.ofReduceNat`,
`Lean.trustCompiler`: what `native_decide` leaves behind), the standard axioms met on the way, and
the core-library constants the proof rests on. The shipped core library holds statements only
(module-system export), so axioms used *inside* core-library lemmas are not visible here; on a
native toolchain `#print axioms` cross-checks the whole closure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from verifier.errors import UserError
from verifier.lean.build.model import BuildResult
from verifier.lean.expr import Constant, Expr, ModuleReader
from verifier.lean.library import DuplicateConstant, Library, open_library
from verifier.lean.olean import OleanError, load_module
from verifier.lean.options import SourceOption, scan_options
from verifier.lean.pretty import Printer, canonical, has_loose, used_constants
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB, load_project, resolve
from verifier.lean.toolchain.base import Toolchain
from verifier.serial import to_jsonable

__all__ = [
    "COMPILER_TRUST",
    "STANDARD_AXIOMS",
    "AuditReport",
    "Hypothesis",
    "MissingTheorem",
    "PinnedDefinition",
    "TheoremAudit",
    "audit_build",
    "audit_or_error",
    "audit_theorem",
    "native_cross_check",
    "parse_print_axioms",
    "source_name",
    "statement_hash",
    "syntax_extension",
]

STANDARD_AXIOMS = ("propext", "Classical.choice", "Quot.sound")
COMPILER_TRUST = ("Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler")
SORRY = "sorryAx"
VALUE_TYPES = {"Nat", "Int", "Rat", "Bool", "Int8", "Int32", "UInt8", "UInt32", "UInt64", "Float", "String",
               "List", "Array", "Prod", "Option", "Prop", "Type", "Fin", "Vector", "Quantproof.Tile"}
# Declarations that change what Lean text means to every importer: a `macro_rules` for `decide` in the
# root module would turn each differential case into a proof of anything (the theorems, which do not
# import the root, would stay clean). The project's library needs none, so any one fails the verdict.
SYNTAX_EXTENSIONS = {
    "Lean.Macro": "macro", "Lean.ParserDescr": "syntax", "Lean.TrailingParserDescr": "syntax",
    "Lean.Parser.Parser": "parser", "Lean.Parser.TrailingParser": "parser",
    "Lean.Elab.Term.TermElab": "term elaborator", "Lean.Elab.Tactic.Tactic": "tactic elaborator",
    "Lean.Elab.Command.CommandElab": "command elaborator", "Lean.PrettyPrinter.Unexpander": "unexpander",
    "Lean.PrettyPrinter.Delaborator.Delab": "delaborator", "Lean.Meta.Simp.Simproc": "simproc",
    "Lean.Meta.Simp.DSimproc": "simproc",
}
LIMITATION = ("The portable Lean's core library holds statements only (module-system export: its theorems "
              "are imported as body-less axioms), so axioms used inside core-library lemmas cannot be "
              "enumerated from these files; the audit walks every project proof and stops at the core "
              "library, which is trusted as shipped. On a native toolchain `#print axioms` cross-checks the "
              "whole closure.")


@dataclass(frozen=True)
class Hypothesis:
    """One binder of a theorem's statement: a variable, an instance, or a hypothesis it assumes."""

    name: str
    statement: str
    role: str  # variable | instance | hypothesis


@dataclass(frozen=True)
class PinnedDefinition:
    """A project definition a statement depends on (transitively), with the hash of its meaning."""

    name: str
    hash: str


@dataclass(frozen=True)
class TheoremAudit:
    """One theorem as the audit found it: its statement, what its proof rests on, and its status."""

    JSON_PROPERTIES = ("status",)

    name: str
    module: str
    file: str
    line: int
    statement: str
    statement_hash: str
    hypotheses: tuple[Hypothesis, ...]
    uses_sorry: bool
    project_axioms: tuple[str, ...]
    compiler_trust: tuple[str, ...]
    standard_axioms: tuple[str, ...]
    rests_on: tuple[str, ...]
    rests_on_modules: tuple[str, ...]
    closure_size: int
    uses_project: tuple[str, ...] = ()
    native_axioms: tuple[str, ...] | None = None
    pinned: tuple[PinnedDefinition, ...] = ()
    pinned_hash: str = ""
    closure: tuple[str, ...] = ()  # every project constant the proof reaches (names as compiled)
    unresolved: tuple[str, ...] = ()  # reached, but declared neither in a module read nor in the core library

    @property
    def kernel_clean(self) -> bool:
        """No sorry, no project axiom, no compiler trust, nothing the audit could not read: what the kernel
        accepted stands on its own."""
        return not (self.uses_sorry or self.project_axioms or self.compiler_trust or self.unresolved)

    @property
    def status(self) -> str:
        if self.uses_sorry:
            return "sorry"
        if self.project_axioms:
            return "extra-axiom"
        if self.compiler_trust:
            return "compiler-trust"
        if self.unresolved:  # what the audit cannot read, it cannot call clean
            return "unresolved"
        return "proved"


@dataclass(frozen=True)
class MissingTheorem:
    name: str
    module: str
    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class SyntaxExtension:
    """A project constant that changes what Lean text means: a macro, parser, elaborator, ... (`kind`,
    one of `SYNTAX_EXTENSIONS`' values)."""

    kind: str
    name: str
    module: str

    def __str__(self) -> str:
        return f"{self.kind} `{self.name}` ({self.module})"


@dataclass(frozen=True)
class AuditReport:
    lean_version: str
    githash: str
    pointer_bytes: int
    theorems: tuple[TheoremAudit, ...]
    missing: tuple[MissingTheorem, ...]
    declared_axioms: tuple[str, ...]
    limitation: str = LIMITATION
    cross_checked: bool = False
    cross_check_mismatches: tuple[str, ...] = field(default_factory=tuple)
    options: tuple[SourceOption, ...] = ()
    syntax_extensions: tuple[SyntaxExtension, ...] = ()

    def theorem(self, name: str) -> TheoremAudit | None:
        return next((t for t in self.theorems if t.name == name), None)

    def to_json(self) -> dict:
        return to_jsonable(self)


def source_name(olean_name: str) -> str:
    """`_private.Quantproof.Quant.0.Quantproof.index_error` -> `Quantproof.index_error`."""
    match = re.match(r"_private\.(?:[^.]+\.)*?0\.(.+)$", olean_name)
    return match.group(1) if match else olean_name


def _is_auxiliary(name: str) -> bool:
    return bool(re.search(r"\._proof_|\.match_\d|\.proof_\d|\._aux|\._unary|\._sunfold|\.eq_\d|\._private", name))


def statement_hash(const: Constant) -> str:
    text = f"{' '.join(const.level_params)}|{canonical(const.type)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def meaning(const: Constant) -> tuple[str, list[Expr]]:
    """What a constant contributes to the meaning of a statement that mentions it, as text, and the terms
    that text depends on: a definition's body with its type; a theorem's, constructor's or recursor's
    type only (proofs are irrelevant, generated constants follow their type); an inductive type's
    constructors by name (their types are pinned in turn)."""
    terms = [const.type]
    if const.kind in ("def", "opaque") and const.value is not None:
        terms.append(const.value)
    text = "|".join([const.kind, " ".join(const.level_params), *(canonical(term) for term in terms),
                     " ".join(const.ctors)])
    return text, terms


def pinned_hash(statement: str, pinned: tuple[PinnedDefinition, ...]) -> str:
    """One hash over a statement and every project definition it rests on."""
    return _sha("\n".join([statement, *(f"{p.name}={p.hash}" for p in pinned)]))


class Auditor:
    """Walks proof terms through the project's constants."""

    def __init__(self, library: Library, printer: Printer) -> None:
        self.library = library
        self.printer = printer
        self._uses: dict[str, set[str]] = {}

    def uses(self, const: Constant) -> set[str]:
        if const.name not in self._uses:
            found = used_constants(const.type)
            for term in (const.value, *const.extra):
                if term is not None:
                    found |= used_constants(term)
            self._uses[const.name] = found
        return self._uses[const.name]

    def closure(self, const: Constant) -> tuple[set[str], set[str]]:
        """(project constants reached, core constants at the boundary)."""
        inside, boundary = {const.name}, set()
        todo = list(self.uses(const))
        while todo:
            name = todo.pop()
            if name in inside or name in boundary:
                continue
            if self.library.is_project(name):
                inside.add(name)
                todo.extend(self.uses(self.library.project_constants[name][1]))
            else:
                boundary.add(name)
        return inside, boundary

    def pinned(self, const: Constant) -> tuple[PinnedDefinition, ...]:
        """Every project constant the statement depends on, through the definitions' own types and bodies,
        stopping at the core library; each with the hash of its meaning."""
        found: dict[str, str] = {}
        todo = sorted(used_constants(const.type))
        while todo:
            name = todo.pop()
            if name in found or not self.library.is_project(name):
                continue
            dep = self.library.project_constants[name][1]
            text, terms = meaning(dep)
            found[name] = _sha(text)
            for term in terms:
                todo.extend(used_constants(term))
            todo.extend(dep.ctors)
        return tuple(sorted((PinnedDefinition(source_name(n), h) for n, h in found.items()), key=lambda p: p.name))

    def hypotheses(self, type_: Expr) -> tuple[Hypothesis, ...]:
        out, ctx, cur = [], [], type_
        while cur.kind == "forall":
            name, dom, body, info = cur.args
            fresh = self.printer._fresh(name, ctx) if has_loose(body) or info != "default" else "_"
            text = self.printer.pp(dom, ctx, 0)
            head = dom
            while head.kind == "app":
                head = head.args[0]
            if info == "instImplicit":
                role = "instance"
            elif head.kind in ("sort",) or (head.kind == "const" and head.args[0] in VALUE_TYPES):
                role = "variable"
            else:
                role = "hypothesis"
            if fresh == "_":
                fresh = f"h{sum(h.role == 'hypothesis' for h in out) + 1}"
            out.append(Hypothesis(fresh, text, role))
            ctx.append(fresh)
            cur = body
        return tuple(out)

    def audit(self, const: Constant, module: str, file: str, line: int) -> TheoremAudit:
        inside, boundary = self.closure(const)
        declared = {n for n in inside if self.library.project_constants[n][1].kind == "axiom"}
        reached = inside | boundary
        stated = statement_hash(const)
        pinned = self.pinned(const)
        return TheoremAudit(
            name=source_name(const.name), module=module, file=file, line=line,
            statement=self.printer.statement(const.type), statement_hash=stated,
            hypotheses=self.hypotheses(const.type),
            uses_sorry=SORRY in reached,
            project_axioms=tuple(sorted(source_name(n) for n in declared)),
            compiler_trust=tuple(n for n in COMPILER_TRUST if n in reached),
            standard_axioms=tuple(n for n in STANDARD_AXIOMS if n in reached),
            rests_on=tuple(sorted(boundary)),
            rests_on_modules=tuple(sorted({self.library.module_of(n) or "?" for n in boundary})),
            closure_size=len(inside),
            uses_project=tuple(sorted({source_name(n) for n in self.uses(const)
                                       if self.library.is_project(n) and n != const.name})),
            pinned=pinned, pinned_hash=pinned_hash(stated, pinned), closure=tuple(sorted(inside)),
            unresolved=tuple(sorted(n for n in boundary if self.library.module_of(n) is None)),
        )


def audit_build(chain: Toolchain, lean_dir: Path, build: BuildResult) -> AuditReport:
    """Audit every theorem declared in the sources of the modules the build compiled."""
    compiled = [m for m in build.modules if m.compiled]
    library = open_library(chain, lean_dir / BUILD_LIB, [m.module for m in compiled])
    project_prefixes = tuple(sorted({m.module.split(".")[0] for m in build.modules}))
    auditor = Auditor(library, Printer(library.lookup, project_prefixes))
    # each theorem the sources declare is the one compiled in its own module: private theorems of two
    # modules may share a source name
    by_source = {(mod, source_name(n)): c for n, (mod, c) in library.project_constants.items()}
    theorems, missing = [], []
    for module in build.modules:
        for decl in module.declarations:
            if decl.kind not in ("theorem", "lemma"):
                continue
            if not module.compiled:
                missing.append(MissingTheorem(decl.name, module.module, module.file, decl.line,
                                              f"module {module.status}"))
                continue
            found = by_source.get((module.module, decl.name))
            if found is None or found.kind != "theorem":
                missing.append(MissingTheorem(decl.name, module.module, module.file, decl.line,
                                              "not in the compiled module"))
                continue
            theorems.append(auditor.audit(found, module.module, module.file, decl.line))
    declared = sorted(source_name(n) for n, (_, c) in library.project_constants.items()
                      if c.kind == "axiom" and not _is_auxiliary(n))
    extensions = sorted((SyntaxExtension(kind, n, mod) for n, (mod, c) in library.project_constants.items()
                         if (kind := syntax_extension(c)) is not None), key=lambda x: (x.module, x.name))
    header = next(iter(library.project_headers.values()), None)
    return AuditReport(header.lean_version if header else "", header.githash if header else "",
                       header.pointer_size if header else 0, tuple(theorems), tuple(missing), tuple(declared),
                       options=_options(chain, lean_dir, build), syntax_extensions=tuple(extensions))


def syntax_extension(const: Constant) -> str | None:
    """What kind of syntax extension `const` is (a macro, a parser, an elaborator, ...), or None."""
    head = const.type
    while head.kind == "app":
        head = head.args[0]
    return SYNTAX_EXTENSIONS.get(head.args[0]) if head.kind == "const" else None


def _options(chain: Toolchain, lean_dir: Path, build: BuildResult) -> tuple[SourceOption, ...]:
    """The options set in the built modules' sources and in the lakefile."""
    project = load_project(lean_dir)
    resolve(project, list(build.targets), chain.has_core_module)
    return scan_options(project)


# --- native cross-check -----------------------------------------------------------------------------------

_AXIOMS_RE = re.compile(r"'(?P<name>[^']+)' depends on axioms: \[(?P<axioms>[^\]]*)\]")
_NO_AXIOMS_RE = re.compile(r"'(?P<name>[^']+)' does not depend on any axioms")


def parse_print_axioms(text: str) -> dict[str, tuple[str, ...]]:
    """`#print axioms` messages -> theorem name -> axioms."""
    out: dict[str, tuple[str, ...]] = {}
    for match in _AXIOMS_RE.finditer(text):
        out[match["name"]] = tuple(a.strip() for a in match["axioms"].split(",") if a.strip())
    for match in _NO_AXIOMS_RE.finditer(text):
        out[match["name"]] = ()
    return out


def native_cross_check(chain: Toolchain, lean_dir: Path, report: AuditReport,
                       limits: Limits | None = None) -> AuditReport:
    """On a native toolchain: `#print axioms` in a generated non-module file; record disagreements."""
    if chain.kind != "native" or not report.theorems:
        return report
    modules = sorted({t.module for t in report.theorems})
    text = "\n".join([*(f"import {m}" for m in modules), "", *(f"#print axioms {t.name}" for t in report.theorems)])
    run = chain.run_file(text + "\n", search_path=[lean_dir / BUILD_LIB], file_name="PrintAxioms.lean",
                         limits=limits)
    found = parse_print_axioms("\n".join(d.text for d in run.output.diagnostics)
                               + "\n" + run.process.stdout + run.process.stderr)
    theorems, mismatches = [], []
    for t in report.theorems:
        native = found.get(t.name)
        if native is None:
            mismatches.append(f"{t.name}: no #print axioms answer")
        else:
            ours_forbidden = {SORRY} if t.uses_sorry else set()
            ours_forbidden |= set(t.compiler_trust) | set(t.project_axioms)
            theirs_forbidden = {a for a in native if a not in STANDARD_AXIOMS}
            if ours_forbidden != theirs_forbidden:
                mismatches.append(f"{t.name}: olean audit {sorted(ours_forbidden)} vs #print axioms "
                                  f"{sorted(theirs_forbidden)}")
        theorems.append(replace(t, native_axioms=native))
    return replace(report, theorems=tuple(theorems), cross_checked=True, cross_check_mismatches=tuple(mismatches))


def imported_modules(project_lib: Path, imports: list[str], psize: int) -> list[str]:
    """The compiled modules under `project_lib` that `imports` reach, directly or not (core modules live
    elsewhere). Only these can hold what a module's proofs use; other modules, such as a benchmark's
    variants of one lemma, may reuse a name."""
    found: set[str] = set()
    todo = list(imports)
    while todo:
        module = todo.pop()
        base = project_lib / Path(*module.split("."))
        if module in found or not base.with_name(base.name + ".olean").is_file():
            continue
        found.add(module)
        todo.extend(ModuleReader(load_module(base, psize)).imports())
    return sorted(found)


def audit_theorem(chain: Toolchain, project_lib: Path, module_base: Path, name: str) -> TheoremAudit | None:
    """The audit of theorem `name` compiled into the module at `module_base` (`X` of `X.olean`), which may
    live outside the project (a candidate proof); its proof walks through the project's compiled
    modules under `project_lib`. None if the module holds no such theorem."""
    psize = chain.version.pointer_bytes
    reader = ModuleReader(load_module(module_base, psize))
    library = open_library(chain, project_lib, imported_modules(project_lib, reader.imports(), psize))
    found = None
    plain = name.replace("«", "").replace("»", "")  # compiled names are joined unescaped: `A.odd name`
    for const in reader.constants():
        library.project_constants[const.name] = (module_base.name, const)
        if source_name(const.name) == plain and const.kind == "theorem":
            found = const
    if found is None:
        return None
    return Auditor(library, Printer(library.lookup)).audit(found, module_base.name, "", 0)


def audit_or_error(chain: Toolchain, lean_dir: Path, build: BuildResult) -> AuditReport:
    try:
        return native_cross_check(chain, lean_dir, audit_build(chain, lean_dir, build))
    except DuplicateConstant as exc:
        raise UserError(f"cannot audit the compiled project: {exc}", hint="rename one of them") from None
    except OleanError as exc:
        raise UserError(f"cannot audit the compiled project: {exc}", hint="rebuild with `quantproof build`") from None
