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
    (root / "lakefile.toml").write_text('name = "bad"\n[[lean_lib]]\nname = "Bad"\nglobs = ["Bad.*"]\n')
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


# --- environment variables: every one the tool reads ----------------------------------------------------

BAD_ENV = {
    "QUANTPROOF_LEAN_MEMORY_GB": ("six", "not a number of GB"),
    "QUANTPROOF_LEAN_TIMEOUT_S": ("-5", "must be a positive, finite number of seconds"),
    "QUANTPROOF_TOOLCHAIN": ("wasm", "use one of: native, portable"),
    "QUANTPROOF_CACHE": ("relative/cache", "must be an absolute path"),
    "XDG_CACHE_HOME": (__file__, "exists and is not a folder"),
    "QUANTPROOF_GLUE_DEBUG": ("yes", "set it to 1, or leave it unset"),
    "QUANTPROOF_LEAN_STACK_MB": ("0", "must be a positive, finite number of MB"),
    "RAY_AUTH_MODE": ("tokens", "use one of: token, disabled"),
}


def test_every_setting_has_a_bad_value_here():
    from verifier.settings import SETTINGS

    assert set(BAD_ENV) == set(SETTINGS)


@pytest.mark.parametrize("name", sorted(BAD_ENV))
def test_bad_environment_variable_is_one_line(tmp_path, name):
    value, why = BAD_ENV[name]
    root = copy_fixture("buildproj", tmp_path)
    line = one_line_error(run_cli("build", "--project", str(root), env={name: value}))
    assert f"environment variable {name}={value!r}: {why}" in line


def test_sources_read_the_environment_only_through_settings():
    """`os.environ[...]`, `os.environ.get(...)` and `os.getenv(...)` appear in verifier.settings only."""
    import ast

    from tests.helpers import REPO

    offenders = []
    for path in [*(REPO / "verifier").rglob("*.py"), *(REPO / "prover").rglob("*.py")]:
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = ast.unparse(node) if isinstance(node, (ast.Subscript, ast.Call)) else ""
            if text.startswith(("os.environ[", "os.environ.get(", "os.getenv(")):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {text}")
    assert offenders == []


# --- commands that must refuse before doing any work ---------------------------------------------------

def test_evidence_to_an_unwritable_folder_is_refused_before_the_pipeline(tmp_path):
    proc = run_cli("evidence", "--out", "/proc/quantproof-evidence")
    line = one_line_error(proc)
    assert "cannot write evidence to /proc/quantproof-evidence" in line
    assert "build ..." not in proc.stderr  # nothing ran


def test_bench_with_an_unknown_method(tmp_path):
    proc = run_cli("bench", "--methods", "mcst", "--project", str(tmp_path))
    line = one_line_error(proc)
    assert "--methods 'mcst': unknown method mcst" in line and "best-first" in line


def test_bench_with_no_runs(tmp_path):
    line = one_line_error(run_cli("bench", "--runs", "0", "--project", str(tmp_path)))
    assert "--runs 0: expected a whole number of at least 1" in line


def test_prove_with_tree_out_at_a_file(tmp_path):
    from tests.helpers import FIXTURES

    afile = tmp_path / "afile"
    afile.write_text("keep me")
    goals = FIXTURES / "proverproj" / "Pv" / "Goals.lean"
    proc = run_cli("prove", f"{goals}:total_append", "--tree-out", str(afile))
    line = one_line_error(proc)
    assert f"--tree-out {afile} exists and is not a folder" in line
    assert "searching" not in proc.stderr and afile.read_text() == "keep me"


# --- reviews and source text -----------------------------------------------------------------------------

@pytest.mark.parametrize("reviewer", ['Ann "QA"', "Bob \\ backslash", "Chloé O'Brien", "multi\nline"])
def test_any_reviewer_name_round_trips_through_the_review_file(tmp_path, reviewer):
    from verifier.reviews import Review, load_reviews, save_reviews

    path = tmp_path / "reviewed.toml"
    save_reviews({"Quantproof.t": Review("Quantproof.t", "ab" * 32, reviewer, "2026-11-28")}, path)
    assert load_reviews(path)["Quantproof.t"].reviewer == reviewer


def test_a_character_literal_quote_does_not_swallow_the_file():
    from verifier.lean.source import scan_declarations

    text = ("module\n\ndef quote : Char := '\"'\ndef esc : Char := '\\''\ndef h' : Nat := 1\n"
            "def raw : String := r#\"a \" b\"#\ndef str : String := \"-- not a comment\"\n"
            "theorem after (n : Nat) : n = n := rfl\n/- block \" -/\ntheorem last : True := trivial\n")
    decls = {d.name: d.line for d in scan_declarations(text)}
    assert decls == {"quote": 3, "esc": 4, "h'": 5, "raw": 6, "str": 7, "after": 8, "last": 10}


# --- a damaged or foreign evidence.json ------------------------------------------------------------------

def _evidence_folder(tmp_path: Path, name: str, content: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "evidence.json").write_text(content)
    return folder


def test_bad_report_inputs(tmp_path):
    import json

    assert "cannot read" in one_line_error(run_cli("report", "--from", str(tmp_path / "none")))
    cases = {
        "bad": ("{not json", "not valid JSON"),
        "list": ("[1, 2]", "not an evidence document (a JSON list, expected an object)"),
        "old": (json.dumps({"schema": "quantproof-evidence", "schema_version": 0}), "expected quantproof-evidence v1"),
        "partial": (json.dumps({"schema": "quantproof-evidence", "schema_version": 1, "verdict": {}}),
                    "damaged evidence document: quantproof_version: Field required"),
    }
    for name, (content, message) in cases.items():
        folder = _evidence_folder(tmp_path, name, content)
        assert message in one_line_error(run_cli("report", "--from", str(folder))), name
        assert sorted(p.name for p in folder.iterdir()) == ["evidence.json"]  # nothing written beside it


def test_an_atomic_write_that_fails_leaves_nothing_behind(tmp_path):
    from verifier.atomic_write import write_text_atomic

    (tmp_path / "taken").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "taken", "text")
    write_text_atomic(tmp_path / "file", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "taken"]
    assert (tmp_path / "file").read_text() == "whole" and not any((tmp_path / "taken").iterdir())
