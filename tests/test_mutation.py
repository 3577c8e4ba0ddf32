"""The mutation screen (verifier/benchmarks/mutation.py): its mutants are real, single changes, and a mutant
run in a fresh interpreter is judged by what the checks saw."""

from __future__ import annotations

import ast
import json
from dataclasses import asdict

from tests.helpers import REPO
from verifier.benchmarks.mutation import MODULES, Mutant, Site, _run, judge, mutants, summary


def test_every_mutant_is_one_compiling_change_of_a_function():
    for module in ("verifier.kernels.activations", "verifier.planner"):
        original = ast.dump(ast.parse((REPO / module.replace(".", "/")).with_suffix(".py").read_text()))
        found = mutants(module)
        assert len(found) >= 15
        for m in found:
            assert m.site.before != m.site.after and m.site.function and m.site.module == module
            assert ast.dump(ast.parse(m.source)) != original
            compile(m.source, module, "exec")
        assert {m.site.kind for m in found} >= {"operator", "comparison", "plus one", "minus one"}
        # type hints are not mutated
        assert not any("None" in m.site.before for m in found if m.site.kind == "operator")
    assert set(MODULES) >= {"verifier.kernels.pack", "verifier.kernels.matmul", "verifier.planner"}


def _where(kind: str = "operator") -> Mutant:
    return Mutant(Site("verifier.kernels.activations", "f", 1, kind, "a / b", "a * b"), "")


def test_verdicts_follow_what_the_checks_saw():
    base = {"failed": None, "cases": {"quantize:0": "x", "plan_shape:1": "y"}}
    assert judge(_where(), None, base, 1.0).verdict == "timeout"
    assert judge(_where(), {"crashed": "exit -11"}, base, 1.0).verdict == "crash"
    assert judge(_where(), {"import_error": "ValueError"}, base, 1.0).verdict == "import"
    seen = judge(_where(), {"failed": "activation_quantization", "cases": {}}, base, 1.0)
    assert (seen.verdict, seen.caught_by) == ("property", ("activation_quantization",))
    moved = judge(_where(), {"failed": None, "cases": {"quantize:0": "z", "plan_shape:1": "y"}}, base, 1.0)
    assert (moved.verdict, moved.caught_by) == ("differential", ("quantize",))
    assert judge(_where(), {"failed": None, "error": "ValueError: first"}, base, 1.0).verdict == "error"
    kept = judge(_where(), {"failed": None, "cases": dict(base["cases"])}, base, 1.0)
    assert kept.verdict == "survived"
    figures = summary([seen, moved, kept])
    assert figures["by_module"] == {"verifier.kernels.activations": {"property": 1, "differential": 1, "survived": 1}}
    assert figures["survivors"] == ["verifier.kernels.activations.f:1 operator: a / b -> a * b"]
    assert Mutant.from_json(json.loads(json.dumps(asdict(_where("comparison"))))) == _where("comparison")


def test_a_real_fault_is_caught_in_a_fresh_interpreter():
    """Activation scales of max|x| * 127 instead of max|x| / 127 fail the activation property."""
    fault = next(m for m in mutants("verifier.kernels.activations")
                 if m.site.function == "activation_scales" and m.site.before == "peak / ACT_MAX")
    seen = _run(fault, timeout=300)
    assert seen is not None and seen.get("failed") == "activation_quantization", seen
