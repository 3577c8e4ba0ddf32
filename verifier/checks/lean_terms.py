"""Python values written as Lean terms, and the differential family that pairs a Lean definition with its
NumPy twin: the vocabulary every differential case is written in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction


def lean_int(v: int) -> str:
    return f"({v})" if v < 0 else str(v)


def lean_rat(v: float | Fraction) -> str:
    f = Fraction(v)
    return f"({f.numerator} / {f.denominator} : Rat)" if f.denominator != 1 else f"({f.numerator} : Rat)"


def lean_list(values: Iterable, fmt: Callable = str, type_: str = "") -> str:
    body = ", ".join(fmt(v) for v in values)
    return f"([{body}] : List {type_})" if type_ else f"[{body}]"


@dataclass(frozen=True)
class Family:
    """One Lean definition beside one NumPy function, with the cases to compare."""

    name: str
    req: str
    lean_definition: str
    numpy_function: str
    semantics: str
    cases: list[tuple[str, str, str]]  # (lean proposition, numpy value as text, tactic)


