"""REQ-TILE, executable: the LPU tile planner (the same definitions as Lean's `Quantproof.Tile`), its
off-chip traffic, and a roofline model of a layer on the 320×320 array.

Dataflow (as in Lean): M blocks → N blocks → K chunks, output-stationary. Weights, weight scales,
activations and activation scales are double-buffered; the float32 running sums of an output block stay
on chip across the K loop and drain through a second buffer; K chunks start on scale-group boundaries.
Constants come from the requirements file, as the Lean ones are checked to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from verifier.requirements import spec


def _c(name: str) -> int:
    return spec().constants[name].value  # not through `value`: the planner reads constants millions of times


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def groups_touched(k0: int, k: int) -> int:
    """Scale groups the reduction chunk [k0, k0 + k) meets."""
    g = _c("group_size")
    return 0 if k == 0 else (k0 + k - 1) // g + 1 - k0 // g


def weight_bytes(k: int, n: int) -> int:
    """3.5-bit weights packed per column along K: 16 weights in 7 bytes, partial group padded."""
    return n * (ceil_div(k, 16) * 7)


def scale_block_bytes(k0: int, k: int, n: int) -> int:
    """Two fp16 scales (4-bit and 3-bit lane) per column and group the chunk touches."""
    return n * groups_touched(k0, k) * 2 * _c("scale_bytes")


def fixed_bytes(k0: int, k: int, n: int) -> int:
    """The double-buffered weight stream and the unpacking table."""
    return 2 * (weight_bytes(k, n) + scale_block_bytes(k0, k, n)) + _c("table_bytes")


def row_bytes(k: int, n: int) -> int:
    """Per tile row: double-buffered int8 activations and row scale, int32 partials, float32 running
    sums plus their drain buffer."""
    return 2 * k + 2 * _c("act_scale_bytes") + n * _c("acc_bytes") + 2 * (n * _c("out_elem_bytes"))


def tile_bytes(m: int, k0: int, k: int, n: int) -> int:
    """On-chip bytes of an m-row tile over the chunk [k0, k0 + k) and n columns (Lean's `tileBytes`)."""
    return fixed_bytes(k0, k, n) + m * row_bytes(k, n)


def max_reserve() -> int:
    """The largest reserve for which a one-row tile of the array's full extents still fits."""
    return _c("tile_budget_bytes") - tile_bytes(1, 0, _c("pe_rows"), _c("pe_cols"))


def plan_reds(k: int) -> int:
    """All of K if the array takes it in one chunk, else the most whole scale groups it takes."""
    pe, g = _c("pe_rows"), _c("group_size")
    return k if k <= pe else pe // g * g


def rows_for(reserve: int, m: int, k: int, n: int) -> int:
    """Rows of a tile with n columns: as many as fit the budget less the reserve, in [1, max(M, 1)]."""
    reds = plan_reds(k)
    room = max(0, _c("tile_budget_bytes") - reserve - fixed_bytes(0, reds, n))
    return max(1, min(m, room // row_bytes(reds, n)))


def layer_weight_bytes(k: int, n: int) -> int:
    return weight_bytes(k, n) + scale_block_bytes(0, k, n)


def layer_act_bytes(m: int, k: int) -> int:
    return m * k + m * _c("act_scale_bytes")


def plan_traffic(m: int, k: int, n: int, tm: int, tn: int) -> int:
    """Off-chip bytes: weights once per M block, activations once per N block, outputs once."""
    return (ceil_div(m, tm) * layer_weight_bytes(k, n) + ceil_div(n, tn) * layer_act_bytes(m, k)
            + m * n * _c("out_elem_bytes"))


def traffic_lower_bound(m: int, k: int, n: int) -> int:
    """No schedule moves less: every weight and scale read once, every activation read once, every
    output written once."""
    return layer_weight_bytes(k, n) + layer_act_bytes(m, k) + m * n * _c("out_elem_bytes")


def pick_cols(reserve: int, m: int, k: int, n: int, lo: int, hi: int, memo: dict[int, int] | None = None) -> int:
    """Lean's `pickCols`: of two widths, the one that moves fewer bytes; ties to `hi`, the wider. `memo`
    keeps each width's traffic for one tournament, which asks for most widths twice."""
    known = {} if memo is None else memo

    def traffic(c: int) -> int:
        if c not in known:
            known[c] = plan_traffic(m, k, n, rows_for(reserve, m, k, c), c)
        return known[c]
    return hi if traffic(hi) <= traffic(lo) else lo


def best_cols(reserve: int, m: int, k: int, n: int, fuel: int, lo: int, hi: int,
              memo: dict[int, int] | None = None) -> int:
    """Lean's `bestCols`: the width in [lo, hi) moving the fewest bytes, ties to the widest, by halves."""
    if fuel == 0 or hi <= lo + 1:
        return lo
    mid = (lo + hi) // 2
    return pick_cols(reserve, m, k, n, best_cols(reserve, m, k, n, fuel - 1, lo, mid, memo),
                     best_cols(reserve, m, k, n, fuel - 1, mid, hi, memo), memo)


def plan_cols(reserve: int, m: int, k: int, n: int) -> int:
    """Lean's `planCols`: the width in [1, min(N, 320)] that moves the fewest bytes."""
    return best_cols(reserve, m, k, n, 16, 1, min(n, _c("pe_cols")) + 1, {})


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
        """Lean's `Tile.bytes`: scale groups counted from where the chunk starts."""
        return tile_bytes(self.rows, self.red, self.reds, self.cols)


def check_reserve(reserve: int | None) -> int:
    """The reserve to plan with (the requirements' default if None); a one-line error if out of range."""
    if reserve is None:
        return _c("tile_reserve_bytes")
    if not isinstance(reserve, int) or isinstance(reserve, bool) or not 0 <= reserve <= max_reserve():
        raise ValueError(f"reserve must be an integer number of bytes in [0, {max_reserve()}], got {reserve!r}")
    return reserve


def plan_shape(m: int, k: int, n: int, reserve: int | None = None) -> TileShape:
    """Lean's planRows / planReds / planCols."""
    for name, v in (("M", m), ("K", k), ("N", n)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    r = check_reserve(reserve)
    cols = plan_cols(r, m, k, n)
    return TileShape(rows_for(r, m, k, cols), plan_reds(k), cols)


def chunks(n: int, step: int) -> list[tuple[int, int]]:
    """Lean's `chunks`: [0, n) in (start, length) pieces of `step`."""
    return [(b * step, min(step, n - b * step)) for b in range(ceil_div(n, step))] if step else []


def plan(m: int, k: int, n: int, reserve: int | None = None) -> Iterator[Tile]:
    """Lean's `plan`: M blocks, then N blocks, then K chunks (the running sums stay on chip)."""
    shape = plan_shape(m, k, n, reserve)
    for r, rs in chunks(m, shape.rows):
        for c, cs in chunks(n, shape.cols):
            for kk, ks in chunks(k, shape.reds):
                yield Tile(r, kk, c, rs, ks, cs)


def tile_count(m: int, k: int, n: int, reserve: int | None = None) -> int:
    shape = plan_shape(m, k, n, reserve)
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
    lower_bound_bytes: int
    utilisation: float
    intensity: float
    machine_balance: float
    bound: str
    seconds: float

    @property
    def traffic_ratio(self) -> float:
        """Bytes moved over the lower bound (1.0 is optimal)."""
        return self.bytes_moved / self.lower_bound_bytes if self.lower_bound_bytes else 1.0


SCHEME = "output-stationary (M → N → K), running sums resident, inputs double-buffered"


def roofline(m: int, k: int, n: int, model: LpuModel | None = None, reserve: int | None = None) -> Roofline:
    """Array utilisation of the planned tiles, the plan's off-chip traffic, and what bounds the layer.

    A tile of rows × reds × cols streams `rows` activation rows through the array holding its weight
    block: rows + reds + cols - 2 cycles with fill and drain. Traffic is `plan_traffic`: the running
    sums never spill, so accumulators add no traffic."""
    model = model or LpuModel()
    pes = _c("pe_rows") * _c("pe_cols")
    shape = plan_shape(m, k, n, reserve)
    rows, reds, cols = chunks(m, shape.rows), chunks(k, shape.reds), chunks(n, shape.cols)
    cycles = sum(r + kk + c - 2 for _, r in rows for _, kk in reds for _, c in cols)
    moved = plan_traffic(m, k, n, shape.rows, shape.cols) if m and k and n else 0
    macs = m * k * n
    utilisation = macs / (cycles * pes) if cycles else 0.0
    intensity = macs / moved if moved else 0.0
    balance = model.peak_macs_per_s / model.bandwidth_bytes_per_s
    compute_s = cycles / model.clock_hz
    memory_s = moved / model.bandwidth_bytes_per_s
    bound = "array-time-bound" if compute_s >= memory_s else "bandwidth-bound"
    return Roofline(macs, moved, traffic_lower_bound(m, k, n), utilisation, intensity, balance, bound,
                    max(compute_s, memory_s))


# LLaMA-70B's matmuls per decoder layer (hidden 8192, 64 query / 8 key-value heads of 128, MLP 28672):
# (name, K, N) for y[M x N] = x[M x K] . W[K x N].
LLAMA_70B_LAYERS = (("attention q / o projection", 8192, 8192), ("attention k / v projection", 8192, 1024),
                    ("MLP gate / up projection", 8192, 28672), ("MLP down projection", 28672, 8192))
