module

/-!
# Prover benchmark: lists

Development set for `quantproof bench`: facts about lists, several by induction.
-/

namespace Bench

/-- Sum of a list of naturals, by recursion. -/
def lsum : List Nat → Nat
  | [] => 0
  | x :: xs => x + lsum xs

/-- Double every element. -/
def double : List Nat → List Nat
  | [] => []
  | x :: xs => (2 * x) :: double xs

theorem lsum_append (xs ys : List Nat) : lsum (xs ++ ys) = lsum xs + lsum ys := by
  sorry

theorem double_length (xs : List Nat) : (double xs).length = xs.length := by
  sorry

theorem lsum_double (xs : List Nat) : lsum (double xs) = 2 * lsum xs := by
  sorry

theorem length_reverse_append (xs ys : List Nat) : (xs.reverse ++ ys).length = xs.length + ys.length := by
  sorry

theorem map_id' (xs : List Nat) : xs.map (fun x => x) = xs := by
  sorry

theorem replicate_length (n a : Nat) : (List.replicate n a).length = n := by
  sorry

theorem lsum_replicate (n a : Nat) : lsum (List.replicate n a) = n * a := by
  sorry

theorem take_append_drop' (n : Nat) (xs : List Nat) : xs.take n ++ xs.drop n = xs := by
  sorry

theorem mem_double (xs : List Nat) (x : Nat) (h : x ∈ xs) : 2 * x ∈ double xs := by
  sorry

theorem lsum_le_of_le (xs : List Nat) (h : ∀ x ∈ xs, x ≤ 1) : lsum xs ≤ xs.length := by
  sorry

end Bench
