module

/-!
# Prover benchmark: the project's own lemmas

Development set: open copies of lemmas of the proofs in `Quantproof` (sums, lane splits, clamping, accumulator bounds), with the definitions they need.
-/

namespace Bench

/-- `Σ_{j < n} f j` over ℤ (as in `Quantproof.Tile`). -/
def rsum : Nat → (Nat → Int) → Int
  | 0, _ => 0
  | n + 1, f => rsum n f + f n

/-- The elements at even positions (as in `Quantproof.Kernel`). -/
def evens {α : Type} : List α → List α
  | a :: _ :: rest => a :: evens rest
  | [a] => [a]
  | [] => []

/-- The elements at odd positions. -/
def odds {α : Type} : List α → List α
  | _ :: b :: rest => b :: odds rest
  | _ => []

/-- Saturation to `[lo, hi]`. -/
def clamp (lo hi x : Int) : Int := max lo (min hi x)

theorem rsum_zero' (n : Nat) : rsum n (fun _ => 0) = 0 := by
  sorry

theorem rsum_add' (n : Nat) (f g : Nat → Int) : rsum n (fun j => f j + g j) = rsum n f + rsum n g := by
  sorry

theorem rsum_const (n : Nat) (c : Int) : rsum n (fun _ => c) = n * c := by
  sorry

theorem length_evens_le' (l : List Int) : (evens l).length ≤ l.length := by
  sorry

theorem length_odds_le' (l : List Int) : (odds l).length ≤ l.length := by
  sorry

theorem clamp_le_hi (lo hi x : Int) (h : lo ≤ hi) : clamp lo hi x ≤ hi := by
  sorry

theorem clamp_of_mem (lo hi x : Int) (h1 : lo ≤ x) (h2 : x ≤ hi) : clamp lo hi x = x := by
  sorry

theorem clamp_int8 (x : Int) : -128 ≤ clamp (-128) 127 x ∧ clamp (-128) 127 x ≤ 127 := by
  sorry

theorem mac_natAbs_le (a w : Int) (ha : a.natAbs ≤ 128) (hw : w.natAbs ≤ 8) : (a * w).natAbs ≤ 1024 := by
  sorry

theorem acc_lt_int32 (k : Nat) (s : Int) (hk : k ≤ 2 ^ 20) (hs : s.natAbs ≤ k * 1024) : s.natAbs < 2 ^ 31 := by
  sorry

theorem ulp_pow_succ (e : Nat) : 2 ^ (e + 1) = 2 * 2 ^ e := by
  sorry

end Bench
