"""`quantproof build` against the real Lean on a fixture project: diagnostics, exit codes, incrementality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import copy_fixture, run_cli
from verifier.lean.build import BuildOptions, build
from verifier.lean.process import Limits


def _copy_built(src: Path, dest: Path) -> Path:
    target = dest / "proj"
    shutil.copytree(src, target)
    return target


def test_globs_select_modules_as_lake_does(tmp_path):
    """`A` is one module, `A.+` its submodules only, `A.*` it and its submodules (Lake's `Glob`)."""
    from verifier.lean.project import load_project, resolve

    (tmp_path / "lakefile.toml").write_text('name = "g"\n' + "".join(
        f'[[lean_lib]]\nname = "{name}"\nglobs = ["{glob}"]\n'
        for name, glob in (("One", "A"), ("Strict", "A.+"), ("Both", "A.*"))))
    for rel in ("A.lean", "A/B.lean", "A/C/D.lean"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("module\n")

    def selected(target: str) -> list[str]:
        return sorted(resolve(load_project(tmp_path), [target], lambda _: True).nodes)

    assert selected("One") == ["A"]
    assert selected("Strict") == ["A.B", "A.C.D"]
    assert selected("Both") == ["A", "A.B", "A.C.D"]


def test_good_module_and_its_importer_compile(cold):
    _, result = cold
    assert result.module("Fix.Good").status == "built"
    assert result.module("Fix.UsesGood").status == "built"
    # Good.lean's doc comment holds a line of JSON shaped like a Lean message; it must not surface
    assert not result.module("Fix.Good").diagnostics
    decls = {d.name: d for d in result.module("Fix.UsesGood").declarations}
    assert set(decls) == {"Fix.triple_two", "Fix.triple_twice"}
    assert all(d.errors == 0 and not d.sorry for d in decls.values())


def test_type_error_is_reported_at_its_line(cold):
    root, result = cold
    broken = result.module("Fix.Broken")
    assert broken.status == "failed"
    errors = [d for d in broken.diagnostics if d.severity == "error"]
    assert errors and all(d.line == 7 for d in errors)
    assert errors[0].file == "buildproj/Fix/Broken.lean"
    assert "String" in errors[0].text and "Nat" in errors[0].text
    decls = {d.name: d for d in broken.declarations}
    assert decls["wrong"].errors == 1
    assert decls["fine"].errors == 0 and decls["after_error"].errors == 0
    assert not (root / ".lake/build/lib/lean/Fix/Broken.qptrace").exists()


def test_sorry_is_incomplete_not_ok(cold):
    _, result = cold
    module = result.module("Fix.Sorry")
    assert module.status == "incomplete"
    sorry = [d for d in module.diagnostics if d.is_sorry]
    assert len(sorry) == 1 and sorry[0].kind == "hasSorry" and sorry[0].line == 7
    decls = {d.name: d for d in module.declarations}
    assert decls["unproved"].sorry and not decls["proved"].sorry
    assert result.status == "failed" and result.exit_code(allow_sorry=True) == 1


def test_exit_codes_per_target(cold):
    root, _ = cold
    good = run_cli("build", "--project", str(root), "Good")
    assert good.returncode == 0, good.stderr
    assert "build OK" in good.stdout
    sorry = run_cli("build", "--project", str(root), "Sorry")
    assert sorry.returncode == 1 and "INCOMPLETE" in sorry.stdout
    assert "Fix/Sorry.lean:7:15: warning: declaration uses `sorry`" in sorry.stdout
    allowed = run_cli("build", "--project", str(root), "--allow-sorry", "Sorry")
    assert allowed.returncode == 0
    broken = run_cli("build", "--project", str(root), "Broken")
    assert broken.returncode == 1 and "FAILED" in broken.stdout
    assert "Fix/Broken.lean:7:" in broken.stdout


def test_noop_rebuild_runs_no_lean(cold, toolchain):
    root, _ = cold
    again = build(root, toolchain, BuildOptions(jobs=2, targets=("Good", "Sorry")))
    assert {m.status for m in again.modules} == {"up-to-date", "incomplete"}
    assert not any(m.rebuilt for m in again.modules)
    # the cached result still carries the sorry warning: a warm build never hides it
    assert again.module("Fix.Sorry").has_sorry and again.exit_code(allow_sorry=False) == 1


def test_json_result_is_documented_shape(cold):
    root, _ = cold
    proc = run_cli("build", "--project", str(root), "--json", "Good")
    data = json.loads(proc.stdout)
    assert data["schema_version"] == 1 and data["status"] == "ok"
    assert [m["module"] for m in data["modules"]] == ["Fix.Good", "Fix.UsesGood"]
    first = data["modules"][0]
    assert set(first) >= {"module", "file", "status", "diagnostics", "declarations", "elapsed_s", "outputs"}
    assert set(first["outputs"]) >= {".olean", ".ilean"}


def test_source_change_rebuilds_module_and_importers(cold, toolchain, tmp_path):
    root = _copy_built(cold[0], tmp_path)
    good = root / "Fix" / "Good.lean"
    good.write_text(good.read_text().replace("3 * n", "n + n + n").replace("omega", "omega -- changed"))
    result = build(root, toolchain, BuildOptions(jobs=2, targets=("Good",)))
    assert [(m.module, m.status) for m in result.modules] == [("Fix.Good", "built"), ("Fix.UsesGood", "built")]


def test_importer_change_rebuilds_only_it(cold, toolchain, tmp_path):
    root = _copy_built(cold[0], tmp_path)
    uses = root / "Fix" / "UsesGood.lean"
    uses.write_text(uses.read_text() + "\npublic theorem Fix.triple_zero : Fix.triple 0 = 0 := rfl\n")
    result = build(root, toolchain, BuildOptions(jobs=1, targets=("Good",)))
    assert [(m.module, m.status) for m in result.modules] == [("Fix.Good", "up-to-date"),
                                                               ("Fix.UsesGood", "built")]
    assert "Fix.triple_zero" in {d.name for d in result.module("Fix.UsesGood").declarations}


def test_truncated_olean_is_detected_and_rebuilt(cold, toolchain, tmp_path):
    root = _copy_built(cold[0], tmp_path)
    olean = root / ".lake/build/lib/lean/Fix/Good.olean"
    before = olean.read_bytes()
    olean.write_bytes(before[: len(before) // 2])
    result = build(root, toolchain, BuildOptions(jobs=1, targets=("Good",)))
    assert result.module("Fix.Good").status == "built"
    after = olean.read_bytes()
    assert len(after) > len(before) // 2 and after[:5] == b"olean"
    # the importer is rebuilt exactly when the rebuilt .olean differs (Lean's output is not always
    # byte-identical across runs); an identical one leaves it alone, as Lake's traces would
    expected = "up-to-date" if after == before else "built"
    assert result.module("Fix.UsesGood").status == expected


def test_memory_watchdog_kills_lean_and_says_so(toolchain, tmp_path):
    root = copy_fixture("buildproj", tmp_path)
    result = build(root, toolchain, BuildOptions(jobs=1, targets=("Good",),
                                                 limits=Limits(memory_bytes=300 * 1024**2)))
    good = result.module("Fix.Good")
    assert good.status == "killed" and "memory limit" in (good.killed or "")
    assert result.module("Fix.UsesGood").status == "skipped"
    assert result.status == "failed" and result.exit_code(allow_sorry=True) == 1
    assert not (root / ".lake/build/lib/lean/Fix/Good.qptrace").exists()


def test_the_longest_chain_of_waiting_work_starts_first():
    import networkx as nx

    from verifier.lean.build.portable import JOB_BYTES, critical_first
    from verifier.lean.project import load_project, resolve

    # a -> b -> c (a imports b imports c) is long; d is one big module; e small. c heads the longest chain.
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("top", "a"), ("top", "d"), ("top", "e")])

    class Src:
        def __init__(self, n: int) -> None:
            self.source = b"x" * n

    sizes = {"a": 3000, "b": 3000, "c": 3000, "d": 7000, "e": 10, "top": 10}
    order = critical_first(graph, {k: Src(v) for k, v in sizes.items()})
    assert order[:3] == ["c", "b", "d"] and order[-1] == "top"
    assert order.index("d") < order.index("e")
    # with every module the same size, chain length alone decides
    flat = critical_first(graph, {k: Src(0) for k in sizes})
    assert flat[0] == "c" and flat[1] == "b" and flat[-1] == "top" and JOB_BYTES > 0
    # the real project: the longest chain of imports starts first, and every module is scheduled once
    project = load_project(Path(__file__).resolve().parents[1] / "lean")
    real = resolve(project, list(project.default_targets), lambda name: name.split(".")[0] in ("Init", "Lean", "Std"))
    queue = critical_first(real, project.modules)
    assert sorted(queue) == sorted(real.nodes) and queue[0] == "Quantproof.Rat"


def test_heaviest_chains_go_either_way_through_the_imports():
    import networkx as nx

    from verifier.lean.project import heaviest_chains

    # top imports a and d; a imports b. Through importers: what waits on a module; through imports: what it
    # waits on (the benchmark's critical path).
    graph = nx.DiGraph([("top", "a"), ("a", "b"), ("top", "d")])
    weight = {"top": 1.0, "a": 2.0, "b": 4.0, "d": 8.0}.__getitem__
    assert heaviest_chains(graph, weight, via_importers=True) == {"top": 1, "a": 3, "d": 9, "b": 7}
    assert heaviest_chains(graph, weight, via_importers=False) == {"b": 4, "a": 6, "d": 8, "top": 9}
