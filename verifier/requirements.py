"""The requirements data file (verifier/spec/requirements.toml): typed, validated, read once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from verifier.errors import UserError

SPEC_FILE = Path(__file__).resolve().parent / "spec" / "requirements.toml"


@dataclass(frozen=True)
class Constant:
    name: str
    value: int
    lean: str
    unit: str


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    text: str
    lean: tuple[str, ...]
    python: tuple[str, ...]
    differential: tuple[str, ...]
    leaves_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    constants: dict[str, Constant]
    requirements: tuple[Requirement, ...]
    path: Path

    def value(self, name: str) -> int:
        return self.constants[name].value

    def requirement(self, req_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == req_id:
                return req
        raise KeyError(req_id)


def load_spec(path: Path = SPEC_FILE) -> Spec:
    """Read and validate the requirements file; a malformed file is a one-line error naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        constants = {name: Constant(name, int(c["value"]), str(c["lean"]), str(c.get("unit", "")))
                     for name, c in data["constants"].items()}
        reqs = tuple(Requirement(r["id"], r["title"], " ".join(r["text"].split()), tuple(r["lean"]),
                                 tuple(r["python"]), tuple(r.get("differential", ())),
                                 tuple(str(x) for x in r.get("leaves_out", ()))) for r in data["requirement"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: not a valid requirements file ({type(exc).__name__}: {exc})") from None
    ids = [r.id for r in reqs]
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: a requirement id appears twice: {ids}")
    return Spec(constants, reqs, path)


@cache
def spec() -> Spec:
    """The project's requirements, read once per process."""
    return load_spec()
