"""A theorem to prove, read from its source file: its statement and the text that precedes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import UserError
from verifier.lean.source import blank_comments, scan_declarations

_OPEN, _CLOSE = "([{⟨⦃", ")]}⟩⦄"
_HEAD = re.compile(r"\b(?:theorem|lemma)\s+[^\s:({\[⦃]+")


@dataclass(frozen=True)
class Target:
    """`theorem name <statement> := <proof>` at `line` of `file`; `preamble` is all the text before it."""

    file: Path
    name: str
    statement: str
    preamble: str
    line: int
    proof: str
    decl_start: int
    decl_end: int
    proof_start: int  # offset of the `:=` before the proof

    @property
    def uses_sorry(self) -> bool:
        return "sorry" in blank_comments(self.proof).split()


def lean_dir_of(file: Path) -> Path:
    """The Lake package a source file belongs to: the nearest folder above it with a lakefile.toml."""
    for folder in file.absolute().parents:
        if (folder / "lakefile.toml").is_file():
            return folder
    raise UserError(f"{file}: not inside a Lake package (no lakefile.toml above it)")


def _signature_end(clean: str, start: int) -> int:
    """Offset of the `:=` that ends a declaration's signature (not one inside brackets)."""
    depth = 0
    for i in range(start, len(clean) - 1):
        ch = clean[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == ":" and clean[i + 1] == "=" and depth == 0:
            return i
    return -1


def load_target(file: Path, name: str) -> Target:
    """The theorem `name` (short or namespaced) of `file`, or a one-line error saying what is wrong."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read ({exc})") from None
    decls = scan_declarations(text)
    matches = [d for d in decls if d.kind in ("theorem", "lemma") and (d.name == name or d.name.endswith("." + name))]
    if not matches:
        known = ", ".join(d.name for d in decls if d.kind in ("theorem", "lemma"))[:300]
        raise UserError(f"{file}: no theorem named {name}", hint=f"theorems there: {known or 'none'}")
    if len(matches) > 1:
        raise UserError(f"{file}: {name} is ambiguous ({', '.join(d.name for d in matches)})")
    decl = matches[0]
    lines = text.split("\n")
    decl_start = sum(len(line) + 1 for line in lines[: decl.line - 1])
    clean = blank_comments(text)
    head = _HEAD.search(clean, decl_start)
    if head is None:
        raise UserError(f"{file}:{decl.line}: cannot read the declaration of {name}")
    after_name = head.end()
    sig_end = _signature_end(clean, after_name)
    if sig_end < 0:
        raise UserError(f"{file}:{decl.line}: cannot find the `:=` that ends {name}'s statement")
    end_line = decl.end_line
    decl_end = sum(len(line) + 1 for line in lines[:end_line])
    # the declaration's proof ends before the next declaration; keep trailing blank lines outside it
    proof = text[sig_end + 2: decl_end].rstrip()
    decl_end = sig_end + 2 + len(proof)
    return Target(file, decl.name, text[after_name:sig_end].strip(), _without_docstring(text[:decl_start]),
                  decl.line, proof, decl_start, decl_end, sig_end)


def _without_docstring(preamble: str) -> str:
    """The theorem's own doc comment would attach to whatever follows the preamble: drop it."""
    stripped = preamble.rstrip()
    if stripped.endswith("-/"):
        start = stripped.rfind("/--")
        if start >= 0 and "-/" not in stripped[start:-2]:
            return stripped[:start]
    return preamble
