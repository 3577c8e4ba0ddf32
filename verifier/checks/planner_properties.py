"""Property checks of the tile planner (REQ-TILE) against oracles written from the dataflow's description,
not from the planner's own formulas: a bill of the buffers on chip, scale groups counted by brute force,
the bytes a plan moves counted tile by tile, and the tiled matmul run tile by tile against `x @ w`.

Each planner function is under one of them, so a planner that forgets a buffer, charges one group for a
chunk that straddles two, or reports traffic its tiles do not move fails here as well as against Lean.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from verifier import planner
from verifier.checks.properties import Property, Recorder
from verifier.requirements import spec

_dims = st.one_of(st.integers(1, 400), st.integers(1, 40000), st.sampled_from([1, 255, 256, 257, 319, 320, 321,
                                                                                1024, 8192, 28672]))


def _c(name: str) -> int:
    return spec().value(name)


def _groups(k0: int, k: int) -> int:
    """Scale groups the indices [k0, k0 + k) fall in, counted one index at a time."""
    g = _c("group_size")
    return len({j // g for j in range(k0, k0 + k)})


def buffer_bill(rows: int, red: int, reds: int, cols: int) -> dict[str, int]:
    """Every buffer of one tile on chip, as the dataflow describes them."""
    per_col = -(-reds // 16) * 7
    scales = cols * _groups(red, reds) * 2 * _c("scale_bytes")
    return {
        "weights, current and next": 2 * cols * per_col,
        "weight scales, current and next": 2 * scales,
        "unpacking table": 128 * 2,
        "int8 activations, current and next": 2 * rows * reds,
        "activation row scales, current and next": 2 * rows * _c("act_scale_bytes"),
        "int32 partials of the chunk": rows * cols * 4,
        "float32 running sums": rows * cols * 4,
        "output drain buffer": rows * cols * 4,
    }


def _oracle_bytes(rows: int, red: int, reds: int, cols: int) -> int:
    return sum(buffer_bill(rows, red, reds, cols).values())


def _oracle_max_reserve() -> int:
    return _c("tile_budget_bytes") - _oracle_bytes(1, 0, _c("pe_rows"), _c("pe_cols"))


def _distinct_tiles(m: int, k: int, n: int, reserve: int) -> set[tuple[int, int, int, int]]:
    """(rows, red, reds, cols) of every kind of tile the plan holds, without listing the plan."""
    shape = planner.plan_shape(m, k, n, reserve)
    rows = {r for _, r in planner.chunks(m, shape.rows)[:1] + planner.chunks(m, shape.rows)[-1:]}
    cols = {c for _, c in planner.chunks(n, shape.cols)[:1] + planner.chunks(n, shape.cols)[-1:]}
    reds = set(planner.chunks(k, shape.reds)[:2] + planner.chunks(k, shape.reds)[-1:])
    return {(r, k0, kl, c) for r in rows for k0, kl in reds for c in cols}


def _planner_within_budget(rec: Recorder):
    budget, g = _c("tile_budget_bytes"), _c("group_size")

    @given(_dims, _dims, _dims, st.integers(0, _oracle_max_reserve()))
    @example(2048, 8192, 8192, 0)
    @example(1, 320, 320, _oracle_max_reserve())
    def test(m, k, n, reserve):
        rec.calls += 1
        rec.check(planner.max_reserve() == _oracle_max_reserve(),
                  f"max_reserve {planner.max_reserve()} != {_oracle_max_reserve()}")
        tiles = {(t.rows, t.red, t.reds, t.cols) for t in planner.plan(m, k, n, reserve)} \
            if m * k * n <= 400_000 else _distinct_tiles(m, k, n, reserve)
        for rows, red, reds, cols in tiles:
            used = _oracle_bytes(rows, red, reds, cols)
            rec.check(used <= budget - reserve, f"({m},{k},{n}) reserve {reserve}: tile {rows}x[{red}+{reds}]x{cols} "
                                                f"needs {used} bytes > {budget - reserve}")
            rec.check(planner.tile_bytes(rows, red, reds, cols) == used,
                      f"tile_bytes({rows},{red},{reds},{cols}) = {planner.tile_bytes(rows, red, reds, cols)}, "
                      f"the buffers add to {used}")
            rec.check(reds <= _c("pe_rows") and cols <= _c("pe_cols"),
                      f"({m},{k},{n}): {reds}x{cols} exceeds the array")
            rec.check(red % g == 0, f"({m},{k},{n}): reduction chunk starts at {red}, not on a group boundary")
            rec.margin((budget - reserve - used) / budget)
    return test


def _coverage(tiles: list[planner.Tile], points: np.ndarray) -> np.ndarray:
    """How many tiles hold each (i, j, l) point."""
    t = np.array([(x.row, x.rows, x.red, x.reds, x.col, x.cols) for x in tiles], np.int64)
    inside = np.ones((len(points), len(t)), bool)
    for axis, (start, length) in enumerate(((0, 1), (2, 3), (4, 5))):
        p = points[:, axis:axis + 1]
        inside &= (t[:, start] <= p) & (p < t[:, start] + t[:, length])
    return inside.sum(axis=1)


def _planner_exact_cover(rec: Recorder):
    # boxes inside the space with volumes summing to M*K*N, and the first and last point of every box held
    # by that box alone: an exact cover
    @given(st.integers(1, 500), st.integers(1, 1000), st.integers(1, 1000), st.integers(0, _oracle_max_reserve()))
    def test(m, k, n, reserve):
        rec.calls += 1
        tiles = list(planner.plan(m, k, n, reserve))
        rec.check(len(tiles) == planner.tile_count(m, k, n, reserve),
                  f"tile_count {planner.tile_count(m, k, n, reserve)} != {len(tiles)} tiles")
        for t in tiles:
            rec.check(t.rows > 0 and t.reds > 0 and t.cols > 0, f"({m},{k},{n}): empty tile {t}")
            rec.check(t.row + t.rows <= m and t.red + t.reds <= k and t.col + t.cols <= n,
                      f"({m},{k},{n}): tile {t} outside the space")
        volume = sum(t.rows * t.reds * t.cols for t in tiles)
        rec.check(volume == m * k * n, f"({m},{k},{n}): tiles cover {volume} points of {m * k * n}")
        corners = np.array([(t.row, t.red, t.col) for t in tiles]
                           + [(t.row + t.rows - 1, t.red + t.reds - 1, t.col + t.cols - 1) for t in tiles], np.int64)
        held = _coverage(tiles, corners)
        rec.check(bool((held == 1).all()), f"({m},{k},{n}): a tile's corner lies in {int(held.max())} tiles")
    return test


def _planner_scale_groups(rec: Recorder):
    g = _c("group_size")

    @given(st.integers(0, 4 * g), st.integers(0, 3 * g))
    @example(320, 80)
    @example(255, 2)
    def test(k0, k):
        rec.calls += 1
        rec.check(planner.groups_touched(k0, k) == _groups(k0, k),
                  f"groups_touched({k0}, {k}) = {planner.groups_touched(k0, k)}, the chunk touches {_groups(k0, k)}")
        rec.check(planner.scale_block_bytes(k0, k, 3) == 3 * _groups(k0, k) * 2 * _c("scale_bytes"),
                  f"scale_block_bytes({k0}, {k}, 3) charges {planner.scale_block_bytes(k0, k, 3)} bytes")
        reds = planner.plan_reds(k0 + k)
        rec.check(reds <= _c("pe_rows") and (reds == k0 + k or reds % g == 0),
                  f"plan_reds({k0 + k}) = {reds}: chunks would not start on group boundaries")
    return test


def _moved(tiles: list[planner.Tile], k: int) -> int:
    """Off-chip bytes of the tiles in order: each tile fetches its weights, scales and activations; a block
    fetches its row scales with its first chunk and writes its outputs after its last."""
    total = 0
    for t in tiles:
        total += t.cols * (-(-t.reds // 16) * 7) + t.cols * _groups(t.red, t.reds) * 2 * _c("scale_bytes")
        total += t.rows * t.reds + (t.rows * _c("act_scale_bytes") if t.red == 0 else 0)
        total += t.rows * t.cols * _c("out_elem_bytes") if t.red + t.reds == k else 0
    return total


def _planner_traffic(rec: Recorder):
    @given(_dims, _dims, _dims)
    @example(2048, 8192, 28672)
    @example(1, 28672, 8192)
    def test(m, k, n):
        rec.calls += 1
        shape = planner.plan_shape(m, k, n)
        claimed = planner.plan_traffic(m, k, n, shape.rows, shape.cols)
        if m * k * n <= 200_000_000:  # counting the plan tile by tile
            tiles = list(planner.plan(m, k, n))
            rec.check(claimed == _moved(tiles, k), f"({m},{k},{n}): plan_traffic {claimed} != {_moved(tiles, k)} moved")
        one_block = [planner.Tile(0, k0, 0, m, kl, n) for k0, kl in planner.chunks(k, shape.reds)]
        bound = planner.traffic_lower_bound(m, k, n)
        rec.check(bound == _moved(one_block, k), f"({m},{k},{n}): lower bound {bound} != {_moved(one_block, k)}")
        rec.check(bound <= claimed, f"({m},{k},{n}): traffic {claimed} below the lower bound {bound}")
        best = min(planner.plan_traffic(m, k, n, planner.rows_for(planner.check_reserve(None), m, k, c), c)
                   for c in range(1, min(n, _c("pe_cols")) + 1))
        rec.check(claimed == best, f"({m},{k},{n}): planned traffic {claimed}, a width moves {best}")
        rec.margin(bound / claimed)
    return test


def _planner_tiled_equals_untiled(rec: Recorder):
    @given(st.integers(1, 300), st.integers(1, 900), st.integers(1, 400),
           st.integers(_oracle_max_reserve() - 60_000, _oracle_max_reserve()), st.integers(0, 2**32 - 1))
    def test(m, k, n, reserve, rng_seed):
        rec.calls += 1
        rng = np.random.default_rng(rng_seed)
        x = rng.integers(-128, 128, (m, k), dtype=np.int64)
        w = rng.integers(-8, 8, (k, n), dtype=np.int64)
        acc = np.zeros((m, n), np.int64)
        tiles = list(planner.plan(m, k, n, reserve))
        for t in tiles:
            rs, ks, cs = slice(t.row, t.row + t.rows), slice(t.red, t.red + t.reds), slice(t.col, t.col + t.cols)
            acc[rs, cs] += x[rs, ks] @ w[ks, cs]
        rec.check(np.array_equal(acc, x @ w), f"({m},{k},{n}) reserve {reserve}: tiled result differs")
        rec.margin(len(tiles))
    return test


def _planner_roofline(rec: Recorder):
    pes = _c("pe_rows") * _c("pe_cols")

    @given(st.integers(1, 300), st.integers(1, 3000), st.integers(1, 3000), st.floats(1e8, 4e9), st.floats(1e10, 2e14))
    @example(2048, 8192, 8192, 900e6, 80e12)
    @example(1, 28672, 8192, 900e6, 80e12)
    def test(m, k, n, clock, bandwidth):
        rec.calls += 1
        model = planner.LpuModel(clock, bandwidth)
        r = planner.roofline(m, k, n, model)
        rec.check(planner.roofline(m, k, n) == planner.roofline(m, k, n, planner.LpuModel()),
                  "the default model is not LpuModel()")
        rec.check(model.peak_macs_per_s == pes * clock and r.machine_balance == pes * clock / bandwidth,
                  f"peak {model.peak_macs_per_s} MAC/s or balance {r.machine_balance} is not {pes} PEs at {clock} Hz")
        rec.check(r.traffic_ratio == r.bytes_moved / r.lower_bound_bytes, f"traffic ratio {r.traffic_ratio}")
        for zero in ((0, k, n), (m, 0, n), (m, k, 0)):
            z = planner.roofline(*zero, model)
            rec.check((z.macs, z.bytes_moved, z.utilisation, z.intensity, z.seconds) == (0, 0, 0.0, 0.0, 0.0),
                      f"{zero}: an empty matmul moves or computes something: {z}")
        shape = planner.plan_shape(m, k, n)
        # a tile streams its rows through the array holding its weight block: rows + reds + cols - 2 cycles
        cycles = sum(t.rows + t.reds + t.cols - 2 for t in planner.plan(m, k, n)) if m * k * n <= 3e8 else None
        if cycles is not None:
            rec.check(abs(r.utilisation - m * k * n / (cycles * pes)) <= 1e-12,
                      f"({m},{k},{n}): utilisation {r.utilisation}, the tiles give {m * k * n / (cycles * pes)}")
            compute_s, memory_s = cycles / model.clock_hz, r.bytes_moved / model.bandwidth_bytes_per_s
            rec.check(r.bound == ("array-time-bound" if compute_s >= memory_s else "bandwidth-bound")
                      and abs(r.seconds - max(compute_s, memory_s)) <= 1e-12 * max(1.0, r.seconds),
                      f"({m},{k},{n}): {r.bound} in {r.seconds} s, the tiles give {compute_s} s against {memory_s} s")
            # a machine on which both take exactly one second: a tie is array-time-bound (the array never idles)
            tie = planner.roofline(m, k, n, planner.LpuModel(float(cycles), float(r.bytes_moved)))
            rec.check((tie.bound, tie.seconds) == ("array-time-bound", 1.0),
                      f"({m},{k},{n}): a tie of compute and memory time is {tie.bound} in {tie.seconds} s")
        rec.check(r.bytes_moved == planner.plan_traffic(m, k, n, shape.rows, shape.cols)
                  and r.lower_bound_bytes == planner.traffic_lower_bound(m, k, n) and r.macs == m * k * n,
                  f"({m},{k},{n}): the roofline's bytes or MACs are not the plan's")
        rec.check(abs(r.intensity - r.macs / r.bytes_moved) <= 1e-9 * r.intensity, f"({m},{k},{n}): intensity")
        rec.margin(r.utilisation)
    return test


PLANNER_PROPERTIES: tuple[Property, ...] = (
    Property("planner_within_budget", "REQ-TILE", "every planned tile's buffers (double-buffered inputs, table, "
             "partials, running sums, drain buffer) fit 220 KiB less the reserve; extents fit the 320x320 array; "
             "chunks start on group boundaries", "M, K, N in [1, 40000] and edges around 256/320, reserve in "
             "[0, maxReserve]", "(budget - reserve - bytes) / budget", _planner_within_budget, 300),
    Property("planner_exact_cover", "REQ-TILE", "every (i, j, l) lies in exactly one planned tile",
             "M in [1,500], K, N in [1,1000], reserve in [0, maxReserve]", "none (exact)", _planner_exact_cover, 100),
    Property("planner_scale_groups", "REQ-TILE", "a chunk is charged for exactly the scale groups it touches",
             "chunk start in [0, 512], length in [0, 384]", "none (exact)", _planner_scale_groups, 300),
    Property("planner_traffic", "REQ-TILE", "the plan's traffic is what its tiles move, at least the lower bound, "
             "and the least over every width", "M, K, N in [1, 40000] and LLaMA-70B shapes",
             "lower bound / traffic", _planner_traffic, 60),
    Property("planner_tiled_equals_untiled", "REQ-TILE", "accumulating every tile's partial products in plan order "
             "gives x @ w exactly (int64)", "M in [1,300], K in [1,900], N in [1,400], large reserves for many "
             "tiles", "tiles in the plan", _planner_tiled_equals_untiled, 60),
    Property("planner_roofline", "REQ-TILE", "the roofline's utilisation, time, bound, bytes, MACs, machine "
             "balance and traffic ratio are those of the plan's tiles and the model; empty matmuls cost nothing; a "
             "tie of compute and memory time is array-time-bound",
             "M in [1,300], K, N in [1,3000] and LLaMA-70B shapes; clock 0.1-4 GHz, bandwidth 10 GB/s-200 TB/s",
             "utilisation",
             _planner_roofline, 40),
)
