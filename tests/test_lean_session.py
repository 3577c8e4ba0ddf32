"""The long-lived Lean session with the real Lean: answers carry the request's own line numbers, questions
leave no trace, the preamble grows in place, another file with the same header is served after a reset,
a runaway request or a memory limit kills the process (the next question starts a fresh one), and proof
states are kept, run from with no replay, reported as data, and freed."""

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
        answer = session.ask("example : True := trivial")
        assert answer.failed is not None and "memory limit" in answer.failed
    finally:
        session.close()


PREAMBLE = "module\n\ndef double (n : Nat) : Nat := n + n\n"


def test_proof_states_without_replay(toolchain):
    session = LeanSession(toolchain, PREAMBLE, [])
    try:
        root = session.start_proof("(x : Nat) (h : 0 < x) : ∃ y, y + 1 = x ∧ double y < double x").state
        assert root is not None and len(root.goals) == 1 and not root.coupled
        [goal] = root.goals
        assert goal.hyps == (("x", "Nat"), ("h", "0 < x")) and goal.target == "∃ y, y + 1 = x ∧ double y < double x"
        assert goal.mvar.startswith("_uniq.")

        split = session.run_tac(root.id, "refine ⟨x - 1, ?_, ?_⟩").state
        assert split is not None and not split.coupled
        assert [(g.tag, g.target) for g in split.goals] == [("refine_1", "x - 1 + 1 = x"),
                                                          ("refine_2", "double (x - 1) < double x")]
        # the root is kept as it was: another tactic runs from it, not from where the last one left it
        coupled = session.run_tac(root.id, "constructor").state
        assert coupled is not None and coupled.coupled and "?w" in coupled.goals[0].target

        # each independent goal alone, by its index
        assert session.run_tac(split.id, "omega", goal=1).state.goals == ()
        assert session.run_tac(split.id, "(simp only [double]; omega)", goal=2).state.goals == ()
        assert "omega could not prove" in session.run_tac(split.id, "omega", goal=2).error

        assert "Type mismatch" in session.run_tac(root.id, "exact rfl").error
        assert "sorry" in session.run_tac(root.id, "sorry").error  # the session refuses it too
        tight = session.run_tac(split.id, "(simp only [double]; omega)", goal=2, heartbeats=1)
        assert tight.state is None and "heartbeats" in tight.error  # a runtime error is an answer
        assert session.running and session.starts == 1

        named = session.start_proof("(xs : List Nat) : xs ++ [] = xs").state
        cases = session.run_tac(named.id, "induction xs").state
        assert [g.tag for g in cases.goals] == ["nil", "cons"]
        assert any(name.endswith("✝") for name, _ in cases.goals[1].hyps)  # inaccessible names marked

        session.free([split.id])
        assert session.run_tac(split.id, "omega", goal=1).error == f"no proof state {split.id}"
        assert session.run_tac(root.id, "omega").error is not None and session.starts == 1
    finally:
        session.close()


def test_one_session_per_header(toolchain):
    session = LeanSession(toolchain, "module\n\ndef alpha : Nat := 1\n", [])
    try:
        assert session.ask("example : alpha = 1 := rfl").diagnostics == ()
        kept = session.start_proof(": alpha = 1").state
        session.advance("module\n\ndef beta : Nat := 2\n")  # same header: reset, then the new text
        assert session.ask("example : beta = 2 := rfl").diagnostics == ()
        assert "Unknown identifier" in session.ask("#check alpha").diagnostics[0].text
        assert session.run_tac(kept.id, "rfl").error == f"no proof state {kept.id}"  # the reset dropped it
        assert session.starts == 1
        session.advance("module\nimport Lean.Data.Json\n\ndef gamma : Nat := 3\n")  # another header
        assert session.ask("example : gamma = 3 := rfl").diagnostics == () and session.starts == 2
    finally:
        session.close()
