"""The memory watchdog and time limit: a runaway child is killed and reported, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.helpers import REPO, copy_fixture
from verifier.lean.process import Limits, run_guarded


def test_memory_limit_kills_and_reports():
    hog = "x = bytearray(900 * 2**20); x[::4096] = b'1' * len(x[::4096]); import time; time.sleep(60)"
    result = run_guarded([sys.executable, "-c", hog], limits=Limits(memory_bytes=300 * 2**20, timeout_s=120))
    assert result.killed and result.killed.startswith("memory limit")
    assert not result.ok and result.elapsed_s < 60
    assert result.peak_rss_bytes > 300 * 2**20


def test_time_limit_kills_and_reports():
    result = run_guarded(["sleep", "60"], limits=Limits(timeout_s=1.0))
    assert result.killed == "time limit: still running after 1 s"
    assert not result.ok and result.elapsed_s < 10


def test_normal_exit_is_not_killed():
    result = run_guarded([sys.executable, "-c", "print('hello'); raise SystemExit(3)"])
    assert result.killed is None and result.returncode == 3 and result.stdout == "hello\n"


def test_external_kill_is_reported_as_killed():
    result = run_guarded([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert result.killed == "killed by signal SIGKILL" and not result.ok


def _lean_children(parent: psutil.Process, wait_s: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        kids = [p for p in parent.children(recursive=True) if any("lean.js" in a for a in p.cmdline())]
        if kids:
            return kids
        time.sleep(0.2)
    raise AssertionError("no Lean child process appeared")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_lean_process_outlives_the_command(tmp_path, toolchain, sig):
    root = copy_fixture("buildproj", tmp_path)
    cli = subprocess.Popen([sys.executable, "-m", "verifier.cli", "build", "--project", str(root), "-j", "2"],
                           cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lean = _lean_children(psutil.Process(cli.pid))
        os.kill(cli.pid, sig)
        cli.wait(timeout=30)
        _, alive = psutil.wait_procs(lean, timeout=15)
        assert not alive, f"Lean processes survived {sig.name}: {[p.pid for p in alive]}"
        time.sleep(2)  # nothing queued may start after the command is gone
        late = [p for p in psutil.process_iter(["cmdline"]) if str(root) in " ".join(p.info["cmdline"] or [])]
        assert not late, f"Lean started after {sig.name}: {[p.pid for p in late]}"
    finally:
        if cli.poll() is None:
            cli.kill()


def test_sigterm_ends_the_command_even_with_a_stuck_thread():
    """A job thread that cannot unwind (blocked for good) must not keep a SIGTERMed command alive: after the
    grace period its children are killed and it exits with 128 + 15."""
    code = ("import os, signal, threading, time, sys\n"
            "import verifier.cli as cli\n"
            "from verifier.lean.process import spawn\n"
            "cli.SIGTERM_GRACE_S = 1.0\n"
            "signal.signal(signal.SIGTERM, cli._on_sigterm)\n"
            "child = spawn(['sleep', '300'])\n"
            "print(child.pid, flush=True)\n"
            "threading.Thread(target=threading.Event().wait).start()  # never ends, not a daemon\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "time.sleep(60)\n")
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 143 and time.monotonic() - start < 30, run.stderr
    assert not psutil.pid_exists(int(run.stdout.split()[0])) or \
        psutil.Process(int(run.stdout.split()[0])).status() == psutil.STATUS_ZOMBIE


def test_no_child_starts_once_the_command_is_stopping():
    """After SIGTERM or Ctrl-C a job that sees its Lean killed must not start another (a retry, a fresh warm
    worker): the command would wait for it before it could exit."""
    code = ("from verifier.lean.process import Stopping, spawn, stop_starting\n"
            "p = spawn(['sleep', '0']); p.wait()\n"
            "stop_starting()\n"
            "try:\n    spawn(['sleep', '0'])\nexcept Stopping as exc:\n    print('refused:', exc)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "refused: quantproof is stopping: no new Lean process"
