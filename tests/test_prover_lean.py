"""`quantproof prove` and `quantproof bench` with the real Lean: a proof found, checked by the kernel
and written back; a false statement not proved; the tree dumped and drawn; bad input refused."""

from __future__ import annotations

import json

import pytest

from tests.helpers import copy_fixture, one_line_error, run_cli


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_fixture("proverproj", tmp_path_factory.mktemp("prover"))


@pytest.fixture(scope="module")
def session(project, toolchain):
    """One proof-state session for this module's tests, as `bench` shares one: the files here share a
    header, so a test that loads another file gets a reset, not a new Lean."""
    from prover.env.states import open_session
    from prover.target import load_target

    opened = open_session(toolchain, project, load_target(project / "Pv" / "Goals.lean", "total_append"))
    assert opened.ready() is None and opened.starts == 1
    yield opened
    opened.close()


def test_prove_finds_checks_and_writes_a_proof(toolchain, tmp_path):
    goals = copy_fixture("proverproj", tmp_path) / "Pv" / "Goals.lean"  # its own copy: --write edits the file
    proc = run_cli("prove", f"{goals}:total_append", f"{goals}:uses_helper", "--budget", "150", "--write", "--json",
                   "--tree-out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    result, other = json.loads(proc.stdout)  # two theorems: a list, in the order given
    assert result["proved"] and "compiles with the proof" in result["verification"]
    assert "induction" in result["script"] and "sorry" not in result["script"]
    assert other["theorem"] == "Pv.uses_helper" and other["proved"] and "helper" not in other["script"]
    text = goals.read_text()
    assert "total_append (xs ys : List Nat) : total (xs ++ ys) = total xs + total ys := by\n" in text
    assert text.count("sorry") == 2  # false_claim and helper keep theirs; both proofs written, neither shifted
    tree = json.loads((tmp_path / "Pv.total_append.tree.json").read_text())
    assert tree["proved"] and tree["tree"]["nodes"][0]["goal"].endswith("total (xs ++ ys) = total xs + total ys")
    assert (tmp_path / "Pv.total_append.tree.svg").read_text().startswith("<svg")


def test_a_false_statement_is_not_proved(project, toolchain, tmp_path):  # on the batch backend
    proc = run_cli("prove", f"{project / 'Pv' / 'Goals.lean'}:false_claim", "--budget", "15", "--calls", "24",
                   "--backend", "batch", "--tree-out", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stdout.startswith("NOT PROVED: Pv.false_claim")
    assert "sorry" in (project / "Pv" / "Goals.lean").read_text()


def test_a_proof_resting_on_sorry_does_not_count(project, toolchain):
    from prover.target import load_target
    from prover.verify import verify

    target = load_target(project / "Pv" / "Goals.lean", "uses_helper")
    cheat = verify(toolchain, project, target, "  exact helper n")
    assert not cheat.ok and "rests on sorry" in cheat.message  # compiles without a warning, yet is not a proof
    honest = verify(toolchain, project, target, "  simp")
    assert honest.ok, honest.message


def test_a_proof_resting_on_an_imported_sorry_does_not_count(toolchain, tmp_path):
    """The audit walks the candidate into the project modules its file imports."""
    from prover.target import load_target
    from prover.verify import verify
    from verifier.lean.build import BuildOptions, build

    root = copy_fixture("proverproj", tmp_path)
    (root / "Pv" / "Base.lean").write_text("module\n\nnamespace Pv\n\npublic theorem base_helper (n : Nat) : "
                                           "n + 0 = n := sorry\n\nend Pv\n")
    (root / "Pv" / "User.lean").write_text("module\n\npublic import Pv.Base\n\nnamespace Pv\n\n"
                                           "theorem uses_base (n : Nat) : n + 0 = n := by\n  sorry\n\nend Pv\n")
    # only the imported module is compiled: the candidate's own file is compiled by `verify`
    with (root / "lakefile.toml").open("a") as lakefile:
        lakefile.write('\n[[lean_lib]]\nname = "PvBase"\nglobs = ["Pv.Base"]\n')
    built = build(root, toolchain, BuildOptions(jobs=2, targets=("PvBase",)))
    assert [m.module for m in built.modules] == ["Pv.Base"] and built.module("Pv.Base").compiled
    target = load_target(root / "Pv" / "User.lean", "uses_base")
    cheat = verify(toolchain, root, target, "  exact base_helper n")
    assert not cheat.ok and "rests on sorry" in cheat.message, cheat.message
    assert verify(toolchain, root, target, "  simp").ok


def test_a_file_broken_outside_the_theorem_says_where(toolchain, tmp_path):
    """A good proof in a file that fails elsewhere is not counted, and the verdict names the cause."""
    from prover.target import load_target
    from prover.verify import verify

    root = copy_fixture("proverproj", tmp_path)
    goals = root / "Pv" / "Goals.lean"
    goals.write_text(goals.read_text() + "\ntheorem broken_elsewhere : 1 = 2 := rfl\n")
    verdict = verify(toolchain, root, load_target(goals, "uses_helper"), "  simp")
    broken = verdict.new_text.splitlines().index("theorem broken_elsewhere : 1 = 2 := rfl") + 1
    assert not verdict.ok
    assert verdict.message.startswith(f"Lean produced no compiled module: line {broken}: "), verdict.message


def test_prove_bad_input(project):
    assert "expected FILE:THEOREM" in one_line_error(run_cli("prove", "nocolon"))
    assert "no such file" in one_line_error(run_cli("prove", "missing.lean:x"))
    goals = project / "Pv" / "Goals.lean"
    assert "no theorem named nope" in one_line_error(run_cli("prove", f"{goals}:nope"))
    assert "already has a proof" in one_line_error(run_cli("prove", f"{goals}:done"))
    zero = run_cli("prove", f"{goals}:helper", "--workers", "0")
    assert "--workers 0: expected a whole number" in one_line_error(zero)
    assert "--ray-address needs --workers" in one_line_error(run_cli("bench", "--ray-address", "127.0.0.1:9"))
    nobody = run_cli("bench", "--workers", "1", "--ray-address", "127.0.0.1:9")
    assert "nothing answers there" in one_line_error(nobody)


def test_backend_dojo(project, toolchain):
    """LeanDojo's own Dojo runs where a native Lean traces the package; elsewhere one line says why."""
    goals = project / "Pv" / "Goals.lean"
    proc = run_cli("prove", f"{goals}:uses_helper", "--backend", "dojo", "--budget", "60", "--json")
    if toolchain.kind == "native" and (project / ".git").exists():
        assert proc.returncode == 0 and json.loads(proc.stdout)["proved"], proc.stderr[-2000:]
    else:
        message = one_line_error(proc)
        assert "--backend dojo" in message and ("native Lean" in message or "git repository" in message)
        assert "sorry" in goals.read_text()


def test_bench_smoke(toolchain, tmp_path):
    proc = run_cli("bench", "--methods", "closers,portfolio", "--limit", "4", "--out", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert {"portfolio", "grind", "omega"} <= set(summary) and summary["portfolio"]["total"] == 4
    assert (tmp_path / "solved_vs_time.png").stat().st_size > 1000
    report = json.loads((tmp_path / "bench.json").read_text())
    assert len(report["theorems"]) == 4


def test_state_env_scripts_verify_and_survive_a_restart(project, toolchain, session):
    """Proof states in the session: inaccessible names renamed, coupled goals kept together and written
    without bullets, the assembled script verified by a fresh compile, and a view rebuilt when the
    session dies."""
    from lean_dojo import ProofFinished, TacticState

    from prover.env.states import StateEnv
    from prover.target import load_target
    from prover.verify import verify

    goals = project / "Pv" / "Goals.lean"
    target = load_target(goals, "total_append")
    starts = session.starts
    env = StateEnv(target, session)
    assert session.startup_s > 0 and env.stats.lean_processes == 0  # the shared session was already warm
    root = env.init_state()
    split = env.run_tac(root, "induction xs")
    assert isinstance(split, TacticState)
    nil, cons = env.goals(split)
    assert [h.names[0] for h in env.goal(cons).hyps][:4] == ["ys", "head", "tail", "tail_ih"]
    assert isinstance(env.run_tac(nil, "simp [total]"), ProofFinished)
    step = "simp [total, tail_ih, Nat.add_assoc]"
    assert isinstance(env.run_tac(cons, step), ProofFinished)  # names only the rename gave
    steps = {root.id: ("induction xs", [nil.id, cons.id]), nil.id: ("simp [total]", []), cons.id: (step, [])}
    script = env.proof_script(steps, root.id)
    assert "rename_i head tail tail_ih" in script
    assert verify(toolchain, project, target, script).ok

    session.close()  # the session dies: the view is rebuilt from its recipe in a new one
    assert isinstance(env.run_tac(cons, step), ProofFinished) and session.starts == starts + 1
    env.close()

    other = StateEnv(load_target(goals, "uses_helper"), session)  # same file, same header: no restart
    assert session.starts == starts + 1
    assert other.startup_s < 5 and "helper" in session.preamble  # the file grew in place
    assert isinstance(other.run_tac(other.init_state(), "simp"), ProofFinished)
    assert session.starts == starts + 1
    other.close()


def test_coupled_goals_stay_together(project, toolchain, session):
    from lean_dojo import ProofFinished, TacticState

    from prover.env.states import StateEnv
    from prover.target import Target
    from prover.verify import verify

    base = project / "Pv" / "Goals.lean"
    text = base.read_text() + "\ntheorem Pv.witness (x : Nat) : ∃ y, y = x + 1 ∧ 0 < y := by\n  sorry\n"
    file = project / "Pv" / "Witness.lean"
    file.write_text(text)
    try:
        from prover.target import load_target

        target: Target = load_target(file, "Pv.witness")
        starts = session.starts
        env = StateEnv(target, session)  # another file with the same header: a reset, no new Lean
        assert session.starts == starts
        root = env.init_state()
        first = env.run_tac(root, "constructor")
        assert isinstance(first, TacticState)
        [together] = env.goals(first)  # the witness and the claim share ?w: one node, not two
        assert "?w" in env.goal(together).target
        second = env.run_tac(together, "constructor")
        [pair] = env.goals(second)
        third = env.run_tac(pair, "rfl")  # assigns ?w: the rest is independent again
        [rest] = env.goals(third)
        assert env.goal(rest).target == "0 < x + 1"
        assert isinstance(env.run_tac(rest, "omega"), ProofFinished)
        steps = {root.id: ("constructor", [together.id]), together.id: ("constructor", [pair.id]),
                 pair.id: ("rfl", [rest.id]), rest.id: ("omega", [])}
        script = env.proof_script(steps, root.id)
        assert "· constructor" not in script and "· rfl" not in script  # coupled: no bullets
        assert verify(toolchain, project, target, script).ok, script
        env.close()
    finally:
        file.unlink()


SCOPED = """module

namespace Pv

variable {α : Type} (xs : List α) (k : Nat)

theorem uses_variables : (xs ++ []).length = xs.length := by
  sorry

theorem autobound (l : List β) : l.reverse.reverse = l := by
  sorry

open Nat in
theorem opened : succ k ≠ 0 := by
  sorry

theorem «odd name» (n : Nat) : n ≤ n + 1 := by
  sorry
open Nat

theorem after_open (n : Nat) : pred (succ n) = n := by
  sorry

end Pv
"""


def test_theorems_in_scope_start_as_lean_reads_them(project, toolchain, session):
    """Section variables, `open … in`, auto-bound implicits and «quoted» names reach the session's goal as
    the file means them, an elaboration error is an error (not a goal about `sorry`), and a proof written
    back keeps the command after the theorem (`open Nat`, which the next theorem needs)."""
    from dataclasses import replace

    from lean_dojo import ProofFinished

    from prover.env.states import StartError, StateEnv
    from prover.target import load_target
    from prover.verify import verify

    file = project / "Pv" / "Scoped.lean"
    file.write_text(SCOPED)
    try:
        hyps = {}
        for name, tactic in [("uses_variables", "simp"), ("autobound", "simp"), ("opened", "omega"),
                             ("«odd name»", "omega")]:
            env = StateEnv(load_target(file, name), session)
            goal = env.goal(env.init_state())
            hyps[name] = [(h.names[0], h.type) for h in goal.hyps]
            assert "sorry" not in str(goal), goal
            assert isinstance(env.run_tac(env.init_state(), tactic), ProofFinished), name
            env.close()
        assert hyps["uses_variables"] == [("α", "Type"), ("xs", "List α")]  # not `k`: the statement does not use it
        assert hyps["autobound"][1] == ("l", "List β") and hyps["opened"] == [("k", "Nat")]
        bad = session.start_proof("(n : Nat) : n = Nat.no_such_constant")
        assert bad.state is None and "no_such_constant" in (bad.error or "")
        with pytest.raises(StartError):  # a dotted unknown name is no auto-bound implicit
            StateEnv(replace(load_target(file, "after_open"), statement="(n : Nat) : n = zzz.q"), session)
        target = load_target(file, "«odd name»")
        assert target.name == "Pv.«odd name»" and target.proof.strip() == "by\n  sorry"
        verdict = verify(toolchain, project, target, "  omega")
        assert verdict.ok and "theorem after_open" in verdict.new_text, verdict.message
    finally:
        file.unlink()


def test_ray_workers_match_a_serial_run_and_survive_a_crash(project, toolchain, session):
    """Two Ray actors, each with its own warm session, find the same proofs as the serial path; an actor
    killed with a search in flight is restarted and the search runs again, on the other actor."""
    import threading

    import psutil
    import ray

    from prover.scale import RayOptions, ray_actors, schedule
    from prover.session import ProofTask, run_task, seed_priors
    from verifier.lean.worker import warm_workers

    priors, goals = seed_priors(project), project / "Pv" / "Goals.lean"
    tasks = [ProofTask(name, goals, name, "mcts", 90.0, priors) for name in ("helper", "total_append")]
    with warm_workers(1):
        serial = {t.key: run_task(toolchain, project, t, session) for t in tasks}
    assert all(r.proved for r in serial.values()), [r.verification for r in serial.values()]
    parallel, killed = {}, []
    with ray_actors(toolchain, project, RayOptions(2, verify_worker=False)) as actors:
        pids = ray.get([a.pid.remote() for a in actors])

        def kill_once(slot: int, task: ProofTask) -> None:
            if task.key == "total_append" and not killed:  # mid-search: its actor is still starting Lean
                killed.append(pids[slot])
                threading.Timer(3.0, psutil.Process(pids[slot]).kill).start()

        schedule(actors, tasks, lambda rec: parallel.__setitem__(rec.key, rec), kill_once)
    assert set(parallel) == set(serial) and killed
    for key, rec in parallel.items():
        assert rec.proved and rec.result.script == serial[key].result.script, (key, rec.verification)
    assert parallel["total_append"].worker.split(":")[-1] != str(killed[0])  # run again in a live process
    assert parallel["total_append"].attempts == 2 and parallel["helper"].attempts == 1


RECURSIVE = """
def evens {α : Type} : List α → List α
  | a :: _ :: rest => a :: evens rest
  | [a] => [a]
  | [] => []

theorem Pv.evens_le (l : List Int) : (evens l).length ≤ l.length := by
  sorry

theorem Pv.mask (n : Nat) : n &&& 15 = n % 16 := by
  sorry

theorem Pv.square (a : Int) : 0 ≤ a * a := by
  sorry

theorem Pv.divmod (n : Nat) : ∃ q r, r < 5 ∧ n = 5 * q + r := by
  sorry
"""


def test_policy_families_run_in_lean(project, toolchain, session):
    """The policy's functional induction, literal masks, sign splits and witness sweeps are real Lean that
    does what the policy means: each closes its goal where the plainer tactic beside it does not; a sweep
    narrows to the one witness pair that closes the goal alone."""
    from lean_dojo import LeanError, ProofFinished, TacticState

    from prover.env.states import StateEnv
    from prover.search.engine import MCTS
    from prover.session import make_policy, seed_priors
    from prover.target import load_target

    file = project / "Pv" / "Recursive.lean"
    file.write_text((project / "Pv" / "Goals.lean").read_text() + RECURSIVE)
    try:
        priors = seed_priors(project)

        def offered(name: str) -> tuple[StateEnv, TacticState, list[str]]:
            target = load_target(file, name)
            env = StateEnv(target, session)
            root = env.init_state()
            policy = make_policy(toolchain, target, priors)
            return env, root, [c.tactic for c in policy.candidates(env.goal(root), root=True)]

        env, root, tactics = offered("Pv.evens_le")
        by_recursion = "fun_induction evens <;> simp_all [evens] <;> omega"
        assert by_recursion in tactics
        assert isinstance(env.run_tac(root, by_recursion), ProofFinished)
        assert isinstance(env.run_tac(root, "induction l <;> simp_all [evens] <;> omega"), LeanError)
        env.close()

        env, root, tactics = offered("Pv.mask")
        mask = "rw [show (15 : Nat) = 2 ^ 4 - 1 from rfl, Nat.and_two_pow_sub_one_eq_mod]"
        assert mask in tactics and isinstance(env.run_tac(root, mask), ProofFinished)
        assert isinstance(env.run_tac(root, "omega"), LeanError)
        env.close()

        env, root, tactics = offered("Pv.square")
        split = "rcases Int.le_total 0 a with h | h"
        assert split in tactics and isinstance(env.run_tac(root, "grind"), LeanError)
        cases = env.goals(env.run_tac(root, split))
        policy = make_policy(toolchain, load_target(file, "Pv.square"), priors)
        for case, lemma in zip(cases, ("Int.mul_nonneg", "Int.mul_nonneg_of_nonpos_of_nonpos"), strict=True):
            forward = [c.tactic for c in policy.candidates(env.goal(case))]
            closing = f"have := {lemma} h h; omega"
            assert closing in forward and isinstance(env.run_tac(case, closing), ProofFinished)
        env.close()

        target = load_target(file, "Pv.divmod")
        env = StateEnv(target, session)
        search = MCTS(env, make_policy(toolchain, target, priors))
        root = search.graph.root
        winner = "exact ⟨n / 5, n % 5, by omega⟩"
        sweep = next(c for c in search.policy.candidates(root.goal, root=True) if winner in c.alternatives)
        assert isinstance(env.run_tac(root.state, sweep.alternatives[0]), LeanError)
        assert isinstance(env.run_tac(root.state, sweep.tactic), ProofFinished)
        assert search.narrow(root, sweep).tactic == winner
        # past 256 bytes, with `⟨` straddling each 256-byte read of stdin: Lean gets the bytes as sent
        long = "first | " + " | ".join(["exact ⟨0, 0, rfl⟩"] * 60) + " | " + winner
        assert isinstance(env.run_tac(root.state, long), ProofFinished)
        env.close()
    finally:
        file.unlink()
