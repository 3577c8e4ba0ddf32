module

/-!
# Prover benchmark: library premises

Development set for `quantproof bench`: facts that follow from a lemma of the core library.
-/

namespace Bench

theorem length_append' (xs ys : List Nat) : (xs ++ ys).length = ys.length + xs.length := by
  sorry

theorem reverse_reverse' (xs : List Nat) : xs.reverse.reverse = xs := by
  sorry

theorem map_map' (xs : List Nat) (f g : Nat → Nat) : (xs.map f).map g = xs.map (fun x => g (f x)) := by
  sorry

theorem length_map' (xs : List Nat) (f : Nat → Nat) : (xs.map f).length = xs.length := by
  sorry

theorem append_assoc' (xs ys zs : List Nat) : xs ++ ys ++ zs = xs ++ (ys ++ zs) := by
  sorry

theorem filter_length_le (xs : List Nat) (p : Nat → Bool) : (xs.filter p).length ≤ xs.length := by
  sorry

theorem gcd_comm' (a b : Nat) : Nat.gcd a b = Nat.gcd b a := by
  sorry

theorem nat_sub_le (a b : Nat) : a - b ≤ a := by
  sorry

theorem int_natAbs_neg (x : Int) : (-x).natAbs = x.natAbs := by
  sorry

theorem foldl_add_init (xs : List Nat) (a : Nat) : xs.foldl (· + ·) a = a + xs.foldl (· + ·) 0 := by
  sorry

end Bench
