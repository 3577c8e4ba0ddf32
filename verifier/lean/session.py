"""A long-lived Lean process that answers requests: start-up is paid once, per header.

The portable Lean has no working `--server`, so the session file ends in an `#eval` of a
`CommandElabM` loop (templates/Session.lean). It reads requests from `/dev/stdin` (during `#eval` the
frontend swaps `IO.getStdin` for an empty stream; the glue fix `blocking-stdin` makes the read wait for
data) and appends answers to a file this side follows (what the elaboration thread prints on stdout
reaches Node's stdout only when the process ends, and the glue cannot open a named pipe).

The process is started on a file's header (its imports) alone; the rest of the file is sent as an
extension, so another file with the same header is served by the same process after a reset.
Requests: a command to answer and forget (`%%`), commands to keep (`%%EXTEND`), a reset to the header
(`%%RESET`), and proof states: a statement's goal (`%%START`), a tactic on a kept state (`%%TAC`), and
states to drop (`%%FREE`). An answer is Lean's messages, a proof state or an error, framed, then
`@@DONE ms`. The process runs under the same memory watchdog as every Lean child; a request past its
deadline kills the session, and the next request starts a fresh one (its proof states are gone:
`generation` tells).
"""

from __future__ import annotations

import contextlib
import math
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from verifier.lean.diagnostics import Diagnostic
from verifier.lean.process import Limits, follow_lines, spawn, stop, watch
from verifier.lean.toolchain.base import Toolchain

QUESTION, EXTENSION, RESET = "%%", "%%EXTEND", "%%RESET"  # the line that ends a request, by kind
START, TACTIC, FREE = "%%START", "%%TAC", "%%FREE"

SERVER = (Path(__file__).resolve().parent / "templates" / "Session.lean").read_text(encoding="utf-8")


@dataclass(frozen=True)
class SessionGoal:
    """One goal of a proof state, as Lean holds it: metavariable, case tag, hypotheses, target."""

    mvar: str
    tag: str | None
    hyps: tuple[tuple[str, str], ...]  # (name as displayed, type)
    target: str


@dataclass(frozen=True)
class ProofState:
    """A proof state the session keeps under `id`; `coupled` when its goals share metavariables."""

    id: int
    goals: tuple[SessionGoal, ...]
    coupled: bool


@dataclass(frozen=True)
class Answer:
    """Lean's messages for one request (lines relative to the request's text), and how long it took;
    for a proof-state request, the new state or Lean's error."""

    diagnostics: tuple[Diagnostic, ...]
    elapsed_ms: int
    failed: str | None = None  # the session died or the deadline passed
    state: ProofState | None = None
    error: str | None = None


def split_header(preamble: str) -> tuple[str, str]:
    """A file's header (`module`, `prelude` and import lines, with what precedes them) and the rest."""
    lines = preamble.split("\n")
    last = max((i for i, line in enumerate(lines)
                if line.strip() in ("module", "prelude") or line.lstrip().startswith(("import ", "public import ",
                                                                                       "meta import "))),
               default=-1)
    return "\n".join(lines[: last + 1]), "\n".join(lines[last + 1:])


def session_source(header: str) -> str:
    """The session file: a header with `import Lean` added, then the server."""
    lines = header.split("\n") if header else []
    if not any(line.strip() in ("import Lean", "public import Lean") for line in lines):
        lines.append("import Lean")
    return "\n".join(lines) + "\n\n" + SERVER


class LeanSession:
    """One session process per header; `advance(preamble)` sets the file text that questions and proof
    states see (elaborating only what is new when it continues the current text, after a reset when it
    does not), `ask(text)` answers one command without keeping it, and `start_proof` / `run_tac` / `free`
    manage proof states."""

    def __init__(self, chain: Toolchain, preamble: str, search_path: list[Path], limits: Limits | None = None,
                 startup_timeout_s: float = 180.0) -> None:
        self.chain, self.search_path = chain, search_path
        self.header, self.body = split_header(preamble)
        self.loaded: str | None = None  # the body the running process holds (None: none yet)
        self.limits = limits or Limits()
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.starts = 0
        self.generation = 0  # bumped whenever the proof states held so far are gone
        self.startup_s = 0.0  # seconds spent starting processes and loading file text
        self.peak_rss = 0
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._why_dead = ""
        self._watcher: threading.Thread | None = None

    @property
    def preamble(self) -> str:
        return self.header + "\n" + self.body if self.body else self.header

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def advance(self, preamble: str) -> None:
        """Serve requests after `preamble` from now on. A different header needs another process (started
        on the next request); the same header keeps this one."""
        header, body = split_header(preamble)
        if header != self.header:
            self.close()
        self.header, self.body = header, body

    def _load(self, deadline_s: float = 600.0) -> None:
        """Bring the running process to `self.body`: extend it when the body continues what it holds,
        otherwise reset it to the header first (the proof states held so far are dropped)."""
        if self.loaded == self.body:
            return
        started = time.monotonic()
        if self.loaded is None or not self.body.startswith(self.loaded):
            if self.loaded:
                self._send("", RESET, deadline_s)
                self.generation += 1
            self.loaded = ""
        if self.body[len(self.loaded):].strip():
            answer = self._send(self.body[len(self.loaded):], EXTENSION, deadline_s)
            if answer.failed:
                raise RuntimeError(f"the Lean session could not load the file: {answer.failed}")
        self.loaded = self.body
        self.startup_s += time.monotonic() - started

    def start(self) -> None:
        self.close()
        started = time.monotonic()
        self._why_dead = ""  # after close: the old session's watchdog has had its say
        self._scratch = tempfile.TemporaryDirectory(prefix="quantproof-session-")
        path = Path(self._scratch.name) / "QuantproofSession.lean"
        answers = Path(self._scratch.name) / "answers.txt"
        answers.touch()
        source = session_source(self.header)
        path.write_text(source.replace("@@OUTPUT@@", str(answers)), encoding="utf-8")
        self.proc = spawn(self.chain.command([str(path)]), env=self.chain.env(self.search_path), cwd=self._scratch.name,
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                          bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=follow_lines, args=(self.proc, answers, self.lines), daemon=True).start()
        self._watcher = threading.Thread(target=self._watch, args=(self.proc,), daemon=True)
        self._watcher.start()
        self.starts += 1
        self.generation += 1
        self.loaded = None
        deadline = time.monotonic() + self.startup_timeout_s
        try:
            while True:
                line = self._next(deadline)
                if line is None:
                    raise RuntimeError(f"the Lean session did not start: {self._why_dead or 'no answer'}")
                if line == "@@READY":
                    return
        finally:
            self.startup_s += time.monotonic() - started

    def _watch(self, proc: subprocess.Popen) -> None:
        """The memory watchdog; no wall-clock limit here, since each request has its own deadline."""
        why, _ = watch(proc, Limits(self.limits.memory_bytes, math.inf), time.monotonic(), self._note_peak)
        self._why_dead = self._why_dead or why or ""

    def _note_peak(self, rss: int) -> None:
        self.peak_rss = max(self.peak_rss, rss)

    def _next(self, deadline: float) -> str | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._why_dead = self._why_dead or "deadline passed"
                return None
            try:
                line = self.lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if (self.proc is None or self.proc.poll() is not None) and self.lines.empty():
                    self._dead("the session exited")
                    return None
                continue
            if line is None:
                self._dead("the session exited")
            return line

    def _dead(self, default: str) -> None:
        """The process is gone: let the watchdog say first whether it killed it."""
        if self._watcher is not None:
            self._watcher.join(timeout=2.0)
        self._why_dead = self._why_dead or default

    def ask(self, text: str, deadline_s: float = 60.0) -> Answer:
        """Lean's messages for one command (its declarations are not kept)."""
        return self._request(text, QUESTION, deadline_s)

    def start_proof(self, statement: str, deadline_s: float = 60.0) -> Answer:
        """A new proof state holding the goal of `statement` (a theorem's signature after its name)."""
        return self._request(statement, START, deadline_s)

    def run_tac(self, state: int, tactic: str, goal: int = 0, deadline_s: float = 60.0,
                heartbeats: int = 100_000) -> Answer:
        """Run `tactic` on proof state `state`: on its goals as they are (`goal` 0: it acts on the first,
        the others stay) or on its `goal`-th goal alone (from 1), under `heartbeats` (`maxHeartbeats`
        units). A new state, or Lean's error; no replay."""
        return self._request(tactic, f"{TACTIC} {state} {goal} {heartbeats}", deadline_s)

    def free(self, states: list[int]) -> None:
        """Drop proof states the caller no longer needs (only from the process that made them)."""
        if states and self.running:
            self._send("\n".join(str(s) for s in states), FREE, 30.0)

    def ready(self) -> str | None:
        """Start the process and load the file text when needed: None, or why it could not."""
        try:
            if not self.running:
                self.start()
            self._load()
        except RuntimeError as exc:
            self.close()
            return str(exc)
        return None

    def _request(self, text: str, kind: str, deadline_s: float) -> Answer:
        why = self.ready()
        return Answer((), 0, why) if why else self._send(text, kind, deadline_s)

    def _send(self, text: str, kind: str, deadline_s: float) -> Answer:
        assert self.proc is not None and self.proc.stdin is not None
        # a line of the text that looks like a kind line would end the request early
        body = "\n".join(" " + line if line.startswith("%%") else line for line in text.split("\n"))
        try:
            self.proc.stdin.write(body.rstrip("\n") + f"\n{kind}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            return Answer((), 0, "the Lean session closed its input")
        return self._read_answer(time.monotonic() + deadline_s)

    def _block(self, deadline: float) -> list[str]:
        """The lines of a framed text, up to its `@@END`."""
        out = []
        while True:
            more = self._next(deadline)
            if more is None or more == "@@END":
                return out
            out.append(more)

    def _read_answer(self, deadline: float) -> Answer:
        diags: list[Diagnostic] = []
        state: ProofState | None = None
        goals: list[SessionGoal] = []
        error: str | None = None
        while True:
            line = self._next(deadline)
            if line is None:
                why = self._why_dead or "no answer"
                self.close()
                return Answer(tuple(diags), 0, why)
            if line.startswith("@@DONE"):
                if state is not None:
                    state = ProofState(state.id, tuple(goals), state.coupled)
                return Answer(tuple(diags), int(line.split()[1]), None, state, error)
            if line.startswith("@@MSG"):
                _, severity, l0, c0, l1, c1 = line.split()
                text_lines = self._block(deadline)
                diags.append(Diagnostic(severity, "Tactic.unsolvedGoals" if text_lines and
                                        text_lines[0].startswith("unsolved goals") else "",
                                        "\n".join(text_lines), "request", int(l0), int(c0), int(l1), int(c1)))
            elif line == "@@ERROR":
                error = "\n".join(self._block(deadline)).strip() or "Lean gave no reason"
            elif line.startswith("@@STATE "):
                _, sid, _, coupled = line.split()
                state = ProofState(int(sid), (), coupled == "1")
            elif line.startswith("@@GOAL "):
                goals.append(self._goal(line.split(maxsplit=1)[1], deadline))

    def _goal(self, mvar: str, deadline: float) -> SessionGoal:
        tag = self._next(deadline) or ""
        hyps: list[tuple[str, str]] = []
        while True:
            line = self._next(deadline) or "@@TARGET"
            if line == "@@TARGET":
                return SessionGoal(mvar, tag or None, tuple(hyps), self._next(deadline) or "")
            if line.startswith("@@HYP "):
                hyps.append((line[6:], self._next(deadline) or ""))

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                if self.proc.stdin:
                    self.proc.stdin.close()
            stop(self.proc)
            if self._watcher is not None:
                self._watcher.join(timeout=2.0)  # a closed session's watchdog must not outlive it
            self.proc = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

