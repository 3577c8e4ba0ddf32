"""The mutation screen (verifier/benchmarks/mutation.py): its mutants are real, single changes, and a mutant
run in a fresh interpreter is judged by what the checks saw."""

from __future__ import annotations

import ast

from tests.helpers import REPO
from verifier.benchmarks.mutation import MODULES, Mutant, _run, judge, mutants


def test_every_mutant_is_one_compiling_change_of_a_function():
    for module in ("verifier.kernels.activations", "verifier.planner"):
        original = ast.dump(ast.parse((REPO / module.replace(".", "/")).with_suffix(".py").read_text()))
        found = mutants(module)
        assert len(found) >= 15
        for m in found:
            assert m.before != m.after and m.function
            assert ast.dump(ast.parse(m.source)) != original
            compile(m.source, m.module, "exec")
        assert {m.kind for m in found} >= {"operator", "comparison", "plus one", "minus one"}
        assert not any("None" in m.before for m in found if m.kind == "operator")  # type hints are not mutated
    assert set(MODULES) >= {"verifier.kernels.pack", "verifier.kernels.matmul", "verifier.planner"}


def _where(kind: str = "operator") -> Mutant:
    return Mutant("verifier.kernels.activations", "f", 1, kind, "a / b", "a * b", "")


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
    assert judge(_where(), {"failed": None, "cases": dict(base["cases"])}, base, 1.0).verdict == "survived"


def test_a_real_fault_is_caught_in_a_fresh_interpreter():
    """Activation scales of max|x| * 127 instead of max|x| / 127 fail the activation property."""
    fault = next(m for m in mutants("verifier.kernels.activations")
                 if m.function == "activation_scales" and m.before == "peak / ACT_MAX")
    seen = _run(fault, timeout=300)
    assert seen is not None and seen.get("failed") == "activation_quantization", seen
