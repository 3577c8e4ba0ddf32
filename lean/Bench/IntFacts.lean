module

/-!
# Prover benchmark: Int facts

Development set: restated core-library facts about `Int`, under new names.
-/

namespace Bench

theorem int_add_neg' (a : Int) : a + -a = 0 := by
  sorry

theorem int_neg_neg' (a : Int) : -(-a) = a := by
  sorry

theorem int_sub_self' (a : Int) : a - a = 0 := by
  sorry

theorem int_mul_neg' (a b : Int) : a * -b = -(a * b) := by
  sorry

theorem int_natAbs_mul' (a b : Int) : (a * b).natAbs = a.natAbs * b.natAbs := by
  sorry

theorem int_emod_nonneg' (a b : Int) (h : b ≠ 0) : 0 ≤ a % b := by
  sorry

theorem int_toNat_of_nonneg' (a : Int) (h : 0 ≤ a) : (a.toNat : Int) = a := by
  sorry

theorem int_le_natAbs' (a : Int) : a ≤ a.natAbs := by
  sorry

theorem int_natAbs_sub_comm (a b : Int) : (a - b).natAbs = (b - a).natAbs := by
  sorry

theorem int_le_max_left' (a b : Int) : a ≤ max a b := by
  sorry

theorem int_emod_two_cases (a : Int) : a % 2 = 0 ∨ a % 2 = 1 := by
  sorry

theorem int_mul_self_nonneg' (a : Int) : 0 ≤ a * a := by
  sorry

theorem int_ediv_mul_le' (a b : Int) (h : 0 < b) : a / b * b ≤ a := by
  sorry

end Bench
