"""Every option the project sets for Lean (`set_option` in its sources, `leanOptions` and `-D` in its
lakefile), with its scope and whether it weakens checking.

Classified from Lean's own sources: `debug.skipKernelTC` skips the kernel (`Lean/AddDecl.lean`:
"may compromise soundness"), `debug.byAsSorry` turns `by` blocks into `sorry`, and the rest of the
`debug.` family, like `bootstrap.`, is for Lean's developers and changes what the elaborator or the
kernel is asked to do. Those fail the verdict. Options known to change only resources, messages or
elaboration conveniences are listed; any other option is not known to be harmless and fails too
until it is reviewed and added here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from verifier.lean.project import LeanProject
from verifier.lean.source import blank_comments

WEAKENING_PREFIXES = {
    "debug.skipKernelTC": "declarations are not sent to the Lean kernel",
    "debug.byAsSorry": "proofs by tactics are replaced by sorry",
    "debug.": "Lean's debugging switches change what is checked",
    "bootstrap.": "Lean's bootstrapping switches change what is generated and checked",
}
HARMLESS = frozenset({
    "maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize", "maxSynthPendingDepth",
    "autoImplicit", "relaxedAutoImplicit", "warningAsError", "exponentiation.threshold", "profiler",
    "profiler.threshold", "diagnostics", "diagnostics.threshold", "grind.warning",
})
HARMLESS_PREFIXES = ("pp.", "trace.", "linter.", "profiler.", "diagnostics.")

_SET_OPTION = re.compile(r"\bset_option\s+(?P<name>[A-Za-z_][\w.]*)\s+(?P<value>\S+)(?P<in>\s+in\b)?")


@dataclass(frozen=True)
class SourceOption:
    """One option the project sets: where, to what, for how much of the project, and the verdict."""

    file: str
    line: int
    name: str
    value: str
    scope: str
    verdict: str  # harmless | weakens | unknown
    why: str

    @property
    def fails(self) -> bool:
        return self.verdict != "harmless"


def classify(name: str) -> tuple[str, str]:
    for prefix, why in WEAKENING_PREFIXES.items():
        if name == prefix or (prefix.endswith(".") and name.startswith(prefix)):
            return "weakens", why
    if name in HARMLESS or name.startswith(HARMLESS_PREFIXES):
        return "harmless", "resources, messages or elaboration conveniences only"
    return "unknown", "not known to be harmless: review it, then list it in verifier/lean/options.py"


def _scope(column: int, scoped_in: bool) -> str:
    """How much an option governs: a command at the start of a line, or a tactic or term inside one."""
    if column > 0:
        return "the tactic or term that follows" if scoped_in else "the term it is in"
    return "the next command" if scoped_in else "the rest of its section, namespace or file"


def _source_options(project: LeanProject) -> list[SourceOption]:
    found = []
    for module in project.modules.values():
        text = blank_comments(module.source.decode("utf-8"))
        for match in _SET_OPTION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1)
            verdict, why = classify(match["name"])
            found.append(SourceOption(project.rel(module.path), line, match["name"], match["value"],
                                      _scope(column, bool(match["in"])), verdict, why))
    return found


# Lakefile settings that load native code into Lean (natively, `lake build` would run it inside the
# elaborator): not options, but they change what Lean does, so they fail the verdict like one.
NATIVE_CODE_KEYS = ("plugins", "dynlibs", "precompileModules", "moreServerArgs")
_NATIVE_ARGS = ("--plugin", "--load-dynlib")


def _split_args(args: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """`moreLeanArgs` -> the `-D name=value` settings, and every other argument."""
    settings, others, i = [], [], 0
    while i < len(args):
        arg = args[i]
        if arg == "-D" and i + 1 < len(args) and "=" in args[i + 1]:
            name, value = args[i + 1].split("=", 1)
            settings.append((name, value))
            i += 2
            continue
        if arg.startswith("-D") and "=" in arg:
            name, value = arg[2:].split("=", 1)
            settings.append((name, value))
        else:
            others.append(arg)
        i += 1
    return settings, others


def _classify_arg(arg: str) -> tuple[str, str]:
    """The verdict on a `moreLeanArgs` argument other than `-D`."""
    if arg.startswith(_NATIVE_ARGS):
        return "weakens", "a Lean argument that loads native code into Lean"
    return "unknown", "a Lean argument other than -D: review it"


def _lakefile_options(project: LeanProject) -> list[SourceOption]:
    path = project.root / "lakefile.toml"
    text = path.read_text(encoding="utf-8")
    config = tomllib.loads(text)
    found: list[tuple[str, str, str, str]] = []  # name, value, verdict, why
    for table in [config, *config.get("lean_lib", [])]:
        settings = [(str(k), str(v)) for k, v in _flatten(table.get("leanOptions", {})).items()]
        more, others = _split_args([str(a) for a in table.get("moreLeanArgs", [])])
        found += [(name, value, *classify(name)) for name, value in settings + more]
        found += [(arg, "", *_classify_arg(arg)) for arg in others]
        found += [(key, str(table[key]), "weakens", "loads native code into Lean")
                  for key in NATIVE_CODE_KEYS if table.get(key)]
    out = []
    for name, value, verdict, why in found:
        key = name.lstrip("-").split("=")[0].split(".")[-1]
        line = next((i for i, ln in enumerate(text.split("\n"), 1) if key in ln), 1)
        out.append(SourceOption(project.rel(path), line, name, value, "every module of the package", verdict, why))
    return out


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def scan_options(project: LeanProject) -> tuple[SourceOption, ...]:
    """Every option set in the project's read modules and its lakefile, in file and line order."""
    return tuple(sorted([*_source_options(project), *_lakefile_options(project)], key=lambda o: (o.file, o.line)))
