"""The independent axiom audit, against a fixture holding each case, and the .olean reader itself."""

from __future__ import annotations

import shutil
import stat

import pytest

from tests.helpers import copy_fixture, one_line_error, run_cli
from verifier.lean import decoded
from verifier.lean.audit import audit_build, audit_theorem, native_cross_check, parse_print_axioms, source_name
from verifier.lean.build import BuildOptions, build
from verifier.lean.expr import Constant, Expr, ModuleReader
from verifier.lean.library import DuplicateConstant, build_core_index, open_library
from verifier.lean.olean import Olean, OleanError, load_module
from verifier.lean.pretty import canonical
from verifier.lean.project import BUILD_LIB


@pytest.fixture(scope="module")
def audited(tmp_path_factory, toolchain):
    root = copy_fixture("auditproj", tmp_path_factory.mktemp("audit"))
    built = build(root, toolchain, BuildOptions(jobs=2))
    assert built.status == "incomplete"  # the fixture's sorry
    return root, built, audit_build(toolchain, root, built)


def test_each_case_is_told_apart(audited):
    _, _, report = audited
    by = {t.name: t for t in report.theorems}
    assert by["Aud.clean"].status == "proved" and by["Aud.clean"].standard_axioms == ()
    assert by["Aud.withSorry"].status == "sorry"
    assert by["Aud.viaSorry"].status == "sorry"  # only through another theorem
    assert by["Aud.fromAxiom"].status == "extra-axiom" and by["Aud.fromAxiom"].project_axioms == ("Aud.magic",)
    assert by["Aud.byNative"].status == "compiler-trust" and "Lean.ofReduceBool" in by["Aud.byNative"].compiler_trust
    assert by["Aud.usesTrust"].compiler_trust == ("Lean.trustCompiler",)
    assert by["Aud.usesPropext"].status == "proved" and by["Aud.usesPropext"].standard_axioms == ("propext",)
    assert by["Aud.hidden"].status == "proved"  # a private theorem, under its source name
    assert report.declared_axioms == ("Aud.magic",)
    kinds = {x.kind for x in report.syntax_extensions}
    assert {"macro", "syntax"} <= kinds and all(x.module == "Aud" for x in report.syntax_extensions)
    assert all(str(x) == f"{x.kind} `{x.name}` (Aud)" for x in report.syntax_extensions)
    assert report.pointer_bytes == 4 and report.lean_version.startswith("4.28")


def test_statements_are_printed_for_reviewers(audited):
    _, _, report = audited
    by = {t.name: t for t in report.theorems}
    assert by["Aud.usesPropext"].statement == "∀ (a b : Prop), (a ↔ b) → a = b"
    assert by["Aud.hidden"].statement == "∀ (x : Int), 0 ≤ x → 0 ≤ x + x"
    assert [h.statement for h in by["Aud.hidden"].hypotheses if h.role == "hypothesis"] == ["0 ≤ x"]
    assert by["Aud.clean"].rests_on and "Init.Prelude" in by["Aud.clean"].rests_on_modules


def test_statement_hash_follows_the_statement_only(audited, toolchain, tmp_path):
    root, _, report = audited
    before = {t.name: t.statement_hash for t in report.theorems}
    copy = tmp_path / "auditproj"
    shutil.copytree(root, copy)
    cases = copy / "Aud" / "Cases.lean"
    text = cases.read_text()
    text = text.replace("theorem clean (n : Nat) : n + 0 = n := rfl", "theorem clean (n : Nat) : n + 0 = n := by simp")
    text = text.replace("(x : Int) (h : 0 ≤ x) : 0 ≤ x + x", "(x : Int) (h : 0 ≤ x) : 0 ≤ x + x + x")
    cases.write_text(text)
    after = audit_build(toolchain, copy, build(copy, toolchain, BuildOptions(jobs=2)))
    changed = {t.name for t in after.theorems if t.statement_hash != before[t.name]}
    assert changed == {"Aud.hidden"}  # a new proof of the same statement keeps its hash


# Modules that answer to a name another constant has: nothing imports them beside Aud.Cases, so Lean builds them.
TWINS = {
    "Twin": "module\n\nnamespace Aud\n\npublic theorem clean (n : Nat) : n + 0 = n := rfl\n\nend Aud\n",
    "Odd": "module\n\n/-- One atomic name, `Aud.usesPropext` once joined. -/\n"
           "public theorem «Aud.usesPropext» : True := trivial\n",
    "Core": "prelude\n\n/-- The core library's `True`, declared again. -/\n"
            "public inductive True : Prop where\n  | intro\n",
}


def test_a_name_two_constants_answer_to_is_refused(audited, toolchain, tmp_path):
    """Else the audit could read one constant while a proof uses the other."""
    root, _, _ = audited
    copy = tmp_path / "auditproj"
    shutil.copytree(root, copy)
    # first a private theorem of the same source name as Aud.Cases' own, in a module of its own: legal Lean
    (copy / "Aud" / "Shadow.lean").write_text(
        "module\n\npublic import Aud.Cases\n\nnamespace Aud\n\nprivate theorem hidden (x : Int) (h : 0 ≤ x) : "
        "0 ≤ x + x := sorry\n\npublic theorem usesClean (n : Nat) : n + 0 = n := clean n\n\nend Aud\n")
    shadowed = audit_build(toolchain, copy, build(copy, toolchain, BuildOptions(jobs=2)))
    hidden = {t.module: t.status for t in shadowed.theorems if t.name == "Aud.hidden"}
    assert hidden == {"Aud.Cases": "proved", "Aud.Shadow": "sorry"}  # each read from its own module
    # a constant the audit cannot read is never called clean
    shadow = copy / BUILD_LIB / "Aud" / "Shadow"
    assert audit_theorem(toolchain, copy / BUILD_LIB, shadow, "Aud.usesClean").status == "proved"
    lost = audit_theorem(toolchain, tmp_path / "nowhere", shadow, "Aud.usesClean")
    assert lost.status == "unresolved" and lost.unresolved == ("Aud.clean",)
    for name, text in TWINS.items():
        (copy / "Aud" / f"{name}.lean").write_text(text)
    built = build(copy, toolchain, BuildOptions(jobs=2))
    assert {m.module for m in built.modules if m.compiled} >= {"Aud.Twin", "Aud.Odd", "Aud.Core"}
    lib = copy / BUILD_LIB
    for module, says in (("Aud.Twin", r"Aud\.clean is declared twice \(in Aud\.Cases and in Aud\.Twin\)"),
                         ("Aud.Odd", r"Aud\.usesPropext is declared twice \(in Aud\.Cases and in Aud\.Odd\)"),
                         ("Aud.Core", r"Aud\.Core declares True(\.\w+)?, which the core library declares")):
        with pytest.raises(DuplicateConstant, match=says):
            open_library(toolchain, lib, ["Aud.Cases", module])
    alone = open_library(toolchain, lib, ["Aud.Twin", "Aud.Odd"]).project_constants  # no one's twins
    assert {"Aud.clean", "Aud.usesPropext"} <= set(alone)
    line = one_line_error(run_cli("audit", "--project", str(copy)))
    assert "cannot audit the compiled project:" in line and "declare" in line


def test_cli_audit_exit_status(audited):
    root, _, _ = audited
    proc = run_cli("audit", "--project", str(root))
    assert proc.returncode == 1
    assert "extra-axiom     Aud.fromAxiom  [Aud.magic]" in proc.stdout
    assert "declared axioms: Aud.magic" in proc.stdout


def test_truncated_olean_is_a_clear_error(audited, tmp_path):
    root, _, _ = audited
    olean = root / ".lake/build/lib/lean/Aud/Cases.olean.private"
    broken = tmp_path / "Cases.olean"
    broken.write_bytes(olean.read_bytes()[:60])
    with pytest.raises(OleanError, match=r"Cases\.olean"):
        Olean(broken)


def test_multi_part_module_resolves_across_parts(audited):
    root, _, _ = audited
    image = load_module(root / ".lake/build/lib/lean/Aud/Cases", 4)
    assert image.path.name == "Cases.olean.private" and len(image.others) == 2
    assert image.header.base_addr > image.others[0].header.base_addr  # later parts map above earlier ones


def _flat(constants) -> list[tuple]:
    """Everything a constant holds, its terms as canonical text (== on deep terms would recurse)."""
    return [(c.name, c.kind, c.level_params, canonical(c.type), c.value and canonical(c.value), c.is_unsafe,
             tuple(canonical(e) for e in c.extra), c.ctors) for c in constants]


def test_decoded_cache_holds_what_the_olean_holds(audited, toolchain, tmp_path, monkeypatch):
    root, built, _ = audited
    psize = toolchain.version.pointer_bytes
    monkeypatch.setattr(decoded, "cache_root", lambda: tmp_path)
    bases = [root / BUILD_LIB / m.module.replace(".", "/") for m in built.modules if m.compiled]
    for base in bases:
        direct = _flat(ModuleReader(load_module(base, psize)).constants())
        assert _flat(decoded.module_constants(base, psize)[1]) == direct  # decoded, then written
        assert _flat(decoded.module_constants(base, psize)[1]) == direct  # read back
    entries = sorted((tmp_path / "decoded").iterdir())
    assert len(entries) == len(bases) and all(e.suffix == ".marshal" for e in entries)
    for entry in entries:  # a damaged entry is decoded afresh, never trusted
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    fresh = ModuleReader(load_module(bases[0], psize)).constants()
    assert _flat(decoded.module_constants(bases[0], psize)[1]) == _flat(fresh)
    with pytest.raises(ValueError, match="not a decoded-module cache entry"):
        decoded.decode(b"\x00garbage")


def test_decoded_cache_refuses_a_term_shape_it_does_not_know():
    leaf = Expr("sort", ("0",))
    shaped = Constant("c", "def", (), Expr("app", (leaf, leaf)), Expr("app", (leaf, leaf)))
    assert _flat(decoded.decode(decoded.encode([shaped]))) == _flat([shaped])
    for odd in (Expr("mdata", ("note", leaf)), Expr("sort", (leaf,))):  # a sub-term where none is expected
        with pytest.raises(ValueError, match="EXPR_SLOTS"):
            decoded.encode([Constant("c", "def", (), odd, None)])


def test_decoded_cache_key_follows_the_bytes(audited, toolchain, tmp_path):
    root, built, _ = audited
    psize = toolchain.version.pointer_bytes
    module = next(m.module for m in built.modules if m.compiled)
    source = root / BUILD_LIB / f"{module.replace('.', '/')}.olean"
    copy = tmp_path / "Copy.olean"
    shutil.copy(source, copy)
    before = decoded._key(load_module(tmp_path / "Copy", psize))
    data = bytearray(copy.read_bytes())
    data[-1] ^= 1  # the last byte of the object region: the header still reads
    copy.write_bytes(bytes(data))
    assert decoded._key(load_module(tmp_path / "Copy", psize)) != before


def test_core_index_finds_the_standard_axioms(toolchain):
    index = build_core_index(toolchain)
    assert index["propext"] == "Init.Core" and index["Classical.choice"] == "Init.Prelude"
    assert len(index) > 100_000


def test_source_names():
    assert source_name("_private.Quantproof.Quant.0.Quantproof.index_error") == "Quantproof.index_error"
    assert source_name("Quantproof.quantize") == "Quantproof.quantize"


def test_print_axioms_output_is_parsed():
    text = ("'Aud.clean' does not depend on any axioms\n"
            "'Aud.usesPropext' depends on axioms: [propext]\n"
            "'Aud.byNative' depends on axioms: [Lean.ofReduceBool, Lean.trustCompiler]\n")
    assert parse_print_axioms(text) == {"Aud.clean": (), "Aud.usesPropext": ("propext",),
                                        "Aud.byNative": ("Lean.ofReduceBool", "Lean.trustCompiler")}


def test_native_cross_check_flags_disagreement(audited, tmp_path):
    """On a native toolchain `#print axioms` is run; a stand-in `lean` answers here."""
    root, _, report = audited
    answers = "\n".join(f"'{t.name}' depends on axioms: [propext]" if t.name != "Aud.withSorry"
                        else f"'{t.name}' depends on axioms: [sorryAx]" for t in report.theorems)
    fake = tmp_path / "lean"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{answers}\nEOF\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    from verifier.lean.toolchain.base import LeanVersion, Toolchain

    chain = Toolchain("native", LeanVersion("4.28.0", "x86_64-unknown-linux-gnu", "0" * 40), (str(fake),),
                      tmp_path)
    checked = native_cross_check(chain, root, report)
    assert checked.cross_checked
    # the stand-in claims no sorry in viaSorry and no axiom in fromAxiom/byNative: each is a mismatch
    flagged = {m.split(":")[0] for m in checked.cross_check_mismatches}
    assert {"Aud.viaSorry", "Aud.fromAxiom", "Aud.byNative", "Aud.usesTrust"} <= flagged
    assert "Aud.withSorry" not in flagged and "Aud.clean" not in flagged


def test_audit_of_missing_project_is_one_line(tmp_path):
    line = one_line_error(run_cli("audit", "--project", str(tmp_path / "nowhere")))
    assert "no Lean project" in line
