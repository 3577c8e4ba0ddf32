"""The LeanDojo-shaped interface every backend implements.

`run_tac(state, tactic)` returns lean_dojo's `TacticState` (goals remain), `ProofFinished` (the goal is
closed) or `LeanError`; `run_tacs` evaluates many at once, which is how the search uses a backend.
A `TacticState` here holds exactly one goal; `goals(state)` splits a result into one state per goal.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lean_dojo import LeanError, ProofFinished, TacticState

from prover.goals import Goal

TacticResult = TacticState | ProofFinished | LeanError

FORBIDDEN_TACTICS = ("exact?", "try?", "apply?", "rw?", "hint", "aesop?")


# Words that do not prove anything, and words that start a new command (a tactic string is pasted into a
# proof, so one of these could end the proof and run its own command in the session).
UNSOUND_WORDS = frozenset({"sorry", "admit", "native_decide", "sorryAx", "unsafe"})
COMMAND_WORDS = frozenset({
    "theorem", "lemma", "def", "example", "abbrev", "instance", "axiom", "opaque", "structure", "inductive",
    "class", "import", "namespace", "section", "end", "universe", "variable", "set_option", "open", "export",
    "attribute", "mutual", "deriving", "initialize", "builtin_initialize", "run_cmd", "run_tac", "run_elab",
    "elab", "elab_rules", "macro", "macro_rules", "syntax", "notation", "infix", "infixl", "infixr", "prefix",
    "postfix", "noncomputable", "private", "protected", "public", "partial", "termination_by", "decreasing_by",
})
_WORD = re.compile(r"[\w.'?!]+")


def refused(tactic: str) -> LeanError | None:
    """Refuse by token, before Lean sees it: memory-hungry searches (exact?, try?), anything that proves
    nothing (sorry, admit, native_decide), line breaks and command keywords (a new command in the session)."""
    if "\n" in tactic or "\r" in tactic:
        return LeanError("refused: a tactic is one line")
    if re.search(r"#[A-Za-z_]", tactic) or "@[" in tactic:
        return LeanError("refused: commands and attributes are not tactics")
    for word in _WORD.findall(tactic):
        if word in FORBIDDEN_TACTICS:
            return LeanError(f"refused: `{word}` exhausts memory on the portable Lean")
        if word in UNSOUND_WORDS:
            return LeanError(f"refused: `{word}` does not prove anything")
        if word in COMMAND_WORDS:
            return LeanError(f"refused: `{word}` starts a command, not a tactic")
    return None


def script_lines(steps: dict[int, tuple[str, list[int]]], node: int, indent: str,
                 shape: Callable[[int], tuple[tuple[str, ...], bool]]) -> list[str]:
    """The tactic script below `node` of a proof tree (node -> (tactic, children)). `shape(child)` gives the
    inaccessible names `rename_i` installs first, and whether the child holds coupled goals: those stay
    in line, without a bullet (the next tactic acts on the first of them); a single goal gets its bullet."""
    tactic, children = steps[node]
    lines = [indent + line for line in tactic.split("\n")]
    for child in children:
        renames, coupled = shape(child)
        inner = script_lines(steps, child, indent + "  ", shape)
        rename = f"rename_i {' '.join(renames)}"
        if coupled:
            lines += [indent + rename] if renames else []
            lines.extend(line[2:] for line in inner)
        elif renames:
            lines.append(f"{indent}· {rename}")
            lines.extend(inner)
        else:
            lines.append(f"{indent}· {inner[0].lstrip()}")
            lines.extend(inner[1:])
    return lines


@dataclass(frozen=True)
class EnvStats:
    lean_calls: int = 0
    lean_processes: int = 0
    lean_seconds: float = 0.0
    crashed_batches: int = 0


class ProofEnv(ABC):
    """One theorem's proof environment."""

    # Candidates run one at a time (a session, a Dojo), so a batch may be cut short at no cost once the
    # theorem is proved; a process per batch (the batch backend) runs it whole.
    one_at_a_time: bool = False

    @abstractmethod
    def init_state(self) -> TacticState: ...

    @abstractmethod
    def run_tacs(self, pairs: Sequence[tuple[TacticState, str]]) -> list[TacticResult]: ...

    def run_tac(self, state: TacticState, tactic: str) -> TacticResult:
        return self.run_tacs([(state, tactic)])[0]

    @abstractmethod
    def goal(self, state: TacticState) -> Goal:
        """The parsed goal of a single-goal state."""

    def limit_time(self, seconds: float) -> None:  # noqa: B027 (optional hook, not abstract)
        """Bound the next evaluation's wall time (the search's remaining budget); default: no bound."""

    def node_key(self, state: TacticState) -> str | None:
        """The transposition key of a single-goal state, when the goal text alone is not enough."""
        return None

    def release(self, states: Sequence[TacticState]) -> None:  # noqa: B027 (optional hook, not abstract)
        """States the search will not use; a backend that keeps states may free them."""

    @abstractmethod
    def goals(self, state: TacticState) -> list[TacticState]:
        """One single-goal state per goal of `state` (a state returned by `run_tac(s)`)."""

    @abstractmethod
    def proof_script(self, steps: dict[int, tuple[str, list[int]]], root: int) -> str:
        """The tactic script of a proof tree: state id -> (tactic, child state ids)."""

    @property
    @abstractmethod
    def stats(self) -> EnvStats: ...

    def close(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release the backend's Lean processes."""
