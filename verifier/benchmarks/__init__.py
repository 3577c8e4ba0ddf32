"""Benchmarks that measure the speed and memory targets (run by hand or `make bench`, never as timed tests)."""

from __future__ import annotations

import json
from pathlib import Path


def emit(figures: dict, out: Path | None) -> None:
    """Print the figures as JSON, and write them to `out` when given."""
    text = json.dumps(figures, indent=2)
    print(text)
    if out:
        out.write_text(text)
