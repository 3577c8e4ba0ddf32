module

public import Quantproof.Constants

/-!
# REQ-TILE: the tile planner fits the on-chip budget and covers the matmul exactly once

The matmul `Y[M×N] = X[M×K] · W[K×N]` is cut into tiles of at most `tm × tk × tn`.

Accounting for one tile of `m × k × n` (bytes):
* weights at 3.5 bits, packed per output column along K, 16 weights to 7 bytes, a partial group
  padded: `n · ⌈k / 16⌉ · 7`;
* scales: for each output column and each started group of `groupSize` weights along K, one fp16
  scale per lane of the pair (4-bit and 3-bit): `n · ⌈k / groupSize⌉ · 2 · scaleBytes`;
* int8 activations: `m · k`; int32 accumulators: `4 · m · n`.

The planner takes `tk = min K peRows`, `tn = min N peCols` (the 320×320 array), and the most rows
`tm` that keep a full tile within `tileBudgetBytes` (220 KiB). Proved: every tile of every shape
is within the budget, and each point `(i, j, l)` of the iteration space lies in exactly one tile.
-/

namespace Quantproof

/-- Bytes of a `k × n` weight block at 3.5 bits (16 weights in 7 bytes, per column). -/
@[expose] public def weightBytes (k n : Nat) : Nat := n * ((k + 15) / 16 * 7)

/-- Bytes of the scales of a `k × n` weight block: two fp16 scales per column and group. -/
@[expose] public def scaleBlockBytes (k n : Nat) : Nat := n * ((k + groupSize - 1) / groupSize) * 2 * scaleBytes

/-- Bytes that do not grow with the tile's rows. -/
@[expose] public def fixedBytes (k n : Nat) : Nat := weightBytes k n + scaleBlockBytes k n

/-- Bytes per tile row: int8 activations and int32 accumulators. -/
@[expose] public def rowBytes (k n : Nat) : Nat := k + 4 * n

/-- On-chip bytes of an `m × k × n` tile. -/
@[expose] public def tileBytes (m k n : Nat) : Nat := fixedBytes k n + m * rowBytes k n

/-- Reduction extent of a tile. -/
@[expose] public def planReds (K : Nat) : Nat := min K peRows

/-- Output-column extent of a tile. -/
@[expose] public def planCols (N : Nat) : Nat := min N peCols

/-- Rows of a tile: as many as the budget allows, at least one, at most `M`. -/
@[expose] public def planRows (M K N : Nat) : Nat :=
  max 1 (min M ((tileBudgetBytes - fixedBytes (planReds K) (planCols N)) / rowBytes (planReds K) (planCols N)))

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

/-- Cut `[0, n)` into `(start, length)` pieces of `step` (the last one shorter). -/
@[expose] public noncomputable def chunks (n step : Nat) : List (Nat × Nat) :=
  (List.range ((n + step - 1) / step)).map fun b => (b * step, min step (n - b * step))

/-- The planner's tiles for an `M × K × N` matmul, row-major over (M, K, N) pieces. -/
@[expose] public noncomputable def plan (M K N : Nat) : List Tile :=
  (chunks M (planRows M K N)).flatMap fun r =>
    (chunks K (planReds K)).flatMap fun k =>
      (chunks N (planCols N)).map fun c => ⟨r.1, k.1, c.1, r.2, k.2, c.2⟩

/-- Whether point `(i, j, l)` (row, reduction index, column) lies in tile `t`. -/
@[expose] public def Tile.contains (t : Tile) (i j l : Nat) : Bool :=
  decide (t.row ≤ i ∧ i < t.row + t.rows ∧ t.red ≤ j ∧ j < t.red + t.reds ∧ t.col ≤ l ∧ l < t.col + t.cols)

/-! ## Budget -/

public theorem tileBytes_mono {m k n m' k' n' : Nat} (hm : m ≤ m') (hk : k ≤ k') (hn : n ≤ n') :
    tileBytes m k n ≤ tileBytes m' k' n' := by
  unfold tileBytes fixedBytes weightBytes scaleBlockBytes rowBytes
  have h1 : (k + 15) / 16 ≤ (k' + 15) / 16 := Nat.div_le_div_right (by omega)
  have h2 : (k + groupSize - 1) / groupSize ≤ (k' + groupSize - 1) / groupSize := Nat.div_le_div_right (by omega)
  have := Nat.mul_le_mul hn (Nat.mul_le_mul_right 7 h1)
  have := Nat.mul_le_mul_right scaleBytes (Nat.mul_le_mul_right 2 (Nat.mul_le_mul hn h2))
  have := Nat.mul_le_mul hm (show k + 4 * n ≤ k' + 4 * n' by omega)
  omega

/-- A one-row tile of the largest extents fits: the budget always allows at least one row. -/
public theorem tileBytes_one_row_le {k n : Nat} (hk : k ≤ peRows) (hn : n ≤ peCols) :
    tileBytes 1 k n ≤ tileBudgetBytes :=
  Nat.le_trans (tileBytes_mono (Nat.le_refl 1) hk hn) (by decide)

/-- The planned `tm × tk × tn` tile itself fits the budget. -/
public theorem tileBytes_plan_le (M K N : Nat) :
    tileBytes (planRows M K N) (planReds K) (planCols N) ≤ tileBudgetBytes := by
  have hk : planReds K ≤ peRows := Nat.min_le_right _ _
  have hn : planCols N ≤ peCols := Nat.min_le_right _ _
  have hone := tileBytes_one_row_le hk hn
  unfold planRows
  generalize hq : (tileBudgetBytes - fixedBytes (planReds K) (planCols N)) / rowBytes (planReds K) (planCols N) = q
  by_cases h : min M q ≤ 1
  · exact Nat.le_trans (tileBytes_mono (by omega) (Nat.le_refl _) (Nat.le_refl _)) hone
  · have hq1 : 1 ≤ q := by omega
    have hmul : q * rowBytes (planReds K) (planCols N) ≤ tileBudgetBytes - fixedBytes (planReds K) (planCols N) := by
      rw [← hq]; exact Nat.div_mul_le_self _ _
    have hfix : fixedBytes (planReds K) (planCols N) ≤ tileBudgetBytes := by
      unfold tileBytes at hone; omega
    have := Nat.mul_le_mul_right (rowBytes (planReds K) (planCols N)) (show max 1 (min M q) ≤ q by omega)
    unfold tileBytes
    omega

public theorem mem_chunks {n step s len : Nat} (h : (s, len) ∈ chunks n step) : len ≤ step ∧ s + len ≤ n := by
  simp only [chunks, List.mem_map, List.mem_range, Prod.mk.injEq] at h
  obtain ⟨b, hb, rfl, rfl⟩ := h
  refine ⟨Nat.min_le_left _ _, ?_⟩
  have : b * step < n := by
    rcases Nat.eq_zero_or_pos step with h0 | hpos
    · subst h0; simp at hb
    · have := (Nat.le_div_iff_mul_le hpos).mp hb
      rw [Nat.succ_mul] at this
      omega
  omega

/-- REQ-TILE: every tile the planner produces, for any matmul shape, fits the 220 KiB budget. -/
public theorem plan_tileBytes_le (M K N : Nat) :
    ∀ t ∈ plan M K N, tileBytes t.rows t.reds t.cols ≤ tileBudgetBytes := by
  intro t ht
  simp only [plan, List.mem_flatMap, List.mem_map] at ht
  obtain ⟨⟨r, rs⟩, hr, ⟨k, ks⟩, hk, ⟨c, cs⟩, hc, rfl⟩ := ht
  exact Nat.le_trans (tileBytes_mono (mem_chunks hr).1 (mem_chunks hk).1 (mem_chunks hc).1) (tileBytes_plan_le M K N)

/-- REQ-TILE: every tile lies inside the matmul's iteration space. -/
public theorem plan_within (M K N : Nat) :
    ∀ t ∈ plan M K N, t.row + t.rows ≤ M ∧ t.red + t.reds ≤ K ∧ t.col + t.cols ≤ N := by
  intro t ht
  simp only [plan, List.mem_flatMap, List.mem_map] at ht
  obtain ⟨⟨r, rs⟩, hr, ⟨k, ks⟩, hk, ⟨c, cs⟩, hc, rfl⟩ := ht
  exact ⟨(mem_chunks hr).2, (mem_chunks hk).2, (mem_chunks hc).2⟩

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
public theorem plan_exact_cover {M K N i j l : Nat} (hi : i < M) (hj : j < K) (hl : l < N) :
    (plan M K N).countP (fun t => t.contains i j l) = 1 := by
  have pr : 0 < planRows M K N := by unfold planRows; omega
  have pk : 0 < planReds K := by unfold planReds peRows; omega
  have pc : 0 < planCols N := by unfold planCols peCols; omega
  let inC : Nat × Nat → Bool := fun c => decide (c.1 ≤ l ∧ l < c.1 + c.2)
  let inK : Nat × Nat → Bool := fun k => decide (k.1 ≤ j ∧ j < k.1 + k.2)
  let inR : Nat × Nat → Bool := fun r => decide (r.1 ≤ i ∧ i < r.1 + r.2)
  have cols : ∀ r k : Nat × Nat, ((chunks N (planCols N)).map fun c => (⟨r.1, k.1, c.1, r.2, k.2, c.2⟩ : Tile)).countP
      (fun t => t.contains i j l) = if inR r && inK k then 1 else 0 := by
    intro r k
    rw [List.countP_map]
    by_cases h : inR r && inK k
    · rw [if_pos h, ← countP_chunks pc hl]
      apply List.countP_congr
      intro c _
      simp only [inR, inK, Bool.and_eq_true, decide_eq_true_eq] at h
      simp only [Function.comp, Tile.contains, decide_eq_true_eq]
      constructor
      · intro hc; exact ⟨hc.2.2.2.2.1, hc.2.2.2.2.2⟩
      · intro hc; exact ⟨h.1.1, h.1.2, h.2.1, h.2.2, hc.1, hc.2⟩
    · rw [if_neg h, List.countP_eq_zero]
      intro c _
      simp only [inR, inK, Bool.and_eq_true, decide_eq_true_eq] at h
      simp only [Function.comp, Tile.contains, decide_eq_true_eq]
      intro hc
      exact h ⟨⟨hc.1, hc.2.1⟩, hc.2.2.1, hc.2.2.2.1⟩
  have reds : ∀ r : Nat × Nat, ((chunks K (planReds K)).flatMap fun k =>
      (chunks N (planCols N)).map fun c => (⟨r.1, k.1, c.1, r.2, k.2, c.2⟩ : Tile)).countP
      (fun t => t.contains i j l) = if inR r then 1 else 0 := by
    intro r
    by_cases h : inR r
    · rw [if_pos h, sum_countP_flatMap inK _ _ 1 (fun k => by rw [cols r k]; simp [h]), countP_chunks pk hj]
    · rw [if_neg h, sum_countP_flatMap inK _ _ 0 (fun k => by rw [cols r k]; simp [h])]
      simp
  unfold plan
  rw [sum_countP_flatMap inR _ _ 1 reds, countP_chunks pr hi]

end Quantproof
