module

/-!
# Prover benchmark: test split, Int

Test split: measured once, at the end, with the policy frozen. Restated `Int` facts.
-/

namespace Bench

theorem t_neg_add (a b : Int) : -(a + b) = -a + -b := by
  sorry

theorem t_natAbs_le_of_bounds (x : Int) (h1 : -8 ≤ x) (h2 : x ≤ 7) : x.natAbs ≤ 8 := by
  sorry

theorem t_emod_emod (a : Int) : a % 16 % 16 = a % 16 := by
  sorry

theorem t_sub_nonneg (a b : Int) (h : b ≤ a) : 0 ≤ a - b := by
  sorry

theorem t_min_le_left (a b : Int) : min a b ≤ a := by
  sorry

theorem t_exists_between (a : Int) : ∃ b, a < b ∧ b < a + 2 := by
  sorry

end Bench
