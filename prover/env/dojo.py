"""Backend (b): LeanDojo's own `Dojo` on a traced repository, where a native toolchain exists.

`Dojo` works on whole tactic states (all goals together), so here a state is one search node holding
all its goals and the proof is the straight line of tactics leading to `ProofFinished`. Each call is
bounded by Dojo's tactic timeout; a crash of the Lean process is reported as a `LeanError` and the
Dojo is restarted, so the search continues.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from lean_dojo import LeanError, TacticState

from prover.env.base import EnvStats, ProofEnv, TacticResult, refused
from prover.goals import Goal, parse_goals


class DojoEnv(ProofEnv):
    one_at_a_time = True

    def __init__(self, theorem: Any, dojo_factory: Callable[..., Any] | None = None, timeout: int = 60) -> None:
        if dojo_factory is None:
            from lean_dojo import Dojo

            dojo_factory = Dojo
        self.theorem, self.factory, self.timeout = theorem, dojo_factory, timeout
        self._stats = EnvStats()
        self._open()

    def _open(self) -> None:
        self._context = self.factory(self.theorem, timeout=self.timeout)
        self.dojo, self.initial = self._context.__enter__()
        self._stats = replace(self._stats, lean_processes=self._stats.lean_processes + 1)

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    @property
    def stats(self) -> EnvStats:
        return self._stats

    def init_state(self) -> TacticState:
        return self.initial

    def goal(self, state: TacticState) -> Goal:
        """The single goal, or (several goals) one pseudo-goal carrying all of them for the policy."""
        goals = parse_goals(state.pp)
        return goals[0] if len(goals) == 1 else Goal(None, (), " ∧ ".join(g.target for g in goals))

    def goals(self, state: TacticState) -> list[TacticState]:
        return [state]

    def run_tacs(self, pairs: Sequence[tuple[TacticState, str]]) -> list[TacticResult]:
        out: list[TacticResult] = []
        for state, tactic in pairs:
            refusal = refused(tactic)
            if refusal is not None:
                out.append(refusal)
                continue
            start = time.monotonic()
            try:
                result = self.dojo.run_tac(state, tactic)
            except Exception as exc:  # DojoCrashError, DojoTacticTimeoutError: report, restart, go on
                result = LeanError(f"{type(exc).__name__}: {exc}")
                self._stats = replace(self._stats, crashed_batches=self._stats.crashed_batches + 1)
                self.close()
                self._open()
            self._stats = replace(self._stats, lean_calls=self._stats.lean_calls + 1,
                                  lean_seconds=self._stats.lean_seconds + time.monotonic() - start)
            out.append(result)
        return out

    def proof_script(self, steps: dict[int, tuple[str, list[int]]], root: int) -> str:
        lines, sid = [], root
        while sid in steps:
            tactic, children = steps[sid]
            lines.append(f"  {tactic}")
            if not children:
                break
            sid = children[0]
        return "\n".join(lines)
