"""The constants of requirements.toml, confirmed by the Lean kernel on every `check` and `evidence` run.

Each `[constants]` entry names a Lean definition; `by decide` has the kernel evaluate `lean = value`,
and `#reduce` shows the value Lean has, for the report and for a mismatch's message.
"""

from __future__ import annotations

import re

from verifier.checks.model import ConstantCheck
from verifier.lean.batch import BatchResult, Snippet
from verifier.requirements import Spec

_NEG_SUCC = re.compile(r"^Int\.negSucc\s+(\d+)$")
_OF_NAT = re.compile(r"^Int\.ofNat\s+(\d+)$")


def snippets(spec: Spec) -> list[Snippet]:
    out = []
    for c in spec.constants.values():
        value = f"({c.value})" if c.value < 0 else str(c.value)
        out += [Snippet(f"constant:{c.name}", f"example : {c.lean} = {value} := by decide"),
                Snippet(f"constant-value:{c.name}", f"#reduce {c.lean}")]
    return out


def lean_value(text: str) -> str:
    """A reduced numeral as Lean prints it, read as an integer where it is one."""
    text = " ".join(text.split())
    negative = _NEG_SUCC.match(text)
    if negative:
        return str(-int(negative.group(1)) - 1)
    natural = _OF_NAT.match(text)
    if natural:
        return natural.group(1)
    return text.strip("()") if re.fullmatch(r"\(?-?\d+\)?", text) else text


def results(spec: Spec, batch: BatchResult) -> tuple[ConstantCheck, ...]:
    verdicts = batch.by_key()
    out = []
    for c in spec.constants.values():
        check = verdicts[f"constant:{c.name}"]
        shown = verdicts[f"constant-value:{c.name}"]
        value = next((d.text for d in shown.diagnostics if d.severity == "information"), shown.first_error() or "?")
        out.append(ConstantCheck(c.name, c.lean, c.value, lean_value(value), check.ok, check.first_error()))
    return tuple(out)
