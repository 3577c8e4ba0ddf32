"""The prover's parts without Lean: goal parsing, scripts, policy, graph, MCTS and best-first on a
scripted environment, and the LeanDojo backend against a stand-in `Dojo`."""

from __future__ import annotations

from lean_dojo import LeanError, ProofFinished, TacticState

from prover.env.base import EnvStats, ProofEnv, refused
from prover.env.dojo import DojoEnv
from prover.env.portable import Step, _render, statement_goal
from prover.goals import parse_goals
from prover.policy.candidates import CLOSERS, Candidate, Policy
from prover.policy.priors import Priors, seed_from_sources, tactic_kind
from prover.policy.sweeps import CHUNK, PAIRED, exists_arity
from prover.search.engine import MCTS, BestFirst, Budget, SearchConfig
from prover.search.tree import FAILED, OPEN, PROVED, Graph
from tests.helpers import REPO

GOALS = """unsolved goals
case nil
ys : List Nat
⊢ lsum ([] ++ ys) = lsum [] + lsum ys

case cons
ys : List Nat
head✝ : Nat
tail✝ : List Nat
tail_ih✝ : lsum (tail✝ ++ ys) =
    lsum tail✝ + lsum ys
⊢ lsum (head✝ :: tail✝ ++ ys) = lsum (head✝ :: tail✝) + lsum ys"""


def test_goals_are_parsed_with_tags_and_continuations():
    nil, cons = parse_goals(GOALS)
    assert nil.tag == "nil" and nil.target == "lsum ([] ++ ys) = lsum [] + lsum ys"
    assert cons.hyps[3].names == ("tail_ih✝",) and cons.hyps[3].type == "lsum (tail✝ ++ ys) = lsum tail✝ + lsum ys"
    fresh, names = cons.with_fresh_names()
    assert names == ["head", "tail", "tail_ih"]
    assert fresh.target == "lsum (head :: tail ++ ys) = lsum (head :: tail) + lsum ys"
    assert "✝" not in fresh.render()


def test_statement_gives_the_first_goal():
    goal = statement_goal("(a b : Nat) {xs : List Nat} (h : a < b) : a + 1 ≤ b")
    assert [h.names for h in goal.hyps] == [("a", "b"), ("xs",), ("h",)]
    assert goal.target == "a + 1 ≤ b"


def test_paths_render_with_sorry_for_siblings_and_renames():
    path = (Step("induction xs", 1, 2, ("head", "tail", "tail_ih")),)
    lines, (a, b) = _render(path, "simp [lsum]", "  ")
    assert lines == ["  induction xs", "  · sorry", "  · rename_i head tail tail_ih", "    simp [lsum]"]
    assert (a, b) == (2, 3)


def test_memory_hungry_and_unsound_tactics_are_refused():
    assert isinstance(refused("exact?"), LeanError) and isinstance(refused("first | omega | try?"), LeanError)
    assert isinstance(refused("sorry"), LeanError) and isinstance(refused("native_decide"), LeanError)
    assert refused("omega") is None


def test_refusal_is_by_token():
    for leaky in ("exact (sorry)", "exact ⟨2, by sorry⟩", "refine ⟨_, ?_⟩ <;> admit",
                  "simp\ntheorem x : False := sorry", "omega\r#eval 1", "exact (sorryAx _ false)",
                  "set_option debug.skipKernelTC true in rfl",
                  "decide; end", "#print axioms foo", "@[simp] theorem t : True := trivial"):
        assert isinstance(refused(leaky), LeanError), leaky
    for fine in ("omega", "simp [Nat.add_comm] at h ⊢", "exact ⟨n, by omega⟩", "rcases h with ⟨a, b⟩",
                 "induction xs generalizing n with", "cases h <;> simp_all", "exact Nat.sorry_free_lemma",
                 "refine ⟨?_, ?_⟩"):
        assert refused(fine) is None, fine


def test_a_target_reads_its_scope_and_ends_before_the_next_command(tmp_path):
    """A theorem's text ends where the next command starts (a written-back proof keeps an `open` or
    `#check` after it); `open … in` belongs to the theorem and reaches the search as a command; section
    variables the statement uses, and those their types use, come first in the statement."""
    from prover.target import load_target, section_variables
    from verifier.lean.source import scan_declarations

    text = ("module\nnamespace A\nvariable {α : Type} [Inhabited α] (xs : List α) (k : Nat)\n"
            "theorem one : xs.length = xs.length := by\n  sorry\nopen Nat\n#check succ\n"
            "set_option maxHeartbeats 1000 in\nopen Nat in\n/-- doc -/\n"
            "@[simp] theorem two (n : Nat) : succ n ≠ k := by\n"
            "  sorry\nnoncomputable section\ntheorem «three x» : True := trivial\nend\n"
            "public section\ntheorem four : True := trivial\nend\nend A\ntheorem five : True := trivial\n")
    decls = {d.name: (d.line, d.end_line) for d in scan_declarations(text)}
    assert decls == {"A.one": (4, 5), "A.two": (8, 12), "A.«three x»": (14, 14), "A.four": (17, 17),
                     "five": (20, 21)}
    file = tmp_path / "T.lean"
    file.write_text(text)
    one, two = load_target(file, "one"), load_target(file, "two")
    assert one.proof == " by\n  sorry"
    assert one.statement == "{α : Type} [Inhabited α] (xs : List α) : xs.length = xs.length"
    assert two.preamble.endswith("#check succ\n\nset_option maxHeartbeats 1000\n\nopen Nat\n")
    assert two.statement == "(k : Nat) (n : Nat) : succ n ≠ k"
    assert load_target(file, "«three x»").name == "A.«three x»"
    assert section_variables("section S\nvariable (a : Nat)\nend S\nvariable (b : Nat)\n", ": a = b") == "(b : Nat)"
    assert section_variables("variable (n : Nat)\n", "(n : Int) : n = n") == ""  # its own binder shadows it
    hyp = "variable (n : Nat) (h : 0 < n)\n"
    assert section_variables(hyp, ": n ≠ 0") == "(n : Nat)"  # a hypothesis joins only when used...
    assert section_variables(hyp + "include h\n", ": n ≠ 0") == "(n : Nat) (h : 0 < n)"  # ...or included
    assert section_variables(hyp + "include h\nomit h\n", ": n ≠ 0") == "(n : Nat)"
    assert section_variables("section\n" + hyp + "include h\nend\n", ": True") == ""


def test_policy_reads_the_goal_shape():
    policy = Policy(Priors())
    exists = parse_goals("a b : Nat\nh : a + 1 < b\n⊢ ∃ c, a < c ∧ c < b")[0]
    tactics = [c.tactic for c in policy.candidates(exists)]
    assert "refine ⟨a + 1, ?_⟩" in tactics and "exact ⟨a + 1, by omega⟩" in tactics
    lists = parse_goals("xs ys : List Nat\n⊢ (xs ++ ys).length = ys.length + xs.length")[0]
    tactics = [c.tactic for c in policy.candidates(lists, root=True)]
    assert tactics[: len(CLOSERS)] == list(CLOSERS) or set(CLOSERS) <= set(tactics[:8])
    assert "induction xs" in tactics and "induction xs generalizing ys" in tactics
    assert not any("exact?" in t or "try?" in t for t in tactics)
    options = parse_goals("o : Option Nat\nb : Bool\nh : o.isSome = true\n⊢ ∃ x, o = some x")[0]
    tactics = [c.tactic for c in policy.candidates(options)]
    assert "cases o <;> simp_all" in tactics and "induction o" not in tactics
    assert not any(t.startswith("cases b") for t in tactics)  # `b` is in no hypothesis and not in the goal


def test_recursion_signs_and_masks_follow_the_goal():
    policy = Policy(Priors(), local_defs=["Bench.evens", "Bench.size"])
    evens = parse_goals("l : List Int\n⊢ (evens l).length ≤ l.length")[0]
    tactics = [c.tactic for c in policy.candidates(evens)]
    assert "fun_induction evens" in tactics and "fun_induction evens <;> simp_all [evens] <;> omega" in tactics
    assert not any("fun_induction size" in t for t in tactics)  # a definition the goal does not apply
    assert tactic_kind("fun_induction evens") == "induction"
    square = [c.tactic for c in policy.candidates(parse_goals("a b : Int\n⊢ 0 ≤ a * a")[0])]
    assert "rcases Int.le_total 0 a with h | h" in square and not any("le_total 0 b" in t for t in square)
    linear = [c.tactic for c in policy.candidates(parse_goals("a : Int\n⊢ 0 ≤ a + 1")[0])]
    assert not any("le_total 0" in t for t in linear)
    masks = [c.tactic for c in policy.candidates(parse_goals("n : Nat\n⊢ n &&& 255 = n % 256 ∧ n &&& 6 = 0")[0])]
    assert "rw [show (255 : Nat) = 2 ^ 8 - 1 from rfl, Nat.and_two_pow_sub_one_eq_mod]" in masks
    assert not any("(6 : Nat)" in t for t in masks)  # 6 is no mask of low bits


def test_witnesses_follow_the_types_and_numerals_in_context():
    policy = Policy(Priors())
    by_int = [c.tactic for c in policy.candidates(parse_goals("x : Int\n⊢ ∃ y, x + y = 0")[0])]
    assert "refine ⟨-x, ?_⟩" in by_int
    by_mod = [c.tactic for c in policy.candidates(parse_goals("n : Nat\n⊢ ∃ q r, r < 8 ∧ n = 8 * q + r")[0])]
    assert "refine ⟨n / 8, ?_⟩" in by_mod and "refine ⟨n % 8, ?_⟩" in by_mod
    by_list = [c.tactic for c in policy.candidates(parse_goals("n : Nat\n⊢ ∃ xs, xs.length = n")[0])]
    assert "refine ⟨List.replicate n 0, ?_⟩" in by_list
    assert not any("-n" in t for t in by_list)  # no negation of a natural number


def test_witness_sweeps_cover_one_and_two_binders():
    policy = Policy(Priors())
    pairs = [c for c in policy.candidates(parse_goals("n : Nat\n⊢ ∃ q r, r < 3 ∧ n = 3 * q + r")[0]) if c.alternatives]
    swept = [a for c in pairs for a in c.alternatives]
    assert "exact ⟨n / 3, n % 3, by omega⟩" in swept and len(set(swept)) == PAIRED ** 2
    assert all(len(c.alternatives) <= CHUNK and c.tactic == "first | " + " | ".join(c.alternatives) for c in pairs)
    assert swept[0] == "exact ⟨n, n, by omega⟩"  # pairs by combined rank, best first, in the likelier sweep
    assert pairs[0].prior > pairs[-1].prior
    one = next(c for c in policy.candidates(parse_goals("k n : Nat\n⊢ ∃ m, k < m ∧ m ≤ n + 1")[0]) if c.alternatives)
    assert "exact ⟨k + 1, by omega⟩" in one.alternatives and all(a.count(",") == 1 for a in one.alternatives)
    assert tactic_kind(one.tactic) == "omega"
    assert [exists_arity(t) for t in ("∃ x < n, x = 1", "∃ (x : Nat) (y : Int), x = y", "∃ x, ∃ y, x < y",
                                      "∃ a b c, a = b + c", "n = 1")] == [1, 2, 2, 3, 0]
    assert not any(c.alternatives for c in policy.candidates(parse_goals("n : Nat\n⊢ ∃ a b c, a = b + c")[0]))


def test_priors_learn_and_seed_from_project_proofs():
    priors = Priors()
    priors.learn("induction", frozenset({"uses-List"}))
    assert priors.score("induction", frozenset({"uses-List"})) > priors.score("decide", frozenset({"uses-List"}))
    seeded = seed_from_sources(sorted((REPO / "lean" / "Quantproof").glob("*.lean")))
    assert seeded.total["omega"] > 5 and seeded.total["grind"] > 5
    assert tactic_kind("  · induction n generalizing m") == "induction"


def _graph() -> Graph:
    g = parse_goals("n : Nat\n⊢ n = n")[0]
    return Graph(TacticState(g.render(), 0), g)


def test_graph_propagation_and_pending():
    graph = _graph()
    root = graph.root
    root.expanded, root.candidates = True, [Candidate("a", .5), Candidate("b", .5)]
    root.next_candidate, root.pending = 2, 2
    graph.add_edge(root, Candidate("a", .5), [], FAILED)
    assert root.status == OPEN  # "b" is still being evaluated: not failed yet
    graph.add_edge(root, Candidate("b", .5), [], FAILED)
    assert root.status == FAILED
    graph = _graph()
    child = graph.node(TacticState("⊢ True", 1), parse_goals("⊢ True")[0], 1)
    edge = graph.add_edge(graph.root, Candidate("t", 1.0), [child], OPEN)
    assert edge.status == OPEN
    graph.add_edge(child, Candidate("trivial", 1.0), [], PROVED)
    assert edge.status == PROVED and graph.root.status == PROVED
    loop = graph.add_edge(child, Candidate("skip", 1.0), [child], OPEN)
    assert loop.status == FAILED and "no progress" in loop.message


def test_proof_extraction_survives_a_transposition_cycle():
    graph = _graph()
    root = graph.root
    b = graph.node(TacticState("⊢ True", 1), parse_goals("⊢ True")[0], 1)
    c = graph.node(TacticState("⊢ 1 = 1", 2), parse_goals("⊢ 1 = 1")[0], 1)
    graph.add_edge(root, Candidate("to_b", 1.0), [b], OPEN)
    graph.add_edge(b, Candidate("back_to_root", 1.0), [root], OPEN)  # a transposition: b's goal needs root's
    graph.add_edge(root, Candidate("to_c", 1.0), [c], OPEN)
    graph.add_edge(c, Candidate("closes_c", 1.0), [], PROVED)
    assert root.status == b.status == PROVED and root.edges[0].status == PROVED  # to_b is proved too, via root
    assert graph.proof() == {0: ("to_c", [2]), 2: ("closes_c", [])}  # not to_b -> back_to_root -> to_b ...


class ScriptedEnv(ProofEnv):
    """Goals and the tactics that work on them: induction n splits, simp and omega close the cases."""

    def __init__(self) -> None:
        self.RULES = {
            "P n": {"induction n": ["P 0", "P (k + 1)"]},
            "P 0": {"simp": []},
            "P (k + 1)": {"omega": [], "simp": ["Q k"]},
        }
        self.ids, self.text, self.calls, self.batches = 1, {0: "P n"}, 0, []

    @property
    def stats(self) -> EnvStats:
        return EnvStats(self.calls, len(self.batches))

    def init_state(self) -> TacticState:
        return TacticState("⊢ P n", 0)

    def goal(self, state):
        return parse_goals(f"⊢ {self.text[state.id]}")[0]

    def goals(self, state):
        return [state] if isinstance(self.text.get(state.id), str) else [self._new(t) for t in self.text[state.id]]

    def _new(self, text):
        self.ids += 1
        self.text[self.ids] = text
        return TacticState(f"⊢ {text}", self.ids)

    def run_tacs(self, pairs):
        self.batches.append([t for _, t in pairs])
        self.calls += len(pairs)
        out = []
        for state, tactic in pairs:
            rule = self.RULES.get(self.text[state.id], {}).get(tactic)
            if rule is None:
                out.append(LeanError("no"))
            elif not rule:
                out.append(ProofFinished(state.id))
            else:
                self.ids += 1
                self.text[self.ids] = rule
                out.append(TacticState("\n\n".join(rule), self.ids))
        return out

    def proof_script(self, steps, root):
        return repr(steps)


class ListPolicy:
    def candidates(self, goal, root=False):
        tactics = (["omega", "simp", "grind"] if root else []) + ["induction n", "simp", "omega", "cases n"]
        return [Candidate(t, 1 / len(tactics)) for t in tactics]


def test_mcts_and_best_first_prove_on_a_scripted_environment():
    for method in (MCTS, BestFirst):
        env = ScriptedEnv()
        search = method(env, ListPolicy(), SearchConfig(batch_size=4, simulations_per_batch=4))
        result = search.run(Budget(seconds=30, lean_calls=200), "P")
        assert result.proved, method.method
        assert env.batches[0][:3] == ["omega", "simp", "grind"]  # the closers come first at the root
        steps = search.graph.proof()
        assert steps and steps[0][0] == "induction n"


def test_budget_in_lean_calls_is_respected():
    env = ScriptedEnv()
    env.RULES = {"P n": {}}  # nothing works
    result = MCTS(env, ListPolicy(), SearchConfig(batch_size=3)).run(Budget(seconds=30, lean_calls=5), "P")
    assert not result.proved and env.calls <= 5


class FakeDojo:
    """Stands in for lean_dojo.Dojo: a context manager whose run_tac walks a tiny transition table."""

    crashes = 1

    def __init__(self, theorem, timeout=60):
        self.theorem = theorem

    def __enter__(self):
        return self, TacticState("n : Nat\n⊢ n + 0 = n", 0)

    def __exit__(self, *exc):
        return False

    def run_tac(self, state, tactic):
        if tactic == "grind" and FakeDojo.crashes:
            FakeDojo.crashes -= 1
            raise RuntimeError("DojoCrashError: Lean died")
        if tactic == "simp":
            return ProofFinished(state.id + 1)
        return LeanError("unknown")


def test_dojo_backend_against_a_stand_in():
    env = DojoEnv("thm", dojo_factory=FakeDojo)
    root = env.init_state()
    results = env.run_tacs([(root, "grind"), (root, "exact?"), (root, "simp")])
    assert isinstance(results[0], LeanError) and "crash" in results[0].error.lower()
    assert isinstance(results[1], LeanError) and "refused" in results[1].error
    assert isinstance(results[2], ProofFinished)
    assert env.stats.lean_processes == 2 and env.stats.crashed_batches == 1  # restarted after the crash
    search = MCTS(env, ListPolicy(), SearchConfig(batch_size=4))
    assert search.run(Budget(seconds=10, lean_calls=50), "thm").proved


class ManyPolicy:
    def candidates(self, goal, root=False):
        return [Candidate(f"tac{i}", 1 / 12) for i in range(12)]


def test_every_candidate_taken_reaches_lean_so_a_dead_goal_fails():
    """MCTS used to take a descent's candidates and then cut the batch, dropping some for good: their goal
    stayed pending and could never be marked failed."""
    env = ScriptedEnv()
    env.RULES = {"P n": {}}  # nothing works
    search = MCTS(env, ManyPolicy(), SearchConfig(batch_size=3, expand_first=8, expand_more=8,
                                                  simulations_per_batch=8))
    result = search.run(Budget(seconds=30, lean_calls=100), "P")
    tried = [t for batch in env.batches for t in batch]
    assert sorted(tried) == sorted(f"tac{i}" for i in range(12))  # each once, none dropped
    assert result.stopped == "every candidate failed" and search.graph.root.pending == 0


def test_a_rejected_proof_sends_the_search_on():
    """A found proof that does not verify is failed edge by edge; the search resumes from the graph and
    finds the other proof (here `cases n` instead of `induction n`)."""
    env = ScriptedEnv()
    env.RULES = {"P n": {"induction n": ["P 0"], "cases n": ["P 1"]}, "P 0": {"simp": []}, "P 1": {"omega": []}}
    search = MCTS(env, ListPolicy(), SearchConfig(batch_size=2, simulations_per_batch=2))
    first = search.run(Budget(seconds=30, lean_calls=200), "P")
    assert first.proved and search.graph.proof()[0][0] == "induction n"
    search.graph.reject_proof("did not verify")
    assert search.graph.root.status == OPEN
    rejected = [e for n in search.graph.nodes.values() for e in n.edges if e.rejected]
    assert {e.tactic for e in rejected} == {"induction n", "simp"} and all(e.status == FAILED for e in rejected)
    again = search.run(Budget(seconds=30, lean_calls=200), "P")
    assert again.proved and search.graph.proof()[0][0] == "cases n"
    # what the result reports counts from the first run: time and calls spent before the rejection included
    assert again.solved_at_s is not None and again.lean_calls >= first.lean_calls
    assert again.solved_at_calls is not None and again.solved_at_calls >= first.lean_calls


def test_exact_mcnemar():
    from prover.bench import mcnemar_exact

    def runs(solved):
        return {str(i): {"solved": s} for i, s in enumerate(solved)}

    assert mcnemar_exact(runs([True] * 8 + [False] * 4), runs([False] * 12)) == {
        "only_first": 8, "only_second": 0, "p_two_sided": 0.007812}  # 2 / 2**8
    assert mcnemar_exact(runs([True, False] * 5), runs([False, True] * 5))["p_two_sided"] == 1.0
    assert mcnemar_exact(runs([True] * 3), runs([True] * 3))["p_two_sided"] == 1.0  # no discordant pair
    # 6 against 1: P(X <= 1 | n = 7) = 8 / 128, doubled
    assert mcnemar_exact(runs([True] * 6 + [False]), runs([False] * 6 + [True]))["p_two_sided"] == 0.125


def test_spread_over_runs_and_the_splits():
    from prover.bench import bench_targets, spread

    def run(solved, secs):
        return {str(i): {"solved": ok, "seconds": t} for i, (ok, t) in enumerate(zip(solved, secs, strict=True))}

    out = spread([run([True, True, False], [1.0, 3.0, 9.0]), run([True, False, False], [2.0, 9.0, 9.0])])
    assert out["runs"] == [2, 1] and out["mean_solved"] == 1.5 and out["sd_solved"] == 0.71
    assert out["median_solve_s_all_runs"] == 2.0  # over the three solves only
    assert spread([run([True], [4.0])])["sd_solved"] == 0.0
    dev, test = bench_targets(REPO / "lean", "dev"), bench_targets(REPO / "lean", "test")
    assert len(dev) + len(test) >= 150 and 0.15 <= len(test) / (len(dev) + len(test)) <= 0.25
    assert not {t.name for t in dev} & {t.name for t in test}
    assert all("/Bench/Test/" in str(t.file) for t in test) and all("/Test/" not in str(t.file) for t in dev)


def test_goal_values_learn_from_the_search_below():
    """MCTS backs values up into goals (a goal where tactics keep failing loses value, and a descent then
    picks it as the goal that decides its edge); best-first keeps the static heuristic."""
    graph = _graph()
    easy = graph.node(TacticState("⊢ A", 1), parse_goals("⊢ A")[0], 1)
    hard = graph.node(TacticState("⊢ B", 2), parse_goals("⊢ B")[0], 1)
    edge = graph.add_edge(graph.root, Candidate("split", 1.0), [easy, hard], OPEN)
    assert easy.estimate == easy.value and hard.estimate == hard.value
    search = MCTS(ScriptedEnv(), ListPolicy())
    for _ in range(3):
        search.back_value(hard, 0.0)
    search.back_value(easy, 1.0)
    assert hard.estimate == hard.value / 4 and easy.estimate > easy.value
    assert edge.static_value == easy.estimate * hard.estimate
    assert min(edge.children, key=lambda c: c.estimate) is hard
    best = BestFirst(ScriptedEnv(), ListPolicy())
    best.back_value(hard, 0.0)
    assert hard.value_count == 3  # unchanged: best-first scores statically


def test_cluster_capacity_from_measured_searches():
    from prover.bench import capacity
    from prover.scale import actors_needed, makespan

    assert makespan([5, 4, 3, 3, 3], 2, 1.0) == 11.0  # LPT: 1+5+3 and 1+4+3+3 (the best split gives 10)
    assert makespan([10, 10], 1, 0.0) == 20.0 and makespan([10, 10], 3, 2.0) == 12.0
    assert actors_needed([100.0] * 30, 30.0, 300.0) == 15  # 2 searches per actor after start-up
    assert actors_needed([290.0], 30.0, 300.0) is None  # one search alone is too long
    rows = {f"t{i}": {"wall_s": 60.0, "startup_s": 40.0 if i < 2 else 0.0} for i in range(20)}
    plan = capacity(rows, 300.0)
    assert plan["actors"] == 5 and plan["makespan_s"] == 280.0 and plan["startup_per_actor_s"] == 40.0
    assert plan["measured_per_core_per_min"] == 1.0 and plan["needed_per_core_per_min"] == 0.8


class OncePolicy:
    def candidates(self, goal, root=False):
        tactics = ["omega", "simp", "grind", "induction n", "cases n"] if root else ["omega"]
        return [Candidate(t, 1 / len(tactics)) for t in tactics]


def test_a_batch_stops_at_a_proof_and_carries_the_rest():
    """A backend that runs candidates one at a time stops at the first proof of the theorem; what the batch
    had not run yet is run when the search resumes after a rejected proof, and none is lost."""
    env = ScriptedEnv()
    env.one_at_a_time = True
    env.RULES = {"P n": {"simp": [], "cases n": ["P 1"]}, "P 1": {"omega": []}}
    search = MCTS(env, OncePolicy(), SearchConfig(batch_size=6))
    first = search.run(Budget(seconds=30, lean_calls=200), "P")
    assert first.proved and env.calls == 2  # omega failed, simp proved it: grind and the rest never ran
    assert [c.tactic for _, c, _ in search.carried] == ["grind", "induction n", "cases n"]
    search.graph.reject_proof("did not verify")
    again = search.run(Budget(seconds=30, lean_calls=200), "P")
    assert again.proved and search.graph.proof()[0][0] == "cases n"
    tried = [t for batch in env.batches for t in batch]
    assert tried.count("grind") == 1 and tried.count("simp") == 1  # carried over, each run once
    whole = ScriptedEnv()  # a process per batch: the batch runs whole
    MCTS(whole, OncePolicy(), SearchConfig(batch_size=6)).run(Budget(seconds=30, lean_calls=200), "P")
    assert whole.batches[0] == ["omega", "simp", "grind", "induction n", "cases n"]


class SweepEnv(ScriptedEnv):
    """One goal, closed by one witness pair alone; a sweep closes it when any alternative it tries does."""

    WINNER = "exact ⟨n / 3, n % 3, by omega⟩"

    def __init__(self, one_at_a_time: bool) -> None:
        super().__init__()
        self.one_at_a_time = one_at_a_time
        self.text = {0: "∃ q r, r < 3 ∧ n = 3 * q + r"}

    def goal(self, state):
        return parse_goals(f"n : Nat\n⊢ {self.text[state.id]}")[0]

    def run_tacs(self, pairs):
        self.batches.append([t for _, t in pairs])
        self.calls += len(pairs)
        return [ProofFinished(s.id) if self.WINNER in t.removeprefix("first | ").split(" | ") else LeanError("no")
                for s, t in pairs]


class SweepPolicy:
    def candidates(self, goal, root=False):
        return [c for c in Policy(Priors()).candidates(goal, root) if c.alternatives]


def test_a_sweep_that_closes_a_goal_is_narrowed_to_its_witness():
    """The script shows the one alternative that closes the goal, found in about log2(144) + 1 calls; a
    backend that starts Lean per call keeps the sweep rather than pay for the narrowing."""
    env = SweepEnv(one_at_a_time=True)
    search = MCTS(env, SweepPolicy())
    assert search.run(Budget(seconds=30, lean_calls=50), "divmod").proved
    assert search.graph.proof()[0][0] == SweepEnv.WINNER
    assert env.calls <= 6 * 3  # at most every sweep, then 5 halvings and the winner alone
    batch = SweepEnv(one_at_a_time=False)
    kept = MCTS(batch, SweepPolicy())
    assert kept.run(Budget(seconds=30, lean_calls=50), "divmod").proved
    assert kept.graph.proof()[0][0].startswith("first | ")
