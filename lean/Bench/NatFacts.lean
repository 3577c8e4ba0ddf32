module

/-!
# Prover benchmark: Nat facts

Development set: restated core-library facts about `Nat`, under new names.
-/

namespace Bench

theorem nat_add_comm3 (a b c : Nat) : a + b + c = c + b + a := by
  sorry

theorem nat_mul_comm' (a b : Nat) : a * b = b * a := by
  sorry

theorem nat_mul_add_one (a b : Nat) : a * (b + 1) = a * b + a := by
  sorry

theorem nat_sub_add_cancel' (a b : Nat) (h : b ≤ a) : a - b + b = a := by
  sorry

theorem nat_le_of_lt_succ' (m n : Nat) (h : m < n + 1) : m ≤ n := by
  sorry

theorem nat_pow_succ' (b n : Nat) : b ^ (n + 1) = b ^ n * b := by
  sorry

theorem nat_mod_lt' (a b : Nat) (h : 0 < b) : a % b < b := by
  sorry

theorem nat_div_le_self' (a b : Nat) : a / b ≤ a := by
  sorry

theorem nat_min_comm' (a b : Nat) : min a b = min b a := by
  sorry

theorem nat_max_le_add (a b : Nat) : max a b ≤ a + b := by
  sorry

theorem nat_dvd_mul_right' (a b : Nat) : a ∣ a * b := by
  sorry

theorem nat_gcd_dvd_left' (a b : Nat) : Nat.gcd a b ∣ a := by
  sorry

theorem nat_succ_le_of_lt' (a b : Nat) (h : a < b) : a + 1 ≤ b := by
  sorry

theorem nat_mul_le_mul_both (a b c d : Nat) (h1 : a ≤ b) (h2 : c ≤ d) : a * c ≤ b * d := by
  sorry

theorem nat_add_mod_self (a n : Nat) : (a + n) % n = a % n := by
  sorry

theorem nat_two_pow_le (m n : Nat) (h : m ≤ n) : 2 ^ m ≤ 2 ^ n := by
  sorry

theorem nat_lt_irrefl' (n : Nat) : ¬ n < n := by
  sorry

theorem nat_succ_mod_two_ne (n : Nat) : (n + 1) % 2 ≠ n % 2 := by
  sorry

end Bench
