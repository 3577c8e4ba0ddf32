module

/-!
# Prover benchmark: existential witnesses

Development set for `quantproof bench`: goals that need a witness built from the context.
-/

namespace Bench

theorem exists_succ (n : Nat) : ∃ m, m > n := by
  sorry

theorem exists_double (n : Nat) : ∃ m, m = 2 * n ∧ m % 2 = 0 := by
  sorry

theorem exists_between (a b : Nat) (h : a + 1 < b) : ∃ c, a < c ∧ c < b := by
  sorry

theorem exists_sum (a b : Nat) : ∃ c, a + b = c := by
  sorry

theorem exists_list_length (n : Nat) : ∃ xs : List Nat, xs.length = n := by
  sorry

theorem exists_neg (x : Int) : ∃ y : Int, x + y = 0 := by
  sorry

theorem exists_div_mod (n : Nat) : ∃ q r, r < 8 ∧ n = 8 * q + r := by
  sorry

theorem exists_max (a b : Nat) : ∃ m, a ≤ m ∧ b ≤ m := by
  sorry

theorem forall_exists_gt (n : Nat) : ∀ k, k ≤ n → ∃ m, k < m ∧ m ≤ n + 1 := by
  sorry

end Bench
