module

public import Quantproof.Constants

/-!
# REQ-TILE: a double-buffered dataflow whose tiles fit the chip and compute the untiled matmul

The matmul `Y[M×N] = X[M×K] · W[K×N]` is cut into tiles of at most `tm × tk × tn`.

**Dataflow.** Loop order M blocks → N blocks → K chunks (output-stationary). While a tile computes,
the next tile's weights, weight scales, activations and activation scales are fetched into a second
buffer (double buffering). The float32 running sums of one `tm × tn` output block stay on chip across
the whole K loop (no spill, so no accumulator traffic) and drain through a second output buffer while
the next block starts. The int32 partials of the chunk in flight sit in the array's accumulators.

**Reduction chunks are group-aligned.** `tk` is all of `K` when the array takes it in one chunk, else
the most whole scale groups the array takes, so every chunk starts on a group boundary and touches
exactly `⌈k / groupSize⌉` groups (`groupsTouched_aligned`, `mem_groupsTouched`).

**The planner** leaves a configurable `reserve` of the budget free, picks `tn` (over every width the
array takes) to minimise the layer's off-chip traffic, and gives each tile as many rows as fit.

Proved for every `(M, K, N)` and every reserve up to `maxReserve`: each tile fits the budget less the
reserve (`plan_tileBytes_le`), fits the 320×320 array (`plan_fits_array`), starts its reduction on a
group boundary (`plan_red_aligned`), lies in the iteration space (`plan_within`), each `(i, j, l)`
lies in exactly one tile (`plan_exact_cover`), and accumulating every tile's partial products in
the plan's order gives the untiled `Σⱼ x·w` over ℤ (`tiled_eq_untiled`).

Requirement: REQ-TILE.
-/

namespace Quantproof

/-! ## The memory model -/

/-- Bytes of the weight-unpacking table: one entry per 7-bit code (128), each holding the pair's two
int8 levels. -/
@[expose] public def tableBytes : Nat := 128 * 2

/-- Bytes of one activation row's scale: the kernel keeps it in float64. -/
@[expose] public def actScaleBytes : Nat := 8

/-- Bytes of one int32 accumulator. -/
@[expose] public def accBytes : Nat := 4

/-- Bytes of one output element: float32. -/
@[expose] public def outElemBytes : Nat := 4

/-- Bytes the planner leaves free by default (an engineering margin, configurable per run). -/
@[expose] public def tileReserveBytes : Nat := 4096

/-- Scale groups of `groupSize` weights that the reduction chunk `[k0, k0 + k)` touches. -/
@[expose] public def groupsTouched (k0 k : Nat) : Nat :=
  if k = 0 then 0 else (k0 + k - 1) / groupSize + 1 - k0 / groupSize

/-- Bytes of a `k × n` weight block at 3.5 bits (16 weights in 7 bytes, per column). -/
@[expose] public def weightBytes (k n : Nat) : Nat := n * ((k + 15) / 16 * 7)

/-- Bytes of the scales of the weight block `[k0, k0 + k) × n`: two fp16 scales (4-bit and 3-bit
lane) per column and group touched. -/
@[expose] public def scaleBlockBytes (k0 k n : Nat) : Nat := n * groupsTouched k0 k * 2 * scaleBytes

/-- The weight stream, double-buffered: the block in use and the next one in flight. -/
@[expose] public def weightStreamBytes (k0 k n : Nat) : Nat := 2 * (weightBytes k n + scaleBlockBytes k0 k n)

/-- Bytes that do not grow with the tile's rows: the weight stream and the unpacking table. -/
@[expose] public def fixedBytes (k0 k n : Nat) : Nat := weightStreamBytes k0 k n + tableBytes

/-- Per row: int8 activations of the chunk, double-buffered. -/
@[expose] public def actRowBytes (k : Nat) : Nat := 2 * k

/-- Per row: the activation row's scale, double-buffered. -/
@[expose] public def actScaleRowBytes : Nat := 2 * actScaleBytes

/-- Per row: int32 partials of the chunk in flight. -/
@[expose] public def accRowBytes (n : Nat) : Nat := n * accBytes

/-- Per row: float32 running sums resident across the K loop, and the buffer draining the previous
block. -/
@[expose] public def outRowBytes (n : Nat) : Nat := 2 * (n * outElemBytes)

/-- Bytes per tile row. -/
@[expose] public def rowBytes (k n : Nat) : Nat := actRowBytes k + actScaleRowBytes + accRowBytes n + outRowBytes n

/-- On-chip bytes of an `m`-row tile over the reduction chunk `[k0, k0 + k)` and `n` columns. -/
@[expose] public def tileBytes (m k0 k n : Nat) : Nat := fixedBytes k0 k n + m * rowBytes k n

/-- The largest reserve for which a one-row tile of the array's full extents still fits. -/
@[expose] public def maxReserve : Nat := tileBudgetBytes - tileBytes 1 0 peRows peCols

/-! ## The planner -/

/-- Reduction extent: all of `K` if the array takes it in one chunk, else the most whole scale
groups the array takes. -/
@[expose] public def planReds (K : Nat) : Nat := if K ≤ peRows then K else peRows / groupSize * groupSize

/-- Rows of a tile with `n` columns: as many as fit the budget less the reserve, at least one, at
most `M`. -/
@[expose] public def rowsFor (reserve M K n : Nat) : Nat :=
  max 1 (min M ((tileBudgetBytes - reserve - fixedBytes 0 (planReds K) n) / rowBytes (planReds K) n))

/-- Bytes of the layer's weights and weight scales, once. -/
@[expose] public def layerWeightBytes (K N : Nat) : Nat := weightBytes K N + scaleBlockBytes 0 K N

/-- Bytes of the layer's activations and activation scales, once. -/
@[expose] public def layerActBytes (M K : Nat) : Nat := M * K + M * actScaleBytes

/-- Off-chip bytes of the layer with `tm × tn` output blocks: the weights are streamed once per M
block, the activations once per N block, and each output is written once (the running sums never
spill). -/
@[expose] public def planTraffic (M K N tm tn : Nat) : Nat :=
  (M + tm - 1) / tm * layerWeightBytes K N + (N + tn - 1) / tn * layerActBytes M K + M * N * outElemBytes

/-- Of the widths `lo` and `hi`, the one that moves fewer bytes (ties to `hi`, the wider). -/
@[expose] public def pickCols (reserve M K N lo hi : Nat) : Nat :=
  if planTraffic M K N (rowsFor reserve M K hi) hi ≤ planTraffic M K N (rowsFor reserve M K lo) lo then hi else lo

/-- The width in `[lo, hi)` that moves the fewest bytes, ties to the widest: a tournament of depth at most
`fuel`, split in halves so that the kernel's evaluation stays shallow. -/
@[expose] public def bestCols (reserve M K N : Nat) : Nat → Nat → Nat → Nat
  | 0, lo, _ => lo
  | fuel + 1, lo, hi =>
    if hi ≤ lo + 1 then lo
    else pickCols reserve M K N (bestCols reserve M K N fuel lo ((lo + hi) / 2))
      (bestCols reserve M K N fuel ((lo + hi) / 2) hi)

/-- Output-column extent: the width in `[1, min N peCols]` that moves the fewest bytes (depth 16 covers
any width the array takes). -/
@[expose] public def planCols (reserve M K N : Nat) : Nat := bestCols reserve M K N 16 1 (min N peCols + 1)

/-- Rows of a tile. -/
@[expose] public def planRows (reserve M K N : Nat) : Nat := rowsFor reserve M K (planCols reserve M K N)

/-- One tile: where it starts in M, K, N and its extents. -/
public structure Tile where
  row : Nat
  red : Nat
  col : Nat
  rows : Nat
  reds : Nat
  cols : Nat
deriving DecidableEq, Repr

/-- A tile as a tuple `(row, red, col, rows, reds, cols)`, for kernel evaluation of whole plans. -/
@[expose] public def Tile.toTuple (t : Tile) : Nat × Nat × Nat × Nat × Nat × Nat :=
  (t.row, t.red, t.col, t.rows, t.reds, t.cols)

/-- On-chip bytes of a tile, its scale groups counted from where its chunk starts. -/
@[expose] public def Tile.bytes (t : Tile) : Nat := tileBytes t.rows t.red t.reds t.cols

/-- Cut `[0, n)` into `(start, length)` pieces of `step` (the last one shorter). -/
@[expose] public noncomputable def chunks (n step : Nat) : List (Nat × Nat) :=
  (List.range ((n + step - 1) / step)).map fun b => (b * step, min step (n - b * step))

/-- The planner's tiles, in the dataflow's order: M blocks, then N blocks, then K chunks. -/
@[expose] public noncomputable def plan (reserve M K N : Nat) : List Tile :=
  (chunks M (planRows reserve M K N)).flatMap fun r =>
    (chunks N (planCols reserve M K N)).flatMap fun c =>
      (chunks K (planReds K)).map fun k => ⟨r.1, k.1, c.1, r.2, k.2, c.2⟩

/-- Whether point `(i, j, l)` (row, reduction index, column) lies in tile `t`. -/
@[expose] public def Tile.contains (t : Tile) (i j l : Nat) : Bool :=
  decide (t.row ≤ i ∧ i < t.row + t.rows ∧ t.red ≤ j ∧ j < t.red + t.reds ∧ t.col ≤ l ∧ l < t.col + t.cols)

/-! ## Scale groups -/

/-- `groupsTouched k0 k` counts exactly the groups `[k0, k0 + k)` meets: they are the
`groupsTouched k0 k` consecutive groups from the one holding `k0`. -/
public theorem mem_groupsTouched {k0 k G : Nat} :
    (k0 / groupSize ≤ G ∧ G < k0 / groupSize + groupsTouched k0 k) ↔
      ∃ j, k0 ≤ j ∧ j < k0 + k ∧ j / groupSize = G := by
  unfold groupsTouched groupSize
  constructor
  · intro h
    refine ⟨max k0 (G * 128), ?_, ?_, ?_⟩ <;> split at h <;> omega
  · rintro ⟨j, h1, h2, rfl⟩
    split <;> omega

/-- A chunk that starts on a group boundary touches `⌈k / groupSize⌉` groups. -/
public theorem groupsTouched_aligned {k0 k : Nat} (h : k0 % groupSize = 0) :
    groupsTouched k0 k = (k + groupSize - 1) / groupSize := by
  unfold groupsTouched
  unfold groupSize at *
  split <;> omega

/-! ## Budget -/

theorem fixedBytes_mono {k n k' n' : Nat} (hk : k ≤ k') (hn : n ≤ n') : fixedBytes 0 k n ≤ fixedBytes 0 k' n' := by
  unfold fixedBytes weightStreamBytes weightBytes scaleBlockBytes
  rw [groupsTouched_aligned (Nat.zero_mod _), groupsTouched_aligned (Nat.zero_mod _)]
  have h1 : (k + 15) / 16 ≤ (k' + 15) / 16 := Nat.div_le_div_right (by omega)
  have h2 : (k + groupSize - 1) / groupSize ≤ (k' + groupSize - 1) / groupSize := Nat.div_le_div_right (by omega)
  have := Nat.mul_le_mul hn (Nat.mul_le_mul_right 7 h1)
  have := Nat.mul_le_mul_right scaleBytes (Nat.mul_le_mul_right 2 (Nat.mul_le_mul hn h2))
  omega

theorem rowBytes_mono {k n k' n' : Nat} (hk : k ≤ k') (hn : n ≤ n') : rowBytes k n ≤ rowBytes k' n' := by
  unfold rowBytes actRowBytes accRowBytes outRowBytes
  have := Nat.mul_le_mul_right accBytes hn
  have := Nat.mul_le_mul_right outElemBytes hn
  omega

public theorem tileBytes_mono {m k n m' k' n' : Nat} (hm : m ≤ m') (hk : k ≤ k') (hn : n ≤ n') :
    tileBytes m 0 k n ≤ tileBytes m' 0 k' n' := by
  unfold tileBytes
  have := fixedBytes_mono hk hn
  have := Nat.mul_le_mul hm (rowBytes_mono hk hn)
  omega

/-- The reduction extent fits the array's rows. -/
public theorem planReds_le (K : Nat) : planReds K ≤ peRows := by
  unfold planReds peRows groupSize; split <;> omega

theorem bestCols_mem (reserve M K N : Nat) :
    ∀ fuel lo hi, lo ≤ bestCols reserve M K N fuel lo hi ∧ bestCols reserve M K N fuel lo hi ≤ max lo (hi - 1)
  | 0, lo, hi => by simp only [bestCols]; omega
  | fuel + 1, lo, hi => by
    simp only [bestCols]
    split
    · omega
    · have a := bestCols_mem reserve M K N fuel lo ((lo + hi) / 2)
      have b := bestCols_mem reserve M K N fuel ((lo + hi) / 2) hi
      unfold pickCols
      split <;> omega

/-- The column extent is at least one and fits the array's columns. -/
public theorem planCols_bounds (reserve M K N : Nat) :
    0 < planCols reserve M K N ∧ planCols reserve M K N ≤ peCols := by
  have := bestCols_mem reserve M K N 16 1 (min N peCols + 1)
  unfold planCols
  unfold peCols at *
  omega

/-- A one-row tile of the array's extents fits whenever the reserve is at most `maxReserve`. -/
public theorem tileBytes_one_row_le {reserve k n : Nat} (hr : reserve ≤ maxReserve) (hk : k ≤ peRows)
    (hn : n ≤ peCols) : tileBytes 1 0 k n ≤ tileBudgetBytes - reserve := by
  have := tileBytes_mono (Nat.le_refl 1) hk hn
  have h : tileBytes 1 0 peRows peCols ≤ tileBudgetBytes := by decide
  unfold maxReserve at hr
  omega

/-- The planned `tm × tk × tn` tile fits the budget less the reserve. -/
public theorem tileBytes_plan_le {reserve : Nat} (M K N : Nat) (hr : reserve ≤ maxReserve) :
    tileBytes (planRows reserve M K N) 0 (planReds K) (planCols reserve M K N) ≤ tileBudgetBytes - reserve := by
  have hk := planReds_le K
  have hn : planCols reserve M K N ≤ peCols := (planCols_bounds reserve M K N).2
  have hone := tileBytes_one_row_le hr hk hn
  unfold planRows rowsFor
  generalize planCols reserve M K N = n at *
  generalize hq : (tileBudgetBytes - reserve - fixedBytes 0 (planReds K) n) / rowBytes (planReds K) n = q
  by_cases h : min M q ≤ 1
  · exact Nat.le_trans (tileBytes_mono (by omega) (Nat.le_refl _) (Nat.le_refl _)) hone
  · have hmul : q * rowBytes (planReds K) n ≤ tileBudgetBytes - reserve - fixedBytes 0 (planReds K) n := by
      rw [← hq]; exact Nat.div_mul_le_self _ _
    have hfix : fixedBytes 0 (planReds K) n ≤ tileBudgetBytes - reserve := by
      unfold tileBytes at hone; omega
    have := Nat.mul_le_mul_right (rowBytes (planReds K) n) (show max 1 (min M q) ≤ q by omega)
    unfold tileBytes
    omega

public theorem mem_chunks {n step s len : Nat} (h : (s, len) ∈ chunks n step) :
    len ≤ step ∧ s + len ≤ n ∧ s < n ∧ ∃ b, s = b * step := by
  simp only [chunks, List.mem_map, List.mem_range, Prod.mk.injEq] at h
  obtain ⟨b, hb, rfl, rfl⟩ := h
  have : b * step < n := by
    rcases Nat.eq_zero_or_pos step with h0 | hpos
    · subst h0; simp at hb
    · have := (Nat.le_div_iff_mul_le hpos).mp hb
      rw [Nat.succ_mul] at this
      omega
  exact ⟨Nat.min_le_left _ _, by omega, this, b, rfl⟩

theorem planReds_start {K s len : Nat} (h : (s, len) ∈ chunks K (planReds K)) : s % groupSize = 0 := by
  obtain ⟨_, _, hlt, b, rfl⟩ := mem_chunks h
  unfold planReds at *
  by_cases hK : K ≤ peRows
  · rw [if_pos hK] at hlt ⊢
    rcases Nat.eq_zero_or_pos b with h0 | hpos
    · simp [h0]
    · have := Nat.le_mul_of_pos_left K hpos
      omega
  · rw [if_neg hK]
    unfold peRows groupSize
    omega

theorem mem_plan {reserve M K N : Nat} {t : Tile} (ht : t ∈ plan reserve M K N) :
    ∃ r c k, (r, t.rows) ∈ chunks M (planRows reserve M K N) ∧ r = t.row ∧
      (c, t.cols) ∈ chunks N (planCols reserve M K N) ∧ c = t.col ∧
      (k, t.reds) ∈ chunks K (planReds K) ∧ k = t.red := by
  simp only [plan, List.mem_flatMap, List.mem_map] at ht
  obtain ⟨⟨r, rs⟩, hr, ⟨c, cs⟩, hc, ⟨k, ks⟩, hk, rfl⟩ := ht
  exact ⟨r, c, k, hr, rfl, hc, rfl, hk, rfl⟩

/-- REQ-TILE: every tile's reduction chunk starts on a scale-group boundary. -/
public theorem plan_red_aligned (reserve M K N : Nat) : ∀ t ∈ plan reserve M K N, t.red % groupSize = 0 := by
  intro t ht
  obtain ⟨_, _, k, _, _, _, _, hk, rfl⟩ := mem_plan ht
  exact planReds_start hk

/-- REQ-TILE: every tile's scale groups are exactly `⌈reds / groupSize⌉`, counted from its start. -/
public theorem plan_scale_groups (reserve M K N : Nat) :
    ∀ t ∈ plan reserve M K N, groupsTouched t.red t.reds = (t.reds + groupSize - 1) / groupSize :=
  fun t ht => groupsTouched_aligned (plan_red_aligned reserve M K N t ht)

/-- REQ-TILE: every tile the planner produces, for any matmul shape, fits the 220 KiB budget with the
reserve left free, double buffering, scales, table, accumulators and outputs included. -/
public theorem plan_tileBytes_le {reserve : Nat} (M K N : Nat) (hr : reserve ≤ maxReserve) :
    ∀ t ∈ plan reserve M K N, t.bytes ≤ tileBudgetBytes - reserve := by
  intro t ht
  obtain ⟨_, _, _, hr', _, hc, _, hk, _⟩ := mem_plan ht
  have hal := plan_red_aligned reserve M K N t ht
  have e : t.bytes = tileBytes t.rows 0 t.reds t.cols := by
    unfold Tile.bytes tileBytes fixedBytes weightStreamBytes scaleBlockBytes
    rw [groupsTouched_aligned hal, groupsTouched_aligned (Nat.zero_mod _)]
  rw [e]
  exact Nat.le_trans (tileBytes_mono (mem_chunks hr').1 (mem_chunks hk).1 (mem_chunks hc).1)
    (tileBytes_plan_le M K N hr)

/-- REQ-TILE: every tile's reduction and column extents fit the 320×320 array. -/
public theorem plan_fits_array (reserve M K N : Nat) :
    ∀ t ∈ plan reserve M K N, t.reds ≤ peRows ∧ t.cols ≤ peCols := by
  intro t ht
  obtain ⟨_, _, _, _, _, hc, _, hk, _⟩ := mem_plan ht
  exact ⟨Nat.le_trans (mem_chunks hk).1 (planReds_le K),
    Nat.le_trans (mem_chunks hc).1 (planCols_bounds reserve M K N).2⟩

/-- REQ-TILE: every tile lies inside the matmul's iteration space. -/
public theorem plan_within (reserve M K N : Nat) :
    ∀ t ∈ plan reserve M K N, t.row + t.rows ≤ M ∧ t.red + t.reds ≤ K ∧ t.col + t.cols ≤ N := by
  intro t ht
  obtain ⟨_, _, _, hr, rfl, hc, rfl, hk, rfl⟩ := mem_plan ht
  exact ⟨(mem_chunks hr).2.1, (mem_chunks hk).2.1, (mem_chunks hc).2.1⟩

/-! ## Exact cover -/

theorem countP_range_eq (c : Nat) : ∀ m : Nat, (List.range m).countP (fun b => decide (b = c)) = if c < m then 1 else 0
  | 0 => by simp
  | m + 1 => by
    rw [List.range_succ, List.countP_append, countP_range_eq c m, List.countP_singleton]
    by_cases h : c < m
    · have h1 : ¬ m = c := by omega
      have h2 : c < m + 1 := by omega
      simp [h, h1, h2]
    · by_cases h' : c = m
      · subst h'
        simp
      · have h1 : ¬ c < m + 1 := by omega
        have h2 : ¬ m = c := by omega
        simp [h, h1, h2]

/-- A point of `[0, n)` lies in exactly one chunk. -/
public theorem countP_chunks {n step i : Nat} (hstep : 0 < step) (hi : i < n) :
    (chunks n step).countP (fun p => decide (p.1 ≤ i ∧ i < p.1 + p.2)) = 1 := by
  unfold chunks
  rw [List.countP_map]
  have key : ∀ b ∈ List.range ((n + step - 1) / step),
      (b * step ≤ i ∧ i < b * step + min step (n - b * step)) ↔ b = i / step := by
    intro b _
    have h1 := Nat.div_add_mod i step
    have h2 := Nat.mod_lt i hstep
    constructor
    · rintro ⟨hlo, hhi⟩
      apply Nat.le_antisymm
      · exact (Nat.le_div_iff_mul_le hstep).mpr hlo
      · have : i < (b + 1) * step := by rw [Nat.succ_mul]; omega
        exact Nat.lt_succ_iff.mp ((Nat.div_lt_iff_lt_mul hstep).mpr this)
    · rintro rfl
      have := Nat.div_mul_le_self i step
      constructor
      · exact this
      · rw [Nat.mul_comm] at h1; omega
  rw [List.countP_congr (q := fun b => decide (b = i / step))
    (fun b hb => by simp only [Function.comp, decide_eq_true_eq]; exact key b hb), countP_range_eq]
  have : i / step < (n + step - 1) / step := by
    apply (Nat.div_lt_iff_lt_mul hstep).mpr
    have := Nat.div_mul_le_self (n + step - 1) step
    have := Nat.lt_div_mul_add (a := n + step - 1) hstep
    omega
  simp [this]

theorem sum_countP_flatMap {α β : Type} (P : α → Bool) (q : β → Bool) (f : α → List β) (c : Nat)
    (hf : ∀ a, (f a).countP q = if P a then c else 0) :
    ∀ l : List α, (l.flatMap f).countP q = l.countP P * c
  | [] => by simp
  | a :: l => by
    rw [List.flatMap_cons, List.countP_append, hf a, sum_countP_flatMap P q f c hf l, List.countP_cons]
    split <;> simp [Nat.succ_mul, Nat.add_comm]

/-- REQ-TILE: for any shape, each point `(i, j, l)` with `i < M`, `j < K`, `l < N` lies in exactly
one of the planner's tiles. -/
public theorem plan_exact_cover {reserve M K N i j l : Nat} (hi : i < M) (hj : j < K) (hl : l < N) :
    (plan reserve M K N).countP (fun t => t.contains i j l) = 1 := by
  have pr : 0 < planRows reserve M K N := by unfold planRows rowsFor; omega
  have pk : 0 < planReds K := by unfold planReds peRows groupSize; split <;> omega
  have pc : 0 < planCols reserve M K N := (planCols_bounds reserve M K N).1
  let inC : Nat × Nat → Bool := fun c => decide (c.1 ≤ l ∧ l < c.1 + c.2)
  let inK : Nat × Nat → Bool := fun k => decide (k.1 ≤ j ∧ j < k.1 + k.2)
  let inR : Nat × Nat → Bool := fun r => decide (r.1 ≤ i ∧ i < r.1 + r.2)
  have reds : ∀ r c : Nat × Nat, ((chunks K (planReds K)).map fun k => (⟨r.1, k.1, c.1, r.2, k.2, c.2⟩ : Tile)).countP
      (fun t => t.contains i j l) = if inR r && inC c then 1 else 0 := by
    intro r c
    rw [List.countP_map]
    by_cases h : inR r && inC c
    · rw [if_pos h, ← countP_chunks pk hj]
      apply List.countP_congr
      intro k _
      simp only [inR, inC, Bool.and_eq_true, decide_eq_true_eq] at h
      simp only [Function.comp, Tile.contains, decide_eq_true_eq]
      constructor
      · intro hk; exact ⟨hk.2.2.1, hk.2.2.2.1⟩
      · intro hk; exact ⟨h.1.1, h.1.2, hk.1, hk.2, h.2.1, h.2.2⟩
    · rw [if_neg h, List.countP_eq_zero]
      intro k _
      simp only [inR, inC, Bool.and_eq_true, decide_eq_true_eq] at h
      simp only [Function.comp, Tile.contains, decide_eq_true_eq]
      intro hk
      exact h ⟨⟨hk.1, hk.2.1⟩, hk.2.2.2.2.1, hk.2.2.2.2.2⟩
  have cols : ∀ r : Nat × Nat, ((chunks N (planCols reserve M K N)).flatMap fun c =>
      (chunks K (planReds K)).map fun k => (⟨r.1, k.1, c.1, r.2, k.2, c.2⟩ : Tile)).countP
      (fun t => t.contains i j l) = if inR r then 1 else 0 := by
    intro r
    by_cases h : inR r
    · rw [if_pos h, sum_countP_flatMap inC _ _ 1 (fun c => by rw [reds r c]; simp [h]), countP_chunks pc hl]
    · rw [if_neg h, sum_countP_flatMap inC _ _ 0 (fun c => by rw [reds r c]; simp [h])]
      simp
  unfold plan
  rw [sum_countP_flatMap inR _ _ 1 cols, countP_chunks pr hi]

/-! ## Tiled = untiled -/

/-- `Σ_{j < n} f j` over ℤ. -/
@[expose] public def rsum : Nat → (Nat → Int) → Int
  | 0, _ => 0
  | n + 1, f => rsum n f + f n

/-- A tile's partial products for output `(i, l)`: `Σ` over its own reduction chunk. -/
@[expose] public def Tile.partialSum (t : Tile) (x w : Nat → Nat → Int) (i l : Nat) : Int :=
  rsum t.reds fun d => x i (t.red + d) * w (t.red + d) l

/-- Whether output `(i, l)` lies in tile `t`'s output block. -/
@[expose] public def Tile.covers (t : Tile) (i l : Nat) : Bool :=
  decide (t.row ≤ i ∧ i < t.row + t.rows ∧ t.col ≤ l ∧ l < t.col + t.cols)

/-- One step of the dataflow: the tile adds its partial products into its output block's running
sums. -/
@[expose] public def accumulate (x w : Nat → Nat → Int) (acc : Nat → Nat → Int) (t : Tile) : Nat → Nat → Int :=
  fun i l => if t.covers i l then acc i l + t.partialSum x w i l else acc i l

/-- The tiled matmul: every tile's partial products accumulated in the plan's order from zero. -/
@[expose] public def tiledMatmul (tiles : List Tile) (x w : Nat → Nat → Int) : Nat → Nat → Int :=
  tiles.foldl (accumulate x w) fun _ _ => 0

theorem rsum_congr {n : Nat} {f g : Nat → Int} (h : ∀ j, j < n → f j = g j) : rsum n f = rsum n g := by
  induction n with
  | zero => rfl
  | succ n ih => simp only [rsum]; rw [ih (fun j hj => h j (by omega)), h n (by omega)]

theorem rsum_add (n : Nat) (f g : Nat → Int) : rsum n (fun j => f j + g j) = rsum n f + rsum n g := by
  induction n with
  | zero => simp [rsum]
  | succ n ih => simp only [rsum]; rw [ih]; omega

theorem rsum_zero (n : Nat) : rsum n (fun _ => 0) = 0 := by
  induction n with
  | zero => rfl
  | succ n ih => simp [rsum, ih]

/-- Summing an interval's indicator over `[0, n)` sums the interval's part below `n`. -/
theorem rsum_interval (a len : Nat) (f : Nat → Int) : ∀ n,
    rsum n (fun j => if a ≤ j ∧ j < a + len then f j else 0) = rsum (min len (n - a)) (fun d => f (a + d))
  | 0 => by simp [rsum]
  | n + 1 => by
    simp only [rsum]
    rw [rsum_interval a len f n]
    by_cases h1 : n < a
    · rw [if_neg (by omega), show min len (n + 1 - a) = min len (n - a) by omega]; omega
    · by_cases h2 : n < a + len
      · rw [if_pos (by omega), show min len (n + 1 - a) = min len (n - a) + 1 by omega, rsum,
          show min len (n - a) = n - a by omega, show a + (n - a) = n by omega]
      · rw [if_neg (by omega), show min len (n + 1 - a) = min len (n - a) by omega]; omega

theorem foldl_accumulate (x w : Nat → Nat → Int) (i l : Nat) : ∀ (ts : List Tile) (acc : Nat → Nat → Int),
    ts.foldl (accumulate x w) acc i l = acc i l + (ts.map fun t => if t.covers i l then t.partialSum x w i l else 0).sum
  | [], acc => by simp
  | t :: ts, acc => by
    rw [List.foldl_cons, foldl_accumulate x w i l ts, List.map_cons, List.sum_cons]
    unfold accumulate
    split <;> omega

theorem sum_rsum (n : Nat) (g : Tile → Nat → Int) : ∀ ts : List Tile,
    (ts.map fun t => rsum n (g t)).sum = rsum n (fun j => (ts.map fun t => g t j).sum)
  | [] => by simp [rsum_zero]
  | t :: ts => by
    simp only [List.map_cons, List.sum_cons]
    rw [sum_rsum n g ts, ← rsum_add]

theorem sum_ite_countP (p : Tile → Bool) (v : Int) : ∀ ts : List Tile,
    (ts.map fun t => if p t then v else 0).sum = (ts.countP p : Int) * v
  | [] => by simp
  | t :: ts => by
    simp only [List.map_cons, List.sum_cons, List.countP_cons]
    rw [sum_ite_countP p v ts]
    split <;> simp [Int.add_mul, Int.add_comm]

/-- A tile inside `[0, K)` adds, for an output it covers, exactly the products its chunk contains. -/
theorem tile_term (x w : Nat → Nat → Int) {K i l : Nat} (t : Tile) (hK : t.red + t.reds ≤ K) :
    (if t.covers i l then t.partialSum x w i l else 0) =
      rsum K fun j => if t.contains i j l then x i j * w j l else 0 := by
  have e : t.partialSum x w i l = rsum K fun j => if t.red ≤ j ∧ j < t.red + t.reds then x i j * w j l else 0 := by
    rw [rsum_interval, show min t.reds (K - t.red) = t.reds by omega]; rfl
  by_cases hc : t.covers i l = true
  · rw [if_pos hc, e]
    apply rsum_congr
    intro j _
    simp only [Tile.covers, decide_eq_true_eq] at hc
    simp only [Tile.contains, decide_eq_true_eq]
    by_cases hj : t.red ≤ j ∧ j < t.red + t.reds
    · rw [if_pos hj, if_pos ⟨hc.1, hc.2.1, hj.1, hj.2, hc.2.2⟩]
    · rw [if_neg hj, if_neg (fun h => hj ⟨h.2.2.1, h.2.2.2.1⟩)]
  · rw [if_neg hc]
    refine Eq.symm ((rsum_congr (g := fun _ => (0 : Int)) fun j _ => ?_).trans (rsum_zero K))
    simp only [Tile.covers, decide_eq_true_eq] at hc
    simp only [Tile.contains, decide_eq_true_eq]
    rw [if_neg (fun h => hc ⟨h.1, h.2.1, h.2.2.2.2⟩)]

/-- REQ-TILE: the tiled computation equals the untiled one. Accumulating every tile's partial
products over the plan, in the plan's order, gives `Σ_{j < K} x i j · w j l` for every output. -/
public theorem tiled_eq_untiled (reserve M K N : Nat) (x w : Nat → Nat → Int) {i l : Nat} (hi : i < M) (hl : l < N) :
    tiledMatmul (plan reserve M K N) x w i l = rsum K fun j => x i j * w j l := by
  unfold tiledMatmul
  rw [foldl_accumulate, Int.zero_add,
    List.map_congr_left (fun t ht => tile_term x w t (plan_within reserve M K N t ht).2.1), sum_rsum]
  apply rsum_congr
  intro j hj
  rw [sum_ite_countP (fun t => t.contains i j l), plan_exact_cover hi hj hl]
  simp

end Quantproof
