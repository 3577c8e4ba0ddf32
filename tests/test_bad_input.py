"""Each user mistake gets one clear line naming what is wrong: no traceback, nothing half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import copy_fixture, one_line_error, run_cli


def _project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "lean"
    root.mkdir()
    (root / "lakefile.toml").write_text('name = "bad"\n[[lean_lib]]\nname = "Bad"\nglobs = ["Bad.+"]\n')
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return root


def test_no_lean_folder(tmp_path):
    line = one_line_error(run_cli("build", cwd=tmp_path))
    assert f"no Lean project: {tmp_path / 'lean'} does not exist" in line


def test_import_cycle_names_the_files(tmp_path):
    root = _project(tmp_path, {
        "Bad.lean": "module\nimport Bad.A\n",
        "Bad/A.lean": "module\nimport Bad.B\n",
        "Bad/B.lean": "module\nimport Bad.A\n",
    })
    line = one_line_error(run_cli("build", "--project", str(root)))
    assert "import cycle:" in line
    assert "lean/Bad/A.lean" in line and "lean/Bad/B.lean" in line


def test_missing_import_names_file_and_line(tmp_path):
    root = _project(tmp_path, {"Bad.lean": "module\n\nimport Init.Data.Nat\nimport Bad.Nowhere\n"})
    line = one_line_error(run_cli("build", "--project", str(root)))
    assert "lean/Bad.lean:4: imports Bad.Nowhere" in line


def test_non_utf8_source(tmp_path):
    root = _project(tmp_path, {"Bad.lean": b"module\n-- caf\xe9\n"})
    line = one_line_error(run_cli("build", "--project", str(root)))
    assert "lean/Bad.lean:2: not valid UTF-8 (byte 0xe9 at offset 13)" in line


def test_project_path_with_space(tmp_path):
    spaced = tmp_path / "with space"
    spaced.mkdir()
    root = _project(spaced, {"Bad.lean": "module\n"})
    line = one_line_error(run_cli("build", "--project", str(root)))
    assert "contains a space" in line and str(root) in line


def test_zero_jobs_and_unknown_target(tmp_path):
    root = copy_fixture("buildproj", tmp_path)
    assert "-j 0" in one_line_error(run_cli("build", "--project", str(root), "-j", "0"))
    assert "unknown build target 'Nope'" in one_line_error(run_cli("build", "--project", str(root), "Nope"))


def test_read_only_cache_folder(tmp_path):
    cache = tmp_path / "ro-cache"
    cache.mkdir()
    cache.chmod(0o555)
    env = {"QUANTPROOF_CACHE": str(cache)}
    argv = ["toolchain", "--install"]
    if os.geteuid() == 0:
        # root ignores file modes; run the command as an unprivileged user so the mode is enforced
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv is needed to test a read-only folder as root"
        proc = _run_as_nobody(setpriv, argv, env, tmp_path)
    else:
        proc = run_cli(*argv, env=env)
    line = one_line_error(proc)
    assert f"cache folder {cache / 'portable'} is not writable" in line and "QUANTPROOF_CACHE" in line
    assert list(cache.iterdir()) == []


def _run_as_nobody(setpriv: str, argv: list[str], env: dict, cwd: Path):
    import subprocess
    import sys

    from tests.helpers import REPO

    for folder in (cwd, *cwd.parents):
        if folder == Path("/"):
            break
        folder.chmod(folder.stat().st_mode | 0o005)
    full = {**os.environ, **env, "HOME": str(cwd), "PYTHONPATH": str(REPO)}
    return subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                           "-m", "verifier.cli", *argv], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [["build", "--memory-gb", "-1"]])
def test_nonsense_limits_rejected(tmp_path, args):
    root = copy_fixture("buildproj", tmp_path)
    line = one_line_error(run_cli(*args, "--project", str(root)))
    assert "memory" in line
