"""Figures for the executable kernels, measured in one run so ratios compare like with like.

Run: python -m verifier.benchmarks.kernels [--out FILE.json]
- unpack throughput (weights/s) against np.copy of the same packed bytes;
- packed 3.5-bit matmul against float32 np.matmul at 4096x4096, batch 1 and 64;
- differential cases checked per second by the Lean kernel (one process).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from verifier.benchmarks import emit
from verifier.kernels.matmul import packed_matmul
from verifier.kernels.pack import unpack_weights
from verifier.kernels.quant import quantize_weights

REPO = Path(__file__).resolve().parents[2]


def best_of(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def unpack_figures(n: int = 4096, k: int = 4096) -> dict:
    rng = np.random.default_rng(0)
    qw = quantize_weights(rng.standard_normal((n, k)).astype(np.float32))
    packed = qw.packed
    t_unpack = best_of(lambda: unpack_weights(packed, k))
    t_copy = best_of(lambda: np.copy(packed))
    weights = n * k
    return {"weights": weights, "packed_bytes": int(packed.nbytes), "unpack_s": t_unpack, "copy_s": t_copy,
            "unpack_weights_per_s": weights / t_unpack, "copy_weights_per_s": weights / t_copy,
            "unpack_over_copy_time": t_unpack / t_copy}


def matmul_figures(n: int = 4096, k: int = 4096) -> dict:
    rng = np.random.default_rng(1)
    w = rng.standard_normal((n, k)).astype(np.float32)
    qw = quantize_weights(w)
    out = {}
    for batch in (1, 64):
        x = rng.standard_normal((batch, k)).astype(np.float32)
        t_packed = best_of(lambda x=x: packed_matmul(x, qw), 5)
        t_float = best_of(lambda x=x: np.matmul(x, w.T), 5)
        out[f"batch_{batch}"] = {"packed_s": t_packed, "float32_s": t_float, "ratio": t_packed / t_float}
    return out


def differential_figures() -> dict:
    from verifier.checks.differential import run_differential
    from verifier.lean.toolchain import require

    results, batch = run_differential(require(REPO / "lean"), REPO / "lean", seed=5, n=48)
    cases = sum(len(r.cases) for r in results)
    return {"cases": cases, "disagreements": sum(r.disagreements for r in results), "lean_s": batch.elapsed_s,
            "cases_per_s": cases / batch.elapsed_s, "peak_rss_gib": batch.peak_rss_bytes / 2**30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-lean", action="store_true", help="skip the differential figure")
    args = parser.parse_args()
    figures = {"unpack": unpack_figures(), "matmul_4096": matmul_figures()}
    if not args.no_lean:
        figures["differential"] = differential_figures()
    emit(figures, args.out)


if __name__ == "__main__":
    main()
