"""Run a Lean child process under a memory watchdog and a wall-clock limit.

A portable Lean process can grow past all the machine's memory (`exact?` does), so every Lean
child runs here: its RSS is polled, it is killed with its whole process group when it exceeds the
limit or the deadline, and no child outlives the Python process that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from verifier import settings
from verifier.errors import UserError

DEFAULT_MEMORY_BYTES = 10 * 1024**3  # the portable Lean peaks near 8 GiB on heavy modules (grind); two fit in 24 GiB
DEFAULT_TIMEOUT_S = 900.0
_POLL_S = 0.1
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child process."""

    memory_bytes: int = DEFAULT_MEMORY_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, memory_gb: float | None = None, timeout_s: float | None = None) -> Limits:
        """Limits from arguments, else QUANTPROOF_LEAN_MEMORY_GB / QUANTPROOF_LEAN_TIMEOUT_S, else defaults."""
        if memory_gb is None:
            memory_gb = settings.read("QUANTPROOF_LEAN_MEMORY_GB")  # type: ignore[assignment]
        if timeout_s is None:
            timeout_s = settings.read("QUANTPROOF_LEAN_TIMEOUT_S")  # type: ignore[assignment]
        if memory_gb is not None and not memory_gb > 0:
            raise UserError(f"memory limit {memory_gb} GB: must be a positive number of GB")
        if timeout_s is not None and not timeout_s > 0:
            raise UserError(f"time limit {timeout_s} s: must be a positive number of seconds")
        return cls(
            memory_bytes=int(memory_gb * 1024**3) if memory_gb else DEFAULT_MEMORY_BYTES,
            timeout_s=timeout_s or DEFAULT_TIMEOUT_S,
        )


@dataclass(frozen=True)
class ProcessResult:
    """What one guarded child did. `killed` is None unless the watchdog (or the user) stopped it."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float
    peak_rss_bytes: int
    killed: str | None = None

    @property
    def ok(self) -> bool:
        return self.killed is None and self.returncode == 0


@dataclass
class _Live:
    procs: set[subprocess.Popen] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


_LIVE = _Live()
_STOPPING = threading.Event()  # the command is ending: no child may start any more


class Stopping(RuntimeError):
    """A child was to start after the command began to end (SIGTERM, Ctrl-C)."""


def stop_starting() -> None:
    """From now on `spawn` refuses, so a job that sees its Lean killed cannot start another one (a retry, a
    fresh worker) while the command unwinds; then kill every child still running."""
    _STOPPING.set()
    kill_all_children()


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.kill()


def kill_all_children() -> None:
    """Kill every guarded child still running (at exit and on SIGTERM)."""
    with _LIVE.lock:
        procs = list(_LIVE.procs)
    for proc in procs:
        _kill_group(proc)


atexit.register(kill_all_children)


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded here, in the parent: a dlopen in the forked child could wait forever on a loader lock another
# thread held at the fork, and the child would never reach exec.
_LIBC = _load_libc()


def die_with_parent() -> None:
    """In the child: get SIGKILL when the parent dies, even if the parent is SIGKILLed itself."""
    with contextlib.suppress(Exception):
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and its children (those gone meanwhile count 0)."""
    total = 0
    with contextlib.suppress(psutil.Error):
        total += proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
    return total


def _high_water(pid: int) -> int:
    """The kernel's own peak RSS (VmHWM) of one process, so short spikes between polls count."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB"


def run_guarded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    limits: Limits | None = None,
    stdin_text: str | None = None,
) -> ProcessResult:
    """Run argv to completion under `limits`; never raises for the child's own failure."""
    limits = limits or Limits()
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = spawn(argv, env=env, cwd=cwd, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                     stdout=out, stderr=err)
        killed, peak = None, 0
        try:
            if stdin_text is not None:
                assert proc.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.write(stdin_text.encode())
                    proc.stdin.close()
            killed, peak = watch(proc, limits, start)
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            with _LIVE.lock:
                _LIVE.procs.discard(proc)
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return ProcessResult(
            argv=tuple(argv),
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            elapsed_s=elapsed,
            peak_rss_bytes=peak,
            killed=killed,
        )


class _SpawnThread:
    """One thread, alive as long as this process, that starts every child. `die_with_parent` sets
    PR_SET_PDEATHSIG, which fires when the *thread* that started the child ends, not the process: a
    long-lived child started from a short-lived thread (a build's pool thread starting a warm worker)
    would be killed when that thread finished."""

    def __init__(self) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def call(self, start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._serve, name="quantproof-spawner", daemon=True)
                self.thread.start()
        answer: queue.Queue = queue.Queue()
        self.requests.put((start, answer))
        result = answer.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def _serve(self) -> None:
        while True:
            start, answer = self.requests.get()
            try:
                answer.put(start())
            except Exception as exc:  # handed to the caller, which raises it
                answer.put(exc)


_SPAWN_THREAD = _SpawnThread()


def spawn(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
          **popen: Any) -> subprocess.Popen:
    """Start a child in its own process group, killed with this process, and known to `kill_all_children`.
    Run `watch` on it and end it with `stop`."""
    if _STOPPING.is_set():
        raise Stopping("quantproof is stopping: no new Lean process")
    proc = _SPAWN_THREAD.call(lambda: subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env) if env is not None else None, start_new_session=True,
        preexec_fn=die_with_parent, **popen))
    with _LIVE.lock:
        _LIVE.procs.add(proc)
    if _STOPPING.is_set():  # the stop came while it started: it is not left behind
        _kill_group(proc)
        raise Stopping("quantproof is stopping: no new Lean process")
    return proc


def follow_lines(proc: subprocess.Popen, path: Path, lines: queue.Queue) -> None:
    """Put each whole line appended to `path` on `lines` (without its newline) until `proc` is gone, then None:
    long-lived Lean children answer through a file (Node's stdout reaches us only when they end)."""
    partial = ""
    with path.open(encoding="utf-8") as stream:
        while True:
            chunk = stream.readline()
            if chunk:
                partial += chunk
                if partial.endswith("\n"):
                    lines.put(partial.rstrip("\n"))
                    partial = ""
                continue
            if proc.poll() is not None:
                break
            time.sleep(0.005)
    lines.put(None)


def stop(proc: subprocess.Popen) -> None:
    """Kill a spawned child with its group, reap it, and forget it."""
    _kill_group(proc)
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)
    with _LIVE.lock:
        _LIVE.procs.discard(proc)


def watch(proc: subprocess.Popen, limits: Limits, start: float,
          on_peak: Callable[[int], None] | None = None) -> tuple[str | None, int]:
    """Poll until the child exits; kill it on a limit. Returns (why killed, peak RSS); `on_peak` hears the
    peak as it grows, for children that live long."""
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        rss = tree_rss(ps)
        peak = max(peak, rss, _high_water(proc.pid))
        if on_peak is not None:
            on_peak(peak)
        if rss > limits.memory_bytes:
            _kill_group(proc)
            proc.wait()
            return f"memory limit: RSS {_gib(rss)} exceeded {_gib(limits.memory_bytes)}", peak
        if time.monotonic() - start > limits.timeout_s:
            _kill_group(proc)
            proc.wait()
            return f"time limit: still running after {limits.timeout_s:.0f} s", peak
        time.sleep(_POLL_S)
    if proc.returncode < 0:
        return f"killed by signal {signal.Signals(-proc.returncode).name}", peak
    return None, peak
