module

/-!
# Prover benchmark: test split, the project's own lemmas

Test split: measured once, at the end, with the policy frozen. Open copies of lemmas of `Quantproof`.
-/

namespace Bench

/-- `Σ_{j < n} f j` over ℤ (as in `Quantproof.Tile`). -/
def rsum : Nat → (Nat → Int) → Int
  | 0, _ => 0
  | n + 1, f => rsum n f + f n

/-- Saturation to `[lo, hi]`. -/
def clamp (lo hi x : Int) : Int := max lo (min hi x)

/-- The 7-bit code of a pair (4-bit then 3-bit, two's complement). -/
def code (a b : Int) : Nat := (a % 16).toNat * 8 + (b % 8).toNat

theorem t_rsum_succ (n : Nat) (f : Nat → Int) : rsum (n + 1) f = rsum n f + f n := by
  sorry

theorem t_rsum_le (n : Nat) (f g : Nat → Int) (h : ∀ j, f j ≤ g j) : rsum n f ≤ rsum n g := by
  sorry

theorem t_clamp_ge_lo (lo hi x : Int) (h : lo ≤ hi) : lo ≤ clamp lo hi x := by
  sorry

theorem t_code_lo (a b : Int) : code a b % 8 = (b % 8).toNat := by
  sorry

theorem t_pack_nibbles (hi lo : Nat) (h : lo < 16) : (hi * 16 + lo) % 16 = lo := by
  sorry

end Bench
