module

public import Quantproof.Pack

/-!
# REQ-PACK: the weight layout of the kernel

A row of `K` weight levels is stored as the kernel stores it: pairs (even position: 4-bit lane, odd
position: 3-bit lane) become 7-bit codes, an odd tail pairs with 0, the codes are padded with zero codes
to whole groups of eight (16 weights) and each group takes 7 bytes. Unpacking reads the codes back and
looks each one up in the 128-entry table. Proved: for levels in their lanes, unpacking the packed row
gives the row back, for every row of an `N × K` matrix.
-/

namespace Quantproof

/-- The 7-bit codes of a row of levels; an odd tail pairs with 0. -/
@[expose] public def rowCodes : List Int → List Nat
  | a :: b :: rest => packPair a b :: rowCodes rest
  | [a] => [packPair a 0]
  | [] => []

/-- A row of levels packed as the kernel stores it. -/
@[expose] public noncomputable def packRow (q : List Int) : List Nat := packStream (rowCodes q)

/-- Both weights of each code, looked up in the 128-entry table. -/
@[expose] public noncomputable def tableWeights : List Nat → List Int
  | c :: cs => (pairTable[c]!).1 :: (pairTable[c]!).2 :: tableWeights cs
  | [] => []

/-- The first `k` weights of a packed row, unpacked by the table. -/
@[expose] public noncomputable def unpackRow (k : Nat) (bytes : List Nat) : List Int :=
  (tableWeights (unpackStream bytes)).take k

/-- Levels in the kernel's lanes: even positions in `[-8, 7]`, odd positions in `[-4, 3]`. -/
@[expose] public def ValidRow : List Int → Prop
  | a :: b :: rest => ValidPair a b ∧ ValidRow rest
  | [a] => ValidPair a 0
  | [] => True

theorem rowCodes_lt_128 : ∀ (q : List Int), ∀ c ∈ rowCodes q, c < 128
  | a :: b :: rest, c, h => by
    simp only [rowCodes, List.mem_cons] at h
    rcases h with rfl | h
    · exact packPair_lt_128 a b
    · exact rowCodes_lt_128 rest c h
  | [a], c, h => by
    simp only [rowCodes, List.mem_singleton] at h
    subst h; exact packPair_lt_128 a 0
  | [], c, h => by simp [rowCodes] at h

theorem tableWeights_append : ∀ (xs ys : List Nat), tableWeights (xs ++ ys) = tableWeights xs ++ tableWeights ys
  | [], ys => rfl
  | x :: xs, ys => by simp only [List.cons_append, tableWeights, tableWeights_append xs ys]

theorem tableWeights_rowCodes : ∀ (q : List Int), ValidRow q →
    ∃ tail : List Int, tableWeights (rowCodes q) = q ++ tail
  | a :: b :: rest, h => by
    obtain ⟨hab, hrest⟩ := h
    obtain ⟨tail, ht⟩ := tableWeights_rowCodes rest hrest
    refine ⟨tail, ?_⟩
    have hc := packPair_lt_128 a b
    simp only [rowCodes, tableWeights, pairTable_eq hc, unpackPair_packPair hab, ht, List.cons_append]
  | [a], h => by
    have hc := packPair_lt_128 a 0
    refine ⟨[0], ?_⟩
    simp only [rowCodes, tableWeights, pairTable_eq hc, unpackPair_packPair h, List.cons_append, List.nil_append]
  | [], _ => ⟨[], by simp [rowCodes, tableWeights]⟩

/-- REQ-PACK: a row of levels in its lanes comes back from the kernel's packed bytes unchanged. -/
public theorem unpackRow_packRow {q : List Int} (h : ValidRow q) : unpackRow q.length (packRow q) = q := by
  unfold unpackRow packRow
  rw [unpackStream_packStream _ (rowCodes_lt_128 q), padCodes, tableWeights_append]
  obtain ⟨tail, ht⟩ := tableWeights_rowCodes q h
  rw [ht, List.append_assoc, List.take_left' rfl]

/-- REQ-PACK: every row of an `N × K` matrix of levels in their lanes comes back from the packed bytes. -/
public theorem unpack_pack_matrix {K : Nat} (rows : List (List Int)) (hlen : ∀ r ∈ rows, r.length = K)
    (hvalid : ∀ r ∈ rows, ValidRow r) : rows.map (fun r => unpackRow K (packRow r)) = rows := by
  conv => rhs; rw [← List.map_id rows]
  apply List.map_congr_left
  intro r hr
  rw [← hlen r hr]
  exact unpackRow_packRow (hvalid r hr)

/-- REQ-PACK: a packed row takes 7 bytes per started group of 16 weights: 3.5 bits per weight. -/
public theorem length_packRow (q : List Int) : (packRow q).length = 7 * ((q.length + 15) / 16) := by
  unfold packRow
  rw [length_packStream]
  congr 1
  suffices h : ∀ q : List Int, (rowCodes q).length = (q.length + 1) / 2 by rw [h]; omega
  intro q
  induction q using rowCodes.induct with
  | case1 a b rest ih => simp only [rowCodes, List.length_cons, ih]; omega
  | case2 a => simp [rowCodes]
  | case3 => simp [rowCodes]

end Quantproof
