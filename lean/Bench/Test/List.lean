module

/-!
# Prover benchmark: test split, List

Test split: measured once, at the end, with the policy frozen. Restated `List` facts.
-/

namespace Bench

theorem t_length_map_append (f : Nat → Nat) (xs ys : List Nat) : ((xs ++ ys).map f).length = xs.length + ys.length := by
  sorry

theorem t_length_reverse_append (xs ys : List Nat) : (xs ++ ys).reverse.length = ys.length + xs.length := by
  sorry

theorem t_mem_cons_self (x : Nat) (xs : List Nat) : x ∈ x :: xs := by
  sorry

theorem t_sum_replicate (n a : Nat) : (List.replicate n a).sum = n * a := by
  sorry

theorem t_take_length (xs : List Nat) : xs.take xs.length = xs := by
  sorry

theorem t_map_id (xs : List Nat) : xs.map id = xs := by
  sorry

theorem t_filter_filter_length (p : Nat → Bool) (xs : List Nat) : ((xs.filter p).filter p).length ≤ xs.length := by
  sorry

end Bench
