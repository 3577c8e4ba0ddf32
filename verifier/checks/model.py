"""Typed results of the checks, shared by the runner, the CLI table and the evidence report."""

from __future__ import annotations

from dataclasses import dataclass, field

from verifier.serial import to_jsonable

DEFAULT_SEED = 20261127  # Hypothesis and sampling seed of every check unless one is given


@dataclass(frozen=True)
class PropertyResult:
    """One property check: what was tried, how much, and how close it came to failing."""

    name: str
    req: str
    description: str
    strategy: str
    seed: int
    examples_run: int
    examples_filtered: int
    worst_margin: float | None
    margin_meaning: str
    passed: bool
    counterexample: str | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class DifferentialCase:
    """One input the Lean kernel evaluated, with NumPy's answer and whether Lean agreed."""

    key: str
    req: str
    lean_expr: str
    numpy_value: str
    agreed: bool
    lean_message: str = ""


@dataclass(frozen=True)
class DifferentialResult:
    """One family of differential cases (one Lean definition beside one NumPy function)."""

    JSON_PROPERTIES = ("disagreements",)

    name: str
    req: str
    lean_definition: str
    numpy_function: str
    semantics: str
    cases: tuple[DifferentialCase, ...]

    @property
    def disagreements(self) -> int:
        return sum(not c.agreed for c in self.cases)


@dataclass(frozen=True)
class MutantResult:
    """One injected fault and the properties that caught it (none: missed)."""

    name: str
    req: str
    fault: str
    properties: tuple[str, ...]
    caught: bool
    caught_by: tuple[str, ...]


@dataclass(frozen=True)
class ConstantCheck:
    """One constant of requirements.toml against its Lean definition, as the kernel evaluated it."""

    name: str
    lean: str
    expected: int
    lean_value: str
    agreed: bool
    message: str = ""


@dataclass(frozen=True)
class ClaimResult:
    """One headline figure of the design documents, checked."""

    claim: str
    source: str
    value: str
    verdict: str  # holds | false | holds-with-conditions | not-checkable
    evidence: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ClosedFormResult:
    name: str
    req: str
    expression: str
    value: str
    expected: str
    agreed: bool


@dataclass(frozen=True)
class RooflineRow:
    """One layer on the LPU model: planned tile, its slack, array utilisation, off-chip traffic against the
    lower bound, and what bounds the layer."""

    layer: str
    m: int
    k: int
    n: int
    tile: str
    tiles: int
    tile_bytes: int
    utilisation: float
    intensity: float
    bound: str
    seconds: float
    slack_bytes: int = 0
    bytes_moved: int = 0
    lower_bound_bytes: int = 0
    scheme: str = ""

    @property
    def traffic_ratio(self) -> float:
        return self.bytes_moved / self.lower_bound_bytes if self.lower_bound_bytes else 1.0


@dataclass(frozen=True)
class CheckReport:
    """Everything `quantproof check` found; `passed` only if every part passed and Lean ran whole."""

    JSON_PROPERTIES = ("passed", "differential_cases", "disagreements")

    closed_forms: tuple[ClosedFormResult, ...]
    properties: tuple[PropertyResult, ...]
    differential: tuple[DifferentialResult, ...]
    claims: tuple[ClaimResult, ...]
    lean_elapsed_s: float = 0.0
    lean_killed: str | None = None
    lean_header_errors: tuple[str, ...] = ()
    lean_reused: bool = False
    roofline: tuple[RooflineRow, ...] = ()
    constants: tuple[ConstantCheck, ...] = ()

    @property
    def differential_cases(self) -> int:
        return sum(len(d.cases) for d in self.differential)

    @property
    def disagreements(self) -> int:
        return sum(d.disagreements for d in self.differential)

    @property
    def passed(self) -> bool:
        return (all(p.passed for p in self.properties) and all(c.agreed for c in self.closed_forms)
                and self.disagreements == 0 and self.differential_cases > 0 and self.lean_killed is None
                and not self.lean_header_errors and bool(self.constants) and all(c.agreed for c in self.constants))

    def to_json(self) -> dict:
        return to_jsonable(self)
