"""Every property check, in one place: the format's (properties.py), the planner's
(planner_properties.py), the kernel's (kernel_properties.py) and the input guards' (guard_properties.py)."""

from __future__ import annotations

from verifier.checks.guard_properties import GUARD_PROPERTIES
from verifier.checks.kernel_properties import KERNEL_PROPERTIES
from verifier.checks.model import DEFAULT_SEED, PropertyResult
from verifier.checks.planner_properties import PLANNER_PROPERTIES
from verifier.checks.properties import BASE_PROPERTIES, Property, run_property

PROPERTIES: tuple[Property, ...] = BASE_PROPERTIES + PLANNER_PROPERTIES + KERNEL_PROPERTIES + GUARD_PROPERTIES


def run_all(seed_value: int = DEFAULT_SEED, scale: float = 1.0, only: set[str] | None = None) -> list[PropertyResult]:
    """Run every property (or those named in `only`) with one seed and example scale."""
    return [run_property(p, seed_value, scale) for p in PROPERTIES if only is None or p.name in only]
