"""What the project sets for Lean, read from its sources and its lakefile (no Lean needed)."""

from __future__ import annotations

from verifier.lean.options import scan_options
from verifier.lean.project import load_project, resolve

LAKEFILE = """name = "opts"
defaultTargets = ["X"]
moreLeanArgs = ["-DmaxHeartbeats=400", "--plugin=libEvil.so", "-D", "debug.skipKernelTC=true", "--json"]
precompileModules = true

[[lean_lib]]
name = "X"
leanOptions = { pp = { all = true } }
plugins = ["Evil"]
"""


def test_lakefile_arguments_and_native_code_are_judged(tmp_path):
    (tmp_path / "lakefile.toml").write_text(LAKEFILE)
    (tmp_path / "X.lean").write_text("module\n\nset_option maxRecDepth 2000\n")
    project = load_project(tmp_path)
    resolve(project, ["X"], lambda name: name.split(".")[0] in ("Init", "Std", "Lean"))
    found = {(o.name, o.value): o for o in scan_options(project)}
    verdicts = {key: o.verdict for key, o in found.items()}
    assert verdicts == {
        ("maxRecDepth", "2000"): "harmless", ("maxHeartbeats", "400"): "harmless", ("pp.all", "True"): "harmless",
        ("debug.skipKernelTC", "true"): "weakens", ("--plugin=libEvil.so", ""): "weakens",
        ("--json", ""): "unknown", ("precompileModules", "True"): "weakens", ("plugins", "['Evil']"): "weakens",
    }
    assert found[("--plugin=libEvil.so", "")].line == 3 and found[("plugins", "['Evil']")].line == 9
    assert all(o.fails for o in found.values() if o.verdict != "harmless")
