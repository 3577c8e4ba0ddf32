"""REQ-TILE, executable: the LPU tile planner (the same formulas as Lean's `Quantproof.Tile`) and a
roofline model of a layer on the 320×320 array.

Constants come from the requirements file, as the Lean ones are checked to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from verifier.requirements import spec


def _c(name: str) -> int:
    return spec().value(name)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def weight_bytes(k: int, n: int) -> int:
    """3.5-bit weights packed per column along K: 16 weights in 7 bytes, partial group padded."""
    return n * (ceil_div(k, 16) * 7)


def scale_block_bytes(k: int, n: int) -> int:
    """Two fp16 scales (4-bit and 3-bit lane) per column and started group along K."""
    return n * ceil_div(k, _c("group_size")) * 2 * _c("scale_bytes")


def fixed_bytes(k: int, n: int) -> int:
    return weight_bytes(k, n) + scale_block_bytes(k, n)


def row_bytes(k: int, n: int) -> int:
    """Per tile row: int8 activations (k bytes) and int32 accumulators (4n bytes)."""
    return k + 4 * n


def tile_bytes(m: int, k: int, n: int) -> int:
    return fixed_bytes(k, n) + m * row_bytes(k, n)


@dataclass(frozen=True)
class TileShape:
    rows: int
    reds: int
    cols: int


@dataclass(frozen=True)
class Tile:
    row: int
    red: int
    col: int
    rows: int
    reds: int
    cols: int

    @property
    def bytes(self) -> int:
        return tile_bytes(self.rows, self.reds, self.cols)


def plan_shape(m: int, k: int, n: int) -> TileShape:
    """Lean's planRows / planReds / planCols."""
    for name, v in (("M", m), ("K", k), ("N", n)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    reds, cols = min(k, _c("pe_rows")), min(n, _c("pe_cols"))
    per_row = row_bytes(reds, cols)
    room = max(0, _c("tile_budget_bytes") - fixed_bytes(reds, cols))
    rows = max(1, min(m, room // per_row if per_row else 0))
    return TileShape(rows, reds, cols)


def chunks(n: int, step: int) -> list[tuple[int, int]]:
    """Lean's `chunks`: [0, n) in (start, length) pieces of `step`."""
    return [(b * step, min(step, n - b * step)) for b in range(ceil_div(n, step))] if step else []


def plan(m: int, k: int, n: int) -> Iterator[Tile]:
    """Lean's `plan`: tiles row-major over (M, K, N) pieces."""
    shape = plan_shape(m, k, n)
    for r, rs in chunks(m, shape.rows):
        for kk, ks in chunks(k, shape.reds):
            for c, cs in chunks(n, shape.cols):
                yield Tile(r, kk, c, rs, ks, cs)


def tile_count(m: int, k: int, n: int) -> int:
    shape = plan_shape(m, k, n)
    return len(chunks(m, shape.rows)) * len(chunks(k, shape.reds)) * len(chunks(n, shape.cols))


@dataclass(frozen=True)
class LpuModel:
    """Assumptions for the roofline (not from the design documents, which give none): clock and the
    bandwidth that feeds weights and activations to the array."""

    clock_hz: float = 900e6
    bandwidth_bytes_per_s: float = 80e12

    @property
    def peak_macs_per_s(self) -> float:
        return _c("pe_rows") * _c("pe_cols") * self.clock_hz


@dataclass(frozen=True)
class Roofline:
    macs: int
    bytes_moved: int
    utilisation: float
    intensity: float
    machine_balance: float
    bound: str
    seconds: float


def roofline(m: int, k: int, n: int, model: LpuModel | None = None) -> Roofline:
    """Array utilisation of the planned tiles and whether the layer is compute- or bandwidth-bound.

    A tile of rows × reds × cols streams `rows` activation rows through a weight-stationary systolic
    array: rows + reds + cols - 2 cycles with fill and drain. Every tile loads its own inputs."""
    model = model or LpuModel()
    pes = _c("pe_rows") * _c("pe_cols")
    shape = plan_shape(m, k, n)
    rows, reds, cols = chunks(m, shape.rows), chunks(k, shape.reds), chunks(n, shape.cols)
    cycles = sum(r + kk + c - 2 for _, r in rows for _, kk in reds for _, c in cols)
    loaded = sum(tile_bytes(r, kk, c) for _, r in rows for _, kk in reds for _, c in cols)
    macs = m * k * n
    utilisation = macs / (cycles * pes) if cycles else 0.0
    intensity = macs / loaded if loaded else 0.0
    balance = model.peak_macs_per_s / model.bandwidth_bytes_per_s
    compute_s = cycles / model.clock_hz
    memory_s = loaded / model.bandwidth_bytes_per_s
    bound = "array-time-bound" if compute_s >= memory_s else "bandwidth-bound"
    return Roofline(macs, loaded, utilisation, intensity, balance, bound, max(compute_s, memory_s))


# LLaMA-70B's matmuls per decoder layer (hidden 8192, 64 query / 8 key-value heads of 128, MLP 28672):
# (name, K, N) for y[M x N] = x[M x K] . W[K x N].
LLAMA_70B_LAYERS = (("attention q / o projection", 8192, 8192), ("attention k / v projection", 8192, 1024),
                    ("MLP gate / up projection", 8192, 28672), ("MLP down projection", 28672, 8192))
