"""A theorem to prove, read from its source file: its statement and the text that precedes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import UserError
from verifier.lean.source import IN_PREFIX, NAME, SCOPE_RE, blank_comments, scan_declarations

_OPEN, _CLOSE = "([{⟨⦃", ")]}⟩⦄"
_HEAD = re.compile(rf"\b(?:theorem|lemma)\s+{NAME}")
_IN_COMMAND = re.compile(rf"\s*({IN_PREFIX})")
_VARIABLE = re.compile(r"^(variable|include|omit)\b", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    """`theorem name <statement> := <proof>` at `line` of `file`; `preamble` is all the text before it,
    with the theorem's own `open X in` / `set_option o v in` as plain commands at its end. `statement`
    starts with the section variables (`variable (n : Nat)`) it mentions, as Lean adds them."""

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
    preamble = _without_docstring(text[:decl_start]) + _scoped_commands(clean[decl_start: head.start()])
    statement = text[after_name:sig_end].strip()
    binders = section_variables(blank_comments(preamble), statement)
    return Target(file, decl.name, f"{binders} {statement}" if binders else statement, preamble,
                  decl.line, proof, decl_start, decl_end, sig_end)


def _scoped_commands(prefix: str) -> str:
    """`open Nat in` and the like before the theorem's keyword, as the commands they scope (`open Nat`),
    for the text the search elaborates the statement and tactics after."""
    commands = []
    while match := _IN_COMMAND.match(prefix):
        commands.append(re.sub(r"\s+in\s*$", "", match.group(1).strip()))
        prefix = prefix[match.end():]
    return "".join(f"\n{c}\n" for c in commands)


def _binder_groups(text: str) -> list[str]:
    """The bracketed binder groups at the start of `text` (`(n m : Nat) {α : Type} [Inhabited α]`)."""
    groups, depth, start = [], 0, None
    for i, ch in enumerate(text):
        if depth == 0 and ch.isspace():
            continue
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0 and start is not None:
                groups.append(text[start: i + 1])
        elif depth == 0:
            break
    return groups


def _split_group(group: str) -> tuple[str, list[str], str]:
    """`(n m : Nat)` -> ("(", ["n", "m"], "Nat"); an instance binder without a name has no names."""
    inner = group[1:-1]
    names, sep, type_ = inner.partition(" : ")
    if not sep:
        return group[0], [], inner.strip()
    return group[0], names.split(), type_.strip()


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.'₀-₉]){re.escape(name)}(?![\w'₀-₉!?])", text) is not None


def section_variables(preamble: str, statement: str) -> str:
    """The binders of the `variable` commands in scope at the end of `preamble` (comments blanked) that
    `statement` uses or an `include` names, and those their types use, as Lean includes them."""
    scopes: list[tuple[list[str], set[str]]] = [([], set())]  # each scope's binders and `include`d names
    events = sorted([(m.start(), m["cmd"]) for m in SCOPE_RE.finditer(preamble)]
                    + [(m.start(), m.group(1)) for m in _VARIABLE.finditer(preamble)])
    for offset, what in events:
        if what in ("namespace", "section"):
            scopes.append(([], set()))
        elif what == "end":
            if len(scopes) > 1:
                scopes.pop()
        else:
            line_end = re.search(r"\n(?=\S)", preamble[offset:])
            body = preamble[offset + len(what): offset + line_end.start() if line_end else len(preamble)]
            if what == "variable":
                scopes[-1][0].extend(_binder_groups(body))
            elif what == "include":
                scopes[-1][1].update(body.split())
            else:
                scopes[-1][1].difference_update(body.split())
    own = {n for g in _binder_groups(statement) for n in _split_group(g)[1]}
    groups = [_split_group(g) for binders, _ in scopes for g in binders]
    included = set().union(*(names for _, names in scopes))
    used = {n for _, names, _ in groups for n in names
            if n not in own and (n in included or _mentions(statement, n))}
    names = _all_names(groups)
    while True:  # the types of used variables use others (`(l : List α)` needs `α`)
        grown = used | {n for _, group, t in groups if used & set(group) for n in names if _mentions(t, n)}
        if grown == used:
            break
        used = grown
    out = []
    for bracket, group, type_ in groups:
        if bracket == "[":  # an instance binder: kept when every variable it mentions is
            mentioned = [n for n in names if n not in group and _mentions(type_, n)]
            if mentioned and all(n in used for n in mentioned):
                out.append(f"[{' '.join(group)} : {type_}]" if group else f"[{type_}]")
            continue
        mine = [n for n in group if n in used]
        if mine:
            out.append(f"{bracket}{' '.join(mine)} : {type_}{_CLOSE[_OPEN.index(bracket)]}")
    return " ".join(out)


def _all_names(groups: list[tuple[str, list[str], str]]) -> list[str]:
    return [n for _, names, _ in groups for n in names]


def _without_docstring(preamble: str) -> str:
    """The theorem's own doc comment would attach to whatever follows the preamble: drop it."""
    stripped = preamble.rstrip()
    if stripped.endswith("-/"):
        start = stripped.rfind("/--")
        if start >= 0 and "-/" not in stripped[start:-2]:
            return stripped[:start]
    return preamble
