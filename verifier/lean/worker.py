"""One warm portable Lean per run: jobs that would each start a `lean` process run in a long-lived one.

The portable Lean pays 7–45 s of runtime start-up per process. A worker pays it once: its file imports
Lean and ends in an `#eval` loop that reads jobs from blocking stdin (as the prover's session does) and
runs each through Lean's own `runFrontend`, the function `lean` itself calls, with the job's file, main
module name, options, search path and `.olean`/`.ilean` outputs. Every job imports its own header
afresh, so nothing leaks from one job to the next. Its `--json` messages go to a file per job, which
this side parses exactly as it parses a `lean --json` run.

Each job is watched: past its memory or time limit the worker is killed, the job reports `killed`, and
the next job starts a fresh worker. A worker whose memory has grown past `restart_bytes` after a job
is retired (imported modules are never freed inside one Lean process).

Inside `warm_workers(n)`, `Toolchain.run_file` on a portable toolchain goes to a pool of `n` workers;
outside it (and with `--no-worker`) every run is its own `lean` process, as before. A native Lean
starts in 0.05 s and always runs its own processes.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil

from verifier.lean.diagnostics import parse_output
from verifier.lean.process import Limits, ProcessResult, follow_lines, spawn, stop, tree_rss


class Toolchain(Protocol):
    """What a worker needs of `verifier.lean.toolchain.base.Toolchain` (which imports this module)."""

    kind: str

    @property
    def identity(self) -> str: ...

    def command(self, args: list[str]) -> list[str]: ...

    def env(self, search_path: list[Path]) -> dict[str, str]: ...

TRUST_LEVEL = 1025  # what `lean` passes: LEAN_BELIEVER_TRUST_LEVEL + 1
DEFAULT_MODULE = "_stdin"  # `lean`'s main module name when no `-R` root is given
STARTUP_TIMEOUT_S = 240.0
RETIRE_FRACTION = 0.9  # of a job's memory limit: a worker whose peak passed it is replaced after the job
# The portable Lean's heap (wasm32 linear memory) cannot pass 2 GiB, and a process never frees the
# modules it imported. Measured here: a worker's heap is 0.41 GB after its first job and grows ~0.1 GB
# per job that imports Init; the 22nd such job crossed 2 GiB and failed in each of 4 runs (an
# "unaligned access" trap, or "errors" with no message). A worker whose heap has passed this after a
# job is replaced, which leaves the next job 0.5 GiB; a job that still fails so is run again afresh.
HEAP_RETIRE_BYTES = 3 * 1024**3 // 2
_DEBUG_LINES = ("[DEBUG", "  - ", "  mainModule?")  # the portable Lean's own tracing on stderr

SERVER = r'''module

import Lean.Elab.Frontend

open Lean

/-! Only plain recursion on lists here: the portable library lacks the compiled code of many
`Array`/`String` helpers (their private loops), which `#eval` would need. -/

/-- `A.B.C` as a hierarchical name (string interpolation of names needs IR the portable library lacks). -/
def quantproofName (s : String) : Name :=
  go (s.splitOn ".") .anonymous
where
  go : List String → Name → Name
    | [], n => n
    | p :: ps, n => go ps (Name.mkStr n p)

/-- `key=value` split at the first `=`. -/
def quantproofField (line : String) : String × String :=
  match line.splitOn "=" with
  | [] => ("", "")
  | k :: rest => (k, String.intercalate "=" rest)

/-- Every value of `key`, in the order given (`fields` is newest first). -/
def quantproofAll : List (String × String) → String → List String → List String
  | [], _, acc => acc
  | (k, v) :: rest, key, acc => quantproofAll rest key (if k == key then v :: acc else acc)

def quantproofGet (fields : List (String × String)) (key : String) : String :=
  match quantproofAll fields key [] with
  | [] => ""
  | v :: _ => v

/-- One `-D key=value`, typed by the option's declaration, as `lean` does. -/
def quantproofOption (opts : Options) (kv : String) : IO Options := do
  let (key, value) := quantproofField kv
  let name := quantproofName key
  let decl ← getOptionDecl name  -- throws "unknown option", as `lean -D` fails
  match decl.defValue with
  | .ofBool _ => return opts.insert name (.ofBool (value == "true"))
  | .ofNat _ => return opts.insert name (.ofNat value.toNat!)
  | _ => return opts.insert name (.ofString value)

def quantproofOptions (opts : Options) : List String → IO Options
  | [] => pure opts
  | kv :: rest => do quantproofOptions (← quantproofOption opts kv) rest

def quantproofPaths : List String → SearchPath → SearchPath
  | [], core => core
  | p :: ps, core => System.FilePath.mk p :: quantproofPaths ps core

/-- Lines `key=value` up to `@@GO` (newest first); none at the end of input. -/
partial def quantproofRead (input : IO.FS.Stream) (fields : List (String × String)) :
    IO (Option (List (String × String))) := do
  let line ← input.getLine
  if line.isEmpty then return none
  let line := (line.splitOn "\n").headD ""
  if line == "@@GO" then return some fields
  quantproofRead input (quantproofField line :: fields)

def quantproofPath (s : String) : Option System.FilePath :=
  if s.isEmpty then none else some s

/-- Info trees of every snapshot (plain recursion: see above). -/
def quantproofTrees : List Language.Snapshot → Array Elab.InfoTree → Array Elab.InfoTree
  | [], acc => acc
  | t :: ts, acc => quantproofTrees ts (match t.infoTree? with | some i => acc.push i | none => acc)

/-- What `lean` does with a file (`Lean.Elab.runFrontend`), without pinning the snapshot tree in memory
at the end: a process that lives on must get its elaboration memory back. True when it compiled. -/
def quantproofFrontend (src : String) (opts : Options) (file : String) (mod : Name)
    (olean? ilean? : Option System.FilePath) : IO Bool := do
  let src := src.crlfToLf  -- as `Parser.mkInputContext` does (its own code is missing from the library)
  let inputCtx : Parser.InputContext := { inputString := src, fileName := file, fileMap := src.toFileMap }
  let opts := Lean.internal.cmdlineSnapshots.setIfNotSet opts true
  let opts := Elab.async.setIfNotSet opts true
  let setup (stx : Elab.HeaderSyntax) : Language.ProcessingT IO
      (Except Language.Lean.HeaderProcessedSnapshot Language.Lean.SetupImportsResult) :=
    return .ok { imports := stx.imports, isModule := stx.isModule, mainModuleName := mod, opts,
                 trustLevel := @@TRUST@@, plugins := #[] }
  let snap ← Language.Lean.process setup none { inputCtx with }
  -- the library's compiled instance, behind a reference so the compiler cannot inline it (inlined, it
  -- needs code the portable library lacks)
  let inst ← IO.mkRef Language.Lean.instToSnapshotTreeHeaderParsedSnapshot
  let snaps := (← inst.get).toSnapshotTree snap
  let hasErrors ← snaps.runAndReport opts true {}
  let some cmdState := Language.Lean.waitForFinalCmdState? snap | return false
  if hasErrors then return false
  if let some f := olean? then
    writeModule cmdState.env f  -- unprofiled: `profileitIO` has no code in the portable library
  if let some f := ilean? then
    let trees := quantproofTrees snaps.getAll.toList #[]
    let refs := Server.findModuleRefs inputCtx.fileMap trees (localVars := false)
    let (references, decls) ← refs.toLspModuleRefs
    let ilean : Server.Ilean :=
      { module := mod, directImports := Server.collectImports ⟨snap.stx⟩, references, decls }
    IO.FS.writeFile f <| Json.compress <| toJson ilean
  return true

open Elab Command in
/-- Run one job as `lean --json` would, its messages into the job's answer file; "ok", "errors" or why not.
(In `CommandElabM`: in plain `IO` the call needs a boxed `runFrontend` the portable library lacks.) -/
def quantproofRun (job : List (String × String)) (core : SearchPath) : CommandElabM String := do
  let answers ← IO.FS.Handle.mk (quantproofGet job "answers") .write
  try
    searchPathRef.set (quantproofPaths (quantproofAll job "path" []) core)
    let opts ← quantproofOptions {} (quantproofAll job "opt" [])
    let file := quantproofGet job "file"
    let src ← IO.FS.readFile file
    let ok ← IO.withStdout (IO.FS.Stream.ofHandle answers) <|
      quantproofFrontend src opts file (quantproofName (quantproofGet job "module"))
        (quantproofPath (quantproofGet job "olean")) (quantproofPath (quantproofGet job "ilean"))
    answers.flush
    return if ok then "ok" else "errors"
  catch e =>
    answers.flush
    return s!"exception {((← e.toMessageData.toString).splitOn "\n").headD ""}"

open Elab Command in
partial def quantproofServe (input output : IO.FS.Stream) (core : SearchPath) : CommandElabM Unit := do
  let some job ← quantproofRead input [] | return
  let start ← IO.monoMsNow
  let status ← quantproofRun job core
  output.putStrLn s!"@@DONE {(← IO.monoMsNow) - start} {status}"
  output.flush
  quantproofServe input output core

open Lean Elab Command in
#eval show CommandElabM Unit from do
  let input := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "/dev/stdin" .read)
  let output := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "@@OUTPUT@@" .append)
  let core ← searchPathRef.get
  output.putStrLn "@@READY"
  output.flush
  quantproofServe input output core
'''


def server_source(answers: Path) -> str:
    """The worker's Lean file, answering into `answers`."""
    return SERVER.replace("@@OUTPUT@@", str(answers)).replace("@@TRUST@@", str(TRUST_LEVEL))


@dataclass(frozen=True)
class Job:
    """What one `lean --json [-R root] [-D k=v]… [-o X.olean -i X.ilean] file` run is given."""

    file: Path
    module: str
    search_path: tuple[Path, ...]
    options: tuple[tuple[str, str], ...] = ()
    output_base: Path | None = None

    def request(self, answers: Path) -> str:
        lines = [f"file={self.file}", f"module={self.module}", f"answers={answers}"]
        lines += [f"path={p}" for p in self.search_path]
        lines += [f"opt={k}={v}" for k, v in self.options]
        if self.output_base is not None:
            lines += [f"olean={self.output_base}.olean", f"ilean={self.output_base}.ilean"]
        if any("\n" in line for line in lines):
            raise ValueError("a Lean job's file, module, path or option contains a line break")
        return "\n".join([*lines, "@@GO"]) + "\n"


def module_name(file: Path, root: Path | None) -> str:
    """The main module name `lean -R root file` gives (`_stdin` without a root)."""
    if root is None:
        return DEFAULT_MODULE
    try:
        rel = file.resolve().relative_to(root.resolve())
    except ValueError:
        return DEFAULT_MODULE
    return ".".join(rel.with_suffix("").parts)


class LeanWorker:
    """One worker process; `run(job, limits)` answers one job at a time."""

    def __init__(self, chain: Toolchain) -> None:
        self.chain = chain
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.starts = 0
        self.jobs = 0
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._limits = Limits(math.inf, math.inf)  # the running job's: read by the watchdog
        self._job_start = 0.0
        self._peak = 0
        self._served = 0  # jobs this process has run
        self.max_rss = 0  # the largest RSS any of its processes reached
        self.retired = 0  # workers replaced after a job, for memory or a fault
        self._why = ""
        self._watcher: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, limits: Limits) -> None:
        self.close()
        self._why, self._served = "", 0
        self._scratch = tempfile.TemporaryDirectory(prefix="quantproof-worker-")
        folder = Path(self._scratch.name)
        answers = folder / "worker.out"
        answers.touch()
        (folder / "QuantproofWorker.lean").write_text(server_source(answers), encoding="utf-8")
        with (folder / "worker.err").open("wb") as err:
            self.proc = spawn(self.chain.command([str(folder / "QuantproofWorker.lean")]), env=self.chain.env([]),
                              cwd=folder, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, text=True,
                              bufsize=1)
        self.lines = queue.Queue()
        self.starts += 1
        self._limits = Limits(limits.memory_bytes, math.inf)
        threading.Thread(target=follow_lines, args=(self.proc, answers, self.lines), daemon=True).start()
        self._watcher = threading.Thread(target=self._watch, args=(self.proc,), daemon=True)
        self._watcher.start()
        line = self._next(time.monotonic() + STARTUP_TIMEOUT_S)
        if line != "@@READY":
            why = self._why or "no answer"
            self.close()
            raise RuntimeError(f"the Lean worker did not start: {why}")

    def _watch(self, proc: subprocess.Popen) -> None:
        """The memory watchdog over the whole worker, with the running job's limit."""
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                rss = tree_rss(ps)
                self._peak = max(self._peak, rss)
                self.max_rss = max(self.max_rss, rss)
                if rss > self._limits.memory_bytes:
                    self._why = self._why or (f"memory limit: RSS {rss / 1024**3:.2f} GiB exceeded "
                                              f"{self._limits.memory_bytes / 1024**3:.2f} GiB")
                    stop(proc)
                    return
            time.sleep(0.1)

    def _next(self, deadline: float) -> str | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                return self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.alive and self.lines.empty():
                    if self._watcher is not None:
                        self._watcher.join(timeout=2.0)
                    return None

    def run(self, job: Job, limits: Limits) -> ProcessResult:
        """One job; a worker that overruns a limit is killed and the job says why. A job whose worker
        failed it (exited on its own, or reported a failure with no error message) after serving earlier
        jobs may have met their leftovers, so it runs once more in a fresh worker."""
        result, fault = self._run_once(job, limits)
        if fault and self._served > 1:
            self._retire()
            result, _ = self._run_once(job, limits)
        return result

    def _retire(self) -> None:
        self.retired += 1
        self.close()

    def _run_once(self, job: Job, limits: Limits) -> tuple[ProcessResult, bool]:
        """The job's result, and whether the worker rather than the file is to blame."""
        if not self.alive:
            self.start(limits)
        assert self.proc is not None and self.proc.stdin is not None and self._scratch is not None
        answers = Path(self._scratch.name) / f"job-{self.jobs}.json"
        self.jobs += 1
        self._served += 1
        self._limits, self._peak, self._job_start = limits, 0, time.monotonic()
        argv = ("<worker>", str(job.file))
        try:
            self.proc.stdin.write(job.request(answers))
            self.proc.stdin.flush()
        except OSError:
            self.close()
            return ProcessResult(argv, -9, "", "", 0.0, 0, "the Lean worker closed its input"), True
        line = self._next(self._job_start + limits.timeout_s)
        elapsed = time.monotonic() - self._job_start
        stdout = answers.read_text(encoding="utf-8", errors="replace") if answers.is_file() else ""
        answers.unlink(missing_ok=True)
        if line is None or not line.startswith("@@DONE"):
            watchdog = self._why or (f"time limit: still running after {limits.timeout_s:.0f} s" if self.alive
                                     else "")
            why = watchdog or self._exit_reason()
            self.close()
            return ProcessResult(argv, -9, stdout, "", elapsed, self._peak, why), not watchdog
        _, _, status = line.split(" ", 2)
        self._limits = Limits(limits.memory_bytes, math.inf)
        if should_retire(self._peak, wasm_heap_bytes(self.proc.pid), limits):
            self._retire()
        if status.startswith("exception"):
            return ProcessResult(argv, 1, stdout, status.removeprefix("exception "), elapsed, self._peak), False
        result = ProcessResult(argv, 0 if status == "ok" else 1, stdout, "", elapsed, self._peak)
        return result, result.returncode != 0 and not _has_error(result)

    def _exit_reason(self) -> str:
        """Why the worker is gone: its exit status and the last lines it wrote on stderr."""
        status = self.proc.poll() if self.proc is not None else None
        tail = ""
        if self._scratch is not None:
            err = Path(self._scratch.name) / "worker.err"
            lines = [ln for ln in err.read_text(errors="replace").splitlines()
                     if ln.strip() and not ln.startswith(_DEBUG_LINES)] if err.is_file() else []
            tail = " | ".join(lines[-3:])
        return f"the Lean worker exited (status {status})" + (f": {tail}" if tail else "")

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                if self.proc.stdin:
                    self.proc.stdin.close()
            stop(self.proc)
            if self._watcher is not None:
                self._watcher.join(timeout=2.0)
            self.proc = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) ")


def wasm_heap_bytes(pid: int) -> int | None:
    """The committed size of a portable Lean's WebAssembly memory (`heap_in_maps` of its /proc maps)."""
    try:
        return heap_in_maps(Path(f"/proc/{pid}/maps").read_text())
    except OSError:
        return None


def heap_in_maps(maps: str) -> int | None:
    """V8 reserves the whole wasm32 address space (with guard pages) at once and commits it from the
    bottom as the heap grows, so the heap is the writable mapping that ends where a reservation of at
    least 4 GiB begins. None where that layout is not found (another OS or engine)."""
    spans = [(int(m[1], 16), int(m[2], 16), m[3]) for m in map(_MAPPING.match, maps.splitlines()) if m]
    ends = {end: end - start for start, end, perms in spans if perms.startswith("rw")}
    heaps = [ends[start] for start, end, perms in spans if perms.startswith("---") and end - start >= 4 * 1024**3
             and start in ends]
    return max(heaps) if heaps else None


def should_retire(peak_rss: int, heap: int | None, limits: Limits) -> bool:
    """Whether a worker is replaced after a job: its memory never shrinks (WebAssembly), so past most of
    the job's limit, or with a heap near the wasm32 ceiling, the next job gets a fresh one."""
    return peak_rss > RETIRE_FRACTION * limits.memory_bytes or (heap or 0) > HEAP_RETIRE_BYTES


def _has_error(result: ProcessResult) -> bool:
    """Whether a job's `--json` output or its exception names an error (what a failed file always has)."""
    return bool(result.stderr.strip()) or any(d.severity == "error" for d in parse_output(result.stdout).diagnostics)


class WorkerPool:
    """Up to `size` workers for one toolchain; a job takes an idle one (starting it if needed)."""

    def __init__(self, chain: Toolchain, size: int) -> None:
        self.chain = chain
        self.idle: queue.Queue[LeanWorker] = queue.Queue()
        self.workers = [LeanWorker(chain) for _ in range(max(1, size))]
        for worker in self.workers:
            self.idle.put(worker)

    def run(self, job: Job, limits: Limits) -> ProcessResult:
        worker = self.idle.get()
        try:
            try:
                return worker.run(job, limits)
            except RuntimeError as exc:  # the worker could not start: the job is reported, not passed
                return ProcessResult(("<worker>", str(job.file)), -9, "", str(exc), 0.0, 0, str(exc))
        finally:
            self.idle.put(worker)

    @property
    def starts(self) -> int:
        return sum(w.starts for w in self.workers)

    @property
    def max_rss(self) -> int:
        """The largest RSS one of its workers reached."""
        return max(w.max_rss for w in self.workers)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()


@dataclass
class _Registry:
    size: int = 0  # workers per toolchain; 0: every run is its own process
    pools: dict[str, WorkerPool] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_REGISTRY = _Registry()


def pool_for(chain: Toolchain) -> WorkerPool | None:
    """The pool `run_file` should use for this toolchain: only a portable one, and only inside `warm_workers`."""
    if chain.kind != "portable":
        return None
    with _REGISTRY.lock:
        if _REGISTRY.size < 1:
            return None
        pool = _REGISTRY.pools.get(chain.identity)
        if pool is None:
            pool = _REGISTRY.pools[chain.identity] = WorkerPool(chain, _REGISTRY.size)
        return pool


@contextlib.contextmanager
def warm_workers(size: int) -> Iterator[None]:
    """Inside the block, the portable toolchain's runs go to up to `size` warm workers (own processes when 0).
    Blocks nest: an inner one has its own pools, closed at its end, and the outer ones come back."""
    with _REGISTRY.lock:
        saved = (_REGISTRY.size, _REGISTRY.pools)
        _REGISTRY.size, _REGISTRY.pools = max(0, size), {}
    try:
        yield
    finally:
        with _REGISTRY.lock:
            mine = list(_REGISTRY.pools.values())
            _REGISTRY.size, _REGISTRY.pools = saved
        for pool in mine:
            pool.close()


def worker_job(file: Path, search_path: Sequence[Path], options: Mapping[str, str] | None,
               output_base: Path | None, root: Path | None) -> Job:
    """The job `lean` would be given for the same run."""
    real = Path(os.path.realpath(file))
    return Job(real, module_name(real, root), tuple(Path(p).absolute() for p in search_path),
               tuple((options or {}).items()), output_base.absolute() if output_base is not None else None)
