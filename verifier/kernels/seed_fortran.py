"""The design's Fortran `unpack_3p5bit`, compiled and run as real code.

`fortran/unpack_3p5bit.f90` completes the seed's snippet into a subroutine; numpy.f2py builds it with
Debian's gfortran (meson backend) once per source, NumPy and compiler, into the cache folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from verifier.errors import UserError
from verifier.lean.toolchain.cache import cache_root

SOURCE = Path(__file__).resolve().parent / "fortran" / "unpack_3p5bit.f90"
MODULE = "quantproof_seed_unpack"


def _compiler() -> tuple[str, str]:
    gfortran = shutil.which("gfortran")
    if gfortran is None:
        raise UserError("gfortran is not installed: the seed's Fortran cannot be compiled",
                        hint="`make evidence` and `make test` install it (apt-get install gfortran)")
    version = subprocess.run([gfortran, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return gfortran, version


@cache
def compiled() -> ModuleType:
    """The compiled module, built on first use (about two seconds) and kept in the cache folder."""
    _, version = _compiler()
    key = hashlib.sha256(SOURCE.read_bytes() + np.__version__.encode() + version.encode()).hexdigest()[:16]
    folder = cache_root() / "fortran" / key
    built = sorted(folder.glob(f"{MODULE}*.so"))
    if not built:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="quantproof-f2py-") as scratch:
            bin_dir = str(Path(sys.executable).parent)  # meson and ninja come with the virtual environment
            run = subprocess.run([sys.executable, "-m", "numpy.f2py", "-c", str(SOURCE), "-m", MODULE,
                                  "--backend", "meson"], cwd=scratch, capture_output=True, text=True,
                                 env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": scratch})
            made = sorted(Path(scratch).glob(f"{MODULE}*.so"))
            if run.returncode != 0 or not made:
                tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
                raise UserError(f"numpy.f2py could not compile {SOURCE.name}: {tail[0]}")
            shutil.copy(made[0], folder / made[0].name)
        built = sorted(folder.glob(f"{MODULE}*.so"))
    spec = importlib.util.spec_from_file_location(MODULE, built[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_unpack(stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The compiled routine on stored bytes (K, N) uint8: its two weights per byte, as int32 arrays."""
    signed = np.ascontiguousarray(stored, dtype=np.uint8).view(np.int8)
    first, second = compiled().unpack_3p5bit(np.asfortranarray(signed))
    return np.asarray(first), np.asarray(second)
