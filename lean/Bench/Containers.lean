module

/-!
# Prover benchmark: Array, Fin and Option facts

Development set: restated core-library facts about `Array`, `Fin` and `Option`, under new names.
-/

namespace Bench

theorem array_size_push' (a : Array Nat) (x : Nat) : (a.push x).size = a.size + 1 := by
  sorry

theorem array_size_map' (a : Array Nat) (f : Nat → Nat) : (a.map f).size = a.size := by
  sorry

theorem array_length_toList' (a : Array Nat) : a.toList.length = a.size := by
  sorry

theorem array_size_append' (a b : Array Nat) : (a ++ b).size = a.size + b.size := by
  sorry

theorem fin_val_lt' (n : Nat) (i : Fin n) : i.val < n := by
  sorry

theorem fin_val_last' (n : Nat) : (Fin.last n).val = n := by
  sorry

theorem fin_ext' (n : Nat) (i j : Fin n) (h : i.val = j.val) : i = j := by
  sorry

theorem fin_val_add' (n : Nat) (i j : Fin n) : (i + j).val = (i.val + j.val) % n := by
  sorry

theorem option_map_some'' (f : Nat → Nat) (x : Nat) : (some x).map f = some (f x) := by
  sorry

theorem option_getD_none' (d : Nat) : (none : Option Nat).getD d = d := by
  sorry

theorem option_isSome_some' (x : Nat) : (some x).isSome = true := by
  sorry

theorem option_bind_some' (x : Nat) (f : Nat → Option Nat) : (some x).bind f = f x := by
  sorry

end Bench
