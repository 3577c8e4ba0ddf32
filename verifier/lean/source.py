"""Reading Lean source text without Lean: the import header and where each declaration starts.

Lean needs the import graph before it can run, and a build reports per declaration, so both are
read here from the text: comments blanked (newlines kept, so lines and columns stay true), then
the header's `import` commands and the declaration keywords with their enclosing namespaces.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

DECL_KEYWORDS = (
    "theorem", "lemma", "def", "abbrev", "instance", "structure", "class", "inductive",
    "axiom", "opaque", "example",
)
_MODIFIERS = r"(?:(?:private|protected|public|noncomputable|partial|unsafe|nonrec|meta)\s+)*"
_ATTRS = r"(?:@\[[^\]]*\]\s*)*"
# `open Nat in`, `set_option maxHeartbeats 400000 in`: one command with the declaration after it
IN_PREFIX = r"(?:(?:open|set_option|variable|omit|include)\b[^\n]*?\s+in\s+)"
NAME = r"(?:«[^»]*»|[^\s:({\[⦃«])+"  # `foo.bar`, `«odd name»`, `Sub.«x y»`
_DECL_RE = re.compile(
    rf"^(?P<indent>[ \t]*){IN_PREFIX}*{_ATTRS}{_MODIFIERS}{_ATTRS}(?P<kind>{'|'.join(DECL_KEYWORDS)})\b"
    rf"(?:\s+(?P<name>{NAME}))?",
    re.MULTILINE,
)
SCOPE_RE = re.compile(
    r"^\s*(?:(?:noncomputable|public|private)\s+)?(?P<cmd>namespace|section|end)\b[ \t]*(?P<name>[^\s]*)",
    re.MULTILINE)
# Other commands at the start of a line: a declaration's text ends where one begins (an `open` after a
# theorem is not part of its proof)
_COMMAND_RE = re.compile(
    r"^(?:open|variable|universe|set_option|attribute|export|omit|include|notation|infixl?|infixr|prefix|"
    r"postfix|macro_rules|macro|syntax|elab_rules|elab|declare_syntax_cat|deriving\s+instance|mutual|initialize|"
    r"builtin_initialize|local|scoped|add_decl_doc|seal|unseal|run_cmd|run_elab|run_meta|#[a-z_]+)\b",
    re.MULTILINE,
)
_IMPORT_RE = re.compile(r"^(?P<public>public\s+)?(?P<meta>meta\s+)?import\s+(?P<all>all\s+)?(?P<mods>[^\n]+)$")


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    public: bool = False
    meta: bool = False
    all: bool = False


@dataclass(frozen=True)
class Header:
    """The file's header: `module` or not, `prelude` or not, and its imports with their lines."""

    is_module: bool
    prelude: bool
    imports: tuple[Import, ...]


@dataclass(frozen=True)
class Declaration:
    """A declaration found in the text: kind, full name (namespaces applied), and its line span."""

    kind: str
    name: str
    line: int
    end_line: int


_CHAR_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)")
_RAW_STRING = re.compile(r'r(#*)"')


def _ident_char(ch: str) -> bool:
    """A character that continues an identifier (`h'`, `x₁`, `get!`), so a `'` after it is no quote."""
    return ch.isalnum() or ch in "_'!?"


def _literal_end(text: str, i: int) -> int:
    """If a string, raw string or character literal starts at `i`, the index just past it; else -1."""
    ch = text[i]
    if ch == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return min(j + 1, len(text))
    if ch == "r" and (i == 0 or not _ident_char(text[i - 1])):
        raw = _RAW_STRING.match(text, i)
        if raw:
            close = text.find('"' + raw.group(1), raw.end())
            return len(text) if close < 0 else close + 1 + len(raw.group(1))
    if ch == "'" and (i == 0 or not _ident_char(text[i - 1])):
        escape = _CHAR_ESCAPE.match(text, i + 1)
        j = escape.end() if escape else i + 2
        if j < len(text) and text[j] == "'" and "\n" not in text[i + 1:j]:
            return j + 1
    return -1


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "


def blank_comments(text: str) -> str:
    """Replace comments (`--` and nested `/- -/`) and the insides of string, raw string and character
    literals by spaces, keeping newlines, so lines and columns stay true and no quote or comment marker
    inside a literal (`'"'`, `"--"`) is mistaken for one outside."""
    out = list(text)
    i, n, depth = 0, len(text), 0
    while i < n:
        if depth == 0:
            end = _literal_end(text, i)
            if end > 0:
                _blank(out, i + 1, end - 1)
                i = end
                continue
            if text.startswith("--", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                _blank(out, i, j)
                i = j
                continue
        if text.startswith("/-", i):
            depth += 1
            _blank(out, i, i + 2)
            i += 2
            continue
        if depth and text.startswith("-/", i):
            depth -= 1
            _blank(out, i, i + 2)
            i += 2
            continue
        if depth:
            _blank(out, i, i + 1)
        i += 1
    return "".join(out)


def parse_header(text: str) -> Header:
    """The imports of a Lean file, read up to the first command that is not part of the header."""
    is_module = prelude = False
    imports: list[Import] = []
    for lineno, raw in enumerate(blank_comments(text).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "module" and not imports and not prelude:
            is_module = True
            continue
        if line == "prelude" and not imports:
            prelude = True
            continue
        match = _IMPORT_RE.match(line)
        if not match:
            break
        for module in match["mods"].split():
            imports.append(Import(module, lineno, bool(match["public"]), bool(match["meta"]), bool(match["all"])))
    return Header(is_module, prelude, tuple(imports))


def scan_declarations(text: str) -> list[Declaration]:
    """Declarations with full names and line spans (a span ends where the next command starts)."""
    clean = blank_comments(text)
    events: list[tuple[int, str, str]] = []
    for match in SCOPE_RE.finditer(clean):
        events.append((match.start(), match["cmd"], match["name"]))
    heads = []  # a declaration's head: its `… in` prefixes, attributes, modifiers, keyword and name
    for match in _DECL_RE.finditer(clean):
        if match["indent"]:
            continue  # an indented keyword is inside a term or a `where` block, not a new command
        events.append((match.start(), match["kind"], match["name"] or ""))
        heads.append((match.start(), match.end()))
    starts = [start for start, _ in heads]  # in order, and heads do not overlap
    for match in _COMMAND_RE.finditer(clean):
        at = bisect.bisect_left(starts, match.start()) - 1  # the last head that starts before it
        if at < 0 or match.start() >= heads[at][1]:  # not the `open X in` of a declaration
            events.append((match.start(), "command", ""))
    events.sort()
    line_of = _line_index(clean)
    scopes: list[tuple[str, str]] = []
    found: list[tuple[str, str, int]] = []
    starts: list[int] = []
    for offset, what, name in events:
        line = line_of(offset)
        starts.append(line)
        if what in ("namespace", "section"):
            scopes.append((what, name))
        elif what == "end":
            if scopes:
                scopes.pop()
        elif what != "command":
            found.append((what, _qualify(scopes, what, name, line), line))
    total_lines = clean.count("\n") + 1
    decls = []
    for kind, name, line in found:
        later = [s for s in starts if s > line]
        decls.append(Declaration(kind, name, line, (min(later) - 1) if later else total_lines))
    return decls


def _qualify(scopes: list[tuple[str, str]], kind: str, name: str, line: int) -> str:
    if kind == "example" or (kind == "instance" and not name):
        return f"{kind}@{line}"
    if name.startswith("_root_."):
        return name.removeprefix("_root_.")
    prefix = ".".join(n for k, n in scopes if k == "namespace" and n)
    return f"{prefix}.{name}" if prefix else name


def _line_index(text: str) -> Callable[[int], int]:
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    return lambda offset: bisect.bisect_left(newlines, offset) + 1


def declaration_at(decls: list[Declaration], line: int) -> Declaration | None:
    """The declaration whose span holds `line`, if any."""
    for decl in decls:
        if decl.line <= line <= decl.end_line:
            return decl
    return None
