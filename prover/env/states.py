"""Backend (d), the default: proof states kept in a long-lived Lean session, as Pantograph and the REPL do.

The session holds each proof state (Lean's saved elaboration state, metavariable context included)
under a number; `run_tac` runs a tactic from it with no replay, and the goals come back as data
(metavariable, case tag, hypotheses, target). A search node here is a *view*: one goal of a state, or
all of a state's goals when they share metavariables (coupled goals are searched together, never
split). If the session dies, a view is rebuilt from its recipe (parent view, tactic, goal index,
renames), so the search goes on. Verification is unchanged: the whole theorem compiles afresh.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lean_dojo import LeanError, ProofFinished, TacticState

from prover.env.base import EnvStats, ProofEnv, TacticResult, refused, script_lines
from prover.goals import Goal, Hyp, normalize
from prover.target import Target
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB
from verifier.lean.session import Answer, LeanSession, ProofState, SessionGoal


class StartError(RuntimeError):
    """The session cannot make a proof state of this statement (the caller may fall back to replay)."""


_UNBOUND = re.compile(r"Unknown identifier `([^`\s.]+)`")
AUTO_BOUND_MAX = 8  # auto-bound implicits one statement may have


def start_proof(session: LeanSession, statement: str) -> tuple[Answer, str]:
    """The proof state of `statement`, and the statement it was made from. The session cannot
    auto-bind implicits (`(l : List α)` with no `α` in scope, which a file accepts), so each unknown
    plain identifier is bound as `{α}` in front and the statement asked again."""
    for _ in range(AUTO_BOUND_MAX):
        answer = session.start_proof(statement, 600.0)
        unbound = _UNBOUND.match(answer.error or "")
        if answer.state is not None or unbound is None:
            break
        statement = f"{{{unbound.group(1)}}} {statement}"
    return answer, statement


def as_goal(goal: SessionGoal) -> Goal:
    return Goal(goal.tag, tuple(Hyp((name,), type_) for name, type_ in goal.hyps), goal.target)


@dataclass
class _View:
    """A search node's goals: session state `state`, all its goals (`index` 0) or its `index`-th alone.
    The recipe (`parent`, `tactic`, `pick`, `renames`) rebuilds it in a fresh session."""

    goal: Goal
    key: str
    goals: int
    parent: int | None
    tactic: str | None
    pick: int
    renames: tuple[str, ...]
    state: int = 0
    index: int = 0
    generation: int = -1


@dataclass(frozen=True)
class _Result:
    """What a tactic on view `parent` left: session state `state` with these goals."""

    parent: int
    tactic: str
    state: ProofState
    generation: int


class StateEnv(ProofEnv):
    """One theorem's proof states in a (possibly shared) Lean session."""

    one_at_a_time = True

    def __init__(self, target: Target, session: LeanSession, *, heartbeats: int = 100_000,
                 request_deadline_s: float = 60.0) -> None:
        self.target, self.session = target, session
        self.heartbeats = heartbeats
        self.request_deadline_s = request_deadline_s
        self._deadline = float("inf")
        self._ids = itertools.count(1)
        self._views: dict[int, _View] = {}
        self._results: dict[int, _Result] = {}
        self._stats = EnvStats()
        self._owned: set[int] = set()  # session states this env made and has not freed
        starts, startup = session.starts, session.startup_s
        session.advance(target.preamble)
        answer, self.statement = start_proof(session, target.statement)
        self.startup_s = session.startup_s - startup  # process start and file loading, outside any budget
        self._stats = replace(self._stats, lean_processes=session.starts - starts)
        if answer.state is None:
            raise StartError(answer.failed or answer.error or "no proof state")
        goal = as_goal(answer.state.goals[0])
        self._views[0] = _View(goal, normalize(goal), 1, None, None, 0, (), answer.state.id, 0, session.generation)
        self._owned.add(answer.state.id)

    @property
    def stats(self) -> EnvStats:
        return self._stats

    def init_state(self) -> TacticState:
        return TacticState(self._views[0].goal.render(), 0)

    def limit_time(self, seconds: float) -> None:
        self._deadline = time.monotonic() + max(5.0, seconds + 5.0)

    def goal(self, state: TacticState) -> Goal:
        return self._views[state.id].goal

    def node_key(self, state: TacticState) -> str | None:
        return self._views[state.id].key

    def goals(self, state: TacticState) -> list[TacticState]:
        """A result's goals as search nodes: one per goal, or one for all when they are coupled."""
        if state.id in self._views:
            return [state]
        result = self._results.pop(state.id)
        goals = result.state.goals
        picks = [0] if result.state.coupled or len(goals) == 1 else list(range(1, len(goals) + 1))
        out = []
        for pick in picks:
            first = as_goal(goals[max(pick, 1) - 1])
            fresh, renames = first.with_fresh_names()
            key = " || ".join(normalize(as_goal(g)) for g in goals) if pick == 0 and len(goals) > 1 else None
            vid = next(self._ids)
            view = _View(fresh, key or normalize(fresh), len(goals) if pick == 0 else 1, result.parent,
                         result.tactic, pick, tuple(renames), result.state.id, pick, result.generation)
            self._views[vid] = view
            if renames:
                self._rename(view)
            out.append(TacticState(fresh.render(), vid))
        return out

    def _rename(self, view: _View) -> None:
        """Give a view's inaccessible hypotheses the names its goal shows (a view of its own state)."""
        answer = self._ask(view.state, view.index, f"rename_i {' '.join(view.renames)}")
        if answer.state is not None:
            view.state, view.index = answer.state.id, 0
        else:  # the view stays unrenamed; a tactic naming the fresh names fails on it, nothing worse
            view.renames = ()

    def _ask(self, state: int, index: int, tactic: str) -> Answer:
        deadline = min(self.request_deadline_s, self._deadline - time.monotonic())
        if deadline <= 0:
            return Answer((), 0, "the time budget ran out before this candidate ran")
        start, starts = time.monotonic(), self.session.starts
        answer = self.session.run_tac(state, tactic, index, deadline, self.heartbeats)
        self._stats = replace(self._stats, lean_calls=self._stats.lean_calls + 1,
                              lean_seconds=self._stats.lean_seconds + time.monotonic() - start,
                              lean_processes=self._stats.lean_processes + self.session.starts - starts,
                              crashed_batches=self._stats.crashed_batches + (answer.failed is not None))
        if answer.state is not None:
            self._owned.add(answer.state.id)
        return answer

    def _current(self, vid: int) -> _View | None:
        """The view, rebuilt in the running session if the one that made it is gone."""
        view = self._views[vid]
        if self.session.ready() is not None:
            return None
        if view.generation == self.session.generation:
            return view
        if view.parent is None:
            answer = self.session.start_proof(self.statement, 600.0)
        else:
            parent = self._current(view.parent)
            if parent is None or view.tactic is None:
                return None
            answer = self._ask(parent.state, parent.index, view.tactic)
        if answer.state is None:
            return None
        view.state, view.index, view.generation = answer.state.id, view.pick, self.session.generation
        if view.renames:
            self._rename(view)
        return view

    def run_tacs(self, pairs: Sequence[tuple[TacticState, str]]) -> list[TacticResult]:
        return [refused(tactic) or self._run(state, tactic) for state, tactic in pairs]

    def _run(self, state: TacticState, tactic: str) -> TacticResult:
        view = self._current(state.id)
        if view is None:
            return LeanError("this proof state could not be rebuilt after the session restarted")
        answer = self._ask(view.state, view.index, tactic)
        if answer.failed:
            return LeanError(f"Lean session stopped: {answer.failed}")
        if answer.state is None:
            return LeanError(answer.error or "Lean gave no answer")
        if not answer.state.goals:
            self.session.free([answer.state.id])
            self._owned.discard(answer.state.id)
            return ProofFinished(state.id, f"{answer.elapsed_ms / 1000:.3f}s")
        rid = next(self._ids)
        self._results[rid] = _Result(state.id, tactic, answer.state, self.session.generation)
        return TacticState("\n\n".join(as_goal(g).render() for g in answer.state.goals), rid)

    def release(self, states: Sequence[TacticState]) -> None:
        """Nodes the search will not use (a transposition kept an earlier node): free their session states
        when no other view holds them."""
        dropped = {s.id for s in states}
        held = {v.state for k, v in self._views.items() if k not in dropped}
        gone = []
        for s in states:
            view = self._views.pop(s.id, None)
            if view is not None and view.state not in held and view.state in self._owned:
                gone.append(view.state)
                self._owned.discard(view.state)
        self.session.free(gone)

    def close(self) -> None:
        """Free every state this theorem made: the session serves the next theorem."""
        if self._owned and self.session.running:
            self.session.free(sorted(self._owned))
        self._owned.clear()

    def proof_script(self, steps: dict[int, tuple[str, list[int]]], root: int) -> str:
        return "\n".join(script_lines(steps, root, "  ", self._shape))

    def _shape(self, vid: int) -> tuple[tuple[str, ...], bool]:
        view = self._views[vid]
        return view.renames, view.goals > 1


def open_session(chain, lean_dir: Path, target: Target, limits: Limits | None = None) -> LeanSession:
    """A session for `target`'s file, which `StateEnv` moves along as theorems come."""
    return LeanSession(chain, target.preamble, [lean_dir.absolute() / BUILD_LIB], limits or Limits(timeout_s=600))
