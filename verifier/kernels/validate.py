"""Input checks shared by the kernels: each bad input is a ValueError that says what is wrong."""

from __future__ import annotations

import numpy as np


def array(name: str, value: object, *, dtype: type | tuple[type, ...] | None = None, ndim: int | None = None,
          finite: bool = False) -> np.ndarray:
    """`value` as an ndarray of the expected kind, or a ValueError naming `name` and the problem."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(value).__name__}")
    if dtype is not None:
        kinds = dtype if isinstance(dtype, tuple) else (dtype,)
        if not any(value.dtype == np.dtype(k) for k in kinds):
            wanted = " or ".join(np.dtype(k).name for k in kinds)
            raise ValueError(f"{name} must have dtype {wanted}, got {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {value.shape}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        bad = "NaN" if np.isnan(value).any() else "Inf"
        raise ValueError(f"{name} contains {bad}")
    return value


def positive_scales(name: str, scales: np.ndarray) -> np.ndarray:
    array(name, scales, dtype=(np.float32, np.float64), finite=True)
    if (scales <= 0).any():
        raise ValueError(f"{name} must be positive; found {float(scales.min())}")
    return scales
