"""Helpers shared by the tests: fixture copies and the real command line in a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_fixture(name: str, dest: Path) -> Path:
    """A private copy of tests/fixtures/<name>, without build outputs."""
    target = dest / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".lake"))
    return target


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """Run the real `quantproof` command line in a child process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "verifier.cli", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed (exit 2) with one `quantproof: error:` line, last, and no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("quantproof: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    return errors[0]
