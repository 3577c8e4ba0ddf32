"""Typed records to JSON: dataclasses become objects, tuples lists; a class may name computed
properties to include (`JSON_PROPERTIES`), so machine readers see what the report shows."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of `value` (dataclasses, tuples, lists, dicts, scalars)."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
        for name in getattr(type(value), "JSON_PROPERTIES", ()):
            out[name] = to_jsonable(getattr(value, name))
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
