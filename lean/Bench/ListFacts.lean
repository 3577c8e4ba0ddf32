module

/-!
# Prover benchmark: List facts

Development set: restated core-library facts about `List`, under new names.
-/

namespace Bench

theorem list_length_cons' (x : Nat) (xs : List Nat) : (x :: xs).length = xs.length + 1 := by
  sorry

theorem list_reverse_append' (xs ys : List Nat) : (xs ++ ys).reverse = ys.reverse ++ xs.reverse := by
  sorry

theorem list_length_reverse' (xs : List Nat) : xs.reverse.length = xs.length := by
  sorry

theorem list_map_append' (f : Nat → Nat) (xs ys : List Nat) : (xs ++ ys).map f = xs.map f ++ ys.map f := by
  sorry

theorem list_mem_append_left' (x : Nat) (xs ys : List Nat) (h : x ∈ xs) : x ∈ xs ++ ys := by
  sorry

theorem list_length_take_le' (n : Nat) (xs : List Nat) : (xs.take n).length ≤ n := by
  sorry

theorem list_sum_append' (xs ys : List Nat) : (xs ++ ys).sum = xs.sum + ys.sum := by
  sorry

theorem list_length_replicate' (n x : Nat) : (List.replicate n x).length = n := by
  sorry

theorem list_filter_append' (p : Nat → Bool) (xs ys : List Nat) : (xs ++ ys).filter p = xs.filter p ++ ys.filter p := by
  sorry

theorem list_length_zip' (xs ys : List Nat) : (xs.zip ys).length = min xs.length ys.length := by
  sorry

theorem list_head?_cons' (x : Nat) (xs : List Nat) : (x :: xs).head? = some x := by
  sorry

theorem list_nil_append' (xs : List Nat) : [] ++ xs = xs := by
  sorry

theorem list_length_range' (n : Nat) : (List.range n).length = n := by
  sorry

theorem list_all_nil' : ([] : List Nat).all (fun _ => false) = true := by
  sorry

theorem list_map_reverse' (f : Nat → Nat) (xs : List Nat) : (xs.map f).reverse = xs.reverse.map f := by
  sorry

theorem list_length_drop' (n : Nat) (xs : List Nat) : (xs.drop n).length = xs.length - n := by
  sorry

theorem list_count_le_length (x : Nat) (xs : List Nat) : xs.count x ≤ xs.length := by
  sorry

end Bench
