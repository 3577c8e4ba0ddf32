"""The long-lived Lean session (prover backend (c)) with the real Lean: answers carry the request's own
line numbers, questions leave no trace, the preamble grows in place, and a runaway request or a memory
limit kills the process (the next question starts a fresh one)."""

from __future__ import annotations

import pytest

from prover.target import load_target
from tests.helpers import copy_fixture
from verifier.lean.process import Limits
from verifier.lean.session import LeanSession


@pytest.fixture(scope="module")
def goals(tmp_path_factory):
    return copy_fixture("proverproj", tmp_path_factory.mktemp("session")) / "Pv" / "Goals.lean"


def test_session_answers_grows_and_recovers(toolchain, goals):
    first, later = load_target(goals, "total_append"), load_target(goals, "uses_helper")
    session = LeanSession(toolchain, first.preamble, [])
    try:
        closed = session.ask("example (n : Nat) : total [n] = n := by\n  simp [total]")
        assert closed.failed is None and closed.diagnostics == ()

        open_goal = session.ask("example (xs : List Nat) : total (xs ++ []) = total xs := by\n  skip")
        [diag] = open_goal.diagnostics
        assert diag.kind == "Tactic.unsolvedGoals" and diag.line == 1 and "⊢ total (xs ++ []) = total xs" in diag.text

        wrong = session.ask("example : 2 + 2 = 5 := by\n  decide")
        assert [d.line for d in wrong.diagnostics] == [2] and "is false" in wrong.diagnostics[0].text

        assert session.ask("theorem scratch_fact : True := trivial").diagnostics == ()
        forgotten = session.ask("example : True := scratch_fact")
        assert "Unknown identifier" in forgotten.diagnostics[0].text  # a question's declarations are dropped

        assert "helper" not in first.preamble.split("theorem total_append")[0]
        session.advance(later.preamble)  # now total_append, false_claim and helper are declared (sorry'd)
        assert session.ask("example (n : Nat) : n = n + 0 := helper n").diagnostics == ()
        assert session.starts == 1  # grown in place, not restarted

        runaway = session.ask("example : True := by\n  sleep 20000\n  trivial", deadline_s=3)
        assert runaway.failed == "deadline passed" and session.proc is None
        again = session.ask("example (n : Nat) : n = n + 0 := helper n")  # a fresh process, same preamble
        assert again.failed is None and again.diagnostics == () and session.starts == 2
    finally:
        session.close()
    assert session.proc is None


def test_session_memory_limit(toolchain, goals):
    session = LeanSession(toolchain, load_target(goals, "total_append").preamble, [],
                          Limits(memory_bytes=300 * 2**20))
    try:
        with pytest.raises(RuntimeError, match="memory limit"):
            session.ask("example : True := trivial")
    finally:
        session.close()
