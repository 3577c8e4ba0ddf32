"""A long-lived Lean process that elaborates one command per request: start-up is paid once.

The portable Lean has no working `--server`, so the session file ends in an `#eval` of a
`CommandElabM` loop. It reads requests from `/dev/stdin` (during `#eval` the frontend swaps
`IO.getStdin` for an empty stream; the glue fix `blocking-stdin` makes the read wait for data) and
appends answers to a file this side follows (what the elaboration thread prints on stdout reaches
Node's stdout only when the process ends, and the glue cannot open a named pipe).

A request is command text ended by a line `%%` (a question: its declarations are dropped afterwards)
or `%%EXTEND` (the preamble grows: kept). An answer is Lean's messages, framed, then `@@DONE ms`.
The process runs under the same memory watchdog as every Lean child; a request past its deadline
kills the session, and the next request starts a fresh one.
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

QUESTION, EXTENSION = "%%", "%%EXTEND"  # the line that ends a request, by kind

SERVER = r'''
open Lean Elab Command in
def quantproofSeverity : MessageSeverity → String
  | .error => "error" | .warning => "warning" | .information => "information"

open Lean Elab Command in
def quantproofPrint (out : IO.FS.Stream) : List Message → IO Unit
  | [] => pure ()
  | m :: ms => do
    let stop := m.endPos.getD m.pos
    out.putStrLn s!"@@MSG {quantproofSeverity m.severity} {m.pos.line} {m.pos.column} {stop.line} {stop.column}"
    out.putStrLn (← m.data.toString)
    out.putStrLn "@@END"
    quantproofPrint out ms

/-- One request: its text, and whether it extends the session (`%%EXTEND`) or is a question (`%%`). -/
partial def quantproofRead (input : IO.FS.Stream) (acc : String) : IO (Option (String × Bool)) := do
  let line ← input.getLine
  if line.isEmpty then return none
  if line == "%%\n" then return some (acc, false)
  if line == "%%EXTEND\n" then return some (acc, true)
  quantproofRead input (acc ++ line)

open Lean Elab Command in
/-- Parse and elaborate every command of the input, keeping what they declare. -/
partial def quantproofElabAll (ictx : Parser.InputContext) (mps : Parser.ModuleParserState) : CommandElabM Unit := do
  -- the scope read directly: the inlined accessors have no code in the portable library
  let scope := (← get).scopes.headD { header := "" }
  let pmctx : Parser.ParserModuleContext :=
    { env := ← getEnv, options := scope.opts, currNamespace := scope.currNamespace, openDecls := scope.openDecls }
  let (stx, next, parseMsgs) := Parser.parseCommand ictx pmctx mps {}
  modify fun s => { s with messages := s.messages ++ parseMsgs }
  if Parser.isTerminalCommand stx then return
  withReader (fun ctx => { ctx with fileMap := ictx.fileMap }) (elabCommand stx)
  quantproofElabAll ictx next

open Lean Elab Command in
partial def quantproofServe (input output : IO.FS.Stream) : CommandElabM Unit := do
  match ← quantproofRead input "" with
  | none => return
  | some (text, extend) =>
    let start ← IO.monoMsNow
    let before ← getEnv
    modify fun s => { s with messages := {} }
    quantproofElabAll { inputString := text, fileName := "<request>", fileMap := text.toFileMap } {}
    -- a question leaves no trace: the next one sees the same environment
    unless extend do setEnv before
    quantproofPrint output (← get).messages.toList
    output.putStrLn s!"@@DONE {(← IO.monoMsNow) - start}"
    output.flush
    quantproofServe input output

open Lean Elab Command in
#eval show CommandElabM Unit from do
  let input := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "/dev/stdin" .read)
  let output := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "@@OUTPUT@@" .append)
  output.putStrLn "@@READY"
  output.flush
  quantproofServe input output
'''


@dataclass(frozen=True)
class Answer:
    """Lean's messages for one request (lines relative to the request's text), and how long it took."""

    diagnostics: tuple[Diagnostic, ...]
    elapsed_ms: int
    failed: str | None = None  # the session died or the deadline passed


def session_source(preamble: str) -> str:
    """The session file: the preamble (a source file's text before some declaration) with `import Lean`
    added to its header, then the server."""
    lines = preamble.rstrip("\n").split("\n")
    last = max((i for i, line in enumerate(lines)
                if line.strip() in ("module", "prelude") or line.lstrip().startswith(("import ", "public import ",
                                                                                       "meta import "))),
               default=-1)
    if not any(line.strip() in ("import Lean", "public import Lean") for line in lines[: last + 1]):
        lines.insert(last + 1, "import Lean")
    return "\n".join(lines) + "\n\n" + SERVER


class LeanSession:
    """One session process over a preamble; `ask(text)` answers one command without keeping it, and
    `advance(preamble)` moves on to a longer preamble of the same file by elaborating only the new part."""

    def __init__(self, chain: Toolchain, preamble: str, search_path: list[Path], limits: Limits | None = None,
                 startup_timeout_s: float = 180.0) -> None:
        self.chain, self.preamble, self.search_path = chain, preamble, search_path
        self.limits = limits or Limits()
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.starts = 0
        self.peak_rss = 0
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._why_dead = ""
        self._watcher: threading.Thread | None = None

    def advance(self, preamble: str, deadline_s: float = 300.0) -> None:
        """Serve questions after `preamble` from now on: extend the running session when `preamble` continues
        the current one, otherwise start afresh on the next question."""
        running = self.proc is not None and self.proc.poll() is None
        if running and preamble.startswith(self.preamble) and preamble != self.preamble:
            answer = self._request(preamble[len(self.preamble):], EXTENSION, deadline_s)
            if answer.failed is None and not any(d.severity == "error" for d in answer.diagnostics):
                self.preamble = preamble
                return
        if preamble != self.preamble or not running:
            self.close()
        self.preamble = preamble

    def start(self) -> None:
        self.close()
        self._why_dead = ""  # after close: the old session's watchdog has had its say
        self._scratch = tempfile.TemporaryDirectory(prefix="quantproof-session-")
        path = Path(self._scratch.name) / "QuantproofSession.lean"
        answers = Path(self._scratch.name) / "answers.txt"
        answers.touch()
        source = session_source(self.preamble)
        path.write_text(source.replace("@@OUTPUT@@", str(answers)), encoding="utf-8")
        self.proc = spawn(self.chain.command([str(path)]), env=self.chain.env(self.search_path), cwd=self._scratch.name,
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                          bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=follow_lines, args=(self.proc, answers, self.lines), daemon=True).start()
        self._watcher = threading.Thread(target=self._watch, args=(self.proc,), daemon=True)
        self._watcher.start()
        self.starts += 1
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            line = self._next(deadline)
            if line is None:
                raise RuntimeError(f"the Lean session did not start: {self._why_dead or 'no answer'}")
            if line == "@@READY":
                return

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

    def _request(self, text: str, kind: str, deadline_s: float) -> Answer:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        body = "\n".join(line + " " if line.strip() in (QUESTION, EXTENSION) else line for line in text.split("\n"))
        try:
            self.proc.stdin.write(body.rstrip("\n") + f"\n{kind}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            return Answer((), 0, "the Lean session closed its input")
        return self._read_answer(time.monotonic() + deadline_s)

    def _read_answer(self, deadline: float) -> Answer:
        diags: list[Diagnostic] = []
        while True:
            line = self._next(deadline)
            if line is None:
                why = self._why_dead or "no answer"
                self.close()
                return Answer(tuple(diags), 0, why)
            if line.startswith("@@DONE"):
                return Answer(tuple(diags), int(line.split()[1]))
            if line.startswith("@@MSG"):
                _, severity, l0, c0, l1, c1 = line.split()
                text_lines = []
                while True:
                    more = self._next(deadline)
                    if more is None or more == "@@END":
                        break
                    text_lines.append(more)
                diags.append(Diagnostic(severity, "Tactic.unsolvedGoals" if text_lines and
                                        text_lines[0].startswith("unsolved goals") else "",
                                        "\n".join(text_lines), "request", int(l0), int(c0), int(l1), int(c1)))

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

