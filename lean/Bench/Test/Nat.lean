module

/-!
# Prover benchmark: test split, Nat

Test split: measured once, at the end, with the policy frozen. Restated `Nat` facts.
-/

namespace Bench

theorem t_add_mul_mod (a b n : Nat) : (a + b * n) % n = a % n := by
  sorry

theorem t_sub_sub (a b c : Nat) : a - b - c = a - (b + c) := by
  sorry

theorem t_lt_of_lt_of_le (a b c : Nat) (h1 : a < b) (h2 : b ≤ c) : a < c := by
  sorry

theorem t_pow_le_pow_left (a b n : Nat) (h : a ≤ b) : a ^ n ≤ b ^ n := by
  sorry

theorem t_div_add_mod (n k : Nat) : k * (n / k) + n % k = n := by
  sorry

theorem t_max_comm (a b : Nat) : max a b = max b a := by
  sorry

theorem t_exists_half (n : Nat) : ∃ m, n = 2 * m ∨ n = 2 * m + 1 := by
  sorry

end Bench
