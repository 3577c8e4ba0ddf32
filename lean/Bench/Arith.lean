module

/-!
# Prover benchmark: arithmetic

Development set for `quantproof bench` (not part of the default build; its open statements are
`sorry` by design). Natural-number and integer facts; some need case analysis or induction.
-/

namespace Bench

theorem add_sub_cancel_right' (a b : Nat) : a + b - b = a := by
  sorry

theorem two_mul_le_add_sq (a b : Nat) : 2 * a * b ≤ a * a + b * b := by
  sorry

theorem mod_two_cases (n : Nat) : n % 2 = 0 ∨ n % 2 = 1 := by
  sorry

theorem sum_first (n : Nat) : 2 * (List.range (n + 1)).sum = n * (n + 1) := by
  sorry

theorem pow_two_pos (n : Nat) : 0 < 2 ^ n := by
  sorry

theorem min_le_max (a b : Int) : min a b ≤ max a b := by
  sorry

theorem abs_mul_self (x : Int) : x.natAbs * x.natAbs = (x * x).natAbs := by
  sorry

theorem div_mul_le (a b : Nat) : a / b * b ≤ a := by
  sorry

theorem even_add_even (a b : Nat) (ha : a % 2 = 0) (hb : b % 2 = 0) : (a + b) % 2 = 0 := by
  sorry

theorem succ_pred_of_pos (n : Nat) (h : 0 < n) : n - 1 + 1 = n := by
  sorry

theorem lt_pow_self (n : Nat) : n < 2 ^ n := by
  sorry

theorem mul_le_mul_of_le (a b c : Nat) (h : a ≤ b) : a * c ≤ b * c := by
  sorry

end Bench
