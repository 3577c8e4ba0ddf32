"""Backend (a): the portable Lean, batched. Many (goal, tactic) candidates per Lean process.

Each candidate is a generated `example` restating the theorem, whose tactic script replays the path to
its goal: the tactics along the way, with `· sorry` for sibling goals and the target goal's bullet
holding the new tactic. Lean's messages inside that bullet are the answer: none (goal closed), an
`unsolved goals` error (the new goals, read by `prover.goals`), or another error.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lean_dojo import LeanError, ProofFinished, TacticState

from prover.env.base import EnvStats, ProofEnv, TacticResult, refused, script_lines
from prover.goals import Goal, Hyp, parse_goals
from prover.target import Target
from verifier.lean.batch import Snippet, SnippetResult, run_batch
from verifier.lean.process import Limits
from verifier.lean.project import BUILD_LIB
from verifier.lean.session import LeanSession
from verifier.lean.toolchain.base import Toolchain


@dataclass(frozen=True)
class Step:
    """Along a path: run `tactic`, then continue in goal `index` of the `count` it leaves."""

    tactic: str
    index: int
    count: int
    renames: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Record:
    path: tuple[Step, ...]
    goal: Goal | None = None
    tactic: str | None = None
    goals: tuple[Goal, ...] = ()


def statement_goal(statement: str) -> Goal:
    """An approximate first goal read from the statement text (binders become hypotheses)."""
    hyps, depth, i, text = [], 0, 0, statement.strip()
    while i < len(text) and text[i] in "({[⦃":
        close = {"(": ")", "{": "}", "[": "]", "⦃": "⦄"}[text[i]]
        depth, j = 0, i
        while j < len(text):
            depth += text[j] in "({[⦃"
            depth -= text[j] in ")}]⦄"
            if depth == 0 and text[j] == close:
                break
            j += 1
        inner = text[i + 1:j]
        if " : " in inner:
            names, type_ = inner.split(" : ", 1)
            hyps.append(Hyp(tuple(names.split()), type_.strip()))
        i = j + 1
        while i < len(text) and text[i] == " ":
            i += 1
    target = text[i:].lstrip()
    target = target[1:].strip() if target.startswith(":") else target
    return Goal(None, tuple(hyps), target)


def example_head(statement: str, heartbeats: int) -> list[str]:
    """The lines that open a generated `example` restating a theorem, under a heartbeat limit."""
    return [f"set_option maxHeartbeats {heartbeats} in", f"example {statement} := by"]


def _render(path: tuple[Step, ...], tactic: str, indent: str) -> tuple[list[str], tuple[int, int]]:
    """Script lines, and the (first, last) line indexes of the region whose messages answer `tactic`."""
    if not path:
        return [indent + line for line in tactic.split("\n")], (0, tactic.count("\n"))
    step, rest = path[0], path[1:]
    lines = [indent + step.tactic]
    region = (0, 0)
    for j in range(step.count):
        if j != step.index:
            lines.append(indent + "· sorry")
            continue
        inner, (a, b) = _render(rest, tactic, indent + "  ")
        bullet = len(lines)
        lines.append(indent + "· " + (f"rename_i {' '.join(step.renames)}" if step.renames else "skip"))
        lines.extend(inner)
        # the bullet's own line reports its unsolved goals when the tactic is the last step
        region = (bullet, bullet + 1 + b) if not rest else (bullet + 1 + a, bullet + 1 + b)
    return lines, region


class PortableEnv(ProofEnv):
    """Proof environment of one theorem on the portable (or any CLI) Lean, evaluated in batches."""

    def __init__(self, chain: Toolchain, lean_dir: Path, target: Target, *, heartbeats: int = 100_000,
                 limits: Limits | None = None) -> None:
        self.chain, self.lean_dir, self.target = chain, lean_dir, target
        self.heartbeats = heartbeats
        self.limits = limits or Limits(timeout_s=600)
        self._ids = itertools.count(1)
        self._records: dict[int, _Record] = {0: _Record((), statement_goal(target.statement))}
        self._stats = EnvStats()

    @property
    def stats(self) -> EnvStats:
        return self._stats

    def init_state(self) -> TacticState:
        return TacticState(self._records[0].goal.render(), 0)

    def limit_time(self, seconds: float) -> None:
        self.limits = Limits(self.limits.memory_bytes, max(20.0, seconds + 5.0))

    def goal(self, state: TacticState) -> Goal:
        record = self._records[state.id]
        if record.goal is None:
            raise ValueError("a multi-goal state: split it with goals() first")
        return record.goal

    def goals(self, state: TacticState) -> list[TacticState]:
        record = self._records[state.id]
        if record.goal is not None:
            return [state]
        out = []
        for j, goal in enumerate(record.goals):
            fresh, renames = goal.with_fresh_names()
            sid = next(self._ids)
            step = Step(record.tactic or "skip", j, len(record.goals), tuple(renames))
            self._records[sid] = _Record((*record.path, step), fresh)
            out.append(TacticState(fresh.render(), sid))
        return out

    def candidate(self, state: TacticState, tactic: str) -> tuple[str, tuple[int, int]]:
        """The snippet for one candidate and its answer region (lines relative to the snippet)."""
        record = self._records[state.id]
        lines, (a, b) = _render(record.path, tactic, "  ")
        head = example_head(self.target.statement, self.heartbeats)
        region = (0, len(head) + len(lines) - 1) if not record.path else (len(head) + a, len(head) + b)
        return "\n".join(head + lines), region

    def run_tacs(self, pairs: Sequence[tuple[TacticState, str]]) -> list[TacticResult]:
        results: list[TacticResult | None] = [refused(t) for _, t in pairs]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            for i, result in zip(todo, self._evaluate([pairs[i] for i in todo]), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _evaluate(self, pairs: Sequence[tuple[TacticState, str]], retry: bool = True) -> list[TacticResult]:
        snippets, regions = [], []
        for k, (state, tactic) in enumerate(pairs):
            code, region = self.candidate(state, tactic)
            snippets.append(Snippet(f"c{k}", code))
            regions.append(region)
        start = time.monotonic()
        batch = run_batch(self.chain, self.lean_dir, (), snippets, preamble=self.target.preamble, limits=self.limits,
                          profile=True)
        self._stats = replace(self._stats, lean_calls=self._stats.lean_calls + len(pairs),
                              lean_processes=self._stats.lean_processes + 1,
                              lean_seconds=self._stats.lean_seconds + time.monotonic() - start)
        if batch.killed or batch.header_errors:
            self._stats = replace(self._stats, crashed_batches=self._stats.crashed_batches + 1)
            why = batch.killed or batch.header_errors[0].first_line()
            out_of_time = (batch.killed or "").startswith("time limit")
            if retry and len(pairs) > 1 and not out_of_time:  # one runaway candidate should not sink the rest
                half = len(pairs) // 2
                return self._evaluate(pairs[:half], False) + self._evaluate(pairs[half:], False)
            return [LeanError(f"Lean process failed: {why}") for _ in pairs]
        return [self._answer(pairs[k], r, regions[k]) for k, r in enumerate(batch.results)]

    def _answer(self, pair: tuple[TacticState, str], result: SnippetResult, region: tuple[int, int]) -> TacticResult:
        state, tactic = pair
        lo, hi = result.first_line + region[0], result.first_line + region[1]
        inside = [d for d in result.diagnostics if d.severity == "error" and lo <= d.line <= hi]
        elsewhere = [d for d in result.diagnostics if d.severity == "error" and not lo <= d.line <= hi]
        if elsewhere:
            return LeanError(f"replaying the path failed: {elsewhere[0].first_line()}")
        unsolved = [d for d in inside if d.kind == "Tactic.unsolvedGoals"]
        if inside and len(unsolved) == len(inside) and len(unsolved) == 1:
            goals = tuple(parse_goals(unsolved[0].text))
            record = self._records[state.id]
            sid = next(self._ids)
            self._records[sid] = _Record(record.path, None, tactic, goals)
            return TacticState("\n\n".join(g.render() for g in goals), sid)
        if inside:
            return LeanError(inside[0].text.strip())
        return ProofFinished(state.id, f"{result.elapsed_s or 0:.3f}s")

    def proof_script(self, steps: dict[int, tuple[str, list[int]]], root: int) -> str:
        return "\n".join(script_lines(steps, root, "  ", lambda c: (self._records[c].path[-1].renames, False)))


class SessionEnv(PortableEnv):
    """Backend (c): the same candidates, answered one by one by a long-lived Lean session instead of a
    process per batch (start-up once, then a fraction of a second per candidate). The session may be
    shared: `advance` moves it on to this theorem's preamble."""

    one_at_a_time = True

    def __init__(self, chain: Toolchain, lean_dir: Path, target: Target, *, heartbeats: int = 100_000,
                 limits: Limits | None = None, session: LeanSession | None = None,
                 request_deadline_s: float = 60.0) -> None:
        super().__init__(chain, lean_dir, target, heartbeats=heartbeats, limits=limits)
        self.request_deadline_s = request_deadline_s
        self._deadline = float("inf")
        self.owned = session is None
        self.session = session or LeanSession(chain, target.preamble, [lean_dir.absolute() / BUILD_LIB], self.limits)
        self.session.advance(target.preamble)

    def limit_time(self, seconds: float) -> None:
        self._deadline = time.monotonic() + max(5.0, seconds + 5.0)

    def close(self) -> None:
        if self.owned:
            self.session.close()

    def _evaluate(self, pairs: Sequence[tuple[TacticState, str]], retry: bool = True) -> list[TacticResult]:
        starts = self.session.starts
        out = [self._ask(k, pair) for k, pair in enumerate(pairs)]
        self._stats = replace(self._stats, lean_processes=self._stats.lean_processes + self.session.starts - starts)
        return out

    def _ask(self, k: int, pair: tuple[TacticState, str]) -> TacticResult:
        code, region = self.candidate(*pair)
        deadline = min(self.request_deadline_s, self._deadline - time.monotonic())
        if deadline <= 0:
            return LeanError("the time budget ran out before this candidate ran")
        start = time.monotonic()
        answer = self.session.ask(code, deadline)  # a session that cannot start answers `failed`
        self._stats = replace(self._stats, lean_calls=self._stats.lean_calls + 1,
                              lean_seconds=self._stats.lean_seconds + time.monotonic() - start)
        if answer.failed:
            self._stats = replace(self._stats, crashed_batches=self._stats.crashed_batches + 1)
            return LeanError(f"Lean session stopped: {answer.failed}")
        return self._answer(pair, SnippetResult(f"c{k}", True, answer.diagnostics, answer.elapsed_ms / 1000, 1),
                            region)
